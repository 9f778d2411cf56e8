//! What every pose source does with datagrams once they have an arm-clock arrival time: reject the
//! malformed, drop duplicates and reorders, estimate the clock offset, stamp, and watch staleness.
//! No I/O, so the UDP receiver and the in-process channel share it.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use asid_arm::{PoseError, PoseSample, PoseStats};

use crate::config::PoseStreamConfig;
use crate::offset::OffsetEstimator;
use crate::rules::{DatagramError, WireLimits};
use crate::wire::{Datagram, parse_datagram};

/// Warnings kept for [`last_warnings`](crate::UdpPoseReceiver::last_warnings).
pub const KEPT_WARNINGS: usize = 8;

/// Long enough for any error message; bounds what a hostile sender can make us keep.
const MAX_WARNING_CHARS: usize = 240;

const NS_PER_MS: u64 = 1_000_000;

/// The newest delivered sample of one object, and when it arrived.
#[derive(Debug)]
struct ObjectState {
    t_s: f64,
    p_m: [f64; 3],
    q_wxyz: [f64; 4],
    stamp_ns: u64,
    arrival_ns: u64,
}

#[derive(Debug)]
pub(crate) struct PoseTracker {
    limits: WireLimits,
    expected: Vec<String>,
    stale_after_ms: u64,
    startup_grace_ms: u64,
    offset: OffsetEstimator,
    objects: HashMap<String, ObjectState>,
    stats: PoseStats,
    warnings: VecDeque<String>,
    first_poll_ns: Option<u64>,
}

impl PoseTracker {
    /// `config` must be valid.
    pub(crate) fn new(config: &PoseStreamConfig) -> Self {
        Self {
            limits: config.wire_limits(),
            expected: config.expected_objects.clone(),
            stale_after_ms: config.stale_after_ms,
            startup_grace_ms: config.startup_grace_ms,
            offset: OffsetEstimator::new(config.offset_window_ms, config.assumed_min_latency_ms),
            objects: HashMap::new(),
            stats: PoseStats::default(),
            warnings: VecDeque::with_capacity(KEPT_WARNINGS),
            first_poll_ns: None,
        }
    }

    /// A datagram's bytes, arrived at `arrival_ns` on the arm clock.
    pub(crate) fn on_bytes(
        &mut self,
        arrival_ns: u64,
        bytes: &[u8],
        from: Option<SocketAddr>,
        out: &mut Vec<PoseSample>,
    ) {
        self.stats.received += 1;
        match parse_datagram(bytes, &self.limits) {
            Ok(datagram) => self.accept(arrival_ns, datagram, from, out),
            Err(error) => self.reject(from, &error),
        }
    }

    /// A datagram handed over in process (not yet validated).
    pub(crate) fn on_datagram(
        &mut self,
        arrival_ns: u64,
        mut datagram: Datagram,
        out: &mut Vec<PoseSample>,
    ) {
        self.stats.received += 1;
        match datagram.normalise(&self.limits) {
            Ok(()) => self.accept(arrival_ns, datagram, None, out),
            Err(error) => self.reject(None, &error),
        }
    }

    /// A datagram that never reached parsing (oversized).
    pub(crate) fn on_rejected(&mut self, from: Option<SocketAddr>, error: &DatagramError) {
        self.stats.received += 1;
        self.reject(from, error);
    }

    /// A diagnostic that is not about one datagram.
    pub(crate) fn warn(&mut self, message: String) {
        if self.warnings.len() == KEPT_WARNINGS {
            self.warnings.pop_front();
        }
        let mut message = message;
        if let Some((cut, _)) = message.char_indices().nth(MAX_WARNING_CHARS) {
            message.truncate(cut);
            message.push_str("...");
        }
        self.warnings.push_back(message);
    }

    fn reject(&mut self, from: Option<SocketAddr>, error: &DatagramError) {
        self.stats.malformed += 1;
        match from {
            Some(addr) => self.warn(format!("malformed datagram from {addr}: {error}")),
            None => self.warn(format!("malformed datagram: {error}")),
        }
    }

