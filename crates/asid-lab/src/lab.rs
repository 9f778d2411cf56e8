//! The lab world shared by the arm and the tracker.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use asid_arm::{
    Arm, ArmCommand, ArmError, ArmMode, ArmState, Backend, Capabilities, PoseError, PoseSample,
    PoseSource, PoseStats,
};
use asid_core::scene::{ArmModel, ChannelKind};
use asid_sim::{SimError, SimWorld, Simulator};
use nalgebra::{Isometry3, UnitQuaternion, Vector3};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

/// How imperfect the simulated lab is.
#[derive(Debug, Clone, PartialEq)]
pub struct LabConfig {
    /// Seed of every random draw of the lab (noise, jitter, tracking offsets).
    pub seed: u64,
    /// Sensor noise as a multiple of the scene's sigmas (0: exact sensors).
    pub noise_scale: f64,
    /// Tracker latency: a pose is delivered this long after it was true.
    pub pose_latency_ms: f64,
    /// Orientation noise of the tracker (times `noise_scale`).
    pub pose_rotation_sigma_rad: f64,
    /// Probability that a control period lasts one physics step more or less.
    pub jitter_probability: f64,
    /// Standard deviation of the constant per-joint offset between command and motion. Off by
    /// default: identification replays commands, and a strike is so sensitive to where the tool
    /// meets the object that 2e-5 rad (0.02 mm at the tool) already biases a friction estimate to
    /// its bound (docs/benchmarks.md).
    pub tracking_offset_sigma_rad: f64,
    /// Joint-position noise when the scene does not observe joints.
    pub joint_sigma_rad: f64,
}

impl Default for LabConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            noise_scale: 1.0,
            pose_latency_ms: 12.0,
            pose_rotation_sigma_rad: 0.002,
            jitter_probability: 0.05,
            tracking_offset_sigma_rad: 0.0,
            joint_sigma_rad: 1e-4,
        }
    }
}

impl LabConfig {
    /// Checks the settings; the error names the field and the allowed range.
    pub fn validate(&self) -> Result<(), String> {
        let checks = [
            ("noise_scale", self.noise_scale, 0.0, 100.0),
            ("pose_latency_ms", self.pose_latency_ms, 0.0, 10_000.0),
            (
                "pose_rotation_sigma_rad",
                self.pose_rotation_sigma_rad,
                0.0,
                1.0,
            ),
            ("jitter_probability", self.jitter_probability, 0.0, 1.0),
            (
                "tracking_offset_sigma_rad",
                self.tracking_offset_sigma_rad,
                0.0,
                0.1,
            ),
            ("joint_sigma_rad", self.joint_sigma_rad, 0.0, 0.1),
        ];
        for (name, v, lo, hi) in checks {
            if !(v >= lo && v <= hi) {
                return Err(format!("lab setting {name} = {v}: allowed [{lo}, {hi}]"));
            }
        }
        Ok(())
    }
}

struct World {
    world: SimWorld,
    rng: StdRng,
    cfg: LabConfig,
    offsets_rad: Vec<f64>,
    joint_sigma_rad: f64,
    tracked: Vec<(String, f64)>,
    base_from_world: Isometry3<f64>,
    in_flight: VecDeque<(u64, PoseSample)>,
    stopped: bool,
    stats: PoseStats,
    last_target: Vec<f64>,
}

fn lock(shared: &Mutex<World>) -> Result<MutexGuard<'_, World>, ArmError> {
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
            q_cmd_rad: self.world.commanded_joint_positions().to_vec(),
            tau_nm: if dynamic {
                self.world.joint_torques().to_vec()
            } else {
                Vec::new()
            },
            tau_ext_nm: Vec::new(),
            f_ext_n: None,
            gripper_width_m: None,
            mode: if self.stopped {
                ArmMode::Stopped
            } else if self.world.control_steps() == 0 {
                ArmMode::Idle
            } else {
                ArmMode::Moving
            },
        }
        .with_dof(n)
    }

    /// Takes the tracker's picture now; it is delivered after the latency.
    fn capture(&mut self) {
        let stamp = self.stamp_ns();
        let release = stamp + (self.cfg.pose_latency_ms * 1e6).round() as u64;
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
        cfg.validate().map_err(SimError::Config)?;
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
            has_gripper: false,
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
        };
        w.last_target = w.world.commanded_joint_positions().to_vec();
        w.capture();
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
        w.world
            .step_joint_command(&applied, substeps)
            .map_err(|e| ArmError::Reflex(e.to_string()))?;
        w.capture();
        let mut s = w.state();
        s.q_cmd_rad.clone_from(&target);
        w.last_target = target;
        Ok(s)
    }

    async fn stop(&mut self) -> Result<ArmState, ArmError> {
        let mut w = lock(&self.shared)?;
        w.stopped = true;
        let hold = self.substeps;
        w.world.hold(hold);
        w.capture();
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
