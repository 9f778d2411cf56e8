//! The lab's gripper: fingers that move in the simulated world, grasp what they close on, lift it
//! with the arm and let it go when they open; limits refused before anything moves; gripper states
//! recorded and replayed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use asid_arm::conformance;
use asid_arm::{
    Arm, ArmCommand, ArmError, Gripper, GripperLimits, PoseSource, Record, Recorded, Recorder,
    Recording, ReplayGripper, RunInfo,
};
use asid_lab::{LabConfig, LabGripper, LabTracker, SimLab};
use asid_sim::Simulator;

/// A kinematic panda with the Franka Hand, its tool centre point 4.5 cm above the table, and a
/// standing rod 4 cm across (7 cm tall) at `rod_xy_m`.
fn scene(name: &str, rod_xy_m: [f64; 2]) -> Simulator {
    let dir = std::env::temp_dir().join(format!("asid-lab-gripper-{}-{name}", std::process::id()));
    let scenes = dir.join("scenes");
    std::fs::create_dir_all(&scenes).expect("temp dir");
    let robots = dir.join("robots");
    if !robots.exists() {
        let repo_robots: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../robots");
        std::os::unix::fs::symlink(repo_robots.canonicalize().expect("robots"), &robots)
            .expect("link robots");
    }
    let text = format!(
        r#"
name = "grasp"
description = "A rod between the open fingers of the Franka Hand"

[physics]
dt_s = 0.002
friction_combine = "multiply"

[table]
size_m = [1.4, 1.2, 0.05]
center_xy_m = [0.4, 0.0]
friction = 1.0

[[object]]
name = "rod"
shape = {{ kind = "cylinder", radius_m = 0.02, half_height_m = 0.035 }}
pose = {{ xyz_m = [{x}, {y}, 0.035] }}
mass_kg = 0.2
friction = 0.8

[arm]
robot = "panda"
tool = "gripper"
model = "kinematic"
control_rate_hz = 10.0

[arm.action]
kind = "ee_delta_xyz"
max_step_m = 0.03
start_xyz_m = [0.45, 0.0, 0.045]
horizon_steps = 20
workspace_m = [[0.3, 0.7], [-0.25, 0.25], [0.02, 0.4]]

[[observation.channel]]
kind = "object_position"
of = "rod"
sigma = 0.001

[[parameter]]
target = "rod.mass"
prior = {{ kind = "uniform", low = 0.1, high = 0.3 }}
bounds = [0.05, 0.5]
fd_step = 0.01
"#,
        x = rod_xy_m[0],
        y = rod_xy_m[1]
    );
    let path = scenes.join("grasp.toml");
    std::fs::write(&path, text).expect("write scene");
    Simulator::load(&path).expect("scene loads")
}

fn lab(sim: &Simulator) -> (SimLab, LabTracker, LabGripper) {
    let truth = sim.scene().space.nominal();
    let (arm, tracker) = SimLab::new(sim, &truth, LabConfig::ideal()).expect("lab");
    let gripper = arm.gripper().expect("the hand has fingers");
    (arm, tracker, gripper)
}

/// The rod's height as the (ideal) tracker saw it last, up to `now_ns`.
fn rod_z(tracker: &mut LabTracker, now_ns: u64) -> f64 {
    let seen = tracker.poll(now_ns).expect("poll");
    seen.iter()
        .rev()
        .find(|p| p.object == "rod")
        .map(|p| p.p_m[2])
        .expect("a frame of the rod")
}

