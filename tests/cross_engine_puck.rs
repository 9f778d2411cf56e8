//! Identification on a lab this project did not write: franky-sim (MuJoCo behind the Franka
//! protocol) with a puck of known sliding and torsional friction on its floor and a tracker that
//! streams the puck's pose from MuJoCo's state as pose stream v1 (`bench/franky_puck.py`). The test
//! plans a small exploration of `scenes/shuffleboard_fr3.toml`, runs it with `asid execute --arm
//! franka://HOST --poses udp://ADDR`, and fits with `asid identify`.
//!
//! The truths are what a lab would measure on that puck in the same engine settings (a slide-down
//! and a spin-down, `franky_puck.py spin`): the quantities asid's parameters name. Every friction
//! must lie inside its reported 95 % interval or be reported as not determined; a parameter
//! reported identifiable must hold its truth; a combination reported as what the data determine
//! must hold the truths within its 95 % band. The puck must have moved, and the fit must pin
//! something down (an identifiable parameter or a combination), so the check has teeth.
//!
//! The peers are started here on loopback and killed on drop; the venv is made by
//! `scripts/peer-venv.sh` when missing. Timing is printed, never asserted.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::peer::{Hosts, Peer, free_udp_port};
use common::{TempDir, asid, asid_command, s, small_plan};

