//! An independent reader (the `mcap` package from PyPI) reads our files: finished ones through
//! their summary and index, cut ones as a stream up to the cut.
//!
//! Needs `<repo>/.venv-peer/bin/python` with `mcap` installed, made by `scripts/peer-venv.sh` when
//! missing (or `ASID_PEER_PYTHON` naming a Python that has it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use asid_arm::Recorder;
use asid_record::{McapRecorder, RecorderOptions};

const SCRIPT: &str = r#"
import json, sys
from mcap.reader import make_reader
from mcap.stream_reader import StreamReader
from mcap.records import Message, Channel, Schema, Metadata, Footer
from mcap_ros2.decoder import DecoderFactory

path, mode = sys.argv[1], sys.argv[2]
counts, metadata, mismatched, missing_required = {}, {}, 0, 0
mirrors, json_q, json_p = {}, {}, {}
if mode == "finished":
    with open(path, "rb") as f:
        reader = make_reader(f, validate_crcs=True)
        summary = reader.get_summary()
        ros2 = DecoderFactory()
        decoders = {}
        for schema, channel, message in reader.iter_messages(log_time_order=False):
            counts[channel.topic] = counts.get(channel.topic, 0) + 1
            if channel.message_encoding == "cdr":
                # The ROS 2 mirrors, decoded by the independent ros2msg/CDR decoder.
                assert schema.encoding == "ros2msg", schema.encoding
                if schema.id not in decoders:
                    decoders[schema.id] = ros2.decoder_for("cdr", schema)
                m = decoders[schema.id](message.data)
                if channel.topic == "/joint_states":
                    stamp, pos = m.header.stamp, list(m.position)
                    mirrors.setdefault("joint_states", {})[message.log_time] = pos
                else:
                    t = m.transforms[0]
                    stamp = t.header.stamp
                    assert t.header.frame_id == "base", t.header.frame_id
                    v = t.transform.translation
                    key = "/tracker/" + t.child_frame_id
                    mirrors.setdefault("tf", {})[key + "@" + str(message.log_time)] = [v.x, v.y, v.z]
                if stamp.sec * 1000000000 + stamp.nanosec != message.log_time:
                    mismatched += 1
                continue
            assert channel.message_encoding == "json", channel.message_encoding
            assert schema.encoding == "jsonschema", schema.encoding
            js = json.loads(schema.data)
            body = json.loads(message.data)
            missing_required += sum(1 for k in js.get("required", []) if k not in body)
            if body.get("stamp_ns") != message.log_time or message.publish_time != message.log_time:
                mismatched += 1
            if channel.topic == "/arm/state":
                json_q[message.log_time] = body["q_rad"]
            elif channel.topic.startswith("/tracker/"):
                p = body["pose"]["position"]
                json_p[channel.topic + "@" + str(message.log_time)] = [p["x"], p["y"], p["z"]]
        for m in reader.iter_metadata():
            metadata[m.name] = dict(m.metadata)
        out = {"statistics_messages": summary.statistics.message_count,
               "chunks": len(summary.chunk_indexes),
               "mirror_states_equal": mirrors.get("joint_states") == json_q,
               "mirror_poses_equal": mirrors.get("tf") == json_p}
else:
    channels, out, error = {}, {}, None
    with open(path, "rb") as f:
        try:
            for record in StreamReader(f, skip_magic=False, emit_chunks=False).records:
                if isinstance(record, Channel):
                    channels[record.id] = record.topic
                elif isinstance(record, Message):
                    t = channels[record.channel_id]
                    counts[t] = counts.get(t, 0) + 1
                elif isinstance(record, Metadata):
                    metadata[record.name] = dict(record.metadata)
        except Exception as e:
            error = type(e).__name__
    out = {"stream_error": error}
out.update({"counts": counts, "metadata": metadata, "mismatched": mismatched,
            "missing_required": missing_required})
print(json.dumps(out))
"#;

