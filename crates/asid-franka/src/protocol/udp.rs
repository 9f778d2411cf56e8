//! The arm's UDP stream: one state datagram per millisecond from the arm, one command datagram
//! back in answer to each.
//!
//! Since libfranka-common's "Reduce RobotState size" change the state is sent as `float`;
//! version 10 appended two accelerometer blocks (6 × 3 floats each). Commands stay `double`.
//! Field names follow libfranka (`o_t_ee` is `O_T_EE`: column-major 4 × 4, metres) so they can be
//! looked up in its documentation; joint quantities are rad, rad/s, Nm.

use super::{Reader, WireError, put_f64s};

/// Length of a state datagram: message id (8) + state (1369).
pub const STATE_LEN: usize = 8 + STATE_BODY_LEN;
/// Length of the state after the message id.
pub const STATE_BODY_LEN: usize = 4 * FLOATS + 2 + 41 + 41 + 1 + 4;
const FLOATS: usize = 6 * 16
    + 1
    + 9
    + 3
    + 1
    + 9
    + 3
    + 2
    + 2
    + 8 * 7
    + 7
    + 6
    + 7
    + 6
    + 7
    + 6
    + 6
    + 6
    + 3
    + 3 * 2
    + 16
    + 6
    + 6
    + 7
    + 7
    + 2 * 18;
/// Length of a command datagram.
pub const COMMAND_LEN: usize = 8 + (7 + 7 + 16 + 6 + 2) * 8 + 2 + 7 * 8 + 1;

/// Operating mode the arm reports (`RobotMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobotMode {
    /// Anything not listed (e.g. brakes closed).
    Other,
    /// Ready, no motion.
    Idle,
    /// A motion is running.
    Move,
    /// Hand guiding.
    Guiding,
    /// A reflex stopped the arm.
    Reflex,
    /// The user stop (enabling device) is pressed.
    UserStopped,
    /// Error recovery in progress.
    AutomaticErrorRecovery,
}

impl RobotMode {
    fn from_u8(v: u8) -> Result<Self, WireError> {
        Ok(match v {
            0 => Self::Other,
            1 => Self::Idle,
            2 => Self::Move,
            3 => Self::Guiding,
            4 => Self::Reflex,
            5 => Self::UserStopped,
            6 => Self::AutomaticErrorRecovery,
            _ => return Err(unknown("robot_mode", v)),
        })
    }
}

fn unknown(field: &'static str, v: u8) -> WireError {
    WireError::Unknown {
        what: "robot state",
        field,
        value: u64::from(v),
    }
}

/// Motion generator the arm reports as running. 0 idle, 1 joint position, 2 joint velocity,
/// 3 Cartesian position, 4 Cartesian velocity, 5 none.
pub const STATE_MG_JOINT_POSITION: u8 = 1;
/// Controller the arm reports as running: 0 joint impedance, 1 Cartesian impedance, 2 external,
/// 3 other.
pub const STATE_CONTROLLER_JOINT_IMPEDANCE: u8 = 0;

