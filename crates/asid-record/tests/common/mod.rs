//! Records and run info shared by the tests.
#![allow(dead_code, reason = "each test binary uses a different part")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use asid_arm::{
    ActionRecord, ArmCommand, ArmMode, ArmState, Backend, Capabilities, CommandRecord, EventRecord,
    Level, PoseSample, Record, Recording, RunInfo,
};

pub fn run_info(scene: &str) -> RunInfo {
    RunInfo {
        robot: "panda".into(),
        scene: scene.into(),
        arm: Capabilities {
            backend: Backend::Sim,
            robot: "panda".into(),
            dof: 7,
            control_period_s: 0.001,
            reports_external_force: true,
            has_gripper: false,
        },
        plan: "plans/push.json".into(),
        software_version: "0.1.0-test".into(),
        extra: BTreeMap::from([
            ("seed".to_string(), serde_json::json!(7)),
            (
                "true_parameters".to_string(),
                serde_json::json!({"puck.friction": 0.3}),
            ),
        ]),
    }
}

/// A state at `stamp_ns` with values that exercise every field (awkward floats included).
pub fn state(stamp_ns: u64, i: u64) -> ArmState {
    let x = i as f64;
    ArmState {
        stamp_ns,
        q_rad: (0..7)
            .map(|j| 0.1 * j as f64 + x * 1e-3 + 1.0 / 3.0)
            .collect(),
        dq_rad_s: (0..7).map(|j| -(j as f64) * 1e-7 * x).collect(),
        q_cmd_rad: (0..7)
            .map(|j| std::f64::consts::PI / (j + 2) as f64)
            .collect(),
        tau_nm: if i.is_multiple_of(2) {
            vec![1e-300, -2.5, 3.0, 4.0, 5.0, 6.0, 7.0]
        } else {
            vec![]
        },
        tau_ext_nm: vec![0.1; 7],
        f_ext_n: (i.is_multiple_of(3)).then_some([0.1, -0.2, 9.81]),
        gripper_width_m: (i.is_multiple_of(4)).then_some(0.08),
        mode: if i == 0 {
            ArmMode::Idle
        } else {
            ArmMode::Moving
        },
    }
}

/// `n` rounds of every record kind, 1 ms apart; poses for two objects; all event levels.
pub fn records(n: u64) -> Vec<Record> {
    let mut out = Vec::new();
    for i in 0..n {
        let t = 1_000_000_000 + i * 1_000_000;
        out.push(Record::State(state(t, i)));
        out.push(Record::Command(CommandRecord {
            stamp_ns: t,
            command: if i.is_multiple_of(5) {
                ArmCommand::Hold
            } else {
                ArmCommand::JointPosition {
                    q_rad: vec![0.5 + i as f64 * 1e-4; 7],
                }
            },
        }));
        out.push(Record::Action(ActionRecord {
            stamp_ns: t,
            step: i,
            values: vec![0.01 * i as f64, -0.02],
        }));
        for (k, object) in ["puck", "rod"].iter().enumerate() {
            out.push(Record::Pose(PoseSample {
                stamp_ns: t + 300_000,
                sender_t_s: 12.5 + i as f64 * 1e-3,
                object: (*object).into(),
                p_m: [0.5 + 1e-5 * i as f64, k as f64 * 0.1, 0.01],
                q_wxyz: [0.8, 0.0, 0.0, 0.6],
            }));
        }
        out.push(Record::Event(EventRecord {
            stamp_ns: t + 500_000,
            level: [Level::Info, Level::Warn, Level::Error][(i % 3) as usize],
            text: format!("event {i} «ünïcode»"),
        }));
    }
    out
}

/// What a reader should return for `records` written after `info`.
pub fn expected(info: &RunInfo, records: &[Record]) -> Recording {
    let mut r = Recording {
        info: Some(info.clone()),
        ..Recording::default()
    };
    for rec in records {
        r.push(rec.clone());
    }
    r
}

pub fn tmp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
