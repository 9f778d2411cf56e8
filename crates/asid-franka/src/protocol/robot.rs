//! The arm's TCP command channel: requests the client sends and the replies it reads.
//!
//! Layouts follow `research_interface/robot/service_types.h` of libfranka-common at protocol
//! version 10. Every reply starts with a one-byte status; the Move command is answered twice with
//! its command id (`MotionStarted`, then how the motion ended).

use super::{Reader, WireError, put_f64s};

/// Protocol version this client speaks.
pub const VERSION: u16 = 10;
/// TCP port of the arm.
pub const PORT: u16 = 1337;

/// Command codes of the arm (`Command : uint32_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Command {
    /// Handshake with the protocol version and the client's UDP port.
    Connect = 0,
    /// Starts a motion generator / controller pair.
    Move = 1,
    /// Stops the running motion.
    StopMove = 2,
    /// Contact and collision thresholds.
    SetCollisionBehavior = 3,
    /// Joint stiffness of the internal impedance controller.
    SetJointImpedance = 4,
    /// Clears a reflex.
    AutomaticErrorRecovery = 10,
    /// Asks for the robot model (URDF).
    GetRobotModel = 11,
}

impl Command {
    /// Name as in libfranka, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "Connect",
            Self::Move => "Move",
            Self::StopMove => "StopMove",
            Self::SetCollisionBehavior => "SetCollisionBehavior",
            Self::SetJointImpedance => "SetJointImpedance",
            Self::AutomaticErrorRecovery => "AutomaticErrorRecovery",
            Self::GetRobotModel => "GetRobotModel",
        }
    }

    /// Name of a reply status of this command (each command has its own status enum).
    pub fn status_name(self, status: u8) -> &'static str {
        let names: &[&'static str] = match self {
            Self::Connect => &["Success", "IncompatibleLibraryVersion"],
            Self::Move => &MOVE_STATUS,
            Self::StopMove => &[
                "Success",
                "CommandNotPossibleRejected",
                "CommandRejectedDueToActivatedSafetyFunctions",
                "EmergencyAborted",
                "ReflexAborted",
                "Aborted",
            ],
            Self::SetCollisionBehavior | Self::SetJointImpedance => &[
                "Success",
                "CommandNotPossibleRejected",
                "InvalidArgumentRejected",
                "CommandRejectedDueToActivatedSafetyFunctions",
            ],
            Self::AutomaticErrorRecovery => &[
                "Success",
                "CommandNotPossibleRejected",
                "CommandRejectedDueToActivatedSafetyFunctions",
                "ManualErrorRecoveryRequiredRejected",
                "ReflexAborted",
                "EmergencyAborted",
                "Aborted",
            ],
            Self::GetRobotModel => &[
                "Success",
                "CommandNotPossibleRejected",
                "CommandRejectedDueToActivatedSafetyFunctions",
            ],
        };
        names.get(usize::from(status)).copied().unwrap_or("Unknown")
    }
}

const MOVE_STATUS: [&str; 12] = [
    "Success",
    "MotionStarted",
    "Preempted",
    "PreemptedDueToActivatedSafetyFunctions",
    "CommandRejectedDueToActivatedSafetyFunctions",
    "CommandNotPossibleRejected",
    "StartAtSingularPoseRejected",
    "InvalidArgumentRejected",
    "ReflexAborted",
    "EmergencyAborted",
    "InputErrorAborted",
    "Aborted",
];

/// Move reply: the motion ended normally.
pub const MOVE_SUCCESS: u8 = 0;
/// Move reply: the motion generator is running.
pub const MOVE_MOTION_STARTED: u8 = 1;
/// Move reply: the motion was ended by StopMove or a newer command.
pub const MOVE_PREEMPTED: u8 = 2;

/// Whether a Move status means the arm stopped itself (reflex, safety function, emergency).
pub fn move_status_is_reflex(status: u8) -> bool {
    matches!(status, 3 | 4 | 8 | 9)
}

/// Connect request: protocol version and the UDP port states must go to.
pub fn connect_request(udp_port: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(4);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&udp_port.to_le_bytes());
    out
}

/// The arm's answer to Connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectReply {
    /// 0 success, 1 incompatible library version.
    pub status: u8,
    /// Protocol version of the arm.
    pub version: u16,
}

