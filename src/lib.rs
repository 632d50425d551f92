//! poolwatch: run a search across a pool of worker threads, watch it converge, stop it the instant it is done.

pub mod cli;
pub mod eventlog;
pub mod exec;
pub mod headless;
pub mod journal;
mod launch;
pub mod pool;
pub mod search;
pub mod signals;
pub mod summary;

pub use launch::{Failure, app_main, print_summary, wants_headless};
pub mod app;
pub mod dashboard;
pub mod preset;
pub mod term;
pub mod ui;
