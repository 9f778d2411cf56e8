//! Tracker poses resampled onto the arm states' timestamps.

use asid_arm::PoseSample;
use nalgebra::{Isometry3, Quaternion, Translation3, UnitQuaternion};

/// One object's poses, sorted by stamp with duplicate stamps dropped; samples whose position is
/// not finite or whose quaternion is not a rotation (zero, NaN, far from unit length) are left
/// out and counted.
pub struct PoseTrack<'a> {
    samples: Vec<&'a PoseSample>,
    invalid: usize,
}

impl<'a> PoseTrack<'a> {
    /// The poses of `object` in `poses`.
    pub fn new(poses: &'a [PoseSample], object: &str) -> Self {
        let mut samples: Vec<&PoseSample> = poses.iter().filter(|p| p.object == object).collect();
        let all = samples.len();
        samples.retain(|p| valid_pose(p));
        let invalid = all - samples.len();
        samples.sort_by_key(|p| p.stamp_ns);
        samples.dedup_by_key(|p| p.stamp_ns);
        Self { samples, invalid }
    }

    /// Samples left out because their pose is not a pose (e.g. the quaternion (0, 0, 0, 0)).
    pub fn invalid(&self) -> usize {
        self.invalid
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// No samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The pose at `t_ns` in the frame of the samples: linear interpolation of position and
    /// spherical linear interpolation (slerp, the short way round) of orientation between the two samples around `t_ns` when
    /// they are at most `max_gap_ns` apart; outside the samples' span, the nearest one if it is
    /// within `max_gap_ns / 2`; otherwise None (never a made-up value).
    pub fn at(&self, t_ns: u64, max_gap_ns: u64) -> Option<Isometry3<f64>> {
        let s = &self.samples;
        let i = s.partition_point(|p| p.stamp_ns < t_ns);
        if i < s.len() && s[i].stamp_ns == t_ns {
            return Some(isometry(s[i].p_m, s[i].q_wxyz));
        }
        if i == 0 || i == s.len() {
            let nearest = if i == 0 { s.first()? } else { s.last()? };
            return (nearest.stamp_ns.abs_diff(t_ns) <= max_gap_ns / 2)
                .then(|| isometry(nearest.p_m, nearest.q_wxyz));
        }
        let (a, b) = (s[i - 1], s[i]);
        let gap = b.stamp_ns - a.stamp_ns;
        if gap > max_gap_ns {
            return None;
        }
        let u = (t_ns - a.stamp_ns) as f64 / gap as f64;
        let p: [f64; 3] = std::array::from_fn(|k| a.p_m[k] + (b.p_m[k] - a.p_m[k]) * u);
        let qa = isometry(a.p_m, a.q_wxyz).rotation;
        let mut qb = isometry(b.p_m, b.q_wxyz).rotation;
        if qa.coords.dot(&qb.coords) < 0.0 {
            qb = UnitQuaternion::new_unchecked(-qb.into_inner());
        }
        let q = qa.try_slerp(&qb, u, 1e-12).unwrap_or(qa);
        Some(Isometry3::from_parts(
            Translation3::new(p[0], p[1], p[2]),
            q,
        ))
    }
}

/// A finite position and a quaternion within 10 % of unit length.
fn valid_pose(p: &PoseSample) -> bool {
    let norm = p.q_wxyz.iter().map(|v| v * v).sum::<f64>().sqrt();
    p.p_m.iter().all(|v| v.is_finite()) && norm.is_finite() && (0.9..=1.1).contains(&norm)
}

fn isometry(p: [f64; 3], q_wxyz: [f64; 4]) -> Isometry3<f64> {
    let [w, x, y, z] = q_wxyz;
    Isometry3::from_parts(
        Translation3::new(p[0], p[1], p[2]),
        UnitQuaternion::from_quaternion(Quaternion::new(w, x, y, z)),
    )
}

/// Position and quaternion `[w, x, y, z]` with the canonical sign `w >= 0` (as the simulator
/// observes it).
pub fn pose_values(pose: &Isometry3<f64>) -> [f64; 7] {
    let p = pose.translation.vector;
    let q = pose.rotation.quaternion();
    let s = if q.w < 0.0 { -1.0 } else { 1.0 };
    [p.x, p.y, p.z, s * q.w, s * q.i, s * q.j, s * q.k]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(stamp_ns: u64, x: f64) -> PoseSample {
        PoseSample {
            stamp_ns,
            sender_t_s: 0.0,
            object: "puck".into(),
            p_m: [x, 0.0, 0.0],
            q_wxyz: [1.0, 0.0, 0.0, 0.0],
        }
    }

    #[test]
    fn interpolates_inside_and_refuses_gaps_and_far_edges() {
        let poses = vec![sample(100, 0.0), sample(200, 1.0), sample(1000, 2.0)];
        let track = PoseTrack::new(&poses, "puck");
        let x = |t| track.at(t, 150).map(|p| p.translation.vector.x);
        assert_eq!(x(150), Some(0.5));
        assert_eq!(x(200), Some(1.0));
        assert_eq!(x(600), None, "800 ns gap is longer than 150 ns");
        assert_eq!(x(40), Some(0.0), "60 ns before the first sample: nearest");
        assert_eq!(x(10), None, "90 ns before the first sample: too far");
        assert_eq!(x(1070), Some(2.0));
        assert!(PoseTrack::new(&poses, "lid").is_empty());
    }

    #[test]
    fn orientation_is_slerped_the_short_way_across_a_sign_flip() {
        let yaw = |deg: f64| {
            let q = UnitQuaternion::from_euler_angles(0.0, 0.0, f64::to_radians(deg));
            [q.w, q.i, q.j, q.k]
        };
        let mut a = sample(0, 0.0);
        a.q_wxyz = yaw(170.0);
        let mut b = sample(100, 0.0);
        // -170 degrees with the opposite sign: the same rotation as +190.
        b.q_wxyz = yaw(-170.0).map(|x| -x);
        let poses = vec![a, b];
        let track = PoseTrack::new(&poses, "puck");
        let q = track.at(25, 1000).expect("inside").rotation;
        let angle = q.angle_to(&UnitQuaternion::from_euler_angles(
            0.0,
            0.0,
            f64::to_radians(175.0),
        ));
        assert!(
            angle < 1e-9,
            "a quarter of the way is 175 degrees, off by {angle} rad"
        );
    }

    #[test]
    fn zero_quaternions_are_counted_as_invalid_not_used() {
        let mut zero = sample(150, 9.0);
        zero.q_wxyz = [0.0; 4];
        let mut nan = sample(160, 9.0);
        nan.q_wxyz[1] = f64::NAN;
        let poses = vec![sample(100, 0.0), zero, nan, sample(200, 1.0)];
        let track = PoseTrack::new(&poses, "puck");
        assert_eq!(track.invalid(), 2);
        assert_eq!(track.len(), 2);
        let x = track.at(150, 150).map(|p| p.translation.vector.x);
        assert_eq!(x, Some(0.5), "interpolated over the invalid samples");
    }

    #[test]
    fn quaternion_sign_is_canonical() {
        let pose = isometry([0.0; 3], [-0.5, 0.5, 0.5, 0.5]);
        assert!(pose_values(&pose)[3] >= 0.0);
    }
}
