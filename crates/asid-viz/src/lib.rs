//! The rerun view of asid, through rerun's Rust SDK (the only crate that depends on rerun).
//!
//! [`Viz`] is an [`asid_station::Observer`]: given to the station's loop (or fed a recorded run
//! with [`Viz::replay_recording`]) it logs
//! - `world/table`, `world/statics/<name>`: the scene's static geometry;
//! - `world/robot/<link>`: every link of the robot, drawn from its URDF (primitives, and meshes in
//!   the formats rerun reads from one file: [`DRAWABLE_MESHES`]), its transform
//!   on the `time` timeline from each measured joint state; `world/robot/tool`: the tool;
//! - `world/objects/<name>`: each tracked object's shape at its tracker pose;
//! - `world/<episode>/planned_tcp`, `executed_tcp`, `identified/<object>`: the planned and
//!   executed tool paths, and the object's path in the identified simulator;
//! - `plots/joints/<joint>`: joint positions; `plots/design/criterion` and
//!   `plots/design/random_median`; `plots/params/<name>/{estimate,lo,hi}`: the fit with its 95 %
//!   interval, one point per fit on the timeline;
//! - `plots/design/search`: the planner's best criterion per CEM iteration, on the
//!   `design_iteration` timeline; `plots/fit/cost` and `plots/fit/params/<name>/{estimate,lo,hi}`:
//!   the identification's cost and parameters per solver iteration with the final 95 % interval,
//!   on the `fit_iteration` timeline ([`series`]);
//! - `log`: notes, verdicts and task outcomes.
//!
//! The `time` timeline is seconds of arm clock from the run's first state, episodes one after the
//! other.

mod geometry;
mod readback;
pub mod series;

use std::path::{Path, PathBuf};

use asid_arm::{ArmState, PoseSample, Record, Recording};
use asid_core::Scene;
use asid_station::{Event, Observer};
use nalgebra::Isometry3;
use rerun::RecordingStream;

pub use geometry::{DRAWABLE_MESHES, FixedLink, Link, Mesh, resolve_mesh, robot_links};
use geometry::{log_shape, pose_xyz_rpy, transform, v3};
pub use readback::{EntityContents, rrd_contents};

/// What failed while logging.
#[derive(Debug, thiserror::Error)]
pub enum VizError {
    /// The rerun stream.
    #[error("rerun: {0}")]
    Rerun(#[from] rerun::RecordingStreamError),
    /// Sending what was logged.
    #[error("rerun: flushing: {0}")]
    Flush(String),
    /// An `.rrd` file that could not be read back.
    #[error("{file}: {reason}")]
    Rrd {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The robot's URDF.
    #[error("{file}: {reason}")]
    Urdf {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Where the view goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// An `.rrd` file.
    Save(PathBuf),
    /// A viewer started for it (`rerun` on the PATH).
    Spawn,
    /// A running viewer at its default gRPC address.
    Connect,
}

impl Sink {
    /// `save` (to `rrd`), `spawn`, `connect`, or `off` (None).
    pub fn parse(s: &str, rrd: &Path) -> Option<Option<Self>> {
        match s {
            "save" => Some(Some(Self::Save(rrd.to_path_buf()))),
            "spawn" => Some(Some(Self::Spawn)),
            "connect" => Some(Some(Self::Connect)),
            "off" => Some(None),
            _ => None,
        }
    }

    /// The name [`Sink::parse`] reads for this sink.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Save(_) => "save",
            Self::Spawn => "spawn",
            Self::Connect => "connect",
        }
    }
}

/// The rerun logger of a run.
pub struct Viz {
    rec: RecordingStream,
    arm: asid_robot::Arm,
    links: Vec<Link>,
    /// Where the URDF's mesh files are looked up from.
    urdf_dir: PathBuf,
    fixed: Vec<geometry::FixedLink>,
    joints: Vec<String>,
    objects: Vec<String>,
    sim: Option<asid_sim::Simulator>,
    /// Arm clock of the current episode's first record, and the timeline's offset for it.
    episode_t0_ns: Option<u64>,
    offset_s: f64,
    now_s: f64,
    episode: usize,
    executed: Vec<[f32; 3]>,
    last_actions: Vec<Vec<f64>>,
    /// The next free number on the `fit_iteration` timeline.
    fit_iteration: i64,
    /// A failed log was reported.
    warned: bool,
}

impl Viz {
    /// Opens the sink and logs the static scene (table, static geometry, objects at their start
    /// poses, the robot's link shapes, the tool). `sim` (the scene's simulator) lets the view draw
    /// planned paths and the identified simulator's prediction.
    pub fn new(
        scene: &Scene,
        sim: Option<asid_sim::Simulator>,
        sink: &Sink,
    ) -> Result<Self, VizError> {
        let builder = rerun::RecordingStreamBuilder::new("asid");
        let rec = match sink {
            Sink::Save(path) => builder.save(path)?,
            Sink::Spawn => builder.spawn()?,
            Sink::Connect => builder.connect_grpc()?,
        };
        let arm = asid_robot::arm_for_scene(scene).map_err(|e| VizError::Urdf {
            file: scene.robot_path.clone(),
            reason: e.to_string(),
        })?;
        let urdf_path = arm.chain.urdf_path.clone();
        let text = std::fs::read_to_string(&urdf_path).map_err(|e| VizError::Urdf {
            file: urdf_path.clone(),
            reason: e.to_string(),
        })?;
        let urdf =
            asid_robot::urdf_check::parse_urdf(&urdf_path, &text).map_err(|e| VizError::Urdf {
                file: urdf_path.clone(),
                reason: e.to_string(),
            })?;
        let chain_links: Vec<String> = arm
            .chain
            .joints
            .iter()
            .map(|j| j.child_link.clone())
            .collect();
        let joints = arm.chain.joints.iter().map(|j| j.name.clone()).collect();
        let (links, fixed) = robot_links(&urdf, &scene.robot.base_link, &chain_links);
        let objects = scene
            .tracked_objects()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let viz = Self {
            rec,
            arm,
            urdf_dir: urdf_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            links,
            fixed,
            joints,
            objects,
            sim,
            episode_t0_ns: None,
            offset_s: 0.0,
            now_s: 0.0,
            episode: 0,
            executed: Vec::new(),
            last_actions: Vec::new(),
            fit_iteration: 0,
            warned: false,
        };
        viz.log_scene(scene)?;
        Ok(viz)
    }

