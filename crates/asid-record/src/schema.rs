//! The file layout: topics, schema names, JSON Schemas, and how each record becomes a JSON message.
//!
//! | topic | schema (`jsonschema`) | record |
//! |---|---|---|
//! | `/arm/state` | `asid.ArmState` | [`ArmState`] as serde writes it |
//! | `/arm/command` | `asid.ArmCommand` | [`CommandRecord`] |
//! | `/plan/action` | `asid.PlanAction` | [`ActionRecord`] |
//! | `/tracker/<object>` | `foxglove.PoseInFrame` (+ `object`, `stamp_ns`, `sender_t_s`) | [`PoseSample`] |
//! | `/log` | `foxglove.Log` (+ `stamp_ns`) | [`EventRecord`] |
//! | `/gripper/state` | `asid.GripperState` | [`GripperRecord`] (only in files of runs with a gripper) |
//!
//! Every message is JSON (`message_encoding = "json"`); log and publish time are the record's
//! `stamp_ns` (arm clock).

use asid_arm::{
    ActionRecord, ArmState, CommandRecord, EventRecord, GripperRecord, Level, PoseSample, Record,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Topic of arm states.
pub const TOPIC_STATE: &str = "/arm/state";
/// Topic of commands sent to the arm.
pub const TOPIC_COMMAND: &str = "/arm/command";
/// Topic of plan actions.
pub const TOPIC_ACTION: &str = "/plan/action";
/// Prefix of the per-object pose topics (`/tracker/<object>`).
pub const TOPIC_POSE_PREFIX: &str = "/tracker/";
/// Topic of events.
pub const TOPIC_LOG: &str = "/log";
/// Topic of gripper states (its channel is added with the first gripper state, so files of runs
/// without a gripper hold exactly the topics they always did).
pub const TOPIC_GRIPPER: &str = "/gripper/state";
/// Name of the metadata record holding the run info.
pub const RUN_METADATA: &str = "asid.run";
/// Layout version, in the `asid.run` metadata and the MCAP header's profile.
pub const LAYOUT: &str = "asid-mcap/1";
/// Frame of the tracker poses (the robot base).
pub const POSE_FRAME: &str = "base";

/// Which record type a topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicKind {
    /// `/arm/state`.
    State,
    /// `/arm/command`.
    Command,
    /// `/plan/action`.
    Action,
    /// `/tracker/<object>`.
    Pose,
    /// `/log`.
    Log,
    /// `/gripper/state`.
    Gripper,
}

impl TopicKind {
    /// The kind of a topic, if asid writes it.
    pub fn of_topic(topic: &str) -> Option<Self> {
        match topic {
            TOPIC_STATE => Some(Self::State),
            TOPIC_COMMAND => Some(Self::Command),
            TOPIC_ACTION => Some(Self::Action),
            TOPIC_LOG => Some(Self::Log),
            TOPIC_GRIPPER => Some(Self::Gripper),
            t if t.len() > TOPIC_POSE_PREFIX.len() && t.starts_with(TOPIC_POSE_PREFIX) => {
                Some(Self::Pose)
            }
            _ => None,
        }
    }

