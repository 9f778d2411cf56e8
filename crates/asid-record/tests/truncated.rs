//! Files cut short anywhere read as a prefix of what was written: never a panic, never an error.

mod common;

use asid_arm::{Record, Recorder, Recording};
use asid_record::{McapRecorder, RecorderOptions, read_bytes};

fn is_prefix<T: PartialEq + std::fmt::Debug>(part: &[T], whole: &[T], what: &str, cut: usize) {
    assert!(part.len() <= whole.len(), "{what} at cut {cut}");
    assert_eq!(
        part,
        &whole[..part.len()],
        "{what} at cut {cut} is not a prefix"
    );
}

fn counts(r: &Recording) -> [usize; 5] {
    [
        r.actions.len(),
        r.commands.len(),
        r.states.len(),
        r.poses.len(),
        r.events.len(),
    ]
}

#[test]
fn every_cut_reads_a_prefix() {
    let dir = common::tmp_dir("truncated");
    let path = dir.join("full.mcap");
    let info = common::run_info("shuffleboard");
    let records = common::records(80);
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
    let bytes = std::fs::read(&path).expect("read file");
    let full = common::expected(&info, &records);

    // Every byte near the start and the end, and a spread of cuts in between.
    let n = bytes.len();
    let mut cuts: Vec<usize> = (0..200).chain(n.saturating_sub(400)..n).collect();
    cuts.extend((0..n).step_by(53));
    let mut last_counts = [0; 5];
    let mut last_cut = 0;
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts {
        let (read, report) =
            read_bytes(&path, &bytes[..cut]).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        assert!(!report.finished, "cut {cut}");
        assert!(report.cut.is_some(), "cut {cut}");
        assert_eq!(report.read_bytes + report.unusable_bytes, cut as u64);
        is_prefix(&read.actions, &full.actions, "actions", cut);
        is_prefix(&read.commands, &full.commands, "commands", cut);
        is_prefix(&read.states, &full.states, "states", cut);
        is_prefix(
            &read
                .poses
                .iter()
                .filter(|p| p.object == "puck")
                .cloned()
                .collect::<Vec<_>>(),
            &full
                .poses
                .iter()
                .filter(|p| p.object == "puck")
                .cloned()
                .collect::<Vec<_>>(),
            "poses",
            cut,
        );
        is_prefix(&read.events, &full.events, "events", cut);
        if read.info.is_some() {
            assert_eq!(read.info, full.info);
        }
        let c = counts(&read);
        assert!(
            c.iter().zip(&last_counts).all(|(a, b)| a >= b),
            "a longer file lost records: cut {last_cut} -> {cut}"
        );
        last_counts = c;
        last_cut = cut;
    }
    // Cut in the summary section: every record is there.
    let data_complete = read_bytes(&path, &bytes[..n - 30]).expect("read").0;
    assert_eq!(data_complete, full);
    let (whole, report) = read_bytes(&path, &bytes).expect("whole");
    assert!(report.finished);
    assert_eq!(whole, full);
}

#[test]
fn a_file_cut_after_the_first_flush_holds_the_run_info() {
    let dir = common::tmp_dir("truncated_info");
    let path = dir.join("early.mcap");
    let info = common::run_info("shuffleboard");
    let rec = McapRecorder::create(&path, &info).expect("create");
    // Simulate a crash: the recorder is never finished (forget skips the writer's own cleanup).
    std::mem::forget(rec);
    let (read, report) = asid_record::read_with_report(&path).expect("read");
    assert_eq!(read.info, Some(info));
    assert!(!report.finished);
    assert_eq!(report.unusable_bytes, 0);
    assert!(read.states.is_empty());
}

#[test]
fn zeros_after_the_data_end_reading_like_a_cut() {
    let dir = common::tmp_dir("truncated_zeros");
    let path = dir.join("z.mcap");
    let info = common::run_info("shuffleboard");
    let mut rec = McapRecorder::create(&path, &info).expect("create");
    rec.write(&Record::State(common::state(1, 0)))
        .expect("write");
    rec.flush().expect("flush");
    std::mem::forget(rec);
    let mut bytes = std::fs::read(&path).expect("read");
    let len = bytes.len();
    bytes.extend(std::iter::repeat_n(0u8, 4096));
    let (read, report) = read_bytes(&path, &bytes).expect("read");
    assert_eq!(read.states.len(), 1);
    assert_eq!(report.read_bytes, len as u64);
    assert_eq!(report.unusable_bytes, 4096);
}