    fn log_scene(&self, scene: &Scene) -> Result<(), VizError> {
        let rec = &self.rec;
        rec.log_static("world", &rerun::ViewCoordinates::RIGHT_HAND_Z_UP())?;
        let t = &scene.spec.table;
        let table = asid_core::Shape::Box {
            half_extents_m: [0.5 * t.size_m[0], 0.5 * t.size_m[1], 0.5 * t.size_m[2]],
        };
        let top = Isometry3::translation(t.center_xy_m[0], t.center_xy_m[1], -0.5 * t.size_m[2]);
        log_shape(rec, "world/table", &table, &top, [150, 120, 90])?;
        for s in &scene.spec.statics {
            let pose = pose_xyz_rpy(s.pose.xyz_m, s.pose.rpy_rad);
            log_shape(
                rec,
                &format!("world/statics/{}", s.name),
                &s.shape,
                &pose,
                [120, 120, 140],
            )?;
        }
        rec.set_duration_secs("time", 0.0);
        for o in &scene.spec.objects {
            let pose = pose_xyz_rpy(o.pose.xyz_m, o.pose.rpy_rad);
            let path = if o.attach == Some(asid_core::scene::Attach::Tool) {
                // Held by the tool: its pose is relative to the tool centre point.
                let path = format!("world/robot/tool/{}", o.name);
                rec.log_static(
                    path.as_str(),
                    &transform(&(self.arm.flange_from_tcp * pose)),
                )?;
                path
            } else {
                let path = format!("world/objects/{}", o.name);
                rec.log(path.as_str(), &transform(&pose))?;
                path
            };
            log_shape(
                rec,
                &format!("{path}/shape"),
                &o.shape,
                &Isometry3::identity(),
                [220, 140, 40],
            )?;
        }
        for (i, link) in self.links.iter().enumerate() {
            for (k, (shape, pose)) in link.shapes.iter().enumerate() {
                let path = format!("world/robot/{}/visual_{k}", link.name);
                log_shape(rec, &path, shape, pose, [200, 200, 205])?;
            }
            for (k, mesh) in link.meshes.iter().enumerate() {
                let path = format!("world/robot/{}/mesh_{k}", link.name);
                match geometry::resolve_mesh(&self.urdf_dir, &mesh.filename)
                    .ok_or_else(|| {
                        format!("no such file (looked up from {})", self.urdf_dir.display())
                    })
                    .and_then(|f| rerun::Asset3D::from_file_path(f).map_err(|e| e.to_string()))
                {
                    Ok(asset) => {
                        rec.log_static(
                            path.as_str(),
                            &transform(&mesh.pose).with_scale(mesh.scale.map(|v| v as f32)),
                        )?;
                        rec.log_static(path.as_str(), &asset)?;
                    }
                    Err(reason) => rec.log_static(
                        path.as_str(),
                        &rerun::TextDocument::new(format!(
                            "mesh not drawn: {}: {reason}",
                            mesh.filename
                        )),
                    )?,
                }
            }
            if !link.not_drawn.is_empty() {
                rec.log_static(
                    format!("world/robot/{}/meshes", link.name),
                    &rerun::TextDocument::new(format!(
                        "meshes rerun cannot read: {:?}; {}",
                        link.not_drawn,
                        if link.shapes.is_empty() && link.meshes.is_empty() {
                            "the link is not drawn (no collision geometry to draw instead)"
                        } else {
                            "the link is drawn from its collision geometry"
                        }
                    )),
                )?;
            }
            if i == 0 {
                rec.log_static(
                    format!("world/robot/{}", link.name),
                    &transform(&self.arm.world_from_base),
                )?;
            }
        }
        for (k, s) in scene.tool.shapes.iter().enumerate() {
            let pose = pose_xyz_rpy(s.pose.xyz_m, s.pose.rpy_rad);
            log_shape(
                rec,
                &format!("world/robot/tool/shape_{k}"),
                &s.geometry,
                &pose,
                [90, 90, 100],
            )?;
        }
        if let Ok((q, _)) = asid_sim::start_of(scene, &self.arm) {
            self.log_robot(&q)?;
        }
        Ok(())
    }

