//! Clock offset (arm minus sender) by a minimum-delay filter over a sliding window.
//!
//! Each datagram gives `d = arm receive time - sender t = offset + latency`, with latency >= 0 and
//! varying. With negligible drift over the window, the smallest `d` is the one with the least
//! latency, so it is the best estimate of the offset (biased late by the minimum latency, which a
//! one-way stream cannot observe; `assumed_min_latency_ms` subtracts a known value).

use std::collections::VecDeque;

/// Bounds memory if a sender floods with ever-growing delays (the window keeps them all).
const MAX_OBSERVATIONS: usize = 65_536;

/// One observation: arm receive time and sender time of a datagram.
#[derive(Debug, Clone, Copy)]
struct Observation {
    arm_ns: u64,
    t_s: f64,
    delay_s: f64,
}

/// Sliding-window minimum of `arm receive - sender t`.
#[derive(Debug)]
pub(crate) struct OffsetEstimator {
    window_ns: u64,
    latency_ns: f64,
    /// Increasing `delay_s` from front to back: the front is the window's minimum (monotonic
    /// deque, O(1) amortised per observation).
    window: VecDeque<Observation>,
}

impl OffsetEstimator {
    pub(crate) fn new(window_ms: u64, assumed_min_latency_ms: f64) -> Self {
        Self {
            window_ns: window_ms.saturating_mul(1_000_000),
            latency_ns: assumed_min_latency_ms * 1e6,
            window: VecDeque::new(),
        }
    }

    /// Adds a datagram sent at `t_s` (sender clock) and received at `arm_ns` (arm clock).
    pub(crate) fn observe(&mut self, arm_ns: u64, t_s: f64) {
        let delay_s = arm_ns as f64 * 1e-9 - t_s;
        while self.window.back().is_some_and(|o| o.delay_s >= delay_s) {
            self.window.pop_back();
        }
        self.window.push_back(Observation {
            arm_ns,
            t_s,
            delay_s,
        });
        let cutoff_ns = arm_ns.saturating_sub(self.window_ns);
        while self.window.len() > MAX_OBSERVATIONS
            || self.window.front().is_some_and(|o| o.arm_ns < cutoff_ns)
        {
            self.window.pop_front();
        }
    }

    /// Current estimate of arm clock minus sender clock, seconds.
    pub(crate) fn offset_s(&self) -> Option<f64> {
        self.window
            .front()
            .map(|o| o.delay_s - self.latency_ns * 1e-9)
    }

    /// `t_s` on the arm clock, ns (0 if before the arm clock's origin).
    ///
    /// Computed from the reference observation as `arm_ref + (t - t_ref)`: the difference of two
    /// nearby sender times keeps full precision even when `t` is a Unix time (1.7e9 s).
    pub(crate) fn to_arm_ns(&self, t_s: f64) -> Option<u64> {
        self.window.front().map(|o| {
            let ns = o.arm_ns as f64 + (t_s - o.t_s) * 1e9 - self.latency_ns;
            // `as` saturates: negative -> 0.
            ns.round() as u64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_minimum_delay() {
        let mut e = OffsetEstimator::new(10_000, 0.0);
        assert_eq!(e.offset_s(), None);
        // Sender clock = arm clock + 1000 s; delays 5, 1, 3 ms.
        for (arm_ms, delay_ms) in [(100u64, 5.0), (110, 1.0), (120, 3.0)] {
            let t_s = (arm_ms as f64 - delay_ms) * 1e-3 + 1000.0;
            e.observe(arm_ms * 1_000_000, t_s);
        }
        let offset = e.offset_s().unwrap_or(f64::NAN);
        assert!((offset - (-1000.0 + 1e-3)).abs() < 1e-9, "{offset}");
        // A pose true at sender 1000.2 s was true at arm 0.2 s, stamped 1 ms late.
        assert_eq!(e.to_arm_ns(1000.2), Some(201_000_000));
    }

    #[test]
    fn forgets_outside_the_window() {
        let mut e = OffsetEstimator::new(100, 0.0);
        e.observe(0, -0.001); // delay 1 ms
        e.observe(50_000_000, 0.045); // delay 5 ms
        assert!((e.offset_s().unwrap_or(f64::NAN) - 0.001).abs() < 1e-12);
        e.observe(150_000_000, 0.145); // the 1 ms observation left the window
        assert!((e.offset_s().unwrap_or(f64::NAN) - 0.005).abs() < 1e-12);
    }

    #[test]
    fn subtracts_the_assumed_latency() {
        let mut e = OffsetEstimator::new(1_000, 2.0);
        e.observe(10_000_000, 0.005);
        assert!((e.offset_s().unwrap_or(f64::NAN) - 0.003).abs() < 1e-12);
        assert_eq!(e.to_arm_ns(0.005), Some(8_000_000));
        assert_eq!(e.to_arm_ns(-1.0), Some(0));
    }
}
