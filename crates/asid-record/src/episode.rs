//! A recording as identification reads it: an [`Episode`] on a scene's observation channels.
//!
//! - Actions: the plan actions by step (consecutive steps, spaced by the scene's control period).
//! - Time: seconds from the first action (`t0_s = 0`); the arm-clock stamp of the first action is
//!   in `meta.arm_clock_t0_ns`.
//! - Rows: the arm states from the last one at or before the first action to the first one at or
//!   after the end of the last action (states with a stamp seen before are dropped).
//! - Joint channels come from the states; `ee_position` from forward kinematics of the measured
//!   joint positions (world frame, like the simulator); object channels from the tracker poses of
//!   that object, moved from the robot base frame into the world frame and resampled onto the
//!   states' stamps ([`crate::resample`]). A value that is not there stays `None`, never zero.
//! - A channel the scene observes but the recording has no data for is an error naming it.
//! - Channels a recording cannot carry (`object_velocity`, `articulation_position`) are left out
//!   of the episode's layout and listed in [`Conversion::unavailable`]: identification then fits
//!   the other channels when told to, and reports the channel missing otherwise.

use std::collections::BTreeMap;
use std::path::Path;

use asid_arm::{ArmState, Recording};
use asid_core::scene::{ChannelKind, ChannelSpec};
use asid_core::{ChannelLayout, EPISODE_FORMAT, Episode, Scene};
use serde::{Deserialize, Serialize};

use crate::ConvertError;
use crate::resample::{PoseTrack, pose_values};

/// How a recording becomes an episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeOptions {
    /// Longest gap between two tracker poses that is interpolated across; near the ends of the
    /// tracker's span the nearest pose stands for up to half of it.
    pub max_pose_gap_s: f64,
    /// Largest relative difference between the actions' median spacing and the control period.
    pub period_tolerance: f64,
}

impl Default for EpisodeOptions {
    fn default() -> Self {
        Self {
            max_pose_gap_s: 0.1,
            period_tolerance: 0.1,
        }
    }
}

/// An episode and what the conversion could not fill.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The episode.
    pub episode: Episode,
    /// Channels of the scene left out because a recording cannot carry them, e.g.
    /// `articulation_position(lid.hinge)`.
    pub unavailable: Vec<String>,
    /// Rows with missing values, per channel.
    pub missing_rows: BTreeMap<String, usize>,
    /// Tracker samples that were not poses (a quaternion such as (0, 0, 0, 0), a non-finite
    /// position), per object: left out, so their rows are interpolated or missing.
    pub invalid_poses: BTreeMap<String, usize>,
}

/// Reads an MCAP recording and converts it for `scene`.
pub fn episode_from_mcap(path: &Path, scene: &Scene) -> Result<Conversion, ConvertError> {
    let recording = crate::read_recording(path)?;
    to_episode(
        &recording,
        scene,
        &path.display().to_string(),
        &EpisodeOptions::default(),
    )
}

/// `kind(of)` as the scene file spells it.
pub fn channel_label(c: &ChannelSpec) -> String {
    let kind = serde_json::to_value(c.kind)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_else(|| format!("{:?}", c.kind));
    match &c.of {
        Some(of) => format!("{kind}({of})"),
        None => kind,
    }
}

