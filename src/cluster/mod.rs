//! Cluster engines: submit one array of shard tasks, cancel or signal it, ask its state; Slurm is the one engine.
//!
//! The watcher only talks to [`Engine`]. A second engine (HyperQueue, Kubernetes Indexed
//! Jobs) is one more implementation of it and one more name in [`engine_named`].

mod slurm;

pub use slurm::Slurm;

use std::path::PathBuf;

/// Stands for the task's index (`0..tasks`) in an [`ArrayJob`]'s command; each engine
/// replaces it with its own variable (`$SLURM_ARRAY_TASK_ID` for Slurm).
pub const TASK_INDEX: &str = "{index}";

/// One array job: `tasks` copies of one command that differ only in their index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayJob {
    /// A name for the job in the engine's queue.
    pub name: String,
    /// How many tasks (indexes `0..tasks`).
    pub tasks: u32,
    /// The program and its arguments; [`TASK_INDEX`] in an argument becomes the task's index.
    pub command: Vec<String>,
    /// Where the job's script and each task's stdout/stderr go (a shared filesystem on a real cluster).
    pub dir: PathBuf,
    /// Extra arguments passed to the engine's submit command as they are (partition, time, account...).
    pub engine_args: Vec<String>,
}

/// The engine's handle on a submitted job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobId(pub String);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the engine says about one task of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Waiting for resources.
    Pending,
    /// Running.
    Running,
    /// Being stopped or cleaned up.
    Ending,
}

/// One task the engine still knows about; tasks it no longer lists have ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskStatus {
    /// The task's index.
    pub index: u32,
    /// Its state.
    pub state: TaskState,
    /// The machine it runs on, once placed.
    pub host: Option<String>,
}

/// A signal the shards act on (see `signals::CONTROL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSignal {
    /// Stop new work, let running tasks finish (`SIGUSR1`).
    Finish,
    /// Pause submission (`SIGUSR2`).
    Pause,
    /// Resume submission (`SIGCONT`).
    Resume,
}

impl ShardSignal {
    /// The signal's name without `SIG`, as `kill -s` and `scancel --signal` take it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Finish => "USR1",
            Self::Pause => "USR2",
            Self::Resume => "CONT",
        }
    }
}

/// Why the engine could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// One of the engine's commands is not installed.
    #[error("--cluster {engine}: `{command}` not found on PATH")]
    Missing {
        /// The engine.
        engine: &'static str,
        /// The command.
        command: &'static str,
    },
    /// A command could not be started.
    #[error("cannot run {command}: {source}")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// A command ran and failed.
    #[error("{command} failed: {message}")]
    Failed {
        /// The command.
        command: String,
        /// Its stderr (or exit status).
        message: String,
    },
    /// The job directory or script could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Submission, cancel, signal and status: all the watcher needs from a cluster.
pub trait Engine: Send + Sync {
    /// The engine's name as `--cluster` takes it.
    fn name(&self) -> &'static str;
    /// Submits the array; returns the job's id.
    ///
    /// # Errors
    /// When the job cannot be written or the engine refuses it.
    fn submit(&self, job: &ArrayJob) -> Result<JobId, ClusterError>;
    /// Ends every task of the job (the tasks get SIGTERM, then SIGKILL after a grace period).
    ///
    /// # Errors
    /// When the engine's cancel command fails.
    fn cancel(&self, job: &JobId) -> Result<(), ClusterError>;
    /// Sends `signal` to the shard process of every running task.
    ///
    /// # Errors
    /// When the engine's signal command fails.
    fn signal(&self, job: &JobId, signal: ShardSignal) -> Result<(), ClusterError>;
    /// The tasks the engine still lists (pending, running or ending).
    ///
    /// # Errors
    /// When the engine's status command fails.
    fn status(&self, job: &JobId) -> Result<Vec<TaskStatus>, ClusterError>;
}

/// The engine called `name` (`slurm`), checked to be usable here.
///
/// # Errors
/// When the name is unknown or the engine's commands are missing.
pub fn engine_named(name: &str) -> Result<Box<dyn Engine>, String> {
    match name {
        "slurm" => Slurm::detect()
            .map(|s| Box::new(s) as Box<dyn Engine>)
            .map_err(|e| e.to_string()),
        other => Err(format!("--cluster: unknown engine '{other}' (known: slurm)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_engine_is_named() {
        let err = engine_named("kube").err().unwrap_or_default();
        assert!(err.contains("unknown engine 'kube'"), "{err}");
    }
}
