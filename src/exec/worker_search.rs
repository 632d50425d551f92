//! `exec --worker` as a search: each pool worker feeds its inputs to a long-lived worker process of its own (see [`super::worker`]).

use super::worker::{Feed, Workers};
use super::{Checked, ExecError, ExecSpec, Inputs, Setup, search_space_from_setup};
use poolwatch_core::CancelToken;
use poolwatch_core::search::{Goal, Outcome, Search};
use std::ops::Range;

/// Runs a command once per pool worker and feeds it one input line per task on stdin; each
/// answer line is an outcome.
pub struct WorkerSearch {
    setup: Setup,
    workers: Workers,
    goal: Goal,
}

impl WorkerSearch {
    /// Checks `spec` (which asks for `--worker`) and builds the search. Nothing is read from
    /// stdin and no process is started until the run starts.
    ///
    /// # Errors
    /// An [`ExecError`] naming the first problem, including a program not found on `PATH`.
    pub fn new(spec: &ExecSpec) -> Result<Self, ExecError> {
        let Checked {
            template,
            range,
            workers,
            goal,
            ..
        } = Checked::of(spec)?;
        let workers = workers.ok_or_else(|| ExecError::Worker("this search needs --worker".into()))?;
        Ok(Self {
            setup: Setup::open(spec, template, range)?,
            workers,
            goal,
        })
    }
}

impl Search for WorkerSearch {
    fn name(&self) -> &str {
        "exec --worker"
    }

    search_space_from_setup!();

    fn goal(&self) -> Goal {
        self.goal
    }

    fn tight_batches(&self) -> bool {
        true
    }

    /// One id per batch until tasks are timed: a worker process's task may take a millisecond
    /// or a minute, and a block of 1,024 ids handed to one process before the first answer
    /// would be visited far out of order (a later match found before an earlier one).
    fn first_batch_size(&self) -> u64 {
        1
    }

    fn run_batch(
        &self,
        tasks: Range<u64>,
        cancel: &CancelToken,
        notable: &mut dyn FnMut(u64, Outcome),
    ) -> u64 {
        if self.setup.failed() {
            return 0;
        }
        let feed = match &self.setup.inputs {
            Inputs::Range(range) => Feed::Range(range),
            Inputs::Lines(lines) => Feed::Lines(lines),
        };
        match self.workers.run_batch(feed, tasks.clone(), cancel, notable) {
            Ok(ran) => ran,
            Err(message) => {
                // The first id carries the fatal error; the rest count as cancelled.
                notable(tasks.start, self.setup.fatal_once(message));
                1
            }
        }
    }

    /// A range's input; a line is in the outcome's own text (matches and errors start with it).
    fn input_label(&self, task: u64) -> Option<String> {
        self.setup.range_input(task)
    }

    fn task_detail(&self, task: u64) -> Option<String> {
        self.workers.detail(task)
    }

    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        let mut outcome = Outcome::Miss;
        // Only this task's own outcome: a notice (a worker that died while idle after
        // answering a task, this one or an earlier one) is not an outcome and cannot be
        // returned from here.
        let ran = self.run_batch(task..task + 1, cancel, &mut |id, found| {
            if id == task && !matches!(found, Outcome::Notice(_)) {
                outcome = found;
            }
        });
        if ran == 0 { Outcome::Cancelled } else { outcome }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn spec(command: &[&str], input: &std::path::Path) -> ExecSpec {
        ExecSpec {
            command: command.iter().map(ToString::to_string).collect(),
            input: Some(input.to_path_buf()),
            worker: true,
            ..ExecSpec::default()
        }
    }

    #[test]
    fn a_worker_never_runs_a_line_handed_out_already_as_an_empty_input() {
        let path = crate::testing::TempPath::new("taken");
        std::fs::write(&path, "a\nb\nc\n").unwrap();
        // The worker matches an empty input and misses any other.
        let answer_empty = "while read -r line; do if [ -z \"$line\" ]; then echo 1; else echo 0; fi; done";
        let search = WorkerSearch::new(&spec(&["sh", "-c", answer_empty], &path)).unwrap();
        let status = search.extend_space(3, Duration::from_secs(5));
        assert_eq!(status.available, 3, "{status:?}");
        assert_eq!(search.setup.input(1), Ok(b"b".to_vec()), "line 2 handed out once");
        let mut outcomes = Vec::new();
        let ran = search.run_batch(0..3, &CancelToken::new(), &mut |task, outcome| {
            outcomes.push((task, outcome));
        });
        assert_eq!(ran, 1, "{outcomes:?}");
        let [(0, Outcome::Fatal(message))] = outcomes.as_slice() else {
            panic!("one fatal error expected: {outcomes:?}");
        };
        assert!(
            message.contains(&format!("{}: line 2 is not available", path.display())),
            "{message}"
        );
    }

    #[test]
    fn each_exec_search_is_built_from_its_own_specs_only() {
        let path = crate::testing::TempPath::new("kinds");
        std::fs::write(&path, "a\n").unwrap();
        let worker = spec(&["cat"], &path);
        let per_process = ExecSpec {
            worker: false,
            ..worker.clone()
        };
        let (worker_search, per_process_search) = (
            crate::exec::build(&worker).unwrap(),
            crate::exec::build(&per_process).unwrap(),
        );
        assert_eq!(worker_search.name(), "exec --worker");
        assert_eq!(per_process_search.name(), "exec");
        // Attempts, retries and job-log skips are about one process per input.
        assert_eq!(worker_search.tallies(), []);
        assert_eq!(per_process_search.tallies().len(), 3);
        assert!(matches!(
            WorkerSearch::new(&per_process),
            Err(ExecError::Worker(_))
        ));
        assert!(matches!(
            crate::exec::ExecSearch::new(&worker),
            Err(ExecError::Worker(_))
        ));
    }
}
