//! Recorded episodes checked against the scene and put on the control grid: the data residuals compare to.

use asid_core::scene::ChannelKind;
use asid_core::{Episode, Scene};

use crate::SysIdError;

/// One episode ready for replay: its actions and, per control step, the recorded values of the used
/// observation entries (`None`: missing or not finite, skipped and counted).
#[derive(Debug, Clone)]
pub struct Replay {
    /// Where it came from (for messages).
    pub source: String,
    /// Actions to replay.
    pub actions: Vec<Vec<f64>>,
    /// Recorded values on the control grid, in the scene's observation order (`H + 1` rows).
    pub recorded: Vec<Vec<Option<f64>>>,
}

/// Episodes plus the observation entries used and their sigmas.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The episodes.
    pub replays: Vec<Replay>,
    /// Index into the scene's observation vector of each used entry.
    pub entries: Vec<usize>,
    /// Sigma of each used entry.
    pub sigmas: Vec<f64>,
    /// Residuals per episode row (all entries x steps 1..=H), before skipping.
    pub total: usize,
    /// Entries skipped because the recording was missing or not finite.
    pub skipped: usize,
}

/// Which channels to fit (`None`: every channel of the scene).
pub fn dataset(
    scene: &Scene,
    episodes: &[(String, Episode)],
    channels: Option<&[ChannelKind]>,
) -> Result<Dataset, SysIdError> {
    if episodes.is_empty() {
        return Err(SysIdError::Data("no episode given".into()));
    }
    let n = scene.n_joints();
    let mut entries = Vec::new();
    let mut sigmas = Vec::new();
    let mut offset = 0;
    for c in &scene.spec.observation.channels {
        let dim = c.kind.dim(n);
        if channels.is_none_or(|set| set.contains(&c.kind)) {
            entries.extend(offset..offset + dim);
            sigmas.extend(std::iter::repeat_n(c.sigma, dim));
        }
        offset += dim;
    }
    if entries.is_empty() {
        return Err(SysIdError::Data(format!(
            "none of the requested channels {channels:?} is observed in scene `{}`",
            scene.spec.name
        )));
    }
    let horizon = scene.spec.arm.action.horizon_steps();
    let adim = scene.action_dim();
    let mut replays = Vec::new();
    let (mut total, mut skipped) = (0, 0);
    for (source, ep) in episodes {
        let bad = |m: String| SysIdError::Episode {
            file: source.clone(),
            message: m,
        };
        if ep.scene != scene.spec.name {
            return Err(bad(format!(
                "recorded in scene `{}`, not `{}`",
                ep.scene, scene.spec.name
            )));
        }
        if (ep.control_period_s - scene.control_period_s()).abs() > 1e-9 {
            return Err(bad(format!(
                "control period {} s, the scene's is {} s",
                ep.control_period_s,
                scene.control_period_s()
            )));
        }
        if ep.actions.is_empty() {
            return Err(bad("too short: no action".into()));
        }
        if ep.actions.len() > horizon {
            return Err(bad(format!(
                "{} actions, the scene's horizon is {horizon}",
                ep.actions.len()
            )));
        }
        if let Some((i, a)) = ep
            .actions
            .iter()
            .enumerate()
            .find(|(_, a)| a.len() != adim || a.iter().any(|v| !v.is_finite()))
        {
            return Err(bad(format!(
                "action {i} has {} values (or a non-finite one), the action space has {adim}",
                a.len()
            )));
        }
        if ep.obs.len() != ep.obs_t_s.len() || ep.obs.iter().any(|o| o.len() != ep.obs_dim()) {
            return Err(bad(
                "observation rows do not match their timestamps or the channel layout".into(),
            ));
        }
        if ep
            .obs_t_s
            .windows(2)
            .any(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Greater))
        {
            return Err(bad(
                "observation timestamps are not strictly increasing".into()
            ));
        }
        // Map the scene's channels onto the episode's layout.
        let mut map = Vec::with_capacity(scene.obs_dim());
        for c in &scene.spec.observation.channels {
            let dim = c.kind.dim(n);
            match ep.channel_offset(c.kind, c.of.as_deref()) {
                Some(off) => map.extend(off..off + dim),
                None => {
                    let used = channels.is_none_or(|set| set.contains(&c.kind));
                    if used {
                        let what =
                            c.of.as_ref()
                                .map_or(format!("{:?}", c.kind), |o| format!("{:?}({o})", c.kind));
                        return Err(bad(format!("missing channel {what}")));
                    }
                    map.extend(std::iter::repeat_n(usize::MAX, dim));
                }
            }
        }
        let grid = ep.on_control_grid();
        let recorded: Vec<Vec<Option<f64>>> = grid
            .iter()
            .map(|row| {
                map.iter()
                    .map(|&i| {
                        if i == usize::MAX {
                            None
                        } else {
                            row[i].filter(|v| v.is_finite())
                        }
                    })
                    .collect()
            })
            .collect();
        let usable = recorded
            .iter()
            .skip(1)
            .filter(|row| entries.iter().any(|&e| row[e].is_some()))
            .count();
        if usable == 0 {
            return Err(bad(
                "too short: no recorded observation after the first action".into(),
            ));
        }
        for row in recorded.iter().skip(1) {
            for &e in &entries {
                total += 1;
                if row[e].is_none() {
                    skipped += 1;
                }
            }
        }
        replays.push(Replay {
            source: source.clone(),
            actions: ep.actions.clone(),
            recorded,
        });
    }
    Ok(Dataset {
        replays,
        entries,
        sigmas,
        total,
        skipped,
    })
}
