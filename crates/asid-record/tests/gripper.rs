//! Gripper states go to `/gripper/state` and read back equal; a run without them has no such topic.

mod common;

use asid_arm::{GripperRecord, GripperState, Record, Recorder};
use asid_record::{McapRecorder, read_with_report};

fn topics(report: &asid_record::ReadReport) -> Vec<(String, u64)> {
    report
        .topics
        .iter()
        .map(|t| (t.topic.clone(), t.messages))
        .collect()
}

#[test]
fn gripper_states_read_back_equal_and_only_runs_with_them_have_the_topic() {
    let dir = common::tmp_dir("gripper");
    let info = common::run_info("grasp");
    let with = dir.join("with.mcap");
    let mut records = Vec::new();
    for i in 0..20_u64 {
        let stamp = 1_000_000 * i;
        records.push(Record::State(common::state(stamp, i)));
        if i % 4 == 0 {
            let s = GripperState {
                width_m: 0.08 - 0.002 * i as f64,
                max_width_m: 0.08,
                is_grasping: i >= 12,
            };
            records.push(Record::Gripper(GripperRecord::new(stamp, &s)));
        }
    }
    let mut rec = McapRecorder::create(&with, &info).expect("create");
    for r in &records {
        rec.write(r).expect("write");
    }
    rec.finish().expect("finish");
    let (read, report) = read_with_report(&with).expect("read");
    assert_eq!(read, common::expected(&info, &records));
    assert_eq!(read.grippers.len(), 5);
    assert!(read.grippers[3].is_grasping && !read.grippers[2].is_grasping);
    assert!(topics(&report).contains(&("/gripper/state".to_string(), 5)));

    let without = dir.join("without.mcap");
    let mut rec = McapRecorder::create(&without, &info).expect("create");
    for r in records.iter().filter(|r| !matches!(r, Record::Gripper(_))) {
        rec.write(r).expect("write");
    }
    rec.finish().expect("finish");
    let (read, report) = read_with_report(&without).expect("read");
    assert!(read.grippers.is_empty());
    assert!(
        topics(&report).iter().all(|(t, _)| t != "/gripper/state"),
        "{:?}",
        topics(&report)
    );
    let bytes = std::fs::read(&without).expect("file");
    assert!(
        !bytes.windows(14).any(|w| w == b"/gripper/state"),
        "a run without a gripper writes no gripper channel"
    );
}

#[test]
fn a_non_finite_gripper_width_is_refused() {
    let dir = common::tmp_dir("gripper_nan");
    let mut rec =
        McapRecorder::create(&dir.join("nan.mcap"), &common::run_info("grasp")).expect("create");
    let s = GripperState {
        width_m: f64::NAN,
        max_width_m: 0.08,
        is_grasping: false,
    };
    let e = rec
        .write(&Record::Gripper(GripperRecord::new(5, &s)))
        .expect_err("NaN");
    assert!(e.to_string().contains("width_m"), "{e}");
}
