//! The two ways in: `poolwatch watch PATH...` and `poolwatch --cluster ENGINE --shards N SEARCH`.

use super::WatchSummary;
use super::follow::{ClusterSteer, LocalSteer, Watcher, run_headless};
use crate::cli::Failure;
use crate::cli::{Cli, RunPlan, WatchArgs};
use crate::cluster::{ArrayJob, TASK_INDEX, engine_named};
use crate::term::{color_enabled, wants_headless};
use crossbeam_channel::Receiver;
use std::path::{Path, PathBuf};

/// `poolwatch watch PATH...`: follows the logs to their end (or until `q`), prints the aggregated summary.
///
/// # Errors
/// A [`Failure`] when a log cannot be read (exit 2) or the terminal cannot be used.
pub fn watch_main(cli: &Cli, args: &WatchArgs, signals: &Receiver<i32>) -> Result<u8, Failure> {
    refuse_run_options(cli.typed.as_deref().unwrap_or_default()).map_err(Failure::usage)?;
    let mut watcher = Watcher::new(&args.paths, Box::new(LocalSteer), None);
    let title = format!("watch {}", crate::format::plural(args.paths.len() as u64, "log"));
    follow_to_end(cli, &mut watcher, &title, signals)
}

/// Refuses the options typed for `watch` that only a run reads (`-w`, `--halt`, `--seed`...).
///
/// # Errors
/// One line naming the first such option.
pub fn refuse_run_options(typed: &[String]) -> anyhow::Result<()> {
    use clap::CommandFactory;
    let command = Cli::command();
    let refused = typed.iter().find_map(|id| {
        let arg = command.get_arguments().find(|arg| arg.get_id() == id.as_str())?;
        (!crate::cli::WATCH_OPTIONS.contains(&id.as_str())).then(|| {
            arg.get_long()
                .map_or_else(|| id.clone(), |long| format!("--{long}"))
        })
    });
    match refused {
        Some(option) => Err(anyhow::anyhow!(
            "watch follows logs and runs nothing: {option} is for a run (watch takes --headless and --json)"
        )),
        None => Ok(()),
    }
}

/// `--cluster ENGINE --shards N`: submits the search as an array of shards, then watches them
/// and applies the halt policy across them.
///
/// # Errors
/// A [`Failure`]: exit 2 for an unusable engine or bad options, 1 when submission fails.
pub fn cluster_main(
    cli: &Cli,
    engine_name: &str,
    plan: &RunPlan,
    signals: &Receiver<i32>,
) -> Result<u8, Failure> {
    let usage = |text: String| Failure::usage(anyhow::anyhow!(text));
    let engine = engine_named(engine_name).map_err(usage)?;
    if cli.shard.is_some() {
        return Err(usage(
            "--shard and --cluster do not go together: --cluster picks each shard itself".into(),
        ));
    }
    if cli.log.is_some() {
        return Err(usage(
            "--log and --cluster do not go together: each shard logs to --cluster-dir/shard-I.jsonl".into(),
        ));
    }
    if plan.preset.reads_stdin() {
        return Err(usage(
            "--cluster: exec needs --range or --input (the shards cannot share standard input)".into(),
        ));
    }
    let dir = job_dir(cli.cluster_dir.as_deref()).map_err(|err| Failure::from(anyhow::anyhow!(err)))?;
    let preset_path = dir.join("search.toml");
    let preset = preset_toml(cli, plan).map_err(|err| Failure::from(anyhow::anyhow!(err)))?;
    std::fs::write(&preset_path, preset)
        .map_err(|err| Failure::from(anyhow::anyhow!("cannot write {}: {err}", preset_path.display())))?;
    let shards = cli.shards;
    let job = ArrayJob {
        name: "poolwatch".to_string(),
        tasks: shards,
        command: shard_command(&dir, &preset_path, shards, cli.status_every, plan.preset.halt)?,
        dir: dir.clone(),
        engine_args: cli.sbatch_args.clone(),
    };
    let id = engine
        .submit(&job)
        .map_err(|err| Failure::from(anyhow::Error::new(err)))?;
    crate::console::say(&format!(
        "poolwatch: submitted {} job {id}: {}, logs in {}",
        engine.name(),
        crate::format::plural(u64::from(shards), "shard"),
        dir.display()
    ));
    let paths: Vec<PathBuf> = (0..shards)
        .map(|i| dir.join(format!("shard-{i}.jsonl")))
        .collect();
    let steer = ClusterSteer::new(engine, id.clone());
    let mut watcher = Watcher::new(&paths, Box::new(steer), Some(plan.preset.halt));
    follow_to_end(cli, &mut watcher, &format!("{engine_name} job {id}"), signals)
}