    fn accept(
        &mut self,
        arrival_ns: u64,
        datagram: Datagram,
        from: Option<SocketAddr>,
        out: &mut Vec<PoseSample>,
    ) {
        // Checked before anything is delivered so that a datagram is taken or refused whole.
        let new_objects = datagram
            .poses
            .iter()
            .filter(|p| !self.objects.contains_key(&p.object))
            .count();
        if self.objects.len() + new_objects > self.limits.max_objects {
            let error = DatagramError::TooManyObjects {
                count: self.objects.len() + new_objects,
                limit: self.limits.max_objects,
            };
            return self.reject(from, &error);
        }
        self.offset.observe(arrival_ns, datagram.t_s);
        let t_s = datagram.t_s;
        let stamp_ns = self.offset.to_arm_ns(t_s).unwrap_or(arrival_ns);
        for pose in datagram.poses {
            let mut stamp_ns = stamp_ns;
            if let Some(last) = self.objects.get(&pose.object) {
                if t_s == last.t_s && pose.p_m == last.p_m && pose.q_wxyz == last.q_wxyz {
                    self.stats.duplicates += 1;
                    continue;
                }
                // Same `t` with a different pose is as unusable as an older one: stamps per
                // object must strictly increase.
                if t_s <= last.t_s {
                    self.stats.reordered += 1;
                    continue;
                }
                // If the estimate dropped by more than this object's sender-time step (datagrams
                // reordered across objects while the estimate settles), the stamp would go back;
                // consumers rely on per-object stamps increasing.
                stamp_ns = stamp_ns.max(last.stamp_ns + 1);
            }
            self.objects.insert(
                pose.object.clone(),
                ObjectState {
                    t_s,
                    p_m: pose.p_m,
                    q_wxyz: pose.q_wxyz,
                    stamp_ns,
                    arrival_ns,
                },
            );
            self.stats.accepted += 1;
            out.push(PoseSample {
                stamp_ns,
                sender_t_s: t_s,
                object: pose.object,
                p_m: pose.p_m,
                q_wxyz: pose.q_wxyz,
            });
        }
    }

    /// The stalest expected object, if any is past its limit at `now_ns`.
    pub(crate) fn check_stale(&mut self, now_ns: u64) -> Result<(), PoseError> {
        let first_poll_ns = *self.first_poll_ns.get_or_insert(now_ns);
        let limit_ns = self.stale_after_ms.saturating_mul(NS_PER_MS);
        let grace_ns = self.startup_grace_ms.saturating_mul(NS_PER_MS);
        let mut worst: Option<(u64, &String)> = None;
        for name in &self.expected {
            let age_ns = match self.objects.get(name) {
                Some(state) => now_ns.saturating_sub(state.arrival_ns),
                None if now_ns.saturating_sub(first_poll_ns) > grace_ns => u64::MAX,
                None => continue,
            };
            if age_ns > limit_ns && worst.is_none_or(|(worst_ns, _)| age_ns > worst_ns) {
                worst = Some((age_ns, name));
            }
        }
        match worst {
            None => Ok(()),
            Some((age_ns, object)) => Err(PoseError::Stale {
                object: object.clone(),
                age_ms: if age_ns == u64::MAX {
                    u64::MAX
                } else {
                    age_ns / NS_PER_MS
                },
                limit_ms: self.stale_after_ms,
            }),
        }
    }

    pub(crate) fn stats(&self) -> PoseStats {
        PoseStats {
            clock_offset_s: self.offset.offset_s(),
            ..self.stats.clone()
        }
    }

