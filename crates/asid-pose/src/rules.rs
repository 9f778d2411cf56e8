//! The rules of pose stream v1 beyond JSON syntax: names, finite values, ranges, unit
//! quaternions, limits. Shared by the receiver and the sender, so a sender refuses what a receiver
//! would reject.

use crate::wire::{Datagram, ObjectPose};

/// Longest object name, in bytes.
pub const MAX_NAME_BYTES: usize = 128;

/// Bounds a datagram must respect (from [`PoseStreamConfig::wire_limits`]).
///
/// [`PoseStreamConfig::wire_limits`]: crate::PoseStreamConfig::wire_limits
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WireLimits {
    /// Largest datagram.
    pub max_datagram_bytes: usize,
    /// Most objects in one datagram.
    pub max_objects: usize,
    /// Allowed `| |q| - 1 |`.
    pub quat_norm_tolerance: f64,
    /// Largest `|p|` on any axis.
    pub max_abs_position_m: f64,
}

impl Default for WireLimits {
    fn default() -> Self {
        crate::PoseStreamConfig::default().wire_limits()
    }
}

/// Why an object name is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("empty name")]
    Empty,
    /// The name is too long.
    #[error("name of {bytes} bytes, limit {limit}")]
    TooLong {
        /// Its length.
        bytes: usize,
        /// [`MAX_NAME_BYTES`].
        limit: usize,
    },
    /// A control character (newline, tab, NUL...) in the name.
    #[error("control character at byte {index}")]
    ControlCharacter {
        /// Byte offset.
        index: usize,
    },
    /// Leading or trailing whitespace, almost always a sender bug.
    #[error("leading or trailing whitespace")]
    SurroundingWhitespace,
}

/// Checks an object name: 1 to [`MAX_NAME_BYTES`] bytes, no control characters, no surrounding
/// whitespace.
pub fn check_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong {
            bytes: name.len(),
            limit: MAX_NAME_BYTES,
        });
    }
    if let Some((index, _)) = name.char_indices().find(|(_, c)| c.is_control()) {
        return Err(NameError::ControlCharacter { index });
    }
    if name.trim() != name {
        return Err(NameError::SurroundingWhitespace);
    }
    Ok(())
}

/// Why a datagram was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DatagramError {
    /// Larger than `max_datagram_bytes` (a truncated receive reports the limit + 1).
    #[error("datagram of {bytes} bytes or more, limit {limit}")]
    TooLarge {
        /// Size seen.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Not UTF-8.
    #[error("not UTF-8 (valid up to byte {valid_up_to})")]
    NotUtf8 {
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// Not a pose stream v1 JSON object (syntax, missing or unknown field, wrong type or length).
    #[error("not pose stream v1 JSON: {0}")]
    Json(String),
    /// A frame other than [`FRAME`].
    #[error("frame {frame:?} is not \"base\"")]
    WrongFrame {
        /// The frame sent.
        frame: String,
    },
    /// `t` is not finite.
    #[error("sender time t = {t} is not finite")]
    TimeNotFinite {
        /// The value.
        t: f64,
    },
    /// More objects than `max_objects` (in the datagram, or tracked over the run).
    #[error("{count} objects, limit {limit}")]
    TooManyObjects {
        /// Objects.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A bad object name.
    #[error("object {object:?}: {reason}")]
    ObjectName {
        /// The name.
        object: String,
        /// What is wrong.
        reason: NameError,
    },
    /// An object appears twice in one datagram.
    #[error("object `{object}` appears twice")]
    DuplicateObject {
        /// The name.
        object: String,
    },
    /// A position component is not finite.
    #[error("position of `{object}` = {p_m:?} m is not finite")]
    PositionNotFinite {
        /// The object.
        object: String,
        /// The position.
        p_m: [f64; 3],
    },
    /// A position component beyond `max_abs_position_m`.
    #[error("position of `{object}` = {p_m:?} m is beyond +-{limit_m} m")]
    PositionOutOfRange {
        /// The object.
        object: String,
        /// The position.
        p_m: [f64; 3],
        /// The limit per axis.
        limit_m: f64,
    },
    /// A quaternion component is not finite.
    #[error("quaternion of `{object}` = {q_wxyz:?} is not finite")]
    QuaternionNotFinite {
        /// The object.
        object: String,
        /// The quaternion.
        q_wxyz: [f64; 4],
    },
    /// The quaternion norm is too far from 1.
    #[error("quaternion of `{object}` has norm {norm}, allowed 1 +- {tolerance}")]
    QuaternionNorm {
        /// The object.
        object: String,
        /// Its norm.
        norm: f64,
        /// The tolerance.
        tolerance: f64,
    },
}

impl Datagram {
    /// Checks every rule of v1 except size and syntax (those belong to the bytes).
    pub fn validate(&self, limits: &WireLimits) -> Result<(), DatagramError> {
        if !self.t_s.is_finite() {
            return Err(DatagramError::TimeNotFinite { t: self.t_s });
        }
        if self.poses.len() > limits.max_objects {
            return Err(DatagramError::TooManyObjects {
                count: self.poses.len(),
                limit: limits.max_objects,
            });
        }
        for (i, pose) in self.poses.iter().enumerate() {
            check_pose(pose, limits)?;
            if self.poses[..i].iter().any(|p| p.object == pose.object) {
                return Err(DatagramError::DuplicateObject {
                    object: pose.object.clone(),
                });
            }
        }
        Ok(())
    }

    /// Validates, then scales every quaternion to unit norm.
    pub(crate) fn normalise(&mut self, limits: &WireLimits) -> Result<(), DatagramError> {
        self.validate(limits)?;
        for pose in &mut self.poses {
            let norm = quat_norm(&pose.q_wxyz);
            pose.q_wxyz = pose.q_wxyz.map(|v| v / norm);
        }
        Ok(())
    }
}

fn check_pose(pose: &ObjectPose, limits: &WireLimits) -> Result<(), DatagramError> {
    let object = || pose.object.clone();
    check_name(&pose.object).map_err(|reason| DatagramError::ObjectName {
        object: object(),
        reason,
    })?;
    if !pose.p_m.iter().all(|v| v.is_finite()) {
        return Err(DatagramError::PositionNotFinite {
            object: object(),
            p_m: pose.p_m,
        });
    }
    if pose.p_m.iter().any(|v| v.abs() > limits.max_abs_position_m) {
        return Err(DatagramError::PositionOutOfRange {
            object: object(),
            p_m: pose.p_m,
            limit_m: limits.max_abs_position_m,
        });
    }
    if !pose.q_wxyz.iter().all(|v| v.is_finite()) {
        return Err(DatagramError::QuaternionNotFinite {
            object: object(),
            q_wxyz: pose.q_wxyz,
        });
    }
    let norm = quat_norm(&pose.q_wxyz);
    if (norm - 1.0).abs() > limits.quat_norm_tolerance {
        return Err(DatagramError::QuaternionNorm {
            object: object(),
            norm,
            tolerance: limits.quat_norm_tolerance,
        });
    }
    Ok(())
}

fn quat_norm(q: &[f64; 4]) -> f64 {
    q.iter().map(|v| v * v).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("cube_1"), Ok(()));
        assert_eq!(
            check_name("a\nb"),
            Err(NameError::ControlCharacter { index: 1 })
        );
        assert_eq!(check_name(" a"), Err(NameError::SurroundingWhitespace));
        assert!(matches!(
            check_name(&"x".repeat(129)),
            Err(NameError::TooLong { bytes: 129, .. })
        ));
    }
}
