//! What a session needs to know: joint limits from the robot description, the plan's control
//! period, timeouts, and the collision / impedance settings sent before moving.

use asid_core::RobotSpec;

use crate::protocol::robot::CollisionBehavior;

/// A configuration value outside what the client can work with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A value outside its allowed range.
    #[error("{key} = {value} outside {allowed}")]
    Range {
        /// Dotted key.
        key: String,
        /// The value given.
        value: f64,
        /// What is allowed.
        allowed: &'static str,
    },
    /// A per-joint list of the wrong length.
    #[error("{key} has {len} entries, the arm has {dof} joints")]
    Length {
        /// Dotted key.
        key: String,
        /// Entries given.
        len: usize,
        /// Joints of the arm.
        dof: usize,
    },
}

/// Joints of a Franka arm; the wire format is fixed to seven.
pub const DOF: usize = 7;

/// Per-joint limits the interpolator keeps every 1 kHz command within.
#[derive(Debug, Clone, PartialEq)]
pub struct JointLimits {
    /// Joint names, used in errors.
    pub names: Vec<String>,
    /// Lower position limits.
    pub position_min_rad: Vec<f64>,
    /// Upper position limits.
    pub position_max_rad: Vec<f64>,
    /// Speed limits.
    pub velocity_rad_s: Vec<f64>,
    /// Acceleration limits.
    pub acceleration_rad_s2: Vec<f64>,
    /// Jerk limits.
    pub jerk_rad_s3: Vec<f64>,
}

impl JointLimits {
    /// The datasheet limits of a robot description (`[limits]` of `robots/<name>/robot.toml`).
    pub fn from_spec(spec: &RobotSpec) -> Result<Self, ConfigError> {
        let l = &spec.limits;
        let out = Self {
            names: spec.joints.clone(),
            position_min_rad: l.position_min_rad.clone(),
            position_max_rad: l.position_max_rad.clone(),
            velocity_rad_s: l.velocity_rad_s.clone(),
            acceleration_rad_s2: l.acceleration_rad_s2.clone(),
            jerk_rad_s3: l.jerk_rad_s3.clone(),
        };
        out.validate()?;
        Ok(out)
    }

    /// Number of joints.
    pub fn dof(&self) -> usize {
        self.names.len()
    }

    /// Shrinks the limits the way libfranka's `rate_limiting.h` does: a small epsilon off every
    /// bound, and off the speed limit what three lost packets at full acceleration would add
    /// (the arm then extrapolates the last command).
    pub fn with_fci_margins(mut self) -> Self {
        const EPS: f64 = 1e-3;
        const LOST_PACKETS_S: f64 = 3.0 * 1e-3;
        for i in 0..self.dof() {
            self.velocity_rad_s[i] -= EPS + LOST_PACKETS_S * self.acceleration_rad_s2[i];
            self.acceleration_rad_s2[i] -= EPS;
            self.jerk_rad_s3[i] -= EPS;
        }
        self
    }

    /// Scales speed, acceleration and jerk limits by `factor` in (0, 1] (e.g. 0.5 for first runs
    /// on a new setup); position limits stay.
    pub fn scaled(mut self, factor: f64) -> Result<Self, ConfigError> {
        if !(factor > 0.0 && factor <= 1.0) {
            return Err(ConfigError::Range {
                key: "limits.scale".into(),
                value: factor,
                allowed: "(0, 1]",
            });
        }
        for v in [
            &mut self.velocity_rad_s,
            &mut self.acceleration_rad_s2,
            &mut self.jerk_rad_s3,
        ] {
            v.iter_mut().for_each(|x| *x *= factor);
        }
        Ok(self)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let dof = self.dof();
        for (key, v) in [
            ("limits.position_min_rad", &self.position_min_rad),
            ("limits.position_max_rad", &self.position_max_rad),
            ("limits.velocity_rad_s", &self.velocity_rad_s),
            ("limits.acceleration_rad_s2", &self.acceleration_rad_s2),
            ("limits.jerk_rad_s3", &self.jerk_rad_s3),
        ] {
            if v.len() != dof {
                return Err(ConfigError::Length {
                    key: key.into(),
                    len: v.len(),
                    dof,
                });
            }
        }
        for (key, v) in [
            ("limits.velocity_rad_s", &self.velocity_rad_s),
            ("limits.acceleration_rad_s2", &self.acceleration_rad_s2),
            ("limits.jerk_rad_s3", &self.jerk_rad_s3),
        ] {
            for (i, x) in v.iter().enumerate() {
                if !(x.is_finite() && *x > 0.0) {
                    return Err(ConfigError::Range {
                        key: format!("{key}[{i}]"),
                        value: *x,
                        allowed: "finite and > 0",
                    });
                }
            }
        }
        for i in 0..dof {
            let (lo, hi) = (self.position_min_rad[i], self.position_max_rad[i]);
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(ConfigError::Range {
                    key: format!("limits.position_min_rad[{i}]"),
                    value: lo,
                    allowed: "finite and below position_max_rad",
                });
            }
        }
        Ok(())
    }
}

