//! Action sequences that respect the scene's action space: random exploration and bookkeeping of the
//! tool target, so planners never produce an action the simulator (or the arm) would refuse.

use asid_core::Scene;
use asid_core::scene::ActionSpec;
use asid_robot::{Arm, IkOptions};
use nalgebra::{Isometry3, Translation3, Vector3};
use rand::Rng;

use crate::SimError;

/// Rounding allowance on workspace bounds (a micrometre: far below any tracking error).
const WORKSPACE_TOLERANCE_M: f64 = 1e-6;

/// The box each action component must lie in, and the workspace the tool target must stay in.
#[derive(Debug, Clone)]
pub struct ActionBounds {
    /// Per-component action limits.
    pub action: Vec<[f64; 2]>,
    /// Workspace of the tool target per axis for end-effector actions (x, y[, z]); empty otherwise.
    pub workspace: Vec<[f64; 2]>,
    /// Tool start position (end-effector actions).
    pub start: Vec<f64>,
    /// Largest change of a component's step between consecutive control steps (the motion starts
    /// from rest): bounds the acceleration a real arm is asked for. Empty: unbounded.
    pub max_step_change: Vec<f64>,
    /// The step the motion is already taking when the sequence starts (empty: at rest), e.g. when
    /// the rest of an episode is replanned mid-motion.
    pub start_step: Vec<f64>,
}

/// Tool acceleration that end-effector plans may ask for (per control step, as a change of the
/// step): about a fifteenth of Franka's 9 m/s^2 Cartesian limit. These plan-rate bounds shape the
/// search space only: a real arm's 1 kHz interpolation peaks several times above the plan-rate
/// acceleration (more so as its control loop starts every segment a tick late), so the planner
/// checks each candidate's headroom at the 1 kHz peak (`asid_explore::arm_check`).
pub const PLAN_TOOL_ACCELERATION_M_S2: f64 = 0.6;

/// Fraction of the joint acceleration limits plans may ask for at the plan rate (the safety
/// layer's plan-rate check; the 1 kHz peak is checked separately, see
/// [`PLAN_TOOL_ACCELERATION_M_S2`]).
pub const PLAN_JOINT_ACCELERATION_FRACTION: f64 = 0.25;

impl ActionBounds {
    /// Bounds of a scene's action space.
    pub fn of(scene: &Scene) -> Self {
        let period = scene.control_period_s();
        let tool_change = PLAN_TOOL_ACCELERATION_M_S2 * period * period;
        match &scene.spec.arm.action {
            ActionSpec::EeDeltaXy {
                max_step_m,
                start_xyz_m,
                workspace_xy_m,
                ..
            } => Self {
                action: vec![[-max_step_m, *max_step_m]; 2],
                workspace: workspace_xy_m.to_vec(),
                start: start_xyz_m[..2].to_vec(),
                max_step_change: vec![tool_change; 2],
                start_step: Vec::new(),
            },
            ActionSpec::EeDeltaXyz {
                max_step_m,
                start_xyz_m,
                workspace_m,
                ..
            } => Self {
                action: vec![[-max_step_m, *max_step_m]; 3],
                workspace: workspace_m.to_vec(),
                start: start_xyz_m.to_vec(),
                max_step_change: vec![tool_change; 3],
                start_step: Vec::new(),
            },
            ActionSpec::JointPosition { .. } => Self {
                action: scene
                    .robot
                    .limits
                    .position_min_rad
                    .iter()
                    .zip(&scene.robot.limits.position_max_rad)
                    .map(|(lo, hi)| [*lo, *hi])
                    .collect(),
                workspace: Vec::new(),
                start: scene
                    .spec
                    .arm
                    .initial_q_rad
                    .clone()
                    .unwrap_or_else(|| scene.robot.home_rad.clone()),
                max_step_change: scene
                    .robot
                    .limits
                    .acceleration_rad_s2
                    .iter()
                    .map(|a| PLAN_JOINT_ACCELERATION_FRACTION * a * period * period)
                    .collect(),
                start_step: Vec::new(),
            },
        }
    }

