//! One straight push of a scene's object, in the simulator and in the quasi-static reference on
//! the same pusher path: the comparison behind `asid bench push` and the planar-sliding tests.

use asid_core::Shape;
use asid_core::scene::SupportKind;
use nalgebra::Vector3;

use crate::pushing::{Outline, PlanarPose, Pusher, Slider, push};
use crate::support::{SupportPoint, apply_torsion, balanced_weights};
use crate::support_geometry::bottom_face;
use crate::world::SimWorld;
use crate::{SimError, Simulator};

/// A straight push across the object along +x, at an offset along y from its centre.
#[derive(Debug, Clone)]
pub struct PushCase {
    /// Offset of the push line from the object's centre along y (m).
    pub offset_m: f64,
    /// Pusher speed (m/s).
    pub speed_m_s: f64,
    /// How far the pusher travels after it first reaches the object's near face (m).
    pub travel_m: f64,
    /// Parameter values set before the push (`rod.friction`, `rod.com_offset`, ...).
    pub params: Vec<(String, f64)>,
    /// Support model of the object (the scene's when `None`).
    pub support: Option<SupportKind>,
}

/// Where the object ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PushOutcome {
    /// Final heading change (degrees).
    pub yaw_deg: f64,
    /// Displacement of the object's centre (m).
    pub dx_m: f64,
    /// Displacement of the object's centre (m).
    pub dy_m: f64,
}

fn yaw_of(w: &SimWorld, object: &str) -> Option<(f64, f64, f64)> {
    let p = w.object_pose(object)?;
    let x = p.rotation * Vector3::x();
    Some((p.translation.x, p.translation.y, x.y.atan2(x.x)))
}

/// Runs `case` in the simulator: the pusher moves to the push line, then along +x at the case's
/// speed, then the world settles for a second. Returns the outcome and the pusher's path (one
/// point per control step, from the moment it sits on the push line).
pub fn run_sim(
    sim: &Simulator,
    object: &str,
    case: &PushCase,
) -> Result<(PushOutcome, Vec<[f64; 2]>), SimError> {
    let (mut w, i) = prepared(sim, object, case)?;
    if let Some(s) = case.support {
        w.objects[i].support = s;
    }
    let (x0, y0, yaw0) =
        yaw_of(&w, object).ok_or_else(|| SimError::UnknownObject(object.into()))?;
    let period = w.scene.control_period_s();
    let max_step = match &w.scene.spec.arm.action {
        asid_core::scene::ActionSpec::EeDeltaXy { max_step_m, .. } => *max_step_m,
        _ => {
            return Err(SimError::Config(
                "push cases need an ee_delta_xy scene".into(),
            ));
        }
    };
    // To the push line (the pusher starts well before the object along x).
    let mut dy = y0 + case.offset_m - w.tcp_target().translation.y;
    while dy.abs() > 1e-12 {
        let s = dy.clamp(-max_step, max_step);
        w.step_control(&[0.0, s])?;
        dy -= s;
    }
    w.hold(w.scene.substeps());
    let reach = near_face_x(&w.objects[i].shape) + tool_radius_m(&w);
    let start_x = w.tcp_target().translation.x;
    let total = (x0 - reach - start_x).max(0.0) + case.travel_m;
    let step = case.speed_m_s * period;
    if !(step > 0.0 && step <= max_step) {
        return Err(SimError::Config(format!(
            "push speed {} m/s is outside (0, {}] at this control rate",
            case.speed_m_s,
            max_step / period
        )));
    }
    let n = (total / step).ceil() as usize;
    let mut path = vec![xy(&w)];
    for k in 0..n {
        let s = step.min(total - k as f64 * step);
        w.step_control(&[s, 0.0])?;
        path.push(xy(&w));
    }
    w.hold((1.0 / w.scene.spec.physics.dt_s).round() as usize);
    let (x1, y1, yaw1) =
        yaw_of(&w, object).ok_or_else(|| SimError::UnknownObject(object.into()))?;
    Ok((
        PushOutcome {
            yaw_deg: wrap(yaw1 - yaw0).to_degrees(),
            dx_m: x1 - x0,
            dy_m: y1 - y0,
        },
        path,
    ))
}

/// The scene's world with the case's parameter values, and the object's index in it.
fn prepared(sim: &Simulator, object: &str, case: &PushCase) -> Result<(SimWorld, usize), SimError> {
    let theta = sim.scene().space.center();
    let mut w = sim.world(&theta)?;
    for (name, v) in &case.params {
        w.set_param(name, *v)?;
    }
    let i = w
        .object_index(object)
        .ok_or_else(|| SimError::UnknownObject(object.into()))?;
    Ok((w, i))
}

