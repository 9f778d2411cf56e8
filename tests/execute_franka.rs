//! `asid execute --arm franka://HOST --poses udp://ADDR` end to end against franky-sim, a
//! MuJoCo-backed server speaking the Franka research interface, with a pose stream v1 sender in
//! the test: a whole run, the peer killed mid-run, `asid execute` killed mid-run, and the pose
//! stream going quiet mid-run. Every recording must read back with `asid episode`.
//!
//! A second plan, for another seed, checks the regression of plans the arm refused mid-run: the
//! planner now checks its candidates through the arm's 1 kHz interpolation as the control loop
//! runs it, so every plan it writes runs to the end.
//!
//! One test function runs the cases in order, each with a fresh peer on its own loopback address,
//! because the peer is slow and CPU-bound. The peer is found through `ASID_FRANKY_SIM`, else
//! `<repo>/.venv-peer/bin/franky-sim`, made by `scripts/peer-venv.sh` when missing. Timing is
//! printed, never asserted: the peer can run far below real time on a loaded machine.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::peer::{Hosts, Peer, PoseSender, free_udp_port};
use common::{TempDir, asid, asid_command, episode, s, small_plan, state_samples, topic_messages};

const SCENE: &str = "scenes/shuffleboard_fr3.toml";
/// How long a whole `asid execute` may take (the approach and 2 s of plan, at 0.1x real time
/// plus start-up).
const RUN_LIMIT: Duration = Duration::from_secs(300);
/// Watchdog and link timeout: franky-sim is Python paced to wall clock and stalls for far longer
/// than a real arm's 100 ms default when the machine is loaded (0.07x real time seen).
const WATCHDOG_MS: &str = "3000";
/// Staleness limit of the pose stream (arm time): generous for a sender thread on a busy machine,
/// short against the 1.9 s of plan left after the first action.
const STALE_MS: &str = "500";

/// `asid execute` running as a child, its output collected by reader threads.
struct Execute {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    progress: mpsc::Receiver<String>,
    readers: Vec<JoinHandle<()>>,
}

fn collect(
    mut pipe: impl Read + Send + 'static,
    into: Arc<Mutex<String>>,
    progress: Option<mpsc::Sender<String>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(&mut pipe);
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            into.lock().expect("output lock").push_str(&line);
            if let Some(tx) = &progress
                && line.trim_end().ends_with(" actions")
            {
                let _ = tx.send(line.trim().to_string());
            }
            line.clear();
        }
    })
}

impl Execute {
    fn spawn(plan: &Path, host: &str, pose_port: u16, out: &Path) -> Self {
        let arm = format!("franka://{host}");
        let poses = format!("udp://127.0.0.1:{pose_port}");
        let mut child = asid_command(&[
            "execute",
            s(plan),
            "--arm",
            &arm,
            "--poses",
            &poses,
            "--out",
            s(out),
            "--watchdog-ms",
            WATCHDOG_MS,
            "--stale-ms",
            STALE_MS,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn asid execute");
        let (stdout, stderr) = (Arc::default(), Arc::default());
        let (tx, progress) = mpsc::channel();
        let readers = vec![
            collect(
                child.stdout.take().expect("piped"),
                Arc::clone(&stdout),
                None,
            ),
            collect(
                child.stderr.take().expect("piped"),
                Arc::clone(&stderr),
                Some(tx),
            ),
        ];
        Self {
            child,
            stdout,
            stderr,
            progress,
            readers,
        }
    }

    fn output(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout.lock().expect("output lock"),
            self.stderr.lock().expect("output lock")
        )
    }

    /// Waits for the progress line `  k/n actions` with `k >= at_least`.
    fn wait_for_action(&mut self, at_least: usize) -> String {
        let deadline = Instant::now() + RUN_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.progress.recv_timeout(left) {
                Ok(line) => {
                    let k: usize = line
                        .split('/')
                        .next()
                        .and_then(|k| k.trim().parse().ok())
                        .unwrap_or(0);
                    if k >= at_least {
                        return line;
                    }
                }
                Err(e) => {
                    let status = self.child.try_wait();
                    let _ = self.child.kill();
                    panic!(
                        "no progress line `{at_least}/.. actions` ({e:?}; status {status:?})\n{}",
                        self.output()
                    );
                }
            }
        }
    }

