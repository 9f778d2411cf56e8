//! Action sequences that respect the scene's action space: random exploration and bookkeeping of the
//! tool target, so planners never produce an action the simulator (or the arm) would refuse.

use asid_core::Scene;
use asid_core::scene::ActionSpec;
use rand::Rng;

/// The box each action component must lie in, and the workspace the tool target must stay in.
#[derive(Debug, Clone)]
pub struct ActionBounds {
    /// Per-component action limits.
    pub action: Vec<[f64; 2]>,
    /// Workspace of the tool target per axis for end-effector actions (x, y[, z]); empty otherwise.
    pub workspace: Vec<[f64; 2]>,
    /// Tool start position (end-effector actions).
    pub start: Vec<f64>,
}

impl ActionBounds {
    /// Bounds of a scene's action space.
    pub fn of(scene: &Scene) -> Self {
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
            },
        }
    }

    /// True for delta (end-effector) actions.
    pub fn is_delta(&self) -> bool {
        !self.workspace.is_empty()
    }

    /// Makes a proposed action sequence feasible: each component inside its limits and, for delta
    /// actions, the tool target inside the workspace (shrinking the step that would leave it).
    /// Returns the feasible sequence and how many components had to change.
    pub fn project(&self, actions: &[Vec<f64>]) -> (Vec<Vec<f64>>, usize) {
        let mut changed = 0;
        let mut pos = self.start.clone();
        let out = actions
            .iter()
            .map(|a| {
                a.iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let [lo, hi] = self.action[i];
                        let mut x = if v.is_finite() { v.clamp(lo, hi) } else { 0.0 };
                        if self.is_delta() {
                            let [wlo, whi] = self.workspace[i];
                            let next = (pos[i] + x).clamp(wlo, whi);
                            x = next - pos[i];
                            pos[i] = next;
                        }
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

    /// Random exploration: each action uniform in its box, kept feasible.
    pub fn random<R: Rng + ?Sized>(&self, horizon: usize, rng: &mut R) -> Vec<Vec<f64>> {
        let raw: Vec<Vec<f64>> = (0..horizon)
            .map(|_| {
                self.action
                    .iter()
                    .map(|[lo, hi]| rng.random_range(*lo..=*hi))
                    .collect()
            })
            .collect();
        self.project(&raw).0
    }
}
