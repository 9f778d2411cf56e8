//! The scenes shipped in `scenes/` load and validate, and broken variants of `scenes/rod.toml` give errors that
//! name the file, the key path and what is wrong.

use std::path::{Path, PathBuf};

use asid_core::{ConfigError, load_scene};

fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scenes_dir() -> PathBuf {
    repo_dir().join("scenes")
}

fn shipped_scene_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenes_dir())
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", scenes_dir().display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_scene_loads() {
    let files = shipped_scene_files();
    assert!(!files.is_empty(), "no scenes in {}", scenes_dir().display());
    for file in &files {
        let scene = load_scene(file).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            scene.space.dim() >= 1,
            "{}: no unknown parameter",
            file.display()
        );
        assert!(scene.obs_dim() > 0, "{}: empty observation", file.display());
        assert!(scene.action_dim() > 0, "{}: empty action", file.display());
        assert!(scene.substeps() >= 1, "{}: no physics step", file.display());
    }
}

#[test]
fn the_six_named_scenes_exist() {
    let names: Vec<String> = shipped_scene_files()
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    for expected in [
        "rod",
        "sphere",
        "multi_friction",
        "shuffleboard",
        "articulation",
        "payload",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "scenes/{expected}.toml is missing (found {names:?})"
        );
    }
}

#[test]
fn shipped_scenes_have_the_expected_parameters() {
    let expect: [(&str, &[&str]); 6] = [
        ("rod", &["rod.com_offset", "rod.friction"]),
        ("sphere", &["ball.rolling_resistance", "ball.friction"]),
        (
            "multi_friction",
            &[
                "table.patch_a.friction",
                "table.patch_b.friction",
                "table.patch_c.friction",
            ],
        ),
        (
            "shuffleboard",
            &["puck.friction", "puck.torsional_friction"],
        ),
        (
            "articulation",
            &[
                "lid.hinge.present",
                "lid.hinge.damping",
                "lid.hinge.axis_offset",
            ],
        ),
        (
            "payload",
            &["payload.mass", "payload.com_x", "payload.com_y"],
        ),
    ];
    for (name, params) in expect {
        let file = scenes_dir().join(format!("{name}.toml"));
        let scene = load_scene(&file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(scene.space.names(), params.to_vec(), "{name}");
    }
}

/// A scratch directory with a copy of `robots/`, so that scenes written into it find their robot and tool.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("asid-core-{tag}-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove old scratch dir");
        }
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        copy_dir(&repo_dir().join("robots"), &dir.join("robots"));
        Self { dir }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temp dir is harmless.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("list dir") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// Replaces the first occurrence of `from`, which must be present.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "rod.toml no longer contains {from:?}");
    text.replacen(from, to, 1)
}

/// Removes the lines from the one starting with `start` up to (not including) the one starting with `end`.
fn remove_section(text: &str, start: &str, end: &str) -> String {
    let a = text
        .find(&format!("\n{start}"))
        .unwrap_or_else(|| panic!("rod.toml has no line {start:?}"));
    let b = a
        + 1
        + text[a + 1..]
            .find(&format!("\n{end}"))
            .unwrap_or_else(|| panic!("rod.toml has no line {end:?} after {start:?}"));
    format!("{}{}", &text[..a], &text[b..])
}

type Mutation = fn(&str) -> String;

