//! The run form's fields, read from the command line's clap definitions, and their validation through the same parser.
//!
//! Nothing here is written twice: the searches are the `SearchSpec` subcommands, a search's fields are
//! its `Arg`s (long name, help, default, value parser), and a form is valid exactly when the
//! equivalent command line parses (`Cli::try_parse_from`) and its search builds. A new option
//! on a subcommand therefore appears in the form with no code here.

use crate::cli::Cli;
use crate::preset::Preset;
use clap::error::ErrorKind;
use clap::{Arg, ArgAction, CommandFactory, FromArgMatches, Parser};
use poolwatch_core::MAX_WORKERS;
use std::any::TypeId;

/// Global options every run has, shown after the search's own options.
const RUN_OPTIONS: [&str; 2] = ["workers", "halt"];
/// The search whose spec cannot be built without side effects (it opens its inputs).
const OPENS_INPUTS: &str = "exec";

/// Where a field goes on the equivalent command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// An option of the search subcommand: `--long=value`.
    Option,
    /// An on/off flag of the search subcommand: `--long` when the value is `true`.
    Flag,
    /// The subcommand's positional words (split on spaces), after `--`.
    Positional,
    /// A global option, before the subcommand.
    Global,
}

/// One field of the form, as the command line declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    /// The clap id (also the key in a preset's `[search]` table).
    pub id: String,
    /// What the form shows: `--bits`, `-w/--workers`, or `CMD`.
    pub label: String,
    /// The option's help line.
    pub help: String,
    /// The default, as the command line would show it.
    pub default: Option<String>,
    /// Where it goes on the command line.
    pub place: Place,
    /// Long name (empty for positionals).
    long: String,
    /// The value parser's output type, for probing the valid range.
    value_type: ValueType,
}

/// The value types whose valid range can be probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueType {
    Unsigned(u32),
    Float,
    Other,
}

/// The searches the form offers: `(name, about)` of each search subcommand (not `watch`),
/// in `--help` order.
#[must_use]
pub fn kinds() -> Vec<(String, String)> {
    use clap::Subcommand as _;
    crate::spec::SearchSpec::augment_subcommands(clap::Command::new("searches"))
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| {
            let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
            (sub.get_name().to_string(), about)
        })
        .collect()
}

/// The fields of a run of search `kind`: its options, then the global options that shape the run.
#[must_use]
pub fn fields(kind: &str) -> Vec<FieldDef> {
    let cli = Cli::command();
    let Some(sub) = cli.find_subcommand(kind) else {
        return Vec::new();
    };
    let mut defs: Vec<FieldDef> = sub
        .get_arguments()
        .filter(|arg| !arg.is_hide_set() && !is_builtin(arg))
        .map(|arg| field_def(arg, false))
        .collect();
    let spec_keys = default_spec_keys(kind);
    for arg in cli.get_arguments() {
        let id = arg.get_id().as_str();
        // A global that lands in this search's spec (rastrigin's --seed) is one of its fields.
        if RUN_OPTIONS.contains(&id) || spec_keys.iter().any(|key| key == id) {
            defs.push(field_def(arg, true));
        }
    }
    // The run options last, in RUN_OPTIONS order.
    defs.sort_by_key(|def| RUN_OPTIONS.iter().position(|id| *id == def.id));
    defs
}

fn is_builtin(arg: &Arg) -> bool {
    matches!(arg.get_id().as_str(), "help" | "version")
}

