//! Planar friction of an object resting on the table, integrated over its support.
//!
//! rapier resolves friction per contact manifold and point; for an object sliding and spinning
//! on a flat face that turns slender objects far too little under off-centre pushes (the rod of
//! `docs/benchmarks.md`, "Planar sliding"). Here the table's Coulomb friction is integrated over the
//! support points of the bottom face instead (Goyal, Ruina and Papadopoulos 1991, "Planar sliding
//! with dry friction"): every point carries its share of the normal force and opposes its own
//! velocity, so sliding and spinning share one friction budget and the limit surface is exact, not
//! an ellipse. An optional torsional length adds a spin term per point with an elliptic coupling
//! (as MuJoCo's elliptic cone does for `condim = 4`), so the whole contact's spin-in-place torque
//! per unit normal force equals the scene's `torsional_friction_m`.
//!
//! The step is implicit (maximum dissipation, backward Euler): the planar twist after one step
//! minimises `0.5 |t - t*|_M^2 + dt D(t)`, where `D` is the dissipation rate. An object that the
//! friction can hold stops exactly; one that slides feels the sliding wrench; nothing reverses.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, DimMin, DimName, Matrix3, OMatrix, OVector, U3, U4, U5, Vector3};

/// Velocity (m/s) below which the dissipation is rounded off so the step is smooth.
const SMOOTHING_M_S: f64 = 1e-7;

/// One support point of the planar friction model, in the world's horizontal plane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SupportPoint {
    /// Position relative to the centre of mass's projection on the table (m).
    pub r_m: [f64; 2],
    /// Normal force on this point (N).
    pub normal_n: f64,
    /// Sliding friction coefficient at this point.
    pub mu: f64,
    /// Spin friction length of the point itself (m); 0 for pure Coulomb.
    pub spin_m: f64,
}

/// Normal-load shares of points in a face plane that balance a centre of mass at `com`:
/// pressure linear in position, clamped at zero where the linear law would pull, solved by
/// Newton on the two slopes. Weights sum to 1. Points must be symmetric about the face centre.
pub fn balanced_weights(points: &[[f64; 2]], com: [f64; 2]) -> Vec<f64> {
    let n = points.len().max(1) as f64;
    let (mut suu, mut svv) = (0.0, 0.0);
    for p in points {
        suu += p[0] * p[0] / n;
        svv += p[1] * p[1] / n;
    }
    let mut slope = [
        if suu > 0.0 { com[0] / suu } else { 0.0 },
        if svv > 0.0 { com[1] / svv } else { 0.0 },
    ];
    let pressure = |s: [f64; 2], p: &[f64; 2]| (1.0 + s[0] * p[0] + s[1] * p[1]).max(0.0);
    for _ in 0..30 {
        let mut f = [0.0; 2];
        let mut total = 0.0;
        let mut jac = [[0.0; 2]; 2];
        for p in points {
            let w = pressure(slope, p);
            total += w;
            let d = [p[0] - com[0], p[1] - com[1]];
            f[0] += w * d[0];
            f[1] += w * d[1];
            if w > 0.0 {
                for a in 0..2 {
                    for b in 0..2 {
                        jac[a][b] += d[a] * p[b];
                    }
                }
            }
        }
        let scale = total.max(1e-300);
        if (f[0].abs() + f[1].abs()) / scale < 1e-12 {
            break;
        }
        // The face may be degenerate along an axis (a line of points): keep that slope.
        let det = jac[0][0] * jac[1][1] - jac[0][1] * jac[1][0];
        let step = if det.abs() > 1e-300 {
            [
                (jac[1][1] * f[0] - jac[0][1] * f[1]) / det,
                (jac[0][0] * f[1] - jac[1][0] * f[0]) / det,
            ]
        } else {
            [
                if jac[0][0].abs() > 1e-300 {
                    f[0] / jac[0][0]
                } else {
                    0.0
                },
                if jac[1][1].abs() > 1e-300 {
                    f[1] / jac[1][1]
                } else {
                    0.0
                },
            ]
        };
        slope = [slope[0] - step[0], slope[1] - step[1]];
    }
    let w: Vec<f64> = points.iter().map(|p| pressure(slope, p)).collect();
    let total: f64 = w.iter().sum();
    if total > 0.0 {
        w.iter().map(|x| x / total).collect()
    } else {
        vec![1.0 / n; points.len()]
    }
}

