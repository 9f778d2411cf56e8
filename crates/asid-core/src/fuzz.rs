//! A small mutation fuzzer for the parsers of outside input, on stable Rust and without a fuzzing
//! engine: seeded random mutations of valid seeds (bit flips, byte overwrites, insertions,
//! deletions, truncations, splices, interesting tokens such as `NaN` and `1e308`) and random
//! bytes. A target passes when it neither panics nor hangs; its errors are passes.
//!
//! `ASID_FUZZ_CASES` sets the executions per target (default 300, so `cargo test` stays quick),
//! `ASID_FUZZ_SEED` the random seed; `scripts/fuzz.sh` runs 1,000,000 per target.
//!
//! ```
//! asid_core::fuzz::run("utf8", &[b"seed".to_vec()], |b| {
//!     let _ = std::str::from_utf8(b);
//! });
//! ```

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Executions per target: `ASID_FUZZ_CASES`, else 300.
pub fn cases() -> u64 {
    std::env::var("ASID_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// One mutation of `seed`.
pub fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    if b.is_empty() || rng.random_bool(0.02) {
        let n = rng.random_range(0..256);
        return (0..n).map(|_| rng.random()).collect();
    }
    for _ in 0..rng.random_range(1..=4) {
        if b.is_empty() {
            break;
        }
        let i = rng.random_range(0..b.len());
        match rng.random_range(0..7) {
            0 => b[i] ^= 1 << rng.random_range(0..8),
            1 => b[i] = rng.random(),
            2 => b.insert(i, rng.random()),
            3 => {
                b.remove(i);
            }
            4 => b.truncate(i),
            5 => {
                const TOKENS: [&[u8]; 9] = [
                    b"1e308",
                    b"-1",
                    b"NaN",
                    b"\0",
                    b"\n",
                    b"]",
                    b"\"",
                    b"0",
                    b"\xff\xff\xff\xff",
                ];
                let v = TOKENS[rng.random_range(0..TOKENS.len())];
                b.splice(i..i, v.iter().copied());
            }
            _ => {
                let j = rng.random_range(0..b.len());
                let len = rng.random_range(0..=(b.len() - j).min(64));
                let piece = b[j..j + len].to_vec();
                b.splice(i..i, piece);
            }
        }
    }
    b
}

/// Runs `target` on [`cases`] mutations of `seeds` (in turn); prints and returns the count.
pub fn run(name: &str, seeds: &[Vec<u8>], mut target: impl FnMut(&[u8])) -> u64 {
    let n = cases();
    let seed = std::env::var("ASID_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(14);
    let mut rng = StdRng::seed_from_u64(seed);
    let t0 = std::time::Instant::now();
    for k in 0..n {
        let input = mutate(&mut rng, &seeds[(k as usize) % seeds.len().max(1)]);
        target(&input);
    }
    println!(
        "fuzz {name}: {n} executions in {:.1} s (seed {seed}), no panic",
        t0.elapsed().as_secs_f64()
    );
    n
}