fn field_def(arg: &Arg, global: bool) -> FieldDef {
    let long = arg.get_long().unwrap_or_default().to_string();
    let place = if global {
        Place::Global
    } else if arg.is_positional() {
        Place::Positional
    } else if matches!(arg.get_action(), ArgAction::SetTrue) {
        Place::Flag
    } else {
        Place::Option
    };
    let label = match (arg.get_short(), place) {
        (_, Place::Positional) => arg
            .get_value_names()
            .and_then(|names| names.first())
            .map_or_else(|| arg.get_id().to_string(), ToString::to_string),
        (Some(short), _) => format!("-{short}/--{long}"),
        (None, _) => format!("--{long}"),
    };
    let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
    let default = arg
        .get_default_values()
        .first()
        .map(|value| value.to_string_lossy().into_owned())
        .filter(|_| place != Place::Flag)
        // "[default: number of CPUs]" and the like, written in the help.
        .or_else(|| bracketed_default(&help));
    FieldDef {
        id: arg.get_id().to_string(),
        label,
        help: help
            .split(" [default:")
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
        default,
        place,
        long,
        value_type: value_type(arg),
    }
}

fn bracketed_default(help: &str) -> Option<String> {
    let rest = help.split_once("[default: ")?.1;
    // "[default: now, or the preset's]": the value before any comment.
    let text = rest.split_once(']')?.0;
    Some(text.split(',').next().unwrap_or(text).trim().to_string())
}

fn value_type(arg: &Arg) -> ValueType {
    let id = arg.get_value_parser().type_id();
    let unsigned = [
        (TypeId::of::<u8>(), u8::BITS),
        (TypeId::of::<u16>(), u16::BITS),
        (TypeId::of::<u32>(), u32::BITS),
        (TypeId::of::<u64>(), u64::BITS),
        (TypeId::of::<usize>(), usize::BITS),
    ];
    if let Some((_, bits)) = unsigned.iter().find(|(type_id, _)| id == *type_id) {
        ValueType::Unsigned(*bits)
    } else if id == TypeId::of::<f64>() || id == TypeId::of::<f32>() {
        ValueType::Float
    } else {
        ValueType::Other
    }
}

/// The keys of the spec a search kind builds with its defaults (empty when it needs arguments).
fn default_spec_keys(kind: &str) -> Vec<String> {
    Cli::try_parse_from(["poolwatch", kind])
        .ok()
        .and_then(|cli| serde_json::to_value(cli.spec()).ok())
        .and_then(|value| value.as_object().map(|map| map.keys().cloned().collect()))
        .unwrap_or_default()
}

/// A field's text for `preset`: its value in the preset, empty where the preset leaves the default.
#[must_use]
pub fn values_of(preset: &Preset, defs: &[FieldDef]) -> Vec<String> {
    let spec = serde_json::to_value(&preset.spec).unwrap_or_default();
    defs.iter()
        .map(|def| match def.id.as_str() {
            "workers" => preset.workers.map(|w| w.to_string()).unwrap_or_default(),
            "halt" => preset.halt.to_string(),
            id => spec.get(id).map(json_text).unwrap_or_default(),
        })
        .zip(defs)
        // A value equal to the default (or an unset flag) is shown as the default.
        .map(|(value, def)| {
            if is_default(def, &value) {
                String::new()
            } else {
                value
            }
        })
        .collect()
}

fn is_default(def: &FieldDef, value: &str) -> bool {
    if def.place == Place::Flag {
        return value == "false";
    }
    let Some(default) = def.default.as_deref() else {
        return false;
    };
    default == value || matches!((default.parse::<f64>(), value.parse::<f64>()), (Ok(d), Ok(v)) if d == v)
}

fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Array(items) => join_words(&items.iter().map(json_text).collect::<Vec<_>>()),
        other => other.to_string(),
    }
}

/// Words on one line: a word with a space, a quote, a backslash or a newline is written in
/// double quotes with `\"`, `\\` and `\n` escapes; [`split_words`] reads it back.
#[must_use]
pub fn join_words(words: &[String]) -> String {
    let quote = |word: &String| {
        if !word.is_empty() && !word.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\') {
            return word.clone();
        }
        let escaped = word
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .replace('\t', "\\t");
        format!("\"{escaped}\"")
    };
    words.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// The words of a line written by [`join_words`]: split on spaces, double quotes group.
