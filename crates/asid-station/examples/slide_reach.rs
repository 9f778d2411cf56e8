//! Where a slide task's object can end up under the arm's limits: for the pushes of a 21 x 13 grid
//! over the task's speed and travel ranges that pass the safety layer's checks at the control rate
//! (the task planner's own check), the farthest final x of the object on that grid, for sliding
//! and torsional frictions over the shuffleboard prior's ranges (the scene's first two
//! parameters).
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
    let torsions = [0.002, 0.008, 0.014, 0.02];
    println!(
        "{} of {} pushes pass the limits; farthest x (m) by sliding friction (rows) and \
         torsional friction (columns, m) {torsions:?}",
        passing.len(),
        (nv + 1) * (nl + 1)
    );
    for mu in [0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5] {
        let mut line = format!("mu {mu:<4}:");
        for c in torsions {
            let mut hi = f64::NEG_INFINITY;
            for x in &passing {
                hi = hi.max(task.simulate(&sim, &[mu, c], x)?.object_xy_m[0]);
            }
            line += &format!(" {hi:.3}");
        }
        println!("{line}");
    }
    let g = &task.goal;
    println!(
        "goal `{}`: x in [{:.3}, {:.3}] m",
        g.name,
        g.center_xy_m[0] - 0.5 * g.size_xy_m[0],
        g.center_xy_m[0] + 0.5 * g.size_xy_m[0]
    );
    Ok(())
}
