//! Write records of every kind, finish, read back equal; errors for what is not an asid recording.

mod common;

use std::collections::BTreeMap;

use asid_arm::{Record, Recorder};
use asid_record::{McapRecorder, RecordError, RecorderOptions, read_with_report, summarize};

#[test]
fn every_record_kind_reads_back_equal() {
    let dir = common::tmp_dir("round_trip");
    let path = dir.join("run.mcap");
    let info = common::run_info("shuffleboard");
    let records = common::records(500);
    let mut rec = McapRecorder::create(&path, &info).expect("create");
    let start = BTreeMap::from([("clock_offset_s".to_string(), "0.25".to_string())]);
    rec.metadata("asid.clock", &start).expect("metadata");
    for (i, r) in records.iter().enumerate() {
        rec.write(r).expect("write");
        if i % 333 == 0 {
            rec.flush().expect("flush");
        }
    }
    let end = BTreeMap::from([
        ("clock_offset_s".to_string(), "0.5".to_string()),
        ("poses_dropped".to_string(), "3".to_string()),
    ]);
    rec.metadata("asid.clock", &end).expect("metadata again");
    rec.finish().expect("finish");
    rec.finish().expect("a second finish does nothing");
    assert!(rec.write(&records[0]).is_err(), "no write after finish");

    let (read, report) = read_with_report(&path).expect("read");
    let mut want = common::expected(&info, &records);
    want.metadata.insert("asid.clock".into(), end.clone());
    assert_eq!(read, want);
    assert!(report.finished, "{report:?}");
    assert_eq!(report.unusable_bytes, 0);
    assert_eq!(report.read_bytes, report.file_bytes);
    assert!(
        report.chunks > 5,
        "500 ms of records make several chunks: {}",
        report.chunks
    );
    let counts: BTreeMap<&str, u64> = report
        .topics
        .iter()
        .map(|t| (t.topic.as_str(), t.messages))
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([
            ("/arm/state", 500),
            ("/arm/command", 500),
            ("/plan/action", 500),
            ("/log", 500),
            ("/tracker/puck", 500),
            ("/tracker/rod", 500),
            // The ROS 2 mirrors: a joint state per state, a transform per pose.
            ("/joint_states", 500),
            ("/tf", 1000),
        ])
    );

    let summary = summarize(&path).expect("summary");
    assert!(summary.finished);
    assert_eq!(summary.actions, 500);
    let states = summary.states.as_ref().expect("state timing");
    assert!((states.rate_hz - 1000.0).abs() < 1e-6, "{states:?}");
    assert_eq!(states.long_intervals, 0);
    assert!(
        (summary.duration_s - 0.4995).abs() < 1e-9,
        "{}",
        summary.duration_s
    );
    let text = summary.to_string();
    assert!(
        text.contains("finished") && text.contains("/tracker/rod"),
        "{text}"
    );
    serde_json::to_string(&summary).expect("the summary serialises");
}

#[test]
fn summary_finds_gaps_in_the_arm_states() {
    let dir = common::tmp_dir("gaps");
    let path = dir.join("gaps.mcap");
    let mut rec = McapRecorder::create(&path, &common::run_info("shuffleboard")).expect("create");
    // 1 kHz with two late states (3 ms and 5 ms intervals).
    let mut t = 0;
    for i in 0..100u64 {
        t += match i {
            40 => 3_000_000,
            70 => 5_000_000,
            _ => 1_000_000,
        };
        rec.write(&Record::State(common::state(t, i)))
            .expect("write");
    }
    rec.finish().expect("finish");
    let s = summarize(&path).expect("summary");
    let st = s.states.expect("timing");
    assert_eq!(st.long_intervals, 2);
    assert!((st.largest_interval_s - 0.005).abs() < 1e-12);
    assert!((st.median_interval_s - 0.001).abs() < 1e-12);
    assert_eq!(st.samples, 100);
}

