//! `asid eval` and the task step end to end on the simulated lab, on small budgets.

mod common;

use common::{TempDir, asid, json, s, small_plan};

/// `asid eval <scene> <args> --plan <a small plan> --out-dir <dir>/runs --json`: its records (one
/// JSON object per method) and its stderr.
fn eval_records(scene: &str, dir: &TempDir, args: &[&str]) -> (Vec<serde_json::Value>, String) {
    let plan = dir.join("plan.json");
    small_plan(scene, &plan);
    let runs = dir.join("runs");
    let mut all = vec!["eval", scene];
    all.extend(args);
    all.extend(["--plan", s(&plan), "--out-dir", s(&runs), "--json"]);
    let out = asid(&all).ok("asid eval");
    let records = out
        .stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| json(l, "eval record"))
        .collect();
    (records, out.stderr)
}

/// Every method runs the whole loop (exploration episode, identification, task plan through the
/// dry run and the safety layer, task episode) and prints the record the README documents.
#[test]
fn eval_runs_every_method_and_prints_one_record_each() {
    let dir = TempDir::new("eval-task");
    let (records, _) = eval_records(
        "scenes/shuffleboard.toml",
        &dir,
        &[
            "--trials",
            "2",
            "--goals",
            "near",
            "--task-samples",
            "2",
            "--task-population",
            "6",
            "--task-iterations",
            "2",
            // The latency search triples a fit's time; `tests/lab_alignment.rs` covers it.
            "--latency",
            "off",
        ],
    );
    let methods: Vec<&str> = records
        .iter()
        .map(|r| r["method"].as_str().expect("method"))
        .collect();
    assert_eq!(methods, ["dr", "random", "asid", "oracle"]);
    for r in &records {
        assert_eq!(r["scene"], "shuffleboard");
        assert_eq!(r["trials"], 2);
        assert_eq!(r["latency"], "off", "{r}");
        assert_eq!(r["lab"], "imperfect", "{r}");
        assert_eq!(r["attempts"], 2, "{r}");
        let rate = r["success_rate"].as_f64().expect("success_rate");
        assert!([0.0, 0.5, 1.0].contains(&rate), "{r}");
        let d = r["metric_mean"].as_f64().expect("metric_mean");
        assert!((0.0..1.0).contains(&d), "distance to the zone {d} m: {r}");
        assert!(r["wall_s_per_trial"].as_f64().expect("wall") > 0.0);
        let identified = matches!(r["method"].as_str(), Some("random" | "asid"));
        assert_eq!(r["id_error"].is_number(), identified, "{r}");
    }
    // Each exploration and task attempt left its episode.
    let episodes = std::fs::read_dir(dir.join("runs").join("shuffleboard"))
        .expect("episodes")
        .count();
    assert_eq!(
        episodes,
        2 * 2 + 2 * 4,
        "4 explorations and 8 task attempts"
    );
}

/// The balancing task through `asid eval`, at the paper's "right" centre of mass (+3 cm, given as
/// the hidden truth): the oracle's grasp balances the rod; domain randomisation, planning over the
/// whole prior, does not; every method leaves its episodes and a record with the tilt metric.
#[test]
fn eval_runs_the_balancing_task() {
    let dir = TempDir::new("eval-balance");
    let (records, stderr) = eval_records(
        "scenes/rod_balance.toml",
        &dir,
        &[
            "--trials",
            "1",
            "--truth",
            "rod.com_offset=0.03",
            "--task-samples",
            "2",
            "--task-population",
            "8",
            "--task-iterations",
            "3",
            // The lab's tracker latency, known.
            "--latency",
            "12",
        ],
    );
    println!("{records:#?}\n{stderr}");
    assert_eq!(records.len(), 4, "{records:#?}");
    let by = |m: &str| {
        records
            .iter()
            .find(|r| r["method"] == m)
            .unwrap_or_else(|| panic!("no {m} record"))
    };
    for r in &records {
        assert_eq!(r["scene"], "rod_balance");
        assert_eq!(r["truth"], "rod.com_offset=0.03", "{r}");
        assert_eq!(r["attempts"], 1, "{r}");
        assert_eq!(r["failed"], 0, "{r}");
        assert!(
            r["metric"].as_str().is_some_and(|m| m.contains("tilt")),
            "{r}"
        );
    }
    let oracle = by("oracle");
    assert_eq!(oracle["success_rate"], 1.0, "{oracle}");
    assert!(
        oracle["metric_mean"].as_f64().expect("tilt") < 1.0,
        "{oracle}"
    );
    let dr = by("dr");
    assert_eq!(dr["success_rate"], 0.0, "{dr}");
    assert!(dr["metric_mean"].as_f64().expect("tilt") > 5.0, "{dr}");
    let episodes = std::fs::read_dir(dir.join("runs").join("rod_balance"))
        .expect("episodes")
        .count();
    assert_eq!(episodes, 2 + 4, "2 explorations and 4 task attempts");
}

