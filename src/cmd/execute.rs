//! `asid execute <plan.json> --arm sim|franka://HOST [--poses udp://ADDR] --out episode.mcap`:
//! run a plan on an arm behind the safety and recording layers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use asid_arm::dummy::DummyArm;
use asid_arm::{
    Arm, ArmCommand, NoPoses, PoseSource, Recorded, Recorder, RunInfo, Safe, SafetyLimits,
    StopSignal,
};
use asid_core::Scene;
use asid_core::scene::ActionSpec;
use asid_lab::{LabConfig, SimLab};
use asid_record::McapRecorder;
use asid_sim::Simulator;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::station::{self, RunSummary, Start};

/// Arguments of `asid execute`.
#[derive(clap::Args)]
pub struct Args {
    /// Plan file (from `asid explore`).
    plan: PathBuf,
    /// The arm: `sim` (the simulated lab), `franka://HOST` (a Franka, or franky-sim on loopback) or
    /// `replay://EPISODE.mcap` (a recording played back through the same arm interface).
    #[arg(long, default_value = "sim")]
    arm: String,
    /// Object poses: `udp://ADDR` (pose stream v1). Default: the simulated lab's tracker with
    /// `--arm sim`, none otherwise.
    #[arg(long)]
    poses: Option<String>,
    /// Episode file to write (MCAP).
    #[arg(long)]
    out: PathBuf,
    /// Scene (default: the plan's scene file).
    #[arg(long)]
    scene: Option<PathBuf>,
    /// Simulated lab: seed of the hidden true parameters and of the lab's noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated lab: true parameters, `name=value,...` or `@truth.json` (a JSON object of name ->
    /// value); parameters not given are drawn from the prior with --seed.
    #[arg(long)]
    truth: Option<String>,
    /// Simulated lab: sensor noise as a multiple of the scene's sigmas.
    #[arg(long, default_value_t = 1.0)]
    noise: f64,
    /// Simulated lab: `ideal` (exact sensors, overriding --noise; the joints on the command, no
    /// latency, offset or jitter) and/or `name=value,...` over the imperfect default, in order:
    /// noise_scale, pose_latency_ms, pose_rate_hz, pose_jitter_probability,
    /// pose_rotation_sigma_rad, jitter_probability, tracking_lag (on/off), link_inertia_kgm2,
    /// tracking_offset_sigma_rad, joint_sigma_rad, seed (0 turns one off).
    #[arg(long)]
    lab: Option<String>,
    /// Watchdog: no arm state for this long beyond the control period stops the run (1..=10000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    watchdog_ms: u64,
    /// No pose of a tracked object for this long stops the run.
    #[arg(long, default_value_t = 250)]
    stale_ms: u64,
}

/// A plan file, checked against its scene.
pub struct LoadedPlan {
    /// The plan.
    pub plan: asid_explore::Plan,
    /// Its simulator.
    pub sim: Simulator,
}

/// Reads a plan and the scene it was made for.
pub fn load_plan(path: &Path, scene: Option<&Path>) -> anyhow::Result<LoadedPlan> {
    let text =
        asid_core::read_limit::read_limited_string(path, asid_core::read_limit::JSON_MAX_BYTES)
            .with_context(|| format!("reading {}", path.display()))?;
    let plan: asid_explore::Plan = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a plan file", path.display()))?;
    let scene_path = scene.map_or_else(|| PathBuf::from(&plan.scene_file), Path::to_path_buf);
    let sim = Simulator::load(&scene_path)?;
    if plan.scene != sim.scene().spec.name {
        bail!(
            "{}: planned for scene `{}`, not `{}` ({})",
            path.display(),
            plan.scene,
            sim.scene().spec.name,
            scene_path.display()
        );
    }
    crate::cmd::input_check::check_plan(path, &plan, sim.scene())?;
    Ok(LoadedPlan { plan, sim })
}

