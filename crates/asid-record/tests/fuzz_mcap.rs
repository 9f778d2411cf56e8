//! Fuzz target (see `asid_core::fuzz`): the MCAP reader on mutated recordings (plain and zstd
//! chunks) and their conversion summary.

mod common;

use std::path::Path;

use asid_arm::Recorder;
use asid_record::{McapRecorder, RecorderOptions, RecordingSummary, read_bytes};

fn seed(dir: &Path, zstd: bool) -> Vec<u8> {
    let path = dir.join(format!("seed-{zstd}.mcap"));
    let options = RecorderOptions {
        chunk_max_messages: 8,
        sync_on_flush: false,
        zstd,
        ..RecorderOptions::default()
    };
    let mut rec =
        McapRecorder::create_with_options(&path, &common::run_info("shuffleboard"), options)
            .expect("create");
    for r in common::records(6) {
        rec.write(&r).expect("write");
    }
    rec.finish().expect("finish");
    std::fs::read(&path).expect("read seed")
}

#[test]
fn fuzz_mcap_reader() {
    let dir = common::tmp_dir("fuzz_mcap");
    let seeds = vec![seed(&dir, false), seed(&dir, true)];
    let file = dir.join("fuzz.mcap");
    asid_core::fuzz::run("mcap_reader", &seeds, |b| {
        if let Ok((recording, report)) = read_bytes(&file, b) {
            let _ = RecordingSummary::new(&recording, &report).to_string();
        }
    });
}