/// The articulation task through `asid eval` (no exploration: domain randomisation and the
/// oracle): with the hinge 2 cm high the oracle opens the lid to within the tolerance; with the lid
/// welded the oracle leaves it alone and is right, without a task episode.
#[test]
fn eval_opens_a_hinged_lid_and_leaves_a_welded_one() {
    let run = |truth: &str, dir: &TempDir| {
        let runs = dir.join("runs");
        let out = asid(&[
            "eval",
            "scenes/articulation.toml",
            "--methods",
            "dr,oracle",
            "--trials",
            "1",
            "--truth",
            truth,
            "--task-samples",
            "2",
            "--task-population",
            "6",
            "--task-iterations",
            "2",
            "--out-dir",
            s(&runs),
            "--json",
        ])
        .ok("asid eval");
        println!("{}\n{}", out.stdout, out.stderr);
        let records: Vec<serde_json::Value> = out
            .stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| json(l, "eval record"))
            .collect();
        let oracle = records
            .iter()
            .find(|r| r["method"] == "oracle")
            .cloned()
            .expect("an oracle record");
        assert_eq!(records.len(), 2, "{records:#?}");
        for r in &records {
            assert_eq!(r["attempts"], 1, "{r}");
            assert_eq!(r["failed"], 0, "{r}");
            assert!(
                r["metric"]
                    .as_str()
                    .is_some_and(|m| m.contains("angle error")),
                "{r}"
            );
        }
        let episodes = std::fs::read_dir(runs.join("articulation"))
            .map(|d| d.count())
            .unwrap_or(0);
        (oracle, episodes)
    };
    let dir = TempDir::new("eval-open-hinged");
    let (oracle, episodes) = run("lid.hinge.present=1,lid.hinge.axis_offset=0.02", &dir);
    assert_eq!(oracle["success_rate"], 1.0, "{oracle}");
    assert!(
        oracle["metric_mean"].as_f64().expect("error") < 5.0,
        "{oracle}"
    );
    assert!(episodes >= 1, "the oracle's attempt left its episode");
    let dir = TempDir::new("eval-open-welded");
    let (oracle, _) = run("lid.hinge.present=0", &dir);
    assert_eq!(oracle["success_rate"], 1.0, "{oracle}");
    assert_eq!(oracle["metric_mean"], 0.0, "{oracle}");
}

