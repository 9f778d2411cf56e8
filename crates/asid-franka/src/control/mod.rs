//! The 1 kHz loop thread: receives every state datagram, answers each with the interpolator's
//! next joint-position command, records the state, and serves the requests of [`crate::FrankaArm`]
//! (step, hold, stop) through `tokio::sync` channels, which need no runtime on this side. When
//! requests are answered and targets start their segments is [`Motion`]'s business, shared with
//! the offline dry run.
//!
//! Any fault (link silent too long, a reflex, the motion aborted by the arm, the TCP channel
//! closed) ends commanding at once: the arm stops itself when commands cease, and pending and
//! later requests get the fault. Everything received stays in the history.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asid_arm::{ArmError, ArmState};
use tokio::sync::{mpsc as tmpsc, oneshot};

use crate::config::DOF;
use crate::interp::Interpolator;
use crate::motion::Motion;
use crate::protocol::robot::{self, Command};
use crate::protocol::udp::{self, JointPositionCommand, RobotMode, RobotState};
use crate::sample::{History, StateSample};
use crate::stats::StatsRecorder;
use crate::tcp::{CommandChannel, NoReply, Reply};

mod serve;

/// Where a request's answer goes.
pub(crate) type Answer = oneshot::Sender<Result<ArmState, ArmError>>;

/// What the arm handle asks of the loop.
pub(crate) enum Request {
    /// Reach `target` one period after the last boundary.
    Step(Vec<f64>, Answer),
    /// Come to rest; answer after one period.
    Hold(Answer),
    /// Brake, end the motion, accept no more.
    Stop(Answer),
}

/// State shared between the loop thread and the arm handle.
pub(crate) struct Shared {
    pub(crate) history: Mutex<History>,
    pub(crate) stats: Mutex<StatsRecorder>,
    pub(crate) latest: Mutex<Option<StateSample>>,
    pub(crate) fault: Mutex<Option<ArmError>>,
    pub(crate) stopped: AtomicBool,
    pub(crate) shutdown: AtomicBool,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Fixed settings of the loop.
pub(crate) struct LoopConfig {
    /// At rest at the arm's position; a template for each motion.
    pub(crate) interp: Interpolator,
    pub(crate) period_ticks: u32,
    pub(crate) link_timeout: Duration,
    pub(crate) command_timeout: Duration,
}

type MoveReplies = tmpsc::UnboundedReceiver<Result<Reply, NoReply>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Idle,
    Starting,
    Running,
    Stopping,
    Stopped,
    Faulted,
}

enum Phase {
    Idle,
    Starting {
        replies: MoveReplies,
        since: Instant,
        target: Vec<f64>,
        answer: Answer,
    },
    Running {
        replies: MoveReplies,
    },
    Braking {
        replies: MoveReplies,
        answer: Option<Answer>,
    },
    Finishing {
        replies: MoveReplies,
        answer: Option<Answer>,
        since: Instant,
    },
    Stopped,
    Faulted,
}

pub(crate) struct ControlLoop {
    socket: UdpSocket,
    robot_ip: IpAddr,
    peer: Option<SocketAddr>,
    channel: Arc<CommandChannel>,
    shared: Arc<Shared>,
    requests: tmpsc::UnboundedReceiver<Request>,
    cfg: LoopConfig,
    motion: Motion,
    phase: Phase,
    /// Where the answer of the request in progress goes (when: see [`Motion::answered`]).
    answer: Option<Answer>,
    last_state_at: Instant,
    last_id: Option<u64>,
}

impl ControlLoop {
    pub(crate) fn new(
        socket: UdpSocket,
        robot_ip: IpAddr,
        peer: SocketAddr,
        channel: Arc<CommandChannel>,
        shared: Arc<Shared>,
        requests: tmpsc::UnboundedReceiver<Request>,
        cfg: LoopConfig,
    ) -> Self {
        let motion = Motion::new(cfg.interp.clone(), cfg.period_ticks);
        let last_id = lock(&shared.latest).map(|s| s.message_id);
        Self {
            socket,
            robot_ip,
            peer: Some(peer),
            channel,
            shared,
            requests,
            cfg,
            motion,
            phase: Phase::Idle,
            answer: None,
            last_state_at: Instant::now(),
            last_id,
        }
    }