/// The safety limits of a scene's arm: the robot's datasheet limits and the action workspace
/// (with 2 cm of slack) as the tool box.
pub fn limits_for(scene: &Scene, watchdog_ms: u64) -> SafetyLimits {
    let mut l = SafetyLimits::from_robot(&scene.robot);
    l.watchdog_ms = watchdog_ms;
    let slack = 0.02;
    let xy = |ws: &[[f64; 2]]| {
        let mut b = [[-1.5, 1.5], [-1.5, 1.5], [0.0, 1.5]];
        for (axis, [lo, hi]) in ws.iter().enumerate() {
            b[axis] = [lo - slack, hi + slack];
        }
        b
    };
    l.workspace_m = match &scene.spec.arm.action {
        ActionSpec::EeDeltaXy { workspace_xy_m, .. } => Some(xy(workspace_xy_m)),
        ActionSpec::EeDeltaXyz { workspace_m, .. } => Some(xy(workspace_m)),
        // Joint targets: no action workspace, but the tool stays above the table and near the arm.
        ActionSpec::JointPosition { .. } => Some(xy(&[])),
    };
    l
}

/// The joint targets a plan sends, one per action, from the plan's start configuration: what the
/// simulator would command (the same IK from the same seed).
pub fn plan_joint_targets(sim: &Simulator, actions: &[Vec<f64>]) -> anyhow::Result<Vec<Vec<f64>>> {
    let scene = sim.scene();
    let kin = sim.arm();
    let (mut q, mut tcp) = asid_sim::start_of(scene, kin)?;
    let mut out = Vec::with_capacity(actions.len());
    for (k, a) in actions.iter().enumerate() {
        let (qn, tn) = asid_sim::command_for_action(&scene.spec.arm.action, kin, &q, &tcp, a)
            .with_context(|| format!("plan action {k}"))?;
        out.push(qn.clone());
        (q, tcp) = (qn, tn);
    }
    Ok(out)
}

/// The dry run every plan gets before an arm moves: a rollout in the simulator with the nominal
/// parameters, and every joint target through the safety checks of an ideal arm.
pub fn dry_run(sim: &Simulator, actions: &[Vec<f64>], limits: &SafetyLimits) -> anyhow::Result<()> {
    let scene = sim.scene();
    sim.rollout(&scene.space.nominal(), actions)
        .context("dry run in the simulator")?;
    limits_check(sim, actions, limits)
}

/// The safety layer's part of the dry run: the plan's joint targets through [`Safe`] on an ideal
/// arm, so every limit is checked with the control period's timing.
pub fn limits_check(
    sim: &Simulator,
    actions: &[Vec<f64>],
    limits: &SafetyLimits,
) -> anyhow::Result<()> {
    let scene = sim.scene();
    let kin = sim.arm().clone();
    let q0 = asid_sim::start_of(scene, &kin)?.0;
    let ideal = DummyArm::new(
        q0,
        scene.robot.limits.position_min_rad.clone(),
        scene.robot.limits.position_max_rad.clone(),
        scene.control_period_s(),
    );
    let mut safe = Safe::new(ideal, limits.clone(), Some(kin), StopSignal::new())?;
    let targets = plan_joint_targets(sim, actions).context("dry run")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    rt.block_on(async {
        for (k, q) in targets.into_iter().enumerate() {
            safe.step(&ArmCommand::JointPosition { q_rad: q })
                .await
                .with_context(|| format!("dry run: plan action {k}"))?;
        }
        anyhow::Ok(())
    })
}