/// Decodes the Connect reply payload.
///
/// libfranka declares it as `uint8_t status; uint16_t version` (3 bytes, packed). franky-sim sends
/// `uint16_t status; uint16_t version` plus 4 pad bytes; reading that as the packed form gives
/// version 2560 (`10 << 8`). The status is byte 0 in both; the length tells the layouts apart.
pub fn decode_connect_reply(payload: &[u8]) -> Result<ConnectReply, WireError> {
    let mut r = Reader::new("Connect reply", payload);
    r.need(3)?;
    let status = r.u8()?;
    if payload.len() > 3 {
        // Wide layout: skip the high byte of the u16 status.
        let _ = r.u8()?;
    }
    let version = r.u16()?;
    Ok(ConnectReply { status, version })
}

/// Controller of a motion (`Move::ControllerMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ControllerMode {
    /// The arm's internal joint impedance controller.
    JointImpedance = 0,
    /// The arm's internal Cartesian impedance controller.
    CartesianImpedance = 1,
    /// Torques from the client.
    ExternalController = 2,
}

/// Motion generator of a motion (`Move::MotionGeneratorMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum MotionGeneratorMode {
    /// Joint positions from the client every millisecond.
    JointPosition = 0,
    /// Joint velocities from the client.
    JointVelocity = 1,
    /// End-effector poses from the client.
    CartesianPosition = 2,
    /// End-effector twists from the client.
    CartesianVelocity = 3,
    /// No motion generator (torque control only).
    None = 4,
}

/// Largest deviation the arm tolerates before aborting (translation m, rotation rad, elbow rad).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deviation {
    /// Translation.
    pub translation_m: f64,
    /// Rotation.
    pub rotation_rad: f64,
    /// Elbow.
    pub elbow_rad: f64,
}

/// libfranka's defaults for joint motions (`kDefaultDeviation`).
pub const DEFAULT_DEVIATION: Deviation = Deviation {
    translation_m: 10.0,
    rotation_rad: 3.12,
    elbow_rad: 2.0 * std::f64::consts::PI,
};

/// Move request. Version 10 appends the asynchronous motion generator flag and its per-joint
/// maximum velocities; this client never uses it and sends zeros.
pub fn move_request(
    controller: ControllerMode,
    generator: MotionGeneratorMode,
    path: Deviation,
    goal: Deviation,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(MOVE_REQUEST_LEN);
    out.extend_from_slice(&(controller as u32).to_le_bytes());
    out.extend_from_slice(&(generator as u32).to_le_bytes());
    for d in [path, goal] {
        put_f64s(&mut out, &[d.translation_m, d.rotation_rad, d.elbow_rad]);
    }
    out.push(0);
    put_f64s(&mut out, &[0.0; 7]);
    out
}

/// Length of the Move request payload at version 10.
pub const MOVE_REQUEST_LEN: usize = 4 + 4 + 24 + 24 + 1 + 56;

/// Contact / collision thresholds: torques per joint (Nm) and forces per Cartesian axis
/// (N, Nm), each for the acceleration and the nominal phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CollisionBehavior {
    /// Contact thresholds while accelerating.
    pub lower_torque_acceleration_nm: [f64; 7],
    /// Collision thresholds while accelerating.
    pub upper_torque_acceleration_nm: [f64; 7],
    /// Contact thresholds otherwise.
    pub lower_torque_nominal_nm: [f64; 7],
    /// Collision thresholds otherwise.
    pub upper_torque_nominal_nm: [f64; 7],
    /// Cartesian contact thresholds while accelerating.
    pub lower_force_acceleration_n: [f64; 6],
    /// Cartesian collision thresholds while accelerating.
    pub upper_force_acceleration_n: [f64; 6],
    /// Cartesian contact thresholds otherwise.
    pub lower_force_nominal_n: [f64; 6],
    /// Cartesian collision thresholds otherwise.
    pub upper_force_nominal_n: [f64; 6],
}

impl CollisionBehavior {
    /// The same thresholds for contact and collision in both phases.
    pub fn uniform(torque_nm: [f64; 7], force_n: [f64; 6]) -> Self {
        Self {
            lower_torque_acceleration_nm: torque_nm,
            upper_torque_acceleration_nm: torque_nm,
            lower_torque_nominal_nm: torque_nm,
            upper_torque_nominal_nm: torque_nm,
            lower_force_acceleration_n: force_n,
            upper_force_acceleration_n: force_n,
            lower_force_nominal_n: force_n,
            upper_force_nominal_n: force_n,
        }
    }

