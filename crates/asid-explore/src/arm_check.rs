//! The arm's verdict on a plan, before it is written: the joint targets the executor will send
//! (the same IK from the same start) run through a Franka control loop's own 1 kHz schedule and
//! interpolation ([`asid_franka::dry_run`]), the caller one tick late on every step as the loop
//! serves it and up to [`MAX_CHECKED_CALLER_DELAY_TICKS`], against [`ARM_LIMIT_FRACTION`] of the
//! robot file's velocity, acceleration and jerk limits (after libfranka's own margins).
//!
//! Plan-rate differences of the targets underestimate the 1 kHz peaks several times over (the
//! interpolating quintics, the segments shortened by the caller's delay), so the headroom is kept
//! where the arm measures it.

use asid_core::Scene;
use asid_core::scene::ActionSpec;
use asid_franka::{DryRunError, DryRunReport, RobotConfig};
use asid_sim::SimError;
use nalgebra::Isometry3;

/// Fraction of the robot's velocity, acceleration and jerk limits a plan may reach at the 1 kHz
/// peak: 20 % headroom for what the check does not see (a caller later than checked, rounding of
/// the arm's own differences).
pub const ARM_LIMIT_FRACTION: f64 = 0.8;

/// Caller delays checked, in ticks: 1 (how the loop serves every step) up to this.
pub const MAX_CHECKED_CALLER_DELAY_TICKS: u32 = 3;

/// Why a plan fails the arm check.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArmCheckError {
    /// An action has no joint target (IK, workspace, action box).
    #[error("plan action {index}: {source}")]
    Action {
        /// Action index.
        index: usize,
        /// Why.
        #[source]
        source: SimError,
    },
    /// The arm's control loop would refuse or interrupt the plan (at the checked fraction of the
    /// limits).
    #[error("the arm's 1 kHz interpolation at {percent:.0} % of the robot's limits: {source}")]
    Refused {
        /// The fraction of the limits checked, in percent.
        percent: f64,
        /// What the arm would refuse.
        #[source]
        source: DryRunError,
    },
}

/// The check for one scene's robot, control period and start.
#[derive(Debug, Clone)]
pub struct ArmCheck {
    config: RobotConfig,
    q_start_rad: Vec<f64>,
    world_from_tcp_start: Isometry3<f64>,
}

impl ArmCheck {
    /// The check of plans from the scene's start, or `None` when no Franka control loop can run
    /// the scene (not a 7-joint arm, or a control period that is not whole milliseconds).
    pub fn for_scene(scene: &Scene, arm: &asid_robot::Arm) -> Option<Self> {
        let mut config = RobotConfig::from_spec(&scene.robot, scene.control_period_s()).ok()?;
        config.limits = config.limits.scaled(ARM_LIMIT_FRACTION).ok()?;
        let (q_start_rad, world_from_tcp_start) = asid_sim::start_of(scene, arm).ok()?;
        Some(Self {
            config,
            q_start_rad,
            world_from_tcp_start,
        })
    }

    /// The joint targets of `actions` from the start: what the executor sends, one per period.
    pub fn joint_targets(
        &self,
        spec: &ActionSpec,
        arm: &asid_robot::Arm,
        actions: &[Vec<f64>],
    ) -> Result<Vec<Vec<f64>>, ArmCheckError> {
        let mut q = self.q_start_rad.clone();
        let mut tcp = self.world_from_tcp_start;
        let mut out = Vec::with_capacity(actions.len());
        for (index, a) in actions.iter().enumerate() {
            let (qn, tn) = asid_sim::command_for_action(spec, arm, &q, &tcp, a)
                .map_err(|source| ArmCheckError::Action { index, source })?;
            out.push(qn.clone());
            (q, tcp) = (qn, tn);
        }
        Ok(out)
    }

