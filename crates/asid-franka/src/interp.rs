//! Plan-rate joint targets to 1 kHz joint-position commands within the arm's limits.
//!
//! The arm rejects a command stream whose velocity or acceleration jumps, or whose finite
//! differences exceed its speed, acceleration or jerk limits, and stops. So each target becomes a
//! quintic per joint from the current command state `(q, v, a)` to `(target, v_end, a_end)` over
//! the plan period. Nothing is known about later targets, so `v_end` and `a_end` are those of the
//! cubic through the commands at the last three period boundaries and the target, at its end
//! (with a punctual caller those commands are the previous targets). The cubic is exact for
//! plans that are locally cubic, so a smooth plan is followed close to its own curve and the
//! limits apply, in effect, to the plan's own velocity and acceleration (a parabola would be
//! simpler, but its estimation error makes the quintic overshoot the plan's acceleration by up
//! to 2x at 10 samples per plan oscillation, against 1.5x for the cubic). Position, velocity and acceleration are
//! continuous at every boundary; jerk is bounded. The segment's exact extrema are checked before it is accepted, and a target that
//! would break a limit is refused with [`ArmError::Limit`] naming the joint: never clamped.
//!
//! Finite differences of the 1 kHz samples are weighted averages of the continuous derivatives
//! (the command is C² and piecewise polynomial), so bounding the derivatives bounds what the arm
//! measures.
//!
//! Between targets the command continues the last segment's velocity and acceleration for at most
//! `coast_limit_ticks`, then brakes to rest along a jerk- and acceleration-limited quartic; [`Interpolator::brake`] does the same on
//! demand (stop).

use asid_arm::ArmError;

use crate::config::JointLimits;
use crate::poly::Poly5;

/// One arm tick.
pub const DT_S: f64 = 1e-3;

/// What the interpolator is doing.
#[derive(Debug, Clone, PartialEq)]
enum Plan {
    Segment {
        polys: Vec<Poly5>,
        tick: u32,
        ticks: u32,
    },
    Coast {
        ticks: u32,
    },
    Brake {
        polys: Vec<Poly5>,
        tick: u32,
        ticks: u32,
    },
    Rest,
}

/// What happened on a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TickEvent {
    /// This tick's command is the target of the current segment.
    pub segment_done: bool,
    /// Coasting ran out and braking began (the caller was late).
    pub started_braking: bool,
}

/// Turns targets into a 1 kHz command stream; pure computation, no I/O.
#[derive(Debug, Clone)]
pub struct Interpolator {
    limits: JointLimits,
    coast_limit_ticks: u32,
    q: Vec<f64>,
    v: Vec<f64>,
    a: Vec<f64>,
    last_target: Vec<f64>,
    /// Recent commands, newest last, one per tick (ring), for the end-velocity estimate.
    history: History,
    plan: Plan,
}

/// The last `capacity` command positions.
#[derive(Debug, Clone)]
struct History {
    dof: usize,
    capacity: usize,
    data: Vec<f64>,
    len: usize,
    next: usize,
}

impl History {
    fn new(dof: usize, capacity: usize) -> Self {
        Self {
            dof,
            capacity,
            data: vec![0.0; dof * capacity],
            len: 0,
            next: 0,
        }
    }

    fn push(&mut self, q: &[f64]) {
        self.data[self.next * self.dof..(self.next + 1) * self.dof].copy_from_slice(q);
        self.next = (self.next + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }

    /// The command `ticks_ago` ticks before the newest (the oldest kept if further back: before
    /// the motion the arm was at rest there).
    fn ago(&self, ticks_ago: usize) -> &[f64] {
        let back = ticks_ago.min(self.len - 1);
        let idx = (self.next + self.capacity - 1 - back) % self.capacity;
        &self.data[idx * self.dof..(idx + 1) * self.dof]
    }
}

/// Longest plan period the interpolator accepts, in ticks (10 s; the history is sized by it).
pub const MAX_SEGMENT_TICKS: u32 = 10_000;

impl Interpolator {
    /// At rest at `q_start_rad` (the arm's desired position when the motion starts).
    pub fn new(
        limits: JointLimits,
        q_start_rad: &[f64],
        coast_limit_ticks: u32,
    ) -> Result<Self, ArmError> {
        let n = limits.dof();
        check_shape(q_start_rad, n)?;
        let mut history = History::new(n, 3 * MAX_SEGMENT_TICKS as usize + 1);
        history.push(q_start_rad);
        Ok(Self {
            limits,
            coast_limit_ticks,
            q: q_start_rad.to_vec(),
            v: vec![0.0; n],
            a: vec![0.0; n],
            last_target: q_start_rad.to_vec(),
            history,
            plan: Plan::Rest,
        })
    }

    /// At rest at `q_rad` with no history (a new motion starts there).
    pub fn reset(&mut self, q_rad: &[f64]) {
        self.q.copy_from_slice(q_rad);
        self.v.iter_mut().for_each(|x| *x = 0.0);
        self.a.iter_mut().for_each(|x| *x = 0.0);
        self.last_target.copy_from_slice(q_rad);
        self.history.len = 0;
        self.history.push(q_rad);
        self.plan = Plan::Rest;
    }

