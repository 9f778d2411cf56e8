//! The lab world shared by the arm and the tracker.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use asid_arm::{
    Arm, ArmCommand, ArmError, ArmMode, ArmState, Backend, Capabilities, PoseError, PoseSample,
    PoseSource, PoseStats,
};
use asid_core::scene::{ArmModel, ChannelKind};

use crate::config::LabConfig;
use crate::gripper::LabGripper;
use crate::tracking::JointTracking;
use asid_sim::{SimError, SimWorld, Simulator};
use nalgebra::{Isometry3, UnitQuaternion, Vector3};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

pub(crate) struct World {
    pub(crate) world: SimWorld,
    rng: StdRng,
    cfg: LabConfig,
    offsets_rad: Vec<f64>,
    joint_sigma_rad: f64,
    tracked: Vec<(String, f64)>,
    base_from_world: Isometry3<f64>,
    in_flight: VecDeque<(u64, PoseSample)>,
    pub(crate) stopped: bool,
    stats: PoseStats,
    /// The last target as commanded (the applied one carries the tracking offset).
    last_target: Vec<f64>,
    /// The last target as applied, where the next period's interpolation starts.
    pub(crate) last_applied: Vec<f64>,
    /// The lag model of a kinematic arm (`None`: the joints follow the command exactly).
    tracking: Option<JointTracking>,
    /// When the tracker takes its next frame, on the arm clock.
    next_frame_s: f64,
    /// Control periods run.
    steps: usize,
}

pub(crate) fn lock(shared: &Mutex<World>) -> Result<MutexGuard<'_, World>, ArmError> {
    shared
        .lock()
        .map_err(|_| ArmError::Backend("simulated lab poisoned by an earlier panic".into()))
}

fn noise(rng: &mut StdRng, sigma: f64) -> f64 {
    Normal::new(0.0, sigma).map_or(0.0, |d| d.sample(rng))
}

impl World {
    fn stamp_ns(&self) -> u64 {
        (self.world.time_s() * 1e9).round() as u64
    }

    fn state(&mut self) -> ArmState {
        let n = self.world.arm().dof();
        let sigma = self.joint_sigma_rad * self.cfg.noise_scale;
        let q: Vec<f64> = self.world.joint_positions().to_vec();
        let q_rad = q.iter().map(|v| v + noise(&mut self.rng, sigma)).collect();
        let dynamic = self.world.arm_model() == ArmModel::Dynamic;
        ArmState {
            stamp_ns: self.stamp_ns(),
            q_rad,
            dq_rad_s: self.world.joint_velocities().to_vec(),
            q_cmd_rad: self.last_target.clone(),
            tau_nm: if dynamic {
                self.world.joint_torques().to_vec()
            } else {
                Vec::new()
            },
            tau_ext_nm: Vec::new(),
            f_ext_n: None,
            gripper_width_m: self.world.gripper().map(|g| g.width_m),
            mode: if self.stopped {
                ArmMode::Stopped
            } else if self.steps == 0 {
                ArmMode::Idle
            } else {
                ArmMode::Moving
            },
        }
        .with_dof(n)
    }

    /// One control period (`n` physics steps) towards `applied`: the command interpolated linearly
    /// over the period, followed by the joints (exactly, or through the lag model), and the
    /// tracker's frames taken at its own rate.
    pub(crate) fn advance(&mut self, applied: &[f64], n: usize) -> Result<(), SimError> {
        let dt = self.world.scene().spec.physics.dt_s;
        let from = self.last_applied.clone();
        let qd: Vec<f64> = from
            .iter()
            .zip(applied)
            .map(|(a, b)| (b - a) / (n as f64 * dt))
            .collect();
        for k in 1..=n {
            let u = k as f64 / n as f64;
            let target: Vec<f64> = from
                .iter()
                .zip(applied)
                .map(|(a, b)| a + (b - a) * u)
                .collect();
            match self.tracking.as_mut() {
                Some(t) => {
                    let q = t.step(&target, &qd, dt).to_vec();
                    self.world.step_joint_command(&q, 1)?;
                }
                None => self.world.step_joint_command(&target, 1)?,
            }
            self.frames(dt);
        }
        self.last_applied = applied.to_vec();
        Ok(())
    }