    /// Waits for the exit (killing the child after `RUN_LIMIT`); returns the status, stdout and
    /// stderr.
    fn finish(mut self) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + RUN_LIMIT;
        let status = loop {
            match self.child.try_wait().expect("wait for asid execute") {
                Some(status) => break status,
                None if Instant::now() > deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    panic!(
                        "asid execute still running after {} s\n{}",
                        RUN_LIMIT.as_secs(),
                        self.output()
                    );
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        for r in self.readers.drain(..) {
            r.join().expect("reader thread");
        }
        let out = self.stdout.lock().expect("output lock").clone();
        let err = self.stderr.lock().expect("output lock").clone();
        (status, out, err)
    }
}

impl Drop for Execute {
    fn drop(&mut self) {
        // Only a child still running (a failed assertion) is killed; a reaped one is left alone.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn execute_on_franky_sim() {
    let bin = common::franky_sim();
    let dir = TempDir::new("franka");
    let plan = dir.join("plan.json");
    small_plan(SCENE, &plan);
    let mut hosts = Hosts(21);

    whole_run(&bin, &mut hosts, &dir, &plan);
    planner_plan_runs_to_the_end(&bin, &mut hosts, &dir);
    peer_killed(&bin, &mut hosts, &dir, &plan);
    execute_killed(&bin, &mut hosts, &dir, &plan);
    poses_go_stale(&bin, &mut hosts, &dir, &plan);
}

fn whole_run(bin: &Path, hosts: &mut Hosts, dir: &TempDir, plan: &Path) {
    println!("== whole run");
    let peer = Peer::start(bin, hosts.next());
    let port = free_udp_port();
    let mut sender = PoseSender::start(port);
    let ep = dir.join("whole.mcap");
    let t0 = Instant::now();
    let (status, out, err) = Execute::spawn(plan, &peer.host, port, &ep).finish();
    let sent = sender.stop();
    println!(
        "execute in {:.1} s ({sent} pose datagrams sent):\n{out}{err}",
        t0.elapsed().as_secs_f64()
    );
    assert!(status.success(), "{status}\nstdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("dry run passed"), "{out}");
    assert!(out.contains("20 of 20 actions"), "{out}");
    assert!(out.contains(" 0 malformed"), "{out}");
    assert!(!out.contains("poses: 0 received"), "{out}");
    assert!(err.contains("20/20 actions"), "{err}");

    let sum = episode(&ep);
    println!(
        "episode: {} states, {} commands, {} puck poses, {} s",
        state_samples(&sum),
        topic_messages(&sum, "/arm/command"),
        topic_messages(&sum, "/tracker/puck"),
        sum["duration_s"]
    );
    assert_eq!(sum["finished"], true, "{sum:#}");
    assert_eq!(sum["actions"], 20, "{sum:#}");
    // 10 Hz plan: the approach from the peer's home pose plus 20 actions.
    assert!(state_samples(&sum) >= 21, "{sum:#}");
    assert!(topic_messages(&sum, "/arm/command") >= 20, "{sum:#}");
    assert!(topic_messages(&sum, "/tracker/puck") >= 10, "{sum:#}");
    assert_eq!(sum["events"]["error"], 0, "{sum:#}");
    let run = &sum["run"];
    assert_eq!(run["arm"]["backend"], "franka", "{sum:#}");
    assert_eq!(run["robot"], "fr3", "{sum:#}");
    assert_eq!(run["scene"], "shuffleboard_fr3", "{sum:#}");
    assert_eq!(run["extra"]["host"], peer.host.as_str(), "{sum:#}");
    // Poses are stamped on the arm clock: were the sender's +1000 s (and its Unix-epoch origin)
    // not estimated away, the recording would span years, not the run.
    let span = sum["duration_s"].as_f64().expect("duration_s");
    assert!(
        span > 0.0 && span < RUN_LIMIT.as_secs_f64(),
        "recording spans {span} s: {sum:#}"
    );

    // The recording converts for identification (the puck never moves here, so the values
    // mean nothing; the run must just read).
    // The latency is known (`off`): its estimate is covered by tests/lab_alignment.rs and costs
    // minutes in the debug profile.
    let fit = asid(&["identify", SCENE, s(&ep), "--latency", "off", "--json"])
        .ok("asid identify on a franka run");
    println!("identify on the franka run: {}", fit.stdout.trim());
    let fit = common::json(&fit.stdout, "asid identify --json");
    assert!(fit["estimate"]["puck.friction"].as_f64().is_some(), "{fit}");
}

/// The planner's seed for the regression plan; its plan under the old plan-rate headroom peaked
/// above the arm's acceleration limit at 1 kHz.
const REGRESSION_SEED: &str = "3";

fn planner_plan_runs_to_the_end(bin: &Path, hosts: &mut Hosts, dir: &TempDir) {
    println!("== a planner plan for seed {REGRESSION_SEED} runs to the end");
    let plan = dir.join("plan-regression.json");
    let t0 = Instant::now();
    let mut args = vec!["explore", SCENE];
    args.extend(common::SMALL_PLAN);
    args.extend(["--seed", REGRESSION_SEED, "--out", s(&plan)]);
    asid(&args).ok("asid explore");
    println!("plan in {:.1} s", t0.elapsed().as_secs_f64());
    let peer = Peer::start(bin, hosts.next());
    let port = free_udp_port();
    let mut sender = PoseSender::start(port);
    let ep = dir.join("regression.mcap");
    let (status, out, err) = Execute::spawn(&plan, &peer.host, port, &ep).finish();
    sender.stop();
    println!("{out}{err}");
    assert!(status.success(), "{status}\nstdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("1 kHz dry run passed"), "{out}");
    assert!(out.contains("20 of 20 actions"), "{out}");
    assert!(!err.contains("limit:"), "{err}");
    let sum = episode(&ep);
    assert_eq!(sum["actions"], 20, "{sum:#}");
    assert_eq!(sum["events"]["error"], 0, "{sum:#}");
}

fn peer_killed(bin: &Path, hosts: &mut Hosts, dir: &TempDir, plan: &Path) {
    println!("== the peer killed mid-run");
    let mut peer = Peer::start(bin, hosts.next());
    let port = free_udp_port();
    let _sender = PoseSender::start(port);
    let ep = dir.join("peer-killed.mcap");
    let mut exec = Execute::spawn(plan, &peer.host, port, &ep);
    let line = exec.wait_for_action(2);
    peer.kill();
    let killed = Instant::now();
    let (status, out, err) = exec.finish();
    println!(
        "peer killed at `{line}`; execute exited {status} {:.2} s later:\n{out}{err}",
        killed.elapsed().as_secs_f64()
    );
    assert!(
        !status.success(),
        "{status}\nstdout:\n{out}\nstderr:\n{err}"
    );
    // An arm fault: exit code 3 (README).
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("stopped early"), "{err}");
    assert!(err.contains("link lost"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.contains("20 of 20 actions"), "{out}");

    let sum = episode(&ep);
    println!(
        "episode: {} states, {} actions, finished {}",
        state_samples(&sum),
        sum["actions"],
        sum["finished"]
    );
    assert!(state_samples(&sum) >= 1, "{sum:#}");
    assert!(sum["actions"].as_u64().is_some_and(|a| a >= 2), "{sum:#}");
    // The executor outlives its peer: it closes the file properly and logs the fault.
    assert_eq!(sum["finished"], true, "{sum:#}");
    assert!(
        sum["events"]["error"].as_u64().is_some_and(|e| e >= 1),
        "{sum:#}"
    );
}

fn execute_killed(bin: &Path, hosts: &mut Hosts, dir: &TempDir, plan: &Path) {
    println!("== asid execute killed mid-run");
    let peer = Peer::start(bin, hosts.next());
    let port = free_udp_port();
    let _sender = PoseSender::start(port);
    let ep = dir.join("execute-killed.mcap");
    let mut exec = Execute::spawn(plan, &peer.host, port, &ep);
    let line = exec.wait_for_action(2);
    exec.child.kill().expect("SIGKILL asid execute");
    let (status, _out, err) = exec.finish();
    println!("execute killed at `{line}`: {status}");
    assert!(!status.success(), "{status}: {err}");

    // The file holds everything up to the last flush, and says it was cut.
    let sum = episode(&ep);
    println!(
        "episode: {} states, {} actions, finished {}, cut {}",
        state_samples(&sum),
        sum["actions"],
        sum["finished"],
        sum["cut"]
    );
    assert_eq!(sum["finished"], false, "{sum:#}");
    assert!(sum["cut"].is_string(), "{sum:#}");
    assert!(state_samples(&sum) >= 1, "{sum:#}");
    assert_eq!(sum["run"]["arm"]["backend"], "franka", "{sum:#}");
    let text = asid(&["episode", s(&ep)]).ok("asid episode (text) on a cut file");
    assert!(text.stdout.contains("NOT finished"), "{}", text.stdout);
    drop(peer);
}

fn poses_go_stale(bin: &Path, hosts: &mut Hosts, dir: &TempDir, plan: &Path) {
    println!("== the pose stream goes quiet mid-run");
    let peer = Peer::start(bin, hosts.next());
    let port = free_udp_port();
    let mut sender = PoseSender::start(port);
    let ep = dir.join("stale.mcap");
    let mut exec = Execute::spawn(plan, &peer.host, port, &ep);
    let line = exec.wait_for_action(1);
    let sent = sender.stop();
    let (status, out, err) = exec.finish();
    println!(
        "pose sender stopped at `{line}` after {sent} datagrams; execute exited {status}:\n{out}{err}"
    );
    // A fault during the motion (the tracker went quiet): exit code 3.
    assert_eq!(
        status.code(),
        Some(3),
        "{status}\nstdout:\n{out}\nstderr:\n{err}"
    );
    assert!(err.contains("stopped early"), "{err}");
    assert!(err.contains("`puck`") && err.contains("stale"), "{err}");
    assert!(!out.contains("20 of 20 actions"), "{out}");

    let sum = episode(&ep);
    assert_eq!(sum["finished"], true, "{sum:#}");
    assert!(state_samples(&sum) >= 1, "{sum:#}");
    assert!(topic_messages(&sum, "/tracker/puck") >= 1, "{sum:#}");
    assert!(sum["actions"].as_u64().is_some_and(|a| a < 20), "{sum:#}");
    drop(peer);
}
