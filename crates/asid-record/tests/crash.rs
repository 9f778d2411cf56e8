//! A real writer process killed with SIGKILL mid-run leaves a file that reads up to its last flush.
//!
//! The test binary runs itself again as the writer (`crash_child_writer` with an environment
//! variable naming the file); the writer prints `FLUSHED <steps>` after each flush.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use asid_arm::{ActionRecord, ArmCommand, CommandRecord, PoseSample, Record, Recorder};
use asid_record::McapRecorder;

const CHILD_ENV: &str = "ASID_RECORD_CRASH_CHILD";
const STEP_NS: u64 = 1_000_000;

/// The writer. A no-op unless started by `sigkill_leaves_everything_up_to_the_last_flush`.
#[test]
fn crash_child_writer() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let path = std::path::PathBuf::from(path);
    let mut rec = McapRecorder::create(&path, &common::run_info("shuffleboard")).expect("create");
    let started = Instant::now();
    let mut stdout = std::io::stdout();
    // Bounded: if nobody kills it, it stops by itself.
    for step in 0..200_000u64 {
        if started.elapsed() > Duration::from_secs(60) {
            break;
        }
        let t = step * STEP_NS;
        rec.write(&Record::State(common::state(t, step)))
            .expect("state");
        rec.write(&Record::Command(CommandRecord {
            stamp_ns: t,
            command: ArmCommand::JointPosition {
                q_rad: vec![step as f64; 7],
            },
        }))
        .expect("command");
        rec.write(&Record::Action(ActionRecord {
            stamp_ns: t,
            step,
            values: vec![step as f64, 0.0],
        }))
        .expect("action");
        rec.write(&Record::Pose(PoseSample {
            stamp_ns: t,
            sender_t_s: step as f64,
            object: "puck".into(),
            p_m: [step as f64, 0.0, 0.0],
            q_wxyz: [1.0, 0.0, 0.0, 0.0],
        }))
        .expect("pose");
        if (step + 1) % 120 == 0 {
            rec.flush().expect("flush");
            writeln!(stdout, "FLUSHED {}", step + 1).expect("stdout");
            stdout.flush().expect("stdout");
        }
        if step % 10 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    rec.finish().expect("finish");
}

#[test]
fn sigkill_leaves_everything_up_to_the_last_flush() {
    use std::os::unix::process::ExitStatusExt;

    let dir = common::tmp_dir("crash");
    let path = dir.join("killed.mcap");
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args([
            "crash_child_writer",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the writer");
    let stdout = child.stdout.take().expect("child stdout");
    let mut flushed_steps = 0u64;
    let mut flushes = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(n) = line.strip_prefix("FLUSHED ") {
            flushed_steps = n.trim().parse().expect("step count");
            flushes += 1;
            if flushes == 20 {
                break;
            }
        }
    }
    assert_eq!(flushes, 20, "the writer stopped before its 20th flush");
    // Let it write on (chunks end every 50 steps, flushes every 120) so the kill lands mid-run.
    std::thread::sleep(Duration::from_millis(7));
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    assert_eq!(
        status.signal(),
        Some(9),
        "the writer died of SIGKILL: {status:?}"
    );

    let (read, report) = asid_record::read_with_report(&path).expect("read the killed file");
    assert!(
        !report.finished,
        "a killed writer cannot have written the footer"
    );
    assert_eq!(read.info, Some(common::run_info("shuffleboard")));
    let m = read.states.len() as u64;
    assert!(
        m >= flushed_steps,
        "{m} states, {flushed_steps} were flushed"
    );
    for (i, s) in read.states.iter().enumerate() {
        assert_eq!(s, &common::state(i as u64 * STEP_NS, i as u64), "state {i}");
    }
    for (kind, n) in [
        ("commands", read.commands.len()),
        ("actions", read.actions.len()),
        ("poses", read.poses.len()),
    ] {
        let n = n as u64;
        assert!(
            n >= flushed_steps && n.abs_diff(m) <= 1,
            "{kind}: {n}, states: {m}"
        );
    }
    assert!(
        read.actions
            .iter()
            .enumerate()
            .all(|(i, a)| a.step == i as u64)
    );
    eprintln!(
        "killed after {flushed_steps} flushed steps: read {m} states, {} unusable bytes ({})",
        report.unusable_bytes,
        report.cut.as_deref().unwrap_or("-")
    );
}
