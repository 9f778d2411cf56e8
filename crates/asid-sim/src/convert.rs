//! Conversions between the f64 nalgebra world of the models and rapier's f32 glam types.

use asid_core::Shape;
use nalgebra::{Isometry3, Matrix3, Quaternion, Translation3, UnitQuaternion, Vector3};
use rapier3d::prelude::*;

/// nalgebra f64 isometry to a rapier pose.
pub fn to_pose(iso: &Isometry3<f64>) -> Pose {
    let t = iso.translation.vector;
    let q = iso.rotation.quaternion();
    Pose::from_parts(
        Vector::new(t.x as f32, t.y as f32, t.z as f32),
        Rotation::from_xyzw(q.i as f32, q.j as f32, q.k as f32, q.w as f32).normalize(),
    )
}

/// rapier pose to an f64 nalgebra isometry.
pub fn from_pose(p: &Pose) -> Isometry3<f64> {
    let t = p.translation;
    let r = p.rotation;
    Isometry3::from_parts(
        Translation3::new(f64::from(t.x), f64::from(t.y), f64::from(t.z)),
        UnitQuaternion::new_normalize(Quaternion::new(
            f64::from(r.w),
            f64::from(r.x),
            f64::from(r.y),
            f64::from(r.z),
        )),
    )
}

/// f64 vector to rapier.
pub fn to_vec(v: &Vector3<f64>) -> Vector {
    Vector::new(v.x as f32, v.y as f32, v.z as f32)
}

/// rapier vector to f64.
pub fn from_vec(v: Vector) -> Vector3<f64> {
    Vector3::new(f64::from(v.x), f64::from(v.y), f64::from(v.z))
}

/// f64 3x3 matrix to rapier's.
pub fn to_mat(m: &Matrix3<f64>) -> Matrix {
    Matrix::from_cols(
        Vector::new(m[(0, 0)] as f32, m[(1, 0)] as f32, m[(2, 0)] as f32),
        Vector::new(m[(0, 1)] as f32, m[(1, 1)] as f32, m[(2, 1)] as f32),
        Vector::new(m[(0, 2)] as f32, m[(1, 2)] as f32, m[(2, 2)] as f32),
    )
}

/// A collider builder for a scene shape (cylinders and capsules along the body z axis), with no mass.
pub fn collider_for(shape: &Shape) -> ColliderBuilder {
    let b = match *shape {
        Shape::Box { half_extents_m: h } => {
            ColliderBuilder::cuboid(h[0] as f32, h[1] as f32, h[2] as f32)
        }
        Shape::Sphere { radius_m } => ColliderBuilder::ball(radius_m as f32),
        Shape::Cylinder {
            radius_m,
            half_height_m,
        } => ColliderBuilder::cylinder(half_height_m as f32, radius_m as f32)
            // rapier's cylinder runs along y; turn it onto z.
            .rotation(Vector::new(std::f32::consts::FRAC_PI_2, 0.0, 0.0)),
        Shape::Capsule {
            radius_m,
            half_height_m,
        } => ColliderBuilder::capsule_z(half_height_m as f32, radius_m as f32),
    };
    b.density(0.0)
}

/// Mass properties of a uniform shape of `mass_kg` whose centre of mass is moved to `com_m`, plus an
/// optional point `ballast` placed so that the combined centre of mass is `com_m`.
pub fn object_mass_properties(
    shape: &Shape,
    mass_kg: f64,
    ballast_kg: f64,
    com_m: [f64; 3],
    inertia_scale: f64,
) -> MassProperties {
    let principal = shape
        .uniform_inertia_kgm2(mass_kg)
        .map(|i| i * inertia_scale);
    let mut inertia = Matrix3::from_diagonal(&Vector3::from(principal));
    let com = Vector3::from(com_m);
    let total = mass_kg + ballast_kg;
    if ballast_kg > 0.0 {
        // The body's own mass sits at the geometric centre; the ballast sits at p.
        let p = com * (total / ballast_kg);
        let shift =
            |m: f64, d: Vector3<f64>| m * (Matrix3::identity() * d.dot(&d) - d * d.transpose());
        inertia += shift(mass_kg, -com) + shift(ballast_kg, p - com);
    }
    MassProperties::with_inertia_matrix(to_vec(&com), total as f32, to_mat(&inertia))
}

/// Converts a combine rule of the scene format.
pub fn combine_rule(rule: asid_core::scene::CombineRule) -> CoefficientCombineRule {
    use asid_core::scene::CombineRule as C;
    match rule {
        C::Multiply => CoefficientCombineRule::Multiply,
        C::Average => CoefficientCombineRule::Average,
        C::Min => CoefficientCombineRule::Min,
        C::Max => CoefficientCombineRule::Max,
    }
}

/// Combines two friction coefficients as rapier would.
pub fn combine(rule: asid_core::scene::CombineRule, a: f32, b: f32) -> f32 {
    use asid_core::scene::CombineRule as C;
    match rule {
        C::Multiply => a * b,
        C::Average => 0.5 * (a + b),
        C::Min => a.min(b),
        C::Max => a.max(b),
    }
}
