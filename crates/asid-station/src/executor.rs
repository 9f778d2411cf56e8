//! The station's executor: runs a plan's actions (or a task's motion with the hand) on any arm
//! behind the safety and recording layers, with object poses from any tracker, and stops safely on
//! the first fault while keeping every sample recorded so far.

use asid_arm::{
    ActionRecord, Arm, ArmCommand, ArmError, ArmState, Gripper, GripperState, Level, PoseSource,
    PoseStats, Record, Recorded, Recorder, Safe,
};
use asid_core::Scene;
use asid_task::pick_place::{GRASP_EPSILON_M, MotionStep};
use nalgebra::Isometry3;
use serde::{Deserialize, Serialize};

/// What a run carries out.
#[derive(Debug, Clone, Copy)]
pub enum Work<'a> {
    /// Actions in the scene's action space (an exploration plan, a push task), one per control
    /// period.
    Actions(&'a [Vec<f64>]),
    /// A task's motion: joint targets, one per control period, and the hand's commands
    /// ([`asid_task::pick_place`]).
    Motion(&'a [MotionStep]),
}

impl Work<'_> {
    /// Steps in it.
    pub fn len(&self) -> usize {
        match self {
            Self::Actions(a) => a.len(),
            Self::Motion(m) => m.len(),
        }
    }

    /// Whether it has no step.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The hand of an arm that has none: every command is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHand;

fn no_hand() -> ArmError {
    ArmError::BadCommand("this arm has no hand that asid drives".into())
}

impl Gripper for NoHand {
    async fn homing(&mut self) -> Result<(), ArmError> {
        Err(no_hand())
    }
    async fn move_to(&mut self, _: f64, _: f64) -> Result<(), ArmError> {
        Err(no_hand())
    }
    async fn grasp(&mut self, _: f64, _: f64, _: f64, _: f64, _: f64) -> Result<bool, ArmError> {
        Err(no_hand())
    }
    async fn stop(&mut self) -> Result<(), ArmError> {
        Ok(())
    }
    async fn read(&mut self) -> Result<GripperState, ArmError> {
        Err(no_hand())
    }
}

/// How a run went.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    /// Steps executed (plan actions, or a motion's joint targets and hand commands).
    pub steps_done: usize,
    /// Steps planned.
    pub steps_planned: usize,
    /// Control periods spent reaching the plan's start configuration.
    pub approach_steps: usize,
    /// Arm clock span of the run.
    pub duration_s: f64,
    /// Largest |measured - commanded| joint position seen during the plan.
    pub max_tracking_error_rad: f64,
    /// Object poses received.
    pub poses: PoseStats,
    /// Commands the safety layer refused.
    pub refusals: u64,
    /// Why the run ended early (None: the plan completed).
    pub stopped_by: Option<String>,
}

/// Where the plan starts: joint configuration and tool target, as the simulator computes them.
pub struct Start {
    /// Joint configuration.
    pub q_rad: Vec<f64>,
    /// Tool target.
    pub world_from_tcp: Isometry3<f64>,
}

/// How long the tracker's last poses (in flight for its latency) are waited for after the arm stops.
const FINAL_POSES_MS: u64 = 50;

/// Largest speed of the approach to the start configuration.
const APPROACH_SPEED_RAD_S: f64 = 0.3;

/// Joint targets that bring the arm from `from` to `to` at a gentle speed with smooth (half-cosine)
/// start and end, one per control period.
pub fn approach(from: &[f64], to: &[f64], period_s: f64) -> Vec<Vec<f64>> {
    let dist = from
        .iter()
        .zip(to)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    if dist < 1e-4 {
        return Vec::new();
    }
    // A half-cosine peaks at pi/2 times its mean speed.
    let duration = std::f64::consts::FRAC_PI_2 * dist / APPROACH_SPEED_RAD_S;
    let n = ((duration / period_s).ceil() as usize).max(2);
    (1..=n)
        .map(|k| {
            let u = 0.5 * (1.0 - (std::f64::consts::PI * k as f64 / n as f64).cos());
            from.iter().zip(to).map(|(a, b)| a + (b - a) * u).collect()
        })
        .collect()
}

struct Runner<'a, A, R, P> {
    arm: &'a mut Recorded<Safe<A>, R>,
    poses: &'a mut P,
    last: ArmState,
    t0_ns: u64,
    max_err: f64,
}

