//! A quasi-static pusher-slider reference: the test oracle for planar sliding under pushes.
//!
//! The slider rests on the table with Coulomb friction integrated over support points (corners or
//! a footprint, loads balancing the centre of mass); a disc pusher follows a path and touches the
//! slider at one point with its own friction (stick or slide). Inertia is neglected: at every
//! instant the friction wrench balances the pusher's force. Sources: Mason, "Mechanics and
//! planning of manipulator pushing operations" (IJRR 1986); Goyal, Ruina and Papadopoulos,
//! "Planar sliding with dry friction" (Wear 1991); Lynch, Maekawa and Tanie, "Manipulation and
//! active sensing by pushing using tactile feedback" (IROS 1992).
//!
//! Quasi-static motion under velocity constraints is a convex problem (maximum dissipation): the
//! slider's twist minimises the friction dissipation rate `D(t)` subject to the pusher's velocity
//! constraints; the Lagrange multipliers are the pusher's force. Sticking contact constrains the
//! contact point's full velocity; when the force this needs leaves the pusher's friction cone, the
//! force lies on the cone's edge and only the normal velocity is constrained
//! ([`crate::support::step`] with zero inertia; the simulator uses the same step with the body's
//! inertia, so this reference checks everything around it: support geometry, loads, contact
//! extraction, the engine's integration and contacts, and the effect of inertia).

use nalgebra::Vector3;

use crate::support::{PushContact, SupportPoint, step};

/// The slider's outline in its plane (about its geometric centre).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outline {
    /// A rectangle with half extents along body x and y.
    Rect {
        /// Half extents (m).
        half_m: [f64; 2],
    },
    /// A disc.
    Disc {
        /// Radius (m).
        radius_m: f64,
    },
}

/// A slider: outline, centre of mass and support, all in the body frame about the geometric centre.
#[derive(Debug, Clone)]
pub struct Slider {
    /// Outline of the footprint.
    pub outline: Outline,
    /// Centre of mass (m).
    pub com_m: [f64; 2],
    /// Support points; `r_m` here is body-frame, about the centre of mass.
    pub support: Vec<SupportPoint>,
}

/// A disc pusher.
#[derive(Debug, Clone, Copy)]
pub struct Pusher {
    /// Radius (m).
    pub radius_m: f64,
    /// Pusher-slider friction coefficient.
    pub mu: f64,
}

/// Planar pose of the slider's geometric centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanarPose {
    /// Position (m).
    pub x_m: f64,
    /// Position (m).
    pub y_m: f64,
    /// Heading (rad).
    pub yaw_rad: f64,
}

fn rot(yaw: f64, v: [f64; 2]) -> [f64; 2] {
    let (s, c) = yaw.sin_cos();
    [c * v[0] - s * v[1], s * v[0] + c * v[1]]
}

/// Closest point of the outline to `q` (body frame), the outward normal there and the distance
/// (negative inside).
fn closest(outline: Outline, q: [f64; 2]) -> ([f64; 2], [f64; 2], f64) {
    match outline {
        Outline::Disc { radius_m } => {
            let d = q[0].hypot(q[1]).max(1e-15);
            let n = [q[0] / d, q[1] / d];
            ([n[0] * radius_m, n[1] * radius_m], n, d - radius_m)
        }
        Outline::Rect { half_m: h } => {
            let c = [q[0].clamp(-h[0], h[0]), q[1].clamp(-h[1], h[1])];
            let d = [q[0] - c[0], q[1] - c[1]];
            let dist = d[0].hypot(d[1]);
            if dist > 0.0 {
                return (c, [d[0] / dist, d[1] / dist], dist);
            }
            // Inside: the nearest face.
            let gaps = [h[0] - q[0], h[0] + q[0], h[1] - q[1], h[1] + q[1]];
            let k = (0..4)
                .min_by(|&a, &b| gaps[a].total_cmp(&gaps[b]))
                .unwrap_or(0);
            let (c, n) = match k {
                0 => ([h[0], q[1]], [1.0, 0.0]),
                1 => ([-h[0], q[1]], [-1.0, 0.0]),
                2 => ([q[0], h[1]], [0.0, 1.0]),
                _ => ([q[0], -h[1]], [0.0, -1.0]),
            };
            (c, n, -gaps[k])
        }
    }
}

