//! `asid run --arm franka://HOST --poses udp://ADDR --yes` runs the station's loop against
//! franky-sim (a MuJoCo FR3 behind the Franka research interface, started by the test on its own
//! loopback address) with a pose stream v1 sender in the test: the exploration is planned, checked
//! by the 1 kHz dry run once the arm's position is known, run behind the safety layer and
//! recorded, identified, and the run directory holds the episode and the report.
//!
//! Then the task: planned in the identified simulator with every candidate through the 1 kHz
//! check, dry-run, run on the arm, recorded and judged on the tracker's poses.
//!
//! franky-sim has no puck: the sender reports it at rest where the scene puts it, so neither the
//! fit nor the task's success is judged here (the simulated-lab tests judge them); the task's
//! verdict must be the one those poses give. The tracker's latency is not estimated
//! (`--latency off`): the nuisance search is covered by the lab tests and costs minutes here.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::peer::{Hosts, Peer, PoseSender, free_udp_port};
use common::{TempDir, asid_command, episode, json_file, s, state_samples};

/// The whole loop with franky-sim far below real time on a loaded machine.
const RUN_LIMIT: Duration = Duration::from_secs(1500);

#[test]
fn run_the_whole_loop_on_franky_sim() {
    let bin = common::franky_sim();
    let tmp = TempDir::new("station-franka");
    let out = tmp.join("runs");
    let host = Hosts(61).next();
    let _peer = Peer::start(&bin, host.clone());
    let port = free_udp_port();
    let mut sender = PoseSender::object(port, "puck", [0.5, 0.0, 0.01]);
    let arm = format!("franka://{host}");
    let poses = format!("udp://127.0.0.1:{port}");
    let t0 = Instant::now();
    let mut args = vec![
        "run",
        "scenes/shuffleboard_fr3.toml",
        "--arm",
        &arm,
        "--poses",
        &poses,
        "--yes",
        "--latency",
        "off",
        // franky-sim is paced by Python and stalls far longer than a real arm's 100 ms.
        "--watchdog-ms",
        "3000",
        "--stale-ms",
        "1000",
        "--out-dir",
        s(&out),
    ];
    args.extend(common::SMALL_PLAN);
    let mut child = asid_command(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start asid run");
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for asid run") {
            break st;
        }
        if t0.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("asid run did not finish within {} s", RUN_LIMIT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut stdout);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let sent = sender.stop();
    println!(
        "asid run on franky-sim in {:.1} s, {sent} pose datagrams sent",
        t0.elapsed().as_secs_f64()
    );
    assert!(
        status.success(),
        "asid run: {status}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains("1 kHz dry run passed"),
        "the Franka's own dry run before each motion:\n{stderr}"
    );
    let dirs: Vec<_> = std::fs::read_dir(&out)
        .expect("run directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let dir = &dirs[0];
    let report = json_file(&dir.join("report.json"));
    assert_eq!(report["arm"], arm.as_str(), "{report:#}");
    assert!(report["stopped_by"].is_null(), "{report:#}");
    assert_eq!(
        report["exploration"]["episode"]["steps_done"], 20,
        "{report:#}"
    );
    assert!(
        report["parameters"]
            .as_array()
            .is_some_and(|p| !p.is_empty() && p.iter().all(|q| q["truth"].is_null())),
        "a real arm has no truth: {report:#}"
    );
    // The task ran on the arm and was judged on the tracker's poses: the puck that franky-sim
    // does not have stayed where the sender reports it, 8.5 cm short of the near zone.
    let tasks = report["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 1, "{report:#}");
    let task = &tasks[0];
    assert_eq!(task["goal"], "near", "{task:#}");
    assert_eq!(task["episode"], "task-near.mcap", "{task:#}");
    let xy = &task["object_xy_m"];
    let (x, y) = (xy[0].as_f64().expect("x"), xy[1].as_f64().expect("y"));
    assert!(
        (x - 0.5).abs() < 1e-3 && y.abs() < 1e-3,
        "judged at {xy}, the sender's puck is at (0.5, 0)"
    );
    assert_eq!(task["success"], false, "{task:#}");
    let d = task["distance_m"].as_f64().expect("distance_m");
    assert!((d - 0.085).abs() < 1e-3, "distance to the zone {d} m");
    let task_run = episode(&dir.join("task-near.mcap"));
    assert_eq!(task_run["run"]["arm"]["backend"], "franka", "{task_run:#}");
    assert!(
        state_samples(&task_run) > 30,
        "task arm states recorded: {task_run:#}"
    );
    let summary = episode(&dir.join("episode.mcap"));
    // One state per control period: the approach and the 20 actions.
    assert!(
        state_samples(&summary) > 20,
        "arm states recorded: {summary:#}"
    );
    assert_eq!(summary["run"]["arm"]["backend"], "franka", "{summary:#}");
    assert!(
        stdout.contains("run of shuffleboard_fr3 on franka://"),
        "the report at the end:\n{stdout}"
    );
}
