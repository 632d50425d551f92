//! What the jobs leave behind: GNU parallel's job log (and `--resume` from it), the `--results` folder, and the output passed through (`--output`).

use super::*;

/// What the jobs leave behind: the job log, the results folder, the output passed through.
pub(super) struct Keep {
    pub(super) joblog: Option<JobLog>,
    /// Job numbers (`{#}`) the job log says need not run again.
    pub(super) skip: HashSet<u64>,
    /// Those of them that failed (`--resume` skips failures too): skipped, they are errors
    /// still, so that the counts say how many jobs failed.
    pub(super) skip_failed: HashSet<u64>,
    pub(super) results: Option<ResultsDir>,
    pub(super) printer: Option<Printer>,
}

impl Keep {
    /// The flag combinations keeping output allows.
    pub(super) fn check(spec: &ExecSpec) -> Result<(), ExecError> {
        if (spec.resume || spec.resume_failed) && spec.joblog.is_none() {
            return Err(ExecError::ResumeNeedsJoblog);
        }
        if spec.keep_order && !spec.output {
            return Err(ExecError::KeepOrderNeedsOutput);
        }
        Ok(())
    }

    /// Reads the earlier job log when resuming, then opens the job log, the results folder and the printer.
    pub(super) fn open(spec: &ExecSpec) -> Result<Self, ExecError> {
        let resuming = spec.resume || spec.resume_failed;
        let mut skip = HashSet::new();
        let mut skip_failed = HashSet::new();
        let joblog = match &spec.joblog {
            Some(path) => {
                if resuming {
                    let previous = Previous::read(path).map_err(cannot("--joblog", path))?;
                    if !spec.resume_failed {
                        skip_failed.clone_from(&previous.failed);
                    }
                    skip = previous.skip(spec.resume_failed);
                }
                Some(JobLog::open(path, resuming).map_err(cannot("--joblog", path))?)
            }
            None => None,
        };
        let results = match &spec.results {
            Some(dir) => Some(ResultsDir::open(dir).map_err(cannot("--results", dir))?),
            None => None,
        };
        let printer = if spec.output {
            let temp = std::env::temp_dir();
            let reader = results.as_ref().map(ResultsDir::reader).transpose();
            let printer = reader.and_then(|reader| Printer::new(spec.keep_order, reader));
            Some(printer.map_err(cannot("the spool folder in", &temp))?)
        } else {
            None
        };
        Ok(Self {
            joblog,
            skip,
            skip_failed,
            results,
            printer,
        })
    }
}

/// Turns an I/O error on `path` (given as `what`) into an [`ExecError::Keep`].
pub(super) fn cannot<'a>(
    what: &'static str,
    path: &'a std::path::Path,
) -> impl Fn(std::io::Error) -> ExecError + 'a {
    move |err| ExecError::Keep {
        what,
        path: path.display().to_string(),
        reason: os_reason(&err),
    }
}

/// The job log line of a finished command: a timeout is exit value -1 and signal 15, as in GNU parallel.
pub(super) fn job_record(
    seq: u64,
    start: SystemTime,
    runtime: Duration,
    finished: &Finished,
    argv: &[OsString],
) -> JobRecord {
    use std::os::unix::process::ExitStatusExt;
    let (exitval, signal) = match finished.ending {
        Ending::Exited(status) => (status.code().unwrap_or(0), status.signal().unwrap_or(0)),
        Ending::TimedOut | Ending::Cancelled => (-1, libc::SIGTERM),
    };
    JobRecord {
        seq,
        start,
        runtime,
        receive: finished.stdout_bytes,
        exitval,
        signal,
        command: shell::words(
            &argv
                .iter()
                .map(|arg| arg.to_string_lossy().into_owned())
                .collect::<Vec<_>>(),
        ),
    }
}