    /// The robot at joint positions `q` (time as set).
    fn log_robot(&self, q: &[f64]) -> Result<(), VizError> {
        let frames = self.arm.frames(q);
        let mut world: Vec<Isometry3<f64>> = std::iter::once(self.arm.world_from_base)
            .chain(frames.iter().map(|f| f.0))
            .collect();
        for f in &self.fixed {
            if f.child == world.len() {
                world.push(world[f.parent] * f.parent_from_child);
            }
        }
        for (link, pose) in self.links.iter().zip(&world).skip(1) {
            self.rec
                .log(format!("world/robot/{}", link.name), &transform(pose))?;
        }
        self.rec.log(
            "world/robot/tool",
            &transform(&self.arm.world_from_flange(q)),
        )?;
        Ok(())
    }

    fn at(&mut self, stamp_ns: u64) {
        let t0 = *self.episode_t0_ns.get_or_insert(stamp_ns);
        self.now_s = self.offset_s + stamp_ns.saturating_sub(t0) as f64 * 1e-9;
        self.rec.set_duration_secs("time", self.now_s);
    }

    fn state(&mut self, s: &ArmState) -> Result<(), VizError> {
        if s.q_rad.len() != self.joints.len() {
            return Ok(());
        }
        self.at(s.stamp_ns);
        self.log_robot(&s.q_rad)?;
        for (name, q) in self.joints.iter().zip(&s.q_rad) {
            self.rec
                .log(format!("plots/joints/{name}"), &rerun::Scalars::single(*q))?;
        }
        self.executed
            .push(v3(&self.arm.world_from_tcp(&s.q_rad).translation.vector));
        Ok(())
    }

    fn pose(&mut self, p: &PoseSample) -> Result<(), VizError> {
        if !self.objects.contains(&p.object) {
            return Ok(());
        }
        self.at(p.stamp_ns);
        let [w, x, y, z] = p.q_wxyz;
        let q = nalgebra::UnitQuaternion::from_quaternion(nalgebra::Quaternion::new(w, x, y, z));
        // Tracker poses are in the robot base frame (the recording's `base`).
        let base_from_object =
            Isometry3::from_parts(nalgebra::Translation3::new(p.p_m[0], p.p_m[1], p.p_m[2]), q);
        self.rec.log(
            format!("world/objects/{}", p.object),
            &transform(&(self.arm.world_from_base * base_from_object)),
        )?;
        Ok(())
    }

    /// A path of tool positions the plan's actions command (from the scene's start).
    fn planned_path(&self, actions: &[Vec<f64>]) -> Option<Vec<[f32; 3]>> {
        let sim = self.sim.as_ref()?;
        let targets = asid_station::checks::plan_joint_targets(sim, actions).ok()?;
        Some(
            targets
                .iter()
                .map(|q| v3(&sim.arm().world_from_tcp(q).translation.vector))
                .collect(),
        )
    }

