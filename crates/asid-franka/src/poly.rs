//! Polynomials of degree ≤ 5 in time, with exact extrema on an interval.
//!
//! The interpolator checks each planned segment against velocity, acceleration and jerk limits.
//! Sampling could miss a peak between samples, so the extrema come from the roots of the
//! derivative, found recursively: between consecutive roots of `p''` the derivative `p'` is
//! monotone and has at most one root, which bisection finds.

/// `c[0] + c[1] t + ... + c[5] t^5`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Poly5 {
    pub(crate) c: [f64; 6],
}

impl Poly5 {
    /// Quintic from position, velocity and acceleration at `t = 0` to those at `t = duration_s`.
    pub(crate) fn hermite(start: [f64; 3], end: [f64; 3], duration_s: f64) -> Self {
        let [q0, v0, a0] = start;
        let [q1, v1, a1] = end;
        let t = duration_s;
        let d = q1 - q0;
        let (t2, t3) = (t * t, t * t * t);
        Self {
            c: [
                q0,
                v0,
                0.5 * a0,
                (20.0 * d - (8.0 * v1 + 12.0 * v0) * t - (3.0 * a0 - a1) * t2) / (2.0 * t3),
                (-30.0 * d + (14.0 * v1 + 16.0 * v0) * t + (3.0 * a0 - 2.0 * a1) * t2)
                    / (2.0 * t3 * t),
                (12.0 * d - 6.0 * (v1 + v0) * t + (a1 - a0) * t2) / (2.0 * t3 * t2),
            ],
        }
    }

    /// Quartic that brings velocity and acceleration from `(v0, a0)` to zero at `duration_s`,
    /// ending wherever that leads (velocity is a cubic blend to rest).
    pub(crate) fn to_rest(q0: f64, v0: f64, a0: f64, duration_s: f64) -> Self {
        let t = duration_s;
        Self {
            c: [
                q0,
                v0,
                0.5 * a0,
                -2.0 * a0 / (3.0 * t) - v0 / (t * t),
                (v0 + 0.5 * a0 * t) / (2.0 * t * t * t),
                0.0,
            ],
        }
    }

    pub(crate) fn eval(&self, t: f64) -> f64 {
        self.c.iter().rev().fold(0.0, |acc, &ci| acc * t + ci)
    }

    pub(crate) fn deriv(&self) -> Self {
        let mut c = [0.0; 6];
        for (i, ci) in c.iter_mut().enumerate().take(5) {
            *ci = self.c[i + 1] * (i + 1) as f64;
        }
        Self { c }
    }

    fn degree(&self) -> usize {
        self.c.iter().rposition(|&x| x != 0.0).unwrap_or(0)
    }

    /// Roots in `[lo, hi]`, ascending.
    fn roots_in(&self, lo: f64, hi: f64) -> Vec<f64> {
        match self.degree() {
            0 => Vec::new(),
            1 => {
                let r = -self.c[0] / self.c[1];
                if (lo..=hi).contains(&r) {
                    vec![r]
                } else {
                    Vec::new()
                }
            }
            _ => {
                let mut knots = vec![lo];
                knots.extend(self.deriv().roots_in(lo, hi));
                knots.push(hi);
                let mut out = Vec::new();
                for w in knots.windows(2) {
                    if let Some(r) = self.bisect(w[0], w[1]) {
                        out.push(r);
                    }
                }
                out
            }
        }
    }

    /// The root of a function monotone on `[a, b]`, if its sign changes there.
    fn bisect(&self, mut a: f64, mut b: f64) -> Option<f64> {
        let (fa, fb) = (self.eval(a), self.eval(b));
        if fa == 0.0 {
            return Some(a);
        }
        if fa.signum() == fb.signum() {
            return None;
        }
        let rising = fb > fa;
        for _ in 0..100 {
            let m = 0.5 * (a + b);
            if m <= a || m >= b {
                break;
            }
            if (self.eval(m) < 0.0) == rising {
                a = m;
            } else {
                b = m;
            }
        }
        Some(0.5 * (a + b))
    }

    /// `(min, max)` of the polynomial on `[0, t_end]`.
    pub(crate) fn range(&self, t_end: f64) -> (f64, f64) {
        let mut lo = self.eval(0.0).min(self.eval(t_end));
        let mut hi = self.eval(0.0).max(self.eval(t_end));
        for r in self.deriv().roots_in(0.0, t_end) {
            let v = self.eval(r);
            lo = lo.min(v);
            hi = hi.max(v);
        }
        (lo, hi)
    }

    /// Largest absolute value on `[0, t_end]`.
    pub(crate) fn max_abs(&self, t_end: f64) -> f64 {
        let (lo, hi) = self.range(t_end);
        lo.abs().max(hi.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn hermite_meets_its_boundary_conditions() {
        let (s, e, t) = ([0.3, -0.2, 1.5], [0.5, 0.7, -2.0], 0.05);
        let p = Poly5::hermite(s, e, t);
        let (d, dd) = (p.deriv(), p.deriv().deriv());
        assert!(close(p.eval(0.0), s[0]) && close(d.eval(0.0), s[1]) && close(dd.eval(0.0), s[2]));
        assert!(close(p.eval(t), e[0]) && close(d.eval(t), e[1]) && close(dd.eval(t), e[2]));
    }

    #[test]
    fn to_rest_ends_at_rest() {
        let p = Poly5::to_rest(1.0, 0.8, -3.0, 0.4);
        assert!(close(p.deriv().eval(0.4), 0.0));
        assert!(close(p.deriv().deriv().eval(0.4), 0.0));
        assert!(close(p.deriv().deriv().eval(0.0), -3.0));
    }

    #[test]
    fn extrema_match_dense_sampling() {
        let p = Poly5::hermite([0.0, 1.0, 0.0], [0.1, -0.5, 0.0], 0.1);
        for q in [p, p.deriv(), p.deriv().deriv(), p.deriv().deriv().deriv()] {
            let (lo, hi) = q.range(0.1);
            let (mut slo, mut shi) = (f64::INFINITY, f64::NEG_INFINITY);
            for k in 0..=100_000 {
                let v = q.eval(0.1 * k as f64 / 100_000.0);
                slo = slo.min(v);
                shi = shi.max(v);
            }
            assert!(
                lo <= slo + 1e-12 && hi >= shi - 1e-12,
                "{lo} {slo} {hi} {shi}"
            );
            assert!((lo - slo).abs() < 1e-6 * (1.0 + slo.abs()));
            assert!((hi - shi).abs() < 1e-6 * (1.0 + shi.abs()));
        }
    }
}
