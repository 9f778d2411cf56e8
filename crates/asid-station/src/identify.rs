//! Identification from recorded episodes: read MCAP recordings (or JSON episodes of the
//! simulator), turn them into the fit's data with the measured joints driving the replay, and fit
//! the parameters with the tracker's latency as a nuisance parameter.

use asid_core::Episode;
use asid_core::scene::ChannelKind;
use asid_sysid::{
    Dataset, Drive, EpisodeInput, Fit, FitOptions, JointTrack, LatencySearch, SysIdError,
    dataset_driven, identify, identify_aligned,
};

use crate::error::{Context, Result, StationError};

/// How the tracker's latency is handled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Latency {
    /// Estimated as a nuisance parameter.
    Estimate,
    /// Known: the object observations are shifted back by this (s).
    Known(f64),
}

impl Latency {
    /// Parses `estimate`, `off` or a value in ms.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "estimate" => Ok(Self::Estimate),
            "off" => Ok(Self::Known(0.0)),
            ms => match ms.parse::<f64>() {
                Ok(v) if (0.0..=1000.0).contains(&v) => Ok(Self::Known(v * 1e-3)),
                _ => Err(StationError::input(format!(
                    "--latency `{s}`: allowed estimate, off or a number of ms in [0, 1000]"
                ))),
            },
        }
    }
}

/// An episode file as read: an MCAP recording (converted again for each latency tried) or a
/// JSON episode of `asid simulate`.
pub enum Source {
    /// A recording.
    Mcap {
        /// File name.
        source: String,
        /// Its contents.
        recording: Box<asid_arm::Recording>,
        /// What was damaged in the file and skipped (the rest was read).
        warnings: Vec<String>,
    },
    /// A JSON episode (no measured joints, no tracker stamps).
    Json(Box<EpisodeInput>),
}

/// Reads an episode file.
pub fn read_source(path: &std::path::Path) -> Result<Source> {
    let source = path.display().to_string();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mcap"))
    {
        let (recording, report) = asid_record::read_with_report(path)?;
        let mut warnings = Vec::new();
        for d in &report.damaged {
            warnings.push(format!(
                "{source}: damaged: {} bytes from byte {} skipped ({}); the rest was read",
                d.bytes, d.offset, d.reason
            ));
        }
        if report.orphan_messages > 0 {
            warnings.push(format!(
                "{source}: {} messages lost with their damaged channel definition",
                report.orphan_messages
            ));
        }
        let recording = Box::new(recording);
        return Ok(Source::Mcap {
            source,
            recording,
            warnings,
        });
    }
    Ok(Source::Json(Box::new(EpisodeInput {
        source,
        episode: Episode::read(path)?,
        joints: None,
    })))
}

/// Reads an episode with, for an MCAP recording, its measured joint positions (`/arm/state`, on
/// the episode's clock: seconds from the first plan action).
pub fn read_input(path: &std::path::Path, scene: &asid_core::Scene) -> Result<EpisodeInput> {
    input_at(&read_source(path)?, scene, 0.0, None)
}

