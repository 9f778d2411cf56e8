//! What identification needs from a model: replay actions, and sensitivities for Gauss-Newton.

use asid_core::ParamSpace;
use asid_sim::Simulator;
use nalgebra::DMatrix;

/// Observations (`H + 1` rows) and one `obs_dim x P` sensitivity matrix per action.
pub type Sensitivities = (Vec<Vec<f64>>, Vec<DMatrix<f64>>);

/// A model that can replay recorded actions open loop.
pub trait ReplayModel: Sync {
    /// The unknown parameters.
    fn space(&self) -> &ParamSpace;
    /// Observations (`H + 1` rows, the first before any action) for `theta` under `actions`.
    fn simulate(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, String>;
    /// Observations and their derivatives: one `obs_dim x P` matrix per action (whole-trajectory
    /// finite differences; zero columns for discrete parameters).
    fn sensitivities(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Sensitivities, String>;
}

impl ReplayModel for Simulator {
    fn space(&self) -> &ParamSpace {
        &self.scene().space
    }

    fn simulate(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, String> {
        self.rollout(theta, actions)
            .map(|t| t.obs)
            .map_err(|e| e.to_string())
    }

    fn sensitivities(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Sensitivities, String> {
        self.trajectory_sensitivity(theta, actions)
            .map(|s| (s.nominal.obs, s.jacobians))
            .map_err(|e| e.to_string())
    }
}