/// Makes the whole support's spin-in-place torque per unit normal force equal `torsion_m`:
/// below what the points' Coulomb friction gives, the points move towards the centre of mass
/// (pressure concentrated under it); above, each point gets the spin length that makes up the rest.
pub fn apply_torsion(points: &mut [SupportPoint], torsion_m: f64) {
    let total_n: f64 = points.iter().map(|p| p.normal_n).sum();
    if total_n <= 0.0 {
        return;
    }
    let natural = mean_spin(points, total_n, 0.0);
    if torsion_m <= natural {
        let s = if natural > 0.0 {
            torsion_m / natural
        } else {
            0.0
        };
        for p in points.iter_mut() {
            p.r_m = [p.r_m[0] * s, p.r_m[1] * s];
        }
        return;
    }
    let c0 = spin_length(points, total_n, torsion_m);
    for p in points.iter_mut() {
        p.spin_m = c0;
    }
}

/// The points' mean spin torque per unit normal force with spin length `c0`:
/// `spin(c0) = sum n_i sqrt(mu_i^2 |r_i|^2 + c0^2) / total_n`.
fn mean_spin(points: &[SupportPoint], total_n: f64, c0: f64) -> f64 {
    points
        .iter()
        .map(|p| p.normal_n * (p.mu * p.mu * norm2(p.r_m) + c0 * c0).sqrt())
        .sum::<f64>()
        / total_n
}

/// The spin length `c0` at which the points' mean spin torque per unit normal force,
/// [`mean_spin`], equals `torsion_m` (above the
/// points' own, `spin(0)`). `spin` is increasing and convex in `c0` and `spin(torsion_m) >=
/// torsion_m`, so Newton from `c0 = torsion_m` descends monotonically onto the root (a bisection
/// of 60 halvings took a third of a puck's rollout). Needs every `normal_n >= 0` (loads are
/// clamped at zero) and a finite `torsion_m` (validated with the scene).
fn spin_length(points: &[SupportPoint], total_n: f64, torsion_m: f64) -> f64 {
    debug_assert!(torsion_m.is_finite() && points.iter().all(|p| p.normal_n >= 0.0));
    let mut c0 = torsion_m;
    for _ in 0..200 {
        let (mut f, mut df) = (0.0, 0.0);
        for p in points {
            let s = (p.mu * p.mu * norm2(p.r_m) + c0 * c0).sqrt();
            f += p.normal_n * s;
            if s > 0.0 {
                df += p.normal_n * c0 / s;
            }
        }
        let (f, df) = (f / total_n - torsion_m, df / total_n);
        if f <= 0.0 || df <= 0.0 {
            break;
        }
        let next = (c0 - f / df).max(0.0);
        let moved = c0 - next;
        c0 = next;
        if moved <= 1e-15 * c0 {
            break;
        }
    }
    c0
}

fn norm2(v: [f64; 2]) -> f64 {
    v[0] * v[0] + v[1] * v[1]
}

/// The friction wrench `(fx, fy, torque_z)` about the centre of mass at planar twist
/// `(vx, vy, wz)`, exact (no smoothing); zero at rest. The quantity a limit surface describes.
pub fn friction_wrench(points: &[SupportPoint], twist: [f64; 3]) -> [f64; 3] {
    let mut w = [0.0; 3];
    for p in points {
        let v = [
            twist[0] - twist[2] * p.r_m[1],
            twist[1] + twist[2] * p.r_m[0],
        ];
        let k = [p.mu * p.mu, p.spin_m * p.spin_m];
        let s = (k[0] * norm2(v) + k[1] * twist[2] * twist[2]).sqrt();
        if s <= 0.0 {
            continue;
        }
        let f = [-p.normal_n * k[0] * v[0] / s, -p.normal_n * k[0] * v[1] / s];
        w[0] += f[0];
        w[1] += f[1];
        w[2] += p.r_m[0] * f[1] - p.r_m[1] * f[0] - p.normal_n * k[1] * twist[2] / s;
    }
    w
}

