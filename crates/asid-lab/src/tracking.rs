//! How the lab's joints follow their command: a joint PD at the robot file's gains.

use asid_core::robot::ControllerSpec;

/// Per joint, `I q'' = kp (q_t - q) + kd (qd_t - qd) - b qd` with `I` = armature + link inertia,
/// stepped by backward Euler (stable at any step for these stiff gains).
#[derive(Debug, Clone)]
pub(crate) struct JointTracking {
    kp: Vec<f64>,
    kd: Vec<f64>,
    damping: Vec<f64>,
    inertia: Vec<f64>,
    q_min: Vec<f64>,
    q_max: Vec<f64>,
    q: Vec<f64>,
    qd: Vec<f64>,
}

impl JointTracking {
    /// At rest at `q0`.
    pub(crate) fn new(
        c: &ControllerSpec,
        link_inertia_kgm2: f64,
        limits: (&[f64], &[f64]),
        q0: &[f64],
    ) -> Self {
        Self {
            kp: c.kp_nm_per_rad.clone(),
            kd: c.kd_nms_per_rad.clone(),
            damping: c.joint_damping_nms_per_rad.clone(),
            inertia: c
                .armature_kgm2
                .iter()
                .map(|a| a + link_inertia_kgm2)
                .collect(),
            q_min: limits.0.to_vec(),
            q_max: limits.1.to_vec(),
            q: q0.to_vec(),
            qd: vec![0.0; q0.len()],
        }
    }

    /// One step of `dt_s` towards the target position and velocity; returns the joint positions,
    /// kept inside the limits (the real arm's own limit; overshoot by the filter is not a reflex).
    pub(crate) fn step(&mut self, q_target: &[f64], qd_target: &[f64], dt_s: f64) -> &[f64] {
        for i in 0..self.q.len() {
            let m = self.inertia[i] / dt_s;
            let v = (m * self.qd[i]
                + self.kp[i] * (q_target[i] - self.q[i])
                + self.kd[i] * qd_target[i])
                / (m + self.kp[i] * dt_s + self.kd[i] + self.damping[i]);
            self.qd[i] = v;
            self.q[i] = (self.q[i] + dt_s * v).clamp(self.q_min[i], self.q_max[i]);
        }
        &self.q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ControllerSpec {
        ControllerSpec {
            kp_nm_per_rad: vec![4000.0],
            kd_nms_per_rad: vec![400.0],
            armature_kgm2: vec![0.1],
            joint_damping_nms_per_rad: vec![1.0],
        }
    }

    #[test]
    fn lags_a_ramp_then_settles_on_a_hold() {
        let mut t = JointTracking::new(&spec(), 0.5, (&[-3.0], &[3.0]), &[0.0]);
        let (dt, v) = (0.002, 1.0);
        let mut lag: f64 = 0.0;
        for k in 1..=50 {
            let target = v * dt * k as f64;
            let q = t.step(&[target], &[v], dt)[0];
            lag = lag.max(target - q);
        }
        // Feed-forward: the ramp is tracked after a short transient, never exactly.
        assert!(lag > 1e-4 && lag < 5e-3, "largest lag {lag}");
        for _ in 0..2000 {
            t.step(&[0.1], &[0.0], dt);
        }
        assert!((t.q[0] - 0.1).abs() < 1e-6, "{}", t.q[0]);
    }
}
