//! The simulated lab behaves like an arm (conformance suite) and a tracker with latency and noise.

use std::path::Path;

use asid_arm::conformance::{self, Motion};
use asid_arm::{Arm, ArmCommand, PoseSource};
use asid_lab::{LabConfig, SimLab};
use asid_sim::Simulator;

fn sim(scene: &str) -> Simulator {
    Simulator::load(&Path::new("../../scenes").join(scene)).expect("scene loads")
}

#[tokio::test]
async fn kinematic_lab_conforms() {
    let sim = sim("shuffleboard.toml");
    let truth = sim.scene().space.nominal();
    let (mut arm, _tracker) = SimLab::new(&sim, &truth, LabConfig::default()).expect("lab");
    let motion = Motion {
        joint: 0,
        ..Motion::default()
    };
    let r = conformance::run(&mut arm, motion).await.expect("conforms");
    assert!(r.final_tracking_error_rad < 0.01, "{r:?}");
}

#[tokio::test]
async fn dynamic_lab_conforms() {
    let sim = sim("payload.toml");
    let truth = sim.scene().space.nominal();
    let (mut arm, _tracker) = SimLab::new(&sim, &truth, LabConfig::default()).expect("lab");
    let motion = Motion {
        joint: 0,
        tolerance_rad: 0.05,
        ..Motion::default()
    };
    conformance::run(&mut arm, motion).await.expect("conforms");
}

#[tokio::test]
async fn tracker_delivers_after_its_latency_in_the_base_frame() {
    let sim = sim("shuffleboard.toml");
    let truth = sim.scene().space.nominal();
    let cfg = LabConfig {
        pose_latency_ms: 30.0,
        noise_scale: 0.0,
        pose_jitter_probability: 0.0,
        ..LabConfig::default()
    };
    let (mut arm, mut tracker) = SimLab::new(&sim, &truth, cfg).expect("lab");
    let s0 = arm.state().await.expect("state");
    assert!(
        tracker
            .poll(s0.stamp_ns + 29_000_000)
            .expect("poll")
            .is_empty()
    );
    let first = tracker.poll(s0.stamp_ns + 30_000_000).expect("poll");
    assert!(!first.is_empty(), "the t0 picture arrives after 30 ms");
    // Stamped late by the latency, as a tracker that does not account for its processing.
    assert!(first.iter().all(|p| p.stamp_ns == s0.stamp_ns + 30_000_000));
    let world = sim.world(&truth).expect("world");
    let b = &sim.scene().spec.arm.base;
    let base = asid_robot::urdf_pose(b.xyz_m, b.rpy_rad);
    for p in &first {
        let w = world.object_pose(&p.object).expect("tracked object exists");
        let expected = base.inverse() * w;
        let d = (expected.translation.vector
            - nalgebra::Vector3::new(p.p_m[0], p.p_m[1], p.p_m[2]))
        .norm();
        assert!(d < 1e-9, "{} off by {d} m", p.object);
    }
    let q = s0.q_cmd_rad.clone();
    for _ in 0..3 {
        arm.step(&ArmCommand::JointPosition { q_rad: q.clone() })
            .await
            .expect("step");
    }
    let s = arm.state().await.expect("state");
    let later = tracker.poll(s.stamp_ns + 30_000_000).expect("poll");
    // 3 periods of 0.1 s at the tracker's 100 Hz.
    assert_eq!(
        later.len(),
        30 * first.len(),
        "frames at the tracker's rate"
    );
}

/// Joint targets of a 0.3 rad/s ramp of joint 0 over `n` control periods from `q0`.
fn ramp(q0: &[f64], period_s: f64, n: usize) -> Vec<Vec<f64>> {
    (1..=n)
        .map(|k| {
            let mut q = q0.to_vec();
            q[0] += 0.3 * period_s * k as f64;
            q
        })
        .collect()
}

