//! Fuzz targets (see `asid_core::fuzz`): scene, robot and tool TOML, whole scene loads with
//! validation, and JSON episodes.

use std::path::{Path, PathBuf};

use asid_core::fuzz;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn text(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

#[test]
fn fuzz_scene_robot_and_tool_toml() {
    let f = Path::new("fuzz.toml");
    let scenes: Vec<Vec<u8>> = [
        "shuffleboard",
        "rod",
        "articulation",
        "multi_friction",
        "payload",
        "sphere",
    ]
    .iter()
    .map(|s| read(&format!("scenes/{s}.toml")))
    .collect();
    fuzz::run("scene_toml", &scenes, |b| {
        if let Some(t) = text(b) {
            let _ = asid_core::parse_toml::<asid_core::SceneSpec>(f, t);
        }
    });
    let robots = vec![
        read("robots/panda/robot.toml"),
        read("robots/fr3/robot.toml"),
    ];
    fuzz::run("robot_toml", &robots, |b| {
        if let Some(t) = text(b) {
            let _ = asid_core::parse_toml::<asid_core::RobotSpec>(f, t);
        }
    });
    let tools = vec![
        read("robots/tools/gripper.toml"),
        read("robots/tools/paddle.toml"),
        read("robots/tools/pusher.toml"),
    ];
    fuzz::run("tool_toml", &tools, |b| {
        if let Some(t) = text(b) {
            let _ = asid_core::parse_toml::<asid_core::ToolSpec>(f, t);
        }
    });
}

#[test]
fn fuzz_scene_load_and_validation() {
    // Whole loads (parse, validate, resolve parameters) with the shipped robots beside.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz_scene_load");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("scenes")).expect("mkdir");
    std::os::unix::fs::symlink(repo().join("robots"), dir.join("robots")).expect("link robots");
    let path = dir.join("scenes/fuzz.toml");
    let seeds = vec![read("scenes/shuffleboard.toml"), read("scenes/rod.toml")];
    fuzz::run("scene_load", &seeds, |b| {
        std::fs::write(&path, b).expect("write");
        let _ = asid_core::load_scene(&path);
    });
}

#[test]
fn fuzz_json_episode() {
    let seed = br#"{"format":"asid-episode/1","scene":"shuffleboard","control_period_s":0.1,"actions":[[0.01,0.0],[0.0,0.01]],"t0_s":0.0,"channels":[{"kind":"object_position","of":"puck","dim":3}],"obs_t_s":[0.0,0.1,0.2],"obs":[[0.5,0.0,0.01],[0.51,null,0.01],[0.52,0.0,0.01]]}"#.to_vec();
    fuzz::run("episode_json", &[seed], |b| {
        if let Ok(ep) = serde_json::from_slice::<asid_core::Episode>(b) {
            let _ = ep.on_control_grid();
        }
    });
}