    /// Name of the schema of this kind's messages.
    pub fn schema_name(self) -> &'static str {
        match self {
            Self::State => "asid.ArmState",
            Self::Command => "asid.ArmCommand",
            Self::Action => "asid.PlanAction",
            Self::Pose => "foxglove.PoseInFrame",
            Self::Log => "foxglove.Log",
            Self::Gripper => "asid.GripperState",
        }
    }

    /// The JSON Schema of this kind's messages.
    pub fn json_schema(self) -> Value {
        let numbers =
            |d: &str| json!({"type": "array", "items": {"type": "number"}, "description": d});
        let stamp = json!({"type": "integer", "minimum": 0, "description": "Arm clock (ns)"});
        let time = json!({
            "type": "object",
            "title": "time",
            "properties": {
                "sec": {"type": "integer", "minimum": 0},
                "nsec": {"type": "integer", "minimum": 0, "maximum": 999_999_999}
            }
        });
        match self {
            Self::State => json!({
                "title": "asid.ArmState",
                "description": "One state sample of the arm",
                "type": "object",
                "properties": {
                    "stamp_ns": stamp,
                    "q_rad": numbers("Measured joint positions (rad)"),
                    "dq_rad_s": numbers("Measured joint velocities (rad/s)"),
                    "q_cmd_rad": numbers("Commanded joint positions (rad)"),
                    "tau_nm": numbers("Measured joint torques (N m)"),
                    "tau_ext_nm": numbers("Estimated external joint torques (N m)"),
                    "f_ext_n": {"type": ["array", "null"], "items": {"type": "number"},
                        "description": "External force on the tool, base frame (N)"},
                    "gripper_width_m": {"type": ["number", "null"], "description": "Gripper opening (m)"},
                    "mode": {"type": "string", "enum": ["idle", "moving", "reflex", "stopped"]}
                },
                "required": ["stamp_ns", "q_rad", "dq_rad_s", "q_cmd_rad", "mode"]
            }),
            Self::Command => json!({
                "title": "asid.ArmCommand",
                "description": "A command as it left the process",
                "type": "object",
                "properties": {
                    "stamp_ns": stamp,
                    "command": {
                        "type": "object",
                        "properties": {
                            "kind": {"type": "string", "enum": ["joint_position", "hold"]},
                            "q_rad": numbers("Target joint positions (rad)")
                        },
                        "required": ["kind"]
                    }
                },
                "required": ["stamp_ns", "command"]
            }),
            Self::Action => json!({
                "title": "asid.PlanAction",
                "description": "A plan-level action (the scene's action space) sent at one control step",
                "type": "object",
                "properties": {
                    "stamp_ns": stamp,
                    "step": {"type": "integer", "minimum": 0, "description": "Control step index"},
                    "values": numbers("The action values")
                },
                "required": ["stamp_ns", "step", "values"]
            }),
            Self::Pose => {
                let xyz = |t: &str| {
                    json!({"type": "object", "title": t, "properties": {
                        "x": {"type": "number"}, "y": {"type": "number"}, "z": {"type": "number"}}})
                };
                json!({
                    "title": "foxglove.PoseInFrame",
                    "description": "A tracked object's pose in the robot base frame (foxglove.PoseInFrame plus asid fields)",
                    "type": "object",
                    "properties": {
                        "timestamp": time,
                        "frame_id": {"type": "string"},
                        "pose": {
                            "type": "object",
                            "title": "foxglove.Pose",
                            "properties": {
                                "position": xyz("foxglove.Vector3"),
                                "orientation": {"type": "object", "title": "foxglove.Quaternion",
                                    "properties": {"x": {"type": "number"}, "y": {"type": "number"},
                                        "z": {"type": "number"}, "w": {"type": "number"}}}
                            }
                        },
                        "object": {"type": "string", "description": "Object name as the scene names it"},
                        "stamp_ns": stamp,
                        "sender_t_s": {"type": "number", "description": "The tracker's own timestamp (s)"}
                    },
                    "required": ["timestamp", "frame_id", "pose", "object"]
                })
            }
            Self::Log => json!({
                "title": "foxglove.Log",
                "description": "An event of the run (foxglove.Log plus the arm-clock stamp)",
                "type": "object",
                "properties": {
                    "timestamp": time,
                    "level": {"type": "integer", "minimum": 0, "maximum": 5,
                        "description": "0 unknown, 1 debug, 2 info, 3 warning, 4 error, 5 fatal"},
                    "message": {"type": "string"},
                    "name": {"type": "string"},
                    "file": {"type": "string"},
                    "line": {"type": "integer", "minimum": 0},
                    "stamp_ns": stamp
                },
                "required": ["timestamp", "level", "message"]
            }),
            Self::Gripper => json!({
                "title": "asid.GripperState",
                "description": "A state of the parallel gripper",
                "type": "object",
                "properties": {
                    "stamp_ns": stamp,
                    "width_m": {"type": "number", "description": "Opening (m)"},
                    "max_width_m": {"type": "number", "description": "Opening measured by the last homing (m)"},
                    "is_grasping": {"type": "boolean", "description": "An object is held"}
                },
                "required": ["stamp_ns", "width_m", "max_width_m", "is_grasping"]
            }),
        }
    }
}

/// The pose topic of an object.
pub fn pose_topic(object: &str) -> String {
    format!("{TOPIC_POSE_PREFIX}{object}")
}

/// `foxglove.Time`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Time {
    sec: u64,
    nsec: u32,
}

impl Time {
    fn from_ns(ns: u64) -> Self {
        Self {
            sec: ns / 1_000_000_000,
            nsec: (ns % 1_000_000_000) as u32,
        }
    }

