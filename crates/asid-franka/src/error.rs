//! Errors of connecting to and configuring a Franka arm or hand.
//!
//! Motion-time failures (limits, link loss, reflexes) are [`asid_arm::ArmError`]s, as the `Arm`
//! trait requires; `FrankaError` converts into one for callers that only know that trait.

use asid_arm::ArmError;

use crate::config::ConfigError;
use crate::protocol::WireError;

/// Why a connection or a command failed.
#[derive(Debug, thiserror::Error)]
pub enum FrankaError {
    /// A socket operation failed.
    // The OS error is part of the message, not a `source`: anyhow would print it twice.
    #[error("{what} {addr}: {os_error}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Peer address.
        addr: String,
        /// The OS error.
        os_error: std::io::Error,
    },
    /// The host name did not resolve to an address.
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// Nothing came back in time.
    #[error("no {what} within {limit_ms} ms")]
    Timeout {
        /// What was awaited.
        what: &'static str,
        /// The limit.
        limit_ms: u64,
    },
    /// The peer speaks another protocol version.
    #[error(
        "incompatible {device} protocol: server speaks version {server}, this client version {client}"
    )]
    IncompatibleVersion {
        /// `robot` or `gripper`.
        device: &'static str,
        /// Version the server reported.
        server: u16,
        /// Version this client speaks.
        client: u16,
    },
    /// The peer refused a command.
    #[error("{command} rejected: status {status} ({status_name})")]
    Rejected {
        /// Command name.
        command: &'static str,
        /// Status code.
        status: u16,
        /// Its name in libfranka.
        status_name: &'static str,
    },
    /// The TCP connection is gone.
    #[error("connection closed: {0}")]
    Closed(String),
    /// The peer sent bytes that are not a valid message.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A motion-time failure.
    #[error(transparent)]
    Arm(#[from] ArmError),
}

impl From<FrankaError> for ArmError {
    fn from(e: FrankaError) -> Self {
        match e {
            FrankaError::Arm(a) => a,
            FrankaError::Config(c) => ArmError::BadCommand(c.to_string()),
            other => ArmError::Protocol(other.to_string()),
        }
    }
}
