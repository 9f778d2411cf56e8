//! Shared helpers of the simulator tests.
#![allow(dead_code, reason = "each test binary uses a subset")]

use std::path::PathBuf;

use asid_sim::Simulator;

/// Path of a shipped scene.
pub fn scene_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenes")
        .join(format!("{name}.toml"))
}

/// A simulator for a shipped scene.
pub fn sim(name: &str) -> Simulator {
    Simulator::load(&scene_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A deterministic, varied exploration inside the action box.
pub fn wiggle(sim: &Simulator, scale: f64) -> Vec<Vec<f64>> {
    let scene = sim.scene();
    let h = scene.spec.arm.action.horizon_steps();
    let dim = scene.action_dim();
    (0..h)
        .map(|k| {
            (0..dim)
                .map(|d| scale * ((k as f64) * 0.7 + d as f64 * 1.3).sin())
                .collect()
        })
        .collect()
}
