//! Shapes and poses as written in scene and tool files (SI units, radians).

use serde::{Deserialize, Serialize};

/// A primitive collision shape. Cylinders and capsules have their axis along the body's z.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shape {
    /// An axis-aligned box in the body frame.
    Box {
        /// Half extents along x, y, z.
        half_extents_m: [f64; 3],
    },
    /// A sphere centred on the body origin.
    Sphere {
        /// Radius.
        radius_m: f64,
    },
    /// A cylinder along the body z axis.
    Cylinder {
        /// Radius.
        radius_m: f64,
        /// Half of the length along z.
        half_height_m: f64,
    },
    /// A capsule along the body z axis.
    Capsule {
        /// Radius of the caps and the shaft.
        radius_m: f64,
        /// Half of the length of the shaft (without the caps).
        half_height_m: f64,
    },
}

impl Shape {
    /// Checks every dimension is finite and positive; returns the key of the first bad one.
    pub fn check(&self) -> Result<(), (&'static str, f64)> {
        let dims: Vec<(&'static str, f64)> = match self {
            Self::Box { half_extents_m } => half_extents_m
                .iter()
                .map(|v| ("half_extents_m", *v))
                .collect(),
            Self::Sphere { radius_m } => vec![("radius_m", *radius_m)],
            Self::Cylinder {
                radius_m,
                half_height_m,
            }
            | Self::Capsule {
                radius_m,
                half_height_m,
            } => vec![("radius_m", *radius_m), ("half_height_m", *half_height_m)],
        };
        match dims.into_iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
            Some(bad) => Err(bad),
            None => Ok(()),
        }
    }

    /// The body axis (0 = x, 1 = y, 2 = z) along which the shape is longest, if it has one.
    pub fn long_axis(&self) -> Option<usize> {
        match self {
            Self::Box { half_extents_m: h } => {
                let mut best = 0;
                for i in 1..3 {
                    if h[i] > h[best] {
                        best = i;
                    }
                }
                let unique = (0..3).filter(|&i| i != best).all(|i| h[i] < h[best]);
                unique.then_some(best)
            }
            Self::Sphere { .. } => None,
            Self::Cylinder {
                radius_m,
                half_height_m,
            }
            | Self::Capsule {
                radius_m,
                half_height_m,
            } => (half_height_m > radius_m).then_some(2),
        }
    }

    /// Lowest point of the shape below its origin when upright (for placing on the table).
    pub fn half_height_z_m(&self) -> f64 {
        match self {
            Self::Box { half_extents_m } => half_extents_m[2],
            Self::Sphere { radius_m } => *radius_m,
            Self::Cylinder { half_height_m, .. } => *half_height_m,
            Self::Capsule {
                radius_m,
                half_height_m,
            } => radius_m + half_height_m,
        }
    }

    /// Principal moments of inertia (about x, y, z through the centre) for a uniform solid of `mass_kg`.
    pub fn uniform_inertia_kgm2(&self, mass_kg: f64) -> [f64; 3] {
        match self {
            Self::Box { half_extents_m: h } => {
                let (x2, y2, z2) = (4.0 * h[0] * h[0], 4.0 * h[1] * h[1], 4.0 * h[2] * h[2]);
                [
                    mass_kg * (y2 + z2) / 12.0,
                    mass_kg * (x2 + z2) / 12.0,
                    mass_kg * (x2 + y2) / 12.0,
                ]
            }
            Self::Sphere { radius_m } => {
                let i = 0.4 * mass_kg * radius_m * radius_m;
                [i, i, i]
            }
            Self::Cylinder {
                radius_m: r,
                half_height_m: hh,
            }
            | Self::Capsule {
                // A capsule is approximated by the cylinder of the same overall length.
                radius_m: r,
                half_height_m: hh,
            } => {
                let len = 2.0 * hh;
                let side = mass_kg * (3.0 * r * r + len * len) / 12.0;
                [side, side, 0.5 * mass_kg * r * r]
            }
        }
    }
}

/// A pose: position and roll-pitch-yaw (fixed axes x, y, z, as in URDF).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoseSpec {
    /// Position.
    pub xyz_m: [f64; 3],
    /// Roll, pitch, yaw about the fixed x, y, z axes.
    #[serde(default)]
    pub rpy_rad: [f64; 3],
}

impl Default for PoseSpec {
    fn default() -> Self {
        Self {
            xyz_m: [0.0; 3],
            rpy_rad: [0.0; 3],
        }
    }
}

impl PoseSpec {
    /// True when every number is finite.
    pub fn is_finite(&self) -> bool {
        self.xyz_m
            .iter()
            .chain(self.rpy_rad.iter())
            .all(|v| v.is_finite())
    }
}
