//! The lab station of asid: the loop as one library call over the arm trait.
//!
//! ```text
//! plan the exploration -> dry run -> execute and record -> identify
//!     -> plan the task -> dry run -> execute the task -> report
//! ```
//!
//! [`Station::run`] runs it on the embedded simulated lab ([`ArmTarget::SimLab`]) or on a Franka
//! with the lab's pose stream ([`ArmTarget::Franka`]), confirming every motion of a real arm first;
//! [`reanalyse`] re-identifies recorded episodes and re-plans the task without an arm. Every step,
//! every record the arm layer writes (action, command, state, pose), every plan, fit and task
//! outcome is an [`Event`] for the [`Observer`]s: the CLI's progress printer, the report, a rerun
//! logger, a `tracing` log ([`Trace`]). The MCAP recorder receives the same records. An observer
//! that may be slow (the rerun logger) runs on its own thread behind a [`Background`], so it
//! never delays the arm's next target. A run writes its directory (see
//! [`create_run_dir`]): `plan.json`, `episode.mcap`, `fit.json`, `task-<goal>.json|.mcap` (for the
//! balancing task `task-<perch>`: the grasp point, the hand's motion and its prediction,
//! [`balance`]) and
//! `report.json` ([`Report`]), the last also when a step fails.
//!
//! A task motion with the hand (rod balancing) runs through the same executor: its joint targets
//! through the safety layer, its hand commands through the hand's limits, each hand state recorded
//! (`/gripper/state`) at the arm's time after the fingers stopped; a grasp that misses stops the
//! arm like any fault. It runs on the simulated lab's hand (and replays with the recorded hand
//! states); a run on a Franka refuses a balancing task before anything moves. So does a carry of
//! a payload (`task-<payload>`: tool targets learned against the simulator's joint PD, judged from
//! the arm's measured joints), whose feed-forward on a Franka would be the arm's own load setting.
//!
//! Errors are [`StationError`]s whose [`Kind`] decides the exit code: bad input or a refused
//! motion 2, an arm fault 3.
//!
//! ```no_run
//! use asid_station::{ArmTarget, LabSettings, LoopOptions, Silent, Station, create_run_dir};
//! # fn main() -> asid_station::Result<()> {
//! let sim = asid_sim::Simulator::load(std::path::Path::new("scenes/rod.toml"))?;
//! let dir = create_run_dir("runs".as_ref(), &sim.scene().spec.name)?;
//! let mut station = Station {
//!     sim: &sim,
//!     scene_file: "scenes/rod.toml".as_ref(),
//!     dir: &dir,
//!     arm: ArmTarget::SimLab(LabSettings { seed: 1, truth: None, noise: 1.0, imperfections: None }),
//!     opts: LoopOptions::default(),
//!     signal: asid_arm::StopSignal::new(),
//! };
//! let report = station.run(&mut Silent)?;
//! println!("{}", report.human());
//! # Ok(()) }
//! ```

pub mod arms;
pub mod background;
pub mod balance;
pub mod checks;
pub mod error;
pub mod event;
pub mod executor;
pub mod identify;
pub mod report;
pub mod session;
pub mod task;
mod task_step;
pub mod trace;

pub use arms::{FrankaSettings, Job, LabSettings};
pub use background::Background;
pub use error::{Context, Kind, Result, StationError};
pub use event::{Event, Observer, Observers, Silent};
pub use executor::{RunSummary, Start};
pub use identify::{Latency, Source};
pub use report::{Report, TaskReport};
pub use session::{ArmTarget, LoopOptions, Reanalysis, Station, create_run_dir, reanalyse};
pub use trace::Trace;