/// Converts a recording for `scene`; `file` names the recording in errors and metadata.
pub fn to_episode(
    recording: &Recording,
    scene: &Scene,
    file: &str,
    options: &EpisodeOptions,
) -> Result<Conversion, ConvertError> {
    let file_s = file.to_string();
    if let Some(info) = &recording.info
        && info.scene != scene.spec.name
    {
        return Err(ConvertError::SceneMismatch {
            file: file_s,
            recorded: info.scene.clone(),
            scene: scene.spec.name.clone(),
        });
    }
    let period_s = scene.control_period_s();
    let actions = actions(recording, scene, file, period_s, options)?;
    let t0_ns = actions.t0_ns;
    let end_ns = t0_ns + (actions.values.len() as f64 * period_s * 1e9).round() as u64;
    let states = window(&recording.states, t0_ns, end_ns);
    if states.is_empty() {
        return Err(ConvertError::NoStates { file: file_s });
    }
    let n = scene.n_joints();
    if let Some(s) = states.iter().find(|s| s.q_rad.len() != n) {
        return Err(ConvertError::JointCount {
            file: file_s,
            stamp_ns: s.stamp_ns,
            found: s.q_rad.len(),
            expected: n,
        });
    }
    let channels = &scene.spec.observation.channels;
    let needs_arm = channels.iter().any(|c| {
        matches!(
            c.kind,
            ChannelKind::EePosition | ChannelKind::ObjectPosition | ChannelKind::ObjectPose
        )
    });
    let arm = if needs_arm {
        Some(
            asid_robot::arm_for_scene(scene).map_err(|source| ConvertError::Robot {
                file: file_s.clone(),
                scene: scene.spec.name.clone(),
                source: Box::new(source),
            })?,
        )
    } else {
        None
    };
    let max_gap_ns = (options.max_pose_gap_s * 1e9).round() as u64;
    let mut columns: Vec<Vec<Vec<Option<f64>>>> = Vec::new();
    let mut layout = Vec::new();
    let mut unavailable = Vec::new();
    let mut missing_rows = BTreeMap::new();
    let mut invalid_poses = BTreeMap::new();
    for c in channels {
        let label = channel_label(c);
        let missing = |reason: String| ConvertError::MissingChannel {
            file: file_s.clone(),
            channel: label.clone(),
            reason,
        };
        let dim = c.kind.dim(n);
        let vector = |v: &[f64]| -> Vec<Option<f64>> {
            if v.len() == dim {
                v.iter().map(|x| Some(*x)).collect()
            } else {
                vec![None; dim]
            }
        };
        let column: Vec<Vec<Option<f64>>> = match c.kind {
            ChannelKind::JointPosition => states.iter().map(|s| vector(&s.q_rad)).collect(),
            ChannelKind::JointVelocity => states.iter().map(|s| vector(&s.dq_rad_s)).collect(),
            ChannelKind::JointTorque => states.iter().map(|s| vector(&s.tau_nm)).collect(),
            ChannelKind::GripperWidth => states.iter().map(|s| vec![s.gripper_width_m]).collect(),
            ChannelKind::EePosition => states
                .iter()
                .map(|s| {
                    let p = arm
                        .as_ref()
                        .map(|a| a.world_from_tcp(&s.q_rad).translation.vector);
                    p.map_or(vec![None; 3], |p| vec![Some(p.x), Some(p.y), Some(p.z)])
                })
                .collect(),
            ChannelKind::ObjectPosition | ChannelKind::ObjectPose => {
                let object = c.of.as_deref().unwrap_or_default();
                let track = PoseTrack::new(&recording.poses, object);
                if track.invalid() > 0 {
                    invalid_poses.insert(object.to_string(), track.invalid());
                }
                if track.is_empty() {
                    return Err(missing(format!(
                        "the recording has no tracker pose of `{object}` (topic /tracker/{object})"
                    )));
                }
                states
                    .iter()
                    .map(|s| {
                        let pose = track.at(s.stamp_ns, max_gap_ns).zip(arm.as_ref());
                        match pose {
                            Some((base_from_object, arm)) => {
                                let v = pose_values(&(arm.world_from_base * base_from_object));
                                v[..dim].iter().map(|x| Some(*x)).collect()
                            }
                            None => vec![None; dim],
                        }
                    })
                    .collect()
            }
            ChannelKind::ObjectVelocity | ChannelKind::ArticulationPosition => {
                unavailable.push(label);
                continue;
            }
        };
        let rows_missing = column
            .iter()
            .filter(|row| row.iter().any(Option::is_none))
            .count();
        if rows_missing == column.len() {
            return Err(missing(match c.kind {
                ChannelKind::ObjectPosition | ChannelKind::ObjectPose => format!(
                    "no tracker pose is within {} s of the arm states during the actions",
                    options.max_pose_gap_s
                ),
                _ => "no arm state during the actions carries it".into(),
            }));
        }
        if rows_missing > 0 {
            missing_rows.insert(label, rows_missing);
        }
        layout.push(ChannelLayout {
            kind: c.kind,
            of: c.of.clone(),
            dim,
        });
        columns.push(column);
    }
    let obs = (0..states.len())
        .map(|i| {
            columns
                .iter()
                .flat_map(|col| col[i].iter().copied())
                .collect()
        })
        .collect();
    let obs_t_s = states
        .iter()
        .map(|s| (i128::from(s.stamp_ns) - i128::from(t0_ns)) as f64 * 1e-9)
        .collect();
    let mut meta = BTreeMap::new();
    meta.insert("source".into(), serde_json::json!("asid-record MCAP"));
    meta.insert("file".into(), serde_json::json!(file));
    meta.insert("arm_clock_t0_ns".into(), serde_json::json!(t0_ns));
    if let Some(info) = &recording.info {
        meta.insert("run".into(), serde_json::to_value(info).unwrap_or_default());
    }
    if !unavailable.is_empty() {
        meta.insert(
            "unavailable_channels".into(),
            serde_json::json!(unavailable),
        );
    }
    Ok(Conversion {
        episode: Episode {
            format: EPISODE_FORMAT.into(),
            scene: scene.spec.name.clone(),
            control_period_s: period_s,
            actions: actions.values,
            t0_s: 0.0,
            channels: layout,
            obs_t_s,
            obs,
            meta,
        },
        unavailable,
        missing_rows,
        invalid_poses,
    })
}

