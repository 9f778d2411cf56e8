//! Exploration parameterisations: a vector `z` in a box decodes into a feasible action sequence.

use asid_sim::ActionBounds;
use serde::{Deserialize, Serialize};

use crate::ExploreError;

/// How a plan is parameterised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DesignKind {
    /// Every action of the episode (the paper's open-loop 10 Hz x 20 steps).
    Actions,
    /// A few via points of the tool (or joint) path, followed at up to the largest step.
    Spline,
    /// A task-style primitive: approach the object, then push / strike through it along a direction,
    /// at a lateral offset and speed (and height for x-y-z actions).
    Primitive,
}

impl DesignKind {
    /// Parses `actions`, `spline` or `primitive`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "actions" => Some(Self::Actions),
            "spline" => Some(Self::Spline),
            "primitive" => Some(Self::Primitive),
            _ => None,
        }
    }
}

/// The object a primitive aims at: position and a characteristic half size.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Object position at the start.
    pub xyz_m: [f64; 3],
    /// Half of its largest horizontal extent.
    pub half_size_m: f64,
}

impl Target {
    /// The first free object of a scene (not fixed, not held), with half its largest horizontal extent.
    pub fn first_free_object(scene: &asid_core::Scene) -> Option<Self> {
        scene
            .spec
            .objects
            .iter()
            .find(|o| !o.fixed && o.attach.is_none())
            .map(|o| Self {
                xyz_m: o.pose.xyz_m,
                half_size_m: match &o.shape {
                    asid_core::Shape::Box { half_extents_m } => {
                        half_extents_m[0].max(half_extents_m[1])
                    }
                    asid_core::Shape::Sphere { radius_m }
                    | asid_core::Shape::Cylinder { radius_m, .. }
                    | asid_core::Shape::Capsule { radius_m, .. } => *radius_m,
                },
            })
    }
}

/// A parameterisation of exploration plans.
#[derive(Debug, Clone)]
pub struct Design {
    kind: DesignKind,
    bounds: ActionBounds,
    horizon: usize,
    via_points: usize,
    target: Option<Target>,
}

/// Via points of the spline parameterisation.
pub const VIA_POINTS: usize = 4;

impl Design {
    /// A design of `kind` for an action space, horizon and (for primitives) a target object.
    pub fn new(
        kind: DesignKind,
        bounds: ActionBounds,
        horizon: usize,
        target: Option<Target>,
    ) -> Result<Self, ExploreError> {
        if kind == DesignKind::Primitive && (!bounds.is_delta() || target.is_none()) {
            return Err(ExploreError::Unsupported(
                "the primitive parameterisation needs end-effector delta actions and a free object"
                    .into(),
            ));
        }
        Ok(Self {
            kind,
            bounds,
            horizon,
            via_points: VIA_POINTS.min(horizon.max(1)),
            target,
        })
    }

    /// The kind.
    pub fn kind(&self) -> DesignKind {
        self.kind
    }

    /// Number of design variables.
    pub fn dim(&self) -> usize {
        self.box_bounds().len()
    }

    /// Box of the design variables.
    pub fn box_bounds(&self) -> Vec<[f64; 2]> {
        match self.kind {
            DesignKind::Actions => (0..self.horizon)
                .flat_map(|_| self.bounds.action.iter().copied())
                .collect(),
            DesignKind::Spline => {
                let per = if self.bounds.is_delta() {
                    self.bounds.workspace.clone()
                } else {
                    self.bounds.action.clone()
                };
                (0..self.via_points)
                    .flat_map(|_| per.iter().copied())
                    .collect()
            }
            DesignKind::Primitive => {
                let t = self.target.map_or(0.05, |t| t.half_size_m);
                let max = self.bounds.action[0][1];
                let mut b = vec![
                    [-std::f64::consts::PI, std::f64::consts::PI],
                    [-t, t],
                    [0.2 * max, max],
                ];
                if self.bounds.workspace.len() == 3 {
                    b.push(self.bounds.workspace[2]);
                }
                b
            }
        }
    }

    /// The action sequence of design `z` (always inside the action box and the workspace).
    pub fn decode(&self, z: &[f64]) -> Vec<Vec<f64>> {
        let raw = match self.kind {
            DesignKind::Actions => z
                .chunks(self.bounds.action.len())
                .map(<[f64]>::to_vec)
                .collect(),
            DesignKind::Spline => self.decode_spline(z),
            DesignKind::Primitive => self.decode_primitive(z),
        };
        self.bounds.project(&raw).0
    }

    /// The same motion with its speed averaged over [`SMOOTHING_PERIODS`] control periods, see
    /// [`smoothed`].
    pub fn smoothed(&self, actions: &[Vec<f64>]) -> Vec<Vec<f64>> {
        smoothed(&self.bounds, actions)
    }
    /// [`runnable`] in this design's action space.
    pub fn runnable<E: crate::Experiment + ?Sized>(
        &self,
        exp: &E,
        actions: Vec<Vec<f64>>,
    ) -> (Vec<Vec<f64>>, bool) {
        runnable(exp, &self.bounds, actions)
    }

