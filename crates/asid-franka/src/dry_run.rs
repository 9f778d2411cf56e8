//! The arm's view of a whole motion, offline: a sequence of plan-rate joint targets run through
//! the control loop's own schedule ([`Motion`]: the same code the 1 kHz loop thread runs, with the
//! arm's message ids counted here instead of received) and the interpolator, from rest to rest.
//!
//! The caller is modelled as the loop sees it: the first target starts the motion from rest; every
//! later target is served `caller_delay_ticks` states after the previous step was answered (at
//! least one: the loop answers a step and serves requests on the same state, before the caller
//! can react), so its segment starts that late and is shortened by it to keep the plan's grid;
//! after the last target the caller stops the motion, and the arm brakes to rest. Every command is
//! then checked the way the arm checks what it receives: velocity, acceleration and jerk as finite
//! differences of consecutive 1 kHz commands (from rest), against the interpolator's limits.

use asid_arm::ArmError;

use crate::config::{JointLimits, RobotConfig};
use crate::interp::{DT_S, Interpolator};
use crate::motion::Motion;

/// A motion the arm's control loop would refuse or interrupt.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{during}, the caller {caller_delay_ticks} ms late: {source}")]
pub struct DryRunError {
    /// Index of the target whose segment failed (`targets.len()`: the stop after the last one).
    pub index: usize,
    /// What was running: `target 4 of 20`, `the stop after the last target`.
    pub during: String,
    /// The caller delay modelled.
    pub caller_delay_ticks: u32,
    /// The limit or the reason.
    #[source]
    pub source: ArmError,
}

/// The largest finite difference of one kind over the run, relative to its limit.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Peak {
    /// Joint index.
    pub joint: usize,
    /// Largest absolute value.
    pub value: f64,
    /// That joint's limit.
    pub bound: f64,
}

impl Peak {
    /// `value / bound` (0 when nothing moved).
    pub fn ratio(&self) -> f64 {
        if self.bound > 0.0 {
            self.value / self.bound
        } else {
            0.0
        }
    }

    fn consider(&mut self, joint: usize, value: f64, bound: f64) {
        if value / bound > self.ratio() {
            *self = Self {
                joint,
                value,
                bound,
            };
        }
    }
}

/// What the arm would have received.
#[derive(Debug, Clone, PartialEq)]
pub struct DryRunReport {
    /// The caller delay modelled.
    pub caller_delay_ticks: u32,
    /// Commands sent, up to rest after the stop.
    pub ticks: u64,
    /// Largest command velocity (first differences) up to the stop (the final brake, as short as
    /// the limits allow, is checked but not counted).
    pub velocity: Peak,
    /// Largest command acceleration (second differences).
    pub acceleration: Peak,
    /// Largest command jerk (third differences).
    pub jerk: Peak,
}

impl DryRunReport {
    /// The largest of the three peak ratios.
    pub fn peak_ratio(&self) -> f64 {
        self.velocity
            .ratio()
            .max(self.acceleration.ratio())
            .max(self.jerk.ratio())
    }
}

