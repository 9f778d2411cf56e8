//! Where an object's bottom face touches the table: the support points of the planar friction
//! model (`crate::support`), in the body frame.

use asid_core::Shape;
use asid_core::scene::SupportKind;
use nalgebra::Vector3;

/// A face may tilt this much (cosine of 3 degrees) and still rest flat on the table.
const FLAT_COS: f64 = 0.998_63;
/// Points of a footprint grid (about; a box's grid follows its aspect ratio).
const FOOTPRINT_POINTS: f64 = 64.0;
/// Rings and points per ring of a disc footprint; points on a cylinder's rim.
const DISC_RINGS: usize = 5;
const DISC_SPOKES: usize = 12;
const RIM_POINTS: usize = 16;

/// The face an object rests on: support points in the body frame and in face coordinates.
#[derive(Debug, Clone)]
pub struct Face {
    /// Points on the face, body frame.
    pub body_points: Vec<Vector3<f64>>,
    /// The same points in face coordinates (origin at the face centre, along the face's two axes).
    pub face_points: Vec<[f64; 2]>,
    /// The body-frame axes of the face coordinates.
    pub axes: [Vector3<f64>; 2],
}

/// The bottom face of `shape` when the world's down direction is `down_body` in the body frame,
/// with the support points of `kind`; `None` when the shape does not rest on a flat face (a sphere,
/// a tilted box, a cylinder on its side) or the support is the engine's.
pub fn bottom_face(shape: &Shape, kind: SupportKind, down_body: &Vector3<f64>) -> Option<Face> {
    let d = down_body.normalize();
    let (axis, half_depth, half_a, half_b, disc) = match *shape {
        Shape::Box { half_extents_m: h } => {
            let k = (0..3).max_by(|&a, &b| d[a].abs().total_cmp(&d[b].abs()))?;
            if d[k].abs() < FLAT_COS {
                return None;
            }
            let (a, b) = ((k + 1) % 3, (k + 2) % 3);
            (k, d[k].signum() * h[k], (a, h[a]), (b, h[b]), false)
        }
        Shape::Cylinder {
            radius_m,
            half_height_m,
        } => {
            if d.z.abs() < FLAT_COS {
                return None;
            }
            (
                2,
                d.z.signum() * half_height_m,
                (0, radius_m),
                (1, radius_m),
                true,
            )
        }
        Shape::Sphere { .. } | Shape::Capsule { .. } => return None,
    };
    let face_points = match (kind, disc) {
        (SupportKind::Engine, _) => return None,
        (SupportKind::Corners, false) => {
            let (a, b) = (half_a.1, half_b.1);
            vec![[a, b], [a, -b], [-a, b], [-a, -b]]
        }
        (SupportKind::Corners, true) => ring(half_a.1, RIM_POINTS, 0.0),
        (SupportKind::Footprint, false) => grid(half_a.1, half_b.1),
        (SupportKind::Footprint, true) => disc_footprint(half_a.1),
    };
    let unit = |i: usize| {
        let mut v = Vector3::zeros();
        v[i] = 1.0;
        v
    };
    let axes = [unit(half_a.0), unit(half_b.0)];
    let body_points = face_points
        .iter()
        .map(|p| unit(axis) * half_depth + axes[0] * p[0] + axes[1] * p[1])
        .collect();
    Some(Face {
        body_points,
        face_points,
        axes,
    })
}

/// Midpoints of an `na x nb` grid over a `2a x 2b` rectangle, about `FOOTPRINT_POINTS` cells of
/// similar shape.
fn grid(a: f64, b: f64) -> Vec<[f64; 2]> {
    let count = |ratio: f64| ((FOOTPRINT_POINTS * ratio).sqrt().round() as usize).clamp(2, 64);
    let (na, nb) = (count(a / b), count(b / a));
    let mut out = Vec::with_capacity(na * nb);
    for i in 0..na {
        for j in 0..nb {
            let u = -a + (2.0 * i as f64 + 1.0) * a / na as f64;
            let v = -b + (2.0 * j as f64 + 1.0) * b / nb as f64;
            out.push([u, v]);
        }
    }
    out
}

fn ring(radius: f64, n: usize, phase: f64) -> Vec<[f64; 2]> {
    (0..n)
        .map(|k| {
            let a = phase + std::f64::consts::TAU * k as f64 / n as f64;
            [radius * a.cos(), radius * a.sin()]
        })
        .collect()
}

/// A uniformly loaded disc: equal-area rings, each at the radius that keeps its first moment, so
/// the spin-in-place torque is exactly 2/3 mu N r.
pub fn disc_footprint(radius: f64) -> Vec<[f64; 2]> {
    let mut out = Vec::with_capacity(DISC_RINGS * DISC_SPOKES);
    for k in 0..DISC_RINGS {
        let ri = radius * (k as f64 / DISC_RINGS as f64).sqrt();
        let ro = radius * ((k + 1) as f64 / DISC_RINGS as f64).sqrt();
        let r = 2.0 / 3.0 * (ro.powi(3) - ri.powi(3)) / (ro * ro - ri * ri);
        let phase = std::f64::consts::PI * k as f64 / DISC_SPOKES as f64;
        out.extend(ring(r, DISC_SPOKES, phase));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_rests_on_whichever_face_is_down() {
        let shape = Shape::Box {
            half_extents_m: [0.02, 0.15, 0.03],
        };
        let f =
            bottom_face(&shape, SupportKind::Corners, &Vector3::new(0.0, 0.0, -1.0)).expect("flat");
        assert!(f.body_points.iter().all(|p| (p.z + 0.03).abs() < 1e-12));
        let f = bottom_face(&shape, SupportKind::Footprint, &Vector3::new(0.0, 1.0, 0.0))
            .expect("on its end");
        assert!(f.body_points.iter().all(|p| (p.y - 0.15).abs() < 1e-12));
        let tilted = Vector3::new(0.0, 0.2, -1.0);
        assert!(bottom_face(&shape, SupportKind::Corners, &tilted).is_none());
        assert!(bottom_face(&shape, SupportKind::Engine, &Vector3::new(0.0, 0.0, -1.0)).is_none());
    }

    #[test]
    fn grid_follows_the_aspect_ratio_and_is_symmetric() {
        let g = grid(0.02, 0.15);
        let (su, sv, suv): (f64, f64, f64) = g.iter().fold((0.0, 0.0, 0.0), |acc, p| {
            (acc.0 + p[0], acc.1 + p[1], acc.2 + p[0] * p[1])
        });
        assert!(su.abs() < 1e-12 && sv.abs() < 1e-12 && suv.abs() < 1e-12);
        assert!(g.len() >= 40 && g.len() <= 90, "{}", g.len());
    }
}