    /// Checks `actions` with every caller delay from 1 to [`MAX_CHECKED_CALLER_DELAY_TICKS`];
    /// returns the report with the highest peak ratio (relative to the reduced limits).
    pub fn check(
        &self,
        spec: &ActionSpec,
        arm: &asid_robot::Arm,
        actions: &[Vec<f64>],
    ) -> Result<DryRunReport, ArmCheckError> {
        let targets = self.joint_targets(spec, arm, actions)?;
        let run = |delay| {
            asid_franka::dry_run(&self.config, &self.q_start_rad, &targets, delay).map_err(
                |source| ArmCheckError::Refused {
                    percent: 100.0 * ARM_LIMIT_FRACTION,
                    source,
                },
            )
        };
        let mut worst = run(1)?;
        for delay in 2..=MAX_CHECKED_CALLER_DELAY_TICKS.min(self.config.coast_limit_ms) {
            let r = run(delay)?;
            if r.peak_ratio() > worst.peak_ratio() {
                worst = r;
            }
        }
        Ok(worst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{Constraint, Experiment, SimExperiment};

    fn fr3_sim() -> asid_sim::Simulator {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../scenes/shuffleboard_fr3.toml");
        asid_sim::Simulator::load(&file).expect("the FR3 scene loads")
    }

    #[test]
    fn plans_within_the_plan_rate_bounds_that_the_arm_would_refuse_are_rejected() {
        let sim = fr3_sim();
        let exp = SimExperiment::new(&sim);
        let check = exp.arm_check().expect("an FR3 scene is checked");
        let spec = &sim.scene().spec.arm.action;
        let theta = sim.scene().space.nominal();
        // Sideways steps of 5.5 mm and pauses in turn: the tool's plan-rate acceleration is
        // within its 0.6 m/s^2 bound, the joints' a sixth of their limits, yet the interpolation of a speed
        // that changes direction every period peaks several times higher at 1 kHz.
        let walk: Vec<Vec<f64>> = (0..exp.horizon())
            .map(|k| vec![0.0, if k % 2 == 0 { 0.0055 } else { 0.0 }])
            .collect();
        let nominal = sim.rollout(&theta, &walk).expect("the walk simulates");
        assert!(
            exp.violations(&nominal).is_empty(),
            "the plan-rate checks pass"
        );
        let err = check
            .check(spec, sim.arm(), &walk)
            .expect_err("the arm's loop would exceed 80 % of a limit");
        println!("{err}");
        assert!(
            matches!(&err, ArmCheckError::Refused { source, .. } if source.caller_delay_ticks >= 1),
            "{err}"
        );
        // The experiment refuses it for the arm.
        assert_eq!(exp.check_actions(&walk), Err(Constraint::ArmInterpolation));
        assert!(!exp.arm_accepts(&walk));

        // Standing still passes, with nothing moving (beyond the IK's rounding).
        let still = vec![vec![0.0, 0.0]; exp.horizon()];
        let r = check
            .check(spec, sim.arm(), &still)
            .expect("standing still");
        assert!(r.peak_ratio() < 1e-6, "{r:?}");
        // A gentle straight push (a smooth speed profile) passes with headroom reported.
        let push: Vec<Vec<f64>> = (0..exp.horizon())
            .map(|k| {
                let u = (std::f64::consts::PI * (k as f64 + 0.5) / exp.horizon() as f64).sin();
                vec![0.01 * u * u, 0.0]
            })
            .collect();
        let r = check.check(spec, sim.arm(), &push).expect("a gentle push");
        println!("gentle push: {:.0} % of a limit", 100.0 * r.peak_ratio());
        assert!(r.peak_ratio() > 0.0 && r.peak_ratio() <= 1.0, "{r:?}");
    }

    #[test]
    fn the_planner_writes_plans_the_check_passes() {
        let sim = fr3_sim();
        let exp = SimExperiment::new(&sim);
        let opts = crate::PlanOptions {
            prior_samples: 1,
            population: 8,
            iterations: 2,
            random_draws: 2,
            ..crate::PlanOptions::default()
        };
        let target = crate::Target::first_free_object(sim.scene());
        let (plan, _) = crate::plan_best(
            &exp,
            &crate::AUTO,
            target,
            &opts,
            ("shuffleboard_fr3", "scenes/shuffleboard_fr3.toml", 0.1),
            false,
        )
        .expect("a plan within the arm's limits");
        println!("rejections {:?}", plan.rejections);
        let check = exp.arm_check().expect("checked");
        let r = check
            .check(&sim.scene().spec.arm.action, sim.arm(), &plan.actions)
            .expect("the written plan passes");
        assert!(r.peak_ratio() <= 1.0);
    }
}
