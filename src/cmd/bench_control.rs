//! `asid bench control --arm franka://HOST`: the 1 kHz control loop against a Franka or a protocol
//! peer (franky-sim): achieved command rate, cycle period p50/p99, jitter, missed and late cycles.

use anyhow::{Context, bail};
use asid_arm::Arm;
use serde_json::json;

/// Arguments of `asid bench control`.
#[derive(clap::Args)]
pub struct Args {
    /// The arm: `franka://HOST` (start franky-sim first: see README).
    #[arg(long)]
    arm: String,
    /// Robot file whose limits the interpolation respects.
    #[arg(long, default_value = "robots/fr3/robot.toml")]
    robot: std::path::PathBuf,
    /// Seconds of arm time to run.
    #[arg(long, default_value_t = 30.0)]
    seconds: f64,
    /// Plan period: targets per second = 1 / period.
    #[arg(long, default_value_t = 0.02)]
    period_s: f64,
    /// Amplitude of the motion on the last joint (0: hold still).
    #[arg(long, default_value_t = 0.1)]
    amplitude_rad: f64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the benchmark.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let Some(host) = args.arm.strip_prefix("franka://") else {
        bail!("--arm `{}`: expected franka://HOST", args.arm)
    };
    if !(args.seconds > 0.0 && args.seconds <= 3600.0) {
        bail!("--seconds {}: allowed (0, 3600]", args.seconds);
    }
    let spec: asid_core::RobotSpec = asid_core::read_toml(&args.robot)?;
    let cfg = asid_franka::RobotConfig::from_spec(&spec, args.period_s)?;
    let mut arm = asid_franka::FrankaArm::connect(host, cfg)
        .with_context(|| format!("connecting to {host}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(async {
        let r = arm.bench(args.seconds, args.amplitude_rad).await;
        let _ = arm.stop().await;
        r
    })?;
    let s = &report.stats;
    if args.json {
        println!(
            "{}",
            json!({
                "host": host, "seconds_arm": report.arm_s, "seconds_wall": report.wall_s,
                "steps": report.steps, "command_rate_hz": s.command_rate_hz,
                "period_p50_us": s.period_p50_us, "period_p99_us": s.period_p99_us,
                "period_max_us": s.period_max_us, "jitter_p99_us": s.jitter_p99_us,
                "missed_cycles": s.missed_cycles, "late_cycles": s.late_cycles,
                "commands_sent": s.commands_sent, "states_received": s.states_received,
                "reply_latency_max_us": s.reply_latency_max_us,
            })
        );
    } else {
        println!(
            "control loop against {host}: {:.1} s arm time in {:.1} s wall, {} targets at {} s",
            report.arm_s, report.wall_s, report.steps, args.period_s
        );
        println!(
            "  commands {} at {:.0} Hz; cycle period p50 {:.0} us, p99 {:.0} us, max {:.0} us; \
             jitter p99 {:.0} us",
            s.commands_sent,
            s.command_rate_hz,
            s.period_p50_us,
            s.period_p99_us,
            s.period_max_us,
            s.jitter_p99_us
        );
        println!(
            "  missed cycles {}, late cycles {}, largest state-to-command latency {:.0} us",
            s.missed_cycles, s.late_cycles, s.reply_latency_max_us
        );
    }
    Ok(())
}
