//! `asid run` and `asid replay` through the station library: the whole loop on the simulated lab
//! writes a complete run directory with its report, a replay of that run reproduces the fit, bad
//! arguments are refused before anything is planned, and exit codes follow the README (2 bad
//! input, 3 arm fault).

mod common;

use std::path::{Path, PathBuf};

use common::{TempDir, asid, json, json_file, s};

fn run_dirs(out: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.retain(|p| p.is_dir());
    dirs.sort();
    dirs
}

/// The whole loop on the sphere scene (exploration, identification, the task) with a small
/// planning budget, then `asid replay` of the run directory.
#[test]
fn run_writes_a_complete_run_directory_and_replay_reproduces_the_fit() {
    let tmp = TempDir::new("station-run");
    let out = tmp.join("runs");
    let t0 = std::time::Instant::now();
    // The tracker's latency is known here (`off`): its estimate is covered by
    // tests/lab_alignment.rs and costs minutes per fit in the debug profile.
    let mut args = vec![
        "run",
        "scenes/sphere.toml",
        "--seed",
        "4",
        "--latency",
        "off",
        "--out-dir",
        s(&out),
    ];
    args.extend(common::SMALL_PLAN);
    let run = asid(&args).ok("asid run");
    println!("asid run in {:.1} s", t0.elapsed().as_secs_f64());
    let dirs = run_dirs(&out);
    assert_eq!(dirs.len(), 1, "one run directory: {dirs:?}");
    let dir = &dirs[0];
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    assert!(
        name.ends_with("-sphere") && name.starts_with("20"),
        "named <UTC time>-<scene>: {name}"
    );
    let scene_task = "target";
    for f in [
        "plan.json",
        "episode.mcap",
        "fit.json",
        "report.json",
        &format!("task-{scene_task}.json"),
        &format!("task-{scene_task}.mcap"),
    ] {
        assert!(dir.join(f).is_file(), "{f} in {}", dir.display());
    }
    let report = json_file(&dir.join("report.json"));
    assert_eq!(report["format"], "asid.report.v1", "{report:#}");
    assert_eq!(report["scene"], "sphere");
    assert!(report["stopped_by"].is_null(), "{report:#}");
    let fit = json_file(&dir.join("fit.json"));
    let params = report["parameters"].as_array().expect("parameters");
    assert_eq!(
        params.len(),
        fit["names"].as_array().map_or(0, Vec::len),
        "{report:#}"
    );
    for p in params {
        let name = p["name"].as_str().expect("name");
        assert_eq!(p["estimate"], fit["estimate"][name], "{name}");
        assert!(p["truth"].is_f64(), "the lab's truth is reported: {p}");
        let [lo, hi] = [0, 1].map(|k| p["interval95"][k].as_f64().expect("interval"));
        assert!(lo <= hi, "{p}");
    }
    let tasks = report["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 1, "{report:#}");
    assert_eq!(tasks[0]["goal"], scene_task);
    assert!(tasks[0]["success"].is_boolean(), "{report:#}");
    assert!(tasks[0]["distance_m"].as_f64().is_some_and(|d| d >= 0.0));
    let times = &report["timings_s"];
    let total = times["total"].as_f64().expect("total");
    let steps: f64 = [
        "plan_exploration",
        "execute_exploration",
        "identify",
        "plan_task",
        "execute_task",
    ]
    .iter()
    .map(|k| times[*k].as_f64().unwrap_or_else(|| panic!("{k}: {times}")))
    .sum();
    assert!(steps > 0.0 && steps <= total + 1e-6, "{times}");
    let files: Vec<&str> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert!(files.contains(&"episode.mcap") && files.contains(&"report.json"));
    assert!(
        run.stdout.contains("run of sphere") && run.stdout.contains(scene_task),
        "the human-readable report on stdout:\n{}",
        run.stdout
    );

    // The rerun view, read back with rerun's own decoder.
    let view = asid_viz::rrd_contents(&dir.join("run.rrd")).expect("run.rrd reads back");
    let entity = |path: &str| {
        view.get(path)
            .unwrap_or_else(|| panic!("{path} in run.rrd: {:?}", view.keys().collect::<Vec<_>>()))
    };
    for link in ["panda_link1", "panda_link4", "panda_link7"] {
        let e = entity(&format!("world/robot/{link}"));
        assert!(
            e.rows > 100 && e.timelines.contains("time"),
            "{link}: {e:?}"
        );
        assert!(
            e.components.iter().any(|c| c.contains("translation")),
            "{link}: {e:?}"
        );
        assert!(
            view.contains_key(&format!("world/robot/{link}/visual_0")),
            "{link} drawn"
        );
    }
    let ball = entity("world/objects/ball");
    assert!(ball.rows > 50, "tracker poses of the ball: {ball:?}");
    entity("world/objects/ball/shape");
    entity("world/table");
    assert!(entity("plots/joints/panda_joint1").rows > 100);
    for p in params {
        let name = p["name"].as_str().expect("name");
        for series in ["estimate", "lo", "hi"] {
            entity(&format!("plots/params/{name}/{series}"));
        }
    }
    // On the arm clock's timeline, also when the logger runs on its own thread.
    let first_param = params[0]["name"].as_str().expect("name");
    for path in [
        "plots/design/criterion".to_string(),
        "world/episode_1/planned_tcp".to_string(),
        format!("plots/params/{first_param}/estimate"),
    ] {
        let e = entity(&path);
        assert!(e.timelines.contains("time"), "{path}: {e:?}");
    }
    // How the searches converged, each on its own timeline: the planner's best criterion per CEM
    // iteration, the fit's cost and parameters per solver iteration (as fit.json lists them).
    let plan = json_file(&dir.join("plan.json"));
    let searched = plan["criterion_by_iteration"]
        .as_array()
        .expect("criterion_by_iteration")
        .iter()
        .filter(|c| c.is_number())
        .count();
    let search = entity("plots/design/search");
    assert!(
        searched > 0 && search.rows == searched,
        "{search:?} vs {plan:#}"
    );
    assert!(
        search.timelines.contains("design_iteration") && !search.timelines.contains("time"),
        "{search:?}"
    );
    let fit_steps = fit["iterations"].as_array().expect("fit iterations").len();
    let cost = entity("plots/fit/cost");
    assert!(
        fit_steps > 1 && cost.rows == fit_steps,
        "{cost:?}: {fit_steps}"
    );
    assert!(
        cost.timelines.contains("fit_iteration") && !cost.timelines.contains("time"),
        "{cost:?}"
    );
    for p in params {
        let name = p["name"].as_str().expect("name");
        for series in ["estimate", "lo", "hi"] {
            let e = entity(&format!("plots/fit/params/{name}/{series}"));
            assert_eq!(e.rows, fit_steps, "{name}/{series}: {e:?}");
        }
    }
    entity("world/episode_1/planned_tcp");
    entity("world/episode_1/executed_tcp");
    entity("world/episode_1/identified/ball");
    entity(&format!("world/task/{scene_task}"));

    // A replay of the run with the run's settings reproduces the estimate.
    let replay =
        asid(&["replay", s(dir), "--latency", "off", "--no-task", "--json"]).ok("asid replay");
    let again = json(&replay.stdout, "replay report");
    assert!(
        again["arm"]
            .as_str()
            .is_some_and(|a| a.starts_with("replay of")),
        "{again:#}"
    );
    for p in params {
        let name = p["name"].as_str().expect("name");
        let q = again["parameters"]
            .as_array()
            .and_then(|v| v.iter().find(|q| q["name"] == name))
            .unwrap_or_else(|| panic!("{name} in the replay: {again:#}"));
        let (a, b) = (
            p["estimate"].as_f64().expect("estimate"),
            q["estimate"].as_f64().expect("replayed estimate"),
        );
        let std = p["std"].as_f64().unwrap_or(1.0);
        assert!(
            (a - b).abs() <= 1e-3 * std + 1e-12,
            "{name}: run {a}, replay {b} (std {std})"
        );
        assert_eq!(q["truth"], p["truth"], "the truth carried over");
    }
    let inner = run_dirs(dir);
    assert_eq!(
        inner.len(),
        1,
        "the replay's directory inside the run: {inner:?}"
    );
    assert!(inner[0].join("report.json").is_file() && inner[0].join("fit.json").is_file());

    // `asid view` renders the run directory the same way, offline, from the files alone: every
    // entity of the live view but the notes, with as many rows (what the MCAP files kept of what
    // the loop saw).
    let rrd = tmp.join("view.rrd");
    asid(&["view", s(dir), "--out", s(&rrd)]).ok("asid view");
    let offline = asid_viz::rrd_contents(&rrd).expect("view.rrd reads back");
    for (path, live) in &view {
        if path == "log" || path.starts_with("__") {
            continue;
        }
        let Some(off) = offline.get(path) else {
            panic!("{path} of the live view is missing offline");
        };
        assert_eq!(
            (live.rows, &live.components),
            (off.rows, &off.components),
            "{path}: live and offline views agree"
        );
    }
    // A run directory that lost an episode its report lists is refused, naming the file.
    let broken = tmp.join("broken");
    std::fs::create_dir_all(&broken).expect("mkdir");
    for f in ["report.json", "plan.json", "fit.json"] {
        std::fs::copy(dir.join(f), broken.join(f)).expect("copy");
    }
    let refused = asid(&["view", s(&broken), "--out", s(&tmp.join("broken.rrd"))]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("episode.mcap"),
        "{}",
        refused.stderr
    );
    // A run viewed or replayed against another scene is refused, naming both.
    for cmd in ["view", "replay"] {
        let r = asid(&[cmd, s(dir), "--scene", "scenes/shuffleboard.toml"]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.stderr);
        assert!(
            r.stderr.contains("the run is of scene `sphere`")
                && r.stderr
                    .contains("scenes/shuffleboard.toml is `shuffleboard`"),
            "{cmd}: {}",
            r.stderr
        );
    }
}

/// The whole loop for rod balancing with the hand (`scenes/rod_balance.toml`): closed-hand pushes,
/// identification, the grasp point planned against the fit, the pick and place on the lab's arm
/// and hand, judged from the tracker. The lab's hidden centre of mass is drawn from the prior; the
/// fits take the lab's tracker latency as known (12 ms; with `--latency off` the seed-2 fit put the
/// centre of mass 2.9 std from the truth and the rod fell, with 92 % predicted).
#[test]
fn run_balances_the_rod_with_the_hand() {
    let tmp = TempDir::new("station-balance");
    let out = tmp.join("runs");
    let t0 = std::time::Instant::now();
    let mut args = vec![
        "run",
        "scenes/rod_balance.toml",
        "--seed",
        "1",
        "--latency",
        "12",
        "--rerun",
        "off",
        "--out-dir",
        s(&out),
    ];
    args.extend(common::SMALL_PLAN);
    let run = asid(&args).ok("asid run");
    println!(
        "asid run in {:.1} s\n{}",
        t0.elapsed().as_secs_f64(),
        run.stdout
    );
    let dirs = run_dirs(&out);
    let dir = &dirs[0];
    for f in ["task-perch.json", "task-perch.mcap"] {
        assert!(dir.join(f).is_file(), "{f} in {}", dir.display());
    }
    let report = json_file(&dir.join("report.json"));
    let com = report["parameters"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "rod.com_offset"))
        .expect("com_offset")
        .clone();
    let task = &report["tasks"][0];
    assert_eq!(task["goal"], "perch", "{report:#}");
    let offset = task["primitive"][0].as_f64().expect("grasp offset");
    let truth = com["truth"].as_f64().expect("truth");
    // The grasp lands within the perch's tolerance of the true centre of mass, and the rod,
    // judged from the tracker, stays up.
    assert!(
        (offset - truth).abs() < 0.005,
        "grasp {offset}, truth {truth}: {report:#}"
    );
    assert_eq!(task["success"], true, "{report:#}");
    assert!(task["tilt_deg"].as_f64().expect("tilt") < 1.0, "{report:#}");
    let attempt = json_file(&dir.join("task-perch.json"));
    assert_eq!(attempt["format"], "asid-balance-attempt/1");
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("the rod stays up: success"), "{said}");
    // The offline view reads the balancing attempt's file (not a push plan) and its episode.
    asid(&["view", s(dir)]).ok("asid view of a balancing run");
    let rrd = std::fs::metadata(dir.join("view.rrd")).expect("view.rrd");
    assert!(rrd.len() > 1000, "{} bytes", rrd.len());
}