/// For the point's sliding velocity and spin rate `z = B t` (`B` maps the twist to the point):
/// the weights `k = (mu^2, mu^2, spin^2)`, the weighted `kz`, and the smoothed rate
/// `s = sqrt(z.kz + eps^2)`.
#[inline]
fn point_rate(p: &SupportPoint, t: &Vector3<f64>) -> ([f64; 3], [f64; 3], f64) {
    let eps2 = SMOOTHING_M_S * SMOOTHING_M_S;
    let z = [t.x - p.r_m[1] * t.z, t.y + p.r_m[0] * t.z, t.z];
    let k = [p.mu * p.mu, p.mu * p.mu, p.spin_m * p.spin_m];
    let kz = [k[0] * z[0], k[1] * z[1], k[2] * z[2]];
    let s = (z[0] * kz[0] + z[1] * kz[1] + z[2] * kz[2] + eps2).sqrt();
    (k, kz, s)
}

/// The dissipation rate (smoothed) alone: what a line search compares.
pub(crate) fn dissipation_rate(points: &[SupportPoint], t: &Vector3<f64>) -> f64 {
    let mut d = 0.0;
    for p in points {
        d += p.normal_n * point_rate(p, t).2;
    }
    d
}

/// Dissipation rate (smoothed), its gradient and Hessian in the twist. The gradient is the wrench
/// that keeps the twist going against friction (minus the friction wrench).
///
/// Per point, with `B = [[1, 0, -ry], [0, 1, rx], [0, 0, 1]]` and `A = n B^T`: the gradient adds
/// `A (kz / s)` and the Hessian `A hz B`, `hz = diag(k) / s - (kz / s)(kz / s)^T / s`. Written out
/// entry by entry (the hottest loop of a planar step): the products with `B`'s zeros and ones are
/// left out, and every other product and sum is taken in the order of the 3x3 matrix products
/// (`support_tests.rs` holds it bit-identical to them for finite twists).
pub(crate) fn dissipation(
    points: &[SupportPoint],
    t: &Vector3<f64>,
) -> (f64, Vector3<f64>, Matrix3<f64>) {
    dissipation_with(points, t, true)
}

/// The gradient of the dissipation rate alone (the friction wrench, negated).
fn dissipation_gradient(points: &[SupportPoint], t: &Vector3<f64>) -> Vector3<f64> {
    dissipation_with(points, t, false).1
}

/// [`dissipation`], with the Hessian left at zero unless `hessian`.
#[inline]
fn dissipation_with(
    points: &[SupportPoint],
    t: &Vector3<f64>,
    hessian: bool,
) -> (f64, Vector3<f64>, Matrix3<f64>) {
    let (mut d, mut g, mut h) = (0.0, Vector3::zeros(), Matrix3::zeros());
    for p in points {
        let (k, kz, s) = point_rate(p, t);
        let n = p.normal_n;
        d += n * s;
        let gz = [kz[0] / s, kz[1] / s, kz[2] / s];
        // A = n B^T: rows (n, 0, 0), (0, n, 0), (-n ry, n rx, n).
        let (a20, a21) = (n * -p.r_m[1], n * p.r_m[0]);
        g[0] += n * gz[0];
        g[1] += n * gz[1];
        g[2] += a20 * gz[0] + a21 * gz[1] + n * gz[2];
        if !hessian {
            continue;
        }
        // hz, symmetric: diag(k) / s - gz gz^T / s.
        let mut hz = [[0.0; 3]; 3];
        for (i, row) in hz.iter_mut().enumerate() {
            for (j, e) in row.iter_mut().enumerate() {
                let diag = if i == j { k[i] / s } else { 0.0 };
                *e = diag - gz[i] * gz[j] / s;
            }
        }
        // M = A hz.
        let row2 = |j: usize| a20 * hz[0][j] + a21 * hz[1][j] + n * hz[2][j];
        let m = [
            [n * hz[0][0], n * hz[0][1], n * hz[0][2]],
            [n * hz[1][0], n * hz[1][1], n * hz[1][2]],
            [row2(0), row2(1), row2(2)],
        ];
        // M B: columns 0 and 1 are M's; column 2 is M (-ry, rx, 1).
        for (i, row) in m.iter().enumerate() {
            h[(i, 0)] += row[0];
            h[(i, 1)] += row[1];
            h[(i, 2)] += row[0] * -p.r_m[1] + row[1] * p.r_m[0] + row[2];
        }
    }
    (d, g, h)
}

