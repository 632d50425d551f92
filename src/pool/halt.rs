//! Halt policies (when a match stops the run) and the reasons a run ends.

use std::fmt;
use std::str::FromStr;

/// What a match does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HaltPolicy {
    /// The first match halts at once: queued work dropped, running tasks cancelled.
    #[default]
    Now,
    /// The first match stops new work; running tasks finish.
    Soon,
    /// Matches never halt: run the whole space, keep every match.
    Never,
    /// Halt now after this many matches.
    After(u64),
}

/// Why a halt policy string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadHaltPolicy(pub String);

impl fmt::Display for BadHaltPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown halt policy {:?} (expected now, soon, never or after=N with N >= 1)",
            self.0
        )
    }
}

impl std::error::Error for BadHaltPolicy {}

impl FromStr for HaltPolicy {
    type Err = BadHaltPolicy;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "now" => Ok(Self::Now),
            "soon" => Ok(Self::Soon),
            "never" => Ok(Self::Never),
            other => other
                .strip_prefix("after=")
                .and_then(|count| count.parse::<u64>().ok())
                .filter(|count| *count >= 1)
                .map(Self::After)
                .ok_or_else(|| BadHaltPolicy(text.to_string())),
        }
    }
}

impl fmt::Display for HaltPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Now => f.write_str("now"),
            Self::Soon => f.write_str("soon"),
            Self::Never => f.write_str("never"),
            Self::After(count) => write!(f, "after={count}"),
        }
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum HaltReason {
    /// A match halted it (policy `now` or `soon`).
    Match,
    /// The `after=N` policy reached N matches.
    After,
    /// Someone asked it to stop (a key, an API call).
    #[default]
    User,
    /// Every task ran.
    Exhausted,
    /// A signal (SIGINT, SIGTERM, SIGHUP) stopped it.
    Signal,
    /// A task reported an error the search cannot go on from ([`crate::search::Outcome::Fatal`]).
    Fatal,
}

impl HaltReason {
    /// The lowercase name used in JSON and logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::After => "after",
            Self::User => "user",
            Self::Exhausted => "exhausted",
            Self::Signal => "signal",
            Self::Fatal => "fatal",
        }
    }
}

impl fmt::Display for HaltReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who asks a run to stop from outside ([`crate::Run::halt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopRequest {
    /// A person or a program using the API.
    User,
    /// A signal (SIGINT, SIGTERM, SIGHUP) the program received.
    Signal,
}

impl StopRequest {
    /// The reason a run stopped this way reports.
    #[must_use]
    pub fn reason(self) -> HaltReason {
        match self {
            Self::User => HaltReason::User,
            Self::Signal => HaltReason::Signal,
        }
    }
}

/// How hard a halt is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaltMode {
    /// Drop queued work and cancel running tasks.
    Now,
    /// Drop queued work, let running tasks finish.
    Soon,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_policy_and_rejects_the_rest() {
        assert_eq!("now".parse(), Ok(HaltPolicy::Now));
        assert_eq!("soon".parse(), Ok(HaltPolicy::Soon));
        assert_eq!("never".parse(), Ok(HaltPolicy::Never));
        assert_eq!("after=3".parse(), Ok(HaltPolicy::After(3)));
        for bad in ["", "after=0", "after=x", "later", "Now"] {
            assert!(bad.parse::<HaltPolicy>().is_err(), "{bad}");
        }
        assert_eq!(HaltPolicy::After(3).to_string(), "after=3");
    }
}
