//! [`FrankaArm`]: the connection to one arm, and its [`Arm`] implementation.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use asid_arm::{Arm, ArmCommand, ArmError, ArmState, Backend, Capabilities};
use tokio::sync::{mpsc as tmpsc, oneshot};

use crate::config::{DOF, RobotConfig};
use crate::control::{ControlLoop, LoopConfig, Request, Shared, lock};
use crate::error::FrankaError;
use crate::interp::Interpolator;
use crate::protocol::robot::{self, CollisionBehavior, Command};
use crate::protocol::udp::RobotState;
use crate::protocol::{Channel, WireError};
use crate::sample::{History, StateSample};
use crate::stats::{BenchReport, LoopStats, StatsRecorder};
use crate::tcp::CommandChannel;

/// A connected Franka arm (or a peer speaking its protocol, such as franky-sim).
///
/// Connecting starts a thread that reads the arm's 1 kHz states and, while a motion runs,
/// answers each with a joint-position command. The first `step` starts the motion (joint
/// impedance controller, joint-position generator); `stop` ends it. Dropping the handle brakes
/// a running motion to rest, ends it and joins the thread.
pub struct FrankaArm {
    caps: Capabilities,
    config: RobotConfig,
    channel: Arc<CommandChannel>,
    shared: Arc<Shared>,
    requests: tmpsc::UnboundedSender<Request>,
    thread: Option<JoinHandle<()>>,
    server_version: u16,
}

impl FrankaArm {
    /// Connects to the arm at `host` (name or IP; port 1337), checks the protocol version, waits
    /// for the first state and sends the configured collision thresholds and joint stiffness.
    /// Blocks for at most the configured timeouts; call it before entering an async runtime or
    /// from a blocking task.
    pub fn connect(host: &str, config: RobotConfig) -> Result<Self, FrankaError> {
        config.validate()?;
        let connect_timeout = Duration::from_millis(config.connect_timeout_ms);
        let udp_io = |source| FrankaError::Io {
            what: "UDP socket",
            addr: "0.0.0.0:0".into(),
            os_error: source,
        };
        let socket = UdpSocket::bind("0.0.0.0:0").map_err(udp_io)?;
        let udp_port = socket.local_addr().map_err(udp_io)?.port();
        let (channel, addr) =
            CommandChannel::connect(Channel::Robot, host, robot::PORT, connect_timeout)?;
        let reply = channel.request(
            Command::Connect as u32,
            &robot::connect_request(udp_port),
            connect_timeout,
        )?;
        let connect = robot::decode_connect_reply(&reply.payload)?;
        match (connect.status, connect.version) {
            (0, robot::VERSION) => {}
            (0 | 1, server) => {
                return Err(FrankaError::IncompatibleVersion {
                    device: "robot",
                    server,
                    client: robot::VERSION,
                });
            }
            (status, _) => {
                return Err(FrankaError::Rejected {
                    command: "Connect",
                    status: u16::from(status),
                    status_name: Command::Connect.status_name(status),
                });
            }
        }
        let (first, peer) = first_state(&socket, addr.ip(), connect_timeout)?;
        // Short enough to notice link loss and shutdown promptly, long enough not to spin.
        let poll = Duration::from_millis((config.link_timeout_ms / 4).clamp(1, 10));
        socket.set_read_timeout(Some(poll)).map_err(udp_io)?;

        let sample = StateSample::from_state(&first);
        let mut history = History::new(config.history_capacity);
        history.push(sample);
        let mut stats = StatsRecorder::new(Duration::from_micros(config.late_threshold_us));
        stats.state(
            first.message_id,
            first.control_command_success_rate,
            Instant::now(),
        );
        let shared = Arc::new(Shared {
            history: Mutex::new(history),
            stats: Mutex::new(stats),
            latest: Mutex::new(Some(sample)),
            fault: Mutex::new(None),
            stopped: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
        });
        let channel = Arc::new(channel);
        let interp = Interpolator::new(config.limits.clone(), &first.q_d, config.coast_limit_ms)?;
        let cfg = LoopConfig {
            interp,
            period_ticks: config.period_ticks(),
            link_timeout: Duration::from_millis(config.link_timeout_ms),
            command_timeout: Duration::from_millis(config.command_timeout_ms),
        };
        let (tx, rx) = tmpsc::unbounded_channel();
        let control = ControlLoop::new(
            socket,
            addr.ip(),
            peer,
            Arc::clone(&channel),
            Arc::clone(&shared),
            rx,
            cfg,
        );
        let thread = std::thread::Builder::new()
            .name("franka-1khz".into())
            .spawn(move || control.run())
            .map_err(udp_io)?;
        let arm = Self {
            caps: Capabilities {
                backend: Backend::Franka,
                robot: config.robot.clone(),
                dof: DOF,
                control_period_s: config.control_period_s,
                reports_external_force: true,
                has_gripper: false,
            },
            config,
            channel,
            shared,
            requests: tx,
            thread: Some(thread),
            server_version: connect.version,
        };
        if let Some(c) = arm.config.collision_behavior {
            arm.set_collision_behavior(&c)?;
        }
        if let Some(k) = arm.config.joint_impedance_nm_per_rad {
            arm.set_joint_impedance(&k)?;
        }
        Ok(arm)
    }