    fn episode_path(&self, what: &str) -> String {
        format!("world/episode_{}/{what}", self.episode + 1)
    }

    fn plan(&mut self, actions: &[Vec<f64>]) -> Result<(), VizError> {
        self.last_actions = actions.to_vec();
        if let Some(path) = self.planned_path(actions) {
            self.rec.log(
                self.episode_path("planned_tcp"),
                &rerun::LineStrips3D::new([path])
                    .with_colors([rerun::Color::from_rgb(60, 120, 255)]),
            )?;
        }
        Ok(())
    }

    fn episode_done(&mut self) -> Result<(), VizError> {
        if !self.executed.is_empty() {
            self.rec.log(
                self.episode_path("executed_tcp"),
                &rerun::LineStrips3D::new([std::mem::take(&mut self.executed)])
                    .with_colors([rerun::Color::from_rgb(40, 200, 90)]),
            )?;
        }
        self.episode += 1;
        self.offset_s = self.now_s + 1.0;
        self.episode_t0_ns = None;
        Ok(())
    }

    fn fit(&mut self, fit: &asid_sysid::Fit) -> Result<(), VizError> {
        self.fit_iteration = series::log_fit_path(&self.rec, self.now_s, self.fit_iteration, fit)?;
        for (name, est) in &fit.estimate {
            self.rec.log(
                format!("plots/params/{name}/estimate"),
                &rerun::Scalars::single(*est),
            )?;
            if let Some(i) = fit.interval95.get(name) {
                self.rec.log(
                    format!("plots/params/{name}/lo"),
                    &rerun::Scalars::single(i.lo),
                )?;
                self.rec.log(
                    format!("plots/params/{name}/hi"),
                    &rerun::Scalars::single(i.hi),
                )?;
            }
        }
        self.text(&fit.identifiability.verdict)?;
        // The exploration in the identified simulator: where it predicts the objects went.
        if let Some(sim) = &self.sim
            && !self.last_actions.is_empty()
        {
            let space = &sim.scene().space;
            let theta: Option<Vec<f64>> = space
                .params
                .iter()
                .map(|p| fit.estimate.get(&p.name).copied())
                .collect();
            if let Some(Ok(traj)) = theta.map(|t| sim.rollout(&t, &self.last_actions)) {
                for (k, o) in sim.scene().spec.objects.iter().enumerate() {
                    let path: Vec<[f32; 3]> = traj
                        .objects_m
                        .iter()
                        .filter_map(|row| row.get(k).map(|p| p.map(|v| v as f32)))
                        .collect();
                    self.rec.log(
                        format!("world/episode_{}/identified/{}", self.episode, o.name),
                        &rerun::LineStrips3D::new([path])
                            .with_colors([rerun::Color::from_rgb(230, 60, 60)]),
                    )?;
                }
            }
        }
        Ok(())
    }

    fn text(&self, line: &str) -> Result<(), VizError> {
        self.rec.log("log", &rerun::TextLog::new(line))?;
        Ok(())
    }

