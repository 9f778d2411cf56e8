//! Arrival instants on the arm clock.
//!
//! The receive thread stamps each datagram with the local monotonic clock; the arm clock is only
//! known at polls (`now_ns`). An arrival between two polls is placed by linear interpolation
//! between their (local instant, arm time) pairs, which stays right when the arm clock does not
//! run at wall-clock rate (a simulated lab running faster or slower than real time) and never
//! places an arrival before the previous poll or after this one.

use std::time::Instant;

/// The (local instant, arm time) pair of the previous poll.
#[derive(Debug, Default)]
pub(crate) struct ArrivalClock {
    previous: Option<(Instant, u64)>,
}

impl ArrivalClock {
    /// Arm time of an arrival at local instant `at`, for a poll at `now` = (local, arm).
    pub(crate) fn arm_ns(&self, at: Instant, now: (Instant, u64)) -> u64 {
        let (now_local, now_ns) = now;
        if at >= now_local {
            return now_ns;
        }
        match self.previous {
            Some((prev_local, prev_ns)) if now_ns >= prev_ns && now_local > prev_local => {
                if at <= prev_local {
                    return prev_ns;
                }
                let fraction =
                    (at - prev_local).as_secs_f64() / (now_local - prev_local).as_secs_f64();
                prev_ns + ((now_ns - prev_ns) as f64 * fraction).round() as u64
            }
            // First poll (or the arm clock went back): assume the arm clock ran at wall-clock rate
            // since the arrival.
            _ => {
                let since_ns = u64::try_from((now_local - at).as_nanos()).unwrap_or(u64::MAX);
                now_ns.saturating_sub(since_ns)
            }
        }
    }

    /// Remembers this poll for the next one.
    pub(crate) fn set(&mut self, now: (Instant, u64)) {
        self.previous = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn interpolates_between_polls() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut clock = ArrivalClock::default();
        // First poll: wall-clock rate back from `now`.
        assert_eq!(clock.arm_ns(ms(4), (ms(10), 50_000_000)), 44_000_000);
        clock.set((ms(10), 50_000_000));
        // Arm clock at 2x real time between polls at 10 ms and 20 ms.
        let now = (ms(20), 70_000_000);
        assert_eq!(clock.arm_ns(ms(15), now), 60_000_000);
        assert_eq!(clock.arm_ns(ms(5), now), 50_000_000);
        assert_eq!(clock.arm_ns(ms(25), now), 70_000_000);
    }

    #[test]
    fn same_arm_time_maps_every_arrival_to_it() {
        let t0 = Instant::now();
        let mut clock = ArrivalClock::default();
        clock.set((t0, 1_000));
        let now = (t0 + Duration::from_millis(30), 1_000);
        assert_eq!(clock.arm_ns(t0 + Duration::from_millis(7), now), 1_000);
    }
}