#[must_use]
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            '\\' if quoted => {
                let escaped = match chars.next() {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some(other) => other,
                    None => '\\',
                };
                word.get_or_insert_with(String::new).push(escaped);
            }
            c if c.is_whitespace() && !quoted => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// The command line equivalent to the form: `poolwatch [globals] KIND [options] [-- words]`.
#[must_use]
pub fn argv(kind: &str, defs: &[FieldDef], values: &[String]) -> Vec<String> {
    let mut globals = vec!["poolwatch".to_string()];
    let mut options = vec![kind.to_string()];
    let mut words = Vec::new();
    for (def, value) in defs.iter().zip(values) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match def.place {
            Place::Global => globals.push(format!("--{}={value}", def.long)),
            Place::Option => options.push(format!("--{}={value}", def.long)),
            Place::Flag if value == "true" => options.push(format!("--{}", def.long)),
            Place::Flag => {}
            Place::Positional => words.extend(split_words(value)),
        }
    }
    globals.extend(options);
    if !words.is_empty() {
        globals.push("--".to_string());
        globals.extend(words);
    }
    globals
}

/// The outcome of checking a form.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// One message per field, `None` where the field is valid.
    pub errors: Vec<Option<String>>,
    /// A problem no single field is to blame for.
    pub general: Option<String>,
    /// The run, when everything is valid.
    pub run: Option<Preset>,
}

/// Checks every field on its own (its value parser), then the whole command line and the
/// search: what [`Checker`] keeps up to date field by field as a form is edited.
#[cfg(test)]
#[must_use]
pub fn check(name: &str, kind: &str, defs: &[FieldDef], values: &[String]) -> Checked {
    let mut checker = Checker::default();
    let own = checker.fields(kind, defs, values);
    checker.form(name, kind, defs, values, &own)
}

/// The checks of a form through one `Cli::command()` (building it costs more than a parse),
/// kept for the checks of one key press.
pub struct Checker {
    cli_command: clap::Command,
}

impl Default for Checker {
    fn default() -> Self {
        Self {
            cli_command: Cli::command(),
        }
    }
}

thread_local! {
    /// This thread's checker: the form checks a field on every key press, and building
    /// `Cli::command()` costs more than the checks themselves.
    static CHECKER: std::cell::RefCell<Checker> = std::cell::RefCell::new(Checker::default());
}

impl Checker {
    /// Runs `check` with this thread's checker, built on first use and kept (a call made
    /// inside another's `check` gets a checker of its own).
    pub fn with<R>(check: impl FnOnce(&mut Self) -> R) -> R {
        CHECKER.with(|checker| match checker.try_borrow_mut() {
            Ok(mut kept) => check(&mut kept),
            Err(_) => check(&mut Self::default()),
        })
    }

    /// One value on its own command line (the other fields left to their defaults); `None`
    /// when it parses, or is empty (the default). Surrounding spaces are ignored.
    pub fn field(&mut self, kind: &str, def: &FieldDef, value: &str) -> Option<String> {
        let value = value.trim();
        if value.is_empty() || def.place == Place::Positional {
            return None;
        }
        if def.place == Place::Flag {
            return (!matches!(value, "true" | "false")).then(|| format!("{} is true or false", def.label));
        }
        let argv = match def.place {
            Place::Global => vec!["poolwatch".to_string(), format!("--{}={value}", def.long)],
            _ => vec![
                "poolwatch".to_string(),
                kind.to_string(),
                format!("--{}={value}", def.long),
            ],
        };
        match parse(&mut self.cli_command, &argv) {
            Err(err) if err.kind() != ErrorKind::MissingRequiredArgument => Some(error_line(&err)),
            _ => None,
        }
    }

    /// [`Checker::field`] of every field.
    pub fn fields(&mut self, kind: &str, defs: &[FieldDef], values: &[String]) -> Vec<Option<String>> {
        defs.iter()
            .zip(values)
            .map(|(def, value)| self.field(kind, def, value))
            .collect()
    }

