//! How imperfect the simulated lab is: [`LabConfig`], its ranges and its `name=value,...` form.

/// A lab setting that is unknown, not a number or out of its range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabConfigError {
    /// Not `name=value` (nor `ideal`).
    #[error("lab setting `{item}`: expected name=value or `ideal`")]
    NotAnItem {
        /// The offending item.
        item: String,
    },
    /// No such setting.
    #[error("lab setting `{name}`: no such setting (allowed: {})", LabConfig::NAMES.join(", "))]
    Unknown {
        /// The name given.
        name: String,
    },
    /// The value does not parse.
    #[error("lab setting {name} = `{value}`: {expected}")]
    NotAValue {
        /// The setting.
        name: String,
        /// The text given.
        value: String,
        /// What is expected.
        expected: &'static str,
    },
    /// The value is outside its range.
    #[error("lab setting {name} = {value}: allowed [{lo}, {hi}]")]
    OutOfRange {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: f64,
        /// Smallest allowed value.
        lo: f64,
        /// Largest allowed value.
        hi: f64,
    },
}

/// How imperfect the simulated lab is. [`LabConfig::default`] is a lab that is not the fitting
/// model; [`LabConfig::ideal`] is the fitting model with exact sensors, for comparisons.
#[derive(Debug, Clone, PartialEq)]
pub struct LabConfig {
    /// Seed of every random draw of the lab (noise, jitter, tracking offsets).
    pub seed: u64,
    /// Sensor noise as a multiple of the scene's sigmas (0: exact sensors).
    pub noise_scale: f64,
    /// Tracker latency that its stamps do not show: a pose is stamped (and delivered) this long
    /// after it was true. Identification estimates it (`asid identify`, `pose_latency`).
    pub pose_latency_ms: f64,
    /// Tracker frame rate (at most one frame per physics step).
    pub pose_rate_hz: f64,
    /// Probability that a tracker frame comes one physics step early or late.
    pub pose_jitter_probability: f64,
    /// Orientation noise of the tracker (times `noise_scale`).
    pub pose_rotation_sigma_rad: f64,
    /// Probability that a control period lasts one physics step more or less.
    pub jitter_probability: f64,
    /// The arm's joints follow the interpolated command through a joint PD at the robot file's
    /// gains (`[controller]` kp, kd, armature, damping) with the command's velocity fed forward,
    /// instead of exactly (kinematic arms; a dynamic arm has its own PD).
    pub tracking_lag: bool,
    /// Link inertia about each joint axis added to the robot file's armature in the lag model.
    pub link_inertia_kgm2: f64,
    /// Standard deviation of the constant per-joint offset between command and motion. The
    /// measured joint positions carry it, so identification that replays them (`--drive measured`)
    /// is not biased by it; a replay of the commands is.
    pub tracking_offset_sigma_rad: f64,
    /// Joint-position noise when the scene does not observe joints.
    pub joint_sigma_rad: f64,
}

impl Default for LabConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            noise_scale: 1.0,
            pose_latency_ms: 12.0,
            pose_rate_hz: 100.0,
            pose_jitter_probability: 0.1,
            pose_rotation_sigma_rad: 0.002,
            jitter_probability: 0.05,
            tracking_lag: true,
            link_inertia_kgm2: 0.5,
            tracking_offset_sigma_rad: 2e-4,
            joint_sigma_rad: 1e-4,
        }
    }
}

impl LabConfig {
    /// Names accepted by [`LabConfig::apply`] (besides `ideal`).
    pub const NAMES: [&'static str; 11] = [
        "noise_scale",
        "pose_latency_ms",
        "pose_rate_hz",
        "pose_jitter_probability",
        "pose_rotation_sigma_rad",
        "jitter_probability",
        "tracking_lag",
        "link_inertia_kgm2",
        "tracking_offset_sigma_rad",
        "joint_sigma_rad",
        "seed",
    ];

    /// The fitting model's own world: exact sensors, no lag, offset, latency or jitter.
    pub fn ideal() -> Self {
        Self {
            seed: 0,
            noise_scale: 0.0,
            pose_latency_ms: 0.0,
            pose_rate_hz: 100.0,
            pose_jitter_probability: 0.0,
            pose_rotation_sigma_rad: 0.0,
            jitter_probability: 0.0,
            tracking_lag: false,
            link_inertia_kgm2: 0.5,
            tracking_offset_sigma_rad: 0.0,
            joint_sigma_rad: 0.0,
        }
    }

