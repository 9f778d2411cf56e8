//! Errors of reading recordings and of turning them into episodes. Every variant names the file.

use std::path::PathBuf;

/// A recording could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file could not be opened or read.
    // The OS error is part of the message, not a `source`: anyhow would print it twice.
    #[error("{}: {os_error}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        os_error: std::io::Error,
    },
    /// The file does not start with the MCAP magic bytes.
    #[error("{}: not an MCAP file (it does not start with the MCAP magic bytes)", file.display())]
    NotMcap {
        /// The file.
        file: PathBuf,
    },
    /// A complete record could not be parsed (damage, not a cut: a cut is reported, not an error).
    #[error("{}: record at byte {offset} is damaged: {message}", file.display())]
    Corrupt {
        /// The file.
        file: PathBuf,
        /// Byte offset of the record.
        offset: u64,
        /// What is wrong with it.
        message: String,
    },
    /// A channel's topic is not one asid writes.
    #[error(
        "{}: unknown topic `{topic}` (asid recordings hold /arm/state, /arm/command, /plan/action, /tracker/<object>, /log)",
        file.display()
    )]
    UnknownTopic {
        /// The file.
        file: PathBuf,
        /// The topic.
        topic: String,
    },
    /// A channel's schema is not the one its topic carries.
    #[error("{}: topic `{topic}` has schema `{schema}`, expected `{expected}`", file.display())]
    UnknownSchema {
        /// The file.
        file: PathBuf,
        /// The topic.
        topic: String,
        /// The schema name found (empty without a schema).
        schema: String,
        /// The schema name expected.
        expected: String,
    },
    /// A channel's messages are not JSON.
    #[error("{}: topic `{topic}` has message encoding `{encoding}`, expected `json`", file.display())]
    Encoding {
        /// The file.
        file: PathBuf,
        /// The topic.
        topic: String,
        /// The encoding found.
        encoding: String,
    },
    /// A message does not decode as its topic's type.
    #[error(
        "{}: message {index} on `{topic}` (counted from 0 in file order) does not decode: {message}",
        file.display()
    )]
    Decode {
        /// The file.
        file: PathBuf,
        /// The topic.
        topic: String,
        /// The message's position among the topic's messages in the file, from 0 (the MCAP
        /// sequence field is optional and often 0).
        index: u64,
        /// The decoder's complaint.
        message: String,
    },
    /// A metadata record asid wrote does not decode.
    #[error("{}: metadata `{name}`: {message}", file.display())]
    Metadata {
        /// The file.
        file: PathBuf,
        /// The metadata record's name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// A recording could not be turned into an identification episode for a scene.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The recording could not be read.
    #[error(transparent)]
    Read(#[from] RecordError),
    /// The scene's arm model could not be built (needed for the tool position).
    #[error("{file}: arm model of scene `{scene}`: {source}")]
    Robot {
        /// The recording.
        file: String,
        /// The scene.
        scene: String,
        /// The robot model's error.
        source: Box<asid_robot::RobotError>,
    },
    /// The recording was made in another scene.
    #[error("{file}: recorded in scene `{recorded}`, not `{scene}`")]
    SceneMismatch {
        /// The recording.
        file: String,
        /// Scene named by the recording's run info.
        recorded: String,
        /// The scene asked for.
        scene: String,
    },
    /// No plan action in the recording.
    #[error("{file}: no plan action (topic /plan/action is empty or absent)")]
    NoActions {
        /// The recording.
        file: String,
    },
    /// The plan actions' step indices are not consecutive.
    #[error("{file}: plan action steps are not consecutive: step {found} follows step {previous}")]
    ActionSteps {
        /// The recording.
        file: String,
        /// The step before.
        previous: u64,
        /// The step after it.
        found: u64,
    },
    /// An action does not fit the scene's action space.
    #[error(
        "{file}: plan action at step {step} has {found} values, the scene's action space has {expected}"
    )]
    ActionDim {
        /// The recording.
        file: String,
        /// The step.
        step: u64,
        /// Values in the action.
        found: usize,
        /// Values the scene expects.
        expected: usize,
    },
    /// The actions were not sent at the scene's control period.
    #[error(
        "{file}: plan actions are {median_interval_s} s apart (median), the scene's control period is {period_s} s"
    )]
    ActionSpacing {
        /// The recording.
        file: String,
        /// Median interval between consecutive actions.
        median_interval_s: f64,
        /// The scene's control period.
        period_s: f64,
    },
    /// No arm state covers the actions.
    #[error("{file}: no arm state (topic /arm/state) during the plan's actions")]
    NoStates {
        /// The recording.
        file: String,
    },
    /// The arm states have another number of joints than the scene's robot.
    #[error(
        "{file}: arm state at {stamp_ns} ns has {found} joint positions, the scene's robot has {expected} joints"
    )]
    JointCount {
        /// The recording.
        file: String,
        /// Stamp of the offending state.
        stamp_ns: u64,
        /// Joint positions in it.
        found: usize,
        /// Joints of the robot.
        expected: usize,
    },
    /// A channel the scene observes has no data in the recording.
    #[error("{file}: the scene observes {channel}, but {reason}")]
    MissingChannel {
        /// The recording.
        file: String,
        /// The channel, e.g. `object_pose(puck)`.
        channel: String,
        /// Why it is missing.
        reason: String,
    },
}