    fn to_ns(self) -> u64 {
        self.sec
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(self.nsec))
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Vector3 {
    x: f64,
    y: f64,
    z: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Quaternion {
    x: f64,
    y: f64,
    z: f64,
    w: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Pose {
    position: Vector3,
    orientation: Quaternion,
}

/// `foxglove.PoseInFrame` with the fields of a [`PoseSample`] it lacks.
#[derive(Debug, Serialize, Deserialize)]
struct PoseMessage {
    timestamp: Time,
    frame_id: String,
    pose: Pose,
    object: String,
    #[serde(default)]
    stamp_ns: Option<u64>,
    #[serde(default)]
    sender_t_s: f64,
}

/// `foxglove.Log` with the exact arm-clock stamp.
#[derive(Debug, Serialize, Deserialize)]
struct LogMessage {
    timestamp: Time,
    level: u8,
    message: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    file: String,
    #[serde(default)]
    line: u32,
    #[serde(default)]
    stamp_ns: Option<u64>,
}

fn level_code(level: Level) -> u8 {
    match level {
        Level::Info => 2,
        Level::Warn => 3,
        Level::Error => 4,
    }
}

fn level_of_code(code: u8) -> Level {
    match code {
        0..=2 => Level::Info,
        3 => Level::Warn,
        _ => Level::Error,
    }
}

/// The JSON message of a record. Pose topics depend on the object: see [`pose_topic`].
pub fn encode(record: &Record) -> serde_json::Result<Vec<u8>> {
    match record {
        Record::State(s) => serde_json::to_vec(s),
        Record::Command(c) => serde_json::to_vec(c),
        Record::Action(a) => serde_json::to_vec(a),
        Record::Gripper(g) => serde_json::to_vec(g),
        Record::Pose(p) => {
            let [w, x, y, z] = p.q_wxyz;
            serde_json::to_vec(&PoseMessage {
                timestamp: Time::from_ns(p.stamp_ns),
                frame_id: POSE_FRAME.into(),
                pose: Pose {
                    position: Vector3 {
                        x: p.p_m[0],
                        y: p.p_m[1],
                        z: p.p_m[2],
                    },
                    orientation: Quaternion { x, y, z, w },
                },
                object: p.object.clone(),
                stamp_ns: Some(p.stamp_ns),
                sender_t_s: p.sender_t_s,
            })
        }
        Record::Event(e) => serde_json::to_vec(&LogMessage {
            timestamp: Time::from_ns(e.stamp_ns),
            level: level_code(e.level),
            message: e.text.clone(),
            name: "asid".into(),
            file: String::new(),
            line: 0,
            stamp_ns: Some(e.stamp_ns),
        }),
    }
}

/// The record in a JSON message of a topic kind.
pub fn decode(kind: TopicKind, data: &[u8]) -> serde_json::Result<Record> {
    Ok(match kind {
        TopicKind::State => Record::State(serde_json::from_slice::<ArmState>(data)?),
        TopicKind::Command => Record::Command(serde_json::from_slice::<CommandRecord>(data)?),
        TopicKind::Action => Record::Action(serde_json::from_slice::<ActionRecord>(data)?),
        TopicKind::Gripper => Record::Gripper(serde_json::from_slice::<GripperRecord>(data)?),
        TopicKind::Pose => {
            let m: PoseMessage = serde_json::from_slice(data)?;
            let (p, q) = (m.pose.position, m.pose.orientation);
            Record::Pose(PoseSample {
                stamp_ns: m.stamp_ns.unwrap_or(m.timestamp.to_ns()),
                sender_t_s: m.sender_t_s,
                object: m.object,
                p_m: [p.x, p.y, p.z],
                q_wxyz: [q.w, q.x, q.y, q.z],
            })
        }
        TopicKind::Log => {
            let m: LogMessage = serde_json::from_slice(data)?;
            Record::Event(EventRecord {
                stamp_ns: m.stamp_ns.unwrap_or(m.timestamp.to_ns()),
                level: level_of_code(m.level),
                text: m.message,
            })
        }
    })
}

/// First non-finite number in a record, by field name (JSON cannot carry NaN or infinities).
pub fn non_finite_field(record: &Record) -> Option<&'static str> {
    let bad = |v: &[f64]| v.iter().any(|x| !x.is_finite());
    match record {
        Record::State(s) => [
            ("q_rad", bad(&s.q_rad)),
            ("dq_rad_s", bad(&s.dq_rad_s)),
            ("q_cmd_rad", bad(&s.q_cmd_rad)),
            ("tau_nm", bad(&s.tau_nm)),
            ("tau_ext_nm", bad(&s.tau_ext_nm)),
            ("f_ext_n", s.f_ext_n.is_some_and(|f| bad(&f))),
            (
                "gripper_width_m",
                s.gripper_width_m.is_some_and(|w| !w.is_finite()),
            ),
        ]
        .into_iter()
        .find_map(|(name, b)| b.then_some(name)),
        Record::Command(c) => c
            .command
            .joint_target()
            .is_some_and(bad)
            .then_some("command.q_rad"),
        Record::Action(a) => bad(&a.values).then_some("values"),
        Record::Pose(p) => {
            if bad(&p.p_m) {
                Some("p_m")
            } else if bad(&p.q_wxyz) {
                Some("q_wxyz")
            } else if !p.sender_t_s.is_finite() {
                Some("sender_t_s")
            } else {
                None
            }
        }
        Record::Event(_) => None,
        Record::Gripper(g) => {
            if !g.width_m.is_finite() {
                Some("width_m")
            } else if !g.max_width_m.is_finite() {
                Some("max_width_m")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_classified() {
        assert_eq!(TopicKind::of_topic("/arm/state"), Some(TopicKind::State));
        assert_eq!(TopicKind::of_topic("/tracker/puck"), Some(TopicKind::Pose));
        assert_eq!(
            TopicKind::of_topic("/gripper/state"),
            Some(TopicKind::Gripper)
        );
        assert_eq!(TopicKind::of_topic("/tracker/"), None);
        assert_eq!(TopicKind::of_topic("/camera"), None);
    }

    #[test]
    fn time_splits_exactly() {
        let ns = 1_234_567_890_123_u64;
        let t = Time::from_ns(ns);
        assert_eq!((t.sec, t.nsec), (1234, 567_890_123));
        assert_eq!(t.to_ns(), ns);
    }
}