const SCENE: &str = "scenes/shuffleboard_fr3.toml";
/// The puck in MuJoCo: sliding coefficient and MuJoCo's torsional coefficient per contact.
const PUCK_MU: f64 = 0.3;
const PUCK_TORSION_M: f64 = 0.0;
/// The approach and 2 s of plan, at 0.1x real time, plus start-up.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// The truths of asid's parameters for the MuJoCo puck.
fn truths(python: &Path) -> Vec<(String, f64)> {
    let out = Command::new(python)
        .arg(common::repo().join("bench/franky_puck.py"))
        .args(["spin", "--mu", &PUCK_MU.to_string()])
        .args(["--torsion", &PUCK_TORSION_M.to_string()])
        .output()
        .expect("run franky_puck.py spin");
    assert!(
        out.status.success(),
        "franky_puck.py spin failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = common::json(&String::from_utf8_lossy(&out.stdout), "franky_puck.py spin");
    vec![
        (
            "puck.friction".to_string(),
            v["sliding"].as_f64().expect("sliding"),
        ),
        (
            "puck.torsional_friction".to_string(),
            v["torsional_m"].as_f64().expect("torsional_m"),
        ),
    ]
}

/// franky-sim with the puck (`bench/franky_puck.py serve`), killed (and reaped) on drop.
fn start_lab(python: &Path, pose_port: u16, report: &Path) -> Peer {
    let host = Hosts(61).next();
    let mut command = Command::new(python);
    command
        .arg(common::repo().join("bench/franky_puck.py"))
        .args(["serve", "--hostname", &host])
        .args(["--poses", &format!("127.0.0.1:{pose_port}")])
        .args(["--mu", &PUCK_MU.to_string()])
        .args(["--torsion", &PUCK_TORSION_M.to_string()])
        .args(["--report", s(report)]);
    Peer::spawn(command, host, "franky_puck.py")
}

/// `asid execute` on the lab, killed if it outlives `RUN_LIMIT`; returns its output.
fn execute(plan: &Path, lab: &Peer, pose_port: u16, episode: &Path) -> common::Out {
    let arm = format!("franka://{}", lab.host);
    let poses = format!("udp://127.0.0.1:{pose_port}");
    let child = asid_command(&[
        "execute",
        s(plan),
        "--arm",
        &arm,
        "--poses",
        &poses,
        "--out",
        s(episode),
        // The Python peer stalls far longer than a real arm under load.
        "--watchdog-ms",
        "3000",
        "--stale-ms",
        "500",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn asid execute");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(RUN_LIMIT) {
        Ok(out) => out.expect("wait for asid execute"),
        Err(_) => {
            // Only this test's own child, by its id.
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("asid execute still running after {} s", RUN_LIMIT.as_secs());
        }
    };
    common::Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Known failing (issue 10, open): on this puck the fit reports the sliding/torsional combination
/// 16 std from the truth (`friction - 27.8 * torsional = 0.0281 +- 0.0045`, 0.0731 at the truth;
/// CI run of 2026-12-01). Run it with `cargo test --test cross_engine_puck -- --ignored`.
#[test]
#[ignore = "known defect (issue 10): the puck's reported friction combination is confidently wrong \
            on MuJoCo data; run with --ignored"]
fn puck_identified_on_franky_sim_holds_the_truth() {
    let python: PathBuf = common::peer_python();
    let truth = truths(&python);
    println!("truth (what a slide-down and a spin-down measure in MuJoCo): {truth:?}");
    let dir = TempDir::new("cross-engine-puck");
    let plan = dir.join("plan.json");
    small_plan(SCENE, &plan);

    let port = free_udp_port();
    let report = dir.join("puck.json");
    let lab = start_lab(&python, port, &report);
    let episode = dir.join("puck.mcap");
    let t0 = Instant::now();
    let out = execute(&plan, &lab, port, &episode).ok("asid execute on franky-sim");
    drop(lab);
    println!(
        "execute in {:.1} s:\n{}{}",
        t0.elapsed().as_secs_f64(),
        out.stdout,
        out.stderr
    );
    assert!(out.stdout.contains("20 of 20 actions"), "{}", out.stdout);
    let moved = common::json_file(&report);
    let (dx, dy) = (
        moved["dx_m"].as_f64().expect("dx"),
        moved["dy_m"].as_f64().expect("dy"),
    );
    println!("the puck in MuJoCo: {moved}");
    assert!(
        dx.hypot(dy) > 0.01,
        "the plan must push the puck (it moved {moved})"
    );

    let t0 = Instant::now();
    // The lab's tracker stamps each pose at MuJoCo's instant and sends it at once over loopback:
    // no latency to estimate, and the search would multiply the fit's cost in the debug profile.
    let fit =
        asid(&["identify", SCENE, s(&episode), "--json", "--latency", "off"]).ok("asid identify");
    let fit = common::json(&fit.stdout, "asid identify --json");
    println!(
        "identify in {:.1} s: estimate {} interval95 {} identifiable {} confounded {} reduced_chi2 {} misfit {}\nverdict: {}",
        t0.elapsed().as_secs_f64(),
        fit["estimate"],
        fit["interval95"],
        fit["identifiable"],
        fit["confounded"],
        fit["reduced_chi2"],
        fit["misfit"],
        fit["verdict"]
    );
    check_fit(&fit, &truth);
}

/// The fit's claims against the truth (see the file's docs).
fn check_fit(fit: &serde_json::Value, truth: &[(String, f64)]) {
    let mut determined = 0;
    for (name, value) in truth {
        let i = &fit["interval95"][name];
        let (lo, hi) = (i["lo"].as_f64().expect("lo"), i["hi"].as_f64().expect("hi"));
        let inside = lo <= *value && *value <= hi;
        let identifiable = fit["identifiable"][name].as_bool().expect("identifiable");
        if identifiable {
            determined += 1;
            assert!(
                inside,
                "{name} = {value} reported identifiable with a 95 % interval [{lo}, {hi}] that misses it (fit: {fit})"
            );
        }
        assert!(
            inside || !identifiable,
            "{name} = {value} outside [{lo}, {hi}] (fit: {fit})"
        );
    }
    let value_of = |n: &str| truth.iter().find(|(t, _)| t == n).map(|(_, v)| *v);
    for c in fit["confounded"]
        .as_array()
        .expect("confounded is an array")
    {
        determined += 1;
        let params: Vec<&str> = c["params"]
            .as_array()
            .expect("params")
            .iter()
            .map(|p| p.as_str().expect("name"))
            .collect();
        let k = c["k"].as_f64().expect("k");
        let (a, b) = (
            value_of(params[0]).expect("known"),
            value_of(params[1]).expect("known"),
        );
        let at_truth = a - k * b;
        let (v, std) = (
            c["value"].as_f64().expect("value"),
            c["std"].as_f64().expect("std"),
        );
        assert!(
            (at_truth - v).abs() <= 1.96 * std,
            "the reported combination {} is {at_truth} at the truth, outside its 95 % band (fit: {fit})",
            c["combination"]
        );
    }
    assert!(
        determined > 0,
        "the fit pins nothing down: no identifiable parameter and no combination (fit: {fit})"
    );
}
