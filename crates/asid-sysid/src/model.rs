//! What identification needs from a model: replay an episode (the plan's actions, or the measured
//! joint path), and sensitivities for Gauss-Newton.

use asid_core::ParamSpace;
use nalgebra::DMatrix;

/// Observations (`H + 1` rows) and one `obs_dim x P` sensitivity matrix per action.
pub type Sensitivities = (Vec<Vec<f64>>, Vec<DMatrix<f64>>);

/// A model that can replay recorded episodes open loop.
///
/// Sensitivities of `object_pose` quaternion components are taken with the perturbed
/// quaternions on the nominal's sign (a quaternion and its negative are one rotation), so they stay
/// finite when an object turns through 180 degrees.
pub trait ReplayModel: Sync {
    /// The unknown parameters.
    fn space(&self) -> &ParamSpace;
    /// Observations (`H + 1` rows, the first before any action) for `theta` under `actions`.
    fn simulate(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, String>;
    /// Observations and their derivatives: one `obs_dim x P` matrix per action (whole-trajectory
    /// finite differences; zero columns for discrete parameters).
    fn sensitivities(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Sensitivities, String>;
    /// Observations (`H + 1` rows) for `theta` with the arm moved along `q_path` (joint positions at
    /// the control steps `0..=H`, linear in between). A model without an arm to move refuses.
    fn simulate_joint_path(
        &self,
        _theta: &[f64],
        _q_path: &[Vec<f64>],
    ) -> Result<Vec<Vec<f64>>, String> {
        Err("this model cannot follow a measured joint path: use the commanded drive".into())
    }
    /// The control period of the replays (s), which the tracker-latency search needs to move the
    /// observations in time; `None` (the default): not known, no latency estimate.
    fn control_period_s(&self) -> Option<f64> {
        None
    }
    /// Observations between the control steps: `(per_step, rows)` with `per_step` rows per control
    /// period (`rows[0]` before any action, `rows[h * per_step]` those of [`Self::simulate`]), under
    /// `actions` or, given, along `q_path`. The tracker-latency search moves these in time
    /// ([`crate::latency`]); the default is the control steps themselves, for a model that cannot
    /// say more.
    fn simulate_fine(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        q_path: Option<&[Vec<f64>]>,
    ) -> Result<(usize, Vec<Vec<f64>>), String> {
        let rows = match q_path {
            Some(q) => self.simulate_joint_path(theta, q)?,
            None => self.simulate(theta, actions)?,
        };
        Ok((1, rows))
    }
    /// As [`ReplayModel::sensitivities`], with the arm moved along `q_path`.
    fn joint_path_sensitivities(
        &self,
        _theta: &[f64],
        _q_path: &[Vec<f64>],
    ) -> Result<Sensitivities, String> {
        Err("this model cannot follow a measured joint path: use the commanded drive".into())
    }
}
