//! The rod-balancing motion on the simulated lab, through the station's executor (the arm behind
//! the safety layer, the lab's hand, the tracker, the MCAP recorder): a motion planned for the
//! lab's true centre of mass balances the rod, judged from the tracker alone; one planned 3 cm off
//! drops it; a grasp that closes on nothing stops the arm with every sample kept; the dry run
//! refuses a hand command beyond the hand's limits before anything moves.

use std::path::{Path, PathBuf};

use asid_arm::StopSignal;
use asid_sim::Simulator;
use asid_station::balance::{balance_limits, judge_episode, motion_check};
use asid_station::checks::limits_for;
use asid_station::executor::Work;
use asid_station::{Job, LabSettings, Silent};
use asid_task::balance::BalanceOutcome;
use asid_task::pick_place::{BalanceMotion, MotionStep, PickPlace};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scene() -> Simulator {
    Simulator::load(&repo().join("scenes/rod_balance.toml")).expect("rod_balance scene")
}

/// The motion that grasps the rod at `offset_m` from its scene pose.
fn motion_for(sim: &Simulator, offset_m: f64) -> (BalanceMotion, PickPlace) {
    let m = BalanceMotion::of_scene(sim.scene()).expect("balance task");
    let w = sim.world(&sim.scene().space.nominal()).expect("world");
    let rod = w.object_pose("rod").expect("rod");
    let (q0, _) = asid_sim::start_of(sim.scene(), sim.arm()).expect("start");
    let p = m
        .plan(
            sim.arm(),
            &q0,
            &rod,
            offset_m,
            sim.scene().control_period_s(),
        )
        .expect("motion");
    (m, p)
}

/// Runs `steps` on a lab whose rod has its centre of mass at `com_m`; the summary and the episode.
fn run_on_lab(
    sim: &Simulator,
    steps: &[MotionStep],
    com_m: f64,
    dir: &Path,
    name: &str,
) -> (asid_station::RunSummary, PathBuf) {
    let m = BalanceMotion::of_scene(sim.scene()).expect("balance task");
    let limits = balance_limits(&limits_for(sim.scene(), 100), &m);
    let out = dir.join(format!("{name}.mcap"));
    let job = Job {
        sim,
        work: Work::Motion(steps),
        plan_label: name.into(),
        out: out.clone(),
        what: "task",
    };
    let truth = format!("rod.com_offset={com_m},rod.friction=0.3");
    let lab = LabSettings {
        seed: 3,
        truth: Some(&truth),
        noise: 1.0,
        imperfections: None,
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (summary, _) = rt
        .block_on(asid_station::arms::run_in_lab(
            &job,
            &lab,
            limits,
            StopSignal::new(),
            &mut Silent,
        ))
        .expect("run");
    (summary, out)
}

fn judged(sim: &Simulator, episode: &Path) -> BalanceOutcome {
    let m = BalanceMotion::of_scene(sim.scene()).expect("balance task");
    judge_episode(&m, &sim.arm().world_from_base, episode).expect("judged")
}

#[test]
fn the_lab_balances_the_rod_when_the_grasp_is_over_its_centre_of_mass() {
    let sim = scene();
    let dir = std::env::temp_dir().join(format!("asid-balance-lab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let com = 0.03;
    let (_, good) = motion_for(&sim, com);
    let (summary, episode) = run_on_lab(&sim, &good.steps, com, &dir, "good");
    assert!(summary.stopped_by.is_none(), "{summary:?}");
    assert_eq!(summary.steps_done, good.steps.len());
    let ok = judged(&sim, &episode);
    eprintln!("grasped over the centre of mass: {ok:?}");
    assert!(ok.success && ok.tilt_deg < 1.0, "{ok:?}");
    let rec = asid_record::read_recording(&episode).expect("episode");
    // Open, grasp, open: each hand state recorded; the grasp held the rod.
    assert_eq!(rec.grippers.len(), 3, "{:?}", rec.grippers);
    assert!(rec.grippers[1].state().is_grasping, "{:?}", rec.grippers);

    let (_, off) = motion_for(&sim, com - 0.03);
    let (summary, episode) = run_on_lab(&sim, &off.steps, com, &dir, "off");
    assert!(summary.stopped_by.is_none(), "{summary:?}");
    let fell = judged(&sim, &episode);
    eprintln!("grasped 3 cm off: {fell:?}");
    assert!(!fell.success, "{fell:?}");

    // The hand closes on nothing (the arm still at its start, beside the rod): the run stops
    // with the arm stopped and the episode kept.
    let miss = [MotionStep::Grasp {
        width_m: 0.04,
        speed_mps: 0.05,
        force_n: 20.0,
    }];
    let (summary, episode) = run_on_lab(&sim, &miss, com, &dir, "miss");
    let why = summary.stopped_by.clone().expect("stopped");
    assert!(why.contains("the grasp missed"), "{why}");
    let rec = asid_record::read_recording(&episode).expect("episode kept");
    assert_eq!(rec.grippers.len(), 1, "the failed grasp's state is kept");
    assert!(!rec.grippers[0].state().is_grasping, "{:?}", rec.grippers);
    assert!(!rec.states.is_empty() && !rec.poses.is_empty());
    // The arm was stopped (the executor's stop after the fault is recorded), and the hand's state
    // is stamped after the fingers closed, not before.
    let texts: Vec<&str> = rec.events.iter().map(|e| e.text.as_str()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("run stopped") && t.contains("grasp missed")),
        "{texts:?}"
    );
    let grasp_sent = rec
        .events
        .iter()
        .find(|e| e.text.starts_with("hand grasps"))
        .expect("grasp event")
        .stamp_ns;
    assert!(
        rec.grippers[0].stamp_ns > grasp_sent,
        "hand state at {} ns, grasp sent at {grasp_sent} ns",
        rec.grippers[0].stamp_ns
    );
    std::fs::remove_dir_all(&dir).expect("remove temp dir");
}

#[test]
fn the_dry_run_refuses_hand_commands_beyond_the_hand() {
    let sim = scene();
    let (m, mut p) = motion_for(&sim, 0.0);
    let limits = balance_limits(&limits_for(sim.scene(), 100), &m);
    motion_check(&sim, &p.steps, &limits).expect("the planned motion passes");
    let k = p
        .steps
        .iter()
        .position(|s| matches!(s, MotionStep::Grasp { .. }))
        .expect("a grasp");
    p.steps[k] = MotionStep::Grasp {
        width_m: 0.04,
        speed_mps: 0.05,
        force_n: 100.0,
    };
    let e = motion_check(&sim, &p.steps, &limits).expect_err("100 N");
    assert!(e.to_string().contains(&format!("motion step {k}")), "{e}");
    assert!(e.to_string().contains("force"), "{e}");
    // Without the grown tool box the carry to the perch leaves the exploration's workspace.
    let e = motion_check(
        &sim,
        &motion_for(&sim, 0.0).1.steps,
        &limits_for(sim.scene(), 100),
    )
    .expect_err("outside the exploration's workspace");
    assert!(e.to_string().contains("workspace"), "{e}");
}
