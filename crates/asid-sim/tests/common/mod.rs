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

/// Writes scene `text` as `scenes/<name>.toml` in a fresh temporary tree whose `robots/` links to the
/// repository's, so a test can load a variant of a shipped scene. Returns the scene path.
pub fn write_scene_variant(name: &str, text: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let k = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("asid-variant-{}-{k}", std::process::id()));
    std::fs::create_dir_all(dir.join("scenes")).expect("tmp");
    let link = dir.join("robots");
    if !link.exists() {
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../robots"),
            &link,
        )
        .expect("symlink");
    }
    let path = dir.join("scenes").join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write");
    path
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
