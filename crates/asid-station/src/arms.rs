//! The arms a station runs on: the simulated lab (hidden true parameters drawn from the prior or
//! given, sensor noise, tracker latency, a lagging arm), a Franka (or franky-sim) with a pose
//! stream, and a recording played back; each run behind the safety layer and recorded to MCAP.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::sync::Mutex;

use asid_arm::{
    Arm, Gripper, NoPoses, PoseSource, Record, Recorded, Recorder, RunInfo, Safe, SafetyLimits,
    StopSignal,
};
use asid_core::Scene;
use asid_lab::{LabConfig, SimLab};
use asid_record::McapRecorder;
use asid_sim::Simulator;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::checks::{interpolation_dry_run, plan_joint_targets};
use crate::error::{Context, Result, StationError};
use crate::event::{Event, Observer};
use crate::executor::{self, NoHand, RunSummary, Start, Work};

/// Draws (or parses) the simulated lab's hidden truth.
pub fn lab_truth(scene: &Scene, seed: u64, truth: Option<&str>) -> Result<Vec<f64>> {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(1000));
    let drawn = scene.space.sample(&mut rng);
    match truth {
        Some(t) => match t.strip_prefix('@') {
            // A JSON object of name -> value (e.g. a fit's `estimate`, or an episode's truth).
            Some(file) => {
                let text = std::fs::read_to_string(file)
                    .map_err(|e| StationError::input(format!("--truth @{file}: reading: {e}")))?;
                let map: BTreeMap<String, f64> = serde_json::from_str(&text).map_err(|e| {
                    StationError::input(format!(
                        "--truth @{file}: expected a JSON object of parameter -> number: {e}"
                    ))
                })?;
                let items: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
                parse_truth(&scene.space, &items.join(","), drawn)
                    .with_context(|| format!("--truth @{file}"))
            }
            None => parse_truth(&scene.space, t, drawn),
        },
        None => Ok(drawn),
    }
}

/// Parses `name=value,...` over `base` (the values not named keep theirs) and checks the result
/// against the parameters' bounds.
pub fn parse_truth(
    space: &asid_core::ParamSpace,
    text: &str,
    mut base: Vec<f64>,
) -> Result<Vec<f64>> {
    for item in text.split(',').filter(|s| !s.trim().is_empty()) {
        let Some((name, value)) = item.split_once('=') else {
            return Err(StationError::input(format!(
                "--truth item `{item}`: expected name=value"
            )));
        };
        let i = space.index_of(name.trim()).ok_or_else(|| {
            StationError::input(format!(
                "--truth: no parameter `{}` (allowed: {})",
                name.trim(),
                space.names().join(", ")
            ))
        })?;
        base[i] = value.trim().parse().map_err(|_| {
            StationError::input(format!("--truth {name}: `{value}` is not a number"))
        })?;
    }
    space.check(&base)?;
    Ok(base)
}

/// Settings of the simulated lab.
pub struct LabSettings<'a> {
    /// Seed of the hidden truth and of the lab's noise.
    pub seed: u64,
    /// Given true parameters, `name=value,...`.
    pub truth: Option<&'a str>,
    /// Sensor noise scale.
    pub noise: f64,
    /// Imperfections, `name=value,...`.
    pub imperfections: Option<&'a str>,
}

/// The lab configuration: the imperfect default with `noise` and `seed`, then `ideal` and
/// `name=value,...` items in order ([`LabConfig::apply`]).
pub fn lab_config(seed: u64, noise: f64, overrides: Option<&str>) -> Result<LabConfig> {
    let mut cfg = LabConfig {
        seed,
        noise_scale: noise,
        ..LabConfig::default()
    };
    cfg.apply(overrides.unwrap_or_default())
        .map_err(|e| StationError::input(format!("--lab: {e}")))?;
    Ok(cfg)
}