#[tokio::test]
async fn default_arm_lags_and_is_offset_ideal_arm_follows_exactly() {
    let sim = sim("shuffleboard.toml");
    let truth = sim.scene().space.nominal();
    let period = sim.scene().control_period_s();
    let mut worst = Vec::new();
    for cfg in [
        LabConfig {
            noise_scale: 0.0,
            ..LabConfig::default()
        },
        LabConfig::ideal(),
    ] {
        let (mut arm, _) = SimLab::new(&sim, &truth, cfg).expect("lab");
        let q0 = arm.state().await.expect("state").q_cmd_rad;
        let mut err: f64 = 0.0;
        for q in ramp(&q0, period, 5) {
            let s = arm
                .step(&ArmCommand::JointPosition { q_rad: q.clone() })
                .await
                .expect("step");
            assert_eq!(s.q_cmd_rad, q, "the state reports the command as given");
            let e = s.q_rad.iter().zip(&q).map(|(a, b)| (a - b).abs());
            err = err.max(e.fold(0.0, f64::max));
        }
        worst.push(err);
    }
    // Offsets of 2e-4 rad sigma on 7 joints, plus the lag of a ramp's start.
    assert!(worst[0] > 1e-4, "default lab tracks too well: {}", worst[0]);
    assert!(worst[1] < 1e-12, "ideal lab off by {}", worst[1]);
}

#[tokio::test]
async fn lag_shows_as_the_measured_joint_trailing_the_ramp() {
    let sim = sim("shuffleboard.toml");
    let truth = sim.scene().space.nominal();
    let period = sim.scene().control_period_s();
    let cfg = LabConfig {
        noise_scale: 0.0,
        tracking_offset_sigma_rad: 0.0,
        jitter_probability: 0.0,
        ..LabConfig::default()
    };
    let (mut arm, _) = SimLab::new(&sim, &truth, cfg).expect("lab");
    let q0 = arm.state().await.expect("state").q_cmd_rad;
    let targets = ramp(&q0, period, 3);
    let s = arm
        .step(&ArmCommand::JointPosition {
            q_rad: targets[0].clone(),
        })
        .await
        .expect("step");
    let trail = targets[0][0] - s.q_rad[0];
    assert!(trail > 1e-5, "joint 0 does not trail its command: {trail}");
    // Held still, it settles on the command.
    for _ in 0..20 {
        arm.step(&ArmCommand::JointPosition {
            q_rad: targets[0].clone(),
        })
        .await
        .expect("hold");
    }
    let s = arm.state().await.expect("state");
    assert!((s.q_rad[0] - targets[0][0]).abs() < 1e-6, "{:?}", s.q_rad);
}

#[tokio::test]
async fn same_seed_same_lab_other_seed_other_noise() {
    let sim = sim("shuffleboard.toml");
    let truth = sim.scene().space.nominal();
    let mut runs = Vec::new();
    for seed in [1, 1, 2] {
        let cfg = LabConfig {
            seed,
            ..LabConfig::default()
        };
        let (mut arm, _) = SimLab::new(&sim, &truth, cfg).expect("lab");
        let q = arm.state().await.expect("state").q_cmd_rad;
        let mut states = Vec::new();
        for _ in 0..5 {
            states.push(
                arm.step(&ArmCommand::JointPosition { q_rad: q.clone() })
                    .await
                    .expect("step"),
            );
        }
        runs.push(states);
    }
    assert_eq!(runs[0], runs[1]);
    assert_ne!(runs[0], runs[2]);
}

#[test]
fn bad_settings_are_named() {
    let sim = sim("shuffleboard.toml");
    let truth = sim.scene().space.nominal();
    let cfg = LabConfig {
        jitter_probability: 1.5,
        ..LabConfig::default()
    };
    let err = SimLab::new(&sim, &truth, cfg).err().expect("refused");
    assert!(err.to_string().contains("jitter_probability"), "{err}");
    assert!(err.to_string().contains("[0, 1]"), "{err}");
}