    /// True for delta (end-effector) actions.
    pub fn is_delta(&self) -> bool {
        !self.workspace.is_empty()
    }

    /// Makes a proposed action sequence feasible: each component inside its limits, its step
    /// changing by at most `max_step_change` per control step (from rest, and slowing down in time
    /// to end at rest: the last step is at most one change) and, for delta actions,
    /// the tool target inside the workspace (shrinking the step that would leave it).
    /// Returns the feasible sequence and how many components had to change.
    pub fn project(&self, actions: &[Vec<f64>]) -> (Vec<Vec<f64>>, usize) {
        let mut changed = 0;
        let mut pos = self.start.clone();
        let mut last_step = if self.start_step.len() == self.action.len() {
            self.start_step.clone()
        } else {
            vec![0.0; self.action.len()]
        };
        let horizon = actions.len();
        let out = actions
            .iter()
            .enumerate()
            .map(|(k, a)| {
                a.iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let [lo, hi] = self.action[i];
                        let wanted = if v.is_finite() { v } else { 0.0 };
                        // The step this component takes: the delta itself, or the joint move.
                        let (step, base) = if self.is_delta() {
                            (wanted, 0.0)
                        } else {
                            (wanted - pos[i], pos[i])
                        };
                        let mut step = match self.max_step_change.get(i) {
                            // Change by at most d per step, and never faster than the remaining
                            // steps can brake: the plan ends at rest.
                            Some(d) => {
                                let brake = (horizon - k) as f64 * d;
                                step.clamp(last_step[i] - d, last_step[i] + d)
                                    .clamp(-brake, brake)
                            }
                            None => step,
                        };
                        let mut x = (base + step).clamp(lo, hi);
                        if self.is_delta() {
                            let [wlo, whi] = self.workspace[i];
                            let next = (pos[i] + x).clamp(wlo, whi);
                            x = next - pos[i];
                            pos[i] = next;
                            step = x;
                        } else {
                            step = x - pos[i];
                            pos[i] = x;
                        }
                        last_step[i] = step;
                        if x != v {
                            changed += 1;
                        }
                        x
                    })
                    .collect()
            })
            .collect();
        (out, changed)
    }

    /// Random exploration a real arm can execute: a random walk in the action box whose change per
    /// step is uniform within a quarter of the box (from zero; joint targets at most 0.1 rad per
    /// step), so speeds change gradually; kept feasible.
    pub fn random<R: Rng + ?Sized>(&self, horizon: usize, rng: &mut R) -> Vec<Vec<f64>> {
        let mut current: Vec<f64> = if self.is_delta() {
            vec![0.0; self.action.len()]
        } else {
            self.start.clone()
        };
        let raw: Vec<Vec<f64>> = (0..horizon)
            .map(|_| {
                for (v, [lo, hi]) in current.iter_mut().zip(&self.action) {
                    // Joint targets: at most 0.1 rad per step (about 1 rad/s at 10 Hz).
                    let d = if self.is_delta() {
                        0.25 * (hi - lo)
                    } else {
                        (0.25 * (hi - lo)).min(0.1)
                    };
                    *v = (*v + rng.random_range(-d..=d)).clamp(*lo, *hi);
                }
                current.clone()
            })
            .collect();
        self.project(&raw).0
    }
}