/// Settings of an arm session.
#[derive(Debug, Clone, PartialEq)]
pub struct RobotConfig {
    /// Robot name reported in the capabilities (`fr3`, `panda`).
    pub robot: String,
    /// Limits every command respects.
    pub limits: JointLimits,
    /// Plan period: `step` targets the end of one such period. A whole number of milliseconds.
    pub control_period_s: f64,
    /// No state datagram for this long ends the session with `LinkLost`.
    pub link_timeout_ms: u64,
    /// TCP connect, handshake and first state.
    pub connect_timeout_ms: u64,
    /// Replies to configuration commands, motion start and motion finish.
    pub command_timeout_ms: u64,
    /// After a period ends without a new target the arm keeps its velocity this long, then
    /// brakes to rest (a caller a few ms late must not cause a stop-and-go).
    pub coast_limit_ms: u32,
    /// States kept for [`crate::FrankaArm::received_states`]; the oldest are dropped beyond it
    /// (and counted in the loop statistics).
    pub history_capacity: usize,
    /// A command sent later than this after its state counts as a late cycle.
    pub late_threshold_us: u64,
    /// Sent at connect, if set.
    pub collision_behavior: Option<CollisionBehavior>,
    /// Joint stiffness sent at connect, if set.
    pub joint_impedance_nm_per_rad: Option<[f64; DOF]>,
}

impl RobotConfig {
    /// Defaults for a robot description and a plan period: libfranka-style margins on the
    /// datasheet limits, libfranka's example collision thresholds and joint stiffness.
    pub fn from_spec(spec: &RobotSpec, control_period_s: f64) -> Result<Self, ConfigError> {
        let out = Self {
            robot: spec.name.clone(),
            limits: JointLimits::from_spec(spec)?.with_fci_margins(),
            control_period_s,
            link_timeout_ms: 100,
            connect_timeout_ms: 5_000,
            command_timeout_ms: 5_000,
            coast_limit_ms: 10,
            history_capacity: 120_000,
            late_threshold_us: 500,
            collision_behavior: Some(CollisionBehavior::libfranka_examples()),
            joint_impedance_nm_per_rad: Some([
                3000.0, 3000.0, 3000.0, 2500.0, 2500.0, 2000.0, 2000.0,
            ]),
        };
        out.validate()?;
        Ok(out)
    }

    /// Control period in 1 ms ticks of the arm.
    pub fn period_ticks(&self) -> u32 {
        (self.control_period_s * 1000.0).round() as u32
    }

    /// Checks ranges; `connect` calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.limits.validate()?;
        if self.limits.dof() != DOF {
            return Err(ConfigError::Length {
                key: "joints".into(),
                len: self.limits.dof(),
                dof: DOF,
            });
        }
        let ms = self.control_period_s * 1000.0;
        if !(ms.is_finite() && (1.0..=10_000.0).contains(&ms) && (ms - ms.round()).abs() < 1e-6) {
            return Err(ConfigError::Range {
                key: "control_period_s".into(),
                value: self.control_period_s,
                allowed: "whole milliseconds in [0.001, 10] s",
            });
        }
        for (key, v, lo) in [
            ("link_timeout_ms", self.link_timeout_ms, 5),
            ("connect_timeout_ms", self.connect_timeout_ms, 1),
            ("command_timeout_ms", self.command_timeout_ms, 1),
            ("history_capacity", self.history_capacity as u64, 1),
        ] {
            if v < lo {
                return Err(ConfigError::Range {
                    key: key.into(),
                    value: v as f64,
                    allowed: "at least 5 ms (link), 1 otherwise",
                });
            }
        }
        Ok(())
    }
}

/// Settings of a Franka Hand session.
#[derive(Debug, Clone, PartialEq)]
pub struct GripperConfig {
    /// TCP connect and handshake.
    pub connect_timeout_ms: u64,
    /// Longest a hand command may take before it is reported failed.
    pub command_timeout_ms: u64,
    /// No state datagram for this long makes `read` fail with `LinkLost`.
    pub link_timeout_ms: u64,
    /// Width, speed and force limits checked before a command is sent (the hand's datasheet).
    pub limits: asid_arm::GripperLimits,
}

impl Default for GripperConfig {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 5_000,
            command_timeout_ms: 60_000,
            link_timeout_ms: 1_000,
            limits: asid_arm::GripperLimits::FRANKA_HAND,
        }
    }
}
