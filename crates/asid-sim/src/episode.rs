//! Episodes from the simulator: what a lab would record, with measurement noise at the scene's sigmas.

use asid_core::{ChannelLayout, EPISODE_FORMAT, Episode};
use rand::Rng;
use rand_distr::{Distribution, Normal};

use crate::{SimError, Simulator};

impl Simulator {
    /// Runs `actions` with parameters `theta` and records an episode; with `rng`, Gaussian noise of
    /// `noise_scale` times the scene's sigmas is added to every observation.
    pub fn record_episode<R: Rng + ?Sized>(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        rng: Option<&mut R>,
        noise_scale: f64,
    ) -> Result<Episode, SimError> {
        let scene = self.scene();
        let traj = self.rollout(theta, actions)?;
        let sigmas = scene.obs_sigmas();
        let n = scene.n_joints();
        let mut obs: Vec<Vec<Option<f64>>> = traj
            .obs
            .iter()
            .map(|o| o.iter().map(|v| Some(*v)).collect())
            .collect();
        if let Some(rng) = rng {
            for row in &mut obs {
                for (v, s) in row.iter_mut().zip(&sigmas) {
                    let noise = Normal::new(0.0, s * noise_scale).map_or(0.0, |d| d.sample(rng));
                    *v = v.map(|x| x + noise);
                }
            }
        }
        let mut meta = std::collections::BTreeMap::new();
        meta.insert("source".into(), serde_json::json!("asid simulator"));
        let truth: serde_json::Map<String, serde_json::Value> = scene
            .space
            .params
            .iter()
            .zip(theta)
            .map(|(p, v)| (p.name.clone(), serde_json::json!(v)))
            .collect();
        meta.insert("true_parameters".into(), serde_json::Value::Object(truth));
        meta.insert("noise_scale".into(), serde_json::json!(noise_scale));
        Ok(Episode {
            format: EPISODE_FORMAT.into(),
            scene: scene.spec.name.clone(),
            control_period_s: scene.control_period_s(),
            actions: actions.to_vec(),
            t0_s: traj.t_s[0],
            channels: scene
                .spec
                .observation
                .channels
                .iter()
                .map(|c| ChannelLayout {
                    kind: c.kind,
                    of: c.of.clone(),
                    dim: c.kind.dim(n),
                })
                .collect(),
            obs_t_s: traj.t_s.clone(),
            obs,
            meta,
        })
    }
}
