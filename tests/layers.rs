//! The layer table of both crates, declared once here: a test reads every source file and fails
//! on an import that points up the table (or sideways, within a layer), on a top-level module
//! the table does not name, and on a CONTRIBUTING.md "Layout" section that is not drawn from the table.
//!
//! After changing the table, `POOLWATCH_BLESS=1 cargo test --test layers` rewrites CONTRIBUTING.md's
//! section between its `<!-- layers:begin -->` and `<!-- layers:end -->` markers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One layer: a name and its top-level modules, each with what it holds. A module may use the
/// modules of the layers before it (below it) only.
struct Layer {
    name: &'static str,
    modules: &'static [(&'static str, &'static str)],
}

/// The engine crate, `crates/poolwatch-core/src`, bottom first.
const CORE: &[Layer] = &[
    Layer {
        name: "leaves",
        modules: &[
            ("sync", "the poison-free lock and the futex calls"),
            (
                "plan",
                "the id plan: window, shard, ids done before (IdPlan, PlannedIds, RangeSet)",
            ),
        ],
    },
    Layer {
        name: "cancellation",
        modules: &[("cancel", "CancelToken: cancel, sleep that wakes on cancel")],
    },
    Layer {
        name: "searches",
        modules: &[(
            "search",
            "the Search trait, from_fn, needle, pow, collatz, rastrigin",
        )],
    },
    Layer {
        name: "the pool",
        modules: &[(
            "pool",
            "Run: workers, submitter, batches, halt policies and state, counters, snapshots, the panic hook",
        )],
    },
];

/// The application, `src` (feature `app`), bottom first. It stands on the whole engine.
const APP: &[Layer] = &[
    Layer {
        name: "foundations",
        modules: &[
            (
                "escape",
                "control characters shown escaped wherever a person reads text",
            ),
            (
                "safefs",
                "files opened without following planted links, private spools",
            ),
        ],
    },
    Layer {
        name: "leaves",
        modules: &[
            (
                "console",
                "stderr lines, stdout writes, exit codes, output failures",
            ),
            ("format", "numbers, durations and rates as people read them"),
            (
                "signals",
                "SIGINT, SIGTERM, SIGHUP and the control signals as messages",
            ),
            ("testing", "test-only helpers (temporary paths, recorded writes)"),
            (
                "bounds",
                "--bounds: shards of a --halt lowest search share their matches",
            ),
        ],
    },
    Layer {
        name: "commands",
        modules: &[(
            "exec",
            "poolwatch exec: inputs, templates, processes, --worker, job log, results",
        )],
    },
    Layer {
        name: "specs and summaries",
        modules: &[
            (
                "spec",
                "SearchSpec: each search's options, declared once for CLI, presets and log",
            ),
            ("cluster", "the cluster Engine interface and Slurm"),
            ("summary", "the end-of-run summary, text and JSON"),
        ],
    },
    Layer {
        name: "presets",
        modules: &[("preset", "preset files and the run a preset describes")],
    },
    Layer {
        name: "command line",
        modules: &[
            ("cli", "global options, validation, Failure"),
            ("userpresets", "the user's saved presets"),
            ("runs_file", "the --runs file: one line per run"),
        ],
    },
    Layer {
        name: "files and terminal",
        modules: &[
            ("eventlog", "the --log file: schema, file, recorder, checkpoint"),
            ("form_schema", "the run form's fields, from the clap definition"),
            ("term", "raw mode, alternate screen, restore guard, input thread"),
            ("docgen", "poolwatch completions and poolwatch man"),
        ],
    },
    Layer {
        name: "resume and model",
        modules: &[
            (
                "resume",
                "--resume: the command line checked against a logged run",
            ),
            ("app", "the model: App, Msg, a pure update returning Commands"),
        ],
    },
    Layer {
        name: "rendering and session",
        modules: &[
            ("ui", "renders &App, nothing else"),
            (
                "session",
                "one run's life for every front end: config, resume, Run, recorder, runs file, control",
            ),
        ],
    },
    Layer {
        name: "front ends",
        modules: &[
            ("headless", "the headless loop: progress line, summary"),
            (
                "dashboard",
                "the dashboard's main loop, generic over the ratatui backend",
            ),
        ],
    },
    Layer {
        name: "many machines",
        modules: &[(
            "watch",
            "poolwatch watch and --cluster: follow logs, aggregate, steer",
        )],
    },
    Layer {
        name: "entry",
        modules: &[(
            "launch",
            "the poolwatch command: arguments, then headless, dashboard or watch",
        )],
    },
];

/// Where the rendered table lives.
const LAYOUT_DOC: &str = "CONTRIBUTING.md";
const BEGIN: &str = "<!-- layers:begin -->";
const END: &str = "<!-- layers:end -->";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            into.push(path);
        }
    }
}

