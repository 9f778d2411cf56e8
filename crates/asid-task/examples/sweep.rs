//! Where the object ends for a grid of pushes at given parameters: `sweep <scene> <goal> <theta...>`.
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let sim = asid_sim::Simulator::load(Path::new(&args[1]))?;
    let task = asid_task::SlideTask::new(sim.scene(), Some(&args[2]))?;
    let theta: Vec<f64> = args[3..]
        .iter()
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let [s, t] = [task.spec.speed_mps, task.spec.travel_m];
    for i in 0..=3 {
        let v = s[0] + (s[1] - s[0]) * i as f64 / 3.0;
        let mut line = format!("v {v:.3}:");
        for j in 0..=2 {
            let l = t[0] + (t[1] - t[0]) * j as f64 / 2.0;
            let mut x = vec![v, l];
            x.resize(task.bounds().len(), 0.0);
            let o = task.simulate(&sim, &theta, &x)?;
            line += &format!(
                "  L {l:.3} -> {:.3},{:.3} {}",
                o.object_xy_m[0],
                o.object_xy_m[1],
                if o.at_rest { "" } else { "~" }
            );
        }
        println!("{line}");
    }
    Ok(())
}
