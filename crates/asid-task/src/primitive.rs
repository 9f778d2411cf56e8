//! The slide-to-zone primitive: push or strike along the line from the object to a goal zone.
//!
//! The tool first moves (gently) to a pre-push point behind the object on that line, as far from the
//! object as the arm's start position is (the line may be turned by an aim offset the planner
//! chooses, when the task allows it); then it accelerates at most at the task's `accel_mps2` to
//! (at most) the chosen speed, travels exactly the chosen distance along the line and brakes at the
//! same rate; then it holds still while the object slides or rolls out. Two numbers:
//! `[speed_mps, travel_m]`.

use asid_core::scene::ActionSpec;
use asid_core::{GoalZone, Scene, TaskSpec};
use asid_sim::{SimWorld, Simulator};
use serde::{Deserialize, Serialize};

use crate::TaskError;

/// Where an attempt left the object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Final position of the object's centre on the table.
    pub object_xy_m: [f64; 2],
    /// Distance from the object's centre to the goal zone (0 inside).
    pub distance_m: f64,
    /// The object's centre is inside the zone.
    pub success: bool,
    /// The object had come to rest when the attempt ended.
    pub at_rest: bool,
}

/// An object counts as at rest below this speed...
pub const REST_SPEED_MPS: f64 = 0.003;
/// ... and this rate of rolling (angular velocity about a horizontal axis).
pub const REST_SPIN_RAD_S: f64 = 0.1;

/// One goal of a slide-to-zone task, ready to turn primitive parameters into actions.
#[derive(Debug, Clone)]
pub struct SlideTask {
    /// The task as the scene declares it.
    pub spec: TaskSpec,
    /// The goal zone.
    pub goal: GoalZone,
    start_xy_m: [f64; 2],
    object_xy_m: [f64; 2],
    max_step_m: f64,
    period_s: f64,
}

impl SlideTask {
    /// The task of `scene` towards goal `goal` (by name; `None`: the first goal).
    pub fn new(scene: &Scene, goal: Option<&str>) -> Result<Self, TaskError> {
        let spec = scene
            .spec
            .task
            .as_ref()
            .and_then(|t| t.slide())
            .cloned()
            .ok_or_else(|| TaskError::NoTask(scene.path.display().to_string()))?;
        let g = match goal {
            None => spec.goals[0].clone(),
            Some(name) => spec
                .goals
                .iter()
                .find(|g| g.name == name)
                .cloned()
                .ok_or_else(|| TaskError::UnknownGoal {
                    name: name.into(),
                    allowed: spec.goals.iter().map(|g| g.name.clone()).collect(),
                })?,
        };
        let ActionSpec::EeDeltaXy {
            max_step_m,
            start_xyz_m,
            ..
        } = scene.spec.arm.action
        else {
            return Err(TaskError::Config(
                "task.kind: slide_to_zone needs ee_delta_xy actions".into(),
            ));
        };
        let obj = scene
            .spec
            .objects
            .iter()
            .find(|o| o.name == spec.object)
            .ok_or_else(|| TaskError::Config(format!("task.object `{}`", spec.object)))?;
        let period_s = scene.control_period_s();
        // A diagonal line needs the speed per axis; the largest speed must fit one step per axis.
        if spec.speed_mps[1] * period_s > max_step_m * (1.0 + 1e-9) {
            return Err(TaskError::Config(format!(
                "{}: task.speed_mps high end {} m/s needs {:.4} m per control step; the action \
                 space allows {} m (allowed: speed_mps <= max_step_m / control period = {:.3})",
                scene.path.display(),
                spec.speed_mps[1],
                spec.speed_mps[1] * period_s,
                max_step_m,
                max_step_m / period_s
            )));
        }
        let p = obj.pose.xyz_m;
        Ok(Self {
            goal: g,
            spec,
            start_xy_m: [start_xyz_m[0], start_xyz_m[1]],
            object_xy_m: [p[0], p[1]],
            max_step_m,
            period_s,
        })
    }

    /// The primitive's parameter box: `[speed_mps, travel_m]`, and `aim_rad` when the task lets
    /// the planner aim.
    pub fn bounds(&self) -> Vec<[f64; 2]> {
        let mut b = vec![self.spec.speed_mps, self.spec.travel_m];
        b.extend(self.spec.aim_rad);
        b
    }

    /// The object's position on the table before the push (the scene's pose).
    pub fn object_start_xy_m(&self) -> [f64; 2] {
        self.object_xy_m
    }

    /// Unit push direction (object towards the goal's centre, turned by `aim_rad`) and the pre-push
    /// point.
    pub fn line(&self, aim_rad: f64) -> ([f64; 2], [f64; 2]) {
        let d = [
            self.goal.center_xy_m[0] - self.object_xy_m[0],
            self.goal.center_xy_m[1] - self.object_xy_m[1],
        ];
        let n = d[0].hypot(d[1]).max(1e-9);
        let (s, c) = aim_rad.sin_cos();
        let u = [(c * d[0] - s * d[1]) / n, (s * d[0] + c * d[1]) / n];
        let standoff = (self.object_xy_m[0] - self.start_xy_m[0])
            .hypot(self.object_xy_m[1] - self.start_xy_m[1]);
        let pre = [
            self.object_xy_m[0] - u[0] * standoff,
            self.object_xy_m[1] - u[1] * standoff,
        ];
        (u, pre)
    }

