//! A dummy arm: joints follow their commands with a first-order lag on a virtual clock. For tests
//! of the layers around arms (safety, recording, replay, executors) without physics or a network.

use crate::{Arm, ArmCommand, ArmError, ArmMode, ArmState, Backend, Capabilities};

/// An in-memory arm with perfect sensing and a first-order joint response.
#[derive(Debug, Clone)]
pub struct DummyArm {
    caps: Capabilities,
    state: ArmState,
    q_min_rad: Vec<f64>,
    q_max_rad: Vec<f64>,
    /// Fraction of the remaining error closed per control period (1 = perfect tracking).
    pub gain: f64,
    /// External force the arm will report (tests of the force limit).
    pub f_ext_n: Option<[f64; 3]>,
    /// Makes `step` never resolve, like an arm whose link died (tests of the watchdog).
    pub hang: bool,
}

impl DummyArm {
    /// A dummy `dof`-joint arm at `q0_rad` with joint limits, stepping every `period_s`.
    pub fn new(q0_rad: Vec<f64>, q_min_rad: Vec<f64>, q_max_rad: Vec<f64>, period_s: f64) -> Self {
        let dof = q0_rad.len();
        Self {
            caps: Capabilities {
                backend: Backend::Sim,
                robot: "dummy".into(),
                dof,
                control_period_s: period_s,
                reports_external_force: true,
                has_gripper: false,
            },
            state: ArmState {
                stamp_ns: 0,
                q_cmd_rad: q0_rad.clone(),
                q_rad: q0_rad,
                dq_rad_s: vec![0.0; dof],
                tau_nm: vec![0.0; dof],
                tau_ext_nm: vec![0.0; dof],
                f_ext_n: Some([0.0; 3]),
                gripper_width_m: None,
                mode: ArmMode::Idle,
            },
            q_min_rad,
            q_max_rad,
            gain: 1.0,
            f_ext_n: None,
            hang: false,
        }
    }

    fn period_ns(&self) -> u64 {
        (self.caps.control_period_s * 1e9).round() as u64
    }
}

impl Arm for DummyArm {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn state(&mut self) -> Result<ArmState, ArmError> {
        Ok(self.state.clone())
    }

    async fn step(&mut self, command: &ArmCommand) -> Result<ArmState, ArmError> {
        if self.state.mode == ArmMode::Stopped {
            return Err(ArmError::Stopped("the session was stopped".into()));
        }
        if let Some(q) = command.checked_joint_target(self.caps.dof)? {
            for (i, v) in q.iter().enumerate() {
                if !(*v >= self.q_min_rad[i] && *v <= self.q_max_rad[i]) {
                    return Err(ArmError::Reflex(format!(
                        "joint {i} target {v} outside [{}, {}]",
                        self.q_min_rad[i], self.q_max_rad[i]
                    )));
                }
            }
            self.state.q_cmd_rad = q.to_vec();
        }
        if self.hang {
            std::future::pending::<()>().await;
        }
        let dt = self.caps.control_period_s;
        for i in 0..self.caps.dof {
            let dq = self.gain * (self.state.q_cmd_rad[i] - self.state.q_rad[i]);
            self.state.q_rad[i] += dq;
            self.state.dq_rad_s[i] = dq / dt;
        }
        self.state.stamp_ns += self.period_ns();
        self.state.mode = ArmMode::Moving;
        if let Some(f) = self.f_ext_n {
            self.state.f_ext_n = Some(f);
        }
        Ok(self.state.clone())
    }

    async fn stop(&mut self) -> Result<ArmState, ArmError> {
        self.state.dq_rad_s.iter_mut().for_each(|v| *v = 0.0);
        self.state.q_cmd_rad.clone_from(&self.state.q_rad);
        self.state.mode = ArmMode::Stopped;
        Ok(self.state.clone())
    }
}
