//! Halt policies (when a match stops the run) and the reasons a run ends.

use std::fmt;
use std::str::FromStr;

/// When a run halts early: on a match, on a count of outcomes, or never.
///
/// Parsed from GNU parallel's `--halt` forms as well as poolwatch's own:
///
/// ```
/// use poolwatch_core::HaltPolicy;
/// for text in ["now", "soon", "never", "lowest", "after=3", "now,fail=2", "soon,done=10%", "now,success=1"] {
///     let policy: HaltPolicy = text.parse().expect("valid policy");
///     assert_eq!(policy.to_string(), text);
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HaltPolicy {
    /// The first match halts at once: queued work dropped, running tasks cancelled.
    #[default]
    Now,
    /// The first match stops new work; running tasks finish.
    Soon,
    /// Matches never halt: run the whole space, keep every match.
    Never,
    /// Halt now after this many matches (the same as `now,success=N`).
    After(u64),
    /// The lowest matching id: a match at id m cancels the ids above m at once and lets every
    /// id below m run; a lower match replaces it. The run ends with the lowest match, proven
    /// lowest because every id below it has run.
    Lowest,
    /// GNU parallel's `MODE,KIND=LIMIT`: halt (now or soon) once `limit` tasks had outcome `on`.
    When {
        /// Now (cancel running tasks) or soon (let them finish).
        mode: HaltMode,
        /// Which outcomes count.
        on: HaltOn,
        /// How many of them halt the run.
        limit: HaltLimit,
    },
}

/// The outcomes a [`HaltPolicy::When`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaltOn {
    /// Tasks that failed (errors and panics): GNU parallel's `fail`.
    Fail,
    /// Tasks that matched: GNU parallel's `success`.
    Success,
    /// Tasks that ran to any outcome: GNU parallel's `done`.
    Done,
}

/// How many outcomes a [`HaltPolicy::When`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaltLimit {
    /// This many (at least 1).
    Count(u64),
    /// This share of the ids the run covers, in hundredths of a percent (`10%` is 1000).
    Percent(u32),
}

impl HaltLimit {
    /// The count that halts a run covering `total` ids (a percentage rounds up, and is at
    /// least 1); `None` for a percentage while the total is unknown (`total` is `None`).
    #[must_use]
    pub fn count(self, total: Option<u64>) -> Option<u64> {
        match self {
            Self::Count(count) => Some(count),
            Self::Percent(hundredths) => {
                let scaled = u128::from(total?) * u128::from(hundredths);
                Some(u64::try_from(scaled.div_ceil(10_000)).unwrap_or(u64::MAX).max(1))
            }
        }
    }
}

impl HaltPolicy {
    /// The count of `on` outcomes that halts a run covering `total` ids (`None`: not known yet,
    /// an open space still being read), and how, if this policy counts them.
    #[must_use]
    pub fn limit(self, on: HaltOn, total: Option<u64>) -> Option<(HaltMode, u64)> {
        match self {
            Self::After(count) if on == HaltOn::Success => Some((HaltMode::Now, count)),
            Self::When {
                mode,
                on: counted,
                limit,
            } if counted == on => Some((mode, limit.count(total)?)),
            _ => None,
        }
    }

    /// True when every completed task must be counted (a `done=` policy).
    #[must_use]
    pub fn counts_done(self) -> bool {
        matches!(self, Self::When { on: HaltOn::Done, .. })
    }
}

/// Why a halt policy string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadHaltPolicy(pub String);

impl fmt::Display for BadHaltPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown halt policy {:?} (expected now, soon, never, lowest, after=N, or now|soon,fail|success|done=N|P%)",
            self.0
        )
    }
}

impl std::error::Error for BadHaltPolicy {}

impl FromStr for HaltPolicy {
    type Err = BadHaltPolicy;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadHaltPolicy(text.to_string());
        match text {
            "now" => return Ok(Self::Now),
            "soon" => return Ok(Self::Soon),
            "never" => return Ok(Self::Never),
            "lowest" => return Ok(Self::Lowest),
            _ => {}
        }
        if let Some(count) = text.strip_prefix("after=") {
            return parse_count(count).map(Self::After).ok_or_else(bad);
        }
        let (mode, rule) = text.split_once(',').ok_or_else(bad)?;
        let mode = match mode {
            "now" => HaltMode::Now,
            "soon" => HaltMode::Soon,
            _ => return Err(bad()),
        };
        let (on, limit) = rule.split_once('=').ok_or_else(bad)?;
        let on = match on {
            "fail" => HaltOn::Fail,
            "success" => HaltOn::Success,
            "done" => HaltOn::Done,
            _ => return Err(bad()),
        };
        let limit = match limit.strip_suffix('%') {
            Some(percent) => parse_percent(percent).map(HaltLimit::Percent),
            None => parse_count(limit).map(HaltLimit::Count),
        }
        .ok_or_else(bad)?;
        Ok(Self::When { mode, on, limit })
    }
}

/// A count of at least 1, digits only.
fn parse_count(text: &str) -> Option<u64> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>().ok().filter(|count| *count >= 1)
}

/// A percentage above 0 and at most 100 with up to two decimals, in hundredths.
fn parse_percent(text: &str) -> Option<u32> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || fraction.len() > 2 || !digits(whole) || !digits(fraction) || whole.len() > 3 {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let fraction: u32 = format!("{fraction:0<2}").parse().ok()?;
    Some(whole * 100 + fraction).filter(|hundredths| (1..=10_000).contains(hundredths))
}