    pub(crate) fn run(mut self) {
        let mut buf = [0u8; 2048];
        loop {
            let shutting_down = self.shared.shutdown.load(Ordering::Relaxed);
            if shutting_down {
                match self.phase {
                    Phase::Idle | Phase::Stopped | Phase::Faulted => return,
                    Phase::Running { .. } => self.begin_stop(None),
                    _ => {}
                }
            }
            match self.socket.recv_from(&mut buf) {
                Ok((len, src)) => self.datagram(&buf[..len], src),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => self.fail(ArmError::Protocol(format!("UDP receive failed: {e}"))),
            }
            let silent = self.last_state_at.elapsed();
            if silent > self.cfg.link_timeout
                && !matches!(self.phase, Phase::Faulted | Phase::Stopped)
            {
                self.fail(ArmError::LinkLost {
                    silent_ms: silent.as_millis() as u64,
                    limit_ms: self.cfg.link_timeout.as_millis() as u64,
                });
            }
            if matches!(self.phase, Phase::Faulted | Phase::Stopped) {
                // No state may come any more; requests are answered without one.
                self.serve_requests(None);
                if shutting_down {
                    return;
                }
            }
        }
    }

    fn datagram(&mut self, bytes: &[u8], src: SocketAddr) {
        let now = Instant::now();
        let trusted =
            src.ip() == self.robot_ip || (src.ip().is_loopback() && self.robot_ip.is_loopback());
        let state = match RobotState::decode(bytes) {
            Ok(s) if trusted && self.last_id.is_none_or(|id| s.message_id > id) => s,
            Ok(_) => return lock(&self.shared.stats).stats.stale_datagrams += 1,
            Err(_) => return lock(&self.shared.stats).stats.bad_datagrams += 1,
        };
        self.peer = Some(src);
        self.last_id = Some(state.message_id);
        self.last_state_at = now;
        let sample = StateSample::from_state(&state);
        lock(&self.shared.stats).state(state.message_id, state.control_command_success_rate, now);
        {
            let mut h = lock(&self.shared.history);
            h.push(sample);
            lock(&self.shared.stats).stats.history_dropped = h.dropped;
        }
        *lock(&self.shared.latest) = Some(sample);
        self.on_state(&state, &sample, now);
    }

    fn arm_state(&self, s: &StateSample) -> ArmState {
        s.to_arm_state(self.shared.stopped.load(Ordering::Relaxed))
    }

    fn on_state(&mut self, state: &RobotState, sample: &StateSample, now: Instant) {
        if self.motion.answered(state.message_id)
            && let Some(answer) = self.answer.take()
        {
            let _ = answer.send(Ok(self.arm_state(sample)));
        }
        if !matches!(self.phase, Phase::Stopped | Phase::Faulted)
            && let Some(reason) = self.channel.closed()
        {
            return self.fail(ArmError::Protocol(format!("TCP command channel: {reason}")));
        }
        let moving = matches!(
            self.phase,
            Phase::Starting { .. }
                | Phase::Running { .. }
                | Phase::Braking { .. }
                | Phase::Finishing { .. }
        );
        if moving && matches!(state.robot_mode, RobotMode::Reflex | RobotMode::UserStopped) {
            let why = state.error_names().join(", ");
            return self.fail(ArmError::Reflex(format!("{:?}: {why}", state.robot_mode)));
        }
        if let Err(e) = self.check_move_reply() {
            return self.fail(e);
        }
        self.serve_requests(Some(sample));
        self.advance(state, sample, now);
    }