/// The episode of `src` with its tracker poses moved `shift_s` earlier (the tracker's latency
/// taken out); what the conversion could not fill goes to `notes` when given.
pub fn input_at(
    src: &Source,
    scene: &asid_core::Scene,
    shift_s: f64,
    notes: Option<&mut Vec<String>>,
) -> Result<EpisodeInput> {
    let (source, recording) = match src {
        Source::Json(input) => return Ok(input.as_ref().clone()),
        Source::Mcap {
            source, recording, ..
        } => (source.clone(), recording),
    };
    let shift_ns = (shift_s * 1e9).round() as i128;
    let shifted;
    let recording = if shift_ns == 0 {
        recording.as_ref()
    } else {
        let mut r = recording.as_ref().clone();
        for p in &mut r.poses {
            p.stamp_ns = (i128::from(p.stamp_ns) - shift_ns).max(0) as u64;
        }
        shifted = r;
        &shifted
    };
    let c = asid_record::to_episode(
        recording,
        scene,
        &source,
        &asid_record::EpisodeOptions::default(),
    )?;
    if let Some(notes) = notes {
        for (channel, rows) in &c.missing_rows {
            notes.push(format!("{source}: {channel}: {rows} rows missing"));
        }
        for u in &c.unavailable {
            notes.push(format!(
                "{source}: {u}: not in the recording (left missing)"
            ));
        }
        for (object, n) in &c.invalid_poses {
            notes.push(format!(
                "{source}: /tracker/{object}: {n} invalid poses (zero or non-unit quaternion, \
                 non-finite position) left out"
            ));
        }
    }
    let t0_ns = c
        .episode
        .meta
        .get("arm_clock_t0_ns")
        .and_then(serde_json::Value::as_u64)
        .with_context(|| format!("{source}: no arm_clock_t0_ns in the converted episode"))?;
    let mut states: Vec<_> = recording
        .states
        .iter()
        .filter(|s| s.q_rad.len() == scene.n_joints())
        .collect();
    states.sort_by_key(|s| s.stamp_ns);
    states.dedup_by_key(|s| s.stamp_ns);
    let joints = JointTrack {
        t_s: states
            .iter()
            .map(|s| (i128::from(s.stamp_ns) - i128::from(t0_ns)) as f64 * 1e-9)
            .collect(),
        q_rad: states.iter().map(|s| s.q_rad.clone()).collect(),
    };
    Ok(EpisodeInput {
        source,
        episode: c.episode,
        joints: (!joints.t_s.is_empty()).then_some(joints),
    })
}

/// Fits the episodes of `sources`; the tracker's latency is estimated (a nuisance parameter)
/// when asked and when every episode is a recording of a scene with tracked objects. Returns the
/// fit and notes for the user.
pub fn fit_sources(
    sim: &asid_sim::Simulator,
    sources: &[Source],
    channels: Option<&[ChannelKind]>,
    drive: Option<Drive>,
    opts: &FitOptions,
    latency: Latency,
    names: &[(usize, String)],
) -> Result<(Fit, Vec<String>)> {
    let scene = sim.scene();
    let mut gaps = Vec::new();
    for s in sources {
        if let Source::Mcap { warnings, .. } = s {
            gaps.extend(warnings.iter().cloned());
        }
    }
    let first = sources
        .iter()
        .map(|s| input_at(s, scene, 0.0, Some(&mut gaps)))
        .collect::<Result<Vec<_>>>()?;
    let inputs = |shift_s: f64| -> Result<Vec<EpisodeInput>> {
        sources
            .iter()
            .map(|s| input_at(s, scene, shift_s, None))
            .collect()
    };
    let (data, mut notes) = dataset_driven(scene, &first, channels, drive)?;
    gaps.append(&mut notes);
    let mut notes = gaps;
    let recordings = sources.iter().all(|s| matches!(s, Source::Mcap { .. }));
    let tracked = !scene.tracked_objects().is_empty();
    let shifted = |shift_s: f64| -> Result<Dataset, SysIdError> {
        let eps = inputs(shift_s).map_err(|e| SysIdError::Data(format!("{e:#}")))?;
        Ok(dataset_driven(scene, &eps, channels, Some(data.drive))?.0)
    };
    let fit = match latency {
        Latency::Estimate if recordings && tracked => identify_aligned(
            sim,
            &shifted,
            opts,
            &LatencySearch::default(),
            &scene.spec.name,
            names,
        )?,
        Latency::Estimate => {
            notes.push(
                "tracker latency not estimated: it needs MCAP recordings of a scene with tracked \
                 objects"
                    .into(),
            );
            identify(sim, &data, opts, &scene.spec.name, names)?
        }
        Latency::Known(0.0) => identify(sim, &data, opts, &scene.spec.name, names)?,
        Latency::Known(s) => identify(sim, &shifted(s)?, opts, &scene.spec.name, names)?,
    };
    Ok((fit, notes))
}
