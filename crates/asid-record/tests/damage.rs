//! Damage inside a finished file costs only the damaged stretch: a flipped bit in one chunk loses
//! that chunk, a broken length field loses that record, and both are reported; chunks compressed
//! with zstd or lz4 by other writers read like ours.

mod common;

use std::path::Path;

use asid_arm::Recorder;
use asid_record::{McapRecorder, RecorderOptions, read_bytes};

/// A finished recording of `n` records in chunks of 40 messages, and its bytes.
fn recording(dir: &Path, n: u64) -> (Vec<u8>, asid_arm::Recording) {
    let path = dir.join("full.mcap");
    let info = common::run_info("shuffleboard");
    let records = common::records(n);
    let options = RecorderOptions {
        chunk_max_messages: 40,
        sync_on_flush: false,
        ..RecorderOptions::default()
    };
    let mut rec = McapRecorder::create_with_options(&path, &info, options).expect("create");
    for r in &records {
        rec.write(r).expect("write");
    }
    rec.finish().expect("finish");
    (
        std::fs::read(&path).expect("read"),
        common::expected(&info, &records),
    )
}

/// Offsets of the top-level chunk records.
fn chunk_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut pos = 8;
    let mut out = Vec::new();
    while pos + 9 <= bytes.len() {
        let len = u64::from_le_bytes(bytes[pos + 1..pos + 9].try_into().expect("8 bytes")) as usize;
        if bytes[pos] == 0x06 {
            out.push(pos);
        }
        if bytes[pos] == 0x02 {
            break;
        }
        pos += 9 + len;
    }
    out
}

fn total(r: &asid_arm::Recording) -> usize {
    r.actions.len() + r.commands.len() + r.states.len() + r.poses.len() + r.events.len()
}

#[test]
fn a_flipped_bit_in_one_chunk_costs_only_that_chunk() {
    let dir = common::tmp_dir("damage_bit");
    let (mut bytes, full) = recording(&dir, 200);
    let chunks = chunk_offsets(&bytes);
    assert!(chunks.len() >= 4, "{} chunks", chunks.len());
    let victim = chunks[chunks.len() / 2];
    // A bit near the end of the chunk's data: the CRC catches it.
    let len = u64::from_le_bytes(bytes[victim + 1..victim + 9].try_into().expect("8 bytes"));
    bytes[victim + 9 + len as usize - 30] ^= 0x10;
    let (read, report) = read_bytes(&dir.join("x.mcap"), &bytes).expect("the other chunks read");
    assert!(report.finished, "{report:?}");
    assert_eq!(report.damaged.len(), 1, "{report:?}");
    assert_eq!(report.damaged[0].offset, victim as u64);
    assert!(
        report.damaged[0].reason.to_lowercase().contains("crc"),
        "{report:?}"
    );
    let lost = total(&full) - total(&read);
    assert!(lost > 0 && lost <= 40, "lost {lost} messages");
    assert_eq!(read.info, full.info);
}

#[test]
fn a_damaged_chunk_length_is_not_a_crash_cut() {
    let dir = common::tmp_dir("damage_len");
    let (mut bytes, full) = recording(&dir, 200);
    let chunks = chunk_offsets(&bytes);
    let victim = chunks[1];
    bytes[victim + 6] = 0x7f; // the length's 6th byte: far more than the file holds
    let (read, report) = read_bytes(&dir.join("x.mcap"), &bytes).expect("read on");
    assert!(report.finished, "read on to the footer: {report:?}");
    assert!(report.cut.is_none(), "{report:?}");
    assert_eq!(report.damaged.len(), 1, "{report:?}");
    assert!(report.damaged[0].reason.contains("length"), "{report:?}");
    let lost = total(&full) - total(&read);
    assert!(
        lost <= 40,
        "lost {lost} of {} messages: {report:?}",
        total(&full)
    );
}

/// Re-encodes an asid recording with another writer's chunk compression.
fn recompress(bytes: &[u8], compression: mcap::Compression) -> Vec<u8> {
    rewrite(bytes, Some(compression), |_, _, data| data.to_vec())
}

/// Re-encodes an asid recording, each message's data through `edit(topic, index in topic, data)`.
fn rewrite(
    bytes: &[u8],
    compression: Option<mcap::Compression>,
    mut edit: impl FnMut(&str, usize, &[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut w = mcap::WriteOptions::new()
            .compression(compression)
            .create(&mut out)
            .expect("writer");
        for m in mcap::MessageStream::new(bytes).expect("stream") {
            let mut m = m.expect("message");
            let i = seen.entry(m.channel.topic.clone()).or_default();
            m.data = edit(&m.channel.topic, *i, &m.data).into();
            *i += 1;
            w.write(&m).expect("write");
        }
        for rec in mcap::read::LinearReader::new(bytes).expect("linear") {
            if let Ok(mcap::records::Record::Metadata(m)) = rec {
                w.write_metadata(&m).expect("metadata");
            }
        }
        w.finish().expect("finish");
    }
    out.into_inner()
}

#[test]
fn zstd_and_lz4_chunks_of_other_writers_read() {
    let dir = common::tmp_dir("damage_compression");
    let (bytes, full) = recording(&dir, 100);
    for c in [mcap::Compression::Zstd, mcap::Compression::Lz4] {
        let other = recompress(&bytes, c);
        let (read, report) =
            read_bytes(&dir.join("other.mcap"), &other).unwrap_or_else(|e| panic!("{c:?}: {e}"));
        assert!(report.damaged.is_empty(), "{c:?}: {report:?}");
        assert_eq!(total(&read), total(&full), "{c:?}");
        assert_eq!(read.info, full.info, "{c:?}");
    }
}

#[test]
fn the_fifth_bad_arm_state_names_its_real_index() {
    let dir = common::tmp_dir("damage_index");
    let (bytes, _) = recording(&dir, 20);
    let bad = rewrite(&bytes, None, |topic, i, data| {
        if topic == "/arm/state" && i == 4 {
            b"{\"stamp_ns\": 1}".to_vec()
        } else {
            data.to_vec()
        }
    });
    let e = read_bytes(&dir.join("bad.mcap"), &bad).expect_err("a bad message is an error");
    let text = e.to_string();
    assert!(text.contains("message 4 on `/arm/state`"), "{text}");
    assert!(text.contains("bad.mcap"), "{text}");
}
