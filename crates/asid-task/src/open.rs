//! The articulation task (`[task] kind = "open"`): push a hinged lid open to a target angle along
//! an arc about the hinge as the belief places it, or report that there is nothing to open.
//!
//! The primitive has two numbers, `[commanded_rad, contact_m]`: the tool approaches the lid's face
//! at `contact_m` from the hinge axis, follows the arc about the believed axis that keeps it on the
//! face of a lid turned by `commanded_rad`, backs away from the face and holds still while the lid
//! settles. The hinge's own friction keeps the lid where it was left; how far that is from the
//! commanded angle depends on where the axis really is (a tool on the wrong arc slides along the
//! face or leaves it early) and on how the lid moves once pushed, which the planner predicts in the
//! simulator at the belief's samples. Judged from the lid's orientation alone (what a tracker
//! measures), so the judge needs no axis.

use asid_core::OpenSpec;
use asid_core::scene::ActionSpec;
use asid_core::{Scene, Shape};
use asid_sim::Simulator;
use nalgebra::{UnitQuaternion, Vector3};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::planner::{
    ArmCheck, Mode, TaskPlanOptions, cem_best, planning_samples, prediction_samples,
};
use crate::{Belief, BeliefSource, TaskError};
use asid_core::{ParamSpace, Prior};

/// Format tag of an opening plan file.
pub const OPEN_PLAN_FORMAT: &str = "asid-open-plan-v1";

/// Clearance (m) in front of the lid's face where the approach ends and the retreat begins.
pub const APPROACH_CLEARANCE_M: f64 = 0.03;

/// How far (m) the tool backs away from the face after the push.
pub const RETREAT_M: f64 = 0.06;

/// An opening attempt's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenOutcome {
    /// The lid's angle about the hinge axis from its initial orientation (positive opening).
    pub angle_rad: f64,
    /// `|angle - target|`.
    pub error_rad: f64,
    /// Within the tolerance and at rest.
    pub success: bool,
    /// The lid had stopped turning when judged.
    pub at_rest: bool,
}

impl OpenOutcome {
    /// The metric in degrees.
    pub fn error_deg(&self) -> f64 {
        self.error_rad.to_degrees()
    }
}

/// A planned opening attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenPlan {
    /// [`OPEN_PLAN_FORMAT`].
    pub format: String,
    /// The belief's probability that the lid is hinged.
    pub p_hinged: f64,
    /// `true`: the belief says the lid is welded, so the plan is to leave it (no actions).
    pub nothing_to_open: bool,
    /// `[commanded_rad, contact_m]` (empty when there is nothing to open).
    pub primitive: Vec<f64>,
    /// The axis offset (m) the arc is drawn about.
    pub axis_offset_m: f64,
    /// Actions in the scene's action space (empty when there is nothing to open).
    pub actions: Vec<Vec<f64>>,
    /// Predicted success on fresh belief samples (robust) or at the estimate (point), times the
    /// probability that the lid is hinged.
    pub predicted_success: f64,
    /// Predicted mean angle error (rad) on the same samples.
    pub predicted_error_rad: f64,
    /// Point or robust.
    pub mode: Mode,
    /// Simulated attempts the planner ran.
    pub rollouts: usize,
}

/// The opening task of a scene, ready to turn primitive parameters into actions.
#[derive(Debug, Clone)]
pub struct OpenTask {
    /// The task as the scene declares it.
    pub spec: OpenSpec,
    anchor: Vector3<f64>,
    axis: Vector3<f64>,
    offset_direction: Vector3<f64>,
    /// Along the lid, away from the axis (unit, perpendicular to the axis).
    up: Vector3<f64>,
    /// Out of the lid's face towards the tool (unit).
    out: Vector3<f64>,
    /// Distance of the face the tool pushes from the axis plane, plus the tool's radius.
    face_m: f64,
    q0: UnitQuaternion<f64>,
    /// The joint's upper limit (its stop when opened).
    upper_rad: f64,
    start: Vector3<f64>,
    workspace: Vec<[f64; 2]>,
    max_step_m: f64,
    period_s: f64,
    present_index: Option<usize>,
    offset_index: Option<usize>,
    /// `<object>.<joint>` (parameter prefix).
    joint_path: String,
}

