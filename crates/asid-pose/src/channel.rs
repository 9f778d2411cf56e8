//! An in-process pose source: datagrams handed over a channel instead of a socket, with the same
//! checks, duplicate and reorder handling, clock-offset estimation and staleness as the UDP
//! receiver. For the simulated lab and for tests.
//!
//! A datagram's arrival is the arm time of the poll that drains it.

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};

use asid_arm::{PoseError, PoseSample, PoseSource, PoseStats};

use crate::config::{ConfigError, PoseStreamConfig};
use crate::tracker::PoseTracker;
use crate::wire::Datagram;

/// The source was dropped; nobody will read this datagram.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("pose channel closed: its source was dropped")]
pub struct FeedClosed;

/// The sending half: the simulated tracker sends datagrams into it.
#[derive(Debug, Clone)]
pub struct PoseFeed {
    tx: Sender<Datagram>,
}

impl PoseFeed {
    /// Queues a datagram for the next poll (unchecked here; the source checks it).
    pub fn send(&self, datagram: Datagram) -> Result<(), FeedClosed> {
        self.tx.send(datagram).map_err(|_| FeedClosed)
    }
}

/// The receiving half; a [`PoseSource`]. When every feed is dropped and the queue is empty, `poll`
/// returns [`PoseError::Source`].
#[derive(Debug)]
pub struct ChannelPoseSource {
    rx: Receiver<Datagram>,
    tracker: PoseTracker,
}

/// A connected feed and source; `config.bind` is not used.
pub fn pose_channel(
    config: &PoseStreamConfig,
) -> Result<(PoseFeed, ChannelPoseSource), ConfigError> {
    config.validate()?;
    let (tx, rx) = mpsc::channel();
    let source = ChannelPoseSource {
        rx,
        tracker: PoseTracker::new(config),
    };
    Ok((PoseFeed { tx }, source))
}

impl ChannelPoseSource {
    /// The most recent warnings, oldest first.
    pub fn last_warnings(&self) -> Vec<String> {
        self.tracker.last_warnings()
    }
}

impl PoseSource for ChannelPoseSource {
    fn poll(&mut self, now_ns: u64) -> Result<Vec<PoseSample>, PoseError> {
        let mut out = Vec::new();
        loop {
            match self.rx.try_recv() {
                Ok(datagram) => self.tracker.on_datagram(now_ns, datagram, &mut out),
                Err(TryRecvError::Empty) => break,
                // Deliver what was queued before the feed closed; the next poll reports it.
                Err(TryRecvError::Disconnected) if !out.is_empty() => break,
                Err(TryRecvError::Disconnected) => {
                    return Err(PoseError::Source("pose feed closed".into()));
                }
            }
        }
        self.tracker.check_stale(now_ns)?;
        Ok(out)
    }

    fn stats(&self) -> PoseStats {
        self.tracker.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ObjectPose;

    #[test]
    fn delivers_in_process_with_sim_time_stamps() {
        let config = PoseStreamConfig {
            expected_objects: vec!["cube".into()],
            ..PoseStreamConfig::default()
        };
        let (feed, mut source) = pose_channel(&config).unwrap_or_else(|e| panic!("{e}"));
        let pose = ObjectPose::new("cube", [0.4, 0.0, 0.02], [1.0, 0.0, 0.0, 0.0]);
        let sent = feed.send(Datagram {
            t_s: 0.5,
            poses: vec![pose],
        });
        assert_eq!(sent, Ok(()));
        let samples = source.poll(500_000_000).unwrap_or_default();
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].stamp_ns, 500_000_000);
        assert_eq!(source.stats().clock_offset_s, Some(0.0));
        drop(feed);
        assert!(matches!(
            source.poll(501_000_000),
            Err(PoseError::Source(_))
        ));
    }
}