impl<A: Arm, R: Recorder, P: PoseSource> Runner<'_, A, R, P> {
    fn drain_poses(&mut self, now_ns: u64) -> Result<(), ArmError> {
        let samples = self
            .poses
            .poll(now_ns)
            .map_err(|e| ArmError::Stopped(e.to_string()))?;
        for s in samples {
            self.arm.record(&Record::Pose(s))?;
        }
        Ok(())
    }

    async fn step(&mut self, q: Vec<f64>) -> Result<(), ArmError> {
        self.drain_poses(self.last.stamp_ns)?;
        let s = self
            .arm
            .step(&ArmCommand::JointPosition { q_rad: q })
            .await?;
        self.last = s;
        Ok(())
    }
}

/// The arm, the hand, the tracker and the recorder of a run.
pub struct Rig<'a, A, R, P, G> {
    /// The arm behind the safety and recording layers.
    pub arm: &'a mut Recorded<Safe<A>, R>,
    /// Its hand (commands checked by the hand's own limits; [`NoHand`] for an arm without one).
    pub hand: &'a mut G,
    /// The tracker.
    pub poses: &'a mut P,
}

/// Runs `work` from `start`: first a gentle approach to the start configuration, then one step per
/// control period: an action turned into the joint target the simulator would command, or a
/// motion's joint target; a motion's hand commands run between them (the arm holding). Every
/// action, command, state, hand state and pose is recorded. On any fault (a grasp that misses
/// included) the arm is stopped and the summary says why; the recording keeps everything up to
/// that point.
pub async fn execute<A: Arm, R: Recorder, P: PoseSource, G: Gripper>(
    rig: Rig<'_, A, R, P, G>,
    scene: &Scene,
    kinematics: &asid_robot::Arm,
    start: Start,
    work: Work<'_>,
    mut progress: impl FnMut(usize, usize),
) -> RunSummary {
    let Rig { arm, hand, poses } = rig;
    let mut summary = RunSummary {
        steps_done: 0,
        steps_planned: work.len(),
        approach_steps: 0,
        duration_s: 0.0,
        max_tracking_error_rad: 0.0,
        poses: PoseStats::default(),
        refusals: 0,
        stopped_by: None,
    };
    let first = match arm.state().await {
        Ok(s) => s,
        Err(e) => {
            summary.stopped_by = Some(format!("reading the arm state: {e}"));
            return summary;
        }
    };
    let mut run = Runner {
        t0_ns: first.stamp_ns,
        last: first,
        arm,
        poses,
        max_err: 0.0,
    };
    let result = match work {
        Work::Actions(actions) => {
            drive(
                &mut run,
                &mut summary,
                scene,
                kinematics,
                start,
                actions,
                &mut progress,
            )
            .await
        }
        Work::Motion(steps) => {
            move_hand(&mut run, hand, &mut summary, start, steps, &mut progress).await
        }
    };
    if let Err(e) = result {
        summary.stopped_by = Some(e.to_string());
        let _ = run.arm.event(Level::Error, &format!("run stopped: {e}"));
    }
    match run.arm.stop().await {
        Ok(s) => run.last = s,
        Err(e) => {
            summary
                .stopped_by
                .get_or_insert(format!("stopping the arm: {e}"));
        }
    }
    // Poses still in flight (tracker latency) belong to the run: wait for them in wall time, then
    // take what has arrived up to a little after the last state (not so far ahead that the
    // tracker's staleness check would fire and drop them).
    tokio::time::sleep(std::time::Duration::from_millis(FINAL_POSES_MS)).await;
    if let Err(e) = run.drain_poses(run.last.stamp_ns + FINAL_POSES_MS * 1_000_000) {
        summary
            .stopped_by
            .get_or_insert(format!("final tracker poses: {e}"));
    }
    if let Err(e) = run.arm.flush() {
        summary.stopped_by.get_or_insert(e.to_string());
    }
    summary.duration_s = (run.last.stamp_ns.saturating_sub(run.t0_ns)) as f64 * 1e-9;
    summary.max_tracking_error_rad = run.max_err;
    summary.poses = run.poses.stats();
    summary.refusals = run.arm.inner().refusals();
    summary
}

impl<A: Arm, R: Recorder, P: PoseSource> Runner<'_, A, R, P> {
    /// The gentle approach to the start configuration.
    async fn approach(&mut self, summary: &mut RunSummary, q_rad: &[f64]) -> Result<(), ArmError> {
        let period = self.arm.capabilities().control_period_s;
        for q in approach(&self.last.q_cmd_rad, q_rad, period) {
            self.step(q).await?;
            summary.approach_steps += 1;
        }
        self.arm.event(Level::Info, "plan starts")
    }

    /// Reads (and records) the arm's state now, e.g. after a hand motion that took time, so that
    /// what is recorded next is stamped at the arm's current time; takes the tracker's poses up to
    /// it.
    async fn refresh(&mut self) -> Result<(), ArmError> {
        self.last = self.arm.state().await?;
        self.drain_poses(self.last.stamp_ns)
    }

    /// One joint target, with the tracking error measured against it.
    async fn track(&mut self, q: &[f64]) -> Result<(), ArmError> {
        self.step(q.to_vec()).await?;
        let err = self
            .last
            .q_rad
            .iter()
            .zip(q)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        self.max_err = self.max_err.max(err);
        Ok(())
    }
}

