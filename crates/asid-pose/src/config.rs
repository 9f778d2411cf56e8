//! Receiver configuration: parsed strictly, then validated field by field.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use serde::{Deserialize, Serialize};

use crate::rules::{NameError, WireLimits, check_name};

/// The port a lab's sender targets unless told otherwise.
pub const DEFAULT_PORT: u16 = 7700;

/// The largest UDP payload over IPv4.
pub const MAX_UDP_PAYLOAD_BYTES: usize = 65_507;

/// How the pose stream receiver listens, what it accepts and when it gives up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoseStreamConfig {
    /// Address to bind (`127.0.0.1:7700`; `0.0.0.0:7700` to accept from the lab network).
    pub bind: SocketAddr,
    /// Objects the run needs; each must keep arriving or the run stops ([`PoseError::Stale`]).
    /// Other objects are delivered but never stale.
    ///
    /// [`PoseError::Stale`]: asid_arm::PoseError::Stale
    pub expected_objects: Vec<String>,
    /// An expected object whose last pose arrived longer ago than this (arm clock) is stale.
    pub stale_after_ms: u64,
    /// An expected object never seen is stale this long after the first poll (tracker start-up).
    pub startup_grace_ms: u64,
    /// Larger datagrams are rejected as malformed.
    pub max_datagram_bytes: usize,
    /// Most objects in one datagram, and most distinct objects tracked over a run.
    pub max_objects: usize,
    /// A quaternion is accepted if `| |q| - 1 | <=` this, then normalised.
    pub quat_norm_tolerance: f64,
    /// Positions farther than this from the base on any axis are rejected (catches mm vs m).
    pub max_abs_position_m: f64,
    /// The clock offset is the minimum-delay observation within this window (arm clock).
    pub offset_window_ms: u64,
    /// Known minimum latency from the instant `t` to arrival (tracker processing + network);
    /// subtracted from the offset because one-way latency cannot be observed.
    pub assumed_min_latency_ms: f64,
}

impl Default for PoseStreamConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            expected_objects: Vec::new(),
            stale_after_ms: 250,
            startup_grace_ms: 2_000,
            max_datagram_bytes: 8_192,
            max_objects: 64,
            quat_norm_tolerance: 0.01,
            max_abs_position_m: 10.0,
            offset_window_ms: 10_000,
            assumed_min_latency_ms: 0.0,
        }
    }
}

/// A configuration value outside its allowed range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// An integer field out of range.
    #[error("pose stream config: `{field}` = {value} is outside {min}..={max}")]
    IntOutOfRange {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// A real-valued field out of range (or not finite).
    #[error("pose stream config: `{field}` = {value} is outside {min}..={max}")]
    FloatOutOfRange {
        /// The field.
        field: &'static str,
        /// Its value.
        value: f64,
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
    /// An expected object name breaks the naming rules.
    #[error("pose stream config: `expected_objects[{index}]` = {name:?}: {reason}")]
    ObjectName {
        /// Position in the list.
        index: usize,
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: NameError,
    },
    /// An expected object is listed twice.
    #[error("pose stream config: `expected_objects` lists {name:?} twice")]
    DuplicateObject {
        /// The name.
        name: String,
    },
    /// More expected objects than `max_objects`.
    #[error(
        "pose stream config: `expected_objects` has {count} names, more than `max_objects` = {max}"
    )]
    TooManyObjects {
        /// Names listed.
        count: usize,
        /// `max_objects`.
        max: usize,
    },
}

fn int_in(field: &'static str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::IntOutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

fn float_in(field: &'static str, value: f64, min: f64, max: f64) -> Result<(), ConfigError> {
    // `contains` is false for NaN, so a NaN is reported as out of range too.
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::FloatOutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

impl PoseStreamConfig {
    /// Checks every field; the error names the field and its allowed range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        int_in("stale_after_ms", self.stale_after_ms, 1, 60_000)?;
        int_in("startup_grace_ms", self.startup_grace_ms, 0, 600_000)?;
        int_in(
            "max_datagram_bytes",
            self.max_datagram_bytes as u64,
            64,
            MAX_UDP_PAYLOAD_BYTES as u64,
        )?;
        int_in("max_objects", self.max_objects as u64, 1, 1_024)?;
        float_in("quat_norm_tolerance", self.quat_norm_tolerance, 1e-9, 0.5)?;
        float_in("max_abs_position_m", self.max_abs_position_m, 1e-3, 1_000.0)?;
        int_in("offset_window_ms", self.offset_window_ms, 100, 600_000)?;
        float_in(
            "assumed_min_latency_ms",
            self.assumed_min_latency_ms,
            0.0,
            1_000.0,
        )?;
        if self.expected_objects.len() > self.max_objects {
            return Err(ConfigError::TooManyObjects {
                count: self.expected_objects.len(),
                max: self.max_objects,
            });
        }
        for (index, name) in self.expected_objects.iter().enumerate() {
            check_name(name).map_err(|reason| ConfigError::ObjectName {
                index,
                name: name.clone(),
                reason,
            })?;
            if self.expected_objects[..index].contains(name) {
                return Err(ConfigError::DuplicateObject { name: name.clone() });
            }
        }
        Ok(())
    }

    /// The limits a datagram must respect under this configuration.
    pub fn wire_limits(&self) -> WireLimits {
        WireLimits {
            max_datagram_bytes: self.max_datagram_bytes,
            max_objects: self.max_objects,
            quat_norm_tolerance: self.quat_norm_tolerance,
            max_abs_position_m: self.max_abs_position_m,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(PoseStreamConfig::default().validate(), Ok(()));
    }

    #[test]
    fn errors_name_the_field_and_range() {
        let config = PoseStreamConfig {
            stale_after_ms: 0,
            ..PoseStreamConfig::default()
        };
        let message = config.validate().err().map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("pose stream config: `stale_after_ms` = 0 is outside 1..=60000")
        );
        let config = PoseStreamConfig {
            quat_norm_tolerance: f64::NAN,
            ..PoseStreamConfig::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::FloatOutOfRange {
                field: "quat_norm_tolerance",
                ..
            })
        ));
    }

    #[test]
    fn expected_objects_are_checked() {
        let config = PoseStreamConfig {
            expected_objects: vec!["cube".into(), "".into()],
            ..PoseStreamConfig::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::ObjectName { index: 1, .. })
        ));
        let config = PoseStreamConfig {
            expected_objects: vec!["cube".into(), "cube".into()],
            ..PoseStreamConfig::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::DuplicateObject { .. })
        ));
    }

    #[test]
    fn parses_strictly() {
        let config: Result<PoseStreamConfig, _> =
            serde_json::from_str(r#"{"bind": "0.0.0.0:7701", "stale_after_ms": 100}"#);
        let config = config.ok();
        assert_eq!(config.as_ref().map(|c| c.stale_after_ms), Some(100));
        assert_eq!(config.map(|c| c.bind.port()), Some(7701));
        let unknown: Result<PoseStreamConfig, _> = serde_json::from_str(r#"{"stale_ms": 100}"#);
        assert!(unknown.is_err());
    }
}
