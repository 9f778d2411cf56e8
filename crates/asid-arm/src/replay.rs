//! Replay: a recorded run played back through the [`Arm`], [`PoseSource`] and [`Gripper`] traits,
//! so everything that consumes an arm (executors, identification, viewers) runs offline on
//! recordings.

use crate::{
    Arm, ArmCommand, ArmError, ArmMode, ArmState, Backend, Capabilities, Gripper, GripperRecord,
    GripperState, PoseError, PoseSample, PoseSource, PoseStats, Recording,
};

/// Commands that differ from the recorded ones by more than this count as divergent.
const SAME_COMMAND_RAD: f64 = 1e-9;

/// A recorded run played back one control period at a time.
#[derive(Debug, Clone)]
pub struct ReplayArm {
    caps: Capabilities,
    states: Vec<ArmState>,
    /// Recorded commands in step order (`None`: a Hold); refused ones (wrong shape) left out.
    commands: Vec<Option<Vec<f64>>>,
    pos: usize,
    steps: usize,
    divergent: usize,
    stopped: bool,
}

impl ReplayArm {
    /// Plays `recording` back; `None` if it holds no state or no run description.
    pub fn new(recording: &Recording) -> Option<Self> {
        let info = recording.info.as_ref()?;
        if recording.states.is_empty() {
            return None;
        }
        let mut caps = info.arm.clone();
        caps.backend = Backend::Replay;
        Some(Self {
            states: recording.states.clone(),
            commands: recording
                .commands
                .iter()
                .map(|c| c.command.joint_target().map(<[f64]>::to_vec))
                // Commands of the wrong shape were refused and never moved the arm.
                .filter(|q| q.as_ref().is_none_or(|q| q.len() == caps.dof))
                .collect(),
            caps,
            pos: 0,
            steps: 0,
            divergent: 0,
            stopped: false,
        })
    }

    /// Commands given during replay that differ from the recorded ones.
    pub fn divergent_commands(&self) -> usize {
        self.divergent
    }
}

impl Arm for ReplayArm {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn state(&mut self) -> Result<ArmState, ArmError> {
        Ok(self.states[self.pos].clone())
    }

    async fn step(&mut self, command: &ArmCommand) -> Result<ArmState, ArmError> {
        if self.stopped {
            return Err(ArmError::Stopped("the replay was stopped".into()));
        }
        if let Some(q) = command.checked_joint_target(self.caps.dof)? {
            let same = self.commands.get(self.steps).is_some_and(|r| {
                r.as_ref().is_some_and(|r| {
                    r.iter()
                        .zip(q)
                        .all(|(a, b)| (a - b).abs() <= SAME_COMMAND_RAD)
                })
            });
            if !same {
                self.divergent += 1;
            }
        } else if self.commands.get(self.steps).is_some_and(Option::is_some) {
            self.divergent += 1;
        }
        // The next state at least half a control period later: states read between steps (which
        // do not advance the clock) are skipped.
        let half_ns = (self.caps.control_period_s * 0.5e9) as u64;
        let now = self.states[self.pos].stamp_ns;
        let next = self.states[self.pos + 1..]
            .iter()
            .position(|s| s.stamp_ns >= now + half_ns)
            .map(|i| self.pos + 1 + i)
            .ok_or(ArmError::EndOfRecording {
                samples: self.pos + 1,
            })?;
        self.pos = next;
        self.steps += 1;
        Ok(self.states[next].clone())
    }

    async fn stop(&mut self) -> Result<ArmState, ArmError> {
        self.stopped = true;
        // Stopping takes the recorded arm time too (a brake, a control period of hold): it
        // reported where it came to rest in the state recorded next. Playing that state back keeps
        // the replayed clock, and with it the tracker poses delivered up to it, where the recorded
        // run ended; staying at the last step's state would drop the run's last poses.
        let now = self.states[self.pos].stamp_ns;
        if let Some(i) = self.states[self.pos + 1..]
            .iter()
            .position(|s| s.stamp_ns > now)
        {
            self.pos += 1 + i;
        }
        let mut s = self.states[self.pos].clone();
        s.mode = ArmMode::Stopped;
        Ok(s)
    }
}

/// Recorded object poses delivered when the replayed clock reaches their stamps.
#[derive(Debug, Clone)]
pub struct ReplayPoses {
    poses: Vec<PoseSample>,
    next: usize,
    stats: PoseStats,
}

impl ReplayPoses {
    /// The poses of `recording`.
    pub fn new(recording: &Recording) -> Self {
        let mut poses = recording.poses.clone();
        poses.sort_by_key(|p| p.stamp_ns);
        Self {
            poses,
            next: 0,
            stats: PoseStats::default(),
        }
    }
}

impl PoseSource for ReplayPoses {
    fn poll(&mut self, now_ns: u64) -> Result<Vec<PoseSample>, PoseError> {
        let end = self.next + self.poses[self.next..].partition_point(|p| p.stamp_ns <= now_ns);
        let out = self.poses[self.next..end].to_vec();
        self.next = end;
        self.stats.received += out.len() as u64;
        self.stats.accepted += out.len() as u64;
        Ok(out)
    }

    fn stats(&self) -> PoseStats {
        self.stats.clone()
    }
}

/// Recorded gripper states played back in order.
///
/// `read` returns the recorded states one after the other (the first read the first state) and
/// fails with [`ArmError::EndOfRecording`] after the last. Commands move nothing: the recorded
/// states already hold their effect. `grasp` answers with the next unread state (recorded after
/// the grasp): whether it held an object within the tolerances.
#[derive(Debug, Clone)]
pub struct ReplayGripper {
    states: Vec<GripperRecord>,
    next: usize,
}

impl ReplayGripper {
    /// The gripper states of `recording`; an error if it holds none.
    pub fn new(recording: &Recording) -> Result<Self, ArmError> {
        if recording.grippers.is_empty() {
            return Err(ArmError::Backend(
                "replay: the recording holds no gripper states (topic /gripper/state); \
                 it was made without a gripper"
                    .into(),
            ));
        }
        let mut states = recording.grippers.clone();
        states.sort_by_key(|s| s.stamp_ns);
        Ok(Self { states, next: 0 })
    }

    /// Recorded states not read yet.
    pub fn remaining(&self) -> usize {
        self.states.len() - self.next
    }

    fn peek(&self) -> Result<&GripperRecord, ArmError> {
        self.states.get(self.next).ok_or(ArmError::EndOfRecording {
            samples: self.states.len(),
        })
    }
}

impl Gripper for ReplayGripper {
    async fn homing(&mut self) -> Result<(), ArmError> {
        Ok(())
    }

    async fn move_to(&mut self, _width_m: f64, _speed_m_s: f64) -> Result<(), ArmError> {
        Ok(())
    }

    async fn grasp(
        &mut self,
        width_m: f64,
        _speed_m_s: f64,
        _force_n: f64,
        epsilon_inner_m: f64,
        epsilon_outer_m: f64,
    ) -> Result<bool, ArmError> {
        let s = self.peek()?;
        Ok(s.is_grasping
            && crate::grasp_within(s.width_m, width_m, epsilon_inner_m, epsilon_outer_m))
    }

    async fn stop(&mut self) -> Result<(), ArmError> {
        Ok(())
    }

    async fn read(&mut self) -> Result<GripperState, ArmError> {
        let s = self.peek()?.state();
        self.next += 1;
        Ok(s)
    }
}