/// The Franka's own check, offline, once its position is known: the approach from `q_now_rad`
/// and the plan's joint targets through the control loop's 1 kHz schedule and interpolation
/// ([`asid_franka::dry_run`]) as the loop runs them: every step after the first served one tick
/// after the previous one was answered, its segment shortened by that tick, and the stop at the
/// end. A target the arm would refuse mid-run (velocity, acceleration or jerk) is found here,
/// before anything moves. Returns the punctual caller's report and the latest caller (in ticks,
/// up to the loop's coast limit) the motion would still tolerate on every step.
pub fn interpolation_dry_run(
    cfg: &asid_franka::RobotConfig,
    q_now_rad: &[f64],
    approach: &[Vec<f64>],
    plan_targets: &[Vec<f64>],
) -> anyhow::Result<(asid_franka::DryRunReport, u32)> {
    let targets: Vec<Vec<f64>> = approach.iter().chain(plan_targets).cloned().collect();
    let label = |index: usize| {
        if index < approach.len() {
            format!("approach step {index}")
        } else if index < targets.len() {
            format!("plan action {}", index - approach.len())
        } else {
            "the stop after the plan".to_string()
        }
    };
    let report = asid_franka::dry_run(cfg, q_now_rad, &targets, 1).map_err(|e| {
        anyhow::anyhow!(
            "dry run of the arm's 1 kHz control loop: {} (the step served one tick after the \
             previous one was answered, as the loop does): {}",
            label(e.index),
            e.source
        )
    })?;
    let tolerated = (2..=cfg.coast_limit_ms)
        .take_while(|&d| asid_franka::dry_run(cfg, q_now_rad, &targets, d).is_ok())
        .last()
        .unwrap_or(1);
    Ok((report, tolerated))
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let loaded = load_plan(&args.plan, args.scene.as_deref())?;
    let sim = &loaded.sim;
    let scene = sim.scene();
    let limits = limits_for(scene, args.watchdog_ms);
    dry_run(sim, &loaded.plan.actions, &limits)?;
    println!(
        "plan {}: {} actions of {} s, dry run passed",
        args.plan.display(),
        loaded.plan.actions.len(),
        scene.control_period_s()
    );
    let signal = StopSignal::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let summary = rt.block_on(async {
        let s = signal.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                s.raise("Ctrl-C");
            }
        });
        execute_on(args, sim, &loaded.plan, limits, signal).await
    })?;
    print_summary(&summary, &args.out);
    if let Some(why) = &summary.stopped_by {
        bail!(
            "the run stopped early: {why} (episode kept: {})",
            args.out.display()
        );
    }
    Ok(())
}

fn print_summary(s: &RunSummary, out: &Path) {
    println!(
        "{} of {} actions in {:.2} s (arm clock), approach {} periods, max tracking error {:.2e} rad",
        s.steps_done, s.steps_planned, s.duration_s, s.approach_steps, s.max_tracking_error_rad
    );
    println!(
        "poses: {} received, {} accepted, {} malformed, {} duplicates, {} reordered; refusals {}",
        s.poses.received,
        s.poses.accepted,
        s.poses.malformed,
        s.poses.duplicates,
        s.poses.reordered,
        s.refusals
    );
    println!("episode: {}", out.display());
}

/// Draws (or parses) the simulated lab's hidden truth.
pub fn lab_truth(scene: &Scene, seed: u64, truth: Option<&str>) -> anyhow::Result<Vec<f64>> {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(1000));
    let drawn = scene.space.sample(&mut rng);
    match truth {
        Some(t) => match t.strip_prefix('@') {
            // A JSON object of name -> value (e.g. a fit's `estimate`, or an episode's truth).
            Some(file) => {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("--truth @{file}: reading"))?;
                let map: BTreeMap<String, f64> =
                    serde_json::from_str(&text).with_context(|| {
                        format!("--truth @{file}: expected a JSON object of parameter -> number")
                    })?;
                let items: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
                crate::cmd::simulate::parse_truth(&scene.space, &items.join(","), drawn)
                    .with_context(|| format!("--truth @{file}"))
            }
            None => crate::cmd::simulate::parse_truth(&scene.space, t, drawn),
        },
        None => Ok(drawn),
    }
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
pub fn lab_config(seed: u64, noise: f64, overrides: Option<&str>) -> anyhow::Result<LabConfig> {
    let mut cfg = LabConfig {
        seed,
        noise_scale: noise,
        ..LabConfig::default()
    };
    cfg.apply(overrides.unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("--lab: {e}"))?;
    Ok(cfg)
}

