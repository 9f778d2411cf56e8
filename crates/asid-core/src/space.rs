//! The validated parameter space of a scene.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::param::{ParamTarget, Prior};

/// One validated unknown parameter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Param {
    /// Report name.
    pub name: String,
    /// The target as written (`rod.com_offset`).
    pub target_path: String,
    /// Resolved target.
    pub target: ParamTarget,
    /// Prior.
    pub prior: Prior,
    /// Hard bounds.
    pub bounds: [f64; 2],
    /// Finite-difference step (0 for discrete parameters).
    pub fd_step: f64,
    /// The value the scene file itself gives (used when the parameter is not set).
    pub nominal: f64,
}

/// The ordered set of unknown parameters; parameter vectors follow this order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ParamSpace {
    /// Parameters in vector order.
    pub params: Vec<Param>,
}

impl ParamSpace {
    /// Number of parameters.
    pub fn dim(&self) -> usize {
        self.params.len()
    }

    /// Parameter names in vector order.
    pub fn names(&self) -> Vec<&str> {
        self.params.iter().map(|p| p.name.as_str()).collect()
    }

    /// Index of a parameter by name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// The scene file's own values.
    pub fn nominal(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.nominal).collect()
    }

    /// Prior std of each parameter (floored at 1e-12): the scale that makes parameters in different
    /// units comparable in Fisher information, scaled coordinates and identifiability reports.
    pub fn scales(&self) -> Vec<f64> {
        self.params
            .iter()
            .map(|p| p.prior.std().max(1e-12))
            .collect()
    }

    /// Central prior values.
    pub fn center(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.prior.center()).collect()
    }

    /// One draw from the prior.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        self.params
            .iter()
            .map(|p| p.prior.sample(p.bounds, rng))
            .collect()
    }

    /// Checks a parameter vector: right length, finite, inside the bounds.
    pub fn check(&self, theta: &[f64]) -> Result<(), ParamError> {
        if theta.len() != self.dim() {
            return Err(ParamError::Length {
                got: theta.len(),
                expected: self.dim(),
            });
        }
        for (p, &v) in self.params.iter().zip(theta) {
            if !(v.is_finite() && v >= p.bounds[0] && v <= p.bounds[1]) {
                return Err(ParamError::OutOfBounds {
                    name: p.name.clone(),
                    value: v,
                    low: p.bounds[0],
                    high: p.bounds[1],
                });
            }
        }
        Ok(())
    }
}

/// A parameter vector is not acceptable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// Wrong number of values.
    #[error("parameter vector has {got} values, the scene has {expected} parameters")]
    Length {
        /// Values given.
        got: usize,
        /// Parameters in the scene.
        expected: usize,
    },
    /// A value is outside its hard bounds (or not finite).
    #[error("parameter `{name}` = {value} is outside its bounds [{low}, {high}]")]
    OutOfBounds {
        /// Parameter name.
        name: String,
        /// Offending value.
        value: f64,
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
}