    pub(crate) fn last_warnings(&self) -> Vec<String> {
        self.warnings.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ObjectPose;

    const I: [f64; 4] = [1.0, 0.0, 0.0, 0.0];

    fn tracker(expected: &[&str]) -> PoseTracker {
        PoseTracker::new(&PoseStreamConfig {
            expected_objects: expected.iter().map(|s| s.to_string()).collect(),
            stale_after_ms: 100,
            startup_grace_ms: 500,
            ..PoseStreamConfig::default()
        })
    }

    fn datagram(t_s: f64, objects: &[&str]) -> Datagram {
        Datagram {
            t_s,
            poses: objects
                .iter()
                .map(|o| ObjectPose::new(*o, [t_s, 0.0, 0.0], I))
                .collect(),
        }
    }

    #[test]
    fn drops_duplicates_and_reorders_per_object() {
        let mut tr = tracker(&[]);
        let mut out = Vec::new();
        tr.on_datagram(10, datagram(0.002, &["a", "b"]), &mut out);
        tr.on_datagram(11, datagram(0.002, &["a", "b"]), &mut out); // duplicate
        tr.on_datagram(12, datagram(0.001, &["a"]), &mut out); // older
        tr.on_datagram(13, datagram(0.003, &["b"]), &mut out);
        let delivered: Vec<_> = out
            .iter()
            .map(|s| (s.object.as_str(), s.sender_t_s))
            .collect();
        assert_eq!(delivered, [("a", 0.002), ("b", 0.002), ("b", 0.003)]);
        let stats = tr.stats();
        assert_eq!(
            (
                stats.received,
                stats.accepted,
                stats.duplicates,
                stats.reordered
            ),
            (4, 3, 2, 1)
        );
    }

    #[test]
    fn stamps_strictly_increase_per_object() {
        let mut tr = tracker(&[]);
        let mut out = Vec::new();
        // `a` 50 ms late; then `b` only 40.5 ms late lowers the estimate by 9.5 ms; then an `a`
        // sent 5 ms after the first (but before `b`) would be stamped 4.5 ms before the first.
        tr.on_datagram(1_050_000_000, datagram(1.000, &["a"]), &mut out);
        tr.on_datagram(1_050_500_000, datagram(1.010, &["b"]), &mut out);
        tr.on_datagram(1_051_000_000, datagram(1.005, &["a"]), &mut out);
        let stamps: Vec<_> = out.iter().map(|s| s.stamp_ns).collect();
        assert_eq!(stamps, [1_050_000_000, 1_050_500_000, 1_050_000_001]);
    }

    #[test]
    fn staleness_names_the_stalest_object() {
        let mut tr = tracker(&["a", "b"]);
        let mut out = Vec::new();
        assert_eq!(tr.check_stale(0), Ok(()));
        tr.on_datagram(1_000, datagram(0.0, &["a"]), &mut out);
        // b never seen, within the start-up grace: fine.
        assert_eq!(tr.check_stale(100_001_000), Ok(()));
        assert_eq!(
            tr.check_stale(150_000_000),
            Err(PoseError::Stale {
                object: "a".into(),
                age_ms: 149,
                limit_ms: 100
            })
        );
        assert_eq!(
            tr.check_stale(600_000_000),
            Err(PoseError::Stale {
                object: "b".into(),
                age_ms: u64::MAX,
                limit_ms: 100
            })
        );
    }

    #[test]
    fn caps_tracked_objects_and_warnings() {
        let mut tr = PoseTracker::new(&PoseStreamConfig {
            max_objects: 2,
            ..PoseStreamConfig::default()
        });
        let mut out = Vec::new();
        tr.on_datagram(1, datagram(0.0, &["a", "b"]), &mut out);
        tr.on_datagram(2, datagram(0.1, &["c"]), &mut out);
        assert_eq!((tr.stats().accepted, tr.stats().malformed), (2, 1));
        for i in 0..20 {
            tr.warn(format!("{i}{}", "x".repeat(1_000)));
        }
        let warnings = tr.last_warnings();
        assert_eq!(warnings.len(), KEPT_WARNINGS);
        assert!(warnings[KEPT_WARNINGS - 1].starts_with("19x"));
        assert!(warnings[0].chars().count() <= MAX_WARNING_CHARS + 3);
    }
}
