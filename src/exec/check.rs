//! The checks on an exec spec that open nothing (template, range, limits, worker options, patterns, the program on PATH), and the inputs they lead to.

use super::*;

/// What [`ExecSearch::new`] checks and works out from a spec before it opens anything.
pub(super) struct Checked {
    pub(super) template: Template,
    /// `--range`, parsed and within its limits.
    pub(super) range: Option<IntRange>,
    pub(super) match_stdout: Option<regex::Regex>,
    pub(super) limits: Limits,
    pub(super) workers: Option<worker::Workers>,
    pub(super) goal: Goal,
}

impl Checked {
    /// Every check on `spec` that opens nothing: no input, job log, results folder or spool.
    pub(super) fn of(spec: &ExecSpec) -> Result<Self, ExecError> {
        let quoted = !spec.unquoted_replacements;
        let template = Template::new(spec.command.clone(), quoted).ok_or(ExecError::EmptyCommand)?;
        if let Some(program) = template.fixed_program() {
            check_program(program)?;
        }
        let range = match &spec.range {
            None => None,
            Some(_) if spec.input.is_some() => return Err(ExecError::TwoSources),
            Some(text) if IntRange::out_of_limits(text) => {
                return Err(ExecError::RangeLimit(text.clone()));
            }
            Some(text) => Some(IntRange::parse(text).ok_or_else(|| ExecError::BadRange(text.clone()))?),
        };
        let match_stdout = spec.match_stdout.as_deref().map(compile).transpose()?;
        if spec.retries > MAX_RETRIES {
            return Err(ExecError::BadRetries(spec.retries));
        }
        let limits = limits(spec)?;
        let (workers, goal) = worker_options(spec, limits)?;
        Keep::check(spec)?;
        Ok(Self {
            template,
            range,
            match_stdout,
            limits,
            workers,
            goal,
        })
    }
}

/// The inputs: `range` (from `--range`, checked already) or the lines of `--input` or stdin.
pub(super) fn open_inputs(spec: &ExecSpec, range: Option<IntRange>) -> Result<(Inputs, String), ExecError> {
    match (range, &spec.input) {
        (Some(range), _) => {
            let text = spec.range.as_deref().unwrap_or_default();
            Ok((Inputs::Range(range), format!("range {text}")))
        }
        (None, Some(path)) => {
            let source = LineSource::open(path).map_err(|reason| ExecError::Input {
                path: path.display().to_string(),
                reason,
            })?;
            let lines = LazyLines::new(source, spec.total);
            Ok((
                Inputs::Lines(Box::new(lines)),
                format!("lines of {}", path.display()),
            ))
        }
        (None, None) => Ok((
            Inputs::Lines(Box::new(LazyLines::new(LineSource::Stdin, spec.total))),
            "lines of stdin".to_string(),
        )),
    }
}

pub(super) fn limits(spec: &ExecSpec) -> Result<Limits, ExecError> {
    let timeout = match spec.timeout_s {
        None => None,
        Some(secs) if secs > 0.0 && secs <= 1e9 => Some(Duration::from_secs_f64(secs)),
        Some(secs) => return Err(ExecError::BadTimeout(secs.to_string())),
    };
    if !(0.0..=3600.0).contains(&spec.grace_s) {
        return Err(ExecError::BadGrace(spec.grace_s.to_string()));
    }
    Ok(Limits {
        timeout,
        grace: Duration::from_secs_f64(spec.grace_s),
    })
}

/// The worker processes and score direction that `--worker`, `--window` and `--goal` ask for.
pub(super) fn worker_options(
    spec: &ExecSpec,
    limits: Limits,
) -> Result<(Option<worker::Workers>, Goal), ExecError> {
    let goal = match spec.goal.as_deref() {
        None => Goal::None,
        Some("max") => Goal::Maximize,
        Some("min") => Goal::Minimize,
        Some(other) => {
            return Err(ExecError::Worker(format!(
                "--goal must be max or min, got {other:?}"
            )));
        }
    };
    let needs_worker = |what: &str| Err(ExecError::Worker(format!("{what} needs --worker")));
    if !spec.worker {
        return match (spec.window, spec.goal.is_some()) {
            (Some(_), _) => needs_worker("--window"),
            (None, true) => needs_worker("--goal"),
            (None, false) => Ok((None, goal)),
        };
    }
    let window = spec.window.unwrap_or(DEFAULT_WINDOW);
    if !(1..=MAX_WINDOW).contains(&window) {
        return Err(ExecError::Worker(format!(
            "--window must be between 1 and {MAX_WINDOW}, got {window}"
        )));
    }
    if spec.match_stdout.is_some() {
        return Err(ExecError::Worker(
            "--match-stdout does not apply to --worker (workers answer in lines)".into(),
        ));
    }
    // The job log, kept output and retries are about one process per input.
    let per_process = [
        (spec.retries > 0, "--retries"),
        (spec.joblog.is_some(), "--joblog"),
        (spec.results.is_some(), "--results"),
        (spec.output, "--output"),
        (spec.unquoted_replacements, "--unquoted-replacements"),
    ];
    if let Some((_, flag)) = per_process.iter().find(|(given, _)| *given) {
        return Err(ExecError::Worker(format!(
            "{flag} does not apply to --worker (it is about one process per input)"
        )));
    }
    let workers = worker::Workers::new(spec.command.clone(), window, limits, goal);
    Ok((Some(workers), goal))
}

pub(super) fn compile(pattern: &str) -> Result<regex::Regex, ExecError> {
    regex::RegexBuilder::new(pattern)
        .multi_line(true)
        .build()
        .map_err(|err| ExecError::BadRegex {
            pattern: pattern.to_string(),
            reason: err
                .to_string()
                .lines()
                .last()
                .unwrap_or("invalid")
                .trim_start_matches("error: ")
                .to_string(),
        })
}

/// Looks `program` up the way `execvp` would (see [`shell::find_program`]).
pub(super) fn check_program(program: &str) -> Result<(), ExecError> {
    shell::find_program(program)
        .map(drop)
        .map_err(|problem| ExecError::CannotRun {
            program: program.to_string(),
            reason: problem.reason().to_string(),
        })
}