    /// The tracker's frames due by now: one per frame period, a physics step early or late with
    /// the pose jitter probability.
    fn frames(&mut self, dt: f64) {
        let now = self.world.time_s();
        while self.next_frame_s <= now + 1e-9 {
            self.capture();
            let mut period = 1.0 / self.cfg.pose_rate_hz;
            if self.rng.random_bool(self.cfg.pose_jitter_probability) {
                period += if self.rng.random_bool(0.5) { dt } else { -dt };
            }
            self.next_frame_s += period.max(dt);
        }
    }

    /// Takes the tracker's picture now. Like a tracker whose stamp does not account for its own
    /// processing, the picture is stamped (and delivered) after the latency.
    fn capture(&mut self) {
        let stamp = self.stamp_ns() + (self.cfg.pose_latency_ms * 1e6).round() as u64;
        let release = stamp;
        let rot_sigma = self.cfg.pose_rotation_sigma_rad * self.cfg.noise_scale;
        for k in 0..self.tracked.len() {
            let (name, sigma) = self.tracked[k].clone();
            let Some(world_pose) = self.world.object_pose(&name) else {
                continue;
            };
            let pose = self.base_from_world * world_pose;
            let s = sigma * self.cfg.noise_scale;
            let p = pose.translation.vector;
            let axis = Vector3::new(
                noise(&mut self.rng, rot_sigma),
                noise(&mut self.rng, rot_sigma),
                noise(&mut self.rng, rot_sigma),
            );
            let q = UnitQuaternion::from_scaled_axis(axis) * pose.rotation;
            let sample = PoseSample {
                stamp_ns: stamp,
                sender_t_s: stamp as f64 * 1e-9,
                object: name,
                p_m: [
                    p.x + noise(&mut self.rng, s),
                    p.y + noise(&mut self.rng, s),
                    p.z + noise(&mut self.rng, s),
                ],
                q_wxyz: [q.w, q.i, q.j, q.k],
            };
            self.in_flight.push_back((release, sample));
        }
    }
}

trait WithDof {
    fn with_dof(self, n: usize) -> Self;
}

impl WithDof for ArmState {
    fn with_dof(mut self, n: usize) -> Self {
        self.dq_rad_s.resize(n, 0.0);
        self
    }
}

/// The simulated arm of the lab.
pub struct SimLab {
    shared: Arc<Mutex<World>>,
    caps: Capabilities,
    substeps: usize,
    truth: Vec<f64>,
}

/// The simulated lab's motion tracker.
pub struct LabTracker {
    shared: Arc<Mutex<World>>,
}

impl SimLab {
    /// A lab whose hidden physical parameters are `truth` (scene order), with its tracker.
    pub fn new(
        sim: &Simulator,
        truth: &[f64],
        cfg: LabConfig,
    ) -> Result<(Self, LabTracker), SimError> {
        cfg.validate()
            .map_err(|e| SimError::Config(e.to_string()))?;
        let scene = sim.scene();
        let world = sim.world(truth)?;
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let n = world.arm().dof();
        let offsets_rad = (0..n)
            .map(|_| noise(&mut rng, cfg.tracking_offset_sigma_rad))
            .collect();
        let channels = &scene.spec.observation.channels;
        let joint_sigma_rad = channels
            .iter()
            .find(|c| c.kind == ChannelKind::JointPosition)
            .map_or(cfg.joint_sigma_rad, |c| c.sigma);
        let tracked = scene.tracked_objects();
        let b = &scene.spec.arm.base;
        let base_from_world = asid_robot::urdf_pose(b.xyz_m, b.rpy_rad).inverse();
        let caps = Capabilities {
            backend: Backend::Sim,
            robot: scene.robot.name.clone(),
            dof: n,
            control_period_s: scene.control_period_s(),
            reports_external_force: false,
            has_gripper: world.gripper().is_some(),
        };
        let mut w = World {
            world,
            rng,
            cfg,
            offsets_rad,
            joint_sigma_rad,
            tracked,
            base_from_world,
            in_flight: VecDeque::new(),
            stopped: false,
            stats: PoseStats::default(),
            last_target: Vec::new(),
            last_applied: Vec::new(),
            tracking: None,
            next_frame_s: 0.0,
            steps: 0,
        };
        let q0 = w.world.commanded_joint_positions().to_vec();
        if w.cfg.tracking_lag && w.world.arm_model() == ArmModel::Kinematic {
            let arm = w.world.arm();
            let limits = (arm.q_min_rad.as_slice(), arm.q_max_rad.as_slice());
            w.tracking = Some(JointTracking::new(
                &scene.robot.controller,
                w.cfg.link_inertia_kgm2,
                limits,
                &q0,
            ));
        }
        // The arm rests at the start; its joints carry the offset from the first command on.
        w.last_applied.clone_from(&q0);
        w.last_target = q0;
        w.next_frame_s = w.world.time_s();
        w.frames(scene.spec.physics.dt_s);
        let shared = Arc::new(Mutex::new(w));
        Ok((
            Self {
                shared: shared.clone(),
                caps,
                substeps: scene.substeps(),
                truth: truth.to_vec(),
            },
            LabTracker { shared },
        ))
    }