/// The whole loop for the articulation (`scenes/articulation.toml`): pushes that touch the lid,
/// identification of the hinge's presence and axis, then the opening planned against the fit and
/// run on the lab, or left alone when the fit holds the lid welded; judged from the tracker's
/// orientations of the lid; the offline view reads the opening's plan and episode.
#[test]
fn run_opens_the_lid_or_leaves_it() {
    let tmp = TempDir::new("station-open");
    let out = tmp.join("runs");
    let mut args = vec![
        "run",
        "scenes/articulation.toml",
        "--seed",
        "1",
        "--latency",
        "off",
        "--rerun",
        "off",
        "--out-dir",
        s(&out),
    ];
    args.extend(common::SMALL_PLAN);
    let run = asid(&args).ok("asid run");
    println!("{}", run.stdout);
    let dir = &run_dirs(&out)[0];
    let report = json_file(&dir.join("report.json"));
    let truth_hinged = report["parameters"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "lid.hinge.present"))
        .and_then(|p| p["truth"].as_f64())
        .expect("the lab's truth")
        > 0.5;
    let task = &report["tasks"][0];
    assert_eq!(task["goal"], "lid", "{report:#}");
    let plan = json_file(&dir.join("task-lid.json"));
    assert_eq!(plan["format"], "asid-open-plan-v1");
    let left_alone = task["nothing_to_open"].as_bool().expect("nothing_to_open");
    assert_eq!(plan["nothing_to_open"], left_alone);
    if left_alone {
        assert!(!dir.join("task-lid.mcap").exists());
        assert!(
            task["success"].is_null(),
            "not judged without a run: {task}"
        );
    } else {
        assert!(dir.join("task-lid.mcap").is_file());
        let angle = task["angle_rad"].as_f64().expect("angle");
        let error = task["angle_error_deg"].as_f64().expect("error");
        assert!((angle.to_degrees() - 0.5f64.to_degrees()).abs() - error < 1e-6);
        assert!(task["success"].is_boolean(), "{task}");
    }
    // Seed 1's lid is hinged: opened whether the small exploration touched it (the fit says
    // hinged) or not (the odds stay even, and even odds open); never left shut.
    println!("truth hinged: {truth_hinged}, left alone: {left_alone}, task: {task}");
    assert!(truth_hinged && !left_alone, "{report:#}");
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("opened to"), "{said}");
    // The fit (structure odds beyond what a float holds) reads back, and the offline view reads
    // the opening's plan and episode.
    asid(&["view", s(dir)]).ok("asid view of an opening run");
}

