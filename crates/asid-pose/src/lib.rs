//! Object poses from a lab's motion tracker: **pose stream v1** over UDP.
//!
//! Each datagram is one UTF-8 JSON object,
//! `{"t": 12.5, "frame": "base", "poses": {"cube": {"p": [x, y, z], "q": [w, x, y, z]}}}`, with
//! positions in metres in the robot base frame and `t` on the sender's clock (see
//! `docs/pose-stream.md`). [`UdpPoseReceiver`] is an [`asid_arm::PoseSource`]: it rejects malformed
//! datagrams (counted, the last few messages kept), drops duplicates and reordered samples per
//! object, estimates the sender-to-arm clock offset with a minimum-delay filter and stamps samples
//! on the arm clock, and stops the run ([`PoseError::Stale`]) when an expected object goes quiet.
//! [`UdpPoseSender`] is a reference sender; [`pose_channel`] is the same source fed in process.
//!
//! ```
//! use asid_arm::PoseSource;
//! use asid_pose::{Datagram, ObjectPose, PoseStreamConfig, UdpPoseReceiver, UdpPoseSender};
//!
//! let config = PoseStreamConfig {
//!     bind: "127.0.0.1:0".parse()?,
//!     expected_objects: vec!["cube".into()],
//!     ..PoseStreamConfig::default()
//! };
//! let mut receiver = UdpPoseReceiver::bind(&config)?;
//! let sender = UdpPoseSender::new(receiver.local_addr())?;
//! let cube = ObjectPose::new("cube", [0.5, 0.0, 0.02], [1.0, 0.0, 0.0, 0.0]);
//! sender.send(&Datagram { t_s: 1000.0, poses: vec![cube] })?;
//!
//! let now_ns = 2_000_000_000; // the arm's clock, from its latest state
//! let mut samples = Vec::new();
//! for _ in 0..500 {
//!     samples.extend(receiver.poll(now_ns)?);
//!     if !samples.is_empty() { break; }
//!     std::thread::sleep(std::time::Duration::from_millis(2));
//! }
//! assert_eq!(samples[0].object, "cube");
//! // Sender time + estimated offset (arm - sender, about 2 s - 1000 s here): never after arrival.
//! assert!(samples[0].stamp_ns <= now_ns);
//! println!("offset {:?} s", receiver.stats().clock_offset_s);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`PoseError::Stale`]: asid_arm::PoseError::Stale

mod arrival;
pub mod channel;
pub mod config;
mod offset;
pub mod receiver;
pub mod rules;
pub mod sender;
mod tracker;
pub mod wire;

pub use channel::{ChannelPoseSource, FeedClosed, PoseFeed, pose_channel};
pub use config::{ConfigError, DEFAULT_PORT, MAX_UDP_PAYLOAD_BYTES, PoseStreamConfig};
pub use receiver::{PoseStreamError, UdpPoseReceiver};
pub use rules::{DatagramError, MAX_NAME_BYTES, NameError, WireLimits, check_name};
pub use sender::{SendError, UdpPoseSender};
pub use tracker::KEPT_WARNINGS;
pub use wire::{Datagram, FRAME, ObjectPose, encode_datagram, parse_datagram};
