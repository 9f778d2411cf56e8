//! Conformance of the dummy arm, recording through the layer, replay of the recording through the
//! same suite, and a failing recorder stopping the arm.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use asid_arm::conformance::{self, Motion};
use asid_arm::dummy::DummyArm;
use asid_arm::{
    Arm, ArmCommand, ArmError, ArmMode, PoseSample, PoseSource, Record, Recorded, Recorder,
    Recording, ReplayArm, ReplayPoses, RunInfo,
};

#[derive(Clone, Default)]
struct Memory {
    records: Arc<Mutex<Vec<Record>>>,
    flushed: Arc<Mutex<usize>>,
    fail: bool,
}

impl Recorder for Memory {
    fn write(&mut self, record: &Record) -> std::io::Result<()> {
        if self.fail {
            return Err(std::io::Error::other("disk full"));
        }
        self.records.lock().expect("lock").push(record.clone());
        Ok(())
    }
    fn metadata(&mut self, _: &str, _: &BTreeMap<String, String>) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        *self.flushed.lock().expect("lock") = self.records.lock().expect("lock").len();
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        self.flush()
    }
}

fn dummy() -> DummyArm {
    DummyArm::new(vec![0.0; 7], vec![-3.0; 7], vec![3.0; 7], 0.02)
}

#[tokio::test]
async fn dummy_arm_conforms() {
    let report = conformance::run(&mut dummy(), Motion::default())
        .await
        .expect("conforms");
    assert_eq!(report.steps, 30);
}

#[tokio::test]
async fn a_lagging_arm_fails_the_tracking_check() {
    let mut arm = dummy();
    arm.gain = 0.01;
    let err = conformance::run(&mut arm, Motion::default())
        .await
        .expect_err("must fail");
    assert!(err.contains("tracking"), "{err}");
}

#[tokio::test]
async fn recording_replays_through_the_same_suite() {
    let mem = Memory::default();
    let mut arm = Recorded::new(dummy(), mem.clone(), 5);
    conformance::run(&mut arm, Motion::default())
        .await
        .expect("recorded arm conforms");
    let records = mem.records.lock().expect("lock").clone();
    assert!(*mem.flushed.lock().expect("lock") > 0);
    let mut rec = Recording {
        info: Some(RunInfo {
            robot: "dummy".into(),
            scene: "none".into(),
            arm: arm.capabilities().clone(),
            plan: "conformance".into(),
            software_version: "test".into(),
            extra: BTreeMap::new(),
        }),
        ..Recording::default()
    };
    let n_commands = records
        .iter()
        .filter(|r| matches!(r, Record::Command(_)))
        .count();
    assert_eq!(n_commands, 32, "bad command + 30 steps + step after stop");
    assert!(
        records
            .iter()
            .any(|r| matches!(r, Record::Event(e) if e.text.contains("stopped")))
    );
    for r in records {
        rec.push(r);
    }
    let mut replay = ReplayArm::new(&rec).expect("replayable");
    let report = conformance::run(&mut replay, Motion::default())
        .await
        .expect("replay conforms");
    assert_eq!(report.steps, 30);
    assert_eq!(
        replay.divergent_commands(),
        0,
        "the same suite sends the same commands"
    );
}

#[tokio::test]
async fn replay_ends_with_a_clear_error() {
    let mut rec = Recording::default();
    let mut arm = dummy();
    rec.info = Some(RunInfo {
        robot: "dummy".into(),
        scene: "none".into(),
        arm: arm.capabilities().clone(),
        plan: "p".into(),
        software_version: "t".into(),
        extra: BTreeMap::new(),
    });
    rec.states.push(arm.state().await.expect("state"));
    rec.states
        .push(arm.step(&ArmCommand::Hold).await.expect("step"));
    let mut replay = ReplayArm::new(&rec).expect("replayable");
    replay.step(&ArmCommand::Hold).await.expect("one step");
    match replay.step(&ArmCommand::Hold).await {
        Err(ArmError::EndOfRecording { samples: 2 }) => {}
        other => panic!("{other:?}"),
    }
}