/// The whole loop for the payload (`scenes/payload.toml`): an exploration of the arm's own
/// dynamics, identification of the payload's mass and centre of mass from the joint torques, then
/// the carry learned against the fit, run on the lab and judged from the arm's measured joints;
/// the offline view reads the carry's plan and episode.
#[test]
fn run_carries_the_payload() {
    let tmp = TempDir::new("station-carry");
    let out = tmp.join("runs");
    let mut args = vec![
        "run",
        "scenes/payload.toml",
        "--seed",
        "1",
        "--rerun",
        "off",
        "--out-dir",
        s(&out),
    ];
    args.extend(common::SMALL_PLAN);
    let run = asid(&args).ok("asid run");
    println!("{}", run.stdout);
    let dir = &run_dirs(&out)[0];
    let report = json_file(&dir.join("report.json"));
    let task = &report["tasks"][0];
    assert_eq!(task["goal"], "payload", "{report:#}");
    let plan = json_file(&dir.join("task-payload.json"));
    assert_eq!(plan["format"], "asid-carry-plan-v1");
    assert!(dir.join("task-payload.mcap").is_file());
    let max_mm = task["max_error_mm"].as_f64().expect("max_error_mm");
    assert!(task["rms_error_mm"].as_f64().is_some(), "{task}");
    // The learned feed-forward works on the lab: the carry tracks better than the planner's own
    // prediction of the uncompensated carry (its first learning pass, on the fit's samples).
    let uncompensated_mm = 1e3
        * plan["learning_error_m"][0]
            .as_f64()
            .expect("learning errors");
    println!("carried {max_mm:.3} mm, uncompensated (predicted) {uncompensated_mm:.3} mm");
    assert!(max_mm < uncompensated_mm, "{task}\n{plan}");
    assert!(task["success"].is_boolean(), "{task}");
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("largest tracking error"), "{said}");
    asid(&["view", s(dir)]).ok("asid view of a carry run");
}