    /// Reads the Move replies that arrived; an error if the arm ended or refused the motion.
    fn check_move_reply(&mut self) -> Result<(), ArmError> {
        let mut deliveries = Vec::new();
        if let Phase::Starting { replies, .. }
        | Phase::Running { replies }
        | Phase::Braking { replies, .. }
        | Phase::Finishing { replies, .. } = &mut self.phase
        {
            while let Ok(d) = replies.try_recv() {
                deliveries.push(d);
            }
        }
        for delivery in deliveries {
            let status = match delivery {
                Ok(reply) => robot::reply_status("Move reply", &reply.payload)
                    .map_err(|e| ArmError::Protocol(e.to_string()))?,
                Err(NoReply::Closed(r)) => return Err(ArmError::Protocol(format!("TCP: {r}"))),
                Err(NoReply::Timeout) => continue,
            };
            let name = Command::Move.status_name(status);
            let finishing = matches!(self.phase, Phase::Finishing { .. });
            match status {
                robot::MOVE_MOTION_STARTED => {}
                robot::MOVE_SUCCESS | robot::MOVE_PREEMPTED if finishing => self.finish(),
                s if robot::move_status_is_reflex(s) => {
                    return Err(ArmError::Reflex(format!(
                        "motion aborted by the arm: {name}"
                    )));
                }
                _ => {
                    return Err(ArmError::Protocol(format!(
                        "motion ended by the arm: {name}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The Move ended after `motion_generation_finished`: the session is over.
    fn finish(&mut self) {
        self.shared.stopped.store(true, Ordering::Relaxed);
        if let Phase::Finishing {
            answer: Some(a), ..
        } = std::mem::replace(&mut self.phase, Phase::Stopped)
        {
            let _ = a.send(self.latest_arm_state());
        }
    }

    fn advance(&mut self, state: &RobotState, sample: &StateSample, now: Instant) {
        let timeout = self.cfg.command_timeout;
        let mut finished = false;
        match &mut self.phase {
            Phase::Idle | Phase::Stopped | Phase::Faulted => return,
            Phase::Starting { since, .. } => {
                let running = state.motion_generator_mode == udp::STATE_MG_JOINT_POSITION
                    && state.controller_mode == udp::STATE_CONTROLLER_JOINT_IMPEDANCE;
                if !running {
                    if since.elapsed() > timeout {
                        self.fail(ArmError::Protocol(format!(
                            "motion did not start within {} ms",
                            timeout.as_millis()
                        )));
                    }
                    return;
                }
                let Phase::Starting {
                    replies,
                    target,
                    answer,
                    ..
                } = std::mem::replace(&mut self.phase, Phase::Idle)
                else {
                    return;
                };
                match self.motion.begin(&sample.q_d_rad, &target) {
                    Ok(_) => self.answer = Some(answer),
                    Err(e) => {
                        let _ = answer.send(Err(e));
                    }
                }
                self.phase = Phase::Running { replies };
            }
            Phase::Finishing { since, .. } => {
                finished = true;
                if since.elapsed() > timeout {
                    return self.fail(ArmError::Protocol(format!(
                        "no Move reply within {} ms of finishing the motion",
                        timeout.as_millis()
                    )));
                }
            }
            Phase::Running { .. } | Phase::Braking { .. } => {}
        }
        let ev = if finished {
            Default::default()
        } else {
            self.motion.tick(state.message_id)
        };
        if ev.started_braking {
            lock(&self.shared.stats).stats.starved_brakes += 1;
        }
        let q = self.motion.interp().q_rad();
        let mut q_c = [0.0; DOF];
        q_c.copy_from_slice(q);
        let cmd = JointPositionCommand {
            message_id: state.message_id,
            q_c,
            motion_generation_finished: finished,
        };
        self.send(&cmd, now);
        if let Phase::Braking { .. } = self.phase
            && self.motion.at_rest()
            && let Phase::Braking { replies, answer } =
                std::mem::replace(&mut self.phase, Phase::Idle)
        {
            self.phase = Phase::Finishing {
                replies,
                answer,
                since: Instant::now(),
            };
        }
    }

    fn send(&mut self, cmd: &JointPositionCommand, state_at: Instant) {
        let Some(peer) = self.peer else { return };
        match self.socket.send_to(&cmd.encode(), peer) {
            Ok(_) => {
                lock(&self.shared.history).set_last_command(cmd.q_c);
                lock(&self.shared.stats).command(state_at, Instant::now());
            }
            Err(e) => self.fail(ArmError::Protocol(format!(
                "UDP send to {peer} failed: {e}"
            ))),
        }
    }

    fn fail(&mut self, e: ArmError) {
        let e = {
            let mut f = lock(&self.shared.fault);
            f.get_or_insert(e).clone()
        };
        self.motion.cancel();
        if let Some(a) = self.answer.take() {
            let _ = a.send(Err(e.clone()));
        }
        match std::mem::replace(&mut self.phase, Phase::Faulted) {
            Phase::Starting { answer, .. } => {
                let _ = answer.send(Err(e));
            }
            Phase::Braking {
                answer: Some(a), ..
            }
            | Phase::Finishing {
                answer: Some(a), ..
            } => {
                let _ = a.send(Err(e));
            }
            _ => {}
        }
    }
}