fn xy(w: &SimWorld) -> [f64; 2] {
    let t = w.tcp_target().translation;
    [t.x, t.y]
}

fn wrap(a: f64) -> f64 {
    (a + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI
}

fn near_face_x(shape: &Shape) -> f64 {
    match *shape {
        Shape::Box { half_extents_m } => half_extents_m[0],
        Shape::Cylinder { radius_m, .. }
        | Shape::Sphere { radius_m }
        | Shape::Capsule { radius_m, .. } => radius_m,
    }
}

/// The quasi-static reference on the same path: the object as the simulator has it (shape,
/// support, centre of mass, friction with the table, torsion), a disc pusher of the tool's radius
/// and friction, the path resampled to `substeps` points per control step.
pub fn run_reference(
    sim: &Simulator,
    object: &str,
    case: &PushCase,
    path: &[[f64; 2]],
    substeps: usize,
) -> Result<PushOutcome, SimError> {
    let (w, i) = prepared(sim, object, case)?;
    let o = &w.objects[i];
    let support = case.support.unwrap_or(o.support);
    let kind = if support == SupportKind::Engine {
        SupportKind::Corners
    } else {
        support
    };
    let face = bottom_face(&o.shape, kind, &Vector3::new(0.0, 0.0, -1.0))
        .ok_or_else(|| SimError::Config(format!("`{object}` does not rest on a flat face")))?;
    let com = com_body(&w, i);
    let com_face = [face.axes[0].dot(&com), face.axes[1].dot(&com)];
    let weights = balanced_weights(&face.face_points, com_face);
    let g = f64::from(w.physics.gravity.length());
    let weight_n = (o.mass_kg + o.ballast_kg) * g;
    let mu = f64::from(crate::convert::combine(
        w.scene.spec.physics.friction_combine,
        w.table_friction as f32,
        o.friction as f32,
    ));
    let mut points: Vec<SupportPoint> = face
        .face_points
        .iter()
        .zip(weights)
        .map(|(p, wt)| SupportPoint {
            r_m: [p[0] - com_face[0], p[1] - com_face[1]],
            normal_n: wt * weight_n,
            mu,
            spin_m: 0.0,
        })
        .collect();
    if let Some(c) = o.torsional_friction_m {
        apply_torsion(&mut points, c);
    }
    let outline = match o.shape {
        Shape::Box { half_extents_m: h } => Outline::Rect {
            half_m: [h[0], h[1]],
        },
        Shape::Cylinder { radius_m, .. } => Outline::Disc { radius_m },
        _ => {
            return Err(SimError::Config(format!(
                "`{object}` has no flat footprint"
            )));
        }
    };
    let slider = Slider {
        outline,
        com_m: com_face,
        support: points,
    };
    let pusher = Pusher {
        radius_m: tool_radius_m(&w),
        mu: w.scene.tool.shapes.first().map_or(1.0, |s| s.friction),
    };
    let (x0, y0, yaw0) =
        yaw_of(&w, object).ok_or_else(|| SimError::UnknownObject(object.into()))?;
    let mut fine = Vec::with_capacity(path.len() * substeps);
    for seg in path.windows(2) {
        for k in 0..substeps {
            let a = k as f64 / substeps as f64;
            fine.push([
                seg[0][0] + a * (seg[1][0] - seg[0][0]),
                seg[0][1] + a * (seg[1][1] - seg[0][1]),
            ]);
        }
    }
    if let Some(last) = path.last() {
        fine.push(*last);
    }
    let dt = w.scene.control_period_s() / substeps as f64;
    let start = PlanarPose {
        x_m: x0,
        y_m: y0,
        yaw_rad: yaw0,
    };
    let end = push(&slider, start, pusher, &fine, dt)
        .last()
        .copied()
        .unwrap_or(start);
    Ok(PushOutcome {
        yaw_deg: wrap(end.yaw_rad - yaw0).to_degrees(),
        dx_m: end.x_m - x0,
        dy_m: end.y_m - y0,
    })
}

/// The centre of mass of object `i` in its body frame, as its parameters set it (rapier moves the
/// body's own centre of mass only at the next step).
fn com_body(w: &SimWorld, i: usize) -> Vector3<f64> {
    Vector3::from(w.objects[i].com_m)
}

/// Radius of the tool's first shape (the pusher's rod).
fn tool_radius_m(w: &SimWorld) -> f64 {
    match w.scene.tool.shapes.first().map(|s| &s.geometry) {
        Some(
            Shape::Cylinder { radius_m, .. }
            | Shape::Sphere { radius_m }
            | Shape::Capsule { radius_m, .. },
        ) => *radius_m,
        Some(Shape::Box { half_extents_m }) => half_extents_m[0],
        None => 0.0,
    }
}

/// What another engine needs to build the same push: the object as the simulator has it after the
/// case's parameters, and the pusher.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PushSetup {
    /// Shape of the object (scene format).
    pub shape: Shape,
    /// Initial position of the object (m); its orientation is the identity.
    pub pose_xyz_m: [f64; 3],
    /// Total mass (kg).
    pub mass_kg: f64,
    /// Centre of mass in the body frame (m).
    pub com_m: [f64; 3],
    /// Principal moments of inertia about the centre of mass, body axes (kg m^2).
    pub inertia_kg_m2: [f64; 3],
    /// Object-table pair friction coefficient.
    pub mu: f64,
    /// Pusher radius (m).
    pub pusher_radius_m: f64,
    /// Half length of the pusher's rod (m).
    pub pusher_half_length_m: f64,
    /// Height of the pusher's tip (m).
    pub pusher_tip_z_m: f64,
    /// Pusher-object friction coefficient.
    pub pusher_mu: f64,
    /// Control period and physics step (s).
    pub control_dt_s: f64,
    /// Physics step (s).
    pub dt_s: f64,
}