struct Actions {
    t0_ns: u64,
    values: Vec<Vec<f64>>,
}

fn actions(
    recording: &Recording,
    scene: &Scene,
    file: &str,
    period_s: f64,
    options: &EpisodeOptions,
) -> Result<Actions, ConvertError> {
    let mut sorted: Vec<_> = recording.actions.iter().collect();
    sorted.sort_by_key(|a| a.step);
    let Some(first) = sorted.first() else {
        return Err(ConvertError::NoActions { file: file.into() });
    };
    let expected = scene.action_dim();
    for (i, a) in sorted.iter().enumerate() {
        if i > 0 && a.step != sorted[i - 1].step + 1 {
            return Err(ConvertError::ActionSteps {
                file: file.into(),
                previous: sorted[i - 1].step,
                found: a.step,
            });
        }
        if a.values.len() != expected {
            return Err(ConvertError::ActionDim {
                file: file.into(),
                step: a.step,
                found: a.values.len(),
                expected,
            });
        }
    }
    if sorted.len() > 1 {
        let mut intervals: Vec<f64> = sorted
            .windows(2)
            .map(|w| (i128::from(w[1].stamp_ns) - i128::from(w[0].stamp_ns)) as f64 * 1e-9)
            .collect();
        intervals.sort_by(f64::total_cmp);
        let median = intervals[intervals.len() / 2];
        if (median - period_s).abs() > options.period_tolerance * period_s {
            return Err(ConvertError::ActionSpacing {
                file: file.into(),
                median_interval_s: median,
                period_s,
            });
        }
    }
    Ok(Actions {
        t0_ns: first.stamp_ns,
        values: sorted.iter().map(|a| a.values.clone()).collect(),
    })
}

/// States from the last one at or before `start_ns` to the first one at or after `end_ns`,
/// sorted, without repeated stamps.
fn window(states: &[ArmState], start_ns: u64, end_ns: u64) -> Vec<&ArmState> {
    let mut sorted: Vec<&ArmState> = states.iter().collect();
    sorted.sort_by_key(|s| s.stamp_ns);
    sorted.dedup_by_key(|s| s.stamp_ns);
    if !sorted
        .iter()
        .any(|s| (start_ns..=end_ns).contains(&s.stamp_ns))
    {
        return Vec::new();
    }
    let lo = sorted
        .partition_point(|s| s.stamp_ns <= start_ns)
        .saturating_sub(1);
    let hi = (sorted.partition_point(|s| s.stamp_ns < end_ns) + 1).min(sorted.len());
    sorted.get(lo..hi).map(<[_]>::to_vec).unwrap_or_default()
}