/// A pusher touching the object: the constraint its velocity puts on the object's contact point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PushContact {
    /// Contact point relative to the object's centre of mass (m).
    pub r_m: [f64; 2],
    /// Unit normal of the object's surface there, pointing out of the object (towards the pusher).
    pub normal: [f64; 2],
    /// The pusher's velocity at the contact point (m/s).
    pub pusher_velocity_m_s: [f64; 2],
    /// Pusher-object friction coefficient.
    pub mu: f64,
}

/// How the pusher's contact ended up in a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactMode {
    /// No pusher, or it does not push.
    Free,
    /// The contact point moves with the pusher.
    Stick,
    /// The pusher slides along the surface, its force on the friction cone's edge.
    Slide,
}

/// The twist after one step and the friction wrench that produces it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Planar twist `(vx, vy, wz)` of the centre of mass after the step.
    pub twist: [f64; 3],
    /// Friction wrench `(fx, fy, tz)` of the table at that twist (N, N m).
    pub friction: [f64; 3],
    /// The pusher's impulse on the object over the step (N s).
    pub pusher_impulse: [f64; 2],
    /// The contact mode.
    pub mode: ContactMode,
}

/// The wrench of a unit force along `f` at `r` about the centre of mass (the contact Jacobian's row).
fn unit_wrench(r: [f64; 2], f: [f64; 2]) -> Vector3<f64> {
    Vector3::new(f[0], f[1], r[0] * f[1] - r[1] * f[0])
}

struct Objective<'a> {
    points: &'a [SupportPoint],
    m: Vector3<f64>,
    t_star: Vector3<f64>,
    dt: f64,
}

impl Objective<'_> {
    fn value(&self, t: &Vector3<f64>) -> f64 {
        let e = t - self.t_star;
        0.5 * e.dot(&self.m.component_mul(&e)) + self.dt * dissipation_rate(self.points, t)
    }

    /// Gradient and Hessian; the gradient is the impulse the contacts must supply.
    fn derivatives(&self, t: &Vector3<f64>) -> (Vector3<f64>, Matrix3<f64>) {
        let (_, g, h) = dissipation(self.points, t);
        (
            self.impulse(t, &g),
            Matrix3::from_diagonal(&self.m) + self.dt * h,
        )
    }

    /// The gradient alone (no Hessian): the impulse the contacts must supply.
    fn gradient(&self, t: &Vector3<f64>) -> Vector3<f64> {
        self.impulse(t, &dissipation_gradient(self.points, t))
    }

    /// The gradient at `t` given the dissipation's gradient `gd` there.
    fn impulse(&self, t: &Vector3<f64>, gd: &Vector3<f64>) -> Vector3<f64> {
        self.m.component_mul(&(t - self.t_star)) + self.dt * gd
    }

    /// Minimises the objective subject to `a_i . t = b_i` (Newton on the KKT system of
    /// `N = 3 + a.len()` rows, on the stack).
    fn minimise<N>(&self, a: &[Vector3<f64>], b: &[f64], start: Vector3<f64>) -> Vector3<f64>
    where
        N: DimName + DimMin<N, Output = N>,
        DefaultAllocator: Allocator<N, N> + Allocator<N>,
    {
        let mut t = start;
        let mut value = self.value(&t);
        let tolerance = 1e-12 * (1.0 + b.iter().fold(0.0_f64, |m, x| m.max(x.abs())));
        for _ in 0..100 {
            let (g, h) = self.derivatives(&t);
            let Some((step, infeasible)) = kkt_step::<N>(&g, &h, a, b, &t) else {
                break;
            };
            let mut alpha = 1.0;
            let mut moved = false;
            for _ in 0..50 {
                let cand = t + alpha * step;
                let v = self.value(&cand);
                // While infeasible the full step restores the constraints (they are linear).
                if v <= value || (infeasible > tolerance && alpha == 1.0) {
                    t = cand;
                    value = v;
                    moved = true;
                    break;
                }
                alpha *= 0.5;
            }
            if !moved || (alpha * step).norm() <= 1e-13 * (1.0 + t.norm()) {
                break;
            }
        }
        t
    }
}