/// Runs the dashboard or the headless loop, then prints the summary and returns the exit code.
fn follow_to_end(
    cli: &Cli,
    watcher: &mut Watcher,
    title: &str,
    signals: &Receiver<i32>,
) -> Result<u8, Failure> {
    let (summary, _signal) = if wants_headless(cli) {
        run_headless(watcher, signals).map_err(Failure::usage)?
    } else {
        let color = color_enabled(std::env::var_os("NO_COLOR").as_deref());
        super::view::run(watcher, signals, title, color)?
    };
    let aggregate = &watcher.follower.aggregate;
    if !cli.json && aggregate.logs.iter().all(|log| log.start.is_none()) {
        // Nothing to sum up: say what was waited for, not a summary of nothing.
        crate::console::say(&format!(
            "poolwatch: no run started in {}: nothing to summarize",
            aggregate.paths.join(", ")
        ));
        return Ok(crate::console::EXIT_NOT_FOUND);
    }
    print_summary(&summary, cli.json);
    for row in summary
        .shards
        .iter()
        .filter(|row| !row.state.starts_with("ended"))
    {
        // Only the cluster's own halt explains a shard that never wrote its summary.
        if !watcher.halted || row.state != "waiting" {
            crate::console::say(&format!(
                "poolwatch: shard {} has written no summary ({}; its log: {})",
                row.shard, row.state, row.log
            ));
        }
    }
    if let Some(message) = &summary.summary.fatal {
        crate::console::say(&format!("poolwatch: {message}"));
    }
    Ok(summary.summary.exit_code)
}

/// Prints the aggregated summary as JSON or text.
fn print_summary(summary: &WatchSummary, json: bool) {
    let text = if json {
        let json = serde_json::to_string(summary).unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}"));
        json + "\n"
    } else {
        summary.summary.to_text() + &shards_text(&summary.shards)
    };
    // Never a panic on a full disk or a closed pipe, as `print!` would: exit 4 or 141.
    crate::console::print_out(&text, "the summary");
}

/// The shards' lines under the summary, counts as people read them.
fn shards_text(shards: &[crate::app::ShardRow]) -> String {
    use crate::format::{count, plural};
    let mut text = format!("  {}:\n", plural(shards.len() as u64, "shard"));
    for row in shards {
        let code = row.exit_code.map_or_else(|| "-".to_string(), |c| c.to_string());
        text.push_str(&format!(
            "    shard {} on {}: {}, {} of {} completed, {}, {}, exit {code}\n",
            row.shard,
            if row.host.is_empty() {
                "?".into()
            } else {
                crate::escape::controls(&row.host)
            },
            row.state,
            count(row.completed),
            count(row.total),
            plural(row.matches, "match"),
            plural(row.errors, "error")
        ));
    }
    text
}

/// The job directory (created, absolute): `--cluster-dir`, or a new one in the current directory.
fn job_dir(given: Option<&Path>) -> Result<PathBuf, String> {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "whole unix seconds for a name"
    )]
    let seconds = super::follow::unix_now() as u64;
    let dir = given.map_or_else(
        || PathBuf::from(format!("poolwatch-cluster-{seconds}")),
        Path::to_path_buf,
    );
    std::fs::create_dir_all(&dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    std::path::absolute(&dir).map_err(|err| format!("cannot resolve {}: {err}", dir.display()))
}

/// The search as a preset file every shard loads, so each runs exactly the same search.
fn preset_toml(cli: &Cli, plan: &RunPlan) -> Result<String, String> {
    #[derive(serde::Serialize)]
    struct File<'a> {
        name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        workers: Option<usize>,
        halt: String,
        search: &'a crate::spec::SearchSpec,
    }
    // Without -w (or a preset's workers) each shard uses its own node's CPU count.
    let workers = if cli.config.is_some() {
        plan.preset.workers
    } else {
        cli.workers
    };
    let file = File {
        name: "cluster shard",
        workers,
        halt: plan.preset.halt.to_string(),
        search: &plan.preset.spec,
    };
    toml::to_string(&file).map_err(|err| format!("cannot write the search as TOML: {err}"))
}

/// What each array task runs: this poolwatch, headless, on its shard, logging into the job
/// directory; under `--halt lowest` the shards share their matches in its `bounds` folder.
fn shard_command(
    dir: &Path,
    preset: &Path,
    shards: u32,
    status_every: f64,
    halt: poolwatch_core::HaltPolicy,
) -> Result<Vec<String>, Failure> {
    let exe = std::env::current_exe()
        .map_err(|err| Failure::from(anyhow::anyhow!("cannot find this program's path: {err}")))?;
    let mut command = vec![
        exe.display().to_string(),
        "--headless".to_string(),
        "--json".to_string(),
        "--config".to_string(),
        preset.display().to_string(),
        "--shard".to_string(),
        format!("{TASK_INDEX}/{shards}"),
        "--status-every".to_string(),
        status_every.to_string(),
        "--log".to_string(),
        dir.join(format!("shard-{TASK_INDEX}.jsonl"))
            .display()
            .to_string(),
    ];
    if halt == poolwatch_core::HaltPolicy::Lowest {
        command.extend(["--bounds".to_string(), dir.join("bounds").display().to_string()]);
    }
    Ok(command)
}
