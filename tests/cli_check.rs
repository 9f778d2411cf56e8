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