/// Runs `targets` (one per control period of `config`) through the loop's schedule and the 1 kHz
/// interpolation from rest at `q_start_rad`, the caller `caller_delay_ticks` (1 up to the coast
/// limit) states late on every step, then the stop. Returns the peaks of what the arm would
/// receive, or the first target or command that it would refuse.
pub fn dry_run(
    config: &RobotConfig,
    q_start_rad: &[f64],
    targets: &[Vec<f64>],
    caller_delay_ticks: u32,
) -> Result<DryRunReport, DryRunError> {
    let fail = |index: usize, source: ArmError| DryRunError {
        index,
        during: if index < targets.len() {
            format!("target {} of {}", index + 1, targets.len())
        } else {
            "the stop after the last target".to_string()
        },
        caller_delay_ticks,
        source,
    };
    if caller_delay_ticks == 0 || caller_delay_ticks > config.coast_limit_ms {
        return Err(fail(
            0,
            ArmError::BadCommand(format!(
                "caller delay {caller_delay_ticks} ticks outside 1..={} (the loop serves a target \
                 one tick after answering at the earliest; later than the coast limit it brakes)",
                config.coast_limit_ms
            )),
        ));
    }
    let interp = Interpolator::new(config.limits.clone(), q_start_rad, config.coast_limit_ms)
        .map_err(|e| fail(0, e))?;
    let mut motion = Motion::new(interp, config.period_ticks());
    let mut diffs = Differences::at_rest(q_start_rad, &config.limits);
    let Some(first) = targets.first() else {
        return Ok(diffs.report(caller_delay_ticks, 0));
    };
    // The loop refuses an unreachable first target before it asks the arm to move.
    motion
        .interp()
        .check(first, motion.period_ticks())
        .map_err(|e| fail(0, e))?;
    motion.begin(q_start_rad, first).map_err(|e| fail(0, e))?;
    let (mut next, mut running) = (1, 0);
    let mut serve_at: Option<u64> = None;
    let mut stopping = false;
    // Far beyond any plan (10 min of arm time): keeps a bug from spinning forever.
    const MAX_TICKS: u64 = 600_000;
    for id in 0..MAX_TICKS {
        if motion.answered(id) {
            serve_at = Some(id + u64::from(caller_delay_ticks));
        }
        if serve_at == Some(id) {
            serve_at = None;
            if let Some(target) = targets.get(next) {
                motion.step(target).map_err(|e| fail(next, e))?;
                running = next;
                next += 1;
            } else {
                motion.brake();
                stopping = true;
                running = targets.len();
                // The brake is as short as the limits allow: checked, but its peaks say nothing
                // about the plan's headroom.
                diffs.counting = false;
            }
        }
        let ev = motion.tick(id);
        if ev.started_braking {
            return Err(fail(
                running,
                ArmError::Stopped(
                    "the arm would brake between segments (coasting ran out or would exceed a \
                     speed limit)"
                        .into(),
                ),
            ));
        }
        diffs
            .push(motion.interp().q_rad())
            .map_err(|e| fail(running, e))?;
        if stopping && motion.at_rest() {
            return Ok(diffs.report(caller_delay_ticks, id + 1));
        }
    }
    Err(fail(
        running,
        ArmError::Backend(format!("the motion did not end within {MAX_TICKS} ticks")),
    ))
}

/// The last three commands and the peaks of their finite differences.
struct Differences<'a> {
    limits: &'a JointLimits,
    /// Peaks are taken (not during the final brake).
    counting: bool,
    /// Newest last.
    q: [Vec<f64>; 4],
    velocity: Peak,
    acceleration: Peak,
    jerk: Peak,
}

impl<'a> Differences<'a> {
    fn at_rest(q: &[f64], limits: &'a JointLimits) -> Self {
        Self {
            limits,
            counting: true,
            q: [q.to_vec(), q.to_vec(), q.to_vec(), q.to_vec()],
            velocity: Peak::default(),
            acceleration: Peak::default(),
            jerk: Peak::default(),
        }
    }

    fn push(&mut self, q: &[f64]) -> Result<(), ArmError> {
        self.q.rotate_left(1);
        self.q[3].copy_from_slice(q);
        let l = self.limits;
        let [q0, q1, q2, q3] = &self.q;
        for i in 0..q.len() {
            let v = (q3[i] - q2[i]) / DT_S;
            let a = (q3[i] - 2.0 * q2[i] + q1[i]) / (DT_S * DT_S);
            let j = (q3[i] - 3.0 * q2[i] + 3.0 * q1[i] - q0[i]) / (DT_S * DT_S * DT_S);
            for (kind, value, bound, unit, peak) in [
                (
                    "joint velocity",
                    v.abs(),
                    l.velocity_rad_s[i],
                    "rad/s",
                    &mut self.velocity,
                ),
                (
                    "joint acceleration",
                    a.abs(),
                    l.acceleration_rad_s2[i],
                    "rad/s^2",
                    &mut self.acceleration,
                ),
                (
                    "joint jerk",
                    j.abs(),
                    l.jerk_rad_s3[i],
                    "rad/s^3",
                    &mut self.jerk,
                ),
            ] {
                // A rounding allowance: the extrema checks bound the same signal exactly.
                if value > bound * (1.0 + 1e-9) {
                    return Err(ArmError::Limit {
                        limit: kind,
                        subject: l.names[i].clone(),
                        value,
                        bound,
                        unit,
                    });
                }
                if self.counting {
                    peak.consider(i, value, bound);
                }
            }
        }
        Ok(())
    }

    fn report(&self, caller_delay_ticks: u32, ticks: u64) -> DryRunReport {
        DryRunReport {
            caller_delay_ticks,
            ticks,
            velocity: self.velocity,
            acceleration: self.acceleration,
            jerk: self.jerk,
        }
    }
}

#[cfg(test)]
#[path = "dry_run_tests.rs"]
mod tests;
