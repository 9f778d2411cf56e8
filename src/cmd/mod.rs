//! Subcommands.

pub mod bench;
pub mod check;
pub mod explore;
pub mod identify;
pub mod simulate;
