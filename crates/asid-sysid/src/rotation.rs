//! Orientation residuals: the rotation error through the log map, sign-free, and slerp.
//!
//! A quaternion and its negative are the same rotation, and an observation canonicalised to
//! `w >= 0` flips sign when an object turns through 180 degrees. Comparing quaternion components
//! would see a jump of 2 there; the rotation error `log(q_meas^-1 q_sim)` (axis times angle,
//! radians, the shortest way round) does not.

use nalgebra::{Quaternion, UnitQuaternion, Vector3};

/// A unit quaternion from `[w, x, y, z]`; `None` when a component is not finite or the norm is
/// (nearly) zero, which no recorded orientation can have.
pub fn unit(wxyz: [f64; 4]) -> Option<UnitQuaternion<f64>> {
    let q = Quaternion::new(wxyz[0], wxyz[1], wxyz[2], wxyz[3]);
    let n = q.norm();
    (wxyz.iter().all(|v| v.is_finite()) && n > 1e-6).then(|| UnitQuaternion::new_unchecked(q / n))
}

/// The rotation vector (axis times angle in `[0, pi]`) of a unit quaternion, sign-free.
pub fn log(q: &UnitQuaternion<f64>) -> Vector3<f64> {
    let q = q.quaternion();
    let (w, v) = if q.w < 0.0 {
        (-q.w, -q.imag())
    } else {
        (q.w, q.imag())
    };
    let n = v.norm();
    if n < 1e-12 {
        // 2 atan(n / w) / n -> 2 / w.
        return v * (2.0 / w.max(1e-300));
    }
    v * (2.0 * n.atan2(w) / n)
}

/// The rotation error `log(q_meas^-1 q_sim)` in radians.
pub fn error(q_meas: &UnitQuaternion<f64>, q_sim: &UnitQuaternion<f64>) -> Vector3<f64> {
    log(&(q_meas.inverse() * q_sim))
}

/// Derivative of [`error`] along a change `dq` of the simulated quaternion's components (the
/// quaternion as the model reports it, before normalisation): the 3-vector `d error / d s` of
/// `q_sim + s dq` at `s = 0`. Central differences on the normalised quaternion; the log map is
/// smooth away from an error of 180 degrees, which no fit sits at.
pub fn error_derivative(
    q_meas: &UnitQuaternion<f64>,
    q_sim_wxyz: [f64; 4],
    dq_wxyz: [f64; 4],
) -> Vector3<f64> {
    let norm = q_sim_wxyz.iter().map(|v| v * v).sum::<f64>().sqrt();
    let dn = dq_wxyz.iter().map(|v| v.abs()).fold(0.0, f64::max);
    if dn == 0.0 || !dn.is_finite() || norm == 0.0 {
        return Vector3::zeros();
    }
    // A step that moves the quaternion by about 1e-7 of its norm.
    let s = 1e-7 * norm / dn;
    let at = |sign: f64| {
        let q: [f64; 4] = std::array::from_fn(|k| q_sim_wxyz[k] + sign * s * dq_wxyz[k]);
        unit(q).map(|q| error(q_meas, &q))
    };
    match (at(1.0), at(-1.0)) {
        (Some(p), Some(m)) => (p - m) / (2.0 * s),
        _ => Vector3::zeros(),
    }
}

/// Spherical linear interpolation of `[w, x, y, z]` quaternions at fraction `u`, the short way
/// round (whatever the signs of the two ends), returned with `w >= 0`.
pub fn slerp(a: [f64; 4], b: [f64; 4], u: f64) -> Option<[f64; 4]> {
    let (qa, mut qb) = (unit(a)?, unit(b)?);
    if qa.coords.dot(&qb.coords) < 0.0 {
        qb = UnitQuaternion::new_unchecked(-qb.into_inner());
    }
    let q = qa.try_slerp(&qb, u, 1e-12).unwrap_or(qa);
    let c = q.quaternion();
    let s = if c.w < 0.0 { -1.0 } else { 1.0 };
    Some([s * c.w, s * c.i, s * c.j, s * c.k])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaw(deg: f64) -> UnitQuaternion<f64> {
        UnitQuaternion::from_euler_angles(0.0, 0.0, deg.to_radians())
    }

    fn canonical(q: &UnitQuaternion<f64>) -> [f64; 4] {
        let c = q.quaternion();
        let s = if c.w < 0.0 { -1.0 } else { 1.0 };
        [s * c.w, s * c.i, s * c.j, s * c.k]
    }

    #[test]
    fn error_is_axis_times_angle() {
        let e = error(&yaw(10.0), &yaw(25.0));
        assert!((e.z - 15f64.to_radians()).abs() < 1e-12, "{e}");
        assert!(e.x.abs() < 1e-12 && e.y.abs() < 1e-12);
    }

    #[test]
    fn a_sign_flip_of_either_quaternion_changes_nothing() {
        let (m, s) = (yaw(170.0), yaw(-175.0));
        let flipped = UnitQuaternion::new_unchecked(-s.into_inner());
        let a = error(&m, &s);
        let b = error(&m, &flipped);
        assert!((a - b).norm() < 1e-12);
        assert!((a.z - 15f64.to_radians()).abs() < 1e-12, "{a}");
    }

    #[test]
    fn slerp_goes_the_short_way_and_keeps_constant_speed() {
        // 170 and -170 degrees: 20 degrees apart through 180, canonical signs opposite.
        let q = slerp(canonical(&yaw(170.0)), canonical(&yaw(-170.0)), 0.25).expect("unit");
        let angle = error(&yaw(170.0), &unit(q).expect("unit")).z.to_degrees();
        assert!((angle - 5.0).abs() < 1e-9, "{angle}");
    }

    #[test]
    fn derivative_matches_a_finite_difference_of_the_error() {
        let m = yaw(30.0);
        let q0 = canonical(&yaw(42.0));
        let q1 = canonical(&yaw(42.5));
        let dq: [f64; 4] = std::array::from_fn(|k| (q1[k] - q0[k]) / 0.5);
        let d = error_derivative(&m, q0, dq);
        assert!((d.z - 1f64.to_radians()).abs() < 1e-5, "{d}");
    }
}
