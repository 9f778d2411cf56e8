//! Helpers shared by the end-to-end tests of `asid execute`: running the binary, scratch
//! directories, small plans and JSON look-ups.

#![allow(dead_code)]

pub mod peer;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// The repository root (scenes and robots are found relative to it).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What one run of the binary printed.
pub struct Out {
    /// Exit code (-1 if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Out {
    /// Panics with the whole output unless the command succeeded.
    pub fn ok(self, what: &str) -> Self {
        assert_eq!(
            self.code, 0,
            "{what}: exit code {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// A command running the `asid` binary from the repository root.
pub fn asid_command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_asid"));
    c.args(args).current_dir(repo());
    c
}

/// Runs `asid` with `args` to completion (for the commands that cannot hang: no peer involved).
pub fn asid(args: &[&str]) -> Out {
    let out = asid_command(args).output().expect("run asid");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A scratch directory under the system's temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory whose name holds `tag`, the process id and the time.
    pub fn new(tag: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("asid-e2e-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the scratch directory");
        Self(dir)
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A path as `&str` (the scratch paths are ASCII).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The exploration planner's small budget of the tests (`asid explore` and `asid run`): one prior
/// sample, a CEM population of 8 for 2 iterations, one random draw.
pub const SMALL_PLAN: [&str; 8] = [
    "--prior-samples",
    "1",
    "--population",
    "8",
    "--iterations",
    "2",
    "--random-draws",
    "1",
];

/// Plans a small exploration (one prior sample, 8 candidates, 2 iterations) for `scene` into
/// `out`: a few seconds even in the debug profile.
pub fn small_plan(scene: &str, out: &Path) {
    let t0 = std::time::Instant::now();
    let mut args = vec!["explore", scene];
    args.extend(SMALL_PLAN);
    args.extend(["--seed", "0", "--out", s(out)]);
    asid(&args).ok("asid explore");
    println!("plan for {scene} in {:.1} s", t0.elapsed().as_secs_f64());
    let plan = json_file(out);
    assert_eq!(
        plan["actions"].as_array().map(Vec::len),
        Some(20),
        "the plan has the scene's 20 actions"
    );
}

/// Parses JSON printed by a command.
pub fn json(text: &str, what: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}):\n{text}"))
}

/// Reads and parses a JSON file.
pub fn json_file(path: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    json(&text, &path.display().to_string())
}

/// `asid episode FILE --json`, which must succeed.
pub fn episode(file: &Path) -> serde_json::Value {
    let out = asid(&["episode", s(file), "--json"]).ok("asid episode");
    json(&out.stdout, "asid episode --json")
}

/// Messages on `topic` in an `asid episode --json` summary (0 if the topic is absent).
pub fn topic_messages(summary: &serde_json::Value, topic: &str) -> u64 {
    summary["topics"]
        .as_array()
        .expect("topics is an array")
        .iter()
        .find(|t| t["topic"] == topic)
        .and_then(|t| t["messages"].as_u64())
        .unwrap_or(0)
}

/// Arm states in an `asid episode --json` summary (0 if none).
pub fn state_samples(summary: &serde_json::Value) -> u64 {
    summary["states"]["samples"].as_u64().unwrap_or(0)
}

/// The test peers' venv (`.venv-peer`: franky-sim, MuJoCo, mcap), made by `scripts/peer-venv.sh`
/// on first use (the script takes a file lock, so parallel test binaries wait for one install).
/// Panics with the script's message when the venv cannot be made: a peer test that cannot run
/// fails rather than passing unseen.
pub fn peer_venv() -> PathBuf {
    static READY: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    READY
        .get_or_init(|| {
            let script = repo().join("scripts/peer-venv.sh");
            let out = Command::new("bash")
                .arg(&script)
                .current_dir(repo())
                .output()
                .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
            if out.status.success() {
                Ok(repo().join(".venv-peer"))
            } else {
                Err(format!(
                    "{} failed ({}): {}",
                    script.display(),
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        })
        .clone()
        .unwrap_or_else(|e| {
            panic!(
                "the test peers' Python venv could not be made: {e}\n(set ASID_PEER_PYTHON and \
                 ASID_FRANKY_SIM to use an existing one)"
            )
        })
}

/// A peer executable: `var` if set, else `rel` inside the venv (made on first use).
fn peer_bin(var: &str, rel: &str) -> PathBuf {
    let p = std::env::var_os(var).map_or_else(|| peer_venv().join(rel), PathBuf::from);
    assert!(p.exists(), "{var}: {} does not exist", p.display());
    p
}

/// The peer venv's Python (MuJoCo, mcap): `ASID_PEER_PYTHON`, else `.venv-peer/bin/python`.
pub fn peer_python() -> PathBuf {
    peer_bin("ASID_PEER_PYTHON", "bin/python")
}

/// franky-sim: `ASID_FRANKY_SIM`, else `.venv-peer/bin/franky-sim`.
pub fn franky_sim() -> PathBuf {
    peer_bin("ASID_FRANKY_SIM", "bin/franky-sim")
}