/// `text` without comments and `#[cfg(test)]` items: what the shipped code imports.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        rest = skip_item(&rest[at + "#[cfg(test)]".len()..]);
    }
    out.push_str(rest);
    out.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` after its first item: up to the `;` or the brace that closes its block.
fn skip_item(text: &str) -> &str {
    let mut depth = 0usize;
    for (at, ch) in text.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return &text[at + 1..];
                }
            }
            ';' if depth == 0 => return &text[at + 1..],
            _ => {}
        }
    }
    ""
}

/// The top-level modules `code` names through `crate::`, including `crate::{a, b::c}`.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|ch| ch.is_alphanumeric() || ch == '_') {
            continue; // poolwatch_core::..., another crate's path
        }
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            names.extend(inner.split(',').filter_map(|item| ident(item.trim())));
        } else if let Some(name) = ident(rest) {
            names.insert(name);
        }
    }
    names
}

fn ident(text: &str) -> Option<String> {
    let name: String = text
        .chars()
        .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Top-level module of each file under `src` (`lib` and `main` for the roots), and what it imports.
fn imports(src: &Path) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut found: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src");
        let first = relative.components().next().expect("a component");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        for name in named_modules(&code_only(&text)) {
            if name != module {
                let uses = found.entry(module.clone()).or_default();
                uses.entry(name).or_default().push(relative.display().to_string());
            }
        }
        found.entry(module).or_default();
    }
    found
}

/// Every breach of `layers` by the sources under `src`, one line each.
fn breaches(src: &Path, layers: &[Layer]) -> Vec<String> {
    let level: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(at, layer)| layer.modules.iter().map(move |(name, _)| (*name, at)))
        .collect();
    let mut problems = Vec::new();
    for (module, uses) in imports(src) {
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(&own) = level.get(module.as_str()) else {
            problems.push(format!(
                "{}: module `{module}` is not in the layer table",
                src.display()
            ));
            continue;
        };
        for (used, files) in uses {
            match level.get(used.as_str()) {
                Some(&other) if other < own => {}
                Some(&other) => problems.push(format!(
                    "`{module}` ({}) uses `{used}` ({}), which is not below it: {}",
                    layers[own].name,
                    layers[other].name,
                    files.join(", ")
                )),
                None => {} // an item of the crate root (a re-export), not a module
            }
        }
    }
    problems
}

#[test]
fn no_module_of_the_engine_imports_up_or_sideways() {
    let problems = breaches(&root().join("crates/poolwatch-core/src"), CORE);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_module_of_the_application_imports_up_or_sideways() {
    let problems = breaches(&root().join("src"), APP);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_an_import_up_the_table() {
    let code = code_only(
        "use crate::console::say;\n// crate::ui is only named in a comment\nuse crate::{app::App, ui};\n#[cfg(test)]\nmod tests { use crate::launch; }\n",
    );
    let names: Vec<String> = named_modules(&code).into_iter().collect();
    assert_eq!(names, ["app", "console", "ui"]);
    assert!(named_modules("use poolwatch_core::crate_like;").is_empty());
}

/// The table as the Layout section of CONTRIBUTING.md shows it.
fn rendered() -> String {
    let mut out = String::from(
        "Each module uses only the layers below it (above it in this list), never one beside or\nabove it. `tests/layers.rs` declares this table and checks every import against it.\n",
    );
    for (title, dir, layers) in [
        ("poolwatch-core", "crates/poolwatch-core/src/", CORE),
        ("poolwatch (feature `app`)", "src/", APP),
    ] {
        out.push_str(&format!(
            "\n**{title}**, `{dir}`, bottom first:\n\n| layer | module | holds |\n|---|---|---|\n"
        ));
        for layer in layers {
            for (name, holds) in layer.modules {
                out.push_str(&format!("| {} | `{name}` | {holds} |\n", layer.name));
            }
        }
    }
    out
}

#[test]
fn the_layout_section_is_drawn_from_the_table() {
    let path = root().join(LAYOUT_DOC);
    let text = std::fs::read_to_string(&path).expect("the layout document");
    let begin = text.find(BEGIN).expect("the begin marker") + BEGIN.len();
    let end = text.find(END).expect("the end marker");
    let want = format!("\n{}", rendered());
    if text[begin..end] != want && std::env::var_os("POOLWATCH_BLESS").is_some() {
        std::fs::write(&path, format!("{}{want}{}", &text[..begin], &text[end..])).expect("write");
        return;
    }
    assert_eq!(
        text[begin..end],
        want,
        "{LAYOUT_DOC}'s layer table is not the one tests/layers.rs declares: run POOLWATCH_BLESS=1 cargo test --test layers"
    );
}
