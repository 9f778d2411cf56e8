//! Fuzz target (see `asid_core::fuzz`): the pose-stream datagram decoder.

#[test]
fn fuzz_pose_datagrams() {
    let limits = asid_pose::WireLimits::default();
    let datagram = asid_pose::Datagram {
        t_s: 12.5,
        poses: vec![asid_pose::ObjectPose {
            object: "puck".into(),
            p_m: [0.5, 0.0, 0.01],
            q_wxyz: [1.0, 0.0, 0.0, 0.0],
        }],
    };
    let seed = asid_pose::encode_datagram(&datagram);
    asid_core::fuzz::run("pose_datagram", &[seed], |b| {
        let _ = asid_pose::parse_datagram(b, &limits);
    });
}
