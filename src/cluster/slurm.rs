//! Slurm as a cluster engine: `sbatch --array`, `scancel`, `scancel --batch --signal`, `squeue`.

use super::{ArrayJob, ClusterError, Engine, JobId, ShardSignal, TASK_INDEX, TaskState, TaskStatus};
use crate::exec::shell;
use std::path::Path;
use std::process::Command;

/// The commands this engine runs.
const COMMANDS: [&str; 3] = ["sbatch", "scancel", "squeue"];

/// Slurm, driven through its command-line tools (found on `PATH`, configured as usual:
/// `/etc/slurm/slurm.conf` or `SLURM_CONF`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Slurm;

impl Slurm {
    /// Slurm if `sbatch`, `scancel` and `squeue` are on `PATH`.
    ///
    /// # Errors
    /// [`ClusterError::Missing`] naming the first command not found.
    pub fn detect() -> Result<Self, ClusterError> {
        for command in COMMANDS {
            if shell::find_program(command).is_err() {
                return Err(ClusterError::Missing {
                    engine: "slurm",
                    command,
                });
            }
        }
        Ok(Self)
    }
}

/// The batch script: `exec` of the command, so the task's signals reach poolwatch itself.
#[must_use]
pub fn batch_script(job: &ArrayJob) -> String {
    let words: Vec<String> = job
        .command
        .iter()
        .map(|arg| {
            arg.split(TASK_INDEX)
                .map(shell::quote)
                .collect::<Vec<_>>()
                .join("\"$SLURM_ARRAY_TASK_ID\"")
        })
        .collect();
    format!(
        "#!/bin/sh\n# Written by poolwatch: array task $SLURM_ARRAY_TASK_ID runs one shard.\nexec {}\n",
        words.join(" ")
    )
}

/// Runs `program args`, returning its stdout or its stderr as the error.
fn run(program: &str, args: &[String]) -> Result<String, ClusterError> {
    let shown = format!("{program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|source| ClusterError::Spawn {
            command: shown.clone(),
            source,
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .map_or_else(|| output.status.to_string(), |line| line.trim().to_string());
        Err(ClusterError::Failed {
            command: shown,
            message,
        })
    }
}

fn write(path: &Path, text: &str) -> Result<(), ClusterError> {
    std::fs::write(path, text).map_err(|source| ClusterError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses `squeue -h -r -o "%K %t %N"` lines: array index, compact state, node.
#[must_use]
pub fn parse_squeue(text: &str) -> Vec<TaskStatus> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let index = fields.next()?.parse().ok()?;
            let state = match fields.next()? {
                "PD" | "CF" | "RQ" | "RF" | "RH" | "RS" => TaskState::Pending,
                "R" | "S" | "ST" | "SI" | "SO" => TaskState::Running,
                _ => TaskState::Ending,
            };
            let host = fields
                .next()
                .filter(|node| !node.is_empty() && !node.starts_with('('))
                .map(str::to_string);
            Some(TaskStatus { index, state, host })
        })
        .collect()
}

impl Engine for Slurm {
    fn name(&self) -> &'static str {
        "slurm"
    }

    fn submit(&self, job: &ArrayJob) -> Result<JobId, ClusterError> {
        std::fs::create_dir_all(&job.dir).map_err(|source| ClusterError::Write {
            path: job.dir.clone(),
            source,
        })?;
        let script = job.dir.join("job.sh");
        write(&script, &batch_script(job))?;
        let mut args = vec![
            "--parsable".to_string(),
            format!("--array=0-{}", job.tasks.saturating_sub(1)),
            format!("--job-name={}", job.name),
            format!("--output={}", job.dir.join("shard-%a.out").display()),
        ];
        args.extend(job.engine_args.iter().cloned());
        args.push(script.display().to_string());
        let out = run("sbatch", &args)?;
        // --parsable prints "jobid" or "jobid;cluster".
        let id = out.trim().split(';').next().unwrap_or_default().to_string();
        if id.is_empty() {
            return Err(ClusterError::Failed {
                command: "sbatch".to_string(),
                message: "printed no job id".to_string(),
            });
        }
        Ok(JobId(id))
    }

    fn cancel(&self, job: &JobId) -> Result<(), ClusterError> {
        run("scancel", std::slice::from_ref(&job.0)).map(drop)
    }

    fn signal(&self, job: &JobId, signal: ShardSignal) -> Result<(), ClusterError> {
        // --batch: the shard is the batch step itself (the script execs poolwatch, no srun).
        let args = [
            "--batch".to_string(),
            format!("--signal={}", signal.name()),
            job.0.clone(),
        ];
        run("scancel", &args).map(drop)
    }

    fn status(&self, job: &JobId) -> Result<Vec<TaskStatus>, ClusterError> {
        let args = ["-h", "-r", "-j", &job.0, "-o", "%K %t %N"].map(str::to_string);
        match run("squeue", &args) {
            Ok(text) => Ok(parse_squeue(&text)),
            // A job that has left the controller's memory is one with no task left.
            Err(ClusterError::Failed { message, .. }) if message.contains("Invalid job id") => Ok(Vec::new()),
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_execs_the_command_with_the_task_index() {
        let job = ArrayJob {
            name: "pw".into(),
            tasks: 4,
            command: vec![
                "/bin/poolwatch".into(),
                "--shard".into(),
                "{index}/4".into(),
                "it's".into(),
            ],
            dir: "/tmp/x".into(),
            engine_args: Vec::new(),
        };
        let script = batch_script(&job);
        assert!(
            script.ends_with("exec /bin/poolwatch --shard ''\"$SLURM_ARRAY_TASK_ID\"/4 'it'\\''s'\n"),
            "{script}"
        );
    }

    #[test]
    fn squeue_lines_become_task_states() {
        let tasks = parse_squeue("0 R vm\n1 PD (Resources)\n2 CG vm\n");
        assert_eq!(tasks.len(), 3);
        assert_eq!(tasks[0].state, TaskState::Running);
        assert_eq!(tasks[0].host.as_deref(), Some("vm"));
        assert_eq!(tasks[1].state, TaskState::Pending);
        assert_eq!(tasks[1].host, None);
        assert_eq!(tasks[2].state, TaskState::Ending);
    }
}