/// Pushes `slider` from `start` along `path` (pusher centre positions, one per `dt_s`) and returns
/// the slider's pose after every step.
pub fn push(
    slider: &Slider,
    start: PlanarPose,
    pusher: Pusher,
    path: &[[f64; 2]],
    dt_s: f64,
) -> Vec<PlanarPose> {
    let mut pose = start;
    let mut out = Vec::with_capacity(path.len());
    for w in path.windows(2) {
        let (p0, p1) = (w[0], w[1]);
        let vp = [(p1[0] - p0[0]) / dt_s, (p1[1] - p0[1]) / dt_s];
        let q = rot(-pose.yaw_rad, [p0[0] - pose.x_m, p0[1] - pose.y_m]);
        let (c_b, n_b, dist) = closest(slider.outline, q);
        let n = rot(pose.yaw_rad, n_b);
        if dist > pusher.radius_m + 1e-9 || vp[0] * n[0] + vp[1] * n[1] >= 0.0 {
            out.push(pose);
            continue;
        }
        // World support about the centre of mass and the contact point relative to it.
        let points: Vec<SupportPoint> = slider
            .support
            .iter()
            .map(|p| SupportPoint {
                r_m: rot(pose.yaw_rad, p.r_m),
                ..*p
            })
            .collect();
        let rc = rot(
            pose.yaw_rad,
            [c_b[0] - slider.com_m[0], c_b[1] - slider.com_m[1]],
        );
        let contact = PushContact {
            r_m: rc,
            normal: n,
            pusher_velocity_m_s: vp,
            mu: pusher.mu,
        };
        let t = step(&points, [0.0; 3], [0.0; 3], dt_s, Some(&contact)).twist;
        let t = Vector3::from(t);
        let com = rot(pose.yaw_rad, slider.com_m);
        let com_w = [
            pose.x_m + com[0] + t.x * dt_s,
            pose.y_m + com[1] + t.y * dt_s,
        ];
        let yaw = pose.yaw_rad + t.z * dt_s;
        let com_new = rot(yaw, slider.com_m);
        pose = PlanarPose {
            x_m: com_w[0] - com_new[0],
            y_m: com_w[1] - com_new[1],
            yaw_rad: yaw,
        };
        out.push(pose);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corners_slider(half: [f64; 2], com: [f64; 2], mu: f64, weight_n: f64) -> Slider {
        let pts = [
            [half[0], half[1]],
            [half[0], -half[1]],
            [-half[0], half[1]],
            [-half[0], -half[1]],
        ];
        let w = crate::support::balanced_weights(&pts, com);
        Slider {
            outline: Outline::Rect { half_m: half },
            com_m: com,
            support: pts
                .iter()
                .zip(w)
                .map(|(p, w)| SupportPoint {
                    r_m: [p[0] - com[0], p[1] - com[1]],
                    normal_n: w * weight_n,
                    mu,
                    spin_m: 0.0,
                })
                .collect(),
        }
    }

    /// Where the slider ends, pushed from the origin along `path` at 1 ms steps.
    fn end_pose(s: &Slider, p: Pusher, path: &[[f64; 2]]) -> PlanarPose {
        let origin = PlanarPose {
            x_m: 0.0,
            y_m: 0.0,
            yaw_rad: 0.0,
        };
        push(s, origin, p, path, 1e-3)
            .last()
            .copied()
            .unwrap_or(origin)
    }

    fn straight(from: [f64; 2], to: [f64; 2], n: usize) -> Vec<[f64; 2]> {
        (0..=n)
            .map(|k| {
                let a = k as f64 / n as f64;
                [
                    from[0] + a * (to[0] - from[0]),
                    from[1] + a * (to[1] - from[1]),
                ]
            })
            .collect()
    }

    #[test]
    fn push_through_the_centre_translates() {
        let s = corners_slider([0.02, 0.15], [0.0, 0.0], 0.25, 0.245);
        let p = Pusher {
            radius_m: 0.01,
            mu: 0.4,
        };
        let path = straight([-0.03, 0.0], [0.07, 0.0], 1000);
        let end = end_pose(&s, p, &path);
        assert!(end.yaw_rad.abs() < 1e-9, "{end:?}");
        // In contact from the start: the slider moves with the pusher.
        assert!((end.x_m - 0.1).abs() < 1e-4, "{end:?}");
    }

    #[test]
    fn rod_on_corners_turns_about_the_far_corners() {
        // Closed form: a slender slider supported at two pairs of corners and pushed across its
        // long axis at offset d (0 < d < L) by a frictionless pusher turns about the far pair at
        // rate 1 / (L + d) per metre of push, with pusher force mu N L / (L + d).
        for d in [0.01, 0.03, 0.1] {
            let mut s = corners_slider([0.002, 0.15], [0.0, 0.0], 0.25, 0.245);
            s.support = [0.15, -0.15]
                .iter()
                .map(|y| SupportPoint {
                    r_m: [0.0, *y],
                    normal_n: 0.5 * 0.245,
                    mu: 0.25,
                    spin_m: 0.0,
                })
                .collect();
            let p = Pusher {
                radius_m: 0.0,
                mu: 0.0,
            };
            let travel = 1e-4;
            let path = straight([-0.002, d], [-0.002 + travel, d], 10);
            let end = end_pose(&s, p, &path);
            let rate = end.yaw_rad / travel;
            let expected = -1.0 / (0.15 + d);
            assert!(
                (rate - expected).abs() < 2e-3 * expected.abs(),
                "d = {d}: {rate} vs {expected}"
            );
        }
    }
}
