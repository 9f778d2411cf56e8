//! `asid check <scene.toml>`: validate a scene, its robot, tool and URDF; print a summary (with
//! `--json`, one JSON object on stdout: `{"ok": true, "scenes": [...]}`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use asid_core::Scene;
use asid_core::scene::ActionSpec;
use serde_json::{Value, json};

/// Arguments of `asid check`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene files to check.
    #[arg(required = true)]
    scenes: Vec<PathBuf>,
    /// Print the summaries as one JSON object on stdout (nothing on stdout if a scene fails).
    #[arg(long)]
    json: bool,
}

/// Runs the check; the first bad scene ends it with its error.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let mut summaries = Vec::new();
    for path in &args.scenes {
        let checked = check_one(path)?;
        if args.json {
            summaries.push(to_json(path, &checked)?);
        } else {
            print_text(path, &checked);
        }
    }
    if args.json {
        let doc = json!({ "ok": true, "scenes": summaries });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    Ok(())
}

/// A scene that passed, with what the checks found.
struct Checked {
    scene: Scene,
    /// Bodies, colliders and joints of the simulated world at the nominal parameters.
    world: (usize, usize, usize),
    /// A balancing task's grasp points along the rod (against the tool).
    grasp_points_m: Option<[f64; 2]>,
}

fn check_one(path: &Path) -> anyhow::Result<Checked> {
    let scene = asid_core::load_scene(path)?;
    // The URDF chain (also catches malformed URDF and joint-name mismatches).
    asid_robot::arm_for_scene(&scene)?;
    let sim = asid_sim::Simulator::new(scene.clone())
        .with_context(|| format!("{}: building the simulated world", path.display()))?;
    let world = sim.world(&scene.space.nominal())?.counts();
    let grasp_points_m = match &scene.spec.task {
        Some(asid_core::SceneTask::Balance(_)) => {
            // The task against the tool (the hand opens wide enough and grasps as hard as asked).
            let m = asid_task::pick_place::BalanceMotion::of_scene(&scene)?;
            Some(m.task.bounds()[0])
        }
        _ => None,
    };
    Ok(Checked {
        scene,
        world,
        grasp_points_m,
    })
}

/// The human-readable summary on stdout.
fn print_text(path: &Path, c: &Checked) {
    let scene = &c.scene;
    let (bodies, colliders, joints) = c.world;
    let s = &scene.spec;
    println!("scene {} ({}): {}", s.name, path.display(), s.description);
    println!(
        "  robot {} ({} joints, URDF {}), tool {}, arm model {:?}, base at {:?}",
        scene.robot.name,
        scene.n_joints(),
        scene.urdf_path.display(),
        scene.tool.name,
        s.arm.model,
        s.arm.base.xyz_m
    );
    println!(
        "  physics dt {} s, {} sub-steps per control step at {} Hz, friction {:?} ({:?})",
        s.physics.dt_s,
        scene.substeps(),
        s.arm.control_rate_hz,
        s.physics.friction_model,
        s.physics.friction_combine
    );
    println!("  world: {bodies} bodies, {colliders} colliders, {joints} joints");
    for o in &s.objects {
        let role = match (&o.attach, &o.joint, o.fixed) {
            (Some(_), _, _) => " held by the tool".to_string(),
            (_, Some(j), _) => format!(" {:?} joint `{}` to `{}`", j.kind, j.name, j.parent),
            (_, _, true) => " fixed".to_string(),
            _ => String::new(),
        };
        println!(
            "  object {}: {:?}, {} kg{role}",
            o.name,
            o.shape,
            o.mass_kg + o.ballast_kg
        );
    }
    let action = match &s.arm.action {
        ActionSpec::EeDeltaXy {
            max_step_m, z_m, ..
        } => format!("end-effector delta x-y (|a| <= {max_step_m} m, z = {z_m} m)"),
        ActionSpec::EeDeltaXyz { max_step_m, .. } => {
            format!("end-effector delta x-y-z (|a| <= {max_step_m} m)")
        }
        ActionSpec::JointPosition { .. } => "joint-position targets".to_string(),
    };
    println!("  action: {action}, {} steps", s.arm.action.horizon_steps());
    let channels: Vec<String> = s
        .observation
        .channels
        .iter()
        .map(|c| match &c.of {
            Some(of) => format!("{:?}({of}) sigma {} {}", c.kind, c.sigma, c.kind.unit()),
            None => format!("{:?} sigma {} {}", c.kind, c.sigma, c.kind.unit()),
        })
        .collect();
    println!(
        "  observation ({} numbers): {}",
        scene.obs_dim(),
        channels.join(", ")
    );
    println!("  unknown parameters ({}):", scene.space.dim());
    for p in &scene.space.params {
        let fd = if p.fd_step > 0.0 {
            format!("fd step {}", p.fd_step)
        } else {
            "discrete".into()
        };
        println!(
            "    {:<28} prior {:<26} bounds [{}, {}], {fd}, scene value {}",
            p.name,
            p.prior.describe(),
            p.bounds[0],
            p.bounds[1],
            p.nominal
        );
    }
    match &s.task {
        None => {}
        Some(asid_core::SceneTask::SlideToZone(t)) => {
            let goals: Vec<&str> = t.goals.iter().map(|g| g.name.as_str()).collect();
            println!(
                "  task: slide_to_zone `{}` into {goals:?}, speed {:?} m/s, travel {:?} m, {} steps",
                t.object, t.speed_mps, t.travel_m, t.horizon_steps
            );
        }
        Some(asid_core::SceneTask::Balance(t)) => {
            let grasp = c.grasp_points_m.map_or(String::new(), |[lo, hi]| {
                format!(" grasp points [{lo:.3}, {hi:.3}] m along the rod,")
            });
            println!(
                "  task: balance `{}` on `{}`:{grasp} carried at z = {} m, grasp {} N, settle {} s",
                t.object, t.perch, t.carry_z_m, t.grasp_force_n, t.settle_s
            );
        }
        Some(asid_core::SceneTask::Carry(t)) => {
            println!(
                "  task: carry `{}` through {} waypoints at up to {} m/s, tracking error within {} m, \
                 {} settling steps: {} control steps",
                t.object,
                t.path_m.len(),
                t.speed_mps,
                t.tolerance_m,
                t.settle_steps,
                match s.arm.action {
                    asid_core::scene::ActionSpec::EeDeltaXyz { start_xyz_m, .. } => {
                        t.horizon_steps(start_xyz_m, s.arm.control_rate_hz)
                    }
                    _ => 0,
                }
            );
        }
        Some(asid_core::SceneTask::Open(t)) => {
            println!(
                "  task: open `{}` to {:.3} rad (+- {:.3}), pushed {:?} m from the hinge at {} m/s, {} steps",
                t.object, t.target_rad, t.tolerance_rad, t.contact_m, t.speed_mps, t.horizon_steps
            );
        }
    }
    println!("ok");
}

