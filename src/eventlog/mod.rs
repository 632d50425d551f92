//! The event log (`--log FILE`), all of it: its format, the file and the recorder.
//!
//! - [`schema`]: the typed events and records, one JSON object a line, and the parser.
//! - [`file`]: the file: opened safely, written whole lines only, a torn tail cut on resume.
//! - [`recorder`]: what a run writes there as it goes (start, progress, matches, end).

pub mod file;
pub mod recorder;
pub mod schema;
