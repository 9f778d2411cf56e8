//! The conformance suite every arm backend must pass, so that the simulated lab, the Franka driver
//! and replay behave alike behind [`Arm`]. Each backend's tests call [`run`] on a fresh arm, and
//! [`gripper`] on a gripper with nothing between its fingers.

use crate::{Arm, ArmCommand, ArmError, ArmMode, Gripper, GripperLimits};

/// What the suite saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Control periods stepped.
    pub steps: usize,
    /// Largest gap between consecutive state stamps, in control periods.
    pub max_stamp_gap_periods: f64,
    /// Smallest gap, in control periods.
    pub min_stamp_gap_periods: f64,
    /// Largest |measured - commanded| joint position after the settle periods.
    pub final_tracking_error_rad: f64,
}

/// How the suite moves the arm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Motion {
    /// Joint that moves (index).
    pub joint: usize,
    /// Amplitude of its half-sine excursion.
    pub amplitude_rad: f64,
    /// Control periods of the excursion.
    pub steps: usize,
    /// Control periods holding the final target before tracking is measured.
    pub settle_steps: usize,
    /// Allowed final tracking error.
    pub tolerance_rad: f64,
}

impl Default for Motion {
    fn default() -> Self {
        Self {
            joint: 3,
            amplitude_rad: 0.05,
            steps: 20,
            settle_steps: 10,
            tolerance_rad: 0.02,
        }
    }
}

fn fail(what: &str, detail: impl std::fmt::Display) -> String {
    format!("conformance: {what}: {detail}")
}

/// Runs the suite: sane capabilities and state; a bad command is refused without effect; stepping
/// advances the arm clock by one control period; joints follow a smooth excursion and settle on
/// the target; `stop` ends the session and later steps are refused with [`ArmError::Stopped`].
pub async fn run<A: Arm>(arm: &mut A, motion: Motion) -> Result<Report, String> {
    let caps = arm.capabilities().clone();
    if caps.dof == 0 || motion.joint >= caps.dof {
        return Err(fail("capabilities", format!("dof {}", caps.dof)));
    }
    let period = caps.control_period_s;
    if !(period.is_finite() && period > 0.0) {
        return Err(fail("capabilities", format!("control period {period} s")));
    }
    let s0 = arm.state().await.map_err(|e| fail("state", e))?;
    for (name, v) in [
        ("q_rad", &s0.q_rad),
        ("dq_rad_s", &s0.dq_rad_s),
        ("q_cmd_rad", &s0.q_cmd_rad),
    ] {
        if v.len() != caps.dof || v.iter().any(|x| !x.is_finite()) {
            return Err(fail("state", format!("{name} = {v:?}")));
        }
    }
    let bad = ArmCommand::JointPosition {
        q_rad: vec![0.0; caps.dof + 1],
    };
    match arm.step(&bad).await {
        Err(ArmError::BadCommand(_)) => {}
        other => return Err(fail("wrong-length command", format!("{other:?}"))),
    }
    let mut gaps = Vec::new();
    let mut last = arm.state().await.map_err(|e| fail("state", e))?.stamp_ns;
    let base = s0.q_cmd_rad.clone();
    let mut target = base.clone();
    let total = motion.steps + motion.settle_steps;
    let mut state = s0;
    for k in 1..=total {
        let u = (k.min(motion.steps) as f64) / motion.steps as f64;
        // Half-cosine: starts and ends at rest.
        target[motion.joint] = base[motion.joint]
            + motion.amplitude_rad * 0.5 * (1.0 - (std::f64::consts::PI * u).cos());
        state = arm
            .step(&ArmCommand::JointPosition {
                q_rad: target.clone(),
            })
            .await
            .map_err(|e| fail(&format!("step {k}"), e))?;
        if state.stamp_ns <= last {
            return Err(fail(
                "clock",
                format!("stamp {} after {last}", state.stamp_ns),
            ));
        }
        gaps.push((state.stamp_ns - last) as f64 * 1e-9 / period);
        last = state.stamp_ns;
    }
    let err = state
        .q_rad
        .iter()
        .zip(&target)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    if err > motion.tolerance_rad {
        return Err(fail(
            "tracking",
            format!("{err} rad > {} rad", motion.tolerance_rad),
        ));
    }
    let (min_gap, max_gap) = gaps.iter().fold((f64::INFINITY, 0.0_f64), |(lo, hi), g| {
        (lo.min(*g), hi.max(*g))
    });
    if !(0.5..=2.0).contains(&min_gap) || max_gap > 3.0 {
        return Err(fail(
            "clock",
            format!("steps lasted {min_gap:.2}..{max_gap:.2} control periods"),
        ));
    }
    let end = arm.stop().await.map_err(|e| fail("stop", e))?;
    if end.mode != ArmMode::Stopped && end.mode != ArmMode::Idle {
        return Err(fail("stop", format!("mode {:?}", end.mode)));
    }
    match arm.step(&ArmCommand::Hold).await {
        Err(ArmError::Stopped(_)) => {}
        other => return Err(fail("step after stop", format!("{other:?}"))),
    }
    Ok(Report {
        steps: total,
        max_stamp_gap_periods: max_gap,
        min_stamp_gap_periods: min_gap,
        final_tracking_error_rad: err,
    })
}