    /// The thresholds libfranka's examples set before moving (`setDefaultBehavior`).
    pub fn libfranka_examples() -> Self {
        Self::uniform([20.0, 20.0, 18.0, 18.0, 16.0, 14.0, 12.0], [20.0; 6])
    }

    /// Request payload (4 × 7 then 4 × 6 doubles).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(COLLISION_REQUEST_LEN);
        for t in [
            &self.lower_torque_acceleration_nm,
            &self.upper_torque_acceleration_nm,
            &self.lower_torque_nominal_nm,
            &self.upper_torque_nominal_nm,
        ] {
            put_f64s(&mut out, t);
        }
        for f in [
            &self.lower_force_acceleration_n,
            &self.upper_force_acceleration_n,
            &self.lower_force_nominal_n,
            &self.upper_force_nominal_n,
        ] {
            put_f64s(&mut out, f);
        }
        out
    }
}

/// Length of the SetCollisionBehavior payload.
pub const COLLISION_REQUEST_LEN: usize = (4 * 7 + 4 * 6) * 8;

/// SetJointImpedance payload: joint stiffness in Nm/rad.
pub fn joint_impedance_request(k_nm_per_rad: &[f64; 7]) -> Vec<u8> {
    let mut out = Vec::with_capacity(56);
    put_f64s(&mut out, k_nm_per_rad);
    out
}

/// Status byte of a reply (every robot reply starts with one).
pub fn reply_status(what: &'static str, payload: &[u8]) -> Result<u8, WireError> {
    Reader::new(what, payload).u8()
}

/// The robot model from a GetRobotModel reply: status, then the URDF text.
pub fn decode_robot_model(payload: &[u8]) -> Result<(u8, String), WireError> {
    let mut r = Reader::new("GetRobotModel reply", payload);
    let status = r.u8()?;
    Ok((status, String::from_utf8_lossy(r.rest()).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_request_is_version_then_port() {
        assert_eq!(connect_request(0x1234), vec![10, 0, 0x34, 0x12]);
    }

    #[test]
    fn connect_reply_reads_both_layouts() {
        let libfranka = [0u8, 10, 0];
        assert_eq!(
            decode_connect_reply(&libfranka),
            Ok(ConnectReply {
                status: 0,
                version: 10
            })
        );
        let franky_sim = [0u8, 0, 10, 0, 0, 0, 0, 0];
        assert_eq!(
            decode_connect_reply(&franky_sim),
            Ok(ConnectReply {
                status: 0,
                version: 10
            })
        );
        let incompatible = [1u8, 0, 9, 0];
        assert_eq!(
            decode_connect_reply(&incompatible).map(|r| r.version),
            Ok(9)
        );
        assert!(decode_connect_reply(&[0, 10]).is_err());
    }

    #[test]
    fn move_request_layout() {
        let p = move_request(
            ControllerMode::JointImpedance,
            MotionGeneratorMode::JointPosition,
            DEFAULT_DEVIATION,
            DEFAULT_DEVIATION,
        );
        assert_eq!(p.len(), MOVE_REQUEST_LEN);
        assert_eq!(p.len(), 113);
        assert_eq!(&p[0..8], &[0; 8]);
        assert_eq!(&p[8..16], &10.0f64.to_le_bytes());
        assert_eq!(&p[32..40], &10.0f64.to_le_bytes());
        assert_eq!(p[56], 0, "async motion generator off");
    }

    #[test]
    fn collision_and_impedance_layouts() {
        let c = CollisionBehavior::libfranka_examples().encode();
        assert_eq!(c.len(), COLLISION_REQUEST_LEN);
        assert_eq!(c.len(), 416);
        assert_eq!(&c[0..8], &20.0f64.to_le_bytes());
        assert_eq!(&c[6 * 8..7 * 8], &12.0f64.to_le_bytes());
        assert_eq!(&c[28 * 8..29 * 8], &20.0f64.to_le_bytes());
        assert_eq!(joint_impedance_request(&[1.0; 7]).len(), 56);
    }

    #[test]
    fn status_names() {
        assert_eq!(Command::Move.status_name(8), "ReflexAborted");
        assert_eq!(Command::Move.status_name(200), "Unknown");
        assert!(move_status_is_reflex(8));
        assert!(!move_status_is_reflex(MOVE_PREEMPTED));
        assert!(reply_status("x", &[]).is_err());
        assert_eq!(decode_robot_model(&[0, b'<', b'r']), Ok((0, "<r".into())));
    }
}