#[test]
fn recorder_refuses_reserved_metadata_and_non_finite_numbers() {
    let dir = common::tmp_dir("refusals");
    let path = dir.join("r.mcap");
    let mut rec = McapRecorder::create(&path, &common::run_info("s")).expect("create");
    let e = rec
        .metadata("asid.run", &BTreeMap::new())
        .expect_err("reserved");
    assert!(e.to_string().contains("reserved"), "{e}");
    let mut s = common::state(5, 1);
    s.q_rad[2] = f64::NAN;
    let e = rec.write(&Record::State(s)).expect_err("NaN refused");
    assert!(e.to_string().contains("q_rad"), "{e}");
    rec.finish().expect("finish");
}

#[test]
fn zstd_chunks_round_trip() {
    let dir = common::tmp_dir("zstd");
    let path = dir.join("z.mcap");
    let options = RecorderOptions {
        zstd: true,
        ..RecorderOptions::default()
    };
    let mut rec = McapRecorder::create_with_options(&path, &common::run_info("s"), options)
        .expect("zstd recorder");
    let records = common::records(50);
    for x in &records {
        rec.write(x).expect("write");
    }
    rec.finish().expect("finish");
    let read = asid_record::read_recording(&path).expect("read");
    assert_eq!(read, common::expected(&common::run_info("s"), &records));
}

#[test]
fn non_mcap_input_names_the_file() {
    let dir = common::tmp_dir("not_mcap");
    let path = dir.join("episode.json");
    std::fs::write(&path, "{\"format\": \"asid-episode/1\"}").expect("write");
    let e = read_with_report(&path).expect_err("not MCAP");
    assert!(matches!(e, RecordError::NotMcap { .. }), "{e:?}");
    assert!(e.to_string().contains("episode.json"), "{e}");
    let missing = dir.join("missing.mcap");
    let e = read_with_report(&missing).expect_err("no file");
    assert!(e.to_string().contains("missing.mcap"), "{e}");
}

fn foreign_file(path: &std::path::Path, topic: &str, schema: &str, encoding: &str) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut w = mcap::WriteOptions::new()
        .compression(None)
        .create(file)
        .expect("writer");
    let schema_id = w.add_schema(schema, "jsonschema", b"{}").expect("schema");
    let ch = w
        .add_channel(schema_id, topic, encoding, &BTreeMap::new())
        .expect("channel");
    let header = mcap::records::MessageHeader {
        channel_id: ch,
        sequence: 1,
        log_time: 1,
        publish_time: 1,
    };
    w.write_to_known_channel(&header, b"{}").expect("message");
    w.finish().expect("finish");
}

#[test]
fn unknown_topics_schemas_and_encodings_are_errors() {
    let dir = common::tmp_dir("foreign");
    let path = dir.join("camera.mcap");
    foreign_file(&path, "/camera/image", "foxglove.RawImage", "json");
    let e = read_with_report(&path).expect_err("unknown topic");
    assert!(
        matches!(&e, RecordError::UnknownTopic { topic, .. } if topic == "/camera/image"),
        "{e:?}"
    );
    assert!(e.to_string().contains("camera.mcap"), "{e}");

    foreign_file(&path, "/arm/state", "sensor_msgs/JointState", "json");
    let e = read_with_report(&path).expect_err("wrong schema");
    assert!(
        matches!(&e, RecordError::UnknownSchema { schema, .. } if schema == "sensor_msgs/JointState"),
        "{e:?}"
    );

    foreign_file(&path, "/arm/state", "asid.ArmState", "cdr");
    let e = read_with_report(&path).expect_err("wrong encoding");
    assert!(
        matches!(&e, RecordError::Encoding { encoding, .. } if encoding == "cdr"),
        "{e:?}"
    );

    foreign_file(&path, "/arm/state", "asid.ArmState", "json");
    let e = read_with_report(&path).expect_err("message is not an ArmState");
    assert!(
        matches!(&e, RecordError::Decode { topic, .. } if topic == "/arm/state"),
        "{e:?}"
    );
}
