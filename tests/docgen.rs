//! `poolwatch completions SHELL` and `poolwatch man`: generated from the clap definition, checked with the built binary against that definition.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use clap::Command as Cli;
use common::scratch::Scratch;
use std::process::{Command, Output, Stdio};

mod common;

fn poolwatch(args: &[&str]) -> Output {
    common::cli::poolwatch()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = poolwatch(args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// One command of the definition: its names below `poolwatch`, its long options, its subcommands.
struct Node {
    path: Vec<String>,
    longs: Vec<String>,
    subcommands: Vec<String>,
}

/// Every visible command of the clap definition, `poolwatch` first, as built (global options
/// propagated, `help` added) the way the generators see it.
fn definition() -> Vec<Node> {
    let mut top = poolwatch::internals::cli_command();
    top.build();
    let mut nodes = Vec::new();
    walk(&top, Vec::new(), &mut nodes);
    nodes
}

fn walk(command: &Cli, path: Vec<String>, nodes: &mut Vec<Node>) {
    let visible: Vec<&Cli> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .collect();
    nodes.push(Node {
        path: path.clone(),
        longs: command
            .get_arguments()
            .filter(|arg| !arg.is_hide_set())
            .filter_map(|arg| arg.get_long().map(str::to_string))
            .collect(),
        subcommands: visible.iter().map(|sub| sub.get_name().to_string()).collect(),
    });
    for sub in visible {
        let mut below = path.clone();
        below.push(sub.get_name().to_string());
        walk(sub, below, nodes);
    }
}

/// `text` as roff writes it: every `-` escaped.
fn roff(text: &str) -> String {
    text.replace('-', "\\-")
}

/// The words of the `opts="..."` line in the bash script's case for `path`.
fn bash_opts<'a>(script: &'a str, path: &[String]) -> Vec<&'a str> {
    let label = std::iter::once("poolwatch".to_string())
        .chain(
            path.iter()
                .map(|name| format!("subcmd__{}", name.replace('-', "__"))),
        )
        .collect::<Vec<_>>()
        .join("__");
    let case = format!("{label})");
    let mut lines = script.lines().skip_while(|line| line.trim() != case).skip(1);
    let opts = lines
        .next()
        .and_then(|line| line.trim().strip_prefix("opts=\""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("no opts line for {label} in the bash script"));
    opts.split_whitespace().collect()
}

#[test]
fn the_definition_has_commands_and_options_to_check() {
    let nodes = definition();
    let top = &nodes[0];
    assert!(top.subcommands.len() >= 8, "{:?}", top.subcommands);
    let exec = nodes.iter().find(|node| node.path == ["exec"]).unwrap();
    assert!(
        exec.longs.iter().any(|long| long == "resume-failed"),
        "{:?}",
        exec.longs
    );
}

#[test]
fn the_bash_completion_offers_every_command_and_long_option_where_it_applies() {
    let script = stdout_of(&["completions", "bash"]);
    for node in definition() {
        let opts = bash_opts(&script, &node.path);
        for long in &node.longs {
            let option = format!("--{long}");
            assert!(opts.contains(&option.as_str()), "{:?} lacks {option}", node.path);
        }
        for sub in &node.subcommands {
            assert!(opts.contains(&sub.as_str()), "{:?} lacks {sub}", node.path);
        }
    }
    // bash can parse its script.
    let scratch = Scratch::new("completion");
    let path = scratch.join("poolwatch.bash");
    std::fs::write(&path, &script).unwrap();
    let checked = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(checked.status.success(), "{checked:?}");
}

#[test]
fn zsh_and_fish_completions_name_every_command_and_long_option() {
    let nodes = definition();
    for shell in ["zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        for node in &nodes {
            for word in node.longs.iter().chain(&node.subcommands) {
                assert!(
                    script.contains(word.as_str()),
                    "{shell} lacks {word} ({:?})",
                    node.path
                );
            }
        }
    }
    let bad = poolwatch(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&bad.stderr).lines().count(), 1);
}

#[test]
fn the_man_pages_list_every_command_and_long_option() {
    for node in definition() {
        if node.path.len() > 1 {
            // `poolwatch man` renders poolwatch and its commands, not deeper ones (help's).
            assert!(
                node.longs.is_empty(),
                "{:?}'s options are in no man page",
                node.path
            );
            continue;
        }
        let args: Vec<&str> = std::iter::once("man")
            .chain(node.path.iter().map(String::as_str))
            .collect();
        let page = stdout_of(&args);
        let title = std::iter::once("poolwatch").chain(node.path.iter().map(String::as_str));
        let title = title.collect::<Vec<_>>().join("-");
        assert!(page.contains(&format!(".TH {title} 1")), "{title}: {page}");
        for long in &node.longs {
            let entry = format!("\\fB\\-\\-{}\\fR", roff(long));
            assert!(page.contains(&entry), "man {:?} lacks --{long}", node.path);
        }
        for sub in &node.subcommands {
            let entry = roff(&format!("{title}-{sub}(1)"));
            assert!(page.contains(&entry), "man {:?} lacks {sub}", node.path);
        }
    }
    let unknown = poolwatch(&["man", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr).trim(),
        "poolwatch: man: no command named \"nope\""
    );
}