/// Checks a scene action against the action space and turns it into the joint command at the end of
/// the next control step (and the tool target), starting from the commanded joints `q_cmd` and tool
/// target `tcp_target`. The simulator and the station's executor share it, so a real arm receives the
/// joint targets the model would.
pub fn command_for_action(
    spec: &ActionSpec,
    arm: &Arm,
    q_cmd: &[f64],
    tcp_target: &Isometry3<f64>,
    action: &[f64],
) -> Result<(Vec<f64>, Isometry3<f64>), SimError> {
    let dim = spec.dim(arm.dof());
    if action.len() != dim {
        return Err(SimError::ActionLength {
            got: action.len(),
            expected: dim,
        });
    }
    if let Some((index, &value)) = action.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(SimError::ActionOutOfRange {
            index,
            value,
            low: f64::NEG_INFINITY,
            high: f64::INFINITY,
        });
    }
    let check = |index: usize, value: f64, low: f64, high: f64| {
        if value < low - 1e-9 || value > high + 1e-9 {
            Err(SimError::ActionOutOfRange {
                index,
                value,
                low,
                high,
            })
        } else {
            Ok(())
        }
    };
    let ee_target = |delta: Vector3<f64>, ws: &[[f64; 2]]| -> Result<Isometry3<f64>, SimError> {
        let mut t = *tcp_target;
        t.translation = Translation3::from(t.translation.vector + delta);
        for (axis, [lo, hi]) in ws.iter().enumerate() {
            let v = t.translation.vector[axis];
            if v < lo - WORKSPACE_TOLERANCE_M || v > hi + WORKSPACE_TOLERANCE_M {
                return Err(SimError::Workspace {
                    axis,
                    value: v,
                    low: *lo,
                    high: *hi,
                });
            }
        }
        Ok(t)
    };
    let ee = match spec {
        ActionSpec::EeDeltaXy {
            max_step_m,
            workspace_xy_m,
            ..
        } => Some((*max_step_m, &workspace_xy_m[..])),
        ActionSpec::EeDeltaXyz {
            max_step_m,
            workspace_m,
            ..
        } => Some((*max_step_m, &workspace_m[..])),
        ActionSpec::JointPosition { .. } => None,
    };
    let target = match ee {
        Some((max_step_m, ws)) => {
            for (i, v) in action.iter().enumerate() {
                check(i, *v, -max_step_m, max_step_m)?;
            }
            // x-y actions keep the height: the missing z delta is zero.
            let delta = Vector3::new(action[0], action[1], action.get(2).copied().unwrap_or(0.0));
            Some(ee_target(delta, ws)?)
        }
        None => {
            for (i, v) in action.iter().enumerate() {
                check(i, *v, arm.q_min_rad[i], arm.q_max_rad[i])?;
            }
            None
        }
    };
    match target {
        Some(t) => {
            let q = arm
                .inverse_kinematics(q_cmd, &t, &IkOptions::default())
                .map_err(|e| SimError::Ik(e.to_string()))?;
            Ok((q, t))
        }
        None => {
            let q = action.to_vec();
            let t = arm.world_from_tcp(&q);
            Ok((q, t))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ActionBounds;

    #[test]
    fn projected_plans_start_and_end_at_rest_with_bounded_changes() {
        let d = 0.01;
        let b = ActionBounds {
            action: vec![[-0.075, 0.075]; 2],
            workspace: vec![[-10.0, 10.0]; 2],
            start: vec![0.0, 0.0],
            max_step_change: vec![d; 2],
            start_step: Vec::new(),
        };
        let wild: Vec<Vec<f64>> = (0..20)
            .map(|k| vec![if k % 2 == 0 { 0.075 } else { -0.075 }, 0.075])
            .collect();
        let (p, changed) = b.project(&wild);
        assert!(changed > 0);
        let mut last = [0.0, 0.0];
        for a in &p {
            for i in 0..2 {
                assert!((a[i] - last[i]).abs() <= d + 1e-12, "{p:?}");
                assert!(a[i].abs() <= 0.075 + 1e-12);
                last[i] = a[i];
            }
        }
        // One more change brings it to rest.
        assert!(last.iter().all(|s| s.abs() <= d + 1e-12), "{last:?}");
        // A steady push that the brake rule allows stays as asked in the middle of the plan.
        assert!((p[9][1] - 0.075).abs() < 1e-12, "{p:?}");
    }
}
