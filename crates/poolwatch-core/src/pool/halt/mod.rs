//! Halting: the policies that say when a match stops a run ([`policy`]), the state a run
//! keeps once it halts ([`state`]), and the bound `--halt lowest` keeps ([`lowest`]).

pub mod lowest;
pub mod policy;
pub mod state;

pub use policy::{BadHaltPolicy, HaltLimit, HaltMode, HaltOn, HaltPolicy, HaltReason, StopRequest};
