//! `asid`: active system identification for robot manipulation.
//!
//! The binary is the only place that knows every concrete type; the work lives in the library crates.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Active system identification for robot manipulation: plan, execute, identify, replan.
#[derive(Parser)]
#[command(name = "asid", version, about)]
struct Cli {
    /// More log on stderr: -v the loop's steps, plans, episodes and fits; -vv also progress and
    /// every command to the arm; -vvv every state and pose.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole loop on the embedded simulated lab or a Franka: plan the exploration, run it,
    /// identify, plan and run the task; writes runs/<time>-<scene>/ with report.json.
    Run(cmd::run::Args),
    /// Re-identify a recorded run (or episode) with other settings and re-plan its task, no arm.
    Replay(cmd::replay::Args),
    /// Render a recorded run (or episode) to rerun: robot, scene, objects, paths, plots, the fit.
    View(cmd::view::Args),
    /// Validate a scene with its robot, tool and URDF, and print a summary.
    Check(cmd::check::Args),
    /// Plan the exploration that maximises the Fisher information of the unknown parameters.
    Explore(cmd::explore::Args),
    /// Run a plan (or random exploration) in the simulated lab with hidden true parameters; record an episode.
    Simulate(cmd::simulate::Args),
    /// Fit the unknown parameters to recorded episodes, with uncertainty and identifiability.
    Identify(cmd::identify::Args),
    /// Run a plan on an arm (simulated lab or Franka) behind the safety layer; record an MCAP episode.
    Execute(cmd::execute::Args),
    /// Print what a recording holds: duration, channels, sample counts, gaps.
    Episode(cmd::episode::Args),
    /// The whole loop per trial on the simulated lab with the task, per method (dr, random, asid,
    /// oracle): the paper's Table 1.
    Eval(cmd::eval::Args),
    /// Benchmarks that print figures (they never fail on timing).
    #[command(subcommand)]
    Bench(cmd::bench::Bench),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    // asid's own log at the asked level; other crates' (the rerun SDK's network stack) only
    // warnings.
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("asid", level)
        .with_default(tracing::Level::WARN);
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    tracing_subscriber::registry()
        .with(log.with_filter(filter))
        .init();
    let result = match cli.command {
        Command::Run(args) => cmd::run::run(&args),
        Command::Replay(args) => cmd::replay::run(&args),
        Command::View(args) => cmd::view::run(&args),
        Command::Check(args) => cmd::check::run(&args),
        Command::Explore(args) => cmd::explore::run(&args),
        Command::Simulate(args) => cmd::simulate::run(&args),
        Command::Identify(args) => cmd::identify::run(&args),
        Command::Execute(args) => cmd::execute::run(&args),
        Command::Episode(args) => cmd::episode::run(&args),
        Command::Eval(args) => cmd::eval::run(&args),
        Command::Bench(b) => cmd::bench::run(&b),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The error's chain as one line, each cause once: a station error's message already holds its
/// causes' words, so the chain stops there.
fn message(e: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in e.chain() {
        parts.push(cause.to_string());
        if cause.downcast_ref::<asid_station::StationError>().is_some() {
            break;
        }
    }
    parts.join(": ")
}

/// The exit code of a failure: the station's own kind where the error came from the library (bad
/// input or a refused motion 2, an arm fault 3, anything else 1); 2 for the CLI's own argument and
/// file checks.
fn exit_code(e: &anyhow::Error) -> u8 {
    e.chain()
        .find_map(|c| c.downcast_ref::<asid_station::StationError>())
        .map_or(2, asid_station::StationError::exit_code)
}
