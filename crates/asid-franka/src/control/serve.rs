//! How the loop serves the arm handle's requests in each phase, and starts and stops motions.

use std::sync::atomic::Ordering;
use std::time::Instant;

use asid_arm::{ArmError, ArmState};

use super::{Answer, ControlLoop, Kind, Phase, Request, lock};
use crate::protocol::robot::{self, Command};
use crate::sample::StateSample;

impl ControlLoop {
    pub(super) fn serve_requests(&mut self, sample: Option<&StateSample>) {
        while let Ok(req) = self.requests.try_recv() {
            let now_id = sample.map_or(0, |s| s.message_id);
            match (req, self.kind()) {
                (Request::Step(_, a) | Request::Hold(a) | Request::Stop(a), Kind::Faulted) => {
                    let _ = a.send(Err(self.fault()));
                }
                (Request::Step(_, a) | Request::Hold(a), Kind::Stopped | Kind::Stopping) => {
                    let _ = a.send(Err(ArmError::Stopped("the session was stopped".into())));
                }
                (Request::Step(_, a) | Request::Hold(a), Kind::Starting) => {
                    let _ = a.send(Err(ArmError::BadCommand(
                        "a step is already in progress".into(),
                    )));
                }
                (Request::Stop(a), Kind::Stopped) => {
                    let _ = a.send(self.latest_arm_state());
                }
                (Request::Stop(a), Kind::Stopping) => match &mut self.phase {
                    Phase::Braking { answer, .. } | Phase::Finishing { answer, .. }
                        if answer.is_none() =>
                    {
                        *answer = Some(a);
                    }
                    _ => {
                        let _ = a.send(Err(ArmError::Stopped("stop already in progress".into())));
                    }
                },
                (Request::Stop(a), Kind::Idle | Kind::Starting) => {
                    // Nothing was commanded yet: a Move in flight is cancelled, and that is all.
                    if let Phase::Starting { answer, .. } =
                        std::mem::replace(&mut self.phase, Phase::Stopped)
                    {
                        let _ = answer.send(Err(ArmError::Stopped(
                            "stopped before the motion started".into(),
                        )));
                        let _ = self
                            .channel
                            .request_async(Command::StopMove as u32, &[], None);
                    }
                    self.phase = Phase::Stopped;
                    self.shared.stopped.store(true, Ordering::Relaxed);
                    let _ = a.send(self.latest_arm_state());
                }
                (Request::Stop(a), Kind::Running) => self.begin_stop(Some(a)),
                (Request::Step(target, a), Kind::Idle) => self.start_motion(target, a, sample),
                (Request::Hold(a), Kind::Idle) => {
                    self.motion.hold(now_id, false);
                    self.answer = Some(a);
                }
                (Request::Step(target, a), Kind::Running) => match self.motion.step(&target) {
                    // Answered once the segment's last command is out (see `Motion::tick`).
                    Ok(start) => {
                        lock(&self.shared.stats).segment(start.delay_ticks);
                        self.answer = Some(a);
                    }
                    Err(e) => {
                        let _ = a.send(Err(e));
                    }
                },
                (Request::Hold(a), Kind::Running) => {
                    self.motion.hold(now_id, true);
                    self.answer = Some(a);
                }
            }
        }
    }

    fn kind(&self) -> Kind {
        match self.phase {
            Phase::Idle => Kind::Idle,
            Phase::Starting { .. } => Kind::Starting,
            Phase::Running { .. } => Kind::Running,
            Phase::Braking { .. } | Phase::Finishing { .. } => Kind::Stopping,
            Phase::Stopped => Kind::Stopped,
            Phase::Faulted => Kind::Faulted,
        }
    }

    fn fault(&self) -> ArmError {
        lock(&self.shared.fault)
            .clone()
            .unwrap_or_else(|| ArmError::Protocol("the control loop faulted".into()))
    }

    pub(super) fn latest_arm_state(&self) -> Result<ArmState, ArmError> {
        let latest = *lock(&self.shared.latest);
        latest
            .map(|s| self.arm_state(&s))
            .ok_or_else(|| ArmError::Protocol("no state received".into()))
    }

    fn start_motion(&mut self, target: Vec<f64>, answer: Answer, sample: Option<&StateSample>) {
        let Some(s) = sample else {
            let _ = answer.send(Err(ArmError::Protocol("no state yet".into())));
            return;
        };
        // Refuse an unreachable first target before anything is sent to the arm.
        let mut probe = self.cfg.interp.clone();
        probe.reset(&s.q_d_rad);
        if let Err(e) = probe.check(&target, self.motion.period_ticks()) {
            let _ = answer.send(Err(e));
            return;
        }
        let payload = robot::move_request(
            robot::ControllerMode::JointImpedance,
            robot::MotionGeneratorMode::JointPosition,
            robot::DEFAULT_DEVIATION,
            robot::DEFAULT_DEVIATION,
        );
        match self
            .channel
            .request_async(Command::Move as u32, &payload, None)
        {
            Ok((_, replies)) => {
                self.phase = Phase::Starting {
                    replies,
                    since: Instant::now(),
                    target,
                    answer,
                };
            }
            Err(e) => {
                let _ = answer.send(Err(e.into()));
            }
        }
    }

    pub(super) fn begin_stop(&mut self, answer: Option<Answer>) {
        self.motion.cancel();
        if let Some(a) = self.answer.take() {
            let _ = a.send(Err(ArmError::Stopped("stop requested".into())));
        }
        if let Phase::Running { replies } = std::mem::replace(&mut self.phase, Phase::Idle) {
            self.motion.brake();
            self.phase = Phase::Braking { replies, answer };
        }
    }
}
