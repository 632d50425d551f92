//! `--resume FILE`: the command line checked against a logged run (conflicts, the window, the
//! shard), and the run it goes on with. The log itself is read by
//! [`crate::eventlog::file::checkpoint`].

use crate::eventlog::checkpoint::{Checkpoint, ResumeError};
use crate::eventlog::schema::skip_limit;
use std::path::Path;

/// How `--resume FILE` goes on.
pub enum Resumption {
    /// The run had ended for good: the message to print and the code it ended with.
    Finished {
        /// One line, for stderr.
        message: String,
        /// The run's exit code.
        code: u8,
    },
    /// Continue from the checkpoint with this plan.
    Continue {
        /// The run as the command line would have described it.
        plan: Box<crate::cli::RunPlan>,
        /// Where it stopped.
        checkpoint: Box<Checkpoint>,
    },
}

/// Reads `path` and checks the command line against the logged run: a search, `--config`,
/// `--halt`, `--skip`, `--limit`, `--shard` or another `--log` that disagrees is a
/// [`ResumeError::Conflict`].
///
/// # Errors
/// A [`ResumeError`] (exit code 2).
pub fn prepare(cli: &crate::cli::Cli, path: &Path) -> Result<Resumption, ResumeError> {
    let checkpoint = Checkpoint::read(path)?;
    if let Some((reason, code)) = &checkpoint.finished {
        let message = format!(
            "{}: this {} run already finished ({}): nothing to resume",
            path.display(),
            checkpoint.start.search,
            crate::summary::describe_reason_name(reason)
        );
        return Ok(Resumption::Finished { message, code: *code });
    }
    check_conflicts(cli, path, &checkpoint)?;
    if let Some((counted, found)) = checkpoint.missing_matches() {
        crate::console::say(&format!(
            "poolwatch: warning: --resume {}: its progress counted {counted} matches, but only {found} match lines are in it \
             (lines deleted or lost): the {} missing ones are not carried, and the run goes on from the rest",
            path.display(),
            counted - found
        ));
    }
    let halt = checkpoint.start.halt.parse().map_err(|_| ResumeError::BadHalt {
        path: path.to_path_buf(),
        halt: checkpoint.start.halt.clone(),
    })?;
    let search = checkpoint.spec.build().map_err(|err| ResumeError::BadSpec {
        path: path.to_path_buf(),
        reason: err.to_string(),
    })?;
    // The worker count is checked as a fresh run's is: -w 0 is refused, and so is a logged
    // count out of range (a log edited by hand), rather than clamped without a word.
    let conflict = |what: String| ResumeError::Conflict {
        path: path.to_path_buf(),
        what,
    };
    crate::preset::check_workers(cli.workers).map_err(|bad| conflict(format!("--{bad}")))?;
    let workers = cli.workers.unwrap_or(checkpoint.start.workers);
    crate::preset::check_workers(Some(workers))
        .map_err(|bad| conflict(format!("the logged run's {bad}: give -w N")))?;
    let preset = crate::preset::Preset {
        name: format!("Resumed {}", path.display()),
        description: format!(
            "{} {} resumed ({} of its ids done before)",
            search.name(),
            search.params(),
            checkpoint.done_count()
        ),
        spec: checkpoint.spec.clone(),
        workers: Some(workers),
        halt,
    };
    Ok(Resumption::Continue {
        plan: Box::new(crate::cli::RunPlan { preset, search }),
        checkpoint: Box::new(checkpoint),
    })
}