/// Runs a job in the simulated lab with hidden true parameters; returns the summary and the truth.
pub async fn run_in_lab(
    job: &Job<'_>,
    lab: &LabSettings<'_>,
    limits: SafetyLimits,
    signal: StopSignal,
    obs: &mut dyn Observer,
) -> Result<(RunSummary, Vec<f64>)> {
    let scene = job.sim.scene();
    let truth = lab_truth(scene, lab.seed, lab.truth)?;
    let cfg = lab_config(lab.seed, lab.noise, lab.imperfections)?;
    let (noise_scale, latency_ms) = (cfg.noise_scale, cfg.pose_latency_ms);
    let (arm, tracker) = SimLab::new(job.sim, &truth, cfg)?;
    let hand = arm.gripper();
    let mut extra = BTreeMap::new();
    let named: serde_json::Map<String, serde_json::Value> = scene
        .space
        .params
        .iter()
        .zip(&truth)
        .map(|(p, v)| (p.name.clone(), serde_json::json!(v)))
        .collect();
    extra.insert("true_parameters".into(), serde_json::Value::Object(named));
    extra.insert("lab_seed".into(), serde_json::json!(lab.seed));
    // The lab's effective settings (`--lab ideal` overrides --noise).
    extra.insert("noise_scale".into(), serde_json::json!(noise_scale));
    extra.insert("lab_pose_latency_ms".into(), serde_json::json!(latency_ms));
    let summary = match hand {
        Some(hand) => run_arm(arm, tracker, hand, job, limits, signal, extra, obs).await?,
        None => run_arm(arm, tracker, NoHand, job, limits, signal, extra, obs).await?,
    };
    Ok((summary, truth))
}

/// Objects whose poses the scene observes.
pub fn tracked_objects(scene: &Scene) -> Vec<String> {
    scene
        .tracked_objects()
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// Binds the pose stream v1 receiver for `udp://ADDR`, expecting the scene's tracked objects.
pub fn pose_receiver(
    addr: &str,
    scene: &Scene,
    stale_ms: u64,
) -> Result<asid_pose::UdpPoseReceiver> {
    let Some(bind) = addr.strip_prefix("udp://") else {
        return Err(StationError::input(format!(
            "--poses `{addr}`: expected udp://ADDR:PORT"
        )));
    };
    let config = asid_pose::PoseStreamConfig {
        bind: bind
            .parse()
            .map_err(|_| StationError::input(format!("--poses `{addr}`: not an address:port")))?,
        expected_objects: tracked_objects(scene),
        stale_after_ms: stale_ms,
        ..asid_pose::PoseStreamConfig::default()
    };
    Ok(asid_pose::UdpPoseReceiver::bind(&config)?)
}

/// Connects to a Franka (or franky-sim) at `host` for the scene's robot and control period, with
/// `link_timeout_ms` of state silence ending the session, and checks that the arm is the robot the
/// scene names.
pub async fn connect_franka(
    host: &str,
    scene: &Scene,
    link_timeout_ms: u64,
    obs: &mut dyn Observer,
) -> Result<asid_franka::FrankaArm> {
    let mut cfg = asid_franka::RobotConfig::from_spec(&scene.robot, scene.control_period_s())?;
    cfg.link_timeout_ms = link_timeout_ms;
    cfg.validate()?;
    let host_owned = host.to_string();
    let arm =
        tokio::task::spawn_blocking(move || asid_franka::FrankaArm::connect(&host_owned, cfg))
            .await
            .map_err(|e| StationError::other(format!("connecting to the Franka at {host}: {e}")))?
            .with_context(|| format!("connecting to the Franka at {host}"))?;
    // A reflex left over from an earlier session: recover (the user stop must be released).
    if arm.latest_state().map(|s| s.mode) == Some(asid_arm::ArmMode::Reflex) {
        obs.observe(&Event::Note(&format!(
            "the arm at {host} is in a reflex state: automatic error recovery"
        )));
        arm.automatic_error_recovery()
            .with_context(|| format!("automatic error recovery on {host}"))?;
    }
    let model = arm.robot_model().ok();
    if let Some(urdf) = model {
        let name = &scene.robot.name;
        let other = if name == "fr3" { "panda" } else { "fr3" };
        if urdf.contains(&format!("{other}_link1")) && !urdf.contains(&format!("{name}_link1")) {
            return Err(StationError::input(format!(
                "the arm at {host} is {other}, the scene `{}` uses {name}: pick the scene made \
                 for this robot",
                scene.spec.name
            )));
        }
    }
    Ok(arm)
}

/// Where a run is recorded and what it runs.
pub struct Job<'a> {
    /// The scene's simulator (kinematics, start pose, action space).
    pub sim: &'a Simulator,
    /// What to run: an exploration plan's or a push task's actions, or a task's hand motion.
    pub work: Work<'a>,
    /// The plan's name in the recording.
    pub plan_label: String,
    /// The MCAP file.
    pub out: PathBuf,
    /// What the actions are, for progress (`plan`, `task`).
    pub what: &'a str,
}

