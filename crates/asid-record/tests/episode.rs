//! A recording becomes an identification episode on a scene's channels.

mod common;

use std::path::Path;

use asid_arm::{ActionRecord, ArmState, PoseSample, Record, Recorder, Recording};
use asid_core::Scene;
use asid_record::{ConvertError, EpisodeOptions, McapRecorder, episode_from_mcap, to_episode};

const T0_NS: u64 = 5_000_000_000;
const MS: u64 = 1_000_000;

fn scene(name: &str) -> Scene {
    let path = common::repo_root()
        .join("scenes")
        .join(format!("{name}.toml"));
    asid_core::load_scene(&path).expect("scene")
}

fn puck_x(t_ns: u64) -> f64 {
    0.5 + 0.1 * (t_ns as f64 - T0_NS as f64) * 1e-9
}

/// In a gap of the tracker: no pose between 1.0 s and 1.3 s after the first action.
fn in_gap(t_ns: u64) -> bool {
    (T0_NS + 1000 * MS..T0_NS + 1300 * MS).contains(&t_ns)
}

/// 20 actions at 10 Hz from T0, states at 100 Hz, puck poses at 50 Hz (3 ms off the states'
/// grid, quaternion sign flipping), with a gap.
fn recording(scene: &Scene, object: &str) -> Vec<Record> {
    let home = scene.robot.home_rad.clone();
    let mut out = Vec::new();
    let period_ns = (scene.control_period_s() * 1e9).round() as u64;
    for h in 0..20u64 {
        out.push(Record::Action(ActionRecord {
            stamp_ns: T0_NS + h * period_ns,
            step: h,
            values: vec![0.01; scene.action_dim()],
        }));
    }
    for k in 0..300u64 {
        let t = T0_NS - 500 * MS + k * 10 * MS;
        let mut s: ArmState = common::state(t, k);
        s.q_rad = home
            .iter()
            .enumerate()
            .map(|(j, q)| q + 1e-3 * (k as f64) * (j as f64 - 3.0))
            .collect();
        out.push(Record::State(s.clone()));
        if k % 7 == 0 {
            // The same state again (e.g. from a `state()` call): dropped by the conversion.
            out.push(Record::State(s));
        }
    }
    for k in 0..150u64 {
        let t = T0_NS - 200 * MS + k * 20 * MS + 3 * MS;
        if in_gap(t) {
            continue;
        }
        let (c, s) = (0.3f64.cos(), 0.3f64.sin());
        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
        out.push(Record::Pose(PoseSample {
            stamp_ns: t,
            sender_t_s: 0.0,
            object: object.into(),
            p_m: [puck_x(t), 0.02, 0.01],
            q_wxyz: [sign * c, 0.0, 0.0, sign * s],
        }));
    }
    out
}

fn write(path: &Path, scene_name: &str, records: &[Record]) {
    let mut rec = McapRecorder::create(path, &common::run_info(scene_name)).expect("create");
    for r in records {
        rec.write(r).expect("write");
    }
    rec.finish().expect("finish");
}

#[test]
fn shuffleboard_recording_becomes_an_episode() {
    let mut scene = scene("shuffleboard");
    // A base off the world origin: tracker poses (base frame) must be moved into the world.
    scene.spec.arm.base.xyz_m = [0.1, -0.05, 0.0];
    let arm = asid_robot::arm_for_scene(&scene).expect("arm");
    let dir = common::tmp_dir("episode");
    let path = dir.join("push.mcap");
    write(&path, "shuffleboard", &recording(&scene, "puck"));
    let conv = episode_from_mcap(&path, &scene).expect("convert");
    let ep = &conv.episode;
    assert_eq!(ep.scene, "shuffleboard");
    assert_eq!(ep.actions.len(), 20);
    assert_eq!(ep.control_period_s, 0.1);
    assert_eq!(ep.t0_s, 0.0);
    assert_eq!(ep.meta["arm_clock_t0_ns"], serde_json::json!(T0_NS));
    assert!(conv.unavailable.is_empty());
    let channels: Vec<_> = ep
        .channels
        .iter()
        .map(|c| (c.kind, c.of.clone(), c.dim))
        .collect();
    use asid_core::scene::ChannelKind as K;
    assert_eq!(
        channels,
        vec![
            (K::ObjectPose, Some("puck".into()), 7),
            (K::EePosition, None, 3)
        ]
    );

    // States from 0 s to 2 s after the first action, 10 ms apart, strictly increasing.
    assert_eq!(ep.obs_t_s.len(), 201);
    assert!((ep.obs_t_s[0] - 0.0).abs() < 1e-12 && (ep.obs_t_s[200] - 2.0).abs() < 1e-12);
    assert!(ep.obs_t_s.windows(2).all(|w| w[1] > w[0]));

    let (c, s) = (0.3f64.cos(), 0.3f64.sin());
    let mut gap_rows = 0;
    for (t_s, row) in ep.obs_t_s.iter().zip(&ep.obs) {
        let t_ns = T0_NS + (t_s * 1e9).round() as u64;
        // Arm: forward kinematics of the recorded joint positions.
        let k = (t_ns - (T0_NS - 500 * MS)) / (10 * MS);
        let q: Vec<f64> = scene
            .robot
            .home_rad
            .iter()
            .enumerate()
            .map(|(j, q)| q + 1e-3 * (k as f64) * (j as f64 - 3.0))
            .collect();
        let ee = arm.world_from_tcp(&q).translation.vector;
        for (i, v) in [ee.x, ee.y, ee.z].iter().enumerate() {
            assert!((row[7 + i].expect("ee") - v).abs() < 1e-12);
        }
        // Object: the base frame's sample moved into the world, interpolated.
        let near_gap =
            in_gap(t_ns) || in_gap(t_ns + 20 * MS) || in_gap(t_ns.saturating_sub(20 * MS));
        if row[0].is_none() {
            assert!(near_gap, "missing pose at {t_s} s, outside the gap");
            assert!(row[..7].iter().all(Option::is_none));
            gap_rows += 1;
            continue;
        }
        let want = [puck_x(t_ns) + 0.1, 0.02 - 0.05, 0.01, c, 0.0, 0.0, s];
        for (i, w) in want.iter().enumerate() {
            let got = row[i].expect("pose value");
            assert!((got - w).abs() < 1e-9, "t {t_s} s, value {i}: {got} vs {w}");
        }
    }
    // The 300 ms gap (plus the 20 ms sample spacing) blanks about 30 rows, never zeroes them.
    assert!((28..=34).contains(&gap_rows), "{gap_rows} rows in the gap");
    assert_eq!(conv.missing_rows.get("object_pose(puck)"), Some(&gap_rows));
    assert_eq!(ep.on_control_grid().len(), 21);

    // The episode is a valid asid-episode/1 file.
    let json = dir.join("push.json");
    ep.write(&json).expect("write episode");
    let back = asid_core::Episode::read(&json).expect("read episode");
    assert_eq!(back.obs, ep.obs);
}

