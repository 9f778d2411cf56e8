//! [`FrankaGripper`]: the Franka Hand behind [`asid_arm::Gripper`].
//!
//! Hand commands are answered when the fingers settle, which can take seconds; they are awaited
//! without blocking (a `tokio::sync` channel) and fail after the configured timeout. A thread
//! reads the hand's state datagrams and enforces that timeout. Commands outside the configured
//! [`asid_arm::GripperLimits`] (the hand's datasheet by default) are refused before they are sent.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use asid_arm::{ArmError, Gripper, GripperState};

use crate::config::GripperConfig;
use crate::control::lock;
use crate::error::FrankaError;
use crate::protocol::Channel;
use crate::protocol::gripper::{self, Command, HandState, Status};
use crate::tcp::{CommandChannel, NoReply};

struct Shared {
    latest: Mutex<Option<(HandState, Instant)>>,
    shutdown: AtomicBool,
}

/// A connected Franka Hand. Dropping it closes the connection and joins its thread.
pub struct FrankaGripper {
    channel: Arc<CommandChannel>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    config: GripperConfig,
    server_version: u16,
}

impl FrankaGripper {
    /// Connects to the hand at `host` (port 1338) and checks the protocol version, after checking
    /// the configured limits against the hand's datasheet. Blocks for at most the connect timeout.
    pub fn connect(host: &str, config: GripperConfig) -> Result<Self, FrankaError> {
        // Limits beyond the hand's datasheet are refused before anything connects.
        config.limits.validate().map_err(FrankaError::Arm)?;
        let timeout = Duration::from_millis(config.connect_timeout_ms);
        let udp_io = |source| FrankaError::Io {
            what: "UDP socket",
            addr: "0.0.0.0:0".into(),
            os_error: source,
        };
        let socket = UdpSocket::bind("0.0.0.0:0").map_err(udp_io)?;
        let port = socket.local_addr().map_err(udp_io)?.port();
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .map_err(udp_io)?;
        let (channel, _) = CommandChannel::connect(Channel::Gripper, host, gripper::PORT, timeout)?;
        let reply = channel.request(
            Command::Connect as u32,
            &gripper::connect_request(port),
            timeout,
        )?;
        let (status, version) = gripper::decode_connect_reply(&reply.payload)?;
        if status == 1 || version != gripper::VERSION {
            return Err(FrankaError::IncompatibleVersion {
                device: "gripper",
                server: version,
                client: gripper::VERSION,
            });
        }
        if status != 0 {
            return Err(FrankaError::Rejected {
                command: "gripper Connect",
                status,
                status_name: "Unknown",
            });
        }
        let channel = Arc::new(channel);
        let shared = Arc::new(Shared {
            latest: Mutex::new(None),
            shutdown: AtomicBool::new(false),
        });
        let (c, s) = (Arc::clone(&channel), Arc::clone(&shared));
        let thread = std::thread::Builder::new()
            .name("franka-hand".into())
            .spawn(move || state_loop(&socket, &c, &s))
            .map_err(udp_io)?;
        Ok(Self {
            channel,
            shared,
            thread: Some(thread),
            config,
            server_version: version,
        })
    }

    /// Protocol version the hand reported.
    pub fn server_version(&self) -> u16 {
        self.server_version
    }

    /// The latest hand state and when it arrived, without waiting.
    pub fn latest(&self) -> Option<(HandState, Instant)> {
        *lock(&self.shared.latest)
    }

    fn command(
        &self,
        command: Command,
        payload: &[u8],
    ) -> impl Future<Output = Result<Status, ArmError>> + Send + use<> {
        let limit_ms = self.config.command_timeout_ms;
        let deadline = Instant::now() + Duration::from_millis(limit_ms);
        let sent = self
            .channel
            .request_async(command as u32, payload, Some(deadline));
        async move {
            let (_, mut rx) = sent.map_err(ArmError::from)?;
            let name = command.name();
            match rx.recv().await {
                Some(Ok(reply)) => Status::decode(&reply.payload)
                    .map_err(|e| ArmError::Protocol(format!("gripper {name}: {e}"))),
                Some(Err(NoReply::Timeout)) => Err(ArmError::Protocol(format!(
                    "gripper {name}: no reply within {limit_ms} ms"
                ))),
                Some(Err(NoReply::Closed(r))) => {
                    Err(ArmError::Protocol(format!("gripper {name}: {r}")))
                }
                None => Err(ArmError::Protocol(format!(
                    "gripper {name}: connection closed"
                ))),
            }
        }
    }