/// Runs `job` on `arm` with `poses` (and `hand`, for a motion that grasps), behind the safety
/// layer with `limits` and recording to the job's MCAP file; `extra` goes into the run metadata.
#[allow(clippy::too_many_arguments)]
pub async fn run_arm<A: Arm, P: PoseSource, G: Gripper>(
    arm: A,
    mut poses: P,
    mut hand: G,
    job: &Job<'_>,
    limits: SafetyLimits,
    signal: StopSignal,
    extra: BTreeMap<String, serde_json::Value>,
    obs: &mut dyn Observer,
) -> Result<RunSummary> {
    let sim = job.sim;
    let scene = sim.scene();
    let kin = sim.arm().clone();
    let info = RunInfo {
        robot: scene.robot.name.clone(),
        scene: scene.spec.name.clone(),
        arm: arm.capabilities().clone(),
        plan: job.plan_label.clone(),
        software_version: env!("CARGO_PKG_VERSION").into(),
        extra,
    };
    // Chunks go to the operating system at every flush, which survives a killed process; an fsync
    // in the control loop would make the next target late (and a late target is a harder one).
    let options = asid_record::RecorderOptions {
        sync_on_flush: false,
        ..asid_record::RecorderOptions::default()
    };
    let recorder = McapRecorder::create_with_options(&job.out, &info, options)
        .with_context(|| format!("creating {}", job.out.display()))?;
    let safe = Safe::new(arm, limits, Some(kin.clone()), signal)
        .map_err(|e| StationError::input(format!("safety limits: {e}")))?;
    let obs = Mutex::new(obs);
    let tee = Tee {
        file: recorder,
        obs: &obs,
    };
    let mut arm = Recorded::new(safe, tee, 10);
    let (q, tcp) = asid_sim::start_of(scene, &kin)?;
    let start = Start {
        q_rad: q,
        world_from_tcp: tcp,
    };
    let what = match job.work {
        Work::Actions(_) => format!("{} actions", job.what),
        Work::Motion(_) => format!("{} motion steps", job.what),
    };
    let rig = executor::Rig {
        arm: &mut arm,
        hand: &mut hand,
        poses: &mut poses,
    };
    let summary = executor::execute(rig, scene, &kin, start, job.work, |done, total| {
        observe(
            &obs,
            &Event::Progress {
                what: &what,
                done,
                total,
            },
        );
    })
    .await;
    let mut meta = BTreeMap::new();
    meta.insert("steps_done".to_string(), summary.steps_done.to_string());
    meta.insert(
        "stopped_by".to_string(),
        summary.stopped_by.clone().unwrap_or_default(),
    );
    if let Some(o) = summary.poses.clock_offset_s {
        meta.insert("pose_clock_offset_s".to_string(), o.to_string());
    }
    let rec = &mut arm.recorder_mut().file;
    rec.metadata("asid.summary", &meta)
        .and_then(|()| rec.finish())
        .with_context(|| format!("finishing {}", job.out.display()))?;
    observe(
        &obs,
        &Event::EpisodeDone {
            path: &job.out,
            summary: &summary,
        },
    );
    Ok(summary)
}

fn observe(obs: &Mutex<&mut dyn Observer>, event: &Event<'_>) {
    // A panicked observer leaves the lock poisoned; the run and its recording go on.
    if let Ok(mut o) = obs.lock() {
        o.observe(event);
    }
}

/// The episode's recorder: every record goes to the MCAP file and, as an [`Event::Record`], to
/// the observers.
struct Tee<'a, 'o> {
    file: McapRecorder,
    obs: &'a Mutex<&'o mut dyn Observer>,
}