    /// The actions of one attempt for `x` (see [`Self::bounds`]), padded with holds to the task's
    /// horizon; the second value is the number of actions before the holds.
    pub fn actions(&self, x: &[f64]) -> Result<(Vec<Vec<f64>>, usize), TaskError> {
        let b = self.bounds();
        if x.len() != b.len()
            || x.iter()
                .zip(&b)
                .any(|(v, [lo, hi])| !(lo..=hi).contains(&v))
        {
            return Err(TaskError::Primitive(format!(
                "parameters {x:?} outside the box {b:?} (speed_mps, travel_m, aim_rad)"
            )));
        }
        let [speed, travel] = [x[0], x[1]];
        let (u, pre) = self.line(x.get(2).copied().unwrap_or(0.0));
        let mut actions = Vec::new();
        // Move to the pre-push point at half the largest step, with a smooth start and end.
        let gap = [pre[0] - self.start_xy_m[0], pre[1] - self.start_xy_m[1]];
        let dist = gap[0].hypot(gap[1]);
        if dist > 1e-4 {
            let n = ((dist / (0.5 * self.max_step_m)).ceil() as usize * 2).max(2);
            let mut last = 0.0;
            for k in 1..=n {
                let s = 0.5 * (1.0 - (std::f64::consts::PI * k as f64 / n as f64).cos());
                actions.push(vec![gap[0] * (s - last), gap[1] * (s - last)]);
                last = s;
            }
        }
        // Trapezoidal speed profile in whole control periods: `n_ramp` periods of linearly rising
        // speed, `n_cruise` at the peak, `n_ramp` falling; the speed changes by at most
        // `accel * period` from one period to the next (also into and out of rest), and the peak is
        // lowered just enough for the travel to fit whole periods exactly.
        let dt = self.period_s;
        let n_ramp = ((speed / (self.spec.accel_mps2 * dt)).ceil() as usize).max(1) - 1;
        let n_cruise = ((travel / (speed * dt)).ceil() as usize).saturating_sub(n_ramp);
        let periods = 2 * n_ramp + n_cruise;
        // Travel = peak * dt * (n_ramp + n_cruise).
        let peak = travel / (dt * (n_ramp + n_cruise).max(1) as f64);
        for k in 1..=periods {
            let level = if k <= n_ramp {
                k as f64 / (n_ramp + 1) as f64
            } else if k <= n_ramp + n_cruise {
                1.0
            } else {
                (periods + 1 - k) as f64 / (n_ramp + 1) as f64
            };
            // (Rounding aside, never more than the action space's step.)
            let step = (peak * level * dt).min(self.max_step_m);
            actions.push(vec![u[0] * step, u[1] * step]);
        }
        let moving = actions.len();
        if moving > self.spec.horizon_steps {
            return Err(TaskError::Primitive(format!(
                "the push needs {moving} control steps; task.horizon_steps is {}",
                self.spec.horizon_steps
            )));
        }
        actions.resize(self.spec.horizon_steps, vec![0.0, 0.0]);
        Ok((actions, moving))
    }

    /// Judges where the object ended up.
    pub fn judge(&self, object_xy_m: [f64; 2], at_rest: bool) -> Outcome {
        let distance_m = self.goal.distance_m(object_xy_m);
        Outcome {
            object_xy_m,
            distance_m,
            success: self.goal.contains(object_xy_m) && at_rest,
            at_rest,
        }
    }

    /// One attempt in the simulator at `theta`: the push, then holds until the object comes to
    /// rest (the remaining holds cannot move it) or the horizon ends.
    pub fn simulate(
        &self,
        sim: &Simulator,
        theta: &[f64],
        x: &[f64],
    ) -> Result<Outcome, TaskError> {
        let (actions, moving) = self.actions(x)?;
        let mut w = sim.world(theta).map_err(TaskError::Sim)?;
        let mut at_rest = false;
        for (k, a) in actions.iter().enumerate() {
            w.step_control(a).map_err(TaskError::Sim)?;
            if k + 1 >= moving {
                at_rest = self.object_at_rest(&w)?;
                if at_rest {
                    break;
                }
            }
        }
        let p = w
            .object_pose(&self.spec.object)
            .ok_or_else(|| TaskError::Config(format!("no object `{}`", self.spec.object)))?;
        let xy = [p.translation.x, p.translation.y];
        if !(xy[0].is_finite() && xy[1].is_finite()) {
            return Err(TaskError::Primitive(format!(
                "the simulated object position is not finite at {theta:?}"
            )));
        }
        Ok(self.judge(xy, at_rest))
    }

    fn object_at_rest(&self, w: &SimWorld) -> Result<bool, TaskError> {
        let name = &self.spec.object;
        let v = w
            .object_velocity(name)
            .ok_or_else(|| TaskError::Config(format!("no object `{name}`")))?;
        let omega = w
            .object_angular_velocity(name)
            .ok_or_else(|| TaskError::Config(format!("no object `{name}`")))?;
        // Spin about the vertical alone does not move the object's centre; rolling does.
        Ok(v.norm() < REST_SPEED_MPS && omega.x.hypot(omega.y) < REST_SPIN_RAD_S)
    }
}
