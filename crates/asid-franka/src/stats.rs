//! Figures of the 1 kHz loop: how many states came and commands went, at what rate, how regular,
//! how many were missed or late. Bounded memory: periods go into a histogram.

use std::time::{Duration, Instant};

/// A snapshot of the loop's statistics (see [`crate::FrankaArm::loop_stats`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoopStats {
    /// State datagrams accepted.
    pub states_received: u64,
    /// Command datagrams sent.
    pub commands_sent: u64,
    /// Wall time spent commanding (from the first to the latest command).
    pub commanding_s: f64,
    /// Commands per second of commanding wall time (1000 on a real arm; franky-sim runs slower).
    pub command_rate_hz: f64,
    /// Median wall-clock period between consecutive states.
    pub period_p50_us: f64,
    /// 99th percentile of that period.
    pub period_p99_us: f64,
    /// Largest period.
    pub period_max_us: f64,
    /// Cycle jitter: p99 minus p50 of the period.
    pub jitter_p99_us: f64,
    /// Cycles the arm ran that no state reached us for (gaps in the message ids).
    pub missed_cycles: u64,
    /// Commands sent later than the configured threshold after their state.
    pub late_cycles: u64,
    /// Largest time from receiving a state to sending its command.
    pub reply_latency_max_us: f64,
    /// Datagrams that did not decode.
    pub bad_datagrams: u64,
    /// Datagrams older than one already seen, or from an unexpected sender.
    pub stale_datagrams: u64,
    /// Samples dropped from the state history because it was full.
    pub history_dropped: u64,
    /// Times the caller was so late that the arm braked.
    pub starved_brakes: u64,
    /// Segments started after the previous one ended (every step but the first of a motion).
    pub segments_continued: u64,
    /// Of those, segments whose target came more than one tick after the previous segment ended
    /// (the loop serves a target one tick after answering at the earliest).
    pub segments_delayed: u64,
    /// Largest such delay, in ticks.
    pub segment_delay_max_ticks: u32,
    /// Message id of the latest state.
    pub last_message_id: u64,
    /// The arm's own estimate of commands arriving in time (0..1).
    pub arm_success_rate: f64,
}

/// A snapshot from [`crate::FrankaArm::bench`].
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// Control periods stepped.
    pub steps: usize,
    /// Wall time of the run.
    pub wall_s: f64,
    /// Arm time of the run (from message ids).
    pub arm_s: f64,
    /// The loop's figures over the run.
    pub stats: LoopStats,
}

/// 10 µs bins up to 100 ms; longer periods land in the last bin.
const BIN_US: f64 = 10.0;
const BINS: usize = 10_000;

/// Accumulates [`LoopStats`] in the loop thread.
#[derive(Debug, Clone)]
pub(crate) struct StatsRecorder {
    pub(crate) stats: LoopStats,
    hist: Vec<u32>,
    last_state_at: Option<Instant>,
    first_command_at: Option<Instant>,
    last_command_at: Option<Instant>,
    late_threshold: Duration,
}

impl StatsRecorder {
    pub(crate) fn new(late_threshold: Duration) -> Self {
        Self {
            stats: LoopStats::default(),
            hist: vec![0; BINS],
            last_state_at: None,
            first_command_at: None,
            last_command_at: None,
            late_threshold,
        }
    }

    /// Starts counting afresh (e.g. for a benchmark).
    pub(crate) fn reset(&mut self) {
        let keep = (self.stats.last_message_id, self.stats.arm_success_rate);
        *self = Self::new(self.late_threshold);
        (self.stats.last_message_id, self.stats.arm_success_rate) = keep;
    }