    /// The whole form, given each field's own check (`own`, from [`Checker::field`]): when
    /// every field passes, the whole command line and the search, a refusal blamed on the
    /// field it names.
    pub fn form(
        &mut self,
        name: &str,
        kind: &str,
        defs: &[FieldDef],
        values: &[String],
        own: &[Option<String>],
    ) -> Checked {
        let mut errors = own.to_vec();
        if errors.iter().any(Option::is_some) {
            return Checked {
                errors,
                general: None,
                run: None,
            };
        }
        match build_run(&mut self.cli_command, name, kind, defs, values) {
            Ok(run) => Checked {
                errors,
                general: None,
                run: Some(run),
            },
            Err(refused) => {
                let message = refused.message();
                // Blame the field the message names, as `--bits` or `-w/--workers`.
                let blamed = defs.iter().position(|def| names(&message, def));
                let general = match blamed.and_then(|index| errors.get_mut(index)) {
                    Some(slot) => {
                        *slot = Some(message);
                        None
                    }
                    None => Some(message),
                };
                Checked {
                    errors,
                    general,
                    run: None,
                }
            }
        }
    }
}

fn names(message: &str, def: &FieldDef) -> bool {
    if def.long.is_empty() {
        return message.contains(&def.label);
    }
    let needle = format!("--{}", def.long);
    message.match_indices(&needle).any(|(at, _)| {
        let next = message[at + needle.len()..].chars().next();
        !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

#[cfg(test)]
thread_local! {
    /// Command lines parsed on this thread, for the tests that count them.
    static PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Command lines parsed so far on this thread (tests only).
#[cfg(test)]
pub(crate) fn parses() -> usize {
    PARSES.with(std::cell::Cell::get)
}

/// `argv` through `cli_command` (`Cli::command()`): what `Cli::try_parse_from` does, without
/// building the command again.
fn parse(cli_command: &mut clap::Command, argv: &[String]) -> Result<Cli, clap::Error> {
    #[cfg(test)]
    PARSES.with(|count| count.set(count.get() + 1));
    let mut matches = cli_command.try_get_matches_from_mut(argv)?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|err| err.format(cli_command))
}

/// Why a form's command line was refused; the clap error is rendered only when shown.
enum Refused {
    Parse(Box<clap::Error>),
    Check(String),
}

impl Refused {
    fn message(&self) -> String {
        match self {
            Self::Parse(err) => error_line(err),
            Self::Check(message) => message.clone(),
        }
    }
}

/// The whole command line through `cli_command` (`Cli::command()`, built once for many
/// checks), then the same checks as a launch.
fn build_run(
    cli_command: &mut clap::Command,
    name: &str,
    kind: &str,
    defs: &[FieldDef],
    values: &[String],
) -> Result<Preset, Refused> {
    let argv = argv(kind, defs, values);
    let cli = parse(cli_command, &argv).map_err(|err| Refused::Parse(Box::new(err)))?;
    let spec = cli.spec();
    let params = if spec.kind() == OPENS_INPUTS {
        // Building it would open its inputs (maybe standard input): the launch checks it.
        argv.iter()
            .skip_while(|word| *word != kind)
            .skip(1)
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        spec.build()
            .map_err(|err| Refused::Check(err.to_string()))?
            .params()
    };
    let workers = cli.workers;
    // The command line's own check of -w, with its words.
    crate::preset::check_workers(workers)
        .map_err(|err| Refused::Check(crate::cli::UsageError::from(err).to_string()))?;
    Ok(Preset {
        name: name.trim().to_string(),
        description: Preset::describe(spec.kind(), &params, workers, cli.halt_policy()),
        spec,
        workers,
        halt: cli.halt_policy(),
    })
}

/// A clap error as one line, the way the command line reports it (without "error: ").
#[must_use]
pub fn error_line(err: &clap::Error) -> String {
    let rendered = crate::console::escape_quoted_newlines(&err.render().to_string());
    let mut lines = rendered.lines().map(str::trim).filter(|line| !line.is_empty());
    let mut first = lines
        .next()
        .unwrap_or("bad arguments")
        .trim_start_matches("error: ")
        .to_string();
    // "the following required arguments were not provided:" names them on the next line.
    if first.ends_with(':')
        && let Some(next) = lines.next()
    {
        first = format!("{first} {next}");
    }
    first
}

/// The valid values of field `index`, found by probing the whole check with the other fields as they are.
///
/// Shown as `1..=256`, `>= 2` or `<= 64`; `None` when any value of the type is accepted, the type
/// is not a number, or no value is valid. Assumes the valid values form one interval, which holds
/// for every range and bound the command line checks.
#[must_use]
pub fn valid_range(kind: &str, defs: &[FieldDef], values: &[String], index: usize) -> Option<String> {
    let def = defs.get(index)?;
    let mut probe = values.to_vec();
    let mut valid = |text: String| {
        probe[index] = text;
        Checker::with(|checker| build_run(&mut checker.cli_command, "probe", kind, defs, &probe).is_ok())
    };
    // Start from a valid value: the field's, its default, or the smallest ones.
    let candidates = [
        values[index].trim().to_string(),
        def.default.clone().unwrap_or_default(),
        "0".to_string(),
        "1".to_string(),
    ];
    match def.value_type {
        ValueType::Unsigned(bits) => {
            let top = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
            let start: u64 = first_valid(&candidates, &mut valid)?;
            let low = edge(0, start, |v| valid(v.to_string()));
            let high = edge(top, start, |v| valid(v.to_string()));
            describe(low != 0, high != top, low.to_string(), high.to_string())
        }
        ValueType::Float => {
            let start: f64 = first_valid(&candidates, &mut valid)?;
            let text = |key: u64| float_text(from_key(key));
            let (bottom, top) = (to_key(f64::NEG_INFINITY), to_key(f64::INFINITY));
            let low = edge(bottom, to_key(start), |k| valid(from_key(k).to_string()));
            let high = edge(top, to_key(start), |k| valid(from_key(k).to_string()));
            let open_low = low <= to_key(f64::MIN);
            let open_high = high >= to_key(f64::MAX);
            describe(!open_low, !open_high, text(low), text(high))
        }
        ValueType::Other => None,
    }
}

/// The first of `candidates` that parses and that the command line accepts.
fn first_valid<T: std::str::FromStr + ToString>(
    candidates: &[String],
    valid: &mut impl FnMut(String) -> bool,
) -> Option<T> {
    candidates
        .iter()
        .filter_map(|text| text.parse::<T>().ok())
        .find(|value| valid(value.to_string()))
}

fn describe(has_low: bool, has_high: bool, low: String, high: String) -> Option<String> {
    match (has_low, has_high) {
        (true, true) => Some(format!("{low}..={high}")),
        (true, false) => Some(format!(">= {low}")),
        (false, true) => Some(format!("<= {high}")),
        (false, false) => None,
    }
}

/// The valid value nearest `limit` when every value between it and `valid_at` is valid.
fn edge(limit: u64, valid_at: u64, mut valid: impl FnMut(u64) -> bool) -> u64 {
    if valid(limit) {
        return limit;
    }
    // Invariant: `bad` is invalid, `good` is valid.
    let (mut bad, mut good) = (limit, valid_at);
    while bad.abs_diff(good) > 1 {
        let middle = bad.min(good) + bad.abs_diff(good) / 2;
        if valid(middle) {
            good = middle;
        } else {
            bad = middle;
        }
    }
    good
}

/// An order-preserving map of floats (not NaN) to integers.
fn to_key(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | (1 << 63) }
}

fn from_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 { key & !(1 << 63) } else { !key })
}

