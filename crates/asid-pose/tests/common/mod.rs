//! Helpers for the loopback tests: a receiver on an ephemeral port, a sender to it, and polling
//! with a deadline (datagrams take a moment to cross loopback; the deadline only bounds a hang).

#![allow(dead_code, reason = "each test file uses a subset")]

use std::time::{Duration, Instant};

use asid_arm::{PoseError, PoseSample, PoseSource, PoseStats};
use asid_pose::{Datagram, ObjectPose, PoseStreamConfig, UdpPoseReceiver, UdpPoseSender};

/// Generous: only reached if a datagram is lost on loopback (then the test fails loudly).
const DEADLINE: Duration = Duration::from_secs(10);

pub const IDENTITY: [f64; 4] = [1.0, 0.0, 0.0, 0.0];

pub const MS: u64 = 1_000_000;

/// A receiver on 127.0.0.1, ephemeral port, and a sender to it.
pub fn pair(config: PoseStreamConfig) -> (UdpPoseReceiver, UdpPoseSender) {
    let config = PoseStreamConfig {
        bind: ([127, 0, 0, 1], 0).into(),
        ..config
    };
    let receiver = UdpPoseReceiver::bind(&config).unwrap_or_else(|e| panic!("bind: {e}"));
    let sender = UdpPoseSender::new(receiver.local_addr())
        .unwrap_or_else(|e| panic!("sender: {e}"))
        .with_limits(config.wire_limits());
    (receiver, sender)
}

/// Polls at arm time `now_ns` until `done(stats)`; returns every sample delivered meanwhile.
pub fn poll_until(
    receiver: &mut UdpPoseReceiver,
    now_ns: u64,
    done: impl Fn(&PoseStats) -> bool,
) -> Result<Vec<PoseSample>, PoseError> {
    let deadline = Instant::now() + DEADLINE;
    let mut samples = Vec::new();
    loop {
        samples.extend(receiver.poll(now_ns)?);
        if done(&receiver.stats()) {
            return Ok(samples);
        }
        assert!(
            Instant::now() < deadline,
            "datagrams did not arrive: {:?}",
            receiver.stats()
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Polls at `now_ns` until `received` datagrams in total have been taken in.
pub fn poll_received(
    receiver: &mut UdpPoseReceiver,
    now_ns: u64,
    received: u64,
) -> Vec<PoseSample> {
    poll_until(receiver, now_ns, |s| s.received >= received).unwrap_or_else(|e| panic!("poll: {e}"))
}

/// A datagram with the same pose for each object, moving along x with `t_s`.
pub fn datagram(t_s: f64, objects: &[&str]) -> Datagram {
    Datagram {
        t_s,
        poses: objects
            .iter()
            .map(|o| ObjectPose::new(*o, [0.4 + (t_s % 1.0) * 0.1, 0.0, 0.02], IDENTITY))
            .collect(),
    }
}

pub fn send(sender: &UdpPoseSender, datagram: &Datagram) {
    sender
        .send(datagram)
        .unwrap_or_else(|e| panic!("send: {e}"));
}

/// Deterministic uniform numbers in [0, 1) (xorshift64*), so delays repeat run to run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1_u64 << 53) as f64
    }
}
