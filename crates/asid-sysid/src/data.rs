//! Recorded episodes checked against the scene and put on the control grid: the data residuals
//! compare to, and what drives the replay (the plan's commands, or the measured joint positions).

use asid_core::scene::ChannelKind;
use asid_core::{Episode, Scene};
use serde::{Deserialize, Serialize};

use crate::SysIdError;
use crate::rotation::slerp;

/// What moves the simulated arm when an episode is replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Drive {
    /// The plan's actions through the simulator's IK: what the arm was told to do.
    Commanded,
    /// The recorded measured joint positions (`/arm/state`), linear between control steps: what
    /// the arm did, lag and offsets included.
    Measured,
}

impl Drive {
    /// Parses `measured` or `commanded`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "measured" => Some(Self::Measured),
            "commanded" => Some(Self::Commanded),
            _ => None,
        }
    }
}

/// Measured joint positions of an episode, on the episode's clock (`t_s` like `obs_t_s`).
#[derive(Debug, Clone, Default)]
pub struct JointTrack {
    /// Stamps, strictly increasing.
    pub t_s: Vec<f64>,
    /// Joint positions at the stamps.
    pub q_rad: Vec<Vec<f64>>,
}

/// One episode to fit: its file name, the episode and, when the recording has them, its measured
/// joint positions.
#[derive(Debug, Clone)]
pub struct EpisodeInput {
    /// Where it came from (for messages).
    pub source: String,
    /// The episode.
    pub episode: Episode,
    /// Measured joint positions (`None`: a JSON episode of `asid simulate`, which has none).
    pub joints: Option<JointTrack>,
}

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
    /// Measured joint positions on the control grid (`H + 1` rows), when the replay follows them.
    pub joint_path: Option<Vec<Vec<f64>>>,
}

/// The rotation of an `object_pose` channel, compared through the log map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotationTerm {
    /// Index of the quaternion's `w` in the scene's observation vector (x, y, z follow).
    pub entry: usize,
    /// Sigma of each rotation-error component (rad).
    pub sigma_rad: f64,
}

/// Episodes plus the observation entries used and their sigmas.
///
/// Residual slots per control step: first one per scalar entry, then three per rotation term.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The episodes.
    pub replays: Vec<Replay>,
    /// Index into the scene's observation vector of each used scalar entry.
    pub entries: Vec<usize>,
    /// Sigma of each used scalar entry.
    pub sigmas: Vec<f64>,
    /// Orientations of `object_pose` channels.
    pub rotations: Vec<RotationTerm>,
    /// What drives the replays.
    pub drive: Drive,
    /// Residuals per episode row (all slots x steps 1..=H), before skipping.
    pub total: usize,
    /// Residuals skipped because the recording was missing or not finite.
    pub skipped: usize,
}

impl Dataset {
    /// Residual slots per control step.
    pub fn slots(&self) -> usize {
        self.entries.len() + 3 * self.rotations.len()
    }

    /// Whether slot `slot` has a recorded value in `row`.
    pub fn present(&self, row: &[Option<f64>], slot: usize) -> bool {
        match slot.checked_sub(self.entries.len()) {
            None => row[self.entries[slot]].is_some(),
            Some(r) => {
                let e = self.rotations[r / 3].entry;
                match row[e..e + 4] {
                    [Some(w), Some(x), Some(y), Some(z)] => {
                        crate::rotation::unit([w, x, y, z]).is_some()
                    }
                    _ => false,
                }
            }
        }
    }

    /// Where every residual comes from, in the order residuals are computed: (replay, control
    /// step, slot).
    pub fn index(&self) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::with_capacity(self.total - self.skipped);
        for (i, rep) in self.replays.iter().enumerate() {
            for (h, row) in rep.recorded.iter().enumerate().skip(1) {
                for slot in 0..self.slots() {
                    if self.present(row, slot) {
                        out.push((i, h, slot));
                    }
                }
            }
        }
        out
    }

    /// The scene observation entry a slot reads (a rotation slot: its quaternion's `w`).
    pub fn slot_entry(&self, slot: usize) -> usize {
        match slot.checked_sub(self.entries.len()) {
            None => self.entries[slot],
            Some(r) => self.rotations[r / 3].entry,
        }
    }
}

