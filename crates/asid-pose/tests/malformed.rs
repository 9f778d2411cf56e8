//! Malformed datagrams over real loopback UDP: each is counted with a warning that says why, none
//! panics, and the stream goes on.

mod common;

use asid_arm::PoseSource;
use asid_pose::{KEPT_WARNINGS, PoseStreamConfig};
use common::{MS, datagram, pair, poll_received, send};

const POSE: &str = r#"{"p":[0.4,0,0.02],"q":[1,0,0,0]}"#;

fn with_poses(poses: &str) -> Vec<u8> {
    format!(r#"{{"t":1.0,"frame":"base","poses":{poses}}}"#).into_bytes()
}

fn with_pose(pose: &str) -> Vec<u8> {
    with_poses(&format!(r#"{{"cube":{pose}}}"#))
}

/// (what, bytes, part of the warning).
fn cases() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let padded = format!(
        r#"{{"t":1.0,"frame":"base","poses":{{"cube":{POSE}}}}}{}"#,
        " ".repeat(600)
    );
    vec![
        ("not UTF-8", vec![0x7b, 0xff, 0xfe, 0x7d], "not UTF-8"),
        ("empty", Vec::new(), "EOF"),
        ("not JSON", b"hello tracker".to_vec(), "expected value"),
        ("top-level array", b"[1, 2]".to_vec(), "invalid type"),
        (
            "missing poses",
            br#"{"t":1.0,"frame":"base"}"#.to_vec(),
            "missing field `poses`",
        ),
        (
            "missing t",
            format!(r#"{{"frame":"base","poses":{{"cube":{POSE}}}}}"#).into_bytes(),
            "missing field `t`",
        ),
        (
            "t as a string",
            br#"{"t":"now","frame":"base","poses":{}}"#.to_vec(),
            "invalid type",
        ),
        (
            "unknown top-level field",
            br#"{"t":1.0,"frame":"base","poses":{},"version":1}"#.to_vec(),
            "unknown field `version`",
        ),
        (
            "wrong frame",
            br#"{"t":1.0,"frame":"world","poses":{}}"#.to_vec(),
            r#"frame "world""#,
        ),
        (
            "NaN literal",
            br#"{"t":NaN,"frame":"base","poses":{}}"#.to_vec(),
            "expected value",
        ),
        (
            "infinite t",
            br#"{"t":1e999,"frame":"base","poses":{}}"#.to_vec(),
            "number out of range",
        ),
        ("poses as a list", with_poses("[]"), "invalid type"),
        (
            "null coordinate",
            with_pose(r#"{"p":[0,null,0],"q":[1,0,0,0]}"#),
            "invalid type: null",
        ),
        (
            "p of length 2",
            with_pose(r#"{"p":[0,0],"q":[1,0,0,0]}"#),
            "invalid length 2",
        ),
        (
            "q of length 5",
            with_pose(r#"{"p":[0,0,0],"q":[1,0,0,0,0]}"#),
            "not pose stream v1 JSON",
        ),
        (
            "q of length 3",
            with_pose(r#"{"p":[0,0,0],"q":[1,0,0]}"#),
            "invalid length 3",
        ),
        (
            "unknown pose field",
            with_pose(r#"{"p":[0,0,0],"q":[1,0,0,0],"v":[0,0,0]}"#),
            "unknown field `v`",
        ),
        (
            "non-unit quaternion",
            with_pose(r#"{"p":[0,0,0],"q":[2,0,0,0]}"#),
            "has norm 2",
        ),
        (
            "zero quaternion",
            with_pose(r#"{"p":[0,0,0],"q":[0,0,0,0]}"#),
            "has norm 0",
        ),
        (
            "millimetres",
            with_pose(r#"{"p":[400,0,20],"q":[1,0,0,0]}"#),
            "beyond +-10 m",
        ),
        (
            "empty name",
            with_poses(&format!(r#"{{"":{POSE}}}"#)),
            "empty name",
        ),
        (
            "object twice",
            with_poses(&format!(r#"{{"cube":{POSE},"cube":{POSE}}}"#)),
            "`cube` appears twice",
        ),
        (
            "oversized",
            padded.into_bytes(),
            "513 bytes or more, limit 512",
        ),
        (
            "far oversized",
            vec![b'{'; 60_000],
            "bytes or more, limit 512",
        ),
    ]
}

#[test]
fn malformed_datagrams_are_counted_with_their_reason() {
    let (mut rx, tx) = pair(PoseStreamConfig {
        max_datagram_bytes: 512,
        ..PoseStreamConfig::default()
    });
    let cases = cases();
    for (i, (what, bytes, reason)) in cases.iter().enumerate() {
        tx.send_raw(bytes)
            .unwrap_or_else(|e| panic!("send {what}: {e}"));
        let samples = poll_received(&mut rx, 10 * MS, i as u64 + 1);
        assert!(samples.is_empty(), "{what} delivered {samples:?}");
        let stats = rx.stats();
        assert_eq!(stats.malformed, i as u64 + 1, "{what} not counted");
        let warnings = rx.last_warnings();
        let last = warnings.last().map(String::as_str).unwrap_or_default();
        assert!(
            last.contains(reason),
            "{what}: warning {last:?} lacks {reason:?}"
        );
        assert!(
            last.contains("127.0.0.1:"),
            "{what}: warning names no sender"
        );
    }
    assert_eq!(rx.last_warnings().len(), KEPT_WARNINGS);

    // The stream goes on.
    send(&tx, &datagram(2.0, &["cube"]));
    let samples = poll_received(&mut rx, 20 * MS, cases.len() as u64 + 1);
    assert_eq!(samples.len(), 1);
    let stats = rx.stats();
    assert_eq!(
        (stats.received, stats.accepted, stats.malformed),
        (cases.len() as u64 + 1, 1, cases.len() as u64)
    );
}

#[test]
fn a_burst_of_garbage_interleaved_with_poses_never_stops_the_stream() {
    let (mut rx, tx) = pair(PoseStreamConfig {
        max_datagram_bytes: 512,
        ..PoseStreamConfig::default()
    });
    let cases = cases();
    let mut sent = 0;
    for (k, (what, bytes, _)) in cases.iter().enumerate() {
        tx.send_raw(bytes)
            .unwrap_or_else(|e| panic!("send {what}: {e}"));
        send(&tx, &datagram(3.0 + k as f64 * 0.01, &["cube"]));
        sent += 2;
    }
    let samples = poll_received(&mut rx, 10 * MS, sent);
    assert_eq!(samples.len(), cases.len());
    assert_eq!(rx.stats().malformed, cases.len() as u64);
}

#[test]
fn the_sender_refuses_what_the_receiver_would_reject() {
    let (_rx, tx) = pair(PoseStreamConfig::default());
    let mut bad = datagram(1.0, &["cube"]);
    bad.poses[0].q_wxyz = [f64::NAN, 0.0, 0.0, 0.0];
    let refused = tx
        .send(&bad)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(refused.contains("not finite"), "{refused}");
    let mut bad = datagram(1.0, &["cube"]);
    bad.t_s = f64::INFINITY;
    assert!(tx.send(&bad).is_err());
}