/// Regression (replay of the simulated lab's recordings): the recorded arm reported one more
/// state when it stopped, a control period after the last step, and the tracker's poses up to it
/// belong to the run. The replay's stop plays that state back, so the poses drained up to it are
/// every pose the recorded run drained.
#[tokio::test]
async fn replay_stop_plays_the_recorded_stop_state() {
    let mut arm = dummy();
    let mut rec = Recording {
        info: Some(RunInfo {
            robot: "dummy".into(),
            scene: "none".into(),
            arm: arm.capabilities().clone(),
            plan: "p".into(),
            software_version: "t".into(),
            extra: BTreeMap::new(),
        }),
        ..Recording::default()
    };
    rec.states.push(arm.state().await.expect("state"));
    for _ in 0..3 {
        rec.states
            .push(arm.step(&ArmCommand::Hold).await.expect("step"));
    }
    // The recorded arm's stop came one period after its last step (as the simulated lab's does).
    let mut stopped = arm.step(&ArmCommand::Hold).await.expect("brake");
    stopped.mode = ArmMode::Stopped;
    rec.states.push(stopped.clone());
    let period_ns = (arm.capabilities().control_period_s * 1e9) as u64;
    let t0 = rec.states[0].stamp_ns;
    // A 4x faster tracker over the whole run, the stop's period included.
    for k in 0..=16 {
        rec.poses.push(PoseSample {
            stamp_ns: t0 + k * period_ns / 4,
            sender_t_s: 0.0,
            object: "puck".into(),
            p_m: [0.0; 3],
            q_wxyz: [1.0, 0.0, 0.0, 0.0],
        });
    }
    let mut replay = ReplayArm::new(&rec).expect("replayable");
    let mut poses = ReplayPoses::new(&rec);
    let mut got = 0;
    let mut last = replay.state().await.expect("state");
    for _ in 0..3 {
        got += poses.poll(last.stamp_ns).expect("poll").len();
        last = replay.step(&ArmCommand::Hold).await.expect("step");
    }
    let end = replay.stop().await.expect("stop");
    assert_eq!(end.stamp_ns, stopped.stamp_ns, "the recorded stop state");
    assert_eq!(end.mode, ArmMode::Stopped);
    got += poses.poll(end.stamp_ns).expect("poll").len();
    assert_eq!(got, rec.poses.len(), "every recorded pose replayed");
    assert!(matches!(
        replay.step(&ArmCommand::Hold).await,
        Err(ArmError::Stopped(_))
    ));
}

#[tokio::test]
async fn a_failing_recorder_stops_the_arm() {
    let mem = Memory {
        fail: true,
        ..Memory::default()
    };
    let mut arm = Recorded::new(dummy(), mem, 5);
    let err = arm
        .step(&ArmCommand::JointPosition {
            q_rad: vec![0.0; 7],
        })
        .await
        .expect_err("unrecordable");
    assert!(err.to_string().contains("recording failed"), "{err}");
    assert_eq!(
        arm.inner_mut().state().await.expect("state").mode,
        ArmMode::Stopped
    );
}

#[test]
fn replayed_poses_arrive_at_their_stamps() {
    let mut rec = Recording::default();
    for k in 0..5u64 {
        rec.poses.push(PoseSample {
            stamp_ns: 1000 * (5 - k),
            sender_t_s: 0.0,
            object: "puck".into(),
            p_m: [k as f64, 0.0, 0.0],
            q_wxyz: [1.0, 0.0, 0.0, 0.0],
        });
    }
    let mut src = ReplayPoses::new(&rec);
    assert_eq!(src.poll(999).expect("poll").len(), 0);
    assert_eq!(src.poll(2500).expect("poll").len(), 2);
    let rest = src.poll(10_000).expect("poll");
    assert_eq!(rest.len(), 3);
    assert!(rest.windows(2).all(|w| w[0].stamp_ns <= w[1].stamp_ns));
    assert_eq!(src.stats().accepted, 5);
}