/// Runs a job in the simulated lab with hidden true parameters; returns the summary and the truth.
pub async fn run_in_lab(
    job: &Job<'_>,
    lab: &LabSettings<'_>,
    limits: SafetyLimits,
    signal: StopSignal,
) -> anyhow::Result<(RunSummary, Vec<f64>)> {
    let scene = job.sim.scene();
    let truth = lab_truth(scene, lab.seed, lab.truth)?;
    let cfg = lab_config(lab.seed, lab.noise, lab.imperfections)?;
    let (noise_scale, latency_ms) = (cfg.noise_scale, cfg.pose_latency_ms);
    let (arm, tracker) = SimLab::new(job.sim, &truth, cfg)?;
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
    let summary = run_arm(arm, tracker, job, limits, signal, extra).await?;
    Ok((summary, truth))
}

async fn execute_on(
    args: &Args,
    sim: &Simulator,
    plan: &asid_explore::Plan,
    limits: SafetyLimits,
    signal: StopSignal,
) -> anyhow::Result<RunSummary> {
    let job = Job {
        sim,
        actions: &plan.actions,
        plan_label: args.plan.display().to_string(),
        out: args.out.clone(),
    };
    if args.arm == "sim" {
        if args.poses.is_some() {
            bail!(
                "--poses: the simulated lab brings its own tracker; use it with --arm franka://HOST"
            );
        }
        let lab = LabSettings {
            seed: args.seed,
            truth: args.truth.as_deref(),
            noise: args.noise,
            imperfections: args.lab.as_deref(),
        };
        return Ok(run_in_lab(&job, &lab, limits, signal).await?.0);
    }
    if let Some(file) = args.arm.strip_prefix("replay://") {
        if let Some(p) = &args.poses {
            bail!("--poses `{p}`: a replay plays back the poses it recorded; drop --poses");
        }
        let rec = asid_record::read_recording(Path::new(file))?;
        let arm = asid_arm::ReplayArm::new(&rec)
            .with_context(|| format!("{file}: no run info or no arm state to replay"))?;
        let poses = asid_arm::ReplayPoses::new(&rec);
        let mut extra = BTreeMap::new();
        extra.insert("replay_of".into(), serde_json::json!(file));
        return run_arm(arm, poses, &job, limits, signal, extra).await;
    }
    let Some(host) = args.arm.strip_prefix("franka://") else {
        bail!(
            "--arm `{}`: allowed `sim`, `franka://HOST` or `replay://EPISODE.mcap`",
            args.arm
        )
    };
    let scene = sim.scene();
    // The tracker first: a bad address is reported before the arm is touched.
    let poses: Box<dyn PoseSource> = match &args.poses {
        Some(addr) => Box::new(pose_receiver(addr, scene, args.stale_ms)?),
        None => {
            let tracked = tracked_objects(scene);
            if !tracked.is_empty() {
                eprintln!(
                    "warning: no --poses: the scene observes {tracked:?}, which will be missing \
                     from the episode"
                );
            }
            Box::new(NoPoses)
        }
    };
    let arm = connect_franka(host, scene, args.watchdog_ms).await?;
    let q_now = arm
        .latest_state()
        .map(|s| s.q_cmd_rad)
        .context("no state from the arm after connecting")?;
    let q_start = asid_sim::start_of(scene, sim.arm())?.0;
    let (report, tolerated) = interpolation_dry_run(
        arm.config(),
        &q_now,
        &crate::station::approach(&q_now, &q_start, scene.control_period_s()),
        &plan_joint_targets(sim, &plan.actions)?,
    )?;
    let joints = &arm.config().limits.names;
    println!(
        "1 kHz dry run passed: peaks {:.0} % of the velocity limit ({}), {:.0} % of the \
         acceleration limit ({}), {:.0} % of the jerk limit ({}); every step may come up to \
         {tolerated} ms late",
        100.0 * report.velocity.ratio(),
        joints[report.velocity.joint],
        100.0 * report.acceleration.ratio(),
        joints[report.acceleration.joint],
        100.0 * report.jerk.ratio(),
        joints[report.jerk.joint],
    );
    let mut extra = BTreeMap::new();
    extra.insert("host".into(), serde_json::json!(host));
    run_arm(arm, poses, &job, limits, signal, extra).await
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
) -> anyhow::Result<asid_pose::UdpPoseReceiver> {
    let Some(bind) = addr.strip_prefix("udp://") else {
        bail!("--poses `{addr}`: expected udp://ADDR:PORT")
    };
    let config = asid_pose::PoseStreamConfig {
        bind: bind
            .parse()
            .with_context(|| format!("--poses `{addr}`: not an address:port"))?,
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
) -> anyhow::Result<asid_franka::FrankaArm> {
    let mut cfg = asid_franka::RobotConfig::from_spec(&scene.robot, scene.control_period_s())?;
    cfg.link_timeout_ms = link_timeout_ms;
    cfg.validate()?;
    let host_owned = host.to_string();
    let arm =
        tokio::task::spawn_blocking(move || asid_franka::FrankaArm::connect(&host_owned, cfg))
            .await?
            .with_context(|| format!("connecting to the Franka at {host}"))?;
    // A reflex left over from an earlier session: recover (the user stop must be released).
    if arm.latest_state().map(|s| s.mode) == Some(asid_arm::ArmMode::Reflex) {
        eprintln!("the arm at {host} is in a reflex state: automatic error recovery");
        arm.automatic_error_recovery()
            .with_context(|| format!("automatic error recovery on {host}"))?;
    }
    let model = arm.robot_model().ok();
    if let Some(urdf) = model {
        let name = &scene.robot.name;
        let other = if name == "fr3" { "panda" } else { "fr3" };
        if urdf.contains(&format!("{other}_link1")) && !urdf.contains(&format!("{name}_link1")) {
            bail!(
                "the arm at {host} is {other}, the scene `{}` uses {name}: pick the scene made \
                 for this robot",
                scene.spec.name
            );
        }
    }
    Ok(arm)
}

/// Where a run is recorded and what it runs.
pub struct Job<'a> {
    /// The scene's simulator (kinematics, start pose, action space).
    pub sim: &'a Simulator,
    /// The actions to run (an exploration plan's or a task plan's).
    pub actions: &'a [Vec<f64>],
    /// The plan's name in the recording.
    pub plan_label: String,
    /// The MCAP file.
    pub out: PathBuf,
}

