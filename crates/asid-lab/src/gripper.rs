//! [`LabGripper`]: the simulated Franka Hand of the lab, behind [`asid_arm::Gripper`].

use std::sync::{Arc, Mutex};

use asid_arm::{ArmError, Gripper, GripperLimits, GripperState};
use asid_sim::SimError;

use crate::lab::{World, lock};

/// The gripper of a [`crate::SimLab`], sharing its world: finger motion runs the lab's physics
/// (control period after control period, the arm holding its last target) until the fingers
/// stop, so a motion over `d` metres at `v` m/s takes about `d / v` seconds of the arm's clock.
///
/// Like the Franka Hand: `grasp` closes until both fingers touch an object (or the fingers meet)
/// and answers whether the final opening lies in `[width - epsilon_inner, width + epsilon_outer]`;
/// the object the fingers stopped on is held (a fixed joint to the hand) until the fingers open
/// or stop. `move_to` fails if an object blocks the fingers before the target. Values outside
/// [`GripperLimits`] are refused before anything moves.
pub struct LabGripper {
    shared: Arc<Mutex<World>>,
    limits: GripperLimits,
    substeps: usize,
    control_period_s: f64,
}

fn refused(e: SimError) -> ArmError {
    ArmError::BadCommand(e.to_string())
}

impl LabGripper {
    /// The gripper of the lab world behind `shared`; None if its tool has none.
    pub(crate) fn new(shared: Arc<Mutex<World>>, substeps: usize) -> Option<Self> {
        let (limits, control_period_s) = {
            let w = shared.lock().ok()?;
            let spec = w.world.scene().tool.gripper.clone()?;
            (
                GripperLimits::from_spec(&spec),
                w.world.scene().control_period_s(),
            )
        };
        Some(Self {
            shared,
            limits,
            substeps,
            control_period_s,
        })
    }

    /// The limits commands are checked against.
    pub fn limits(&self) -> &GripperLimits {
        &self.limits
    }

    /// Runs control periods (the arm holding) until the fingers stop; the final gripper status.
    fn run(
        &self,
        w: &mut World,
        width_m: f64,
        speed_m_s: f64,
        force_n: Option<f64>,
    ) -> Result<asid_sim::GripperStatus, ArmError> {
        if w.stopped {
            return Err(ArmError::Stopped(
                "the session was stopped: the gripper does not move".into(),
            ));
        }
        w.world
            .set_gripper_target(width_m, speed_m_s, force_n)
            .map_err(refused)?;
        let start_width_m = w.world.gripper().map_or(0.0, |g| g.width_m);
        // The fingers arrive (or stop on an object) within distance / speed; two periods spare.
        let travel_s = (start_width_m - width_m).abs() / speed_m_s;
        let periods = (travel_s / self.control_period_s).ceil() as usize + 2;
        for _ in 0..periods {
            if !w.world.gripper().is_some_and(|g| g.moving) {
                break;
            }
            let hold = w.last_applied.clone();
            w.advance(&hold, self.substeps)
                .map_err(|e| ArmError::Reflex(format!("holding while the fingers move: {e}")))?;
        }
        let end = w
            .world
            .gripper()
            .ok_or_else(|| ArmError::Backend("the lab's gripper vanished".into()))?;
        if end.moving {
            return Err(ArmError::Backend(format!(
                "gripper: the fingers did not arrive within {periods} control periods (at {:.4} m, \
                 target {width_m:.4} m)",
                end.width_m
            )));
        }
        Ok(end)
    }
}

impl Gripper for LabGripper {
    async fn homing(&mut self) -> Result<(), ArmError> {
        let mut w = lock(&self.shared)?;
        self.run(
            &mut w,
            self.limits.max_width_m,
            self.limits.max_speed_m_s,
            None,
        )?;
        Ok(())
    }

    async fn move_to(&mut self, width_m: f64, speed_m_s: f64) -> Result<(), ArmError> {
        self.limits.check_move(width_m, speed_m_s)?;
        let mut w = lock(&self.shared)?;
        let end = self.run(&mut w, width_m, speed_m_s, None)?;
        match end.blocked_by {
            Some(object) => Err(ArmError::Backend(format!(
                "gripper move: the fingers stopped on `{object}` at {:.4} m, target {width_m:.4} m",
                end.width_m
            ))),
            None => Ok(()),
        }
    }

    async fn grasp(
        &mut self,
        width_m: f64,
        speed_m_s: f64,
        force_n: f64,
        epsilon_inner_m: f64,
        epsilon_outer_m: f64,
    ) -> Result<bool, ArmError> {
        self.limits.check_grasp(
            width_m,
            speed_m_s,
            force_n,
            epsilon_inner_m,
            epsilon_outer_m,
        )?;
        let mut w = lock(&self.shared)?;
        // Like the hand: close until something stops the fingers, then judge the width.
        let end = self.run(&mut w, 0.0, speed_m_s, Some(force_n))?;
        Ok(asid_arm::grasp_within(
            end.width_m,
            width_m,
            epsilon_inner_m,
            epsilon_outer_m,
        ))
    }

    async fn stop(&mut self) -> Result<(), ArmError> {
        lock(&self.shared)?.world.stop_gripper();
        Ok(())
    }

    async fn read(&mut self) -> Result<GripperState, ArmError> {
        let w = lock(&self.shared)?;
        let g = w
            .world
            .gripper()
            .ok_or_else(|| ArmError::Backend("the lab's gripper vanished".into()))?;
        Ok(GripperState {
            width_m: g.width_m,
            max_width_m: g.max_width_m,
            is_grasping: g.held.is_some(),
        })
    }
}
