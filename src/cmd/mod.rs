//! Subcommands.

pub mod bench;
pub mod bench_control;
pub mod bench_identify;
pub mod bench_push;
pub mod bench_verdicts;
pub mod check;
pub mod console;
pub mod episode;
pub mod eval;
mod eval_report;
pub mod execute;
pub mod explore;
pub mod identify;
pub mod input_check;
pub mod recorded;
pub mod replay;
pub mod run;
pub mod simulate;
pub mod view;