/// Builds a dataset replayed with the plan's commands (the episodes' joint positions unused).
pub fn dataset(
    scene: &Scene,
    episodes: &[(String, Episode)],
    channels: Option<&[ChannelKind]>,
) -> Result<Dataset, SysIdError> {
    let inputs: Vec<EpisodeInput> = episodes
        .iter()
        .map(|(source, episode)| EpisodeInput {
            source: source.clone(),
            episode: episode.clone(),
            joints: None,
        })
        .collect();
    Ok(dataset_driven(scene, &inputs, channels, Some(Drive::Commanded))?.0)
}

/// Builds a dataset: `channels` to fit (`None`: every channel of the scene) and the drive
/// (`None`: measured when every episode has its measured joint positions, else commanded). Also
/// returns notes for the user (why the drive was chosen).
pub fn dataset_driven(
    scene: &Scene,
    episodes: &[EpisodeInput],
    channels: Option<&[ChannelKind]>,
    drive: Option<Drive>,
) -> Result<(Dataset, Vec<String>), SysIdError> {
    if episodes.is_empty() {
        return Err(SysIdError::Data("no episode given".into()));
    }
    let mut notes = Vec::new();
    let without: Vec<&str> = episodes
        .iter()
        .filter(|e| e.joints.as_ref().is_none_or(|j| j.t_s.is_empty()))
        .map(|e| e.source.as_str())
        .collect();
    let drive = match drive {
        Some(Drive::Measured) if !without.is_empty() => {
            return Err(SysIdError::Episode {
                file: without[0].to_string(),
                message: "no measured joint positions to drive the replay (a JSON episode \
                          of `asid simulate` holds none): use the commanded drive"
                    .into(),
            });
        }
        Some(d) => d,
        None if without.is_empty() => Drive::Measured,
        None => {
            notes.push(format!(
                "replaying the commanded actions: {} has no measured joint positions",
                without.join(", ")
            ));
            Drive::Commanded
        }
    };
    let n = scene.n_joints();
    let mut entries = Vec::new();
    let mut sigmas = Vec::new();
    let mut rotations = Vec::new();
    let mut offset = 0;
    for c in &scene.spec.observation.channels {
        let dim = c.kind.dim(n);
        if channels.is_none_or(|set| set.contains(&c.kind)) {
            if c.kind == ChannelKind::ObjectPose {
                entries.extend(offset..offset + 3);
                sigmas.extend(std::iter::repeat_n(c.sigma, 3));
                rotations.push(RotationTerm {
                    entry: offset + 3,
                    sigma_rad: c.rotation_sigma_rad(),
                });
            } else {
                entries.extend(offset..offset + dim);
                sigmas.extend(std::iter::repeat_n(c.sigma, dim));
            }
        }
        offset += dim;
    }
    if entries.is_empty() {
        return Err(SysIdError::Data(format!(
            "none of the requested channels {channels:?} is observed in scene `{}`",
            scene.spec.name
        )));
    }
    let mut data = Dataset {
        replays: Vec::new(),
        entries,
        sigmas,
        rotations,
        drive,
        total: 0,
        skipped: 0,
    };
    for input in episodes {
        let replay = replay(scene, input, channels, &data)?;
        let joint_path = match drive {
            Drive::Commanded => None,
            Drive::Measured => Some(joint_path(scene, input)?),
        };
        let usable = replay
            .iter()
            .skip(1)
            .filter(|row| (0..data.slots()).any(|k| data.present(row, k)))
            .count();
        if usable == 0 {
            return Err(SysIdError::Episode {
                file: input.source.clone(),
                message: "too short: no recorded observation after the first action".into(),
            });
        }
        for row in replay.iter().skip(1) {
            for k in 0..data.slots() {
                data.total += 1;
                if !data.present(row, k) {
                    data.skipped += 1;
                }
            }
        }
        data.replays.push(Replay {
            source: input.source.clone(),
            actions: input.episode.actions.clone(),
            recorded: replay,
            joint_path,
        });
    }
    Ok((data, notes))
}

/// The recorded values of one episode on the control grid, in the scene's observation order.
fn replay(
    scene: &Scene,
    input: &EpisodeInput,
    channels: Option<&[ChannelKind]>,
    data: &Dataset,
) -> Result<Vec<Vec<Option<f64>>>, SysIdError> {
    let (source, ep) = (&input.source, &input.episode);
    let n = scene.n_joints();
    let bad = |m: String| SysIdError::Episode {
        file: source.clone(),
        message: m,
    };
    let horizon = scene.spec.arm.action.horizon_steps();
    let adim = scene.action_dim();
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
    let quaternions: Vec<usize> = data
        .rotations
        .iter()
        .map(|r| map[r.entry])
        .filter(|&i| i != usize::MAX)
        .collect();
    let grid = on_grid(ep, &quaternions);
    Ok(grid
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
        .collect())
}