/// Moves the tool centre point up by `dz_m` per control period for `periods`, then holds 3.
async fn lift(sim: &Simulator, arm: &mut SimLab, dz_m: f64, periods: usize) -> u64 {
    let s = arm.state().await.expect("state");
    let mut q = s.q_cmd_rad;
    let mut tcp = sim.arm().world_from_tcp(&q);
    for _ in 0..periods {
        let (next, t) = asid_sim::command_for_action(
            &sim.scene().spec.arm.action,
            sim.arm(),
            &q,
            &tcp,
            &[0.0, 0.0, dz_m],
        )
        .expect("reachable");
        arm.step(&ArmCommand::JointPosition {
            q_rad: next.clone(),
        })
        .await
        .expect("step");
        (q, tcp) = (next, t);
    }
    let mut last = 0;
    for _ in 0..3 {
        last = arm.step(&ArmCommand::Hold).await.expect("hold").stamp_ns;
    }
    last
}

#[tokio::test]
async fn grasp_holds_the_rod_lifts_it_and_opening_drops_it() {
    let sim = scene("lift", [0.45, 0.0]);
    let (mut arm, mut tracker, mut hand) = lab(&sim);
    let t0 = arm.state().await.expect("state").stamp_ns;
    let open = hand.read().await.expect("read");
    assert!((open.width_m - 0.08).abs() < 1e-9, "{open:?}");
    let z0 = rod_z(&mut tracker, t0);

    let held = hand
        .grasp(0.04, 0.05, 20.0, 0.005, 0.005)
        .await
        .expect("grasp");
    let s = hand.read().await.expect("read");
    let t1 = arm.state().await.expect("state").stamp_ns;
    assert!(held, "grasp on the 4 cm rod: {s:?}");
    assert!((s.width_m - 0.04).abs() < 1e-3, "width {} m", s.width_m);
    assert!(s.is_grasping);
    // 4 cm of travel at 5 cm/s: 0.8 s of the arm's clock, in whole control periods.
    let took_s = (t1 - t0) as f64 * 1e-9;
    assert!((0.75..=1.05).contains(&took_s), "the grasp took {took_s} s");

    let t2 = lift(&sim, &mut arm, 0.02, 3).await;
    let z_lifted = rod_z(&mut tracker, t2);
    assert!(
        (z_lifted - z0 - 0.06).abs() < 0.005,
        "the rod rose {} m with the hand (6 cm)",
        z_lifted - z0
    );

    hand.move_to(0.08, 0.05).await.expect("open");
    let s = hand.read().await.expect("read");
    assert!(!s.is_grasping && (s.width_m - 0.08).abs() < 1e-9, "{s:?}");
    let mut t3 = 0;
    for _ in 0..5 {
        t3 = arm.step(&ArmCommand::Hold).await.expect("hold").stamp_ns;
    }
    let z_dropped = rod_z(&mut tracker, t3);
    assert!(
        z_dropped < z0 + 0.005,
        "released, the rod falls back to the table: z {z_dropped} m (lifted {z_lifted} m, \
         on the table {z0} m)"
    );
}

#[tokio::test]
async fn grasp_on_nothing_closes_the_fingers_and_fails() {
    let sim = scene("empty", [0.65, 0.15]);
    let (mut arm, mut tracker, mut hand) = lab(&sim);
    let t0 = arm.state().await.expect("state").stamp_ns;
    let z0 = rod_z(&mut tracker, t0);
    let held = hand
        .grasp(0.04, 0.1, 20.0, 0.005, 0.005)
        .await
        .expect("grasp");
    let s = hand.read().await.expect("read");
    assert!(!held, "nothing between the fingers: {s:?}");
    assert!(s.width_m < 1e-9 && !s.is_grasping, "{s:?}");
    let t1 = lift(&sim, &mut arm, 0.02, 2).await;
    assert!(
        (rod_z(&mut tracker, t1) - z0).abs() < 1e-3,
        "the rod stays put"
    );
}

