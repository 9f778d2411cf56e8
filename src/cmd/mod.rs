//! Subcommands.

pub mod bench;
pub mod check;
pub mod explore;