fn check_conflicts(cli: &crate::cli::Cli, path: &Path, checkpoint: &Checkpoint) -> Result<(), ResumeError> {
    let conflict = |what: String| {
        Err(ResumeError::Conflict {
            path: path.to_path_buf(),
            what,
        })
    };
    let kind = checkpoint.start.search.as_str();
    if cli.config.is_some() {
        return conflict("continues the logged run: --config cannot be used with it".into());
    }
    if cli.search.is_some() && crate::eventlog::checkpoint::continued(cli.spec()) != checkpoint.spec {
        return conflict(format!(
            "continues the logged {kind} run with its own options: name no search, or the same one with the same options"
        ));
    }
    if let Some(halt) = cli.halt.filter(|_| cli.halt_given)
        && halt.to_string() != checkpoint.start.halt
    {
        return conflict(format!(
            "the logged run has --halt {}, not {halt}",
            checkpoint.start.halt
        ));
    }
    let (skip, limit) = checkpoint.start.window.map_or((0, None), skip_limit);
    if cli.skip.is_some_and(|given| given != skip) {
        return conflict(format!("the logged run has --skip {skip}"));
    }
    if cli.limit.is_some() && cli.limit != limit {
        let logged = limit.map_or_else(|| "no --limit".to_string(), |limit| format!("--limit {limit}"));
        return conflict(format!("the logged run has {logged}"));
    }
    if let Some(what) = shard_conflict(cli.shard, checkpoint.start.shard) {
        return conflict(what);
    }
    if cli.log.as_deref().is_some_and(|log| log != path) {
        return conflict("appends to its own log: --log must name the same file or be left out".into());
    }
    Ok(())
}

/// What is wrong with `--shard` `given` for a log whose run covered `logged`: `None` when it
/// names the logged shard (a resumed run always covers it: its checkpoint is that shard's).
fn shard_conflict(
    given: Option<poolwatch_core::Shard>,
    logged: Option<crate::eventlog::schema::ShardInfo>,
) -> Option<String> {
    let given = given?;
    // A split into one shard is the whole window: logged as no shard.
    match (logged, given.count > 1) {
        (None, false) => None,
        (None, true) => Some(format!(
            "the logged run is not a shard: --shard {}/{} cannot be added to it",
            given.index, given.count
        )),
        (Some(logged), _)
            if given.index == logged.index
                && given.count == logged.count
                && given.chunk.is_none_or(|chunk| chunk == logged.chunk) =>
        {
            None
        }
        (Some(logged), _) => Some(format!(
            "the logged run is shard {}/{}, not {}/{}",
            logged.index, logged.count, given.index, given.count
        )),
    }
}

/// `config` limited to `window` (`[skip, end)`, `end` `u64::MAX` for the end of the space)
/// and, for a resumed run, skipping the ids of `done`.
#[must_use]
pub fn configure(
    mut config: poolwatch_core::RunConfig,
    window: Option<(u64, u64)>,
    done: Option<Vec<(u64, u64)>>,
) -> poolwatch_core::RunConfig {
    if let Some((skip, limit)) = window.map(skip_limit) {
        config = config.with_skip(skip);
        if let Some(limit) = limit {
            config = config.with_limit(limit);
        }
    }
    if let Some(done) = done {
        config = config.with_done(done);
    }
    config
}

/// `config` covering the logged shard, if the logged run was one.
#[must_use]
pub fn with_logged_shard(
    config: poolwatch_core::RunConfig,
    shard: Option<crate::eventlog::schema::ShardInfo>,
) -> poolwatch_core::RunConfig {
    match shard {
        Some(shard) => config.with_shard(poolwatch_core::Shard {
            index: shard.index,
            count: shard.count,
            chunk: Some(shard.chunk),
        }),
        None => config,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eventlog::checkpoint::tests::{record, start};

    #[test]
    fn a_logged_window_open_to_the_end_has_no_limit() {
        use clap::Parser;
        let opened = start(false).replace(
            r#""halt":"never""#,
            r#""halt":"never","window":[5,18446744073709551615]"#,
        );
        let checkpoint = Checkpoint::from_records(Path::new("log"), &[record(0.0, &opened)]).unwrap();
        assert_eq!(checkpoint.start.window, Some((5, u64::MAX)));
        let conflict = |args: &[&str]| {
            let cli = crate::cli::Cli::try_parse_from([&["poolwatch"], args].concat()).unwrap();
            check_conflicts(&cli, Path::new("log"), &checkpoint)
                .err()
                .map(|err| err.to_string())
        };
        assert_eq!(conflict(&["--skip", "5"]), None);
        assert_eq!(
            conflict(&["--limit", "10"]).as_deref(),
            Some("--resume log: the logged run has no --limit")
        );
    }
}