/// A task's motion: joint targets and hand commands. After each hand command (done or failed) the
/// arm's state is read, so that the hand's state is recorded at the time the fingers stopped; on a
/// failed one the hand is told to stop.
async fn move_hand<A: Arm, R: Recorder, P: PoseSource, G: Gripper>(
    run: &mut Runner<'_, A, R, P>,
    hand: &mut G,
    summary: &mut RunSummary,
    start: Start,
    steps: &[MotionStep],
    progress: &mut impl FnMut(usize, usize),
) -> Result<(), ArmError> {
    run.approach(summary, &start.q_rad).await?;
    for (k, step) in steps.iter().enumerate() {
        match step {
            MotionStep::Joints { q_rad } => run.track(q_rad).await?,
            MotionStep::Open { width_m, speed_mps } => {
                run.arm
                    .event(Level::Info, &format!("hand opens to {width_m} m"))?;
                let moved = hand.move_to(*width_m, *speed_mps).await;
                hand_done(run, hand, moved.is_err()).await?;
                moved?;
            }
            MotionStep::Grasp {
                width_m,
                speed_mps,
                force_n,
            } => {
                run.arm.event(
                    Level::Info,
                    &format!("hand grasps {width_m} m with {force_n} N"),
                )?;
                let grasped = hand
                    .grasp(
                        *width_m,
                        *speed_mps,
                        *force_n,
                        GRASP_EPSILON_M,
                        GRASP_EPSILON_M,
                    )
                    .await;
                let state = hand_done(run, hand, !matches!(grasped, Ok(true))).await?;
                if !grasped? {
                    return Err(ArmError::Stopped(format!(
                        "motion step {k}: the grasp missed: the fingers stopped at {:.4} m, the \
                         object is {width_m} m wide (+-{GRASP_EPSILON_M} m)",
                        state.map_or(f64::NAN, |s| s.width_m)
                    )));
                }
            }
        }
        summary.steps_done = k + 1;
        progress(k + 1, steps.len());
    }
    run.arm.event(Level::Info, "motion complete")?;
    Ok(())
}

/// After a hand command: stops the hand if it `failed`, reads the arm's state (the time the
/// fingers stopped) and records the hand's state (None if the hand cannot say).
async fn hand_done<A: Arm, R: Recorder, P: PoseSource, G: Gripper>(
    run: &mut Runner<'_, A, R, P>,
    hand: &mut G,
    failed: bool,
) -> Result<Option<GripperState>, ArmError> {
    if failed {
        // Best effort: the failure itself is what the run reports.
        let _ = hand.stop().await;
    }
    run.refresh().await?;
    let state = hand.read().await.ok();
    if let Some(s) = &state {
        run.arm.record_gripper(s)?;
    }
    Ok(state)
}

async fn drive<A: Arm, R: Recorder, P: PoseSource>(
    run: &mut Runner<'_, A, R, P>,
    summary: &mut RunSummary,
    scene: &Scene,
    kinematics: &asid_robot::Arm,
    start: Start,
    actions: &[Vec<f64>],
    progress: &mut impl FnMut(usize, usize),
) -> Result<(), ArmError> {
    run.approach(summary, &start.q_rad).await?;
    let mut q_cmd = start.q_rad;
    let mut tcp = start.world_from_tcp;
    for (k, action) in actions.iter().enumerate() {
        let (q_next, tcp_next) =
            asid_sim::command_for_action(&scene.spec.arm.action, kinematics, &q_cmd, &tcp, action)
                .map_err(|e| ArmError::BadCommand(format!("plan action {k}: {e}")))?;
        let sent_ns = run.last.stamp_ns;
        run.track(&q_next).await?;
        // Recorded once executed (stamped when it was sent): an episode holds no action that did
        // not run.
        run.arm.record(&Record::Action(ActionRecord {
            stamp_ns: sent_ns,
            step: k as u64,
            values: action.clone(),
        }))?;
        q_cmd = q_next;
        tcp = tcp_next;
        summary.steps_done = k + 1;
        progress(k + 1, actions.len());
    }
    run.arm.event(Level::Info, "plan complete")?;
    Ok(())
}