impl Recorder for Tee<'_, '_> {
    fn write(&mut self, record: &Record) -> std::io::Result<()> {
        self.file.write(record)?;
        observe(self.obs, &Event::Record(record));
        Ok(())
    }

    fn metadata(&mut self, name: &str, values: &BTreeMap<String, String>) -> std::io::Result<()> {
        self.file.metadata(name, values)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.file.finish()
    }
}

/// A Franka (or franky-sim) with the lab's pose stream.
#[derive(Debug, Clone)]
pub struct FrankaSettings {
    /// Its address (`HOST` of `franka://HOST`).
    pub host: String,
    /// The pose stream, `udp://ADDR:PORT` (None: no tracker; the tracked objects go missing).
    pub poses: Option<String>,
    /// No pose of a tracked object for this long stops the run.
    pub stale_ms: u64,
    /// No arm state for this long beyond the control period stops the run.
    pub watchdog_ms: u64,
}

/// Runs `job` on a Franka: binds the pose stream first (a bad address is reported before the arm
/// is touched), connects, checks the approach and the plan through the 1 kHz control loop's
/// interpolation from where the arm is, then runs it behind the safety layer and records it.
pub async fn run_on_franka(
    franka: &FrankaSettings,
    job: &Job<'_>,
    limits: SafetyLimits,
    signal: StopSignal,
    obs: &mut dyn Observer,
) -> Result<RunSummary> {
    let sim = job.sim;
    let scene = sim.scene();
    let poses: Box<dyn PoseSource> = match &franka.poses {
        Some(addr) => Box::new(pose_receiver(addr, scene, franka.stale_ms)?),
        None => {
            let tracked = tracked_objects(scene);
            if !tracked.is_empty() {
                obs.observe(&Event::Note(&format!(
                    "no pose stream: the scene observes {tracked:?}, which will be missing from \
                     the episode"
                )));
            }
            Box::new(NoPoses)
        }
    };
    let Work::Actions(actions) = job.work else {
        return Err(StationError::input(format!(
            "{}: a motion with the hand runs on the simulated lab only; asid does not drive the \
             Franka Hand in a run yet",
            job.plan_label
        )));
    };
    let arm = connect_franka(&franka.host, scene, franka.watchdog_ms, obs).await?;
    let q_now = arm
        .latest_state()
        .map(|s| s.q_cmd_rad)
        .context("no state from the arm after connecting")?;
    let q_start = asid_sim::start_of(scene, sim.arm())?.0;
    let (report, tolerated_ms) = interpolation_dry_run(
        arm.config(),
        &q_now,
        &executor::approach(&q_now, &q_start, scene.control_period_s()),
        &plan_joint_targets(sim, actions)?,
    )?;
    obs.observe(&Event::ControlLoopChecked {
        report: &report,
        tolerated_ms,
        joints: &arm.config().limits.names,
    });
    let mut extra = BTreeMap::new();
    extra.insert("host".into(), serde_json::json!(franka.host));
    run_arm(arm, poses, NoHand, job, limits, signal, extra, obs).await
}

/// Runs `job` on a recording played back through the arm interface (its poses with it).
pub async fn run_on_replay(
    file: &Path,
    job: &Job<'_>,
    limits: SafetyLimits,
    signal: StopSignal,
    obs: &mut dyn Observer,
) -> Result<RunSummary> {
    let rec = asid_record::read_recording(file)?;
    let arm = asid_arm::ReplayArm::new(&rec).ok_or_else(|| {
        StationError::input(format!(
            "{}: no run info or no arm state to replay",
            file.display()
        ))
    })?;
    let poses = asid_arm::ReplayPoses::new(&rec);
    let mut extra = BTreeMap::new();
    extra.insert(
        "replay_of".into(),
        serde_json::json!(file.display().to_string()),
    );
    match job.work {
        // A motion with the hand replays the recorded hand states with the arm's.
        Work::Motion(_) => {
            let hand = asid_arm::ReplayGripper::new(&rec)?;
            run_arm(arm, poses, hand, job, limits, signal, extra, obs).await
        }
        Work::Actions(_) => run_arm(arm, poses, NoHand, job, limits, signal, extra, obs).await,
    }
}
