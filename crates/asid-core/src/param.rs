//! Unknown physical parameters: what they act on, their prior, bounds and finite-difference step.

use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

/// A parameter as written in a scene file (`[[parameter]]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Short name used in reports; defaults to the target.
    #[serde(default)]
    pub name: Option<String>,
    /// What the parameter sets, e.g. `rod.com_offset`, `puck.friction`, `lid.hinge.damping`.
    pub target: String,
    /// Prior belief.
    pub prior: Prior,
    /// Hard bounds `[low, high]`: no simulation is ever run outside them.
    pub bounds: [f64; 2],
    /// Finite-difference step (in the parameter's unit).
    #[serde(default)]
    pub fd_step: Option<f64>,
}

/// A prior over one parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Prior {
    /// Uniform on `[low, high]`.
    Uniform {
        /// Lower end.
        low: f64,
        /// Upper end.
        high: f64,
    },
    /// Normal, truncated to the bounds when sampled.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// Log-uniform on `[low, high]`, `0 < low < high`.
    LogUniform {
        /// Lower end.
        low: f64,
        /// Upper end.
        high: f64,
    },
    /// One of a few values with equal probability (structure: hinge present = 1 or not = 0).
    Discrete {
        /// The values.
        values: Vec<f64>,
    },
}

impl Prior {
    /// Draws one value, inside `bounds` (normal priors are truncated by rejection).
    pub fn sample<R: Rng + ?Sized>(&self, bounds: [f64; 2], rng: &mut R) -> f64 {
        match self {
            Self::Uniform { low, high } => rng.random_range(*low..=*high),
            Self::LogUniform { low, high } => rng.random_range(low.ln()..=high.ln()).exp(),
            Self::Normal { mean, std } => {
                // Validated: std > 0 and the mean lies inside the bounds, so rejection ends quickly.
                let normal = Normal::new(*mean, *std).unwrap_or_else(|_| unreachable_normal());
                for _ in 0..10_000 {
                    let v = normal.sample(rng);
                    if v >= bounds[0] && v <= bounds[1] {
                        return v;
                    }
                }
                mean.clamp(bounds[0], bounds[1])
            }
            Self::Discrete { values } => values[rng.random_range(0..values.len())],
        }
    }

    /// A central value: the mean (normal), midpoint (uniform), geometric mean (log-uniform), first value (discrete).
    pub fn center(&self) -> f64 {
        match self {
            Self::Uniform { low, high } => 0.5 * (low + high),
            Self::Normal { mean, .. } => *mean,
            Self::LogUniform { low, high } => (low * high).sqrt(),
            Self::Discrete { values } => values.first().copied().unwrap_or(0.0),
        }
    }

    /// Prior standard deviation (used to scale parameters of different units).
    pub fn std(&self) -> f64 {
        match self {
            Self::Uniform { low, high } => (high - low) / 12f64.sqrt(),
            Self::Normal { std, .. } => *std,
            Self::LogUniform { low, high } => {
                // Exact variance of a log-uniform distribution.
                let (a, b) = (*low, *high);
                let l = (b / a).ln();
                let m1 = (b - a) / l;
                let m2 = (b * b - a * a) / (2.0 * l);
                (m2 - m1 * m1).max(0.0).sqrt()
            }
            Self::Discrete { values } => {
                let n = values.len() as f64;
                let mean = values.iter().sum::<f64>() / n;
                (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
            }
        }
    }

    /// Is this a discrete (structural) prior, with no derivative?
    pub fn is_discrete(&self) -> bool {
        matches!(self, Self::Discrete { .. })
    }

    /// Short description for summaries.
    pub fn describe(&self) -> String {
        match self {
            Self::Uniform { low, high } => format!("uniform[{low}, {high}]"),
            Self::Normal { mean, std } => format!("normal({mean}, {std})"),
            Self::LogUniform { low, high } => format!("log-uniform[{low}, {high}]"),
            Self::Discrete { values } => format!("discrete{values:?}"),
        }
    }
}

fn unreachable_normal() -> Normal<f64> {
    // Only reached if validation was bypassed; a unit normal keeps sampling finite.
    Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!("unit normal is valid"))
}

/// What a parameter acts on, resolved against the scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParamTarget {
    /// Body mass (kg) of an object, ballast excluded.
    Mass {
        /// Object index in the scene.
        object: usize,
    },
    /// Centre-of-mass coordinate (m) of an object in its body frame along `axis`.
    Com {
        /// Object index.
        object: usize,
        /// 0 = x, 1 = y, 2 = z of the body frame.
        axis: usize,
    },
    /// Factor on the uniform-density inertia of an object.
    InertiaScale {
        /// Object index.
        object: usize,
    },
    /// Friction coefficient of an object.
    Friction {
        /// Object index.
        object: usize,
    },
    /// Restitution of an object.
    Restitution {
        /// Object index.
        object: usize,
    },
    /// Rolling-resistance coefficient of an object.
    RollingResistance {
        /// Object index.
        object: usize,
    },
    /// Torsional friction length (m) of an object.
    TorsionalFriction {
        /// Object index.
        object: usize,
    },
    /// Linear damping of an object (1/s).
    LinearDamping {
        /// Object index.
        object: usize,
    },
    /// Angular damping of an object (1/s).
    AngularDamping {
        /// Object index.
        object: usize,
    },
    /// Friction of the table surface.
    TableFriction,
    /// Friction of one table patch.
    PatchFriction {
        /// Patch index.
        patch: usize,
    },
    /// Viscous damping of an articulation joint.
    JointDamping {
        /// Index of the child object that carries the joint.
        object: usize,
    },
    /// Dry friction of an articulation joint.
    JointFriction {
        /// Child object index.
        object: usize,
    },
    /// Displacement (m) of the joint anchor along its `offset_direction`.
    JointAxisOffset {
        /// Child object index.
        object: usize,
    },
    /// Joint present (1) or welded (0).
    JointPresent {
        /// Child object index.
        object: usize,
    },
}

/// Field names accepted after an object name, for error messages.
pub const OBJECT_FIELDS: &str = "mass, inertia_scale, com_x, com_y, com_z, com_offset, friction, restitution, rolling_resistance, torsional_friction, linear_damping, angular_damping";
/// Field names accepted after `<object>.<joint>`.
pub const JOINT_FIELDS: &str = "damping, friction, axis_offset, present";
