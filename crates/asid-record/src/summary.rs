//! What `asid episode <file.mcap>` prints: span, topics, state rate and gaps, finished or cut.

use std::fmt;
use std::path::Path;

use asid_arm::{Level, Recording, RunInfo};
use serde::{Deserialize, Serialize};

use crate::RecordError;
use crate::reader::{Damage, ReadReport, TopicCount, read_with_report};

/// Messages and rate of one topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicSummary {
    /// The topic.
    pub topic: String,
    /// Its schema.
    pub schema: String,
    /// Messages.
    pub messages: u64,
    /// Mean rate over the topic's own span (None with fewer than two messages).
    pub rate_hz: Option<f64>,
}

/// Timing of the arm states: the control loop's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateTiming {
    /// States with distinct stamps.
    pub samples: usize,
    /// Median interval between consecutive states.
    pub median_interval_s: f64,
    /// Sample rate, 1 / median interval.
    pub rate_hz: f64,
    /// Largest interval between consecutive states.
    pub largest_interval_s: f64,
    /// Where the largest interval starts, from the first record.
    pub largest_interval_at_s: f64,
    /// Intervals longer than 1.5 times the median.
    pub long_intervals: usize,
}

/// Events by level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventCounts {
    /// Info events.
    pub info: usize,
    /// Warnings.
    pub warn: usize,
    /// Errors.
    pub error: usize,
}

/// Summary of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingSummary {
    /// The file.
    pub file: String,
    /// Its size.
    pub file_bytes: u64,
    /// Footer present (the recorder finished); false for a file cut by a crash.
    pub finished: bool,
    /// Bytes after the last whole record.
    pub unusable_bytes: u64,
    /// Why reading ended early (unfinished files).
    pub cut: Option<String>,
    /// Run description.
    pub run: Option<RunInfo>,
    /// Names of the other metadata records.
    pub metadata: Vec<String>,
    /// Stamp of the first record (arm clock).
    pub start_ns: Option<u64>,
    /// Stamp of the last record (arm clock).
    pub end_ns: Option<u64>,
    /// From the first to the last record.
    pub duration_s: f64,
    /// Chunks read.
    pub chunks: u64,
    /// Damaged stretches skipped; the rest of the file was read.
    #[serde(default)]
    pub damaged: Vec<Damage>,
    /// Messages lost because the chunk defining their channel was damaged.
    #[serde(default)]
    pub orphan_messages: u64,
    /// Topics with their message counts.
    pub topics: Vec<TopicSummary>,
    /// Arm state timing (None with fewer than two states).
    pub states: Option<StateTiming>,
    /// Plan actions.
    pub actions: usize,
    /// Events by level.
    pub events: EventCounts,
}

/// Reads a recording and summarises it.
pub fn summarize(path: &Path) -> Result<RecordingSummary, RecordError> {
    let (recording, report) = read_with_report(path)?;
    Ok(RecordingSummary::new(&recording, &report))
}

