//! Each safety limit refuses (or stops) with the limit, the joint or axis, the value and the bound,
//! and nothing reaches the arm.

use std::path::Path;

use asid_arm::dummy::DummyArm;
use asid_arm::{Arm, ArmCommand, ArmError, Safe, SafetyLimits, StopSignal};

const ROBOT: &str = "../../robots/fr3/robot.toml";

fn setup(period_s: f64) -> (Safe<DummyArm>, Vec<f64>) {
    setup_with(period_s, |_| {})
}

/// Like `setup`, with the limits adjusted (e.g. to test one limit without tripping another).
fn setup_with(period_s: f64, adjust: impl FnOnce(&mut SafetyLimits)) -> (Safe<DummyArm>, Vec<f64>) {
    let spec: asid_core::RobotSpec = asid_core::read_toml(Path::new(ROBOT)).expect("robot file");
    let kin = asid_robot::arm_from_robot_file(Path::new(ROBOT)).expect("kinematics");
    let mut limits = SafetyLimits::from_robot(&spec);
    limits.workspace_m = Some([[0.2, 0.4], [-0.3, 0.3], [0.05, 0.8]]);
    limits.tool_speed_max_m_s = 0.5;
    limits.f_ext_max_n = 20.0;
    limits.watchdog_ms = 50;
    limits.start_timeout_ms = 0;
    adjust(&mut limits);
    let arm = DummyArm::new(
        spec.home_rad.clone(),
        spec.limits.position_min_rad.clone(),
        spec.limits.position_max_rad.clone(),
        period_s,
    );
    (
        Safe::new(arm, limits, Some(kin), StopSignal::new()).expect("limits fit the arm"),
        spec.home_rad,
    )
}

fn cmd(q: &[f64]) -> ArmCommand {
    ArmCommand::JointPosition { q_rad: q.to_vec() }
}

