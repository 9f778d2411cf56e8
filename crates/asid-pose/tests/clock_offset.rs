//! Clock-offset estimation over real loopback UDP, with a sender clock 1000 s ahead of the arm's.

mod common;

use std::time::{Duration, Instant};

use asid_arm::PoseSource;
use asid_pose::PoseStreamConfig;
use common::{MS, Rng, datagram, pair, poll_received, send};

const SENDER_AHEAD_S: f64 = 1000.0;

/// Random latencies (0.5 ms + exponential with mean 5 ms, capped at 40 ms) are given
/// to the receiver through the arm time of the poll that takes each datagram in, so the result is
/// deterministic: the estimate is the true offset plus the smallest latency drawn.
#[test]
fn offset_is_recovered_despite_random_delays() {
    let (mut rx, tx) = pair(PoseStreamConfig::default());
    let mut rng = Rng::new(7);
    let mut min_delay_ns = u64::MAX;
    let mut errors_ns = Vec::new();
    let mut received = 0;
    for k in 1..=300_u64 {
        let now_ns = 5_000 * MS + k * 10 * MS;
        let samples = rx.poll(now_ns).unwrap_or_else(|e| panic!("{e}"));
        assert!(samples.is_empty());
        // Each datagram was "sent" `delay` before this poll: its pose was true then.
        let delay_ns = MS / 2 + (-5.0e6 * (1.0 - rng.uniform()).ln()).min(40.0e6) as u64;
        min_delay_ns = min_delay_ns.min(delay_ns);
        let true_ns = now_ns - delay_ns;
        let t_s = true_ns as f64 * 1e-9 + SENDER_AHEAD_S;
        send(&tx, &datagram(t_s, &["cube"]));
        received += 1;
        for s in poll_received(&mut rx, now_ns, received) {
            assert!(s.stamp_ns <= now_ns, "stamped after its arrival");
            errors_ns.push(s.stamp_ns as f64 - true_ns as f64);
        }
    }
    let offset_s = rx.stats().clock_offset_s.unwrap_or(f64::NAN);
    let expected_s = -SENDER_AHEAD_S + min_delay_ns as f64 * 1e-9;
    assert!(
        (offset_s - expected_s).abs() < 1e-6,
        "{offset_s} vs {expected_s}"
    );
    assert!((offset_s + SENDER_AHEAD_S).abs() < 1e-3, "{offset_s}");
    // Once the estimate has seen a fast datagram, stamps are late by about the minimum latency.
    let settled = &errors_ns[100..];
    assert!(
        settled.iter().all(|e| (0.0..1.0e6).contains(e)),
        "stamp errors (ns): {settled:?}"
    );
}

/// The arm clock here is the wall clock (as for the real arm): arrivals are stamped by the receive
/// thread and mapped through the polls. The bound is loose on purpose: loopback latency plus
/// scheduling on a busy machine, not a performance claim.
#[test]
fn offset_is_recovered_in_real_time() {
    let (mut rx, tx) = pair(PoseStreamConfig::default());
    let start = Instant::now();
    let arm_ns = move || start.elapsed().as_nanos() as u64 + 3_000 * MS;
    let sender = std::thread::spawn(move || {
        for _ in 0..60 {
            let t_s = arm_ns() as f64 * 1e-9 + SENDER_AHEAD_S;
            send(&tx, &datagram(t_s, &["cube"]));
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let mut delivered = 0;
    while !sender.is_finished() || rx.stats().received < 60 {
        delivered += rx.poll(arm_ns()).unwrap_or_else(|e| panic!("{e}")).len();
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{:?}",
            rx.stats()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(sender.join().is_ok());
    assert_eq!(delivered, 60);
    let offset_s = rx.stats().clock_offset_s.unwrap_or(f64::NAN);
    let error_s = offset_s + SENDER_AHEAD_S;
    assert!(
        (-0.005..0.05).contains(&error_s),
        "offset error {error_s} s"
    );
}