impl fmt::Display for HaltPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Now => f.write_str("now"),
            Self::Soon => f.write_str("soon"),
            Self::Never => f.write_str("never"),
            Self::Lowest => f.write_str("lowest"),
            Self::After(count) => write!(f, "after={count}"),
            Self::When { mode, on, limit } => {
                let mode = match mode {
                    HaltMode::Now => "now",
                    HaltMode::Soon => "soon",
                };
                let on = match on {
                    HaltOn::Fail => "fail",
                    HaltOn::Success => "success",
                    HaltOn::Done => "done",
                };
                write!(f, "{mode},{on}=")?;
                match limit {
                    HaltLimit::Count(count) => write!(f, "{count}"),
                    HaltLimit::Percent(hundredths) if hundredths % 100 == 0 => {
                        write!(f, "{}%", hundredths / 100)
                    }
                    HaltLimit::Percent(hundredths) => {
                        let fraction = format!("{:02}", hundredths % 100);
                        write!(f, "{}.{}%", hundredths / 100, fraction.trim_end_matches('0'))
                    }
                }
            }
        }
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum HaltReason {
    /// A match halted it (policy `now` or `soon`), or under `lowest`, every id below the lowest
    /// match has run.
    Match,
    /// The `after=N` (or `success=N`) policy reached N matches.
    After,
    /// A `fail=N` policy reached N failed tasks.
    Fail,
    /// A `done=N` policy reached N completed tasks.
    Done,
    /// Someone asked it to stop (a key, an API call).
    #[default]
    User,
    /// Every task ran.
    Exhausted,
    /// A signal (SIGINT, SIGTERM, SIGHUP) stopped it.
    Signal,
    /// A task reported an error the search cannot go on from ([`crate::search::Outcome::Fatal`]).
    Fatal,
    /// Under `lowest`, a lower match found elsewhere (another shard, [`crate::Run::bound_lowest`])
    /// bounded the run, and every id below it has run.
    Bounded,
}

impl HaltReason {
    /// Every reason.
    pub const ALL: [Self; 9] = [
        Self::Match,
        Self::After,
        Self::Fail,
        Self::Done,
        Self::User,
        Self::Exhausted,
        Self::Signal,
        Self::Fatal,
        Self::Bounded,
    ];

    /// The reason whose [`HaltReason::as_str`] name is `name`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == name)
    }

    /// The lowercase name used in JSON and logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::After => "after",
            Self::Fail => "fail",
            Self::Done => "done",
            Self::User => "user",
            Self::Exhausted => "exhausted",
            Self::Signal => "signal",
            Self::Fatal => "fatal",
            Self::Bounded => "bounded",
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
    fn every_reason_is_found_by_its_name() {
        for reason in HaltReason::ALL {
            assert_eq!(HaltReason::from_name(reason.as_str()), Some(reason));
        }
        assert_eq!(HaltReason::from_name("success"), None);
    }

    #[test]
    fn parses_every_policy_and_rejects_the_rest() {
        assert_eq!("now".parse(), Ok(HaltPolicy::Now));
        assert_eq!("soon".parse(), Ok(HaltPolicy::Soon));
        assert_eq!("never".parse(), Ok(HaltPolicy::Never));
        assert_eq!("after=3".parse(), Ok(HaltPolicy::After(3)));
        for bad in [
            "",
            "after=0",
            "after=x",
            "later",
            "Now",
            "now,",
            "now,fail",
            "now,fail=0",
            "now,fail=-1",
            "now,fail=0%",
            "now,fail=101%",
            "now,fail=1.234%",
            "now,fail=%",
            "soon,oops=3",
            "never,fail=1",
            "now,fail=+3",
            "now,done=1e3",
        ] {
            let err = bad.parse::<HaltPolicy>().expect_err(bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
        assert_eq!(HaltPolicy::After(3).to_string(), "after=3");
        let when = |mode, on, limit| HaltPolicy::When { mode, on, limit };
        for (text, policy) in [
            (
                "now,fail=2",
                when(HaltMode::Now, HaltOn::Fail, HaltLimit::Count(2)),
            ),
            (
                "soon,fail=2",
                when(HaltMode::Soon, HaltOn::Fail, HaltLimit::Count(2)),
            ),
            (
                "now,success=4",
                when(HaltMode::Now, HaltOn::Success, HaltLimit::Count(4)),
            ),
            (
                "soon,success=4",
                when(HaltMode::Soon, HaltOn::Success, HaltLimit::Count(4)),
            ),
            (
                "now,done=7",
                when(HaltMode::Now, HaltOn::Done, HaltLimit::Count(7)),
            ),
            (
                "soon,done=7",
                when(HaltMode::Soon, HaltOn::Done, HaltLimit::Count(7)),
            ),
            (
                "now,fail=10%",
                when(HaltMode::Now, HaltOn::Fail, HaltLimit::Percent(1000)),
            ),
            (
                "soon,done=2.5%",
                when(HaltMode::Soon, HaltOn::Done, HaltLimit::Percent(250)),
            ),
            (
                "now,success=0.05%",
                when(HaltMode::Now, HaltOn::Success, HaltLimit::Percent(5)),
            ),
        ] {
            assert_eq!(text.parse(), Ok(policy), "{text}");
            assert_eq!(policy.to_string(), text);
        }
        assert_eq!(HaltLimit::Percent(1000).count(Some(95)), Some(10));
        assert_eq!(HaltLimit::Percent(1).count(Some(10)), Some(1));
        assert_eq!(HaltLimit::Percent(1).count(None), None);
        assert_eq!(HaltLimit::Count(3).count(None), Some(3));
    }
}
