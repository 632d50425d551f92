//! Run presets: a named search with its worker count and halt policy, from `assets/runs/*.toml` or `--config`.

use crate::spec::SearchSpec;
use poolwatch_core::{HaltPolicy, RunConfig};
use std::path::Path;

/// Most events a run queues for the log writer and the dashboard before its workers wait.
pub const EVENT_CAPACITY: usize = 1024;

/// The presets shipped in `assets/runs/`, compiled in so the launcher works from any directory.
const SHIPPED: [(&str, &str); 7] = [
    (
        "article-example-2.toml",
        include_str!("../assets/runs/article-example-2.toml"),
    ),
    (
        "article-example-3.toml",
        include_str!("../assets/runs/article-example-3.toml"),
    ),
    (
        "article-example-2-python.toml",
        include_str!("../assets/runs/article-example-2-python.toml"),
    ),
    (
        "article-example-3-python.toml",
        include_str!("../assets/runs/article-example-3-python.toml"),
    ),
    ("pow.toml", include_str!("../assets/runs/pow.toml")),
    ("collatz.toml", include_str!("../assets/runs/collatz.toml")),
    ("rastrigin.toml", include_str!("../assets/runs/rastrigin.toml")),
];

/// A run the launcher can start.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Display name.
    pub name: String,
    /// One line on what it shows.
    pub description: String,
    /// The search.
    pub spec: SearchSpec,
    /// Workers; `None` means the number of CPUs.
    pub workers: Option<usize>,
    /// What a match does.
    pub halt: HaltPolicy,
}

/// A preset file's contents: what [`Preset::from_toml`] reads and [`Preset::to_toml`] writes.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    workers: Option<usize>,
    /// `None`: the search's default ([`SearchSpec::default_halt`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    halt: Option<String>,
    search: SearchSpec,
}

/// A worker count outside `1..=MAX_WORKERS`, from the command line or a preset file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("workers must be between 1 and {max}, got {got}", max = poolwatch_core::MAX_WORKERS)]
pub struct BadWorkers {
    /// The count asked for.
    pub got: usize,
}

/// The one check of a requested worker count (`None`: the number of CPUs).
///
/// # Errors
/// [`BadWorkers`] for 0 or more than [`poolwatch_core::MAX_WORKERS`].
pub fn check_workers(workers: Option<usize>) -> Result<(), BadWorkers> {
    match workers {
        Some(got) if !(1..=poolwatch_core::MAX_WORKERS).contains(&got) => Err(BadWorkers { got }),
        _ => Ok(()),
    }
}

/// Why a preset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// The file cannot be read.
    #[error("cannot read preset {path}")]
    Read {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or unknown fields.
    #[error("bad preset {path}: {message}")]
    Parse {
        /// The path.
        path: String,
        /// The parser's message, on one line.
        message: String,
    },
}

/// Most bytes a preset file may hold: presets are a few lines; `--config /dev/zero` must not
/// read until memory runs out.
const MAX_PRESET_BYTES: u64 = 1 << 20;

/// The text of the preset file at `path`, refused past [`MAX_PRESET_BYTES`].
fn read_capped(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_PRESET_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_PRESET_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "larger than {} KiB: a preset is a short TOML file",
                MAX_PRESET_BYTES / 1024
            ),
        ));
    }
    Ok(text)
}

/// The parser's message without the file's values, which may hold anything (secrets, or
/// megabytes): a quoted value becomes `a string` or `a value`, a long name is cut.
fn without_values(message: &str) -> String {
    static QUOTED: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    static NAMED: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let quoted =
        QUOTED.get_or_init(|| regex::Regex::new(r#"(string )?"(?:[^"\\]|\\.)*""#).expect("a valid pattern"));
    let named = NAMED.get_or_init(|| regex::Regex::new(r"`([^`]{40})[^`]+`").expect("a valid pattern"));
    let text = quoted.replace_all(message, |caps: &regex::Captures<'_>| {
        if caps.get(1).is_some() {
            "a string"
        } else {
            "a value"
        }
        .to_string()
    });
    let text = named.replace_all(&text, "`$1...`");
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() <= 300 {
        return line.to_string();
    }
    format!("{}...", line.chars().take(300).collect::<String>())
}

/// The parser's message with the line and column it points at, without quoting the
/// file's content (which may hold anything, secrets included).
fn toml_problem(text: &str, err: &toml::de::Error) -> String {
    let Some(at) = err.span().map(|span| span.start.min(text.len())) else {
        return without_values(err.message());
    };
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |start| start.chars().count())
        + 1;
    format!("line {line}, column {column}: {}", without_values(err.message()))
}

impl Preset {
    /// The one-line description of a run made on the command line or in the form:
    /// `pow bits=20 (3 workers, halt now)`, `all CPUs` where `workers` is `None`.
    #[must_use]
    pub fn describe(search: &str, params: &str, workers: Option<usize>, halt: HaltPolicy) -> String {
        let workers = workers.map_or_else(
            || "all CPUs".to_string(),
            |count| crate::format::plural(u64::try_from(count).unwrap_or(u64::MAX), "worker"),
        );
        format!("{search} {params} ({workers}, halt {halt})")
    }

    /// Parses a preset from TOML text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`PresetError::Parse`] for bad TOML, unknown fields, a bad halt policy or bad search parameters.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, PresetError> {
        let parse_error = |message: String| PresetError::Parse {
            path: origin.to_string(),
            message: message.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        let file: PresetFile = toml::from_str(text).map_err(|err| parse_error(toml_problem(text, &err)))?;
        let halt = match &file.halt {
            Some(text) => text
                .parse::<HaltPolicy>()
                .map_err(|err| parse_error(err.to_string()))?,
            None => file.search.default_halt(),
        };
        file.search.check().map_err(|err| parse_error(err.to_string()))?;
        check_workers(file.workers).map_err(|err| parse_error(err.to_string()))?;
        Ok(Self {
            name: file.name,
            description: file.description,
            spec: file.search,
            workers: file.workers,
            halt,
        })
    }