/// One decoded state datagram.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    missing_docs,
    reason = "fields mirror franka::RobotState, documented there"
)]
pub struct RobotState {
    /// Counter of the arm's 1 kHz cycle; commands must echo the latest one.
    pub message_id: u64,
    pub o_t_ee: [f64; 16],
    pub o_t_ee_d: [f64; 16],
    pub f_t_ee: [f64; 16],
    pub ee_t_k: [f64; 16],
    pub f_t_ne: [f64; 16],
    pub ne_t_ee: [f64; 16],
    pub m_ee: f64,
    pub i_ee: [f64; 9],
    pub f_x_cee: [f64; 3],
    pub m_load: f64,
    pub i_load: [f64; 9],
    pub f_x_cload: [f64; 3],
    pub elbow: [f64; 2],
    pub elbow_d: [f64; 2],
    pub tau_j: [f64; 7],
    pub tau_j_d: [f64; 7],
    pub dtau_j: [f64; 7],
    pub q: [f64; 7],
    pub q_d: [f64; 7],
    pub dq: [f64; 7],
    pub dq_d: [f64; 7],
    pub ddq_d: [f64; 7],
    pub joint_contact: [f64; 7],
    pub cartesian_contact: [f64; 6],
    pub joint_collision: [f64; 7],
    pub cartesian_collision: [f64; 6],
    pub tau_ext_hat_filtered: [f64; 7],
    pub o_f_ext_hat_k: [f64; 6],
    pub k_f_ext_hat_k: [f64; 6],
    pub o_dp_ee_d: [f64; 6],
    pub o_ddp_o: [f64; 3],
    pub elbow_c: [f64; 2],
    pub delbow_c: [f64; 2],
    pub ddelbow_c: [f64; 2],
    pub o_t_ee_c: [f64; 16],
    pub o_dp_ee_c: [f64; 6],
    pub o_ddp_ee_c: [f64; 6],
    pub theta: [f64; 7],
    pub dtheta: [f64; 7],
    pub accelerometer_top: [[f64; 3]; 6],
    pub accelerometer_bottom: [[f64; 3]; 6],
    /// Raw `MotionGeneratorMode` (see [`STATE_MG_JOINT_POSITION`]).
    pub motion_generator_mode: u8,
    /// Raw `ControllerMode` (see [`STATE_CONTROLLER_JOINT_IMPEDANCE`]).
    pub controller_mode: u8,
    /// Active errors, indexed like [`ERROR_NAMES`].
    pub errors: [bool; 41],
    /// Errors that caused the last reflex, indexed like [`ERROR_NAMES`].
    pub reflex_reason: [bool; 41],
    pub robot_mode: RobotMode,
    /// Share of the last commands that reached the arm in time (0..1).
    pub control_command_success_rate: f64,
}

impl RobotState {
    /// Decodes a state datagram (message id included). Extra trailing bytes are an error: they
    /// mean a different protocol version, whose fields would be misread.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        if buf.len() != STATE_LEN {
            return Err(WireError::Short {
                what: "robot state",
                len: buf.len(),
                need: STATE_LEN,
            });
        }
        let mut r = Reader::new("robot state", buf);
        let accel = |r: &mut Reader<'_>| -> Result<[[f64; 3]; 6], WireError> {
            let mut out = [[0.0; 3]; 6];
            for row in &mut out {
                *row = r.f32s()?;
            }
            Ok(out)
        };
        Ok(Self {
            message_id: r.u64()?,
            o_t_ee: r.f32s()?,
            o_t_ee_d: r.f32s()?,
            f_t_ee: r.f32s()?,
            ee_t_k: r.f32s()?,
            f_t_ne: r.f32s()?,
            ne_t_ee: r.f32s()?,
            m_ee: r.f32s::<1>()?[0],
            i_ee: r.f32s()?,
            f_x_cee: r.f32s()?,
            m_load: r.f32s::<1>()?[0],
            i_load: r.f32s()?,
            f_x_cload: r.f32s()?,
            elbow: r.f32s()?,
            elbow_d: r.f32s()?,
            tau_j: r.f32s()?,
            tau_j_d: r.f32s()?,
            dtau_j: r.f32s()?,
            q: r.f32s()?,
            q_d: r.f32s()?,
            dq: r.f32s()?,
            dq_d: r.f32s()?,
            ddq_d: r.f32s()?,
            joint_contact: r.f32s()?,
            cartesian_contact: r.f32s()?,
            joint_collision: r.f32s()?,
            cartesian_collision: r.f32s()?,
            tau_ext_hat_filtered: r.f32s()?,
            o_f_ext_hat_k: r.f32s()?,
            k_f_ext_hat_k: r.f32s()?,
            o_dp_ee_d: r.f32s()?,
            o_ddp_o: r.f32s()?,
            elbow_c: r.f32s()?,
            delbow_c: r.f32s()?,
            ddelbow_c: r.f32s()?,
            o_t_ee_c: r.f32s()?,
            o_dp_ee_c: r.f32s()?,
            o_ddp_ee_c: r.f32s()?,
            theta: r.f32s()?,
            dtheta: r.f32s()?,
            accelerometer_top: accel(&mut r)?,
            accelerometer_bottom: accel(&mut r)?,
            motion_generator_mode: r.u8()?,
            controller_mode: r.u8()?,
            errors: r.bools()?,
            reflex_reason: r.bools()?,
            robot_mode: RobotMode::from_u8(r.u8()?)?,
            control_command_success_rate: r.f32s::<1>()?[0],
        })
    }

    /// Names of the active errors, or of the reflex reasons if none is active.
    pub fn error_names(&self) -> Vec<&'static str> {
        let pick = |flags: &[bool; 41]| -> Vec<&'static str> {
            flags
                .iter()
                .zip(ERROR_NAMES)
                .filter(|(on, _)| **on)
                .map(|(_, n)| n)
                .collect()
        };
        let active = pick(&self.errors);
        if active.is_empty() {
            pick(&self.reflex_reason)
        } else {
            active
        }
    }
}