    /// Protocol version the arm reported.
    pub fn server_version(&self) -> u16 {
        self.server_version
    }

    /// The session's configuration.
    pub fn config(&self) -> &RobotConfig {
        &self.config
    }

    /// The latest state, without waiting; also after a fault.
    pub fn latest_state(&self) -> Option<ArmState> {
        let stopped = self.shared.stopped.load(Ordering::Relaxed);
        lock(&self.shared.latest).map(|s| s.to_arm_state(stopped))
    }

    /// Every state received and still kept (oldest first), with the command sent in answer to
    /// each: intact after a fault, for recordings.
    pub fn received_states(&self) -> Vec<StateSample> {
        lock(&self.shared.history).to_vec()
    }

    /// Like [`Self::received_states`], but empties the history (for periodic draining).
    pub fn take_received_states(&self) -> Vec<StateSample> {
        lock(&self.shared.history).take()
    }

    /// The fault that ended the session, if any.
    pub fn fault(&self) -> Option<ArmError> {
        lock(&self.shared.fault).clone()
    }

    /// Figures of the 1 kHz loop so far.
    pub fn loop_stats(&self) -> LoopStats {
        lock(&self.shared.stats).snapshot()
    }

    /// Starts the loop figures afresh.
    pub fn reset_loop_stats(&self) {
        lock(&self.shared.stats).reset();
    }

    fn command(&self, command: Command, payload: &[u8]) -> Result<Vec<u8>, FrankaError> {
        let timeout = Duration::from_millis(self.config.command_timeout_ms);
        let reply = self.channel.request(command as u32, payload, timeout)?;
        let status = robot::reply_status("reply", &reply.payload)?;
        if status != 0 {
            return Err(FrankaError::Rejected {
                command: command.name(),
                status: u16::from(status),
                status_name: command.status_name(status),
            });
        }
        Ok(reply.payload)
    }

    /// Sets contact and collision thresholds (only while no motion runs). Blocks for the reply.
    pub fn set_collision_behavior(&self, c: &CollisionBehavior) -> Result<(), FrankaError> {
        self.command(Command::SetCollisionBehavior, &c.encode())
            .map(drop)
    }

    /// Sets the joint stiffness of the internal controller (only while no motion runs).
    pub fn set_joint_impedance(&self, k_nm_per_rad: &[f64; DOF]) -> Result<(), FrankaError> {
        self.command(
            Command::SetJointImpedance,
            &robot::joint_impedance_request(k_nm_per_rad),
        )
        .map(drop)
    }

    /// Clears a reflex so a new session can move.
    pub fn automatic_error_recovery(&self) -> Result<(), FrankaError> {
        self.command(Command::AutomaticErrorRecovery, &[]).map(drop)
    }

    /// Asks the arm to end the running motion itself (the arm then ends it as preempted, which
    /// this session reports as a fault); [`Arm::stop`] is the graceful way.
    pub fn stop_move(&self) -> Result<(), FrankaError> {
        self.command(Command::StopMove, &[]).map(drop)
    }

    /// The robot model the arm serves (a URDF).
    pub fn robot_model(&self) -> Result<String, FrankaError> {
        let payload = self.command(Command::GetRobotModel, &[])?;
        Ok(robot::decode_robot_model(&payload)?.1)
    }

