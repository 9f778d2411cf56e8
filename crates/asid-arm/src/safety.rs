//! The safety layer: a wrapper around any arm that checks every command against joint position,
//! velocity and acceleration limits, a workspace box and a speed limit for the tool, before it
//! leaves the process; watches the external force the arm reports; stops on a watchdog timeout or a
//! stop request (Ctrl-C). A refused command names the limit, the joint or axis, the value and the
//! bound, and nothing is sent. [`GripperLimits`] are the gripper's: width, speed and grasp force.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asid_core::RobotSpec;

use crate::{Arm, ArmCommand, ArmError, ArmState, Capabilities};

/// Limits the safety layer enforces.
#[derive(Debug, Clone, PartialEq)]
pub struct SafetyLimits {
    /// Joint names, for messages.
    pub joint_names: Vec<String>,
    /// Lowest joint positions.
    pub q_min_rad: Vec<f64>,
    /// Highest joint positions.
    pub q_max_rad: Vec<f64>,
    /// Stay this far inside the joint position limits.
    pub q_margin_rad: f64,
    /// Joint speed limits (commanded motion over one control period).
    pub dq_max_rad_s: Vec<f64>,
    /// Joint acceleration limits (change of commanded speed between periods).
    pub ddq_max_rad_s2: Vec<f64>,
    /// Box the tool centre point must stay in, world frame, per axis `[low, high]` (None: no box).
    pub workspace_m: Option<[[f64; 2]; 3]>,
    /// Tool centre point speed limit.
    pub tool_speed_max_m_s: f64,
    /// External force on the tool that stops the arm (where the arm reports it).
    pub f_ext_max_n: f64,
    /// No state for this long (beyond the control period) stops the arm.
    pub watchdog_ms: u64,
    /// The first step also starts the motion (a round trip to the arm's controller): it may take
    /// this long beyond the control period.
    pub start_timeout_ms: u64,
}

impl SafetyLimits {
    /// The robot's datasheet limits (joints, tool speed, collision force), no workspace box, a
    /// 0.01 rad margin and a 100 ms watchdog.
    pub fn from_robot(robot: &RobotSpec) -> Self {
        let l = &robot.limits;
        Self {
            joint_names: robot.joints.clone(),
            q_min_rad: l.position_min_rad.clone(),
            q_max_rad: l.position_max_rad.clone(),
            q_margin_rad: 0.01,
            dq_max_rad_s: l.velocity_rad_s.clone(),
            ddq_max_rad_s2: l.acceleration_rad_s2.clone(),
            workspace_m: None,
            tool_speed_max_m_s: l.tool_speed_m_s,
            f_ext_max_n: l.collision_force_n,
            watchdog_ms: 100,
            start_timeout_ms: 5000,
        }
    }
}

/// Limits of a parallel gripper, checked before a gripper command is applied: a command outside
/// them is refused with [`ArmError::OutOfRange`] naming the value and the range, and nothing moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GripperLimits {
    /// Largest opening.
    pub max_width_m: f64,
    /// Smallest finger speed (a slower one would take minutes to close: refused rather than
    /// waited for).
    pub min_speed_m_s: f64,
    /// Largest finger speed.
    pub max_speed_m_s: f64,
    /// Largest (continuous) grasp force.
    pub max_force_n: f64,
}

impl GripperLimits {
    /// The Franka Hand (datasheet): 0.08 m stroke, 0.1 m/s, 70 N continuous grasp force; speeds
    /// below 1 mm/s (the whole stroke in 80 s) are refused.
    pub const FRANKA_HAND: Self = Self {
        max_width_m: 0.08,
        min_speed_m_s: 0.001,
        max_speed_m_s: 0.1,
        max_force_n: 70.0,
    };

    /// The limits of a tool's gripper; the speed limit is the Franka Hand's (tool files do not
    /// give one).
    pub fn from_spec(spec: &asid_core::robot::GripperSpec) -> Self {
        Self {
            max_width_m: spec.max_width_m,
            max_force_n: spec.max_force_n,
            ..Self::FRANKA_HAND
        }
    }

