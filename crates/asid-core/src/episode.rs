//! Recorded episodes as identification reads them: the actions sent at the control rate and the
//! observations received (timestamped; missing values are `null`).
//!
//! JSON (`asid-episode/1`) is written by the simulated lab (`asid simulate`); the hardware recorder
//! writes MCAP and converts to this in memory.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::scene::ChannelKind;

/// Layout of one observation channel inside the observation vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelLayout {
    /// What it is.
    pub kind: ChannelKind,
    /// Its subject, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
    /// Numbers in it.
    pub dim: usize,
}

/// One recorded episode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Episode {
    /// Format tag, `asid-episode/1`.
    pub format: String,
    /// Name of the scene it was recorded in.
    pub scene: String,
    /// Control period of the actions.
    pub control_period_s: f64,
    /// Actions sent, one per control step (action `h` starts at `t0_s + h * control_period_s`).
    pub actions: Vec<Vec<f64>>,
    /// Time of the first action.
    pub t0_s: f64,
    /// Observation channels, in vector order.
    pub channels: Vec<ChannelLayout>,
    /// Observation timestamps (same clock as `t0_s`).
    pub obs_t_s: Vec<f64>,
    /// Observations; `None` where a value is missing.
    pub obs: Vec<Vec<Option<f64>>>,
    /// Free-form metadata (source, seed, true parameters of a simulated lab, ...).
    #[serde(default)]
    pub meta: std::collections::BTreeMap<String, serde_json::Value>,
}

/// An episode file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EpisodeError {
    /// Unreadable or not an episode.
    #[error("{file}: {message}")]
    Read {
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// The episode does not fit the scene.
    #[error("{file}: {message}")]
    Mismatch {
        /// The file.
        file: String,
        /// What does not fit.
        message: String,
    },
}

/// Current format tag.
pub const EPISODE_FORMAT: &str = "asid-episode/1";

impl Episode {
    /// Reads an episode JSON file.
    pub fn read(path: &Path) -> Result<Self, EpisodeError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| EpisodeError::Read {
            file: file.clone(),
            message: e.to_string(),
        })?;
        let ep: Episode = serde_json::from_str(&text).map_err(|e| EpisodeError::Read {
            file: file.clone(),
            message: format!("not an episode: {e}"),
        })?;
        if ep.format != EPISODE_FORMAT {
            return Err(EpisodeError::Read {
                file,
                message: format!("format `{}`, expected `{EPISODE_FORMAT}`", ep.format),
            });
        }
        Ok(ep)
    }

    /// Writes the episode as JSON.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text)
    }

    /// Offset of a channel in the observation vector.
    pub fn channel_offset(&self, kind: ChannelKind, of: Option<&str>) -> Option<usize> {
        let mut off = 0;
        for c in &self.channels {
            if c.kind == kind && c.of.as_deref() == of {
                return Some(off);
            }
            off += c.dim;
        }
        None
    }

    /// Observation vector length.
    pub fn obs_dim(&self) -> usize {
        self.channels.iter().map(|c| c.dim).sum()
    }

    /// The observations resampled onto the control grid `t0 + h * period`, `h = 0..=H`, by linear
    /// interpolation between the two nearest samples in time (a value missing at either is missing).
    /// Grid times outside the recorded span are missing.
    pub fn on_control_grid(&self) -> Vec<Vec<Option<f64>>> {
        let h = self.actions.len();
        let dim = self.obs_dim();
        // A file with fewer observations than times (or the reverse) uses the common part.
        let n = self.obs_t_s.len().min(self.obs.len());
        let (obs_t_s, obs) = (&self.obs_t_s[..n], &self.obs[..n]);
        (0..=h)
            .map(|k| {
                let t = self.t0_s + k as f64 * self.control_period_s;
                let i = obs_t_s.partition_point(|s| *s < t - 1e-9);
                if i < n && (obs_t_s[i] - t).abs() <= 1e-9 {
                    return obs[i].clone();
                }
                if i == 0 || i >= n {
                    return vec![None; dim];
                }
                let (t0, t1) = (obs_t_s[i - 1], obs_t_s[i]);
                let u = (t - t0) / (t1 - t0);
                obs[i - 1]
                    .iter()
                    .zip(&self.obs[i])
                    .map(|(a, b)| match (a, b) {
                        (Some(a), Some(b)) if a.is_finite() && b.is_finite() => {
                            Some(a + (b - a) * u)
                        }
                        _ => None,
                    })
                    .collect()
            })
            .collect()
    }
}