#[test]
fn bad_scenes_give_specific_errors() {
    let rod = std::fs::read_to_string(scenes_dir().join("rod.toml")).expect("read rod.toml");
    let scratch = Scratch::new("bad-scenes");

    // The unmodified copy loads from the scratch directory: every failure below is the mutation's.
    let good = scratch.dir.join("rod.toml");
    std::fs::write(&good, &rod).expect("write scene");
    load_scene(&good).unwrap_or_else(|e| panic!("unmodified copy: {e}"));

    // (case, mutation, expected key path, expected message fragment)
    let cases: [(&str, Mutation, &str, &str); 16] = [
        (
            "unknown_top_level_key",
            |t| format!("colour = \"red\"\n{t}"),
            "colour",
            "unknown field `colour`",
        ),
        (
            "unknown_object_key",
            |t| {
                replace_once(
                    t,
                    "name = \"rod\"\nshape",
                    "name = \"rod\"\ncolour = \"red\"\nshape",
                )
            },
            "object[0].colour",
            "unknown field `colour`",
        ),
        (
            "missing_arm",
            |t| remove_section(t, "[arm]", "# Released code: observation noise"),
            ".",
            "missing field `arm`",
        ),
        (
            "unknown_robot",
            |t| replace_once(t, "robot = \"panda\"", "robot = \"ur5e\""),
            "arm.robot",
            "no file for `ur5e`",
        ),
        (
            "prior_outside_bounds",
            |t| replace_once(t, "low = -0.06, high = 0.06", "low = -0.08, high = 0.06"),
            "parameter[0].prior",
            "reaches outside the bounds",
        ),
        (
            "fd_step_too_large",
            |t| replace_once(t, "fd_step = 0.01\n", "fd_step = 0.1\n"),
            "parameter[0].fd_step",
            "value 0.1 is not allowed",
        ),
        (
            "unknown_target_object",
            |t| {
                replace_once(
                    t,
                    "target = \"rod.com_offset\"",
                    "target = \"stick.com_offset\"",
                )
            },
            "parameter[0].target",
            "no object `stick`",
        ),
        (
            "unknown_object_field",
            |t| {
                replace_once(
                    t,
                    "target = \"rod.friction\"",
                    "target = \"rod.stickiness\"",
                )
            },
            "parameter[1].target",
            "unknown object field `stickiness`",
        ),
        (
            "control_rate_not_multiple_of_dt",
            |t| replace_once(t, "control_rate_hz = 10.0", "control_rate_hz = 7.0"),
            "arm.control_rate_hz",
            "not a whole number of physics steps",
        ),
        (
            "start_outside_workspace",
            |t| replace_once(t, "start_xyz_m = [0.38,", "start_xyz_m = [0.2,"),
            "arm.action.start_xyz_m[0]",
            "outside the workspace",
        ),
        (
            "start_not_a_number",
            |t| replace_once(t, "start_xyz_m = [0.38,", "start_xyz_m = [nan,"),
            "arm.action.start_xyz_m[0]",
            "outside the workspace",
        ),
        (
            "static_restitution_above_one",
            |t| {
                replace_once(
                    t,
                    "pose = { xyz_m = [0.55, 0.35, 0.05] }\n",
                    "pose = { xyz_m = [0.55, 0.35, 0.05] }\nrestitution = 1.5\n",
                )
            },
            "static[0].restitution",
            "value 1.5 is not allowed",
        ),
        (
            "negative_mass",
            |t| replace_once(t, "mass_kg = 0.01\n", "mass_kg = -0.01\n"),
            "object[0].mass_kg",
            "value -0.01 is not allowed",
        ),
        (
            "duplicate_object_name",
            |t| {
                format!(
                    "{t}\n[[object]]\nname = \"rod\"\nshape = {{ kind = \"sphere\", radius_m = 0.02 }}\n\
                     pose = {{ xyz_m = [0.6, 0.2, 0.02] }}\nmass_kg = 0.1\n"
                )
            },
            "object[1].name",
            "name `rod` is used twice",
        ),
        (
            "zero_sigma",
            |t| replace_once(t, "sigma = 0.01\n", "sigma = 0.0\n"),
            "observation.channel[0].sigma",
            "value 0 is not allowed",
        ),
        (
            "bad_prior_kind",
            |t| {
                replace_once(
                    t,
                    "kind = \"uniform\", low = -0.06",
                    "kind = \"triangular\", low = -0.06",
                )
            },
            "parameter[0].prior.kind",
            "unknown variant `triangular`",
        ),
    ];

    let mut failures = Vec::new();
    for (case, mutate, key, fragment) in cases {
        let text = mutate(&rod);
        assert_ne!(text, rod, "{case}: the mutation changed nothing");
        let file_name = format!("bad_{case}.toml");
        let file = scratch.dir.join(&file_name);
        std::fs::write(&file, &text).expect("write scene");
        let err: ConfigError = match load_scene(&file) {
            Ok(_) => {
                failures.push(format!("{case}: loaded without error"));
                continue;
            }
            Err(e) => e,
        };
        let shown = err.to_string();
        if !shown.contains(&file_name) {
            failures.push(format!("{case}: message does not name the file: {shown}"));
        }
        if err.key() != Some(key) {
            failures.push(format!(
                "{case}: key {:?}, expected {key:?}: {shown}",
                err.key()
            ));
        }
        if !shown.contains(&format!("`{key}`")) {
            failures.push(format!(
                "{case}: message does not show the key `{key}`: {shown}"
            ));
        }
        if !shown.contains(fragment) {
            failures.push(format!("{case}: message lacks {fragment:?}: {shown}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