    /// Checks a move: width in `[0, max_width_m]`, speed in `[min_speed_m_s, max_speed_m_s]`.
    pub fn check_move(&self, width_m: f64, speed_m_s: f64) -> Result<(), ArmError> {
        within("gripper width", width_m, 0.0, self.max_width_m, "m")?;
        within(
            "gripper speed",
            speed_m_s,
            self.min_speed_m_s,
            self.max_speed_m_s,
            "m/s",
        )
    }

    /// Checks the limits themselves (from a configuration): positive and finite, the minimum
    /// speed below the maximum, and no more than the Franka Hand's datasheet allows.
    pub fn validate(&self) -> Result<(), ArmError> {
        let hand = Self::FRANKA_HAND;
        within(
            "gripper limit max_width_m",
            self.max_width_m,
            1e-3,
            hand.max_width_m,
            "m",
        )?;
        within(
            "gripper limit max_speed_m_s",
            self.max_speed_m_s,
            hand.min_speed_m_s,
            hand.max_speed_m_s,
            "m/s",
        )?;
        within(
            "gripper limit min_speed_m_s",
            self.min_speed_m_s,
            hand.min_speed_m_s,
            self.max_speed_m_s,
            "m/s",
        )?;
        within(
            "gripper limit max_force_n",
            self.max_force_n,
            0.0,
            hand.max_force_n,
            "N",
        )
    }

    /// Checks a grasp: the move's checks, force in `[0, max_force_n]`, tolerances in
    /// `[0, max_width_m]`.
    pub fn check_grasp(
        &self,
        width_m: f64,
        speed_m_s: f64,
        force_n: f64,
        epsilon_inner_m: f64,
        epsilon_outer_m: f64,
    ) -> Result<(), ArmError> {
        within("gripper grasp force", force_n, 0.0, self.max_force_n, "N")?;
        self.check_move(width_m, speed_m_s)?;
        within(
            "gripper epsilon_inner",
            epsilon_inner_m,
            0.0,
            self.max_width_m,
            "m",
        )?;
        within(
            "gripper epsilon_outer",
            epsilon_outer_m,
            0.0,
            self.max_width_m,
            "m",
        )
    }
}

fn within(
    what: &'static str,
    value: f64,
    min: f64,
    max: f64,
    unit: &'static str,
) -> Result<(), ArmError> {
    if value >= min && value <= max {
        Ok(())
    } else {
        Err(ArmError::OutOfRange {
            what,
            value,
            min,
            max,
            unit,
        })
    }
}

/// A request to stop, shared with a signal handler (Ctrl-C) or another task.
#[derive(Debug, Clone, Default)]
pub struct StopSignal {
    flag: Arc<AtomicBool>,
    reason: Arc<Mutex<String>>,
}

impl StopSignal {
    /// A signal not yet raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop at the next control period.
    pub fn raise(&self, reason: &str) {
        if let Ok(mut r) = self.reason.lock() {
            reason.clone_into(&mut r);
        }
        self.flag.store(true, Ordering::SeqCst);
    }

    /// The reason, if raised.
    pub fn raised(&self) -> Option<String> {
        if !self.flag.load(Ordering::SeqCst) {
            return None;
        }
        Some(self.reason.lock().map(|r| r.clone()).unwrap_or_default())
    }
}

/// An arm behind the safety layer.
pub struct Safe<A> {
    inner: A,
    limits: SafetyLimits,
    kinematics: Option<asid_robot::Arm>,
    signal: StopSignal,
    last_target: Option<Vec<f64>>,
    last_speed: Option<Vec<f64>>,
    stopped: Option<String>,
    refusals: u64,
    started: bool,
    halted_state: Option<ArmState>,
}

impl<A: Arm> Safe<A> {
    /// Wraps `inner`; `kinematics` (the scene's arm model) enables the workspace and tool-speed
    /// checks. Refuses limits that do not cover every joint of the arm.
    pub fn new(
        inner: A,
        limits: SafetyLimits,
        kinematics: Option<asid_robot::Arm>,
        signal: StopSignal,
    ) -> Result<Self, ArmError> {
        let dof = inner.capabilities().dof;
        for (name, v) in [
            ("q_min_rad", &limits.q_min_rad),
            ("q_max_rad", &limits.q_max_rad),
            ("dq_max_rad_s", &limits.dq_max_rad_s),
            ("ddq_max_rad_s2", &limits.ddq_max_rad_s2),
        ] {
            if v.len() != dof || v.iter().any(|x| !x.is_finite()) {
                return Err(ArmError::BadCommand(format!(
                    "safety limits: {name} has {} finite values, the arm has {dof} joints",
                    v.iter().filter(|x| x.is_finite()).count()
                )));
            }
        }
        Ok(Self {
            inner,
            limits,
            kinematics,
            signal,
            last_target: None,
            last_speed: None,
            stopped: None,
            refusals: 0,
            started: false,
            halted_state: None,
        })
    }

