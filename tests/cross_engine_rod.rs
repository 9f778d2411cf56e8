//! Identification on data our simulator did not produce: rod episodes recorded in MuJoCo (the
//! peer venv's, `bench/mujoco_push.py`) with the pusher driven kinematically along a push and
//! release, sensor noise at the scene's sigmas, two hidden truths; `asid identify` must put each
//! truth inside its reported 95 % interval (an interval open at a bound counts: the parameter is
//! reported as not determined), and must determine the centre of mass (a closed interval well
//! inside the prior) so the check has teeth.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use asid_core::scene::SupportKind;
use asid_sim::Simulator;
use asid_sim::push_case::{PushCase, setup};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

/// A push across the rod 3 cm off its centre at 0.3 m/s for 0.7 s, then the pusher stops and the
/// rod slides and turns on its own: the turn tells the centre of mass, the slide the friction.
/// (Faster strikes separate the engines: MuJoCo's soft contact stores and returns compression;
/// `docs/benchmarks.md`, "Identification on MuJoCo episodes".)
fn strike() -> Vec<Vec<f64>> {
    let speed = 0.03;
    let n = 7;
    let mut a = vec![vec![0.0, 0.03]];
    a.extend(std::iter::repeat_n(vec![speed, 0.0], n));
    a.extend(std::iter::repeat_n(vec![0.0, 0.0], 19 - n));
    a
}

/// The rod's poses at every control step in MuJoCo along the pusher path.
fn mujoco_poses(sim: &Simulator, truth: &[(String, f64)], path: &[[f64; 2]]) -> Vec<Vec<f64>> {
    let case = PushCase {
        offset_m: 0.0,
        speed_m_s: 0.1,
        travel_m: 0.0,
        params: truth.to_vec(),
        support: Some(SupportKind::Corners),
    };
    let s = setup(sim, "rod", &case).expect("setup");
    let request = serde_json::json!({ "cases": [s.mujoco_request(path, 0.0)] });
    let mut child = Command::new(common::peer_python())
        .arg(common::repo().join("bench/mujoco_push.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the MuJoCo script");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write the request");
    let out = child.wait_with_output().expect("MuJoCo script");
    assert!(
        out.status.success(),
        "mujoco_push.py failed: {}",
        out.status
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON from MuJoCo");
    v["results"][0]["poses"]
        .as_array()
        .expect("poses")
        .iter()
        .map(|p| {
            let p: Vec<f64> = p
                .as_array()
                .expect("pose")
                .iter()
                .map(|x| x.as_f64().expect("number"))
                .collect();
            // Canonical quaternion sign (w >= 0), as asid observes it.
            let s = if p[3] < 0.0 { -1.0 } else { 1.0 };
            vec![p[0], p[1], p[2], s * p[3], s * p[4], s * p[5], s * p[6]]
        })
        .collect()
}

#[test]
fn rod_identified_from_mujoco_episodes_holds_the_truth() {
    let scene = common::repo().join("scenes/rod.toml");
    let sim = Simulator::load(&scene).expect("rod scene");
    let actions = strike();
    let dir = common::TempDir::new("cross-engine-rod");
    for (k, (com, mu)) in [(0.03, 0.2), (-0.04, 0.35)].into_iter().enumerate() {
        let truth = vec![
            ("rod.com_offset".to_string(), com),
            ("rod.friction".to_string(), mu),
        ];
        let theta = [com, mu];
        // asid's own noise-free episode: the layout, the timestamps and the tool path.
        let mut ep = sim
            .record_episode::<StdRng>(&theta, &actions, None, 0.0)
            .expect("template episode");
        let path: Vec<[f64; 2]> = ep
            .obs
            .iter()
            .map(|o| [o[0].expect("ee x"), o[1].expect("ee y")])
            .collect();
        let poses = mujoco_poses(&sim, &truth, &path);
        assert_eq!(poses.len(), ep.obs.len(), "one MuJoCo pose per observation");
        let sigmas = sim.scene().obs_sigmas();
        let mut rng = StdRng::seed_from_u64(7 + k as u64);
        for (row, pose) in ep.obs.iter_mut().zip(&poses) {
            for (j, v) in pose.iter().enumerate() {
                row[3 + j] = Some(*v);
            }
            for (v, s) in row.iter_mut().zip(&sigmas) {
                let n = Normal::new(0.0, *s).expect("sigma").sample(&mut rng);
                *v = v.map(|x| x + n);
            }
        }
        ep.meta.insert(
            "source".into(),
            serde_json::json!("MuJoCo (bench/mujoco_push.py)"),
        );
        let file = dir.join(&format!("mujoco-{k}.json"));
        std::fs::write(&file, serde_json::to_string(&ep).expect("episode JSON")).expect("write");
        let out = common::asid(&["identify", common::s(&scene), common::s(&file), "--json"])
            .ok("asid identify on a MuJoCo episode");
        let fit = common::json(&out.stdout, "identify --json");
        println!(
            "truth com {com} mu {mu}: estimate {} interval95 {} identifiable {} reduced_chi2 {} misfit {}",
            fit["estimate"],
            fit["interval95"],
            fit["identifiable"],
            fit["reduced_chi2"],
            fit["misfit"]
        );
        for (name, value) in &truth {
            let i = &fit["interval95"][name];
            let (lo, hi) = (i["lo"].as_f64().expect("lo"), i["hi"].as_f64().expect("hi"));
            assert!(
                lo <= *value && *value <= hi,
                "{name} = {value} outside the reported 95 % interval [{lo}, {hi}] (fit: {fit})"
            );
        }
        let c = &fit["interval95"]["rod.com_offset"];
        let width = c["hi"].as_f64().expect("hi") - c["lo"].as_f64().expect("lo");
        assert!(
            width < 0.06 && c["lo_open"] == false && c["hi_open"] == false,
            "the strike determines the centre of mass: interval {c}"
        );
    }
}
