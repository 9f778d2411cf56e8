//! What `asid` must refuse, each with the file, the field and the allowed range, and what must
//! not hang: regression tests named after what broke (issue 14).

mod common;

use std::path::{Path, PathBuf};

use common::{TempDir, asid, json_file, s};

/// A scratch copy of the shipped scenes and robots.
fn scratch(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    copy_dir(&common::repo().join("scenes"), &dir.join("scenes"));
    copy_dir(&common::repo().join("robots"), &dir.join("robots"));
    dir
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

/// `scenes/<scene>.toml` in `dir` with `from` replaced by `to`.
fn edited(dir: &TempDir, scene: &str, from: &str, to: &str) -> PathBuf {
    let p = dir.join(&format!("scenes/{scene}.toml"));
    let text = std::fs::read_to_string(&p).expect("read");
    assert!(text.contains(from), "{scene} has no `{from}`");
    std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
    p
}

/// `asid check` on a scene edited so; must fail naming `key` and `words`.
fn check_refuses(scene: &str, from: &str, to: &str, key: &str, words: &str) {
    let dir = scratch(key);
    let p = edited(&dir, scene, from, to);
    let out = asid(&["check", s(&p)]);
    assert_ne!(out.code, 0, "{from} -> {to} passed check:\n{}", out.stdout);
    assert!(
        out.stderr.contains(key) && out.stderr.contains(words) && out.stderr.contains("allowed"),
        "{from} -> {to}: {}",
        out.stderr
    );
}

#[test]
fn dt_1e_300_is_refused_instead_of_hanging() {
    check_refuses(
        "shuffleboard",
        "dt_s = ",
        "dt_s = 1e-300 #",
        "physics.dt_s",
        "1e-300",
    );
}

#[test]
fn velocity_iterations_out_of_range_are_refused() {
    check_refuses(
        "shuffleboard",
        "dt_s = ",
        "pgs_iterations = 0\ndt_s = ",
        "physics.pgs_iterations",
        "1..=100",
    );
}

#[test]
fn an_opening_target_outside_the_hinges_limits_is_refused() {
    check_refuses(
        "articulation",
        "target_rad = 0.5",
        "target_rad = 2.0",
        "task.target_rad",
        "target_rad <= 1.6",
    );
}

#[test]
fn an_empty_contact_range_is_refused() {
    check_refuses(
        "articulation",
        "contact_m = [0.08, 0.2]",
        "contact_m = [0.2, 0.08]",
        "task.contact_m",
        "0 < low < high <= 1",
    );
}

#[test]
fn a_carry_waypoint_outside_the_workspace_is_refused() {
    check_refuses(
        "payload",
        "path_m = [[0.55, 0.15, 0.30]",
        "path_m = [[0.55, 0.15, 0.10]",
        "task.path_m[0]",
        "outside the workspace",
    );
}

#[test]
fn a_carry_of_a_free_object_or_out_of_range_settings_is_refused() {
    check_refuses(
        "payload",
        "tolerance_m = 0.001",
        "tolerance_m = 0.0",
        "task.tolerance_m",
        "0 < tolerance_m <= 0.05",
    );
    check_refuses(
        "payload",
        "speed_mps = 0.2",
        "speed_mps = 0.6",
        "task.speed_mps",
        "0.001 <= speed_mps <= 0.5",
    );
    check_refuses(
        "payload",
        "settle_steps = 5",
        "settle_steps = 101",
        "task.settle_steps",
        "0..=100",
    );
    check_refuses(
        "payload",
        "pose = { xyz_m = [0.0, 0.0, 0.01] }\nmass_kg = 0.5\nattach = \"tool\"",
        "pose = { xyz_m = [0.5, 0.0, 0.1] }\nmass_kg = 0.5",
        "task.object",
        "not held by the tool",
    );
}

#[test]
fn check_of_dev_zero_stops_at_the_size_cap() {
    let out = asid(&["check", "/dev/zero"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("/dev/zero") && out.stderr.contains("bytes"),
        "{}",
        out.stderr
    );
}

#[test]
fn scene_name_with_a_path_is_refused() {
    for bad in ["../X", "/tmp/abs"] {
        check_refuses(
            "shuffleboard",
            "name = \"shuffleboard\"",
            &format!("name = \"{bad}\""),
            "`name`",
            "not a plain file name",
        );
    }
}

#[test]
fn object_below_the_table_is_refused() {
    check_refuses(
        "shuffleboard",
        "xyz_m = [0.5, 0.0, 0.01]",
        "xyz_m = [0.5, 0.0, -0.2]",
        "object[0].pose.xyz_m[2]",
        "inside the table",
    );
}

#[test]
fn object_off_the_table_is_refused() {
    check_refuses(
        "shuffleboard",
        "xyz_m = [0.5, 0.0, 0.01]",
        "xyz_m = [5.0, 0.0, 0.01]",
        "object[0].pose.xyz_m[0]",
        "off the table",
    );
}

#[test]
fn centre_of_mass_outside_the_rod_is_refused() {
    check_refuses(
        "rod",
        "com_m = [0.0, 0.0, 0.0]",
        "com_m = [0.0, 10.0, 0.0]",
        "object[0].com_m",
        "outside the shape",
    );
}

#[test]
fn nul_and_newline_in_object_names_are_refused() {
    for bad in ["pu\\u0000ck", "pu\\nck"] {
        check_refuses(
            "shuffleboard",
            "name = \"puck\"",
            &format!("name = \"{bad}\""),
            "object[0].name",
            "control character",
        );
    }
}

#[test]
fn os_error_reason_is_printed_once() {
    let out = asid(&["check", "/nonexistent/scene.toml"]);
    assert_ne!(out.code, 0);
    assert_eq!(
        out.stderr.matches("No such file").count(),
        1,
        "{}",
        out.stderr
    );
}

#[test]
fn watchdog_that_would_switch_itself_off_is_refused() {
    let out = asid(&[
        "execute",
        "plan.json",
        "--arm",
        "sim",
        "--out",
        "x.mcap",
        "--watchdog-ms",
        "18446744073709551615",
    ]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("--watchdog-ms") && out.stderr.contains("10000"),
        "{}",
        out.stderr
    );
}

/// A small plan for the shuffleboard, made once per test that needs it.
fn plan(dir: &TempDir) -> (PathBuf, serde_json::Value) {
    let p = dir.join("plan.json");
    common::small_plan("scenes/shuffleboard.toml", &p);
    let v = json_file(&p);
    (p, v)
}

fn write_plan(dir: &TempDir, name: &str, v: &serde_json::Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string(v).expect("json")).expect("write plan");
    p
}

#[test]
fn execute_refuses_plans_that_do_not_fit_the_scene() {
    let dir = TempDir::new("refuse-plan");
    let (good, v) = plan(&dir);
    let mut cases = Vec::new();
    let mut empty = v.clone();
    empty["actions"] = serde_json::json!([]);
    cases.push(("empty", empty, "no actions"));
    let mut long = v.clone();
    let a = v["actions"][0].clone();
    long["actions"] = serde_json::Value::Array(vec![a; 100_000]);
    cases.push(("long", long, "longer than the horizon"));
    let mut period = v.clone();
    period["control_period_s"] = serde_json::json!(0.05);
    cases.push(("period", period, "control_period_s"));
    let mut tag = v.clone();
    tag["format"] = serde_json::json!("asid-plan/99");
    cases.push(("tag", tag, "asid-plan/99"));
    let mut outside = v.clone();
    outside["actions"][7][1] = serde_json::json!(3.0);
    cases.push(("outside", outside, "action 7 component 1"));
    for (name, plan, words) in cases {
        let p = write_plan(&dir, &format!("{name}.json"), &plan);
        let t0 = std::time::Instant::now();
        let out = asid(&[
            "execute",
            s(&p),
            "--arm",
            "sim",
            "--out",
            s(&dir.join("x.mcap")),
        ]);
        assert_ne!(out.code, 0, "{name}: {}", out.stdout);
        assert!(
            out.stderr.contains(words) && out.stderr.contains(s(&p)),
            "{name}: {}",
            out.stderr
        );
        assert!(
            t0.elapsed().as_secs() < 60,
            "{name} took {:?}",
            t0.elapsed()
        );
        let sim = asid(&[
            "simulate",
            "scenes/shuffleboard.toml",
            "--plan",
            s(&p),
            "--out",
            s(&dir.join("ep.json")),
        ]);
        assert_ne!(sim.code, 0, "simulate {name}");
        assert!(
            sim.stderr.contains(words),
            "simulate {name}: {}",
            sim.stderr
        );
    }
    let out = asid(&[
        "execute",
        s(&good),
        "--arm",
        "replay://none.mcap",
        "--poses",
        "udp://127.0.0.1:9",
        "--out",
        s(&dir.join("r.mcap")),
    ]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("--poses"), "{}", out.stderr);
}

#[test]
fn identify_names_the_file_and_index_of_a_bad_observation_or_action() {
    let dir = TempDir::new("refuse-episode");
    let ep = dir.join("ep.json");
    asid(&[
        "simulate",
        "scenes/shuffleboard.toml",
        "--seed",
        "1",
        "--out",
        s(&ep),
    ])
    .ok("simulate");
    let v = json_file(&ep);
    let mut big = v.clone();
    big["obs"][3][0] = serde_json::json!(1e308);
    let mut outside = v.clone();
    outside["actions"][5][0] = serde_json::json!(10.0);
    for (name, bad, words) in [
        ("big", big, "observation 3 entry 0"),
        ("outside", outside, "action 5 component 0"),
    ] {
        let p = dir.join(&format!("{name}.json"));
        std::fs::write(&p, serde_json::to_string(&bad).expect("json")).expect("write");
        let out = asid(&["identify", "scenes/shuffleboard.toml", s(&p)]);
        assert_ne!(out.code, 0, "{name}");
        assert!(
            out.stderr.contains(words) && out.stderr.contains(s(&p)),
            "{name}: {}",
            out.stderr
        );
        assert_eq!(
            out.stderr.matches(words).count(),
            1,
            "{name} printed once: {}",
            out.stderr
        );
    }
}

/// `asid view --json` of one episode (its scene found from the episode's own metadata), and the
/// `<run dir | episode.mcap>` resolver that `asid view` and `asid replay` share refusing an
/// episode of another scene, or whose scene file is not there, naming the file and the field.
#[test]
fn view_json_and_the_recording_resolver() {
    let dir = TempDir::new("view");
    let plan = dir.join("plan.json");
    asid(&[
        "explore",
        "scenes/shuffleboard.toml",
        "--param",
        "primitive",
        "--prior-samples",
        "1",
        "--held-out-samples",
        "1",
        "--population",
        "4",
        "--iterations",
        "1",
        "--random-draws",
        "1",
        "--out",
        s(&plan),
    ])
    .ok("asid explore");
    let ep = dir.join("ep.mcap");
    asid(&[
        "execute",
        s(&plan),
        "--arm",
        "sim",
        "--out",
        s(&ep),
        "--json",
    ])
    .ok("asid execute");

    let out = asid(&["view", s(&ep), "--json"]).ok("asid view --json");
    let v = common::json(&out.stdout, "asid view --json");
    assert_eq!(v["kind"], "episode");
    assert_eq!(v["input"], s(&ep));
    assert_eq!(v["scene"], "shuffleboard");
    assert_eq!(v["scene_file"], "scenes/shuffleboard.toml");
    assert_eq!(v["sink"], "save");
    let rrd = dir.join("ep.rrd");
    assert_eq!(v["rrd"], s(&rrd));
    assert!(
        std::fs::metadata(&rrd).is_ok_and(|m| m.len() > 0),
        "no {}",
        rrd.display()
    );
    assert_eq!(v["fit"], false);
    let episodes = v["episodes"].as_array().expect("episodes");
    assert_eq!(episodes.len(), 1, "{v}");
    let e = &episodes[0];
    assert_eq!(e["file"], s(&ep));
    assert_eq!(e["actions"], 20);
    assert_eq!(e["commands"], 20);
    assert!(e["states"].as_u64().is_some_and(|n| n >= 20), "{e}");
    assert!(e["poses"].as_u64().is_some_and(|n| n > 0), "{e}");
    // 20 actions at the scene's 0.1 s period, plus the approach and the stop.
    let duration = e["duration_s"].as_f64().expect("duration_s");
    assert!((1.9..5.0).contains(&duration), "duration_s {duration}");

    // Another scene than the recorded one: both commands refuse it the same way, before any work.
    for cmd in ["view", "replay"] {
        let out = asid(&[cmd, s(&ep), "--scene", "scenes/rod.toml", "--json"]);
        assert_eq!(out.code, 2, "{cmd}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{cmd}: {}", out.stdout);
        for words in [
            s(&ep),
            "recorded in scene `shuffleboard`",
            "metadata `asid.run`, field `scene`",
            "scenes/rod.toml is `rod`",
        ] {
            assert!(out.stderr.contains(words), "{cmd}: {}", out.stderr);
        }
    }
    // No --scene, and the scene the episode names is not under ./scenes.
    let out = common::asid_command(&["view", s(&ep)])
        .current_dir(dir.join("."))
        .output()
        .expect("run asid");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for words in [
        s(&ep),
        "field `scene`",
        "scene `shuffleboard` not found",
        "scenes/shuffleboard.toml",
        "--scene",
    ] {
        assert!(stderr.contains(words), "{stderr}");
    }
}