    /// Commands refused so far.
    pub fn refusals(&self) -> u64 {
        self.refusals
    }

    /// The wrapped arm.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// The wrapped arm, mutably.
    pub fn inner_mut(&mut self) -> &mut A {
        &mut self.inner
    }

    fn limit(
        limit: &'static str,
        subject: String,
        value: f64,
        bound: f64,
        unit: &'static str,
    ) -> ArmError {
        ArmError::Limit {
            limit,
            subject,
            value,
            bound,
            unit,
        }
    }

    /// Checks a joint target against every limit; `Ok` means it may be sent.
    pub fn check(&self, q: &[f64]) -> Result<(), ArmError> {
        let l = &self.limits;
        let dof = self.inner.capabilities().dof;
        crate::types::check_dof(q, dof)?;
        let name = |i: usize| {
            l.joint_names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("joint {i}"))
        };
        for (i, &v) in q.iter().enumerate() {
            if !v.is_finite() {
                return Err(Self::limit("joint position", name(i), v, 0.0, "rad"));
            }
            let (lo, hi) = (
                l.q_min_rad[i] + l.q_margin_rad,
                l.q_max_rad[i] - l.q_margin_rad,
            );
            if v < lo {
                return Err(Self::limit("joint position", name(i), v, lo, "rad"));
            }
            if v > hi {
                return Err(Self::limit("joint position", name(i), v, hi, "rad"));
            }
        }
        let period = self.inner.capabilities().control_period_s;
        if let Some(prev) = &self.last_target {
            let speed: Vec<f64> = q.iter().zip(prev).map(|(a, b)| (a - b) / period).collect();
            for (i, &v) in speed.iter().enumerate() {
                if v.abs() > l.dq_max_rad_s[i] {
                    return Err(Self::limit(
                        "joint velocity",
                        name(i),
                        v.abs(),
                        l.dq_max_rad_s[i],
                        "rad/s",
                    ));
                }
            }
            if let Some(prev_speed) = &self.last_speed {
                for (i, (v, w)) in speed.iter().zip(prev_speed).enumerate() {
                    let a = ((v - w) / period).abs();
                    if a > l.ddq_max_rad_s2[i] {
                        return Err(Self::limit(
                            "joint acceleration",
                            name(i),
                            a,
                            l.ddq_max_rad_s2[i],
                            "rad/s^2",
                        ));
                    }
                }
            }
        }
        if let Some(kin) = &self.kinematics {
            let p = kin.world_from_tcp(q).translation.vector;
            if let Some(ws) = &l.workspace_m {
                for (axis, [lo, hi]) in ws.iter().enumerate() {
                    let label = format!("tool {}", ["x", "y", "z"][axis]);
                    if p[axis] < *lo {
                        return Err(Self::limit("workspace", label, p[axis], *lo, "m"));
                    }
                    if p[axis] > *hi {
                        return Err(Self::limit("workspace", label, p[axis], *hi, "m"));
                    }
                }
            }
            if let Some(prev) = &self.last_target {
                let p0 = kin.world_from_tcp(prev).translation.vector;
                let v = (p - p0).norm() / period;
                if v > l.tool_speed_max_m_s {
                    return Err(Self::limit(
                        "tool speed",
                        "tool".into(),
                        v,
                        l.tool_speed_max_m_s,
                        "m/s",
                    ));
                }
            }
        }
        Ok(())
    }

    async fn halt(&mut self, why: String) {
        self.stopped = Some(why);
        let limit = Duration::from_millis(self.limits.watchdog_ms.max(1) * 10);
        // Best effort: the arm may be the thing that failed.
        if let Ok(Ok(s)) = tokio::time::timeout(limit, self.inner.stop()).await {
            self.halted_state = Some(s);
        }
    }

    fn remember(&mut self, q: &[f64]) {
        let period = self.inner.capabilities().control_period_s;
        self.last_speed = self
            .last_target
            .as_ref()
            .map(|prev| q.iter().zip(prev).map(|(a, b)| (a - b) / period).collect());
        self.last_target = Some(q.to_vec());
    }

    fn check_state(&self, s: &ArmState) -> Result<(), ArmError> {
        if let Some(f) = s.f_ext_n {
            let norm = (f[0] * f[0] + f[1] * f[1] + f[2] * f[2]).sqrt();
            if norm.is_nan() || norm > self.limits.f_ext_max_n {
                return Err(Self::limit(
                    "external force",
                    "tool".into(),
                    norm,
                    self.limits.f_ext_max_n,
                    "N",
                ));
            }
        }
        Ok(())
    }
}