impl OpenTask {
    /// The opening task of `scene`.
    pub fn of_scene(scene: &Scene) -> Result<Self, TaskError> {
        let spec = scene
            .spec
            .task
            .as_ref()
            .and_then(|t| t.open())
            .cloned()
            .ok_or_else(|| TaskError::NoTask(scene.path.display().to_string()))?;
        let obj = scene
            .spec
            .objects
            .iter()
            .find(|o| o.name == spec.object)
            .ok_or_else(|| TaskError::Config(format!("task.object: no `{}`", spec.object)))?;
        let (Some(joint), Shape::Box { half_extents_m: h }) = (&obj.joint, &obj.shape) else {
            return Err(TaskError::Config(format!(
                "task.object: `{}` is not a box with a joint",
                spec.object
            )));
        };
        let ActionSpec::EeDeltaXyz {
            max_step_m,
            start_xyz_m,
            workspace_m,
            ..
        } = scene.spec.arm.action
        else {
            return Err(TaskError::Config(
                "task.kind: open needs ee_delta_xyz actions".into(),
            ));
        };
        let v = |a: [f64; 3]| Vector3::new(a[0], a[1], a[2]);
        let axis = v(joint.axis).normalize();
        let anchor = v(joint.anchor_m);
        let centre = v(obj.pose.xyz_m);
        let [r, p, y] = obj.pose.rpy_rad;
        let q0 = UnitQuaternion::from_euler_angles(r, p, y);
        // The lid's longest body axis across the hinge is "up"; its face towards the tool "out".
        let body: Vec<(Vector3<f64>, f64)> =
            (0..3).map(|k| (q0 * Vector3::ith(k, 1.0), h[k])).collect();
        let across = |d: &Vector3<f64>| (d - axis * axis.dot(d)).norm();
        let (up_axis, _) = body
            .iter()
            .filter(|(d, _)| across(d) > 0.9)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .copied()
            .ok_or_else(|| {
                TaskError::Config("task.object: the lid has no extent across its hinge".into())
            })?;
        let up = if up_axis.dot(&(centre - anchor)) >= 0.0 {
            up_axis
        } else {
            -up_axis
        };
        let start = v(start_xyz_m);
        // A positive turn about the axis takes "up" towards axis x up: that must lead away from
        // the tool, which pushes from the start's side.
        let out = -axis.cross(&up).normalize();
        if out.dot(&(start - anchor)) <= 0.0 {
            return Err(TaskError::Config(format!(
                "{}: task.object: a positive turn of `{}`'s joint moves it towards \
                 arm.action.start_xyz_m, so the tool cannot push it open (allowed: a joint whose \
                 positive direction opens the lid away from the arm; turn its axis around)",
                scene.path.display(),
                spec.object
            )));
        }
        // The contact must lie on the lid (up to its far edge from the axis).
        let reach = (centre - anchor).dot(&up)
            + body.iter().map(|(d, e)| d.dot(&up).abs() * e).sum::<f64>();
        if spec.contact_m[1] > reach {
            return Err(TaskError::Config(format!(
                "{}: task.contact_m: [{}, {}] reaches past `{}`'s far edge (allowed: high <= \
                 {reach:.3} m from the hinge axis)",
                scene.path.display(),
                spec.contact_m[0],
                spec.contact_m[1],
                spec.object
            )));
        }
        let offset_direction = v(joint.offset_direction);
        let offset_direction = if offset_direction.norm() > 0.0 {
            offset_direction.normalize()
        } else {
            offset_direction
        };
        let half_out: f64 = body.iter().map(|(d, e)| d.dot(&out).abs() * e).sum();
        let tool_r = tool_radius(scene);
        let space = &scene.space;
        let joint_path = format!("{}.{}", spec.object, joint.name);
        Ok(Self {
            face_m: (centre - anchor).dot(&out) + half_out + tool_r,
            anchor,
            axis,
            offset_direction,
            upper_rad: joint.limits[1],
            up,
            out,
            q0,
            start,
            workspace: workspace_m.to_vec(),
            max_step_m,
            period_s: scene.control_period_s(),
            present_index: space.index_of(&format!("{joint_path}.present")),
            offset_index: space.index_of(&format!("{joint_path}.axis_offset")),
            joint_path,
            spec,
        })
    }

    /// The tool's position on the arc at lid angle `angle_rad`, `contact_m` from an axis moved by
    /// `axis_offset_m`, `gap_m` off the face.
    fn on_arc(
        &self,
        axis_offset_m: f64,
        angle_rad: f64,
        contact_m: f64,
        gap_m: f64,
    ) -> Vector3<f64> {
        // Opening turns "up" away from the tool (towards -out) about the axis.
        let (s, c) = angle_rad.sin_cos();
        let (up, out) = (self.up * c - self.out * s, self.up * s + self.out * c);
        self.anchor
            + self.offset_direction * axis_offset_m
            + up * contact_m
            + out * (self.face_m + gap_m)
    }

