//! Recordings of asid runs as MCAP files, the robotics log container that Foxglove and rerun open.
//!
//! - [`McapRecorder`] implements [`asid_arm::Recorder`]: JSON messages with JSON Schemas on
//!   `/arm/state`, `/arm/command`, `/plan/action`, `/tracker/<object>` (`foxglove.PoseInFrame`) and
//!   `/log` (`foxglove.Log`), plus `/gripper/state` in runs with a gripper, the
//!   [`asid_arm::RunInfo`] as metadata `asid.run`, small chunks so a killed process leaves a file
//!   readable up to its last flush ([`schema`] has the layout); beside them ROS 2 mirrors
//!   `/joint_states` and `/tf` (CDR, [`ros2`]) that rerun and Foxglove decode natively.
//! - [`read_recording`] reads finished and cut files alike; [`read_with_report`] also says how
//!   much was usable.
//! - [`summarize`] is what `asid episode <file.mcap>` prints.
//! - [`to_episode`] turns a recording into the [`asid_core::Episode`] identification reads.
//!
//! ```no_run
//! use std::path::Path;
//! use asid_arm::{Record, Recorder, RunInfo};
//! # fn run(info: &RunInfo, records: &[Record]) -> Result<(), Box<dyn std::error::Error>> {
//! let path = Path::new("runs/push.mcap");
//! let mut rec = asid_record::McapRecorder::create(path, info)?;
//! for r in records {
//!     rec.write(r)?;
//! }
//! rec.flush()?; // durable up to here, even if the process dies next
//! rec.finish()?;
//!
//! println!("{}", asid_record::summarize(path)?);
//! let scene = asid_core::load_scene(Path::new("scenes/shuffleboard.toml"))?;
//! let episode = asid_record::episode_from_mcap(path, &scene)?.episode;
//! println!("{} actions, {} observations", episode.actions.len(), episode.obs.len());
//! # Ok(())
//! # }
//! ```

pub mod episode;
pub mod error;
pub mod reader;
pub mod resample;
pub mod ros2;
pub mod schema;
pub mod summary;
pub mod writer;

pub use episode::{Conversion, EpisodeOptions, channel_label, episode_from_mcap, to_episode};
pub use error::{ConvertError, RecordError};
pub use reader::{Damage, ReadReport, TopicCount, read_bytes, read_recording, read_with_report};
pub use summary::{EventCounts, RecordingSummary, StateTiming, TopicSummary, summarize};
pub use writer::{McapRecorder, RecorderOptions};