impl<A: Arm> Arm for Safe<A> {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn state(&mut self) -> Result<ArmState, ArmError> {
        let s = self.inner.state().await?;
        if self.last_target.is_none() {
            // Before the first command the arm is at rest: the first step's acceleration counts.
            self.last_target = Some(s.q_cmd_rad.clone());
            self.last_speed = Some(vec![0.0; s.q_cmd_rad.len()]);
        }
        Ok(s)
    }

    async fn step(&mut self, command: &ArmCommand) -> Result<ArmState, ArmError> {
        if let Some(why) = &self.stopped {
            return Err(ArmError::Stopped(why.clone()));
        }
        if let Some(why) = self.signal.raised() {
            self.halt(why.clone()).await;
            return Err(ArmError::Stopped(why));
        }
        if self.last_target.is_none() {
            self.state().await?;
        }
        if let Some(q) = command.joint_target()
            && let Err(e) = self.check(q)
        {
            self.refusals += 1;
            return Err(e);
        }
        let period_ms = (self.inner.capabilities().control_period_s * 1e3).ceil() as u64;
        let limit_ms = if self.started {
            self.limits.watchdog_ms
        } else {
            self.limits.watchdog_ms.max(self.limits.start_timeout_ms)
        };
        let state = match tokio::time::timeout(
            Duration::from_millis(period_ms + limit_ms),
            self.inner.step(command),
        )
        .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                self.halt(e.to_string()).await;
                return Err(e);
            }
            Err(_) => {
                let e = ArmError::LinkLost {
                    silent_ms: period_ms + limit_ms,
                    limit_ms,
                };
                self.halt(e.to_string()).await;
                return Err(e);
            }
        };
        self.started = true;
        match command.joint_target() {
            Some(q) => self.remember(q),
            None => {
                let held = self.last_target.clone().unwrap_or_default();
                self.remember(&held);
            }
        }
        if let Err(e) = self.check_state(&state) {
            self.halt(e.to_string()).await;
            return Err(e);
        }
        Ok(state)
    }

    async fn stop(&mut self) -> Result<ArmState, ArmError> {
        // Already halted by a fault: the arm was stopped then; report the state it stopped in.
        if let Some(s) = self.halted_state.clone() {
            return Ok(s);
        }
        self.stopped = Some("stop requested".into());
        self.inner.stop().await
    }
}

#[cfg(test)]
mod gripper_limit_tests {
    use super::GripperLimits;

    #[test]
    fn configured_limits_beyond_the_hand_are_refused() {
        let hand = GripperLimits::FRANKA_HAND;
        hand.validate().expect("the datasheet itself");
        for (bad, what) in [
            (
                GripperLimits {
                    max_force_n: 140.0,
                    ..hand
                },
                "max_force_n",
            ),
            (
                GripperLimits {
                    max_speed_m_s: f64::NAN,
                    ..hand
                },
                "max_speed_m_s",
            ),
            (
                GripperLimits {
                    min_speed_m_s: 0.0,
                    ..hand
                },
                "min_speed_m_s",
            ),
            (
                GripperLimits {
                    max_width_m: 0.2,
                    ..hand
                },
                "max_width_m",
            ),
        ] {
            let err = bad.validate().expect_err(what).to_string();
            assert!(err.contains(what), "{what}: {err}");
        }
    }
}
