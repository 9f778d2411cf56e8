//! `asid episode <episode.mcap>`: what a recording holds (duration, channels, sample counts, gaps),
//! for finished files and for files cut short by a crash alike.

use std::path::PathBuf;

/// Arguments of `asid episode`.
#[derive(clap::Args)]
pub struct Args {
    /// The recording.
    file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Prints the summary.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let summary = asid_record::summarize(&args.file)?;
    if !summary.damaged.is_empty() || summary.orphan_messages > 0 {
        eprintln!(
            "warning: {}: {} damaged stretch(es) skipped and {} message(s) lost with them; \
             the rest of the file was read (details in the summary)",
            summary.file,
            summary.damaged.len(),
            summary.orphan_messages
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!("{summary}");
    }
    Ok(())
}
