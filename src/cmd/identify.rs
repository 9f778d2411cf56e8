//! `asid identify <scene> <episode>...`: fit the parameters and report the uncertainty.

use std::path::PathBuf;

use anyhow::{Context, bail};
use asid_core::Episode;
use asid_core::scene::ChannelKind;
use asid_sysid::{
    Dataset, Drive, EpisodeInput, Fit, FitOptions, JointTrack, LatencySearch, Loss, SolverKind,
    SysIdError, dataset_driven, identify, identify_aligned,
};
use serde_json::json;

/// Arguments of `asid identify`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene.
    scene: PathBuf,
    /// Episodes: MCAP recordings from `asid execute` / `asid run`, or JSON from `asid simulate`.
    #[arg(required = true)]
    episodes: Vec<PathBuf>,
    /// Solver: lm, cem, nm or pso.
    #[arg(long, default_value = "lm")]
    solver: String,
    /// Starts of local solvers.
    #[arg(long, default_value_t = 3)]
    starts: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Huber loss threshold in sigmas (default: squared loss).
    #[arg(long)]
    huber: Option<f64>,
    /// What moves the simulated arm: `measured` (the recorded joint positions, MCAP only) or
    /// `commanded` (the plan's actions); default measured when every episode has them.
    #[arg(long)]
    drive: Option<String>,
    /// Tracker latency: `estimate` (a nuisance parameter of the fit, searched over 0-80 ms;
    /// MCAP recordings with tracked objects), `off`, or a known value in ms that the object
    /// observations are shifted back by.
    #[arg(long, default_value = "estimate")]
    latency: String,
    /// Channels to fit, comma-separated (e.g. object_pose,ee_position; default: all).
    #[arg(long)]
    channels: Option<String>,
    /// Result file to write.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

