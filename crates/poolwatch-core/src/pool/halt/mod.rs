//! Halting: the policies that say when a match stops a run ([`policy`]) and the state a run
//! keeps once it halts ([`state`]).

pub mod policy;
pub mod state;

pub use policy::{BadHaltPolicy, HaltLimit, HaltMode, HaltOn, HaltPolicy, HaltReason, StopRequest};
