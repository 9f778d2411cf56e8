//! Object poses from the lab's tracker, stamped on the arm's clock, and the source trait that the
//! network receiver, the simulated lab and replay implement.

use serde::{Deserialize, Serialize};

/// One object's pose at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoseSample {
    /// When the pose was true, on the arm's clock (sender time + estimated clock offset).
    pub stamp_ns: u64,
    /// The sender's own timestamp.
    pub sender_t_s: f64,
    /// Object name as the scene names it.
    pub object: String,
    /// Position in the robot base frame.
    pub p_m: [f64; 3],
    /// Orientation quaternion `[w, x, y, z]` in the robot base frame.
    pub q_wxyz: [f64; 4],
}

/// Counters of a pose source: what arrived and what was refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PoseStats {
    /// Datagrams (or samples) received.
    pub received: u64,
    /// Samples accepted and delivered.
    pub accepted: u64,
    /// Malformed datagrams rejected (bad UTF-8, JSON, fields, frame or values).
    pub malformed: u64,
    /// Exact duplicates dropped.
    pub duplicates: u64,
    /// Samples older than one already delivered for the same object, dropped.
    pub reordered: u64,
    /// Current estimate of arm clock minus sender clock.
    pub clock_offset_s: Option<f64>,
}

/// A pose source stopped the run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PoseError {
    /// No pose of an object for too long: the run must stop.
    #[error("pose of `{object}` is stale: last {age_ms} ms ago (limit {limit_ms} ms)")]
    Stale {
        /// The object.
        object: String,
        /// Time since its last pose (`u64::MAX` if never seen).
        age_ms: u64,
        /// The staleness limit.
        limit_ms: u64,
    },
    /// The source cannot go on (socket closed, recording ended).
    #[error("pose source: {0}")]
    Source(String),
}

/// Anything that delivers object poses: the network receiver, the simulated lab's tracker, replay.
pub trait PoseSource: Send {
    /// Samples that became available since the last call, in arrival order, stamped on the arm's
    /// clock. `now_ns` is the arm's clock now (from its latest state); it drives clock-offset
    /// estimation and the staleness check.
    fn poll(&mut self, now_ns: u64) -> Result<Vec<PoseSample>, PoseError>;

    /// Counters so far.
    fn stats(&self) -> PoseStats;
}

/// A source with no objects (runs without a tracker).
#[derive(Debug, Default)]
pub struct NoPoses;

impl PoseSource for NoPoses {
    fn poll(&mut self, _now_ns: u64) -> Result<Vec<PoseSample>, PoseError> {
        Ok(Vec::new())
    }

    fn stats(&self) -> PoseStats {
        PoseStats::default()
    }
}

impl<P: PoseSource + ?Sized> PoseSource for Box<P> {
    fn poll(&mut self, now_ns: u64) -> Result<Vec<PoseSample>, PoseError> {
        (**self).poll(now_ns)
    }

    fn stats(&self) -> PoseStats {
        (**self).stats()
    }
}
