//! `asid check` end to end: every shipped scene passes; broken scenes, robots and URDFs fail with an
//! error naming the file, the key and what is allowed.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn asid(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_asid"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run asid");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_shipped_scene_passes_check() {
    let mut n = 0;
    for entry in std::fs::read_dir(repo().join("scenes")).expect("scenes dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let (code, out, err) = asid(&["check", path.to_str().expect("utf-8")]);
            assert_eq!(code, 0, "{}: {err}", path.display());
            assert!(
                out.contains("unknown parameters") && out.trim_end().ends_with("ok"),
                "{out}"
            );
            n += 1;
        }
    }
    assert!(n >= 6, "only {n} scenes");
}

/// A scratch copy of the repository's scenes and robots that a test may break.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("asid-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&repo().join("scenes"), &dir.join("scenes"));
        copy_dir(&repo().join("robots"), &dir.join("robots"));
        Self(dir)
    }

    fn edit(&self, rel: &str, from: &str, to: &str) -> PathBuf {
        let p = self.0.join(rel);
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(text.contains(from), "{rel} has no `{from}`");
        std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}

#[test]
fn broken_inputs_fail_with_specific_errors() {
    // (tag, file to edit, from, to, expected fragments of the error)
    let cases: &[(&str, &str, &str, &str, &[&str])] = &[
        (
            "unknown-key",
            "scenes/rod.toml",
            "[physics]",
            "[physics]\ncolour = 1",
            &["rod.toml", "physics.colour", "unknown field"],
        ),
        (
            "unknown-target",
            "scenes/rod.toml",
            "target = \"rod.friction\"",
            "target = \"stick.friction\"",
            &["rod.toml", "parameter[1].target", "no object `stick`"],
        ),
        (
            "prior-outside",
            "scenes/rod.toml",
            "bounds = [0.05, 1.0]",
            "bounds = [0.2, 1.0]",
            &["parameter[1].prior", "outside the bounds"],
        ),
        (
            "missing-robot",
            "scenes/rod.toml",
            "robot = \"panda\"",
            "robot = \"ur5\"",
            &["arm.robot", "no file for `ur5`"],
        ),
        (
            "bad-urdf",
            "robots/panda/panda.urdf",
            "<robot name=\"panda\">",
            "<robot name=\"panda\"><link>",
            &["panda.urdf", "malformed URDF"],
        ),
        (
            "robot-limits",
            "robots/panda/robot.toml",
            "velocity_rad_s = [2.175,",
            "velocity_rad_s = [-2.175,",
            &["robot.toml", "limits.velocity_rad_s", "> 0"],
        ),
        (
            "urdf-joint",
            "robots/panda/robot.toml",
            "\"panda_joint7\"]",
            "\"panda_jointX\"]",
            &["panda.urdf", "panda_jointX"],
        ),
        (
            "balance-without-a-hand",
            "scenes/rod_balance.toml",
            "tool = \"gripper\"\n# Closed for the pushes; the task opens it to grasp.\ngripper_width_m = 0.0",
            "tool = \"pusher\"",
            &[
                "rod_balance.toml",
                "task.kind balance needs a tool with a gripper",
            ],
        ),
        (
            "balance-perch",
            "scenes/rod_balance.toml",
            "perch = \"perch\"",
            "perch = \"shelf\"",
            &["rod_balance.toml", "task.perch", "no static named `shelf`"],
        ),
        (
            "balance-carry",
            "scenes/rod_balance.toml",
            "carry_z_m = 0.25",
            "carry_z_m = 0.12",
            &["task.carry_z_m", "value 0.12", "0.170 ..= 1.0 m"],
        ),
    ];
    for (tag, file, from, to, expect) in cases {
        let scratch = Scratch::new(tag);
        scratch.edit(file, from, to);
        let scene = if file.starts_with("scenes/") {
            scratch.0.join(file)
        } else {
            scratch.0.join("scenes/rod.toml")
        };
        let (code, _out, err) = asid(&["check", scene.to_str().expect("utf-8")]);
        assert_eq!(code, 2, "{tag}: exit code; stderr: {err}");
        for fragment in *expect {
            assert!(
                err.contains(fragment),
                "{tag}: error lacks `{fragment}`: {err}"
            );
        }
        assert!(!err.contains("panicked"), "{tag}: {err}");
    }
    let (code, _, err) = asid(&["check", "scenes/no-such-scene.toml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no-such-scene.toml") && err.contains("cannot read"),
        "{err}"
    );
}

fn json(text: &str, what: &str) -> serde_json::Value {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{what}: not one JSON document ({e}):\n{text}"))
}

fn num(v: &serde_json::Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {v}"))
}