/// Names of the 41 error flags, in wire order (`franka::Errors`).
pub const ERROR_NAMES: [&str; 41] = [
    "joint_position_limits_violation",
    "cartesian_position_limits_violation",
    "self_collision_avoidance_violation",
    "joint_velocity_violation",
    "cartesian_velocity_violation",
    "force_control_safety_violation",
    "joint_reflex",
    "cartesian_reflex",
    "max_goal_pose_deviation_violation",
    "max_path_pose_deviation_violation",
    "cartesian_velocity_profile_safety_violation",
    "joint_position_motion_generator_start_pose_invalid",
    "joint_motion_generator_position_limits_violation",
    "joint_motion_generator_velocity_limits_violation",
    "joint_motion_generator_velocity_discontinuity",
    "joint_motion_generator_acceleration_discontinuity",
    "cartesian_position_motion_generator_start_pose_invalid",
    "cartesian_motion_generator_elbow_limit_violation",
    "cartesian_motion_generator_velocity_limits_violation",
    "cartesian_motion_generator_velocity_discontinuity",
    "cartesian_motion_generator_acceleration_discontinuity",
    "cartesian_motion_generator_elbow_sign_inconsistent",
    "cartesian_motion_generator_start_elbow_invalid",
    "cartesian_motion_generator_joint_position_limits_violation",
    "cartesian_motion_generator_joint_velocity_limits_violation",
    "cartesian_motion_generator_joint_velocity_discontinuity",
    "cartesian_motion_generator_joint_acceleration_discontinuity",
    "cartesian_position_motion_generator_invalid_frame",
    "force_controller_desired_force_tolerance_violation",
    "controller_torque_discontinuity",
    "start_elbow_sign_inconsistent",
    "communication_constraints_violation",
    "power_limit_violation",
    "joint_p2p_insufficient_torque_for_planning",
    "tau_j_range_violation",
    "instability_detected",
    "joint_move_in_wrong_direction",
    "cartesian_spline_motion_generator_violation",
    "joint_via_motion_generator_planning_joint_limit_violation",
    "base_acceleration_initialization_timeout",
    "base_acceleration_invalid_reading",
];

/// A joint-position command datagram (the other motion fields are sent as zeros).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JointPositionCommand {
    /// Message id of the state this answers; the arm ignores commands with id 0.
    pub message_id: u64,
    /// Commanded joint positions.
    pub q_c: [f64; 7],
    /// Ends the motion: the arm stops its motion generator and answers Move with Success.
    pub motion_generation_finished: bool,
}

