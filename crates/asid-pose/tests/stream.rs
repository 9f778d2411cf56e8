//! A valid stream over real loopback UDP: delivery and stamps, duplicates, reordering, loss,
//! staleness. The arm clock is the `now_ns` each test passes, so stamps are exact.

mod common;

use asid_arm::{PoseError, PoseSource};
use asid_pose::{PoseStreamConfig, UdpPoseReceiver};
use common::{MS, datagram, pair, poll_received, send};

/// Sender clock = arm clock + 1000 s.
const SENDER_AHEAD_S: f64 = 1000.0;

fn sender_t(arm_ns: u64) -> f64 {
    arm_ns as f64 * 1e-9 + SENDER_AHEAD_S
}

#[test]
fn valid_stream_is_delivered_with_arm_clock_stamps() {
    // A constant 2 ms latency cannot be observed one way; telling the receiver removes it.
    let (mut rx, tx) = pair(PoseStreamConfig {
        expected_objects: vec!["cube".into(), "rod".into()],
        assumed_min_latency_ms: 2.0,
        ..PoseStreamConfig::default()
    });
    let mut samples = Vec::new();
    for k in 1..=20_u64 {
        let now_ns = 1_000 * MS + k * 10 * MS;
        // Poll first so that the next arrival is placed exactly at `now_ns`.
        samples.extend(rx.poll(now_ns).unwrap_or_else(|e| panic!("{e}")));
        send(&tx, &datagram(sender_t(now_ns - 2 * MS), &["cube", "rod"]));
        samples.extend(poll_received(&mut rx, now_ns, k));
    }
    assert_eq!(samples.len(), 40);
    for (i, s) in samples.iter().enumerate() {
        let k = (i / 2) as u64 + 1;
        let true_ns = 1_000 * MS + k * 10 * MS - 2 * MS;
        assert_eq!(s.object, ["cube", "rod"][i % 2]);
        assert!(s.stamp_ns.abs_diff(true_ns) <= 1, "{s:?} vs {true_ns}");
        assert!((s.sender_t_s - sender_t(true_ns)).abs() < 1e-9);
        assert_eq!(s.q_wxyz, common::IDENTITY);
    }
    let stats = rx.stats();
    assert_eq!(
        (stats.received, stats.accepted, stats.malformed),
        (20, 40, 0)
    );
    let offset_s = stats.clock_offset_s.unwrap_or(f64::NAN);
    assert!((offset_s + SENDER_AHEAD_S).abs() < 1e-6, "{offset_s}");
}

#[test]
fn duplicates_are_dropped() {
    let (mut rx, tx) = pair(PoseStreamConfig::default());
    let first = datagram(5.0, &["cube", "rod"]);
    for _ in 0..3 {
        send(&tx, &first);
    }
    send(&tx, &datagram(5.01, &["cube", "rod"]));
    let samples = poll_received(&mut rx, 100 * MS, 4);
    let times: Vec<_> = samples.iter().map(|s| s.sender_t_s).collect();
    assert_eq!(times, [5.0, 5.0, 5.01, 5.01]);
    let stats = rx.stats();
    assert_eq!(
        (stats.accepted, stats.duplicates, stats.reordered),
        (4, 4, 0)
    );
}

#[test]
fn older_samples_are_dropped_per_object() {
    let (mut rx, tx) = pair(PoseStreamConfig::default());
    send(&tx, &datagram(3.0, &["cube"]));
    assert_eq!(poll_received(&mut rx, 100 * MS, 1).len(), 1);
    send(&tx, &datagram(2.0, &["cube"])); // older than one delivered: dropped
    send(&tx, &datagram(2.5, &["rod"])); // other object: its first sample, delivered
    send(&tx, &datagram(4.0, &["cube"]));
    let samples = poll_received(&mut rx, 110 * MS, 4);
    let delivered: Vec<_> = samples
        .iter()
        .map(|s| (s.object.as_str(), s.sender_t_s))
        .collect();
    assert_eq!(delivered, [("rod", 2.5), ("cube", 4.0)]);
    assert_eq!(rx.stats().reordered, 1);
}

#[test]
fn loss_is_tolerated() {
    let (mut rx, tx) = pair(PoseStreamConfig {
        expected_objects: vec!["cube".into()],
        stale_after_ms: 100,
        ..PoseStreamConfig::default()
    });
    let mut sent = 0;
    let mut delivered = Vec::new();
    for k in 1..=60_u64 {
        let now_ns = k * 10 * MS;
        delivered.extend(rx.poll(now_ns).unwrap_or_else(|e| panic!("step {k}: {e}")));
        // Every third datagram and a burst of five are "lost": gaps below the stale limit.
        if k % 3 == 0 || (30..35).contains(&k) {
            continue;
        }
        send(&tx, &datagram(sender_t(now_ns), &["cube"]));
        sent += 1;
        delivered.extend(poll_received(&mut rx, now_ns, sent));
    }
    assert_eq!(delivered.len() as u64, sent);
    assert!(delivered.windows(2).all(|w| w[0].stamp_ns < w[1].stamp_ns));
    let stats = rx.stats();
    assert_eq!(
        (stats.malformed, stats.duplicates, stats.reordered),
        (0, 0, 0)
    );
}

#[test]
fn a_silent_object_stops_the_run_with_its_age() {
    let (mut rx, tx) = pair(PoseStreamConfig {
        expected_objects: vec!["cube".into()],
        stale_after_ms: 100,
        ..PoseStreamConfig::default()
    });
    let arrival_ns = 1_000 * MS;
    assert_eq!(rx.poll(arrival_ns).map(|s| s.len()), Ok(0));
    send(&tx, &datagram(sender_t(arrival_ns), &["cube"]));
    poll_received(&mut rx, arrival_ns, 1);
    assert_eq!(rx.poll(arrival_ns + 100 * MS), Ok(Vec::new()));
    let stale = rx.poll(arrival_ns + 250 * MS);
    assert_eq!(
        stale,
        Err(PoseError::Stale {
            object: "cube".into(),
            age_ms: 250,
            limit_ms: 100
        })
    );
    let message = stale.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("`cube`") && message.contains("250 ms"),
        "{message}"
    );
}

#[test]
fn an_object_never_seen_is_stale_after_the_startup_grace() {
    let (mut rx, tx) = pair(PoseStreamConfig {
        expected_objects: vec!["cube".into(), "rod".into()],
        stale_after_ms: 100,
        startup_grace_ms: 300,
        ..PoseStreamConfig::default()
    });
    let mut sent = 0;
    for k in 0..=4_u64 {
        let now_ns = k * 80 * MS;
        let polled = rx.poll(now_ns);
        if k == 4 {
            // 320 ms after the first poll, past the 300 ms grace.
            assert_eq!(
                polled,
                Err(PoseError::Stale {
                    object: "rod".into(),
                    age_ms: u64::MAX,
                    limit_ms: 100
                })
            );
            break;
        }
        assert_eq!(polled.map(|_| ()), Ok(()), "step {k}");
        send(&tx, &datagram(sender_t(now_ns), &["cube"]));
        sent += 1;
        poll_received(&mut rx, now_ns, sent);
    }
}

#[test]
fn dropping_the_receiver_frees_its_port() {
    let (rx, _tx) = pair(PoseStreamConfig::default());
    let addr = rx.local_addr();
    drop(rx);
    let again = UdpPoseReceiver::bind(&PoseStreamConfig {
        bind: addr,
        ..PoseStreamConfig::default()
    });
    assert_eq!(again.map(|r| r.local_addr()).ok(), Some(addr));
}