#[test]
fn run_and_replay_refuse_bad_arguments_before_planning() {
    let tmp = TempDir::new("station-refuse");
    let out = tmp.join("runs");
    let cases: &[(&[&str], &str)] = &[
        (&["--arm", "bogus"], "--arm `bogus`"),
        (&["--poses", "udp://127.0.0.1:5999"], "--poses"),
        (&["--lab", "noise_scale=-1"], "--lab"),
        (&["--latency", "5000"], "--latency `5000`"),
        (&["--param", "wiggle"], "wiggle"),
    ];
    for (extra, words) in cases {
        let mut args = vec!["run", "scenes/rod.toml", "--out-dir", s(&out)];
        args.extend_from_slice(extra);
        let r = asid(&args);
        assert_eq!(r.code, 2, "{args:?}: exit code\n{}", r.stderr);
        assert!(r.stderr.contains(words), "{args:?}: {}", r.stderr);
    }
    assert!(
        run_dirs(&out).is_empty(),
        "no run directory for a refused run"
    );
    let r = asid(&["run", "scenes/no-such-scene.toml", "--out-dir", s(&out)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no-such-scene.toml"), "{}", r.stderr);

    let episode = tmp.join("episode.mcap");
    std::fs::write(&episode, b"not an mcap file").expect("write");
    for cmd in ["replay", "view"] {
        let r = asid(&[cmd, s(&tmp.join("nothing-here"))]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.stderr);
        assert!(r.stderr.contains("no such run directory"), "{}", r.stderr);
        let r = asid(&[cmd, s(&episode)]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.stderr);
        assert!(r.stderr.contains("--scene"), "{cmd}: {}", r.stderr);
    }
}

/// A balancing task on a Franka is refused before anything is planned or moves (asid does not
/// drive the Franka Hand in a run yet): exit code 2, no exploration plan in the run directory.
#[test]
fn a_balancing_run_on_a_franka_is_refused_before_planning() {
    let tmp = TempDir::new("station-balance-franka");
    let out = tmp.join("runs");
    let r = asid(&[
        "run",
        "scenes/rod_balance.toml",
        "--arm",
        "franka://127.0.0.77",
        "--yes",
        "--out-dir",
        s(&out),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("simulated lab only"), "{}", r.stderr);
    for dir in run_dirs(&out) {
        assert!(
            !dir.join("plan.json").exists(),
            "nothing planned: {}",
            dir.display()
        );
    }
}

/// The carry's commands are learned against the simulator's joint PD, not a Franka's controller:
/// a carry on a Franka is refused before anything is planned or moves.
#[test]
fn a_carry_on_a_franka_is_refused_before_planning() {
    let tmp = TempDir::new("station-carry-franka");
    let out = tmp.join("runs");
    let r = asid(&[
        "run",
        "scenes/payload.toml",
        "--arm",
        "franka://127.0.0.77",
        "--yes",
        "--out-dir",
        s(&out),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--no-task"), "{}", r.stderr);
    for dir in run_dirs(&out) {
        assert!(!dir.join("plan.json").exists(), "{}", dir.display());
    }
}

/// An arm that cannot be reached is an arm fault: exit code 3, and the message names the host.
#[test]
fn an_unreachable_franka_exits_with_the_arm_fault_code() {
    let tmp = TempDir::new("station-fault");
    let plan = tmp.join("plan.json");
    common::small_plan("scenes/shuffleboard.toml", &plan);
    // A loopback address where nothing listens on the Franka's port (1337).
    let host = "franka://127.0.0.77";
    let r = asid(&[
        "execute",
        s(&plan),
        "--arm",
        host,
        "--out",
        s(&tmp.join("ep.mcap")),
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("127.0.0.77"), "{}", r.stderr);
}