    /// Current command position.
    pub fn q_rad(&self) -> &[f64] {
        &self.q
    }

    /// Current command velocity.
    pub fn v_rad_s(&self) -> &[f64] {
        &self.v
    }

    /// Current command acceleration.
    pub fn a_rad_s2(&self) -> &[f64] {
        &self.a
    }

    /// The last accepted target.
    pub fn last_target_rad(&self) -> &[f64] {
        &self.last_target
    }

    /// At rest with nothing planned.
    pub fn at_rest(&self) -> bool {
        self.plan == Plan::Rest
    }

    /// Ticks since the last segment ended, while coasting after it (0 otherwise): how late the
    /// next target is.
    pub fn ticks_since_segment(&self) -> u32 {
        match self.plan {
            Plan::Coast { ticks } => ticks,
            _ => 0,
        }
    }

    /// Checks that `target_rad` can be reached within the limits one period of `ticks` ms after
    /// the last boundary (see [`Self::set_target`]), without changing anything.
    pub fn check(&self, target_rad: &[f64], ticks: u32) -> Result<(), ArmError> {
        self.plan_segment(target_rad, ticks).map(|_| ())
    }

    /// Makes `target_rad` the command one period of `ticks` ms after the last segment boundary,
    /// or refuses it (nothing changes then). Returns the ticks until the target is commanded.
    ///
    /// A caller a little late (less than half a period, still coasting) keeps the period grid:
    /// the segment is shortened by the delay so the arm follows the plan's own timing instead of
    /// stretching it, which at short periods would take large accelerations. Later than that,
    /// or from rest, the period starts now.
    pub fn set_target(&mut self, target_rad: &[f64], ticks: u32) -> Result<u32, ArmError> {
        let (polys, duration) = self.plan_segment(target_rad, ticks)?;
        self.last_target = target_rad.to_vec();
        self.plan = Plan::Segment {
            polys,
            tick: 0,
            ticks: duration,
        };
        Ok(duration)
    }

    /// Brakes to rest from the current command state, within acceleration and jerk limits (what
    /// `stop` and [`asid_arm::ArmCommand::Hold`] do).
    pub fn brake(&mut self) {
        if self.v.iter().chain(&self.a).all(|x| *x == 0.0) {
            self.plan = Plan::Rest;
            return;
        }
        let feasible = |ticks: u32| -> Option<Vec<Poly5>> {
            let t = f64::from(ticks) * DT_S;
            let polys: Vec<Poly5> = (0..self.q.len())
                .map(|i| Poly5::to_rest(self.q[i], self.v[i], self.a[i], t))
                .collect();
            let ok = polys.iter().enumerate().all(|(i, p)| {
                let d2 = p.deriv().deriv();
                d2.max_abs(t) <= self.limits.acceleration_rad_s2[i]
                    && d2.deriv().max_abs(t) <= self.limits.jerk_rad_s3[i]
            });
            ok.then_some(polys)
        };
        // Longest brake considered: 60 s (far beyond any real one; keeps the search finite).
        const MAX_TICKS: u32 = 60_000;
        let mut hi = 1;
        let mut best = None;
        while hi <= MAX_TICKS {
            if let Some(p) = feasible(hi) {
                best = Some((p, hi));
                break;
            }
            hi *= 2;
        }
        let (mut polys, mut ticks) = match best {
            Some(b) => b,
            // Nothing within limits (absurd state): take the longest brake anyway, stopping is
            // still the safest thing to do.
            None => {
                let t = f64::from(MAX_TICKS) * DT_S;
                let p = (0..self.q.len())
                    .map(|i| Poly5::to_rest(self.q[i], self.v[i], self.a[i], t))
                    .collect();
                (p, MAX_TICKS)
            }
        };
        let mut lo = ticks / 2;
        while ticks - lo > 1 {
            let mid = (lo + ticks) / 2;
            match feasible(mid) {
                Some(p) => (polys, ticks) = (p, mid),
                None => lo = mid,
            }
        }
        self.plan = Plan::Brake {
            polys,
            tick: 0,
            ticks,
        };
    }

    /// Advances one millisecond; the new command is [`Self::q_rad`].
    pub fn tick(&mut self) -> TickEvent {
        let ev = self.advance();
        self.history.push(&self.q);
        ev
    }