/// Runs `job` on `arm` with `poses`, behind the safety layer with `limits` and recording to the
/// job's MCAP file; `extra` goes into the run metadata.
pub async fn run_arm<A: Arm, P: PoseSource>(
    arm: A,
    mut poses: P,
    job: &Job<'_>,
    limits: SafetyLimits,
    signal: StopSignal,
    extra: BTreeMap<String, serde_json::Value>,
) -> anyhow::Result<RunSummary> {
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
    let safe = Safe::new(arm, limits, Some(kin.clone()), signal)?;
    let mut arm = Recorded::new(safe, recorder, 10);
    let (q, tcp) = asid_sim::start_of(scene, &kin)?;
    let start = Start {
        q_rad: q,
        world_from_tcp: tcp,
    };
    let mut next_report = 0;
    let summary = station::execute(
        &mut arm,
        &mut poses,
        scene,
        &kin,
        start,
        job.actions,
        |k, n| {
            if k * 10 >= next_report * n {
                eprintln!("  {k}/{n} actions");
                next_report += 1;
            }
        },
    )
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
    let rec = arm.recorder_mut();
    rec.metadata("asid.summary", &meta)
        .and_then(|()| rec.finish())
        .with_context(|| format!("finishing {}", job.out.display()))?;
    Ok(summary)
}