    /// A state with `message_id` arrived at `now`.
    pub(crate) fn state(&mut self, message_id: u64, success_rate: f64, now: Instant) {
        let s = &mut self.stats;
        if s.states_received > 0 && message_id > s.last_message_id + 1 {
            s.missed_cycles += message_id - s.last_message_id - 1;
        }
        s.states_received += 1;
        s.last_message_id = message_id;
        s.arm_success_rate = success_rate;
        if let Some(prev) = self.last_state_at {
            let us = now.duration_since(prev).as_secs_f64() * 1e6;
            let bin = ((us / BIN_US) as usize).min(BINS - 1);
            self.hist[bin] += 1;
            s.period_max_us = s.period_max_us.max(us);
        }
        self.last_state_at = Some(now);
    }

    /// A command answering the state received at `state_at` went out at `now`.
    pub(crate) fn command(&mut self, state_at: Instant, now: Instant) {
        let s = &mut self.stats;
        s.commands_sent += 1;
        let latency = now.duration_since(state_at);
        if latency > self.late_threshold {
            s.late_cycles += 1;
        }
        s.reply_latency_max_us = s.reply_latency_max_us.max(latency.as_secs_f64() * 1e6);
        self.first_command_at.get_or_insert(now);
        self.last_command_at = Some(now);
    }

    /// A segment started `delay_ticks` after the previous one ended (0: from rest or braking).
    pub(crate) fn segment(&mut self, delay_ticks: u32) {
        if delay_ticks == 0 {
            return;
        }
        let s = &mut self.stats;
        s.segments_continued += 1;
        if delay_ticks > 1 {
            s.segments_delayed += 1;
        }
        s.segment_delay_max_ticks = s.segment_delay_max_ticks.max(delay_ticks);
    }

    /// The statistics with rates and percentiles filled in.
    pub(crate) fn snapshot(&self) -> LoopStats {
        let mut s = self.stats.clone();
        if let (Some(a), Some(b)) = (self.first_command_at, self.last_command_at) {
            s.commanding_s = b.duration_since(a).as_secs_f64();
            if s.commanding_s > 0.0 {
                s.command_rate_hz = (s.commands_sent.saturating_sub(1)) as f64 / s.commanding_s;
            }
        }
        s.period_p50_us = self.percentile(0.50);
        s.period_p99_us = self.percentile(0.99);
        s.jitter_p99_us = s.period_p99_us - s.period_p50_us;
        s
    }

    fn percentile(&self, p: f64) -> f64 {
        let total: u64 = self.hist.iter().map(|&c| u64::from(c)).sum();
        if total == 0 {
            return 0.0;
        }
        let want = (p * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &c) in self.hist.iter().enumerate() {
            seen += u64::from(c);
            if seen >= want {
                // Bin centre.
                return (i as f64 + 0.5) * BIN_US;
            }
        }
        BINS as f64 * BIN_US
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_rates_and_gaps() {
        let t0 = Instant::now();
        let mut r = StatsRecorder::new(Duration::from_micros(300));
        for k in 0..100u64 {
            // One gap of 3 missing ids at k = 50.
            let id = if k < 50 { k + 1 } else { k + 4 };
            let at = t0 + Duration::from_micros(1000 * k + if k == 10 { 400 } else { 0 });
            r.state(id, 1.0, at);
            let late = if k == 20 { 500 } else { 50 };
            r.command(at, at + Duration::from_micros(late));
        }
        let s = r.snapshot();
        assert_eq!((s.states_received, s.commands_sent), (100, 100));
        assert_eq!(s.missed_cycles, 3);
        assert_eq!(s.late_cycles, 1);
        assert!((s.period_p50_us - 1005.0).abs() < 1e-9);
        assert!(s.period_max_us >= 1399.0);
        assert!((s.command_rate_hz - 1000.0).abs() < 10.0);
        for d in [0, 1, 1, 3] {
            r.segment(d);
        }
        let s = r.snapshot();
        assert_eq!(
            (
                s.segments_continued,
                s.segments_delayed,
                s.segment_delay_max_ticks
            ),
            (3, 1, 3)
        );
        r.reset();
        assert_eq!(r.snapshot().states_received, 0);
        assert_eq!(r.snapshot().last_message_id, 103);
    }
}
