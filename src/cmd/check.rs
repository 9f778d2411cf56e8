//! `asid check <scene.toml>`: validate a scene, its robot, tool and URDF; print a summary.

use std::path::PathBuf;

use anyhow::Context;
use asid_core::scene::ActionSpec;

/// Arguments of `asid check`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene files to check.
    #[arg(required = true)]
    scenes: Vec<PathBuf>,
}

/// Runs the check; the first bad scene ends it with its error.
pub fn run(args: &Args) -> anyhow::Result<()> {
    for path in &args.scenes {
        check_one(path)?;
    }
    Ok(())
}

fn check_one(path: &std::path::Path) -> anyhow::Result<()> {
    let scene = asid_core::load_scene(path)?;
    // The URDF chain (also catches malformed URDF and joint-name mismatches).
    asid_robot::arm_for_scene(&scene)?;
    let sim = asid_sim::Simulator::new(scene.clone())
        .with_context(|| format!("{}: building the simulated world", path.display()))?;
    let world = sim.world(&scene.space.nominal())?;
    let (bodies, colliders, joints) = world.counts();
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
            // The task against the tool (the hand opens wide enough and grasps as hard as asked).
            let m = asid_task::pick_place::BalanceMotion::of_scene(&scene)?;
            let [lo, hi] = m.task.bounds()[0];
            println!(
                "  task: balance `{}` on `{}`: grasp points [{lo:.3}, {hi:.3}] m along the rod, \
                 carried at z = {} m, grasp {} N, settle {} s",
                t.object, t.perch, t.carry_z_m, t.grasp_force_n, t.settle_s
            );
        }
    }
    println!("ok");
    Ok(())
}