    /// Applies `ideal` and `name=value` items, comma-separated, in order (`ideal` first resets
    /// everything but the seed), then checks the result. `tracking_lag` takes on/off/true/false/1/0.
    pub fn apply(&mut self, spec: &str) -> Result<(), LabConfigError> {
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "ideal" {
                *self = Self {
                    seed: self.seed,
                    ..Self::ideal()
                };
                continue;
            }
            let Some((name, value)) = item.split_once('=') else {
                return Err(LabConfigError::NotAnItem { item: item.into() });
            };
            let (name, value) = (name.trim(), value.trim());
            let bad = |expected| LabConfigError::NotAValue {
                name: name.into(),
                value: value.into(),
                expected,
            };
            if name == "tracking_lag" {
                self.tracking_lag = match value {
                    "on" | "true" | "1" => true,
                    "off" | "false" | "0" => false,
                    _ => return Err(bad("expected on, off, true, false, 1 or 0")),
                };
                continue;
            }
            if name == "seed" {
                self.seed = value.parse().map_err(|_| bad("expected an integer"))?;
                continue;
            }
            let v: f64 = value.parse().map_err(|_| bad("expected a number"))?;
            let field = match name {
                "noise_scale" => &mut self.noise_scale,
                "pose_latency_ms" => &mut self.pose_latency_ms,
                "pose_rate_hz" => &mut self.pose_rate_hz,
                "pose_jitter_probability" => &mut self.pose_jitter_probability,
                "pose_rotation_sigma_rad" => &mut self.pose_rotation_sigma_rad,
                "jitter_probability" => &mut self.jitter_probability,
                "link_inertia_kgm2" => &mut self.link_inertia_kgm2,
                "tracking_offset_sigma_rad" => &mut self.tracking_offset_sigma_rad,
                "joint_sigma_rad" => &mut self.joint_sigma_rad,
                other => return Err(LabConfigError::Unknown { name: other.into() }),
            };
            *field = v;
        }
        self.validate()
    }

    /// Checks the settings; the error names the field and the allowed range.
    pub fn validate(&self) -> Result<(), LabConfigError> {
        let checks = [
            ("noise_scale", self.noise_scale, 0.0, 100.0),
            ("pose_latency_ms", self.pose_latency_ms, 0.0, 1_000.0),
            ("pose_rate_hz", self.pose_rate_hz, 1.0, 1_000.0),
            (
                "pose_jitter_probability",
                self.pose_jitter_probability,
                0.0,
                1.0,
            ),
            (
                "pose_rotation_sigma_rad",
                self.pose_rotation_sigma_rad,
                0.0,
                1.0,
            ),
            ("jitter_probability", self.jitter_probability, 0.0, 1.0),
            ("link_inertia_kgm2", self.link_inertia_kgm2, 0.0, 100.0),
            (
                "tracking_offset_sigma_rad",
                self.tracking_offset_sigma_rad,
                0.0,
                0.1,
            ),
            ("joint_sigma_rad", self.joint_sigma_rad, 0.0, 0.1),
        ];
        for (name, value, lo, hi) in checks {
            if !(value >= lo && value <= hi) {
                return Err(LabConfigError::OutOfRange {
                    name,
                    value,
                    lo,
                    hi,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ideal_then_overrides_in_order() {
        let mut c = LabConfig {
            seed: 7,
            ..LabConfig::default()
        };
        c.apply("ideal, noise_scale=1, tracking_lag=on")
            .expect("valid");
        assert_eq!(c.seed, 7);
        assert_eq!(c.noise_scale, 1.0);
        assert!(c.tracking_lag);
        assert_eq!(c.pose_latency_ms, 0.0);
        assert_eq!(c.tracking_offset_sigma_rad, 0.0);
    }

    #[test]
    fn bad_items_name_the_setting_and_range() {
        let cases = [
            ("gremlins=1", "gremlins"),
            ("pose_latency_ms=abc", "pose_latency_ms"),
            ("pose_rate_hz=0", "[1, 1000]"),
            ("pose_latency_ms=-1", "[0, 1000]"),
            ("tracking_lag=maybe", "tracking_lag"),
            ("latency", "name=value"),
            ("noise_scale=NaN", "noise_scale"),
        ];
        for (spec, needle) in cases {
            let err = LabConfig::default().apply(spec).expect_err(spec);
            assert!(err.to_string().contains(needle), "{spec}: {err}");
        }
    }
}