    /// The actions of primitive `x = [commanded_rad, contact_m]` about an axis moved by
    /// `axis_offset_m`: approach, push along the arc, back away, hold; every position inside the
    /// workspace and the whole within the task's horizon, or a primitive error.
    pub fn actions(&self, axis_offset_m: f64, x: &[f64]) -> Result<Vec<Vec<f64>>, TaskError> {
        let &[commanded, contact] = x else {
            return Err(TaskError::Primitive(format!(
                "expected [commanded_rad, contact_m], got {} numbers",
                x.len()
            )));
        };
        if !(commanded.is_finite() && contact.is_finite() && axis_offset_m.is_finite()) {
            return Err(TaskError::Primitive(format!(
                "non-finite primitive [{commanded}, {contact}] or axis offset {axis_offset_m}"
            )));
        }
        let v = self.spec.speed_mps;
        let fast = (0.5 * self.max_step_m / self.period_s).max(v);
        let mut path = vec![self.start];
        let go_to = |path: &mut Vec<Vector3<f64>>, to: Vector3<f64>, speed: f64| {
            let from = *path.last().expect("a start");
            let n = ((to - from).norm() / (speed * self.period_s))
                .ceil()
                .max(1.0) as usize;
            for k in 1..=n {
                path.push(from + (to - from) * (k as f64 / n as f64));
            }
        };
        let approach = self.on_arc(axis_offset_m, 0.0, contact, APPROACH_CLEARANCE_M);
        go_to(&mut path, approach, fast);
        go_to(&mut path, self.on_arc(axis_offset_m, 0.0, contact, 0.0), v);
        // Along the arc at the task's speed (the contact point's speed).
        let arc_len = (contact.hypot(self.face_m) * commanded.abs()).max(1e-9);
        let n = (arc_len / (v * self.period_s)).ceil().max(1.0) as usize;
        for k in 1..=n {
            path.push(self.on_arc(axis_offset_m, commanded * k as f64 / n as f64, contact, 0.0));
        }
        let end = *path.last().expect("pushed");
        go_to(&mut path, end + self.out * RETREAT_M, v);
        for (k, p) in path.iter().enumerate() {
            for (i, [lo, hi]) in self.workspace.iter().enumerate() {
                if !(lo - 1e-9..=hi + 1e-9).contains(&p[i]) {
                    return Err(TaskError::Primitive(format!(
                        "waypoint {k} leaves the workspace on axis {i}: {:.3} outside [{lo}, {hi}]",
                        p[i]
                    )));
                }
            }
        }
        let mut actions: Vec<Vec<f64>> = path
            .windows(2)
            .map(|w| (w[1] - w[0]).as_slice().to_vec())
            .collect();
        actions = ramped(&actions);
        if actions.len() > self.spec.horizon_steps {
            return Err(TaskError::Primitive(format!(
                "the motion needs {} steps, the task allows {}",
                actions.len(),
                self.spec.horizon_steps
            )));
        }
        actions.resize(self.spec.horizon_steps, vec![0.0; 3]);
        Ok(actions)
    }

    /// The lid's angle about the hinge axis, from its orientation `q` (a tracker's quaternion).
    pub fn angle_of(&self, q: &UnitQuaternion<f64>) -> f64 {
        let rel = q * self.q0.inverse();
        let (w, v) = (rel.w, rel.imag());
        let (w, along) = if w < 0.0 {
            (-w, -v.dot(&self.axis))
        } else {
            (w, v.dot(&self.axis))
        };
        2.0 * along.atan2(w)
    }

    /// Judges a lid at angle `angle_rad` (at rest or not) against the target.
    pub fn judge(&self, angle_rad: f64, at_rest: bool) -> OpenOutcome {
        let error_rad = (angle_rad - self.spec.target_rad).abs();
        OpenOutcome {
            angle_rad,
            error_rad,
            success: at_rest && error_rad <= self.spec.tolerance_rad + ON_EDGE_RAD,
            at_rest,
        }
    }

    /// Whether the lid is hinged at `theta` (always, when the scene does not question it).
    pub fn hinged(&self, theta: &[f64]) -> bool {
        self.present_index.is_none_or(|i| theta[i] > 0.5)
    }

