//! Fuzz target (see `asid_core::fuzz`): the Franka robot and gripper decoders (TCP headers and
//! replies, UDP robot and hand states).

use asid_franka::protocol::{Channel, Header, encode_message, gripper, robot, udp};

#[test]
fn fuzz_franka_decoders() {
    let mut state = vec![0u8; udp::STATE_LEN];
    state[0] = 1;
    let seeds = vec![
        state,
        encode_message(Channel::Robot, 2, 1, &[0, 0, 1, 0]),
        encode_message(Channel::Gripper, 0, 1, &[0, 0, 9, 0]),
        vec![0u8; gripper::STATE_LEN],
    ];
    asid_core::fuzz::run("franka_decoders", &seeds, |b| {
        let _ = udp::RobotState::decode(b);
        let _ = Header::decode(Channel::Robot, b);
        let _ = Header::decode(Channel::Gripper, b);
        let _ = robot::decode_connect_reply(b);
        let _ = robot::decode_robot_model(b);
        let _ = gripper::HandState::decode(b);
        let _ = gripper::Status::decode(b);
        let _ = gripper::decode_connect_reply(b);
    });
}