/// The payload task through `asid eval` (no exploration: domain randomisation and the oracle)
/// with a heavy payload near the prior's top: the oracle's carry, learned for the true payload,
/// stays within the 1 mm bound on the lab; domain randomisation's, learned over the prior's
/// payloads, is pulled further off the path.
#[test]
fn eval_carries_a_heavy_payload_within_the_bound_with_the_oracle() {
    let dir = TempDir::new("eval-carry");
    let runs = dir.join("runs");
    let out = asid(&[
        "eval",
        "scenes/payload.toml",
        "--methods",
        "dr,oracle",
        "--trials",
        "1",
        "--truth",
        "payload.mass=1.45,payload.com_x=0.02,payload.com_y=-0.02",
        "--out-dir",
        s(&runs),
        "--json",
    ])
    .ok("asid eval");
    println!("{}\n{}", out.stdout, out.stderr);
    let records: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| json(l, "eval record"))
        .collect();
    let of = |m: &str| {
        records
            .iter()
            .find(|r| r["method"] == m)
            .cloned()
            .unwrap_or_else(|| panic!("no {m} record: {records:#?}"))
    };
    let (dr, oracle) = (of("dr"), of("oracle"));
    for r in [&dr, &oracle] {
        assert_eq!(r["failed"], 0, "{r}");
        assert!(
            r["metric"].as_str().is_some_and(|m| m.contains("path")),
            "{r}"
        );
    }
    let mm = |r: &serde_json::Value| r["metric_mean"].as_f64().expect("metric");
    assert_eq!(oracle["success_rate"], 1.0, "{oracle}");
    assert!(mm(&oracle) < 1.0, "{oracle}");
    assert!(mm(&dr) > mm(&oracle) + 0.2, "dr {dr}\noracle {oracle}");
}

/// Sphere striking through `asid eval`, two trials on small budgets: every method strikes the
/// ball twice through the dry run and the safety layer, and the record carries the distance metric.
#[test]
fn eval_strikes_the_sphere_twice_per_method() {
    let dir = TempDir::new("eval-sphere");
    let (records, stderr) = eval_records(
        "scenes/sphere.toml",
        &dir,
        &[
            "--trials",
            "2",
            "--task-samples",
            "2",
            "--task-population",
            "6",
            "--task-iterations",
            "2",
            "--latency",
            "off",
        ],
    );
    let methods: Vec<&str> = records
        .iter()
        .map(|r| r["method"].as_str().expect("method"))
        .collect();
    assert_eq!(methods, ["dr", "random", "asid", "oracle"], "{stderr}");
    for r in &records {
        assert_eq!(r["scene"], "sphere", "{r}");
        assert_eq!(r["trials"], 2, "{r}");
        assert_eq!(r["attempts"], 2, "{r}");
        assert_eq!(r["failed"], 0, "{r}: {stderr}");
        assert!(
            r["metric"].as_str().is_some_and(|m| m.contains("distance")),
            "{r}"
        );
        let d = r["metric_mean"].as_f64().expect("metric_mean");
        assert!((0.0..2.0).contains(&d), "distance to the region {d} m: {r}");
        let rate = r["success_rate"].as_f64().expect("success_rate");
        assert!([0.0, 0.5, 1.0].contains(&rate), "{r}");
    }
    let episodes = std::fs::read_dir(dir.join("runs").join("sphere"))
        .expect("episodes")
        .count();
    assert_eq!(episodes, 2 * 2 + 2 * 4, "4 explorations and 8 strikes");
}

#[test]
fn eval_refuses_bad_arguments_with_the_allowed_values() {
    let out = asid(&["eval", "scenes/shuffleboard.toml", "--methods", "dr,magic"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("`magic`") && out.stderr.contains("allowed: dr, random, asid, oracle"),
        "{}",
        out.stderr
    );
    let out = asid(&["eval", "scenes/shuffleboard.toml", "--goals", "nowhere"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no goal `nowhere`"), "{}", out.stderr);
    let out = asid(&["eval", "scenes/shuffleboard.toml", "--latency", "soon"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("soon"), "{}", out.stderr);
    let out = asid(&["eval", "scenes/rod.toml"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("declares no [task]"), "{}", out.stderr);
    let out = asid(&["eval", "scenes/rod_balance.toml", "--goals", "near"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("only goal is `perch`"),
        "{}",
        out.stderr
    );
    let out = asid(&["eval", "scenes/articulation.toml", "--goals", "near"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("only goal is `lid`"), "{}", out.stderr);
    let out = asid(&[
        "eval",
        "scenes/rod_balance.toml",
        "--truth",
        "rod.com_offset=0.5",
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("rod.com_offset"), "{}", out.stderr);
}