    /// Probability that the lid is hinged under `belief`: the structure weights of a fit; the
    /// share of the prior's values for the prior; otherwise the share of `samples` with the hinge
    /// present (1 when the scene does not question it).
    pub fn p_hinged(
        &self,
        space: &ParamSpace,
        belief: &Belief,
        samples: &[Vec<f64>],
    ) -> Result<f64, TaskError> {
        let Some(i) = self.present_index else {
            return Ok(1.0);
        };
        if let (BeliefSource::Prior, Prior::Discrete { values }) =
            (belief.source, &space.params[i].prior)
        {
            let n = values.len().max(1) as f64;
            return Ok(values.iter().filter(|v| **v > 0.5).count() as f64 / n);
        }
        let key = format!("{}.present", self.joint_path);
        // The value of `key` in a hypothesis's label ("a=1,b=0"), if it names it.
        let present_in = |label: &str| {
            label.split(',').find_map(|kv| {
                kv.split_once('=')
                    .filter(|(k, _)| k.trim() == key)
                    .and_then(|(_, v)| v.trim().parse::<f64>().ok())
            })
        };
        let named = belief
            .structure_weights
            .iter()
            .filter_map(|(label, w)| present_in(label).map(|v| (v, *w)))
            .collect::<Vec<_>>();
        let p = if named.is_empty() {
            // No weights that name the hinge (a belief without structures): the samples decide.
            let n = samples.len().max(1) as f64;
            samples.iter().filter(|t| t[i] > 0.5).count() as f64 / n
        } else {
            named.iter().filter(|(v, _)| *v > 0.5).map(|(_, w)| w).sum()
        };
        if !p.is_finite() {
            return Err(TaskError::Belief(format!(
                "the probability that `{key}` is 1 is {p} (structure weights {:?})",
                belief.structure_weights
            )));
        }
        Ok(p)
    }