    fn done(
        &self,
        command: Command,
        payload: &[u8],
    ) -> impl Future<Output = Result<(), ArmError>> + Send + use<> {
        let reply = self.command(command, payload);
        async move {
            match reply.await? {
                Status::Success => Ok(()),
                other => Err(ArmError::Backend(format!(
                    "gripper {}: {other:?}",
                    command.name()
                ))),
            }
        }
    }
}

impl Gripper for FrankaGripper {
    fn homing(&mut self) -> impl Future<Output = Result<(), ArmError>> + Send {
        self.done(Command::Homing, &[])
    }

    fn move_to(
        &mut self,
        width_m: f64,
        speed_m_s: f64,
    ) -> impl Future<Output = Result<(), ArmError>> + Send {
        let args = self.config.limits.check_move(width_m, speed_m_s);
        let fut = args
            .is_ok()
            .then(|| self.done(Command::Move, &gripper::move_request(width_m, speed_m_s)));
        async move {
            args?;
            match fut {
                Some(f) => f.await,
                None => Ok(()),
            }
        }
    }

    fn grasp(
        &mut self,
        width_m: f64,
        speed_m_s: f64,
        force_n: f64,
        epsilon_inner_m: f64,
        epsilon_outer_m: f64,
    ) -> impl Future<Output = Result<bool, ArmError>> + Send {
        let args = self.config.limits.check_grasp(
            width_m,
            speed_m_s,
            force_n,
            epsilon_inner_m,
            epsilon_outer_m,
        );
        let payload = gripper::grasp_request(
            width_m,
            epsilon_inner_m,
            epsilon_outer_m,
            speed_m_s,
            force_n,
        );
        let fut = args.is_ok().then(|| self.command(Command::Grasp, &payload));
        async move {
            args?;
            let Some(f) = fut else { return Ok(false) };
            match f.await? {
                Status::Success => Ok(true),
                // libfranka reads Unsuccessful as "nothing held"; franky-sim reports a grasp
                // outside the tolerances as Fail. Both mean the object is not held.
                Status::Unsuccessful | Status::Fail => Ok(false),
                Status::Aborted => Err(ArmError::Backend("gripper Grasp: Aborted".into())),
            }
        }
    }

    fn stop(&mut self) -> impl Future<Output = Result<(), ArmError>> + Send {
        self.done(Command::Stop, &[])
    }

    fn read(&mut self) -> impl Future<Output = Result<GripperState, ArmError>> + Send {
        let limit = Duration::from_millis(self.config.link_timeout_ms);
        let out = match self.latest() {
            Some((s, at)) if at.elapsed() <= limit => Ok(GripperState {
                width_m: s.width_m,
                max_width_m: s.max_width_m,
                is_grasping: s.is_grasped,
            }),
            other => Err(ArmError::LinkLost {
                silent_ms: other.map_or(u64::MAX, |(_, at)| at.elapsed().as_millis() as u64),
                limit_ms: limit.as_millis() as u64,
            }),
        };
        std::future::ready(out)
    }
}

impl Drop for FrankaGripper {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads hand states and expires overdue commands until shutdown.
fn state_loop(socket: &UdpSocket, channel: &CommandChannel, shared: &Shared) {
    let mut buf = [0u8; 256];
    let mut last_id = None;
    while !shared.shutdown.load(Ordering::Relaxed) {
        if let Ok((len, _)) = socket.recv_from(&mut buf)
            && let Ok(s) = HandState::decode(&buf[..len])
            && last_id.is_none_or(|id| s.message_id > id)
        {
            last_id = Some(s.message_id);
            *lock(&shared.latest) = Some((s, Instant::now()));
        }
        channel.expire(Instant::now());
    }
}