    /// Path targets through the via points, one per step.
    fn path(&self, z: &[f64]) -> Vec<Vec<f64>> {
        let d = if self.bounds.is_delta() {
            self.bounds.workspace.len()
        } else {
            self.bounds.action.len()
        };
        let mut points = vec![self.bounds.start.clone()];
        points.extend(z.chunks(d).map(<[f64]>::to_vec));
        let segs = points.len() - 1;
        (1..=self.horizon)
            .map(|h| {
                let s = h as f64 / self.horizon as f64 * segs as f64;
                let k = (s.floor() as usize).min(segs - 1);
                let u = s - k as f64;
                points[k]
                    .iter()
                    .zip(&points[k + 1])
                    .map(|(a, b)| a + (b - a) * u)
                    .collect()
            })
            .collect()
    }

    fn decode_spline(&self, z: &[f64]) -> Vec<Vec<f64>> {
        let path = self.path(z);
        if !self.bounds.is_delta() {
            return path;
        }
        self.follow(path.into_iter())
    }

    /// Deltas that follow a sequence of position targets at up to the largest step.
    fn follow(&self, targets: impl Iterator<Item = Vec<f64>>) -> Vec<Vec<f64>> {
        let mut pos = self.bounds.start.clone();
        targets
            .map(|t| {
                let a: Vec<f64> = t
                    .iter()
                    .zip(&pos)
                    .zip(&self.bounds.action)
                    .map(|((t, p), [lo, hi])| (t - p).clamp(*lo, *hi))
                    .collect();
                for (p, d) in pos.iter_mut().zip(&a) {
                    *p += d;
                }
                a
            })
            .collect()
    }

    fn decode_primitive(&self, z: &[f64]) -> Vec<Vec<f64>> {
        let Some(t) = self.target else {
            return vec![vec![0.0; self.bounds.action.len()]; self.horizon];
        };
        let (angle, offset, speed) = (z[0], z[1], z[2]);
        let dir = [angle.cos(), angle.sin()];
        let perp = [-dir[1], dir[0]];
        let clear = t.half_size_m + 0.04;
        let mut pre = vec![
            t.xyz_m[0] - clear * dir[0] + offset * perp[0],
            t.xyz_m[1] - clear * dir[1] + offset * perp[1],
        ];
        if self.bounds.workspace.len() == 3 {
            pre.push(z.get(3).copied().unwrap_or(self.bounds.start[2]));
        }
        // The approach ends inside the workspace (the projection would stop it at the edge).
        for (p, [lo, hi]) in pre.iter_mut().zip(&self.bounds.workspace) {
            *p = p.clamp(*lo, *hi);
        }
        // How far the push can go from the point before the object inside the workspace: the
        // whole push is slowed (below the design's lowest speed if it must) so that it ends
        // there, instead of being stopped at the edge (as abrupt as a start from rest).
        let room = (0..2)
            .map(|i| {
                let [lo, hi] = self.bounds.workspace[i];
                match dir[i] {
                    d if d > 1e-12 => (hi - pre[i]) / d,
                    d if d < -1e-12 => (lo - pre[i]) / d,
                    _ => f64::INFINITY,
                }
            })
            .fold(f64::INFINITY, f64::min)
            .max(0.0);
        let max = self.bounds.action[0][1];
        let mut pos = self.bounds.start.clone();
        let mut out = Vec::with_capacity(self.horizon);
        let mut pushing = false;
        let mut speed = speed;
        for step in 0..self.horizon {
            let mut a = vec![0.0; pos.len()];
            if !pushing {
                // Approach at half the largest step (a calm move; the push is the informative part).
                let gap: Vec<f64> = pre.iter().zip(&pos).map(|(q, p)| q - p).collect();
                let dist = gap.iter().map(|g| g * g).sum::<f64>().sqrt();
                let k = if dist > 0.5 * max {
                    0.5 * max / dist
                } else {
                    1.0
                };
                for i in 0..pos.len() {
                    a[i] = gap[i] * k;
                }
                if k >= 1.0 {
                    pushing = true;
                    speed = speed.min(room / (self.horizon - step - 1).max(1) as f64);
                }
            } else {
                a[0] = speed * dir[0];
                a[1] = speed * dir[1];
            }
            for (p, d) in pos.iter_mut().zip(&a) {
                *p += d;
            }
            out.push(a);
        }
        out
    }
}

/// A motion of end-effector deltas from rest with its speed averaged over [`SMOOTHING_PERIODS`]
/// control periods (joint-position plans are returned as they are): the acceleration builds up
/// over a few periods instead of jumping, which a real arm's 1 kHz interpolation follows without
/// overshooting. The planner and the random baseline try it for a sequence the arm's check
/// refuses. The average lags the motion by two periods, so the last two steps are left out
/// before it: the averaged motion ramps down to rest inside the horizon (a motion still moving
/// at full step when the plan ends stops as abruptly as one that starts from rest; measured on
/// the articulation start with the workspace to x 0.78, every such push was refused at its last
/// target). The result is projected again.
pub fn smoothed(bounds: &ActionBounds, actions: &[Vec<f64>]) -> Vec<Vec<f64>> {
    if !bounds.is_delta() {
        return actions.to_vec();
    }
    let keep = actions.len().saturating_sub(SMOOTHING_PERIODS - 1);
    let mut out = smooth(&actions[..keep], SMOOTHING_PERIODS);
    // A horizon shorter than the average: at rest, the length kept.
    let dim = actions.first().map_or(0, Vec::len);
    out.resize(actions.len(), vec![0.0; dim]);
    bounds.project(&out).0
}