/// Runs the identification.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let Some(solver) = SolverKind::parse(&args.solver) else {
        bail!("--solver `{}`: allowed lm, cem, nm, pso", args.solver)
    };
    let loss = match args.huber {
        None => Loss::Squared,
        Some(d) if d.is_finite() && d > 0.0 => Loss::Huber(d),
        Some(d) => bail!("--huber {d}: allowed > 0"),
    };
    let channels: Option<Vec<ChannelKind>> = match &args.channels {
        None => None,
        Some(list) => Some(
            list.split(',')
                .map(|c| {
                    serde_json::from_value(json!(c.trim()))
                        .with_context(|| format!("--channels: unknown channel `{c}`"))
                })
                .collect::<anyhow::Result<_>>()?,
        ),
    };
    let drive = match args.drive.as_deref() {
        None => None,
        Some(d) => Some(
            Drive::parse(d)
                .with_context(|| format!("--drive `{d}`: allowed measured, commanded"))?,
        ),
    };
    let latency = Latency::parse(&args.latency)?;
    let sim = asid_sim::Simulator::load(&args.scene)?;
    let scene = sim.scene();
    let mut sources = Vec::new();
    for p in &args.episodes {
        let source = read_source(p)?;
        if let Source::Json(input) = &source {
            crate::cmd::input_check::check_episode(p, &input.episode, scene)?;
        }
        sources.push(source);
    }
    let mut names = Vec::new();
    let mut off = 0;
    for c in &scene.spec.observation.channels {
        let label =
            c.of.as_ref()
                .map_or(format!("{:?}", c.kind), |o| format!("{:?}({o})", c.kind));
        names.push((off, label));
        off += c.kind.dim(scene.n_joints());
    }
    let opts = FitOptions {
        solver,
        starts: args.starts,
        seed: args.seed,
        loss,
        ..Default::default()
    };
    let (fit, notes) = fit_sources(
        &sim,
        &sources,
        channels.as_deref(),
        drive,
        &opts,
        latency,
        &names,
    )?;
    let episodes = &sources;
    for n in &notes {
        eprintln!("note: {n}");
    }
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_string_pretty(&fit)?)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    if args.json {
        println!(
            "{}",
            json!({
                "estimate": fit.estimate, "std": fit.std, "interval95": fit.interval95, "crb_std": fit.crb_std, "identifiable": fit.identifiable,
                "verdict": fit.identifiability.verdict, "cost": fit.cost, "evaluations": fit.evaluations, "wall_s": fit.wall_s,
                "skipped": fit.skipped, "hypotheses": fit.hypotheses, "drive": fit.drive, "notes": notes,
                "reduced_chi2": fit.reduced_chi2, "misfit": fit.misfit, "misfit_test": fit.misfit_tests.test,
                "runs_z": fit.misfit_tests.runs_z, "chi2_p": fit.misfit_tests.chi2_p,
                "std_nominal": fit.std_nominal, "std_sandwich": fit.std_sandwich,
                "covariance_method": fit.covariance_method, "confounded": fit.confounded,
                "pose_latency": fit.pose_latency,
            })
        );
    } else {
        println!(
            "{} from {} episode(s), {:?}, {:?} drive: cost {:.4e}, {} residuals ({} skipped), {} rollouts, {:.2} s",
            scene.spec.name,
            episodes.len(),
            solver,
            fit.drive,
            fit.cost,
            fit.residuals,
            fit.skipped,
            fit.evaluations,
            fit.wall_s
        );
        for (n, v) in &fit.estimate {
            let std = fit.std.get(n).copied().flatten();
            let crb = fit.crb_std.get(n).copied().flatten();
            let interval = fit.interval95.get(n).map_or(String::new(), |i| {
                let end =
                    |v: f64, open: bool| format!("{v:.6}{}", if open { " (bound)" } else { "" });
                format!(" 95 % [{}, {}]", end(i.lo, i.lo_open), end(i.hi, i.hi_open))
            });
            println!(
                "  {n:<28} {v:>12.6} +- {:<12}{interval} (CRB {:<12}) identifiable: {}",
                fmt(std),
                fmt(crb),
                fit.identifiable.get(n).copied().unwrap_or(false)
            );
        }
        println!(
            "  reduced chi-square {:.3}, runs z {:.2} over {} series: {}",
            fit.reduced_chi2,
            fit.misfit_tests.runs_z,
            fit.misfit_tests.runs_series,
            if fit.misfit {
                "MISFIT (the residuals are not the scene's noise)"
            } else {
                "consistent with the scene's noise"
            }
        );
        println!("  test: {}", fit.misfit_tests.test);
        println!("  covariance: {}", fit.covariance_method);
        for c in &fit.confounded {
            println!("  determined only in combination: {}", c.combination);
        }
        println!("  {}", fit.identifiability.verdict);
        for h in &fit.hypotheses {
            println!(
                "  hypothesis {:?}: chi2 {:.3e}, BIC {:.3e}{}",
                h.structure,
                h.chi2,
                h.bic,
                if h.chosen { " (chosen)" } else { "" }
            );
        }
        println!("  residual RMS: {:?}", fit.residual_rms);
        if let Some(l) = &fit.pose_latency {
            println!(
                "  tracker latency {:.1} ms +- {} (searched {:.0}-{:.0} ms{}); object observations shifted back by it",
                1e3 * l.estimate_s,
                l.std_s
                    .map_or("unbounded".into(), |s| format!("{:.1} ms", 1e3 * s)),
                1e3 * l.searched_s[0],
                1e3 * l.searched_s[1],
                if l.at_edge {
                    ", AT THE EDGE of the range"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}

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
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        match s {
            "estimate" => Ok(Self::Estimate),
            "off" => Ok(Self::Known(0.0)),
            ms => match ms.parse::<f64>() {
                Ok(v) if (0.0..=1000.0).contains(&v) => Ok(Self::Known(v * 1e-3)),
                _ => bail!("--latency `{s}`: allowed estimate, off or a number of ms in [0, 1000]"),
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
    },
    /// A JSON episode (no measured joints, no tracker stamps).
    Json(Box<EpisodeInput>),
}

/// Reads an episode file.
pub fn read_source(path: &std::path::Path) -> anyhow::Result<Source> {
    let source = path.display().to_string();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mcap"))
    {
        let (recording, report) = asid_record::read_with_report(path)?;
        for d in &report.damaged {
            eprintln!(
                "warning: {source}: damaged: {} bytes from byte {} skipped ({}); the rest was read",
                d.bytes, d.offset, d.reason
            );
        }
        if report.orphan_messages > 0 {
            eprintln!(
                "warning: {source}: {} messages lost with their damaged channel definition",
                report.orphan_messages
            );
        }
        let recording = Box::new(recording);
        return Ok(Source::Mcap { source, recording });
    }
    Ok(Source::Json(Box::new(EpisodeInput {
        source,
        episode: Episode::read(path)?,
        joints: None,
    })))
}

/// Reads an episode with, for an MCAP recording, its measured joint positions (`/arm/state`, on
/// the episode's clock: seconds from the first plan action).
pub fn read_input(
    path: &std::path::Path,
    scene: &asid_core::Scene,
) -> anyhow::Result<EpisodeInput> {
    input_at(&read_source(path)?, scene, 0.0, true)
}

/// The episode of `src` with its tracker poses moved `shift_s` earlier (the tracker's latency
/// taken out); `report` prints what the conversion could not fill.
pub fn input_at(
    src: &Source,
    scene: &asid_core::Scene,
    shift_s: f64,
    report: bool,
) -> anyhow::Result<EpisodeInput> {
    let (source, recording) = match src {
        Source::Json(input) => return Ok(input.as_ref().clone()),
        Source::Mcap { source, recording } => (source.clone(), recording),
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
    if report {
        for (channel, rows) in &c.missing_rows {
            eprintln!("{source}: {channel}: {rows} rows missing");
        }
        for u in &c.unavailable {
            eprintln!("{source}: {u}: not in the recording (left missing)");
        }
        for (object, n) in &c.invalid_poses {
            eprintln!(
                "{source}: /tracker/{object}: {n} invalid poses (zero or non-unit quaternion, \
                 non-finite position) left out"
            );
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
) -> anyhow::Result<(Fit, Vec<String>)> {
    let scene = sim.scene();
    let inputs = |shift_s: f64, report: bool| -> anyhow::Result<Vec<EpisodeInput>> {
        sources
            .iter()
            .map(|s| input_at(s, scene, shift_s, report))
            .collect()
    };
    let first = inputs(0.0, true)?;
    let (data, mut notes) = dataset_driven(scene, &first, channels, drive)?;
    let recordings = sources.iter().all(|s| matches!(s, Source::Mcap { .. }));
    let tracked = !scene.tracked_objects().is_empty();
    let shifted = |shift_s: f64| -> Result<Dataset, SysIdError> {
        let eps = inputs(shift_s, false).map_err(|e| SysIdError::Data(format!("{e:#}")))?;
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

fn fmt(v: Option<f64>) -> String {
    v.map_or("unbounded".into(), |x| format!("{x:.3e}"))
}
