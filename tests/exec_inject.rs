//! `exec` never runs an input as shell code: placeholders inside a longer argument are quoted
//! for where they stand, and each payload reaches the command as its literal text.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use common::cli::{poolwatch, run_piped};
use common::scratch::Scratch;
use std::process::{Output, Stdio};
use std::time::Duration;

mod common;

/// Inputs that run `touch pwned` (or write `pwned`) when pasted unquoted into shell code.
const PAYLOADS: &[&str] = &[
    "$(touch pwned)",
    "`touch pwned`",
    "; touch pwned",
    "x;touch${IFS}pwned",
    "| touch pwned",
    "&& touch pwned",
    "|| touch pwned",
    "> pwned",
    "$(touch${IFS}pwned)",
    "'; touch pwned; '",
    "\"; touch pwned; \"",
    "\\`touch pwned\\`",
    "&touch pwned",
    "x; false || touch pwned",
    "a b; touch pwned #",
    "\\'; touch pwned #",
    "\\\"; touch pwned #",
    "\\\\'; touch pwned; '",
    "'$(touch pwned)'",
    "\"$(touch pwned)\"",
    "\"`touch pwned`\"",
    "'\"$(touch pwned)\"'",
    "${x:-$(touch pwned)}",
    "$((1+1))$(touch pwned)",
    "x\\",
    "\\",
    "'",
    "\"",
    "",
    " ",
    "*",
    "~",
    "#",
    "{}",
    "{#}",
    "a[$(touch pwned)]",
    "x[`touch pwned`]",
    "-n",
    "café",
];

/// Runs `template` (after `--`) over the payloads in `dir`, their output passed through in order.
fn run_over_payloads(dir: &Scratch, extra: &[&str], template: &[&str]) -> Output {
    let input = dir.join("inputs.txt");
    std::fs::write(&input, PAYLOADS.join("\n") + "\n").unwrap();
    let mut command = poolwatch();
    command
        .current_dir(dir.path())
        .args(["--halt", "never", "-w", "3", "exec", "--output", "-k", "--input"])
        .arg(&input)
        .args(extra)
        .arg("--")
        .args(template)
        .stdin(Stdio::null());
    run_piped(&mut command, Duration::from_secs(120))
}

/// Asserts that no payload left its marker in `dir`.
fn assert_no_marker(dir: &Scratch, case: &str, output: &Output) {
    assert!(
        !dir.join("pwned").exists(),
        "{case}: an input ran as code; stderr {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Asserts that the jobs printed each payload, exactly, one per line.
fn assert_literal(case: &str, output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.split_terminator('\n').collect();
    assert_eq!(
        lines,
        PAYLOADS,
        "{case}: stderr {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn payloads_are_data_wherever_they_stand() {
    let cases: &[(&str, &[&str])] = &[
        ("unquoted", &["sh", "-c", "printf '%s\\n' {}"]),
        ("double-quoted", &["sh", "-c", "printf '%s\\n' \"{}\""]),
        ("single-quoted", &["sh", "-c", "printf '%s\\n' '{}'"]),
        (
            "in a command substitution",
            &["sh", "-c", "x=$(printf '%s' {}); printf '%s\\n' \"$x\""],
        ),
        (
            "quoted in a substitution in quotes",
            &["sh", "-c", "printf '%s\\n' \"$(printf '%s' \"{}\")\""],
        ),
        (
            "after a comment with a quote",
            &["sh", "-c", "# it's\nprintf '%s\\n' {}"],
        ),
        (
            "twice, and with the number",
            &["sh", "-c", "printf '%s\\n' {}; : {} {#} \"{#}{}\""],
        ),
        // A whole argument is the input itself, as a program run without a shell expects.
        ("a whole argument", &["printf", "%s\\n", "{}"]),
        (
            "the safe pattern",
            &["sh", "-c", "printf '%s\\n' \"$1\"", "sh", "{}"],
        ),
    ];
    for (case, template) in cases {
        let dir = Scratch::new("inject");
        let output = run_over_payloads(&dir, &[], template);
        assert_no_marker(&dir, case, &output);
        assert_literal(case, &output);
    }
}

#[test]
fn payloads_where_quoting_cannot_be_exact_are_still_never_run() {
    let cases: &[(&str, &str)] = &[
        ("in a parameter default", "printf '%s\\n' ${unset:-{}}"),
        ("in backquotes", "printf '%s\\n' `printf '%s' {}`"),
        ("in a here-document", "cat <<EOF\n{}\nEOF"),
        ("after a backslash", "printf '%s\\n' x\\{}"),
        ("in an ANSI-C string", "printf '%s\\n' $'{}'"),
        ("after case", "case x in x) printf '%s\\n' \"{}\";; esac"),
        ("in arithmetic", "printf '%s\\n' $(( {} + 1 ))"),
        ("in an arithmetic command", "(( {} )); printf '%s\\n' '{}'"),
        ("after eval", "eval printf \"'%s\\n'\" {}"),
        ("in a nested shell", "sh -c \"printf '%s\\n' '{}'\""),
    ];
    for (case, script) in cases {
        for shell in ["sh", "bash"] {
            let dir = Scratch::new("inject-loose");
            let output = run_over_payloads(&dir, &[], &[shell, "-c", script]);
            assert_no_marker(&dir, &format!("{shell}: {case}"), &output);
        }
    }
}

#[test]
fn unquoted_replacements_are_an_explicit_opt_in_that_runs_code() {
    let dir = Scratch::new("inject-raw");
    let output = run_over_payloads(&dir, &["--unquoted-replacements"], &["sh", "-c", "echo {}"]);
    assert!(
        dir.join("pwned").exists(),
        "with --unquoted-replacements the input is inserted as it is; stderr {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
