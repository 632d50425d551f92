//! The event log (`--log FILE`), all of it: its format, the file, the recorder and the checkpoint.
//!
//! - [`schema`]: the typed events and records, one JSON object a line, and the parser.
//! - [`file`]: the file: opened safely, written whole lines only, a torn tail cut on resume.
//! - [`recorder`]: what a run writes there as it goes (start, progress, matches, end).
//! - [`checkpoint`]: a logged run read back: what is done, what carries over to a resume.

pub mod checkpoint;
pub mod file;
pub mod recorder;
pub mod schema;