    /// Logs one event of the loop (what [`Observer::observe`] does, with the error returned).
    pub fn log_event(&mut self, event: &Event<'_>) -> Result<(), VizError> {
        // rerun keeps the time per calling thread: the logger may run on another thread than the
        // one that logged the scene, so every event starts from the view's own clock.
        self.rec.set_duration_secs("time", self.now_s);
        match event {
            Event::Record(Record::State(s)) => self.state(s)?,
            Event::Record(Record::Pose(p)) => self.pose(p)?,
            Event::Note(n) => self.text(n)?,
            Event::ExplorationPlanned(plan) => {
                self.rec.log(
                    "plots/design/criterion",
                    &rerun::Scalars::single(plan.held_out_value),
                )?;
                self.rec.log(
                    "plots/design/random_median",
                    &rerun::Scalars::single(plan.random.median_value),
                )?;
                series::log_search(&self.rec, self.now_s, &plan.criterion_by_iteration)?;
                self.plan(&plan.actions)?;
            }
            Event::TaskPlanned { goal, plan } => {
                self.text(&format!(
                    "task goal {goal}: predicted success {:.0} %",
                    100.0 * plan.predicted_success
                ))?;
                self.plan(&plan.actions)?;
            }
            Event::BalancePlanned { perch, attempt } => {
                self.text(&format!(
                    "balancing on {perch}: grasp {:+.4} m along the rod, predicted success {:.0} %",
                    attempt.plan.offset_m,
                    100.0 * attempt.plan.predicted_success
                ))?;
                if let Some(sim) = self.sim.as_ref() {
                    let path: Vec<[f32; 3]> = attempt
                        .motion
                        .joint_targets()
                        .map(|q| v3(&sim.arm().world_from_tcp(q).translation.vector))
                        .collect();
                    self.rec.log(
                        self.episode_path("planned_tcp"),
                        &rerun::LineStrips3D::new([path])
                            .with_colors([rerun::Color::from_rgb(60, 120, 255)]),
                    )?;
                }
            }
            Event::BalanceOutcome { perch, outcome } => self.text(&format!(
                "balancing on {perch}: {:.2} deg (90: fell off), {}",
                outcome.metric_deg(),
                if outcome.success {
                    "stays up"
                } else {
                    "missed"
                }
            ))?,
            Event::OpenPlanned(p) if p.nothing_to_open => self.text(&format!(
                "opening: nothing to open (the lid is hinged with probability {:.2})",
                p.p_hinged
            ))?,
            Event::OpenPlanned(p) => {
                self.text(&format!(
                    "opening: {:.3} rad commanded {:.3} m from the hinge, predicted success {:.0} %",
                    p.primitive[0],
                    p.primitive[1],
                    100.0 * p.predicted_success
                ))?;
                self.plan(&p.actions)?;
            }
            Event::OpenOutcome(o) => self.text(&format!(
                "opening: the lid at {:.3} rad, {:.2} deg from the target, {}",
                o.angle_rad,
                o.error_deg(),
                if o.success { "success" } else { "missed" }
            ))?,
            Event::CarryPlanned(p) => {
                self.text(&format!(
                    "carry: the target at rest {:.2} mm above the path (the payload's feed-forward), \
                     predicted largest tracking error {:.2} mm, success {:.0} %",
                    1e3 * p.rest_lift_m,
                    1e3 * p.predicted_max_error_m,
                    100.0 * p.predicted_success
                ))?;
                self.plan(&p.actions)?;
            }
            Event::CarryOutcome(o) => self.text(&format!(
                "carry: largest tracking error {:.3} mm (step {}), rms {:.3} mm, {}",
                o.max_error_mm(),
                o.worst_step,
                1e3 * o.rms_error_m,
                if o.success { "success" } else { "missed" }
            ))?,
            Event::EpisodeDone { .. } => self.episode_done()?,
            Event::Fit(fit) => self.fit(fit)?,
            Event::TaskOutcome { goal, outcome } => {
                let [x, y] = outcome.object_xy_m;
                self.rec.log(
                    format!("world/task/{goal}"),
                    &rerun::Points3D::new([[x as f32, y as f32, 0.0]])
                        .with_radii([0.01])
                        .with_labels([if outcome.success { "success" } else { "missed" }]),
                )?;
                self.text(&format!(
                    "task goal {goal}: {:.3} m from the zone, {}",
                    outcome.distance_m,
                    if outcome.success { "success" } else { "missed" }
                ))?;
            }
            Event::Finished(_) => self.flush()?,
            _ => {}
        }
        Ok(())
    }

    /// Logs a recorded episode as the loop would have: its records in time order, then the end
    /// of the episode (log the plan it ran first, as an [`Event::ExplorationPlanned`] or
    /// [`Event::TaskPlanned`], to draw the planned path).
    pub fn replay_recording(&mut self, rec: &Recording) -> Result<(), VizError> {
        let mut records: Vec<Record> = rec
            .states
            .iter()
            .cloned()
            .map(Record::State)
            .chain(rec.poses.iter().cloned().map(Record::Pose))
            .collect();
        records.sort_by_key(Record::stamp_ns);
        for r in &records {
            self.log_event(&Event::Record(r))?;
        }
        self.episode_done()
    }

    /// Sends everything logged so far to the sink.
    pub fn flush(&self) -> Result<(), VizError> {
        self.rec
            .flush_blocking()
            .map_err(|e| VizError::Flush(e.to_string()))
    }
}

impl Observer for Viz {
    fn observe(&mut self, event: &Event<'_>) {
        // The view must never stop the arm or the run: a failed log is reported once, and the
        // run goes on.
        if let Err(e) = self.log_event(event)
            && !self.warned
        {
            self.warned = true;
            tracing::warn!(
                target: "asid::viz",
                "the rerun view is incomplete from here on ({e}); the run and its recordings go on"
            );
        }
    }
}