#[tokio::test]
async fn commands_outside_the_hand_limits_are_refused_before_anything_moves() {
    let sim = scene("limits", [0.45, 0.0]);
    let (mut arm, _tracker, mut hand) = lab(&sim);
    let t0 = arm.state().await.expect("state").stamp_ns;
    let err = hand
        .grasp(0.04, 0.05, 100.0, 0.005, 0.005)
        .await
        .expect_err("100 N is above the hand's 70 N");
    assert!(
        matches!(
            err,
            ArmError::OutOfRange { what: "gripper grasp force", value, min, max, unit: "N" }
                if value == 100.0 && min == 0.0 && max == 70.0
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("100") && text.contains("[0, 70] N"), "{text}");
    let err = hand
        .move_to(0.02, 0.5)
        .await
        .expect_err("0.5 m/s is too fast");
    assert!(err.to_string().contains("gripper speed"), "{err}");
    let err = hand
        .move_to(0.02, 1e-9)
        .await
        .expect_err("1e-9 m/s would hold the lab for years");
    assert!(
        err.to_string().contains("gripper speed") && err.to_string().contains("0.001"),
        "{err}"
    );
    let err = hand.move_to(0.09, 0.05).await.expect_err("wider than 8 cm");
    assert!(err.to_string().contains("gripper width"), "{err}");
    let s = hand.read().await.expect("read");
    assert!((s.width_m - 0.08).abs() < 1e-12 && !s.is_grasping, "{s:?}");
    assert_eq!(
        arm.state().await.expect("state").stamp_ns,
        t0,
        "no time passed"
    );
}

/// Keeps records in memory.
#[derive(Clone, Default)]
struct Memory(Arc<Mutex<Vec<Record>>>);

impl Recorder for Memory {
    fn write(&mut self, record: &Record) -> std::io::Result<()> {
        self.0.lock().expect("lock").push(record.clone());
        Ok(())
    }
    fn metadata(&mut self, _: &str, _: &BTreeMap<String, String>) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn recorded_gripper_states_replay_in_order() {
    let sim = scene("replay", [0.45, 0.0]);
    let (arm, _tracker, mut hand) = lab(&sim);
    let caps = arm.capabilities().clone();
    assert!(caps.has_gripper);
    let memory = Memory::default();
    let mut arm = Recorded::new(arm, memory.clone(), 10);
    let mut seen = Vec::new();
    for step in 0..3 {
        match step {
            0 => {}
            1 => assert!(
                hand.grasp(0.04, 0.05, 30.0, 0.005, 0.005)
                    .await
                    .expect("grasp")
            ),
            _ => hand.move_to(0.07, 0.05).await.expect("open"),
        }
        arm.state().await.expect("state");
        let s = hand.read().await.expect("read");
        arm.record_gripper(&s).expect("record");
        seen.push(s);
    }
    let mut recording = Recording {
        info: Some(RunInfo {
            robot: caps.robot.clone(),
            scene: "grasp".into(),
            arm: caps,
            plan: "gripper test".into(),
            software_version: "test".into(),
            extra: BTreeMap::new(),
        }),
        ..Recording::default()
    };
    for r in memory.0.lock().expect("lock").iter() {
        recording.push(r.clone());
    }
    assert_eq!(recording.grippers.len(), 3);
    assert!(
        recording
            .grippers
            .windows(2)
            .all(|w| w[0].stamp_ns < w[1].stamp_ns),
        "stamped at the arm's clock, which advanced while the fingers moved"
    );
    let mut replay = ReplayGripper::new(&recording).expect("gripper states");
    for want in &seen {
        assert_eq!(&replay.read().await.expect("replayed"), want);
    }
    assert!(matches!(
        replay.read().await,
        Err(ArmError::EndOfRecording { samples: 3 })
    ));
    recording.grippers.clear();
    let err = ReplayGripper::new(&recording).expect_err("no gripper states");
    assert!(err.to_string().contains("no gripper states"), "{err}");
}

#[tokio::test]
async fn lab_gripper_conforms() {
    let sim = scene("conformance", [0.65, 0.15]);
    let (_arm, _tracker, mut hand) = lab(&sim);
    let limits: GripperLimits = *hand.limits();
    let report = conformance::gripper(&mut hand, &limits)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.max_width_m > 0.07, "{report:?}");
}