    /// The attempt `actions` at `theta` in the simulator, judged at its end.
    pub fn simulate(
        &self,
        sim: &Simulator,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<OpenOutcome, TaskError> {
        let mut w = sim.world(theta).map_err(TaskError::Sim)?;
        for a in actions {
            w.step_control(a).map_err(TaskError::Sim)?;
        }
        let pose = w
            .object_pose(&self.spec.object)
            .ok_or_else(|| TaskError::Config(format!("no object `{}`", self.spec.object)))?;
        let spin = w
            .object_angular_velocity(&self.spec.object)
            .map_or(0.0, |v| v.norm());
        Ok(self.judge(self.angle_of(&pose.rotation), spin < REST_TURN_RAD_S))
    }
}

/// How far past the tolerance an angle still counts as on its edge (so that a tolerance written in
/// decimals is on the edge in floating point too).
pub const ON_EDGE_RAD: f64 = 1e-12;

/// A lid counts as at rest below this rate of turning.
pub const REST_TURN_RAD_S: f64 = 0.02;

/// The tool's radius where it touches the lid: its first shape's (a cylinder's or sphere's radius,
/// a box's larger half width); 0 for a tool without shapes.
fn tool_radius(scene: &Scene) -> f64 {
    match scene.tool.shapes.first().map(|s| &s.geometry) {
        Some(Shape::Cylinder { radius_m, .. } | Shape::Sphere { radius_m }) => *radius_m,
        Some(Shape::Box { half_extents_m }) => half_extents_m[0].max(half_extents_m[1]),
        _ => 0.0,
    }
}

/// Steps averaged over three control periods: each change of speed is spread over three periods
/// instead of one (the total move is kept; the sequence grows by two).
fn ramped(actions: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = actions.len();
    (0..n + 2)
        .map(|k| {
            let mut a = vec![0.0; 3];
            for step in &actions[k.saturating_sub(2)..(k + 1).min(n)] {
                for (x, y) in a.iter_mut().zip(step) {
                    *x += y / 3.0;
                }
            }
            a
        })
        .collect()
}

/// Plans the opening against `belief`: nothing to open when the belief holds the lid more likely
/// welded than hinged (robust mode at even odds, as over the prior, opens: leaving a hinged lid
/// shut is as sure a failure as pushing a welded one; point mode follows the estimate's value of
/// the hinge's presence); otherwise the primitive that minimises the failure rate plus the mean
/// angle error (rad / pi, worth less than one success) over the belief's samples with the hinge
/// present, chosen by the shared CEM, and scored again on fresh samples. Every candidate's actions
/// must pass `check` (the arm's limits), as a slide task's do.
pub fn plan_open(
    sim: &Simulator,
    task: &OpenTask,
    belief: &Belief,
    opts: &TaskPlanOptions,
    check: ArmCheck<'_>,
) -> Result<OpenPlan, TaskError> {
    let space = &sim.scene().space;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut samples = planning_samples(belief, space, opts, &mut rng);
    let judged_on = {
        let mut more = samples.clone();
        more.extend(belief.samples(space, 200, &mut rng));
        more
    };
    let p_hinged = match opts.mode {
        Mode::Point => f64::from(u8::from(task.hinged(&belief.estimate))),
        Mode::Robust => task.p_hinged(space, belief, &judged_on)?,
    };
    let offset = task.offset_index.map_or(0.0, |i| belief.estimate[i]);
    let mut plan = OpenPlan {
        format: OPEN_PLAN_FORMAT.into(),
        p_hinged,
        nothing_to_open: p_hinged < 0.5,
        primitive: Vec::new(),
        axis_offset_m: offset,
        actions: Vec::new(),
        predicted_success: 0.0,
        predicted_error_rad: 0.0,
        mode: opts.mode,
        rollouts: 0,
    };
    if plan.nothing_to_open {
        return Ok(plan);
    }
    // Planned given that there is a hinge: a plan matters only if there is.
    let hinged = |mut s: Vec<Vec<f64>>| {
        if let Some(i) = task.present_index {
            for t in &mut s {
                t[i] = 1.0;
            }
        }
        s
    };
    samples = hinged(samples);
    let target = task.spec.target_rad;
    let bounds = vec![
        // Never past the joint's stop.
        [
            0.5 * target,
            (1.5 * target).min(target + 0.5).min(task.upper_rad),
        ],
        task.spec.contact_m,
    ];
    let rollouts = std::sync::atomic::AtomicUsize::new(0);
    let score = |x: &[f64], thetas: &[Vec<f64>]| -> Result<(f64, f64), TaskError> {
        let actions = task.actions(offset, x)?;
        check(&actions).map_err(TaskError::Primitive)?;
        let outcomes: Vec<OpenOutcome> = thetas
            .par_iter()
            .map(|t| task.simulate(sim, t, &actions))
            .collect::<Result<_, _>>()?;
        rollouts.fetch_add(outcomes.len(), std::sync::atomic::Ordering::Relaxed);
        let n = outcomes.len() as f64;
        let success = outcomes.iter().filter(|o| o.success).count() as f64 / n;
        let error = outcomes.iter().map(|o| o.error_rad).sum::<f64>() / n;
        Ok((success, error))
    };
    let best = cem_best(bounds, opts, Ok, |x| {
        let (success, error) = score(x, &samples)?;
        Ok(1.0 - success + error / std::f64::consts::PI)
    })?
    .ok_or_else(|| {
        TaskError::Plan(
            "no opening in the target's range x task.contact_m fits the workspace, \
             task.horizon_steps and the arm's limits"
                .into(),
        )
    })?;
    let fresh = hinged(prediction_samples(belief, space, opts, &mut rng));
    let (success, error) = score(&best, &fresh)?;
    plan.actions = task.actions(offset, &best)?;
    plan.primitive = best;
    // Pushing a welded lid fails: the attempt succeeds only as often as the lid is hinged.
    plan.predicted_success = p_hinged * success;
    plan.predicted_error_rad = error;
    plan.rollouts = rollouts.into_inner();
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::ramped;

    #[test]
    fn ramping_keeps_the_move_and_spreads_each_change_of_speed() {
        let steps = vec![vec![0.01, 0.0, -0.02]; 5];
        let r = ramped(&steps);
        assert_eq!(r.len(), 7);
        for i in 0..3 {
            let total: f64 = r.iter().map(|a| a[i]).sum();
            assert!((total - 5.0 * steps[0][i]).abs() < 1e-15);
        }
        // From rest: a third, two thirds, then full speed; the same down to rest.
        assert!((r[0][0] - 0.01 / 3.0).abs() < 1e-15 && (r[1][0] - 0.02 / 3.0).abs() < 1e-15);
        assert!((r[2][0] - 0.01).abs() < 1e-15 && (r[6][0] - 0.01 / 3.0).abs() < 1e-15);
        assert!(ramped(&[]).iter().all(|a| a.iter().all(|x| *x == 0.0)));
    }
}