fn expect_limit(r: Result<asid_arm::ArmState, ArmError>, limit: &str, subject: &str) -> f64 {
    match r {
        Err(ArmError::Limit {
            limit: l,
            subject: s,
            value,
            bound,
            ..
        }) => {
            assert_eq!(l, limit);
            assert_eq!(s, subject);
            let msg = ArmError::Limit {
                limit: l,
                subject: s.clone(),
                value,
                bound,
                unit: "",
            }
            .to_string();
            assert!(msg.contains(&s) && msg.contains(limit), "{msg}");
            value
        }
        other => panic!("expected a {limit} refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn joint_position_limit_refuses_and_sends_nothing() {
    let (mut arm, home) = setup(0.01);
    let mut q = home.clone();
    q[3] = -0.10; // fr3_joint4 max is -0.1518 (minus the margin)
    let before = arm.state().await.expect("state");
    expect_limit(arm.step(&cmd(&q)).await, "joint position", "fr3_joint4");
    let after = arm.state().await.expect("state");
    assert_eq!(before, after, "a refused command must not reach the arm");
    assert_eq!(arm.refusals(), 1);
}

#[tokio::test]
async fn joint_velocity_limit() {
    // Acceleration unbounded here, so a jump from rest tests the speed limit alone.
    let (mut arm, home) = setup_with(0.01, |l| l.ddq_max_rad_s2 = vec![1e9; 7]);
    let mut q = home.clone();
    // The flange joint: the tool centre point is on its axis, so only the joint limit applies.
    q[6] += 0.06; // 6 rad/s over 10 ms > 5.26
    let v = expect_limit(arm.step(&cmd(&q)).await, "joint velocity", "fr3_joint7");
    assert!((v - 6.0).abs() < 1e-9);
    q[6] = home[6] + 0.05; // 5 rad/s: allowed
    arm.step(&cmd(&q)).await.expect("within the velocity limit");
}

#[tokio::test]
async fn joint_acceleration_limit() {
    let (mut arm, home) = setup(0.01);
    let mut q = home.clone();
    q[1] += 0.0005; // 0.05 rad/s
    arm.step(&cmd(&q)).await.expect("slow start");
    q[1] += 0.0025; // 0.25 rad/s after 0.05: 20 rad/s^2 > 10
    expect_limit(arm.step(&cmd(&q)).await, "joint acceleration", "fr3_joint2");
}

#[tokio::test]
async fn workspace_box() {
    let (mut arm, home) = setup(1.0);
    let mut q = home.clone();
    // Ready pose: tool at x = 0.31; unfolding the elbow reaches past x = 0.4.
    q[3] = -1.2;
    let r = arm.step(&cmd(&q)).await;
    match r {
        Err(ArmError::Limit {
            limit: "workspace",
            ref subject,
            ..
        }) => assert!(subject.starts_with("tool ")),
        other => panic!("expected a workspace refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn tool_speed_limit() {
    let (mut arm, home) = setup_with(0.1, |l| l.ddq_max_rad_s2 = vec![1e9; 7]);
    let mut q = home.clone();
    q[0] += 0.2; // ~0.06 m in 0.1 s = 0.6 m/s > 0.5 m/s, joint speed 2 rad/s is allowed
    let v = expect_limit(arm.step(&cmd(&q)).await, "tool speed", "tool");
    assert!(v > 0.5);
}

#[tokio::test]
async fn external_force_stops_the_arm() {
    let (mut arm, home) = setup(0.01);
    arm.inner_mut().f_ext_n = Some([0.0, 0.0, -25.0]);
    let v = expect_limit(arm.step(&cmd(&home)).await, "external force", "tool");
    assert!((v - 25.0).abs() < 1e-9);
    match arm.step(&cmd(&home)).await {
        Err(ArmError::Stopped(_)) => {}
        other => panic!("after a force stop every step is refused, got {other:?}"),
    }
    let s = arm.inner_mut().state().await.expect("state");
    assert_eq!(
        s.mode,
        asid_arm::ArmMode::Stopped,
        "the arm itself was stopped"
    );
}

#[tokio::test(start_paused = true)]
async fn watchdog_allows_a_slow_motion_start_only() {
    let (mut arm, home) = setup(0.01);
    let spec: asid_core::RobotSpec = asid_core::read_toml(Path::new(ROBOT)).expect("robot file");
    let mut limits = SafetyLimits::from_robot(&spec);
    limits.watchdog_ms = 50;
    limits.start_timeout_ms = 2000;
    let mut slow =
        Safe::new(arm.inner().clone(), limits, None, StopSignal::new()).expect("limits fit");
    slow.inner_mut().hang = true;
    let t0 = tokio::time::Instant::now();
    match slow.step(&cmd(&home)).await {
        Err(ArmError::LinkLost { silent_ms, .. }) => assert_eq!(silent_ms, 2010),
        other => panic!("expected the start timeout, got {other:?}"),
    }
    assert!(t0.elapsed() >= std::time::Duration::from_millis(2010));
    // After a first step, the plain watchdog applies.
    arm.step(&cmd(&home)).await.expect("first step");
    arm.inner_mut().hang = true;
    match arm.step(&cmd(&home)).await {
        Err(ArmError::LinkLost { silent_ms, .. }) => assert_eq!(silent_ms, 60),
        other => panic!("expected the watchdog, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn watchdog_stops_a_silent_arm() {
    let (mut arm, home) = setup(0.01);
    arm.inner_mut().hang = true;
    match arm.step(&cmd(&home)).await {
        Err(ArmError::LinkLost { limit_ms, .. }) => assert_eq!(limit_ms, 50),
        other => panic!("expected the watchdog, got {other:?}"),
    }
    let s = arm.inner_mut().state().await.expect("state");
    assert_eq!(s.mode, asid_arm::ArmMode::Stopped);
}

#[tokio::test]
async fn stop_signal_stops_at_the_next_period() {
    let (mut arm, home) = setup(0.01);
    let signal = StopSignal::new();
    let spec: asid_core::RobotSpec = asid_core::read_toml(Path::new(ROBOT)).expect("robot file");
    let mut arm2 = Safe::new(
        DummyArm::new(
            home.clone(),
            spec.limits.position_min_rad.clone(),
            spec.limits.position_max_rad.clone(),
            0.01,
        ),
        SafetyLimits::from_robot(&spec),
        None,
        signal.clone(),
    )
    .expect("limits fit");
    arm2.step(&cmd(&home))
        .await
        .expect("runs before the signal");
    signal.raise("Ctrl-C");
    match arm2.step(&cmd(&home)).await {
        Err(ArmError::Stopped(why)) => assert_eq!(why, "Ctrl-C"),
        other => panic!("expected a stop, got {other:?}"),
    }
    // The other arm is unaffected.
    arm.step(&cmd(&home)).await.expect("independent arm");
}

#[tokio::test]
async fn non_finite_target_is_refused() {
    let (mut arm, home) = setup(0.01);
    let mut q = home;
    q[5] = f64::NAN;
    expect_limit(arm.step(&cmd(&q)).await, "joint position", "fr3_joint6");
}

#[tokio::test]
async fn first_command_acceleration_counts_from_rest() {
    let (mut arm, home) = setup(0.01);
    let mut q = home.clone();
    q[6] += 0.02; // 2 rad/s within one 10 ms period from rest: 200 rad/s^2
    expect_limit(arm.step(&cmd(&q)).await, "joint acceleration", "fr3_joint7");
}

#[tokio::test]
async fn a_nan_force_stops_the_arm() {
    let (mut arm, home) = setup(0.01);
    arm.inner_mut().f_ext_n = Some([f64::NAN, 0.0, 0.0]);
    expect_limit(arm.step(&cmd(&home)).await, "external force", "tool");
}

#[test]
fn limits_that_miss_a_joint_are_refused() {
    let spec: asid_core::RobotSpec = asid_core::read_toml(Path::new(ROBOT)).expect("robot file");
    let mut limits = SafetyLimits::from_robot(&spec);
    limits.ddq_max_rad_s2.pop();
    let arm = DummyArm::new(
        spec.home_rad.clone(),
        spec.limits.position_min_rad.clone(),
        spec.limits.position_max_rad.clone(),
        0.01,
    );
    let err = Safe::new(arm, limits, None, StopSignal::new())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("ddq_max_rad_s2"), "{err}");
}
