//! The arm inside rapier: forward kinematics of the loaded URDF against the published flange poses and
//! against the independent kinematic chain, for both robots and both arm models; tracking of the
//! dynamic arm.

mod common;

use asid_sim::Simulator;
use common::scene_path;

/// A copy of `scene` with another robot / arm model, in a temporary tree that still finds `robots/`.
fn variant(scene: &str, robot: &str, model: &str) -> Simulator {
    let text = std::fs::read_to_string(scene_path(scene)).expect("scene");
    let text = text
        .replace("robot = \"panda\"", &format!("robot = \"{robot}\""))
        .replace("model = \"kinematic\"", &format!("model = \"{model}\""));
    let path = common::write_scene_variant(scene, &text);
    Simulator::load(&path).unwrap_or_else(|e| panic!("{robot}/{model}: {e}"))
}

#[test]
fn rapier_flange_matches_published_ready_pose_for_both_robots_and_models() {
    for robot in ["panda", "fr3"] {
        for model in ["kinematic", "dynamic"] {
            let s = variant("rod", robot, model);
            let mut w = s.world(&s.scene().space.center()).expect("world");
            let ready = &s.scene().robot.published_flange_poses["ready"];
            w.set_arm_configuration(&ready.q_rad)
                .expect("ready is inside the limits");
            let p = w.flange_pose().translation.vector;
            let err = (p - nalgebra::Vector3::from(ready.xyz_m)).norm();
            assert!(
                err < 1e-3,
                "{robot}/{model}: rapier flange at {p:?}, published {:?} ({err} m)",
                ready.xyz_m
            );
            // Random configurations inside the limits: rapier's bodies agree with the kinematic chain.
            for k in 0..5 {
                let q: Vec<f64> = (0..7)
                    .map(|i| {
                        let (lo, hi) = (s.arm().q_min_rad[i], s.arm().q_max_rad[i]);
                        lo + (hi - lo) * (0.5 + 0.4 * ((k * 7 + i) as f64 * 1.7).sin())
                    })
                    .collect();
                w.set_arm_configuration(&q).expect("inside limits");
                let a = w.flange_pose();
                let b = s.arm().world_from_flange(&q);
                let d = (a.translation.vector - b.translation.vector).norm();
                let r = a.rotation.angle_to(&b.rotation);
                assert!(
                    d < 1e-4 && r < 1e-3,
                    "{robot}/{model} q {q:?}: {d} m, {r} rad apart"
                );
            }
        }
    }
}

#[test]
fn configurations_outside_the_joint_limits_are_refused() {
    let s = variant("rod", "panda", "kinematic");
    let mut w = s.world(&s.scene().space.center()).expect("world");
    let err = w
        .set_arm_configuration(&[0.0; 7])
        .expect_err("q4 = 0 is outside the Panda's limits");
    assert!(err.to_string().contains("[3] = 0"), "{err}");
}

#[test]
fn the_dynamic_arm_tracks_its_commands() {
    let s = common::sim("payload");
    let theta = s.scene().space.center();
    let actions: Vec<Vec<f64>> = (0..20)
        .map(|k| vec![0.01 * (k as f64 * 0.5).sin(), 0.01, -0.005])
        .collect();
    let mut w = s.world(&theta).expect("world");
    let mut worst: f64 = 0.0;
    for a in &actions {
        w.step_control(a).expect("step");
        let err = w
            .joint_positions()
            .iter()
            .zip(w.commanded_joint_positions())
            .map(|(q, c)| (q - c).abs())
            .fold(0.0, f64::max);
        worst = worst.max(err);
    }
    // Stiff joint PD with gravity compensation of the arm and tool (not of the unknown payload).
    assert!(worst < 0.02, "tracking error {worst} rad");
    assert!(
        worst > 1e-6,
        "a held payload that is not compensated shows up as tracking error"
    );
}

/// A dynamic arm that holds still long enough for the physics engine to put a resting body to
/// sleep still follows its next commands (it stayed frozen under full torque: rapier's sleeping
/// multibody ignored its motors' new targets).
#[test]
fn the_dynamic_arm_moves_again_after_a_pause() {
    let s = common::sim("payload");
    let theta = s.scene().space.center();
    let mut w = s.world(&theta).expect("world");
    // Three seconds at rest (rapier's time until sleep is two).
    for _ in 0..30 {
        w.step_control(&[0.0, 0.0, 0.0]).expect("hold");
    }
    let before = w.joint_positions().to_vec();
    for _ in 0..5 {
        w.step_control(&[0.0, 0.02, 0.0]).expect("move");
    }
    let moved = w
        .joint_positions()
        .iter()
        .zip(&before)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let lag = w
        .joint_positions()
        .iter()
        .zip(w.commanded_joint_positions())
        .map(|(q, c)| (q - c).abs())
        .fold(0.0, f64::max);
    assert!(moved > 0.05, "the arm moved {moved} rad after the pause");
    assert!(lag < 0.02, "tracking error {lag} rad after the pause");
}

#[test]
fn every_corner_of_every_scene_workspace_is_reachable_with_the_tool_down() {
    use asid_core::scene::ActionSpec;
    use nalgebra::{Isometry3, Translation3};
    for name in [
        "rod",
        "sphere",
        "multi_friction",
        "shuffleboard",
        "articulation",
        "payload",
    ] {
        let s = common::sim(name);
        let scene = s.scene();
        let q0 = asid_sim::initial_configuration(scene, s.arm()).expect("start");
        let down = s.arm().world_from_tcp(&q0).rotation;
        let corners: Vec<[f64; 3]> = match &scene.spec.arm.action {
            ActionSpec::EeDeltaXy {
                workspace_xy_m: w,
                z_m,
                ..
            } => {
                vec![
                    [w[0][0], w[1][0], *z_m],
                    [w[0][0], w[1][1], *z_m],
                    [w[0][1], w[1][0], *z_m],
                    [w[0][1], w[1][1], *z_m],
                ]
            }
            ActionSpec::EeDeltaXyz { workspace_m: w, .. } => (0..8)
                .map(|k| [w[0][k & 1], w[1][(k >> 1) & 1], w[2][(k >> 2) & 1]])
                .collect(),
            ActionSpec::JointPosition { .. } => vec![],
        };
        for c in corners {
            let target = Isometry3::from_parts(Translation3::new(c[0], c[1], c[2]), down);
            s.arm()
                .inverse_kinematics(&q0, &target, &asid_robot::IkOptions::default())
                .unwrap_or_else(|e| panic!("{name}: workspace corner {c:?}: {e}"));
        }
    }
}