/// The Newton step of [`Objective::minimise`] from the KKT system of size `N` (Hessian with a
/// tiny ridge, then one row per constraint: the first `N - 3` of `a`), and the largest constraint
/// violation at `t`; `None` when the system is singular.
fn kkt_step<N>(
    g: &Vector3<f64>,
    h: &Matrix3<f64>,
    a: &[Vector3<f64>],
    b: &[f64],
    t: &Vector3<f64>,
) -> Option<(Vector3<f64>, f64)>
where
    N: DimName + DimMin<N, Output = N>,
    DefaultAllocator: Allocator<N, N> + Allocator<N>,
{
    debug_assert!(a.len() + 3 == N::dim() && a.len() == b.len());
    let mut kkt = OMatrix::<f64, N, N>::zeros();
    let mut rhs = OVector::<f64, N>::zeros();
    let ridge = 1e-14 * h.diagonal().max().max(1e-300);
    for r in 0..3 {
        for c in 0..3 {
            kkt[(r, c)] = h[(r, c)];
        }
        kkt[(r, r)] += ridge;
        rhs[r] = -g[r];
    }
    let mut infeasible = 0.0_f64;
    for (i, (ai, bi)) in a.iter().zip(b).take(N::dim().saturating_sub(3)).enumerate() {
        for c in 0..3 {
            kkt[(3 + i, c)] = ai[c];
            kkt[(c, 3 + i)] = ai[c];
        }
        rhs[3 + i] = bi - ai.dot(t);
        infeasible = infeasible.max(rhs[3 + i].abs());
    }
    let sol = kkt.lu().solve(&rhs)?;
    Some((Vector3::new(sol[0], sol[1], sol[2]), infeasible))
}