fn rate(t: &TopicCount) -> Option<f64> {
    match (t.first_ns, t.last_ns) {
        (Some(a), Some(b)) if b > a && t.messages > 1 => {
            Some((t.messages - 1) as f64 / ((b - a) as f64 * 1e-9))
        }
        _ => None,
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn state_timing(recording: &Recording, start_ns: u64) -> Option<StateTiming> {
    let mut stamps: Vec<u64> = recording.states.iter().map(|s| s.stamp_ns).collect();
    stamps.sort_unstable();
    stamps.dedup();
    if stamps.len() < 2 {
        return None;
    }
    let intervals: Vec<f64> = stamps
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 * 1e-9)
        .collect();
    let med = median(&mut intervals.clone());
    let (i_max, largest) = intervals
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    Some(StateTiming {
        samples: stamps.len(),
        median_interval_s: med,
        rate_hz: 1.0 / med,
        largest_interval_s: largest,
        largest_interval_at_s: stamps[i_max].saturating_sub(start_ns) as f64 * 1e-9,
        long_intervals: intervals.iter().filter(|d| **d > 1.5 * med).count(),
    })
}

impl RecordingSummary {
    /// Summarises what a reader returned.
    pub fn new(recording: &Recording, report: &ReadReport) -> Self {
        let r = recording;
        let stamps = r
            .actions
            .iter()
            .map(|x| x.stamp_ns)
            .chain(r.commands.iter().map(|x| x.stamp_ns))
            .chain(r.states.iter().map(|x| x.stamp_ns))
            .chain(r.poses.iter().map(|x| x.stamp_ns))
            .chain(r.events.iter().map(|x| x.stamp_ns))
            .chain(r.grippers.iter().map(|x| x.stamp_ns));
        let (start_ns, end_ns) =
            stamps.fold((None, None), |(lo, hi): (Option<u64>, Option<u64>), t| {
                (
                    Some(lo.map_or(t, |l| l.min(t))),
                    Some(hi.map_or(t, |h| h.max(t))),
                )
            });
        let duration_s = match (start_ns, end_ns) {
            (Some(a), Some(b)) => (b - a) as f64 * 1e-9,
            _ => 0.0,
        };
        let mut events = EventCounts::default();
        for e in &r.events {
            match e.level {
                Level::Info => events.info += 1,
                Level::Warn => events.warn += 1,
                Level::Error => events.error += 1,
            }
        }
        Self {
            file: report.file.display().to_string(),
            file_bytes: report.file_bytes,
            finished: report.finished,
            unusable_bytes: report.unusable_bytes,
            cut: report.cut.clone(),
            run: r.info.clone(),
            metadata: r.metadata.keys().cloned().collect(),
            start_ns,
            end_ns,
            duration_s,
            chunks: report.chunks,
            damaged: report.damaged.clone(),
            orphan_messages: report.orphan_messages,
            topics: report
                .topics
                .iter()
                .map(|t| TopicSummary {
                    topic: t.topic.clone(),
                    schema: t.schema.clone(),
                    messages: t.messages,
                    rate_hz: rate(t),
                })
                .collect(),
            states: state_timing(r, start_ns.unwrap_or(0)),
            actions: r.actions.len(),
            events,
        }
    }
}

impl fmt::Display for RecordingSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} ({} bytes)", self.file, self.file_bytes)?;
        if self.finished {
            writeln!(f, "  finished (footer present)")?;
        } else {
            writeln!(
                f,
                "  NOT finished: {}; {} unusable bytes at the end",
                self.cut.as_deref().unwrap_or("no footer"),
                self.unusable_bytes
            )?;
        }
        for d in &self.damaged {
            writeln!(
                f,
                "  DAMAGED: {} bytes from byte {} skipped ({}); the rest was read",
                d.bytes, d.offset, d.reason
            )?;
        }
        if self.orphan_messages > 0 {
            writeln!(
                f,
                "  DAMAGED: {} messages lost with their channel's definition",
                self.orphan_messages
            )?;
        }
        match &self.run {
            Some(run) => writeln!(
                f,
                "  run: robot {} ({:?}, {} joints), scene {}, plan {}, asid {}",
                run.robot, run.arm.backend, run.arm.dof, run.scene, run.plan, run.software_version
            )?,
            None => writeln!(f, "  run: no run info (cut before it)")?,
        }
        if !self.metadata.is_empty() {
            writeln!(f, "  metadata: {}", self.metadata.join(", "))?;
        }
        writeln!(
            f,
            "  duration {:.3} s, {} chunks, {} plan actions",
            self.duration_s, self.chunks, self.actions
        )?;
        for t in &self.topics {
            let rate = t.rate_hz.map_or(String::new(), |r| format!(", {r:.1} Hz"));
            writeln!(
                f,
                "  {:<20} {:>8} msgs  [{}{rate}]",
                t.topic, t.messages, t.schema
            )?;
        }
        match &self.states {
            Some(s) => writeln!(
                f,
                "  arm states: {:.1} Hz (median interval {:.3} ms); largest gap {:.3} ms at {:.3} s; {} intervals > 1.5x median",
                s.rate_hz,
                s.median_interval_s * 1e3,
                s.largest_interval_s * 1e3,
                s.largest_interval_at_s,
                s.long_intervals
            )?,
            None => writeln!(f, "  arm states: fewer than two")?,
        }
        write!(
            f,
            "  events: {} info, {} warnings, {} errors",
            self.events.info, self.events.warn, self.events.error
        )
    }
}
