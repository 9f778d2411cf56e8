//! Where a slide task's object can end up under the arm's limits: for the pushes of a 21 x 13 grid
//! over the task's speed and travel ranges that pass the safety layer's checks at the control rate
//! (the task planner's own check), the farthest the object gets along the push line (object to
//! goal centre) and how many of those pushes leave it in the goal zone, for sliding and torsional
//! frictions over the shuffleboard prior's ranges (the scene's first two parameters).
//!
//! `cargo run --release -p asid-station --example slide_reach -- scenes/shuffleboard.toml near`

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(scene), Some(goal)) = (args.get(1), args.get(2)) else {
        return Err("usage: slide_reach <scene.toml> <goal>".into());
    };
    let sim = asid_sim::Simulator::load(Path::new(scene))?;
    let limits = asid_station::checks::limits_for(sim.scene(), 100);
    let task = asid_task::SlideTask::new(sim.scene(), Some(goal))?;
    let object = task.object_start_xy_m();
    let g = task.goal.clone();
    // The primitive's own push line (no aim offset).
    let (u, _) = task.line(0.0);
    let along = |xy: [f64; 2]| (xy[0] - object[0]) * u[0] + (xy[1] - object[1]) * u[1];
    // Where the push line enters and leaves the (axis-aligned) zone, from the object's start.
    let (mut enter, mut leave) = (f64::NEG_INFINITY, f64::INFINITY);
    for a in 0..2 {
        if u[a].abs() > 1e-12 {
            let lo = (g.center_xy_m[a] - 0.5 * g.size_xy_m[a] - object[a]) / u[a];
            let hi = (g.center_xy_m[a] + 0.5 * g.size_xy_m[a] - object[a]) / u[a];
            enter = enter.max(lo.min(hi));
            leave = leave.min(lo.max(hi));
        }
    }
    let [speed, travel] = [task.spec.speed_mps, task.spec.travel_m];
    let (nv, nl) = (20, 12);
    let mut passing = Vec::new();
    for i in 0..=nv {
        for j in 0..=nl {
            let v = speed[0] + (speed[1] - speed[0]) * i as f64 / nv as f64;
            let l = travel[0] + (travel[1] - travel[0]) * j as f64 / nl as f64;
            let (actions, _) = task.actions(&[v, l])?;
            if asid_station::checks::limits_check(&sim, &actions, &limits).is_ok() {
                passing.push([v, l]);
            }
        }
    }
    let torsions = [0.002, 0.02];
    println!(
        "{} of {} pushes pass the limits; by sliding friction (rows) and torsional friction \
         (columns, m) {torsions:?}: the nearest and farthest the object ends along the push line \
         (m), and how many of those pushes end in the zone",
        passing.len(),
        (nv + 1) * (nl + 1)
    );
    // Pushes that end in the zone at every friction listed: what a plan for the prior alone can use.
    let mut everywhere = vec![true; passing.len()];
    for mu in [0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5] {
        let mut row = format!("mu {mu:<4}:");
        for c in torsions {
            let (mut lo, mut hi, mut inside) = (f64::INFINITY, f64::NEG_INFINITY, 0);
            for (x, all) in passing.iter().zip(&mut everywhere) {
                let out = task.simulate(&sim, &[mu, c], x)?;
                *all &= out.success;
                let s = along(out.object_xy_m);
                (lo, hi) = (lo.min(s), hi.max(s));
                inside += usize::from(out.success);
            }
            row += &format!(" [{lo:.3}, {hi:.3}] {inside:>3} |");
        }
        println!("{row}");
    }
    println!(
        "{} of those pushes end in the zone at every friction above",
        everywhere.iter().filter(|&&a| a).count()
    );
    println!(
        "goal `{}`: the push line is inside it from {enter:.3} to {leave:.3} m past the object's \
         start",
        g.name
    );
    Ok(())
}