/// One step of `dt` of an object under table friction and, optionally, a pusher, from the twist
/// `twist` (implicit, maximum dissipation): without a pusher the twist minimises
/// `0.5 |t - t*|_M^2 + dt D(t)`; a pusher that pushes adds its velocity constraint, sticking while
/// the impulse it needs stays inside its friction cone and sliding on the cone's edge otherwise.
/// `inertia` = `(m, m, I_z)`; all zero gives the quasi-static motion.
pub fn step(
    points: &[SupportPoint],
    inertia: [f64; 3],
    twist: [f64; 3],
    dt: f64,
    contact: Option<&PushContact>,
) -> Step {
    let obj = Objective {
        points,
        m: Vector3::from(inertia),
        t_star: Vector3::from(twist),
        dt,
    };
    let finish = |t: Vector3<f64>, mode: ContactMode| {
        let gd = dissipation_gradient(points, &t);
        let g = obj.impulse(&t, &gd);
        Step {
            twist: [t.x, t.y, t.z],
            friction: [-gd.x, -gd.y, -gd.z],
            pusher_impulse: if mode == ContactMode::Free {
                [0.0; 2]
            } else {
                [g.x, g.y]
            },
            mode,
        }
    };
    let zero = Vector3::zeros();
    let free_start = if obj.value(&zero) < obj.value(&obj.t_star) {
        zero
    } else {
        obj.t_star
    };
    let free = obj.minimise::<U3>(&[], &[], free_start);
    let Some(c) = contact else {
        return finish(free, ContactMode::Free);
    };
    let inward = [-c.normal[0], -c.normal[1]];
    let tangent = [-c.normal[1], c.normal[0]];
    let a_in = unit_wrench(c.r_m, inward);
    let b_in = inward[0] * c.pusher_velocity_m_s[0] + inward[1] * c.pusher_velocity_m_s[1];
    if b_in <= 0.0 || a_in.dot(&free) >= b_in {
        return finish(free, ContactMode::Free);
    }
    let ax = unit_wrench(c.r_m, [1.0, 0.0]);
    let ay = unit_wrench(c.r_m, [0.0, 1.0]);
    let stick = obj.minimise::<U5>(&[ax, ay], &c.pusher_velocity_m_s, free);
    let g = obj.gradient(&stick);
    let p_in = g.x * inward[0] + g.y * inward[1];
    let p_t = g.x * tangent[0] + g.y * tangent[1];
    if p_in > 0.0 && p_t.abs() <= c.mu * p_in {
        return finish(stick, ContactMode::Stick);
    }
    // Slide: impulse k e on the cone's edge, the normal velocity kept. Newton on the 4 equations.
    let s = if p_t >= 0.0 { 1.0 } else { -1.0 };
    let e = [
        inward[0] + s * c.mu * tangent[0],
        inward[1] + s * c.mu * tangent[1],
    ];
    let a_e = unit_wrench(c.r_m, e);
    let residual = |t: &Vector3<f64>, k: f64| {
        let r = obj.gradient(t) - k * a_e;
        nalgebra::Vector4::new(r.x, r.y, r.z, a_in.dot(t) - b_in)
    };
    let mut t = stick;
    let mut k = p_in.max(0.0) / (1.0 + c.mu * c.mu).sqrt();
    let mut norm = residual(&t, k).norm();
    for _ in 0..100 {
        let (_, h) = obj.derivatives(&t);
        let mut jac = nalgebra::Matrix4::<f64>::zeros();
        for r in 0..3 {
            for col in 0..3 {
                jac[(r, col)] = h[(r, col)];
            }
            jac[(r, 3)] = -a_e[r];
            jac[(3, r)] = a_in[r];
        }
        let Some(d) = jac.lu().solve(&-residual(&t, k)) else {
            break;
        };
        let mut alpha = 1.0;
        let mut moved = false;
        for _ in 0..50 {
            let tc = t + alpha * Vector3::new(d.x, d.y, d.z);
            let kc = k + alpha * d.w;
            let nc = residual(&tc, kc).norm();
            if nc < norm {
                (t, k, norm) = (tc, kc, nc);
                moved = true;
                break;
            }
            alpha *= 0.5;
        }
        if !moved || norm <= 1e-14 {
            break;
        }
    }
    let scale = 1e-9 * (1.0 + b_in.abs() + k.abs() * a_e.norm());
    // A valid slide: converged, the pusher pushes (k >= 0), and the contact slips against the
    // friction on the chosen edge (the friction impulse s mu k on the object opposes its slip).
    let velocity_scale = 1e-9 * (1.0 + c.pusher_velocity_m_s[0].hypot(c.pusher_velocity_m_s[1]));
    let contact_velocity = |t: &Vector3<f64>| [t.x - t.z * c.r_m[1], t.y + t.z * c.r_m[0]];
    let slip = |t: &Vector3<f64>| {
        let v = contact_velocity(t);
        (v[0] - c.pusher_velocity_m_s[0]) * tangent[0]
            + (v[1] - c.pusher_velocity_m_s[1]) * tangent[1]
    };
    let valid = norm <= scale
        && t.iter().all(|v| v.is_finite())
        && k >= 0.0
        && s * slip(&t) <= velocity_scale;
    if !valid {
        t = if obj.m == Vector3::zeros() {
            // Quasi-static: the direction that dissipates least for a force along the cone's
            // edge, scaled to the pusher's normal velocity.
            let dir = obj.minimise::<U4>(&[a_e], &[1.0], stick);
            let along = a_in.dot(&dir);
            if along > 0.0 && dir.iter().all(|v| v.is_finite()) {
                dir * (b_in / along)
            } else {
                stick
            }
        } else {
            // With inertia: the pusher slides without friction (normal velocity kept), a
            // feasible motion that never pulls.
            obj.minimise::<U4>(&[a_in], &[b_in], free)
        };
    }
    finish(t, ContactMode::Slide)
}

/// The planar twist after one step of `dt` under friction alone, from `twist` (implicit, maximum
/// dissipation). `mass_kg` and `inertia_z` are the body's translational and yaw inertia.
pub fn implicit_twist(
    points: &[SupportPoint],
    mass_kg: f64,
    inertia_z: f64,
    twist: [f64; 3],
    dt: f64,
) -> [f64; 3] {
    step(points, [mass_kg, mass_kg, inertia_z], twist, dt, None).twist
}

#[cfg(test)]
#[path = "support_tests.rs"]
mod tests;
