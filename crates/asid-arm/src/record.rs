//! Everything that happens in a run, as records, and the sink trait a recorder (MCAP) implements.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::GripperState;
use crate::pose::PoseSample;
use crate::types::{ArmCommand, ArmState, Capabilities};

/// What a run is: written first, so a cut-off file still says what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Robot name.
    pub robot: String,
    /// Scene name.
    pub scene: String,
    /// The arm behind the trait.
    pub arm: Capabilities,
    /// Plan file (path or name) that was executed.
    pub plan: String,
    /// asid version that recorded the run.
    pub software_version: String,
    /// Free-form extras (true parameters of a simulated lab, seeds, ...).
    #[serde(default)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A plan-level action (the scene's action space) sent at one control step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// When it was sent, arm clock.
    pub stamp_ns: u64,
    /// Control step index.
    pub step: u64,
    /// The action values.
    pub values: Vec<f64>,
}

/// A command as it left the process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// When it was sent, arm clock (stamp of the state it answered).
    pub stamp_ns: u64,
    /// The command.
    pub command: ArmCommand,
}

/// A gripper state, stamped on the arm clock (recorded after every gripper command, and whenever
/// the gripper is read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GripperRecord {
    /// When it was read, arm clock.
    pub stamp_ns: u64,
    /// Opening.
    pub width_m: f64,
    /// Opening measured by the last homing.
    pub max_width_m: f64,
    /// An object was held.
    pub is_grasping: bool,
}

impl GripperRecord {
    /// `state` stamped at `stamp_ns`.
    pub fn new(stamp_ns: u64, state: &GripperState) -> Self {
        Self {
            stamp_ns,
            width_m: state.width_m,
            max_width_m: state.max_width_m,
            is_grasping: state.is_grasping,
        }
    }

    /// The state without its stamp.
    pub fn state(&self) -> GripperState {
        GripperState {
            width_m: self.width_m,
            max_width_m: self.max_width_m,
            is_grasping: self.is_grasping,
        }
    }
}

/// Severity of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Progress.
    Info,
    /// Something was refused or dropped but the run goes on.
    Warn,
    /// The run stopped because of it.
    Error,
}

/// Something worth knowing that is not a sample (a refusal, a stop, a fault).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// When, arm clock.
    pub stamp_ns: u64,
    /// Severity.
    pub level: Level,
    /// What happened.
    pub text: String,
}

/// One record of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// A plan action.
    Action(ActionRecord),
    /// A command sent to the arm.
    Command(CommandRecord),
    /// A state received from the arm.
    State(ArmState),
    /// An object pose received from the tracker.
    Pose(PoseSample),
    /// An event.
    Event(EventRecord),
    /// A gripper state.
    Gripper(GripperRecord),
}

impl Record {
    /// The record's time on the arm clock.
    pub fn stamp_ns(&self) -> u64 {
        match self {
            Self::Action(r) => r.stamp_ns,
            Self::Command(r) => r.stamp_ns,
            Self::State(r) => r.stamp_ns,
            Self::Pose(r) => r.stamp_ns,
            Self::Event(r) => r.stamp_ns,
            Self::Gripper(r) => r.stamp_ns,
        }
    }
}

/// Where records go as they happen. Implementations must make what they accepted survive a crash
/// up to their last `flush`.
pub trait Recorder: Send {
    /// Writes one record.
    fn write(&mut self, record: &Record) -> std::io::Result<()>;
    /// Writes run metadata (called once at the start; may be called again with the same `name`
    /// later, e.g. for the final clock offset and a summary).
    fn metadata(&mut self, name: &str, values: &BTreeMap<String, String>) -> std::io::Result<()>;
    /// Makes everything written so far durable.
    fn flush(&mut self) -> std::io::Result<()>;
    /// Finishes the file (index, summary). After a crash this is never called; readers cope.
    fn finish(&mut self) -> std::io::Result<()>;
}

/// Everything read back from a recording, in time order per kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recording {
    /// Run description (None if the file was cut before it).
    pub info: Option<RunInfo>,
    /// Metadata records by name.
    pub metadata: BTreeMap<String, BTreeMap<String, String>>,
    /// Plan actions.
    pub actions: Vec<ActionRecord>,
    /// Commands.
    pub commands: Vec<CommandRecord>,
    /// Arm states.
    pub states: Vec<ArmState>,
    /// Object poses.
    pub poses: Vec<PoseSample>,
    /// Events.
    pub events: Vec<EventRecord>,
    /// Gripper states.
    pub grippers: Vec<GripperRecord>,
}

impl Recording {
    /// Adds one record to the right list.
    pub fn push(&mut self, record: Record) {
        match record {
            Record::Action(r) => self.actions.push(r),
            Record::Command(r) => self.commands.push(r),
            Record::State(r) => self.states.push(r),
            Record::Pose(r) => self.poses.push(r),
            Record::Event(r) => self.events.push(r),
            Record::Gripper(r) => self.grippers.push(r),
        }
    }
}
