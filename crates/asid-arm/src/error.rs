//! Errors of arms and of the layers around them.

/// Why an arm refused a command or stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArmError {
    /// A command or state broke a limit; nothing was sent.
    #[error("{limit} limit: {subject} = {value:.6} {unit}, bound {bound:.6} {unit}")]
    Limit {
        /// Which limit (`joint position`, `joint velocity`, `workspace`, `tool speed`, ...).
        limit: &'static str,
        /// The joint or axis (`fr3_joint4`, `tool z`).
        subject: String,
        /// The offending value.
        value: f64,
        /// The bound it broke.
        bound: f64,
        /// Unit of value and bound.
        unit: &'static str,
    },
    /// A command value lies outside the range a device accepts; nothing was sent.
    #[error("{what} = {value} {unit} is outside the allowed range [{min}, {max}] {unit}")]
    OutOfRange {
        /// Which value (`gripper grasp force`, `gripper speed`, ...).
        what: &'static str,
        /// The offending value.
        value: f64,
        /// Lowest allowed value.
        min: f64,
        /// Highest allowed value.
        max: f64,
        /// Unit of the value and the range.
        unit: &'static str,
    },
    /// A command had the wrong shape.
    #[error("bad command: {0}")]
    BadCommand(String),
    /// No state from the arm for too long.
    #[error("link lost: no state from the arm for {silent_ms} ms (limit {limit_ms} ms)")]
    LinkLost {
        /// How long it was silent.
        silent_ms: u64,
        /// The watchdog limit.
        limit_ms: u64,
    },
    /// The arm stopped itself (reflex, safety function, error state).
    #[error("arm reflex: {0}")]
    Reflex(String),
    /// The session was stopped (by `stop`, Ctrl-C or the safety layer); no more motion.
    #[error("stopped: {0}")]
    Stopped(String),
    /// A recorded episode has no more samples.
    #[error("end of recording after {samples} samples")]
    EndOfRecording {
        /// Samples played.
        samples: usize,
    },
    /// The connection or the peer misbehaved.
    #[error("protocol: {0}")]
    Protocol(String),
    /// Anything else the backend reports.
    #[error("{0}")]
    Backend(String),
}
