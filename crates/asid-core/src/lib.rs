//! Core types of asid: scene, robot and tool descriptions, the parameter space and its priors, the
//! recorded-episode format, errors.
//!
//! No physics and no I/O beyond reading configuration and episode files. Every configuration error
//! names the file, the dotted key path and the allowed values.
//!
//! ```no_run
//! let scene = asid_core::load_scene(std::path::Path::new("scenes/rod.toml"))?;
//! println!("{} unknown parameters: {:?}", scene.space.dim(), scene.space.names());
//! # Ok::<(), asid_core::ConfigError>(())
//! ```

pub mod episode;
pub mod error;
pub mod fuzz;
pub mod geometry;
pub mod load;
pub mod param;
pub mod read_limit;
pub mod robot;
pub mod scene;
pub mod space;
pub mod task;
mod task_balance;
pub mod task_carry;
pub mod task_open;
mod validate;
mod validate_layout;
mod validate_params;
mod validate_robot;

pub use episode::{ChannelLayout, EPISODE_FORMAT, Episode, EpisodeError};
pub use error::{ConfigError, parse_toml, read_toml};
pub use geometry::{PoseSpec, Shape};
pub use load::{Scene, load_scene};
pub use param::{ParamSpec, ParamTarget, Prior};
pub use robot::{RobotSpec, ToolSpec};
pub use scene::SceneSpec;
pub use space::{Param, ParamError, ParamSpace};
pub use task::{BalanceSpec, GoalZone, SceneTask, TaskKind, TaskSpec};
pub use task_carry::CarrySpec;
pub use task_open::OpenSpec;
pub use validate::nominal_value;
