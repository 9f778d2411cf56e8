//! ROS 2 mirrors of the arm's states and the tracker's poses, so that other tools decode an episode
//! natively: `/joint_states` (`sensor_msgs/msg/JointState`) and `/tf` (`tf2_msgs/msg/TFMessage`,
//! each object's pose in the `base` frame, as on `/tracker/<object>`), CDR-encoded (little endian) with their `ros2msg`
//! definitions as schemas. rerun's MCAP importer decodes Foxglove schemas only as Protobuf but
//! these two semantically (joint plots, transforms); Foxglove and ROS 2 tools read them too.
//!
//! The JSON topics stay the record asid reads; the mirrors are written beside them and only
//! checked (counted, and each message must decode) when a file is read.

use asid_arm::{ArmState, PoseSample};
use re_cdr::LittleEndian;
use serde::{Deserialize, Serialize};

/// Topic of the joint-state mirror.
pub const TOPIC_JOINT_STATES: &str = "/joint_states";
/// Topic of the object-pose mirror.
pub const TOPIC_TF: &str = "/tf";
/// Schema encoding of the mirrors.
pub const SCHEMA_ENCODING: &str = "ros2msg";
/// Message encoding of the mirrors.
pub const MESSAGE_ENCODING: &str = "cdr";

/// CDR encapsulation header: plain CDR, little endian, no options.
const CDR_LE: [u8; 4] = [0x00, 0x01, 0x00, 0x00];

const SEPARATOR: &str =
    "================================================================================\n";

const TIME: &str = "int32 sec\nuint32 nanosec\n";
const HEADER: &str = "builtin_interfaces/Time stamp\nstring frame_id\n";

/// A mirror topic asid writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mirror {
    /// `/joint_states`.
    JointStates,
    /// `/tf`.
    Tf,
}

impl Mirror {
    /// The mirror a topic is, if any.
    pub fn of_topic(topic: &str) -> Option<Self> {
        match topic {
            TOPIC_JOINT_STATES => Some(Self::JointStates),
            TOPIC_TF => Some(Self::Tf),
            _ => None,
        }
    }