#[test]
fn a_channel_the_scene_needs_but_the_recording_lacks_is_named() {
    let scene = scene("shuffleboard");
    let dir = common::tmp_dir("episode_missing");
    let path = dir.join("no_tracker.mcap");
    let records: Vec<Record> = recording(&scene, "puck")
        .into_iter()
        .filter(|r| !matches!(r, Record::Pose(_)))
        .collect();
    write(&path, "shuffleboard", &records);
    let e = episode_from_mcap(&path, &scene).expect_err("no puck poses");
    assert!(
        matches!(&e, ConvertError::MissingChannel { channel, .. } if channel == "object_pose(puck)"),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("no_tracker.mcap") && text.contains("/tracker/puck"),
        "{text}"
    );

    // Poses of another object only.
    write(&path, "shuffleboard", &recording(&scene, "rod"));
    let e = episode_from_mcap(&path, &scene).expect_err("wrong object");
    assert!(e.to_string().contains("object_pose(puck)"), "{e}");
}

#[test]
fn channels_a_recording_cannot_carry_are_left_out_and_listed() {
    // The shipped articulation scene does not observe the hinge angle (no lab measures it); a
    // scene that does gets it left out of a recorded episode, named.
    let mut scene = scene("articulation");
    scene
        .spec
        .observation
        .channels
        .push(asid_core::scene::ChannelSpec {
            kind: asid_core::scene::ChannelKind::ArticulationPosition,
            of: Some("lid.hinge".into()),
            sigma: 0.01,
            sigma_rad: None,
        });
    let mut rec = Recording::default();
    for r in recording(&scene, "lid") {
        rec.push(r);
    }
    let conv = to_episode(&rec, &scene, "lid.mcap", &EpisodeOptions::default()).expect("convert");
    assert_eq!(
        conv.unavailable,
        vec!["articulation_position(lid.hinge)".to_string()]
    );
    assert_eq!(
        conv.episode.obs_dim(),
        10,
        "object_pose(lid) and ee_position only"
    );
    assert!(conv.episode.obs.iter().all(|row| row.len() == 10));
}

#[test]
fn recordings_of_another_scene_or_pace_are_refused() {
    let scene = scene("shuffleboard");
    let mut rec = Recording {
        info: Some(common::run_info("rod")),
        ..Recording::default()
    };
    for r in recording(&scene, "puck") {
        rec.push(r);
    }
    let e =
        to_episode(&rec, &scene, "x.mcap", &EpisodeOptions::default()).expect_err("other scene");
    assert!(matches!(e, ConvertError::SceneMismatch { .. }), "{e:?}");

    rec.info = None;
    for a in &mut rec.actions {
        a.stamp_ns = T0_NS + a.step * 50 * MS;
    }
    let e =
        to_episode(&rec, &scene, "x.mcap", &EpisodeOptions::default()).expect_err("20 Hz actions");
    assert!(matches!(e, ConvertError::ActionSpacing { .. }), "{e}");

    rec.actions.remove(5);
    let e = to_episode(&rec, &scene, "x.mcap", &EpisodeOptions::default()).expect_err("step gap");
    assert!(
        matches!(
            e,
            ConvertError::ActionSteps {
                previous: 4,
                found: 6,
                ..
            }
        ),
        "{e}"
    );

    rec.actions.clear();
    let e = to_episode(&rec, &scene, "x.mcap", &EpisodeOptions::default()).expect_err("no actions");
    assert!(matches!(e, ConvertError::NoActions { .. }), "{e}");
}