/// The observations resampled onto the control grid `t0 + h * period`, `h = 0..=H`: linear
/// interpolation between the two nearest samples in time, spherical (slerp, the short way round)
/// for the quaternions starting at the episode offsets `quaternions`. A value missing at either
/// sample is missing; grid times outside the recorded span are missing.
pub fn on_grid(ep: &Episode, quaternions: &[usize]) -> Vec<Vec<Option<f64>>> {
    let dim = ep.obs_dim();
    (0..=ep.actions.len())
        .map(|k| {
            let t = ep.t0_s + k as f64 * ep.control_period_s;
            let i = ep.obs_t_s.partition_point(|s| *s < t - 1e-9);
            if i < ep.obs_t_s.len() && (ep.obs_t_s[i] - t).abs() <= 1e-9 {
                return ep.obs[i].clone();
            }
            if i == 0 || i >= ep.obs_t_s.len() {
                return vec![None; dim];
            }
            let (t0, t1) = (ep.obs_t_s[i - 1], ep.obs_t_s[i]);
            let u = (t - t0) / (t1 - t0);
            let (a, b) = (&ep.obs[i - 1], &ep.obs[i]);
            let mut row: Vec<Option<f64>> = a
                .iter()
                .zip(b)
                .map(|(a, b)| match (a, b) {
                    (Some(a), Some(b)) if a.is_finite() && b.is_finite() => Some(a + (b - a) * u),
                    _ => None,
                })
                .collect();
            for &q in quaternions {
                let block = |r: &[Option<f64>]| -> Option<[f64; 4]> {
                    Some([r[q]?, r[q + 1]?, r[q + 2]?, r[q + 3]?])
                };
                let s = block(a).zip(block(b)).and_then(|(qa, qb)| slerp(qa, qb, u));
                for c in 0..4 {
                    row[q + c] = s.map(|s| s[c]);
                }
            }
            row
        })
        .collect()
}

/// The measured joint positions of an episode at the control steps `h = 0..=H`, linear between
/// the recorded stamps. A grid time outside the recorded span by more than half a control period
/// is an error naming the time.
fn joint_path(scene: &Scene, input: &EpisodeInput) -> Result<Vec<Vec<f64>>, SysIdError> {
    let bad = |m: String| SysIdError::Episode {
        file: input.source.clone(),
        message: m,
    };
    let Some(track) = &input.joints else {
        return Err(bad("no measured joint positions".into()));
    };
    let ep = &input.episode;
    let n = scene.n_joints();
    if track.t_s.len() != track.q_rad.len() || track.q_rad.iter().any(|q| q.len() != n) {
        return Err(bad(format!(
            "measured joint positions: {} stamps, {} rows, rows must have {n} joints",
            track.t_s.len(),
            track.q_rad.len()
        )));
    }
    if track
        .t_s
        .windows(2)
        .any(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Greater))
        || track.q_rad.iter().flatten().any(|v| !v.is_finite())
    {
        return Err(bad(
            "measured joint positions: stamps not strictly increasing or a value not finite".into(),
        ));
    }
    let half = 0.5 * ep.control_period_s;
    let (first, last) = (track.t_s[0], track.t_s[track.t_s.len() - 1]);
    (0..=ep.actions.len())
        .map(|h| {
            let t = ep.t0_s + h as f64 * ep.control_period_s;
            if t < first - half || t > last + half {
                return Err(bad(format!(
                    "measured joint positions span [{first:.4}, {last:.4}] s, control step {h} \
                     is at {t:.4} s"
                )));
            }
            let i = track.t_s.partition_point(|s| *s < t);
            if i == 0 {
                return Ok(track.q_rad[0].clone());
            }
            if i >= track.t_s.len() {
                return Ok(track.q_rad[track.t_s.len() - 1].clone());
            }
            let (t0, t1) = (track.t_s[i - 1], track.t_s[i]);
            let u = (t - t0) / (t1 - t0);
            Ok(track.q_rad[i - 1]
                .iter()
                .zip(&track.q_rad[i])
                .map(|(a, b)| a + (b - a) * u)
                .collect())
        })
        .collect()
}