/// The summary as JSON: the scene's own TOML names (units in them) where it has them.
fn to_json(path: &Path, c: &Checked) -> anyhow::Result<Value> {
    let scene = &c.scene;
    let s = &scene.spec;
    let (bodies, colliders, joints) = c.world;
    let objects: Vec<Value> = s
        .objects
        .iter()
        .map(|o| {
            let role = match (&o.attach, &o.joint, o.fixed) {
                (Some(_), _, _) => "held_by_tool",
                (_, Some(_), _) => "jointed",
                (_, _, true) => "fixed",
                _ => "free",
            };
            Ok(json!({
                "name": o.name,
                "shape": serde_json::to_value(&o.shape)?,
                "mass_kg": o.mass_kg + o.ballast_kg,
                "role": role,
                "joint": o.joint.as_ref().map(|j| json!({
                    "name": j.name,
                    "kind": serde_json::to_value(j.kind).unwrap_or(Value::Null),
                    "parent": j.parent,
                })),
            }))
        })
        .collect::<serde_json::Result<_>>()?;
    let channels: Vec<Value> = s
        .observation
        .channels
        .iter()
        .map(|ch| {
            json!({
                "kind": serde_json::to_value(ch.kind).unwrap_or(Value::Null),
                "of": ch.of,
                "sigma": ch.sigma,
                "unit": ch.kind.unit(),
            })
        })
        .collect();
    let parameters: Vec<Value> = scene
        .space
        .params
        .iter()
        .map(|p| {
            Ok(json!({
                "name": p.name,
                "prior": serde_json::to_value(&p.prior)?,
                "bounds": p.bounds,
                "fd_step": p.fd_step,
                "discrete": p.prior.is_discrete(),
                "nominal": p.nominal,
            }))
        })
        .collect::<serde_json::Result<_>>()?;
    let mut task = serde_json::to_value(&s.task)?;
    if let (Some(obj), Some(g)) = (task.as_object_mut(), c.grasp_points_m) {
        obj.insert("grasp_points_m".into(), json!(g));
    }
    Ok(json!({
        "file": path.display().to_string(),
        "name": s.name,
        "description": s.description,
        "robot": {
            "name": scene.robot.name,
            "joints": scene.n_joints(),
            "urdf": scene.urdf_path.display().to_string(),
        },
        "tool": scene.tool.name,
        "arm_model": serde_json::to_value(s.arm.model)?,
        "base_xyz_m": s.arm.base.xyz_m,
        "physics": {
            "dt_s": s.physics.dt_s,
            "substeps": scene.substeps(),
            "control_rate_hz": s.arm.control_rate_hz,
            "control_period_s": scene.control_period_s(),
            "friction_model": serde_json::to_value(s.physics.friction_model)?,
            "friction_combine": serde_json::to_value(s.physics.friction_combine)?,
        },
        "world": { "bodies": bodies, "colliders": colliders, "joints": joints },
        "objects": objects,
        "action": serde_json::to_value(&s.arm.action)?,
        "horizon_steps": s.arm.action.horizon_steps(),
        "observation": { "dim": scene.obs_dim(), "channels": channels },
        "parameters": parameters,
        "task": task,
    }))
}
