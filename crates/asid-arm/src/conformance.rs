//! The conformance suite every arm backend must pass, so that the simulated lab, the Franka driver
//! and replay behave alike behind [`Arm`]. Each backend's tests call [`run`] on a fresh arm.

use crate::{Arm, ArmCommand, ArmError, ArmMode};

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