/// The setup of `case` for another engine.
pub fn setup(sim: &Simulator, object: &str, case: &PushCase) -> Result<PushSetup, SimError> {
    let (w, i) = prepared(sim, object, case)?;
    let spec = w
        .scene
        .spec
        .objects
        .iter()
        .find(|o| o.name == object)
        .ok_or_else(|| SimError::UnknownObject(object.into()))?;
    if spec.pose.rpy_rad.iter().any(|a| *a != 0.0) {
        return Err(SimError::Config(format!(
            "`{object}` starts rotated; push setups need an upright, unrotated object"
        )));
    }
    let o = &w.objects[i];
    let mprops = crate::convert::object_mass_properties(
        &o.shape,
        o.mass_kg,
        o.ballast_kg,
        o.com_m,
        o.inertia_scale,
    );
    // Body axes (the ballast lies on an axis, so the matrix is diagonal there).
    let inertia = mprops.reconstruct_inertia_matrix();
    let (radius, half_length) = match w.scene.tool.shapes.first().map(|s| &s.geometry) {
        Some(Shape::Cylinder {
            radius_m,
            half_height_m,
        }) => (*radius_m, *half_height_m),
        _ => {
            return Err(SimError::Config(
                "push setups need a cylindrical pusher tool".into(),
            ));
        }
    };
    Ok(PushSetup {
        shape: o.shape.clone(),
        pose_xyz_m: spec.pose.xyz_m,
        mass_kg: o.mass_kg + o.ballast_kg,
        com_m: o.com_m,
        inertia_kg_m2: [
            f64::from(inertia.x_axis.x),
            f64::from(inertia.y_axis.y),
            f64::from(inertia.z_axis.z),
        ],
        mu: f64::from(crate::convert::combine(
            w.scene.spec.physics.friction_combine,
            w.table_friction as f32,
            o.friction as f32,
        )),
        pusher_radius_m: radius,
        pusher_half_length_m: half_length,
        pusher_tip_z_m: w.tcp_target().translation.z,
        pusher_mu: w.scene.tool.shapes.first().map_or(1.0, |s| s.friction),
        control_dt_s: w.scene.control_period_s(),
        dt_s: w.scene.spec.physics.dt_s,
    })
}

impl PushSetup {
    /// The request `bench/mujoco_push.py` reads for this setup driven along `path_xy_m` (the
    /// pusher tip at every control step), settling `settle_s` afterwards.
    pub fn mujoco_request(&self, path_xy_m: &[[f64; 2]], settle_s: f64) -> serde_json::Value {
        serde_json::json!({
            "shape": self.shape,
            "pose_xyz_m": self.pose_xyz_m,
            "mass_kg": self.mass_kg,
            "com_m": self.com_m,
            "inertia_kg_m2": self.inertia_kg_m2,
            "mu": self.mu,
            "torsion_m": null,
            "pusher": {
                "radius_m": self.pusher_radius_m,
                "half_length_m": self.pusher_half_length_m,
                "tip_z_m": self.pusher_tip_z_m,
                "mu": self.pusher_mu,
            },
            "path_xy_m": path_xy_m,
            "control_dt_s": self.control_dt_s,
            "dt_s": self.dt_s,
            "settle_s": settle_s,
        })
    }
}
