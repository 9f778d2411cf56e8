//! Where a slide task's object can end up under the arm's limits: for sliding frictions from the
//! prior's range (torsional friction 2/3 mu r, a uniform disc of radius 4 cm), the pushes of a
//! 21 x 13 grid over the task's speed and travel ranges that pass the safety layer's checks at the
//! control rate (the task planner's own check), and the range of the object's final x.
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
    for mu in [0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5] {
        let theta = [mu, 2.0 / 3.0 * mu * 0.04];
        let (mut lo, mut hi, mut passed) = (f64::INFINITY, f64::NEG_INFINITY, 0);
        for i in 0..=nv {
            for j in 0..=nl {
                let v = speed[0] + (speed[1] - speed[0]) * i as f64 / nv as f64;
                let l = travel[0] + (travel[1] - travel[0]) * j as f64 / nl as f64;
                let (actions, _) = task.actions(&[v, l])?;
                if asid_station::checks::limits_check(&sim, &actions, &limits).is_err() {
                    continue;
                }
                passed += 1;
                let o = task.simulate(&sim, &theta, &[v, l])?;
                lo = lo.min(o.object_xy_m[0]);
                hi = hi.max(o.object_xy_m[0]);
            }
        }
        println!(
            "mu {mu}: {passed} of {} pushes pass the limits; the object ends at x in [{lo:.3}, {hi:.3}] m",
            (nv + 1) * (nl + 1)
        );
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