    /// The TOML text of this preset, in the format [`Preset::from_toml`] reads.
    ///
    /// # Errors
    /// When the search cannot be written as TOML.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(&PresetFile {
            name: self.name.clone(),
            description: self.description.clone(),
            workers: self.workers,
            halt: Some(self.halt.to_string()),
            search: self.spec.clone(),
        })
    }

    /// Loads a preset file.
    ///
    /// # Errors
    /// [`PresetError`] when it cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Self, PresetError> {
        let origin = path.display().to_string();
        let text = read_capped(path).map_err(|source| PresetError::Read {
            path: origin.clone(),
            source,
        })?;
        Self::from_toml(&text, &origin)
    }

    /// The presets shipped with poolwatch.
    #[must_use]
    pub fn shipped() -> Vec<Self> {
        SHIPPED
            .iter()
            // The shipped files are checked by a unit test; one that fails to parse is skipped.
            .filter_map(|(name, text)| Self::from_toml(text, name).ok())
            .collect()
    }

    /// True for an `exec` run whose inputs come from standard input (readable only once).
    #[must_use]
    pub fn reads_stdin(&self) -> bool {
        matches!(&self.spec, SearchSpec::Exec(exec) if exec.range.is_none() && exec.input.is_none())
    }

    /// True for `exec --output`: the jobs' output goes to stdout, so the run must be headless.
    #[must_use]
    pub fn passes_output(&self) -> bool {
        matches!(&self.spec, SearchSpec::Exec(exec) if exec.output)
    }

    /// The pool settings of this run.
    #[must_use]
    pub fn run_config(&self) -> RunConfig {
        RunConfig::default()
            .with_workers(self.worker_count())
            .with_policy(self.halt)
            // The log writer and the dashboard may be slower than the workers: memory stays flat.
            .with_event_capacity(EVENT_CAPACITY)
    }

    /// Worker count, resolving "number of CPUs".
    #[must_use]
    pub fn worker_count(&self) -> usize {
        self.workers.unwrap_or_else(num_cpus::get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checking_an_exec_preset_leaves_its_job_log_and_folders_alone() {
        let dir = crate::testing::TempPath::dir("preset");
        let joblog = dir.join("jobs.tsv");
        std::fs::write(&joblog, "earlier jobs\n").unwrap_or_else(|err| panic!("{err}"));
        let results = dir.join("results");
        let text = format!(
            "name = \"keeps\"\nhalt = \"now\"\n[search]\nkind = \"exec\"\nrange = \"0..3\"\n\
             joblog = {:?}\nresults = {:?}\ncommand = [\"true\"]\n",
            joblog.display().to_string(),
            results.display().to_string()
        );
        Preset::from_toml(&text, "keeps.toml").unwrap_or_else(|err| panic!("{err}"));
        let kept = std::fs::read_to_string(&joblog).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(kept, "earlier jobs\n", "the job log was truncated");
        assert!(!results.exists(), "the results folder was made");
        let bad = text.replace("0..3", "3..0x");
        assert!(
            Preset::from_toml(&bad, "bad.toml").is_err(),
            "a bad range is still refused"
        );
    }

    #[test]
    fn every_shipped_preset_parses() {
        for (name, text) in SHIPPED {
            Preset::from_toml(text, name).unwrap_or_else(|err| panic!("{err}"));
        }
        assert_eq!(Preset::shipped().len(), SHIPPED.len());
    }

    #[test]
    fn a_preset_written_as_toml_reads_back_the_same() {
        for mut preset in Preset::shipped() {
            let text = preset.to_toml().unwrap_or_else(|err| panic!("{err}"));
            let back = Preset::from_toml(&text, "back.toml").unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(back, preset, "{text}");
            preset.workers = Some(3);
            let text = preset.to_toml().unwrap_or_else(|err| panic!("{err}"));
            assert!(text.contains("workers = 3"), "{text}");
        }
    }

    #[test]
    fn errors_never_quote_the_files_values() {
        let secret = "name = \"x\"\nworkers = \"ghp_SECRETTOKEN123\"\n[search]\nkind = \"needle\"\n";
        let err = Preset::from_toml(secret, "bad.toml").unwrap_err().to_string();
        assert!(!err.contains("ghp_"), "{err}");
        assert!(
            err.contains("line 2, column 11: invalid type: a string, expected usize"),
            "{err}"
        );
        let long_key = format!("{} = 1\n", "k".repeat(100_000));
        let err = Preset::from_toml(&long_key, "long.toml").unwrap_err().to_string();
        assert!(err.len() < 500, "{} bytes", err.len());
    }

    #[test]
    fn errors_fit_on_one_line() {
        let err = Preset::from_toml("name = 1\n[search]\nkind = \"needle\"", "x.toml").unwrap_err();
        assert!(!err.to_string().contains('\n'), "{err}");
        let err = Preset::from_toml(
            "name = \"a\"\nhalt = \"later\"\n[search]\nkind = \"needle\"",
            "x.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("halt policy"), "{err}");
    }

    #[test]
    fn unknown_search_fields_are_refused() {
        let err =
            Preset::from_toml("name = \"a\"\n[search]\nkind = \"pow\"\nbitz = 3", "x.toml").unwrap_err();
        assert!(err.to_string().contains("bitz"), "{err}");
    }
}