/// What the gripper suite saw.
#[derive(Debug, Clone, PartialEq)]
pub struct GripperReport {
    /// Opening measured by homing.
    pub max_width_m: f64,
    /// |width - target| after a move to half the opening.
    pub move_error_m: f64,
    /// Opening after a grasp on nothing.
    pub empty_grasp_width_m: f64,
}

/// Runs the gripper suite on a gripper with nothing between its fingers: homing opens it (a
/// positive maximum width, the opening at it); a move reaches its target within 2 mm; commands
/// outside `limits` (force, speed, width) are refused with [`ArmError::OutOfRange`] and move
/// nothing; a grasp on nothing closes the fingers (below 5 mm) and holds nothing, and answers false
/// when a 4 cm object was expected; `stop` is accepted.
pub async fn gripper<G: Gripper>(
    g: &mut G,
    limits: &GripperLimits,
) -> Result<GripperReport, String> {
    let g_fail = |what: &str, detail: &dyn std::fmt::Display| format!("gripper {what}: {detail}");
    g.homing().await.map_err(|e| g_fail("homing", &e))?;
    let homed = g.read().await.map_err(|e| g_fail("read", &e))?;
    if !(homed.max_width_m > 0.0 && (homed.width_m - homed.max_width_m).abs() < 0.002) {
        return Err(g_fail("homing", &format!("{homed:?}")));
    }
    let half = 0.5 * homed.max_width_m;
    let speed = 0.5 * limits.max_speed_m_s;
    g.move_to(half, speed)
        .await
        .map_err(|e| g_fail("move", &e))?;
    let moved = g.read().await.map_err(|e| g_fail("read", &e))?;
    let move_error_m = (moved.width_m - half).abs();
    if move_error_m > 0.002 {
        return Err(g_fail("move", &format!("to {half} m: {moved:?}")));
    }
    let over_force = g
        .grasp(0.0, speed, 1.5 * limits.max_force_n, 0.005, 0.005)
        .await;
    let over_speed = g.move_to(0.0, 2.0 * limits.max_speed_m_s).await;
    let over_width = g.move_to(limits.max_width_m + 0.01, speed).await;
    for (what, r) in [
        ("force", over_force.map(|_| ())),
        ("speed", over_speed),
        ("width", over_width),
    ] {
        if !matches!(r, Err(ArmError::OutOfRange { .. })) {
            return Err(g_fail(
                &format!("{what} above the limit"),
                &format!("{r:?}"),
            ));
        }
    }
    let after = g.read().await.map_err(|e| g_fail("read", &e))?;
    if (after.width_m - moved.width_m).abs() > 1e-6 {
        return Err(g_fail(
            "refused commands",
            &format!(
                "moved the fingers from {} to {} m",
                moved.width_m, after.width_m
            ),
        ));
    }
    let held = g
        .grasp(0.04, speed, 0.5 * limits.max_force_n, 0.005, 0.005)
        .await
        .map_err(|e| g_fail("grasp", &e))?;
    let empty = g.read().await.map_err(|e| g_fail("read", &e))?;
    if held || empty.is_grasping || empty.width_m > 0.005 {
        return Err(g_fail(
            "grasp on nothing",
            &format!("answered {held}, {empty:?}"),
        ));
    }
    g.stop().await.map_err(|e| g_fail("stop", &e))?;
    Ok(GripperReport {
        max_width_m: homed.max_width_m,
        move_error_m,
        empty_grasp_width_m: empty.width_m,
    })
}