    /// Runs the control loop for `duration_s` of arm time — a sinusoid of `amplitude_rad` on the
    /// last joint at 0.5 Hz around the current pose, one target per control period (0 holds
    /// still) — and returns the loop figures over that run: command rate, period percentiles and
    /// jitter, missed and late cycles. Leaves the motion running; call `stop` after.
    pub async fn bench(
        &mut self,
        duration_s: f64,
        amplitude_rad: f64,
    ) -> Result<BenchReport, ArmError> {
        let start = self.state().await?;
        let base = start.q_cmd_rad.clone();
        self.reset_loop_stats();
        let wall = Instant::now();
        let period = self.caps.control_period_s;
        let steps = (duration_s / period).ceil().max(1.0) as usize;
        let mut last = start.stamp_ns;
        for k in 1..=steps {
            let t = k as f64 * period;
            // 1 - cos starts from rest; its acceleration jump amp * w^2 is tiny for small amp.
            let mut q = base.clone();
            q[DOF - 1] += amplitude_rad * (1.0 - (std::f64::consts::TAU * 0.5 * t).cos());
            last = self
                .step(&ArmCommand::JointPosition { q_rad: q })
                .await?
                .stamp_ns;
        }
        Ok(BenchReport {
            steps,
            wall_s: wall.elapsed().as_secs_f64(),
            arm_s: (last - start.stamp_ns) as f64 * 1e-9,
            stats: self.loop_stats(),
        })
    }

    fn submit(
        &self,
        request: Request,
        rx: Reply,
    ) -> impl Future<Output = Result<ArmState, ArmError>> + Send + use<> {
        let sent = self.requests.send(request).is_ok();
        let fault = self.fault();
        let ended = move || {
            fault.unwrap_or_else(|| ArmError::Protocol("the control loop has ended".into()))
        };
        async move {
            if !sent {
                return Err(ended());
            }
            rx.await.unwrap_or_else(|_| Err(ended()))
        }
    }
}

type Reply = oneshot::Receiver<Result<ArmState, ArmError>>;

/// Waits for the first state datagram from the arm; returns it and where it came from.
fn first_state(
    socket: &UdpSocket,
    robot_ip: IpAddr,
    timeout: Duration,
) -> Result<(RobotState, SocketAddr), FrankaError> {
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 2048];
    let mut last_err: Option<WireError> = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(match last_err {
                Some(e) => FrankaError::Wire(e),
                None => FrankaError::Timeout {
                    what: "robot state",
                    limit_ms: timeout.as_millis() as u64,
                },
            });
        }
        socket
            .set_read_timeout(Some(left))
            .map_err(|source| FrankaError::Io {
                what: "UDP socket",
                addr: robot_ip.to_string(),
                os_error: source,
            })?;
        let Ok((len, src)) = socket.recv_from(&mut buf) else {
            continue;
        };
        if src.ip() != robot_ip && !(src.ip().is_loopback() && robot_ip.is_loopback()) {
            continue;
        }
        match RobotState::decode(&buf[..len]) {
            Ok(s) => return Ok((s, src)),
            Err(e) => last_err = Some(e),
        }
    }
}

impl Drop for FrankaArm {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Arm for FrankaArm {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn state(&mut self) -> impl Future<Output = Result<ArmState, ArmError>> + Send {
        let out = match self.fault() {
            Some(e) => Err(e),
            None => self
                .latest_state()
                .ok_or_else(|| ArmError::Protocol("no state received".into())),
        };
        std::future::ready(out)
    }

    fn step(
        &mut self,
        command: &ArmCommand,
    ) -> impl Future<Output = Result<ArmState, ArmError>> + Send {
        let request = command.clone();
        let shape_ok = request.joint_target().is_none_or(|q| q.len() == DOF);
        let fut = shape_ok.then(|| {
            let (tx, rx) = oneshot::channel();
            let req = match request {
                ArmCommand::JointPosition { q_rad } => Request::Step(q_rad, tx),
                ArmCommand::Hold => Request::Hold(tx),
            };
            self.submit(req, rx)
        });
        let len = command.joint_target().map_or(0, <[f64]>::len);
        async move {
            match fut {
                Some(f) => f.await,
                None => Err(ArmError::BadCommand(format!(
                    "joint target has {len} entries, the arm has {DOF} joints"
                ))),
            }
        }
    }

    fn stop(&mut self) -> impl Future<Output = Result<ArmState, ArmError>> + Send {
        let (tx, rx) = oneshot::channel();
        self.submit(Request::Stop(tx), rx)
    }
}