    /// Its topic.
    pub fn topic(self) -> &'static str {
        match self {
            Self::JointStates => TOPIC_JOINT_STATES,
            Self::Tf => TOPIC_TF,
        }
    }

    /// Its ROS 2 message type (the schema name).
    pub fn schema_name(self) -> &'static str {
        match self {
            Self::JointStates => "sensor_msgs/msg/JointState",
            Self::Tf => "tf2_msgs/msg/TFMessage",
        }
    }

    /// The message definition with every type it uses, in the `ros2msg` schema format.
    pub fn definition(self) -> String {
        let dep = |name: &str, body: &str| format!("{SEPARATOR}MSG: {name}\n{body}");
        match self {
            Self::JointStates => [
                "std_msgs/Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\n\
                 float64[] effort\n"
                    .to_string(),
                dep("std_msgs/Header", HEADER),
                dep("builtin_interfaces/Time", TIME),
            ]
            .concat(),
            Self::Tf => [
                "geometry_msgs/TransformStamped[] transforms\n".to_string(),
                dep(
                    "geometry_msgs/TransformStamped",
                    "std_msgs/Header header\nstring child_frame_id\n\
                     geometry_msgs/Transform transform\n",
                ),
                dep("std_msgs/Header", HEADER),
                dep("builtin_interfaces/Time", TIME),
                dep(
                    "geometry_msgs/Transform",
                    "geometry_msgs/Vector3 translation\ngeometry_msgs/Quaternion rotation\n",
                ),
                dep("geometry_msgs/Vector3", "float64 x\nfloat64 y\nfloat64 z\n"),
                dep(
                    "geometry_msgs/Quaternion",
                    "float64 x\nfloat64 y\nfloat64 z\nfloat64 w\n",
                ),
            ]
            .concat(),
        }
    }

    /// Checks that `data` is one whole message of this type.
    pub fn check(self, data: &[u8]) -> Result<(), String> {
        let body = match data.split_first_chunk::<4>() {
            Some((&CDR_LE, body)) => body,
            Some((h, _)) => return Err(format!("CDR header {h:02x?}, expected {CDR_LE:02x?}")),
            None => return Err(format!("{} bytes, shorter than a CDR header", data.len())),
        };
        let used = match self {
            Self::JointStates => re_cdr::from_bytes::<JointState, LittleEndian>(body).map(|m| m.1),
            Self::Tf => re_cdr::from_bytes::<TfMessage, LittleEndian>(body).map(|m| m.1),
        }
        .map_err(|e| e.to_string())?;
        // CDR pads a message to 4 bytes at most; anything more is not this message.
        if body.len() - used >= 4 {
            return Err(format!("{} bytes after the message", body.len() - used));
        }
        Ok(())
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Time {
    sec: i32,
    nanosec: u32,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Header {
    stamp: Time,
    frame_id: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct JointState {
    header: Header,
    name: Vec<String>,
    position: Vec<f64>,
    velocity: Vec<f64>,
    effort: Vec<f64>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Vector3 {
    x: f64,
    y: f64,
    z: f64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Quaternion {
    x: f64,
    y: f64,
    z: f64,
    w: f64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Transform {
    translation: Vector3,
    rotation: Quaternion,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct TransformStamped {
    header: Header,
    child_frame_id: String,
    transform: Transform,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct TfMessage {
    transforms: Vec<TransformStamped>,
}

/// ROS time of an arm-clock stamp (seconds beyond `i32` are refused).
fn time(stamp_ns: u64) -> Result<Time, String> {
    let sec = i32::try_from(stamp_ns / 1_000_000_000)
        .map_err(|_| format!("stamp {stamp_ns} ns is beyond ROS time (i32 seconds)"))?;
    // The remainder of a division by 1e9 always fits.
    let nanosec = u32::try_from(stamp_ns % 1_000_000_000).unwrap_or(0);
    Ok(Time { sec, nanosec })
}

fn cdr<T: Serialize>(msg: &T) -> Result<Vec<u8>, String> {
    let body = re_cdr::to_vec::<T, LittleEndian>(msg).map_err(|e| e.to_string())?;
    Ok([CDR_LE.as_slice(), &body].concat())
}

/// The joint-state message of a state: joints `joint1..N` (the recording does not carry the
/// robot's joint names), positions, velocities and measured torques.
pub fn joint_state(s: &ArmState) -> Result<Vec<u8>, String> {
    cdr(&JointState {
        header: Header {
            stamp: time(s.stamp_ns)?,
            frame_id: String::new(),
        },
        name: (1..=s.q_rad.len()).map(|k| format!("joint{k}")).collect(),
        position: s.q_rad.clone(),
        velocity: s.dq_rad_s.clone(),
        effort: s.tau_nm.clone(),
    })
}

/// The transform message of a tracker pose: the object's frame (its name) in `base`.
pub fn tf(p: &PoseSample) -> Result<Vec<u8>, String> {
    let [w, x, y, z] = p.q_wxyz;
    cdr(&TfMessage {
        transforms: vec![TransformStamped {
            header: Header {
                stamp: time(p.stamp_ns)?,
                frame_id: crate::schema::POSE_FRAME.to_string(),
            },
            child_frame_id: p.object.clone(),
            transform: Transform {
                translation: Vector3 {
                    x: p.p_m[0],
                    y: p.p_m[1],
                    z: p.p_m[2],
                },
                rotation: Quaternion { x, y, z, w },
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_decode_back_with_their_values_and_garbage_is_refused() {
        let pose = PoseSample {
            stamp_ns: 2_500_000_001,
            sender_t_s: 0.0,
            object: "puck".into(),
            p_m: [0.1, -0.2, 0.3],
            q_wxyz: [1.0, 0.0, 0.0, 0.0],
        };
        let data = tf(&pose).expect("encodes");
        Mirror::Tf.check(&data).expect("decodes");
        let (m, _) = re_cdr::from_bytes::<TfMessage, LittleEndian>(&data[4..]).expect("decodes");
        let t = &m.transforms[0];
        assert_eq!(
            (t.header.stamp.sec, t.header.stamp.nanosec),
            (2, 500_000_001)
        );
        assert_eq!(t.child_frame_id, "puck");
        assert_eq!(t.header.frame_id, "base");
        assert_eq!(t.transform.translation.y, -0.2);
        assert_eq!(t.transform.rotation.w, 1.0);
        // A joint state is not a transform message, and a cut message is refused.
        let state = ArmState {
            stamp_ns: 7,
            q_rad: vec![0.5; 7],
            dq_rad_s: vec![0.0; 7],
            q_cmd_rad: vec![0.5; 7],
            tau_nm: vec![1.0; 7],
            tau_ext_nm: Vec::new(),
            f_ext_n: None,
            gripper_width_m: None,
            mode: asid_arm::ArmMode::Moving,
        };
        let js = joint_state(&state).expect("encodes");
        Mirror::JointStates.check(&js).expect("decodes");
        assert!(Mirror::JointStates.check(&js[..js.len() - 8]).is_err());
        assert!(Mirror::Tf.check(&[0, 0, 0, 0, 1, 2]).is_err());
        assert!(time(u64::MAX).is_err());
    }

    #[test]
    fn definitions_name_every_type_they_use() {
        for m in [Mirror::JointStates, Mirror::Tf] {
            let def = m.definition();
            for line in def.lines() {
                let Some(ty) = line.split_whitespace().next() else {
                    continue;
                };
                let ty = ty.trim_end_matches("[]");
                if ty.contains('/') && !line.starts_with("MSG:") {
                    assert!(def.contains(&format!("MSG: {ty}\n")), "{ty} in {def}");
                }
            }
        }
    }
}