    /// The lab's gripper (None if the scene's tool has none): it moves the fingers of this lab's
    /// world, so the arm and the gripper act on the same objects and share one clock.
    pub fn gripper(&self) -> Option<LabGripper> {
        LabGripper::new(self.shared.clone(), self.substeps)
    }

    /// The hidden true parameters (for the final comparison; identification never sees them).
    pub fn truth(&self) -> &[f64] {
        &self.truth
    }
}

impl Arm for SimLab {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn state(&mut self) -> Result<ArmState, ArmError> {
        Ok(lock(&self.shared)?.state())
    }

    async fn step(&mut self, command: &ArmCommand) -> Result<ArmState, ArmError> {
        let mut w = lock(&self.shared)?;
        if w.stopped {
            return Err(ArmError::Stopped("the session was stopped".into()));
        }
        let target: Vec<f64> = match command.checked_joint_target(self.caps.dof)? {
            Some(q) => q.to_vec(),
            // Hold: the last target as commanded (the applied one carries the tracking offset).
            None => w.last_target.clone(),
        };
        let applied: Vec<f64> = target
            .iter()
            .zip(&w.offsets_rad)
            .map(|(q, o)| q + o)
            .collect();
        let p = w.cfg.jitter_probability;
        let substeps = if w.rng.random_bool(p) {
            if w.rng.random_bool(0.5) {
                self.substeps + 1
            } else {
                self.substeps.saturating_sub(1).max(1)
            }
        } else {
            self.substeps
        };
        // The joint limits of the real arm: a reflex, like Franka's.
        let arm = w.world.arm();
        if let Some((i, v)) = applied
            .iter()
            .enumerate()
            .find(|&(i, v)| !(*v >= arm.q_min_rad[i] && *v <= arm.q_max_rad[i]))
        {
            return Err(ArmError::Reflex(format!(
                "joint {i} target {v} rad outside its limits [{}, {}]",
                arm.q_min_rad[i], arm.q_max_rad[i]
            )));
        }
        w.advance(&applied, substeps)
            .map_err(|e| ArmError::Reflex(e.to_string()))?;
        w.steps += 1;
        w.last_target = target;
        Ok(w.state())
    }

    async fn stop(&mut self) -> Result<ArmState, ArmError> {
        let mut w = lock(&self.shared)?;
        w.stopped = true;
        let hold = w.last_applied.clone();
        w.advance(&hold, self.substeps)
            .map_err(|e| ArmError::Backend(format!("holding after the stop: {e}")))?;
        Ok(w.state())
    }
}

impl PoseSource for LabTracker {
    fn poll(&mut self, now_ns: u64) -> Result<Vec<PoseSample>, PoseError> {
        let mut w = self
            .shared
            .lock()
            .map_err(|_| PoseError::Source("simulated lab poisoned".into()))?;
        let mut out = Vec::new();
        while w.in_flight.front().is_some_and(|(t, _)| *t <= now_ns) {
            if let Some((_, s)) = w.in_flight.pop_front() {
                out.push(s);
            }
        }
        w.stats.received += out.len() as u64;
        w.stats.accepted += out.len() as u64;
        w.stats.clock_offset_s = Some(0.0);
        Ok(out)
    }

    fn stats(&self) -> PoseStats {
        self.shared
            .lock()
            .map(|w| w.stats.clone())
            .unwrap_or_default()
    }
}