fn float_text(value: f64) -> String {
    if value == 0.0 {
        "0".to_string()
    } else {
        crate::format::score(value)
    }
}

/// The workers field's range, which the command line checks after parsing.
#[must_use]
pub fn workers_range() -> String {
    format!("1..={MAX_WORKERS}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_offers_the_searches_and_nothing_else() {
        let names: Vec<String> = kinds().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["needle", "pow", "collatz", "rastrigin", "exec"]);
    }

    fn pow() -> (Vec<FieldDef>, Vec<String>) {
        let defs = fields("pow");
        let values = vec![String::new(); defs.len()];
        (defs, values)
    }

    fn position(defs: &[FieldDef], id: &str) -> usize {
        defs.iter().position(|def| def.id == id).unwrap()
    }

    #[test]
    fn fields_come_from_the_subcommand_then_the_run_options() {
        let ids: Vec<String> = fields("pow").into_iter().map(|def| def.id).collect();
        assert_eq!(ids, ["tasks", "data", "bits", "workers", "halt"]);
        let ids: Vec<String> = fields("rastrigin").into_iter().map(|def| def.id).collect();
        assert_eq!(ids, ["tasks", "dims", "target", "seed", "workers", "halt"]);
        let bits = &fields("pow")[2];
        assert_eq!(bits.label, "--bits");
        assert_eq!(bits.default.as_deref(), Some("24"));
        assert_eq!(bits.help, "Leading zero bits for a match");
        let workers = &fields("pow")[3];
        assert_eq!(workers.label, "-w/--workers");
        assert_eq!(workers.default.as_deref(), Some("number of CPUs"));
    }

    #[test]
    fn a_valid_form_is_the_run_the_command_line_would_make() {
        let (defs, mut values) = pow();
        values[position(&defs, "bits")] = "20".into();
        values[position(&defs, "workers")] = "3".into();
        let checked = check("mine", "pow", &defs, &values);
        let run = checked.run.unwrap();
        let spec = serde_json::to_value(&run.spec).unwrap();
        let wanted = r#"{"kind": "pow", "tasks": 4294967296, "data": "poolwatch", "bits": 20}"#;
        assert_eq!(spec, serde_json::from_str::<serde_json::Value>(wanted).unwrap());
        assert_eq!(run.workers, Some(3));
        assert_eq!(run.name, "mine");
    }

    #[test]
    fn bad_fields_carry_the_command_lines_one_line_messages() {
        let (defs, mut values) = pow();
        values[position(&defs, "bits")] = "abc".into();
        values[position(&defs, "tasks")] = "-1".into();
        let checked = check("x", "pow", &defs, &values);
        assert!(checked.run.is_none());
        let bits = checked.errors[position(&defs, "bits")].clone().unwrap();
        assert!(
            bits.starts_with("invalid value 'abc' for '--bits <BITS>'"),
            "{bits}"
        );
        assert!(checked.errors[position(&defs, "tasks")].is_some());
        values[position(&defs, "bits")] = "300".into();
        values[position(&defs, "tasks")] = String::new();
        let checked = check("x", "pow", &defs, &values);
        assert_eq!(
            checked.errors[position(&defs, "bits")].as_deref(),
            Some("--bits must be between 1 and 256, got 300")
        );
        values[position(&defs, "bits")] = String::new();
        values[position(&defs, "workers")] = "0".into();
        let checked = check("x", "pow", &defs, &values);
        let workers = checked.errors[position(&defs, "workers")].clone().unwrap();
        assert!(
            workers.starts_with("--workers must be between 1 and"),
            "{workers}"
        );
    }

    #[test]
    fn the_form_describes_a_run_as_the_command_line_does() {
        let (defs, mut values) = pow();
        values[position(&defs, "bits")] = "20".into();
        values[position(&defs, "workers")] = "3".into();
        let form = check("mine", "pow", &defs, &values).run.unwrap();
        let plan = Cli::try_parse_from(["poolwatch", "-w", "3", "pow", "--bits", "20"])
            .unwrap()
            .plan()
            .unwrap();
        assert_eq!(form.description, plan.preset.description);
        assert_eq!(
            form.description,
            "pow tasks=4294967296 data=\"poolwatch\" bits=20 (3 workers, halt now)"
        );
        values[position(&defs, "workers")] = String::new();
        let form = check("mine", "pow", &defs, &values).run.unwrap();
        assert!(
            form.description.ends_with("(all CPUs, halt now)"),
            "{}",
            form.description
        );
    }

    #[test]
    fn ranges_are_probed_through_the_same_checks() {
        let (defs, values) = pow();
        assert_eq!(
            valid_range("pow", &defs, &values, position(&defs, "bits")).as_deref(),
            Some("1..=256")
        );
        assert_eq!(
            valid_range("pow", &defs, &values, position(&defs, "tasks")).as_deref(),
            Some(">= 1")
        );
        let defs = fields("needle");
        let mut values = vec![String::new(); defs.len()];
        values[position(&defs, "tasks")] = "1000".into();
        let needle = position(&defs, "needle");
        assert_eq!(
            valid_range("needle", &defs, &values, needle).as_deref(),
            Some("<= 999")
        );
        values[needle] = "5".into();
        let sleep = position(&defs, "sleep_ms");
        assert_eq!(
            valid_range("needle", &defs, &values, sleep).as_deref(),
            Some("0..=3600000")
        );
        let defs = fields("rastrigin");
        let values = vec![String::new(); defs.len()];
        assert_eq!(
            valid_range("rastrigin", &defs, &values, position(&defs, "target")),
            None
        );
    }

    #[test]
    fn every_shipped_preset_round_trips_through_the_form() {
        for preset in Preset::shipped() {
            let kind = preset.spec.kind();
            let defs = fields(kind);
            let values = values_of(&preset, &defs);
            let run = check(&preset.name, kind, &defs, &values).run.unwrap();
            assert_eq!(run.spec, preset.spec, "{}", preset.name);
            assert_eq!(run.workers, preset.workers);
            assert_eq!(run.halt, preset.halt);
        }
    }

    #[test]
    fn exec_words_go_after_a_double_dash_and_its_inputs_are_not_opened() {
        let defs = fields("exec");
        let mut values = vec![String::new(); defs.len()];
        let command = defs
            .iter()
            .position(|def| def.place == Place::Positional)
            .unwrap();
        assert_eq!(defs[command].label, "CMD");
        values[command] = "echo {}".into();
        values[position(&defs, "range")] = "0..10".into();
        let argv = argv("exec", &defs, &values);
        assert_eq!(argv, ["poolwatch", "exec", "--range=0..10", "--", "echo", "{}"]);
        let run = check("e", "exec", &defs, &values).run.unwrap();
        let spec = serde_json::to_value(&run.spec).unwrap();
        assert_eq!(spec["command"], serde_json::json!(["echo", "{}"]), "{spec}");
        // No range and no input: standard input, which the form must not open.
        values[position(&defs, "range")] = String::new();
        assert!(check("e", "exec", &defs, &values).run.is_some());
    }

    #[test]
    fn an_exec_run_round_trips_through_the_form() {
        let text = "name = \"e\"\n[search]\nkind = \"exec\"\nrange = \"1..4\"\ntimeout_s = 2.5\ngrace_s = 1.0\ncommand = [\"echo\", \"{}\"]\n";
        let preset = Preset::from_toml(text, "e.toml").unwrap();
        let defs = fields("exec");
        let values = values_of(&preset, &defs);
        assert_eq!(check("e", "exec", &defs, &values).run.unwrap().spec, preset.spec);
    }

    #[test]
    fn command_words_survive_the_one_line_field() {
        let words: Vec<String> = ["python3", "-c", "import time\nprint(\"a b\")\\", "", "{}"]
            .map(String::from)
            .to_vec();
        let line = join_words(&words);
        assert!(!line.contains('\n'), "{line}");
        assert_eq!(split_words(&line), words);
    }
}