impl JointPositionCommand {
    /// The full 371-byte command datagram.
    pub fn encode(&self) -> [u8; COMMAND_LEN] {
        let mut out = Vec::with_capacity(COMMAND_LEN);
        out.extend_from_slice(&self.message_id.to_le_bytes());
        put_f64s(&mut out, &self.q_c);
        put_f64s(&mut out, &[0.0; 7 + 16 + 6 + 2]); // dq_c, O_T_EE_c, O_dP_EE_c, elbow_c
        out.push(0); // valid_elbow
        out.push(u8::from(self.motion_generation_finished));
        put_f64s(&mut out, &[0.0; 7]); // tau_J_d
        out.push(0); // torque_command_finished
        let mut arr = [0; COMMAND_LEN];
        arr.copy_from_slice(&out);
        arr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state datagram with every float field counting up from 0.5 in wire order.
    fn synthetic_state() -> Vec<u8> {
        let mut b = 42u64.to_le_bytes().to_vec();
        for i in 0..FLOATS {
            b.extend_from_slice(&(0.5 + i as f32).to_le_bytes());
        }
        b.push(STATE_MG_JOINT_POSITION);
        b.push(STATE_CONTROLLER_JOINT_IMPEDANCE);
        let mut errors = [0u8; 41];
        errors[6] = 1;
        b.extend_from_slice(&errors);
        b.extend_from_slice(&[0u8; 41]);
        b.push(4);
        b.extend_from_slice(&0.75f32.to_le_bytes());
        b
    }

    #[test]
    fn sizes_match_the_wire() {
        assert_eq!(STATE_BODY_LEN, 1369);
        assert_eq!(STATE_LEN, 1377);
        assert_eq!(COMMAND_LEN, 371);
    }

    #[test]
    fn state_fields_land_in_wire_order() {
        let s = RobotState::decode(&synthetic_state()).expect("valid state");
        assert_eq!(s.message_id, 42);
        assert_eq!(s.o_t_ee[0], 0.5);
        // 6 matrices, m_ee, I_ee, F_x_Cee, m_load, I_load, F_x_Cload, elbow, elbow_d, tau_J,
        // tau_J_d, dtau_J precede q: 96 + 1 + 9 + 3 + 1 + 9 + 3 + 2 + 2 + 21 = 147.
        assert_eq!(s.q[0], 147.5);
        assert_eq!(s.q_d[0], 154.5);
        assert_eq!(s.dq[6], 167.5);
        assert_eq!(s.accelerometer_bottom[5][2], (FLOATS - 1) as f64 + 0.5);
        assert_eq!(s.robot_mode, RobotMode::Reflex);
        assert_eq!(s.control_command_success_rate, 0.75);
        assert_eq!(s.error_names(), vec!["joint_reflex"]);
    }

    #[test]
    fn garbled_states_are_errors() {
        let good = synthetic_state();
        assert!(RobotState::decode(&good[..100]).is_err());
        let mut long = good.clone();
        long.push(0);
        assert!(RobotState::decode(&long).is_err());
        let mut bad_mode = good;
        bad_mode[STATE_LEN - 5] = 99;
        assert!(matches!(
            RobotState::decode(&bad_mode),
            Err(WireError::Unknown {
                field: "robot_mode",
                value: 99,
                ..
            })
        ));
    }

    #[test]
    fn command_layout() {
        let c = JointPositionCommand {
            message_id: 7,
            q_c: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            motion_generation_finished: true,
        };
        let b = c.encode();
        assert_eq!(&b[0..8], &7u64.to_le_bytes());
        assert_eq!(&b[8..16], &1.0f64.to_le_bytes());
        assert_eq!(&b[56..64], &7.0f64.to_le_bytes());
        let flags = 8 + (7 + 7 + 16 + 6 + 2) * 8;
        assert_eq!((b[flags], b[flags + 1]), (0, 1));
        assert_eq!(b[COMMAND_LEN - 1], 0);
    }
}