    fn advance(&mut self) -> TickEvent {
        let mut ev = TickEvent::default();
        if let Plan::Coast { ticks } = &mut self.plan {
            *ticks += 1;
            // Coasting extrapolates the end of the last segment at constant acceleration (jerk
            // zero, nothing jumps); it gives way to braking when it runs out or would exceed a
            // speed limit.
            let too_fast = self
                .v
                .iter()
                .zip(&self.a)
                .zip(&self.limits.velocity_rad_s)
                .any(|((v, a), vmax)| (v + a * DT_S).abs() > *vmax);
            if *ticks > self.coast_limit_ticks || too_fast {
                self.brake();
                ev.started_braking = true;
            } else {
                for i in 0..self.q.len() {
                    self.q[i] += self.v[i] * DT_S + 0.5 * self.a[i] * DT_S * DT_S;
                    self.v[i] += self.a[i] * DT_S;
                }
                return ev;
            }
        }
        match &mut self.plan {
            Plan::Segment { polys, tick, ticks } | Plan::Brake { polys, tick, ticks } => {
                *tick += 1;
                let t = f64::from(*tick) * DT_S;
                for (i, p) in polys.iter().enumerate() {
                    let d = p.deriv();
                    self.q[i] = p.eval(t);
                    self.v[i] = d.eval(t);
                    self.a[i] = d.deriv().eval(t);
                }
                if *tick >= *ticks {
                    let braking = matches!(self.plan, Plan::Brake { .. });
                    // Pin the boundary values the polynomials were built to hit, so rounding does
                    // not accumulate across segments.
                    if braking {
                        self.a.iter_mut().for_each(|a| *a = 0.0);
                        self.v.iter_mut().for_each(|v| *v = 0.0);
                        self.plan = Plan::Rest;
                    } else {
                        self.q.clone_from(&self.last_target);
                        self.plan = Plan::Coast { ticks: 0 };
                        ev.segment_done = true;
                    }
                }
            }
            Plan::Coast { .. } | Plan::Rest => {}
        }
        ev
    }

    fn plan_segment(&self, target: &[f64], ticks: u32) -> Result<(Vec<Poly5>, u32), ArmError> {
        let n = self.q.len();
        check_shape(target, n)?;
        if ticks == 0 || ticks > MAX_SEGMENT_TICKS {
            return Err(ArmError::BadCommand(format!(
                "segment of {ticks} ticks outside 1..={MAX_SEGMENT_TICKS}"
            )));
        }
        // Ticks since the last boundary, if the grid is kept.
        let late = match self.plan {
            Plan::Coast { ticks: d } if 2 * d < ticks => d,
            _ => 0,
        };
        let duration = ticks - late;
        // The commands at the last three period boundaries, newest first.
        let back = |periods: u32| self.history.ago((late + periods * ticks) as usize);
        let (b0, b1, b2) = (back(0), back(1), back(2));
        let t = f64::from(ticks) * DT_S;
        let l = &self.limits;
        let mut polys = Vec::with_capacity(n);
        // The worst violation across joints and limits, as (value / bound, error).
        let mut worst: Option<(f64, ArmError)> = None;
        let mut consider = |ratio: f64, err: ArmError| {
            if ratio > 1.0 && worst.as_ref().is_none_or(|(r, _)| ratio > *r) {
                worst = Some((ratio, err));
            }
        };
        for i in 0..n {
            let (q3, q2, q1, q0) = (target[i], b0[i], b1[i], b2[i]);
            let v_end = (11.0 * q3 - 18.0 * q2 + 9.0 * q1 - 2.0 * q0) / (6.0 * t);
            let a_end = (2.0 * q3 - 5.0 * q2 + 4.0 * q1 - q0) / (t * t);
            let td = f64::from(duration) * DT_S;
            let p = Poly5::hermite([self.q[i], self.v[i], self.a[i]], [q3, v_end, a_end], td);
            let name = &l.names[i];
            let (lo, hi) = p.range(td);
            if lo < l.position_min_rad[i] {
                let e = limit("joint position", name, lo, l.position_min_rad[i], "rad");
                consider(1.0 + (l.position_min_rad[i] - lo), e);
            }
            if hi > l.position_max_rad[i] {
                let e = limit("joint position", name, hi, l.position_max_rad[i], "rad");
                consider(1.0 + (hi - l.position_max_rad[i]), e);
            }
            let d1 = p.deriv();
            let d2 = d1.deriv();
            let d3 = d2.deriv();
            for (kind, value, bound, unit) in [
                (
                    "joint velocity",
                    d1.max_abs(t),
                    l.velocity_rad_s[i],
                    "rad/s",
                ),
                (
                    "joint acceleration",
                    d2.max_abs(t),
                    l.acceleration_rad_s2[i],
                    "rad/s^2",
                ),
                ("joint jerk", d3.max_abs(t), l.jerk_rad_s3[i], "rad/s^3"),
            ] {
                consider(value / bound, limit(kind, name, value, bound, unit));
            }
            polys.push(p);
        }
        match worst {
            Some((_, e)) => Err(e),
            None => Ok((polys, duration)),
        }
    }
}

fn limit(kind: &'static str, joint: &str, value: f64, bound: f64, unit: &'static str) -> ArmError {
    ArmError::Limit {
        limit: kind,
        subject: joint.to_string(),
        value,
        bound,
        unit,
    }
}

fn check_shape(q: &[f64], n: usize) -> Result<(), ArmError> {
    if q.len() != n {
        return Err(ArmError::BadCommand(format!(
            "joint target has {} entries, the arm has {n} joints",
            q.len()
        )));
    }
    if let Some(i) = q.iter().position(|x| !x.is_finite()) {
        return Err(ArmError::BadCommand(format!(
            "joint target [{i}] = {} is not finite",
            q[i]
        )));
    }
    Ok(())
}

#[cfg(test)]
#[path = "interp_tests.rs"]
mod tests;