/// `ASID_PEER_PYTHON`, else `<repo>/.venv-peer/bin/python`, made by `scripts/peer-venv.sh` (the
/// script .ci/run calls; it takes a file lock) when missing.
fn python() -> PathBuf {
    if let Some(py) = std::env::var_os("ASID_PEER_PYTHON") {
        return PathBuf::from(py);
    }
    let out = Command::new("bash")
        .arg(common::repo_root().join("scripts/peer-venv.sh"))
        .output()
        .expect("run scripts/peer-venv.sh");
    assert!(
        out.status.success(),
        "the test peers' venv could not be made by scripts/peer-venv.sh ({}): {}\n(or set \
         ASID_PEER_PYTHON to a Python that has the `mcap` package)",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    common::repo_root().join(".venv-peer/bin/python")
}

fn peer_read(path: &Path, mode: &str) -> serde_json::Value {
    let py = python();
    let out = Command::new(&py)
        .args(["-c", SCRIPT])
        .arg(path)
        .arg(mode)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): install the independent MCAP reader with \
                 `python3 -m venv .venv-peer && .venv-peer/bin/pip install mcap` in the repository root \
                 (or set ASID_PEER_PYTHON to a Python that has the `mcap` package)",
                py.display()
            )
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'mcap'"),
        "{} lacks the `mcap` package: run `{} -m pip install mcap`",
        py.display(),
        py.display()
    );
    assert!(out.status.success(), "python reader failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

#[test]
fn python_mcap_reads_a_finished_recording() {
    let dir = common::tmp_dir("peer_finished");
    let path = dir.join("run.mcap");
    let info = common::run_info("shuffleboard");
    let records = common::records(300);
    let mut rec = McapRecorder::create(&path, &info).expect("create");
    for r in &records {
        rec.write(r).expect("write");
    }
    rec.finish().expect("finish");

    let v = peer_read(&path, "finished");
    for topic in [
        "/arm/state",
        "/arm/command",
        "/plan/action",
        "/log",
        "/tracker/puck",
        "/tracker/rod",
    ] {
        assert_eq!(v["counts"][topic], 300, "{topic}: {v}");
    }
    // The ROS 2 mirrors: one joint state per state, one transform per pose, each equal to its
    // JSON message as the independent CDR decoder reads it.
    assert_eq!(v["counts"]["/joint_states"], 300, "{v}");
    assert_eq!(v["counts"]["/tf"], 600, "{v}");
    assert_eq!(v["mirror_states_equal"], true, "{v}");
    assert_eq!(v["mirror_poses_equal"], true, "{v}");
    assert_eq!(v["statistics_messages"], 2700, "{v}");
    assert_eq!(
        v["mismatched"], 0,
        "log_time = publish_time = stamp_ns: {v}"
    );
    assert_eq!(
        v["missing_required"], 0,
        "every message has its schema's required fields: {v}"
    );
    assert_eq!(v["metadata"]["asid.run"]["scene"], "shuffleboard", "{v}");
    assert_eq!(v["metadata"]["asid.run"]["format"], "asid-mcap/1", "{v}");
    assert!(v["chunks"].as_u64().expect("chunks") > 1, "{v}");
}

#[test]
fn python_mcap_streams_a_cut_recording_as_far_as_we_do() {
    let dir = common::tmp_dir("peer_cut");
    let path = dir.join("cut.mcap");
    let info = common::run_info("shuffleboard");
    let options = RecorderOptions {
        chunk_max_messages: 50,
        ..RecorderOptions::default()
    };
    let mut rec = McapRecorder::create_with_options(&path, &info, options).expect("create");
    for r in &common::records(100) {
        rec.write(r).expect("write");
    }
    rec.finish().expect("finish");
    let bytes = std::fs::read(&path).expect("read");
    // Cut in the middle of the data section, inside a chunk.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("cut");

    let (ours, report) = asid_record::read_with_report(&path).expect("our reader");
    assert!(!report.finished && report.unusable_bytes > 0, "{report:?}");
    let v = peer_read(&path, "cut");
    assert!(
        v["stream_error"].is_string(),
        "the peer noticed the cut: {v}"
    );
    assert_eq!(v["counts"]["/arm/state"], ours.states.len(), "{v}");
    assert_eq!(v["counts"]["/plan/action"], ours.actions.len(), "{v}");
    assert_eq!(v["metadata"]["asid.run"]["robot"], "panda", "{v}");
}