/// `actions` as a plan would run them: unchanged when the arm's 1 kHz check accepts them,
/// otherwise [`smoothed`] (and `true`). The planner's candidates and the random baseline's walks
/// both go through it, so the comparison between them stays fair.
pub fn runnable<E: crate::Experiment + ?Sized>(
    exp: &E,
    bounds: &ActionBounds,
    actions: Vec<Vec<f64>>,
) -> (Vec<Vec<f64>>, bool) {
    if exp.arm_accepts(&actions) {
        (actions, false)
    } else {
        (smoothed(bounds, &actions), true)
    }
}

/// Control periods over which [`smoothed`] averages the speed.
pub const SMOOTHING_PERIODS: usize = 3;

/// The moving average of per-period steps over `width` periods (the sequence grows by
/// `width - 1`): the total move is kept, and a change of speed is spread over `width` periods.
fn smooth(steps: &[Vec<f64>], width: usize) -> Vec<Vec<f64>> {
    let Some(dim) = steps.first().map(Vec::len) else {
        return Vec::new();
    };
    let width = width.max(1);
    (0..steps.len() + width - 1)
        .map(|k| {
            (0..dim)
                .map(|i| {
                    (k.saturating_sub(width - 1)..=k.min(steps.len() - 1))
                        .map(|j| steps[j][i])
                        .sum::<f64>()
                        / width as f64
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn largest_change(steps: &[f64]) -> f64 {
        let mut last = 0.0;
        let mut worst: f64 = 0.0;
        for s in steps.iter().chain(std::iter::once(&0.0)) {
            worst = worst.max((s - last).abs());
            last = *s;
        }
        worst
    }

    #[test]
    fn smoothing_keeps_the_move_and_spreads_every_change() {
        let steps: Vec<Vec<f64>> = [0.006, 0.012, 0.012, 0.006]
            .iter()
            .map(|s| vec![*s, -*s])
            .collect();
        let out = smooth(&steps, 3);
        assert_eq!(out.len(), 6);
        for i in 0..2 {
            let before: f64 = steps.iter().map(|s| s[i]).sum();
            let after: f64 = out.iter().map(|s| s[i]).sum();
            assert!((before - after).abs() < 1e-15);
        }
        let xs: Vec<f64> = out.iter().map(|s| s[0]).collect();
        // The largest change was 6 mm per period; averaged over 3 periods it is a third of
        // the sum of three consecutive changes.
        assert!(largest_change(&xs) <= 0.004 + 1e-12, "{xs:?}");
        assert!((xs[0] - 0.002).abs() < 1e-15, "{xs:?}");
    }

    #[test]
    fn a_smoothed_primitive_keeps_the_box_the_workspace_and_the_horizon() {
        let bounds = ActionBounds {
            action: vec![[-0.05, 0.05]; 2],
            workspace: vec![[0.2, 0.75], [-0.3, 0.3]],
            start: vec![0.4, 0.0],
            max_step_change: vec![0.006; 2],
            start_step: Vec::new(),
        };
        let target = Target {
            xyz_m: [0.6, 0.1, 0.02],
            half_size_m: 0.04,
        };
        let d = Design::new(DesignKind::Primitive, bounds.clone(), 30, Some(target))
            .expect("a primitive design");
        let raw = d.decode(&[0.0, 0.0, 0.03]);
        let smoothed = d.smoothed(&raw);
        assert_eq!(smoothed.len(), 30);
        assert_eq!(d.smoothed(&smoothed).len(), 30);
        for i in 0..2 {
            let xs: Vec<f64> = smoothed.iter().map(|a| a[i]).collect();
            let rs: Vec<f64> = raw.iter().map(|a| a[i]).collect();
            assert!(largest_change(&xs) <= 0.006 + 1e-12, "{i}: {xs:?}");
            // From rest, the first step is a third of the raw one.
            assert!((xs[0] - rs[0] / 3.0).abs() < 1e-12, "{xs:?} vs {rs:?}");
        }
        let (mut pos, mut raw_pos) = (bounds.start.clone(), bounds.start.clone());
        for (a, r) in smoothed.iter().zip(&raw) {
            for i in 0..2 {
                pos[i] += a[i];
                raw_pos[i] += r[i];
                let [lo, hi] = bounds.workspace[i];
                assert!((lo - 1e-12..=hi + 1e-12).contains(&pos[i]), "{pos:?}");
            }
        }
        // It ends near where the raw push ends (the last periods' averages are cut at the
        // horizon, then braked).
        let gap = ((pos[0] - raw_pos[0]).powi(2) + (pos[1] - raw_pos[1]).powi(2)).sqrt();
        assert!(gap < 0.05, "{pos:?} vs {raw_pos:?}");
    }
}