#[test]
fn check_json_is_one_document_with_the_scenes_fields() {
    let (code, out, err) = asid(&[
        "check",
        "scenes/rod_balance.toml",
        "scenes/shuffleboard.toml",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let doc = json(&out, "asid check --json");
    assert_eq!(doc["ok"], true);
    let scenes = doc["scenes"].as_array().expect("scenes array");
    assert_eq!(scenes.len(), 2, "{doc}");
    let rod = &scenes[0];
    assert_eq!(rod["file"], "scenes/rod_balance.toml");
    assert_eq!(rod["name"], "rod_balance");
    assert_eq!(rod["robot"]["name"], "panda");
    assert_eq!(rod["robot"]["joints"], 7);
    assert_eq!(rod["tool"], "gripper");
    assert_eq!(rod["horizon_steps"], 20);
    assert_eq!(rod["action"]["kind"], "ee_delta_xy");
    let dt = num(&rod["physics"]["dt_s"], "dt_s");
    let period = num(&rod["physics"]["control_period_s"], "control_period_s");
    let substeps = num(&rod["physics"]["substeps"], "substeps");
    assert!((dt * substeps - period).abs() < 1e-9, "{}", rod["physics"]);
    assert!(rod["world"]["bodies"].as_u64().is_some_and(|n| n > 0));
    let object = &rod["objects"][0];
    assert_eq!(object["name"], "rod");
    assert_eq!(object["role"], "free");
    assert_eq!(object["shape"]["kind"], "box");
    let half_length = num(&object["shape"]["half_extents_m"][1], "half_extents_m[1]");
    let names: Vec<&str> = rod["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["rod.com_offset", "rod.friction"]);
    assert_eq!(rod["parameters"][0]["prior"]["kind"], "uniform");
    assert_eq!(rod["parameters"][0]["discrete"], false);
    // The balancing task with its grasp points along the rod (inside its length).
    assert_eq!(rod["task"]["kind"], "balance");
    assert_eq!(rod["task"]["perch"], "perch");
    let lo = num(&rod["task"]["grasp_points_m"][0], "grasp_points_m[0]");
    let hi = num(&rod["task"]["grasp_points_m"][1], "grasp_points_m[1]");
    assert!(
        -half_length <= lo && lo < 0.0 && 0.0 < hi && hi <= half_length,
        "[{lo}, {hi}]"
    );
    let channels = rod["observation"]["channels"].as_array().expect("channels");
    assert!(
        channels.iter().any(|c| c["kind"] == "object_pose"
            && c["of"] == "rod"
            && c["unit"] == "m, quaternion"),
        "{channels:?}"
    );
    let puck = &scenes[1];
    assert_eq!(puck["name"], "shuffleboard");
    assert_eq!(puck["task"]["kind"], "slide_to_zone");
    assert!(
        puck["task"].get("grasp_points_m").is_none(),
        "{}",
        puck["task"]
    );

    // A failing scene: exit code 2, the error on stderr, nothing on stdout.
    let (code, out, err) = asid(&[
        "check",
        "scenes/rod.toml",
        "scenes/no-such-scene.toml",
        "--json",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "stdout: {out}");
    assert!(err.contains("no-such-scene.toml"), "{err}");
}

#[test]
fn simulate_json_reports_the_episode_it_wrote() {
    let dir = std::env::temp_dir().join(format!("asid-cli-simulate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let ep = dir.join("ep.json");
    let (code, out, err) = asid(&[
        "simulate",
        "scenes/shuffleboard.toml",
        "--seed",
        "3",
        "--truth",
        "puck.friction=0.3",
        "--noise",
        "0",
        "--out",
        ep.to_str().expect("utf-8"),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let doc = json(&out, "asid simulate --json");
    assert_eq!(doc["episode"], ep.to_str().expect("utf-8"));
    assert_eq!(doc["scene"], "shuffleboard");
    assert_eq!(doc["scene_file"], "scenes/shuffleboard.toml");
    assert_eq!(doc["plan"], serde_json::Value::Null);
    assert_eq!(doc["seed"], 3);
    assert_eq!(num(&doc["noise_scale"], "noise_scale"), 0.0);
    assert_eq!(num(&doc["true_parameters"]["puck.friction"], "truth"), 0.3);
    assert!(doc["true_parameters"]["puck.torsional_friction"].is_number());
    assert_eq!(doc["steps"], 20);
    let period = num(&doc["control_period_s"], "control_period_s");
    assert!((num(&doc["duration_s"], "duration_s") - 20.0 * period).abs() < 1e-9);
    // What it says matches the file it wrote.
    let file = json(&std::fs::read_to_string(&ep).expect("episode"), "episode");
    assert_eq!(
        Some(doc["observations"].as_u64().expect("observations") as usize),
        file["obs"].as_array().map(Vec::len)
    );
    assert_eq!(
        file["meta"]["true_parameters"]["puck.friction"],
        doc["true_parameters"]["puck.friction"]
    );
    // The JSON episode replays with --scene (it names no scene); without, and in view (MCAP
    // only), it is refused naming why.
    let ep_arg = ep.to_str().expect("utf-8");
    let out_dir = dir.join("runs");
    let (code, out, err) = asid(&[
        "replay",
        ep_arg,
        "--scene",
        "scenes/shuffleboard.toml",
        "--latency",
        "off",
        "--no-task",
        "--out-dir",
        out_dir.to_str().expect("utf-8"),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report = json(&out, "asid replay --json");
    assert_eq!(report["scene"], "shuffleboard", "{report:#}");
    assert!(
        report["parameters"]
            .as_array()
            .is_some_and(|p| p.iter().any(|q| q["name"] == "puck.friction")),
        "{report:#}"
    );
    let (code, _, err) = asid(&["replay", ep_arg, "--latency", "off"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--scene") && err.contains("ep.json"), "{err}");
    let (code, _, err) = asid(&["view", ep_arg, "--scene", "scenes/shuffleboard.toml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("JSON episode"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
