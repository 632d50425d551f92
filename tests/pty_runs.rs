//! End to end for issue 13: the built binary in a pty edits a run in the form, saves it, launches it twice, and exports the history.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

mod common;

use common::logs::read_jsonl;
use common::pty::{Pty, poolwatch_command};
use common::scratch::Scratch;
use std::path::Path;

const DOWN: &str = "\x1b[B";
const UP: &str = "\x1b[A";
const CTRL_U: &str = "\x15";

/// poolwatch in a pty, started in `dir` with its saved runs in `dir/presets`.
fn start_in(dir: &Path, args: &[&str]) -> Pty {
    let mut command = poolwatch_command(args);
    command.cwd(dir);
    command.env("POOLWATCH_RUNS_DIR", dir.join("presets"));
    Pty::spawn(command)
}

fn wait_for_file(path: &Path, what: &str, done: impl Fn(&str) -> bool) -> String {
    common::wait_for(what, || {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        done(&text).then_some(text)
    })
}

/// A scratch directory with an empty `presets` folder in it.
fn fresh_dir() -> Scratch {
    let dir = Scratch::new("pty-runs");
    std::fs::create_dir_all(dir.join("presets")).unwrap();
    dir
}

/// The title line of the launcher's highlighted preset: after the `> ` that marks it, up to
/// the launcher's right border (what the dashboard shows beside it is left out).
fn highlighted(screen: &str) -> Option<String> {
    screen.lines().find_map(|line| {
        let (_, title) = line.split_once("│> ")?;
        Some(title.split('│').next().unwrap_or_default().trim_end().to_string())
    })
}

#[test]
fn edit_save_launch_twice_compare_and_export() {
    let dir = fresh_dir();
    std::fs::write(
        dir.join("presets/broken.toml"),
        "name = \"broken\"\n[search]\nkind = \"pow\"\nbits = 999\n",
    )
    .unwrap();
    let runs_file = dir.join("runs.jsonl");
    let mut session = start_in(dir.path(), &["--runs", runs_file.to_str().unwrap(), "-w", "2"]);
    session.wait_for("[Ready]");
    session.wait_for("skipped saved run: bad preset");

    // The launcher's pow row in the form: --bits is two rows below the first field.
    session.press("l");
    let mut screen = session.wait_for("launch a run");
    for _ in 0..20 {
        let now = highlighted(&screen).expect("a preset is highlighted");
        if now.starts_with("Proof of work, 28 bits") {
            break;
        }
        // One step at a time: a look before this Down is drawn would press another, one too many.
        session.press(DOWN);
        screen = session.wait_until("the highlight to move down", |screen| {
            highlighted(screen).is_some_and(|title| title != now)
        });
    }
    session.wait_for("> Proof of work, 28 bits");
    session.press("e");
    session.wait_for("edit run: pow");
    session.press(DOWN);
    session.press(DOWN);
    session.press("300");
    session.wait_for("--bits must be between 1 and 256, got 300");
    session.press("\r");
    session.press("\r");
    session.wait_for("fix the marked fields to launch or save");
    session.press(DOWN);
    session.press(UP);
    session.press("12\r");
    session.wait_for("$ poolwatch pow --bits=12");
    // Rename it, save it as a preset.
    session.press(&UP.repeat(4));
    session.press("i");
    session.press(CTRL_U);
    session.press("Pow 12 bits\r");
    session.press("s");
    let saved = wait_for_file(&dir.join("presets/pow-12-bits.toml"), "the saved preset", |t| {
        t.contains("bits = 12")
    });
    assert!(saved.contains("name = \"Pow 12 bits\""), "{saved}");

    // First run, from the form; second run, from the history.
    session.press("\r");
    session.wait_for("[Found]");
    session.press("r");
    session.wait_for("runs (1)");
    session.press("\r");
    wait_for_file(&runs_file, "two runs", |text| text.lines().count() == 2);
    session.press("r");
    let history = session.wait_for("runs (2)");
    let rows: Vec<&str> = history
        .lines()
        .filter(|line| line.contains("Pow 12 bits: pow"))
        .collect();
    assert_eq!(rows.len(), 2, "{history}");
    assert!(rows.iter().all(|row| row.contains("found")), "{history}");

    session.press("x");
    // Into the runs directory, not the current directory (often a checkout).
    let exported = wait_for_file(
        &dir.join("presets/poolwatch-runs.md"),
        "the Markdown export",
        |t| t.lines().count() == 4,
    );
    assert!(!dir.join("poolwatch-runs.md").exists());
    let lines: Vec<&str> = exported.lines().collect();
    assert!(lines[0].starts_with("| # | Name | Search |"), "{exported}");
    assert!(
        lines[2].starts_with("| 1 | Pow 12 bits | `pow tasks=4294967296"),
        "{exported}"
    );
    assert!(
        lines[3].starts_with("| 2 | Pow 12 bits | `pow tasks=4294967296"),
        "{exported}"
    );
    assert!(lines[3].contains("bits=12`"), "{exported}");
    session.press("\x1b");
    session.wait_for("exported 2 runs to poolwatch-runs.md in");

    // The saved preset is in the launcher from now on.
    session.press("l");
    session.wait_for("Pow 12 bits [pow, halt now]");
    session.press("q");
    session.wait_exit();
    let records = read_jsonl(&runs_file);
    assert_eq!(records.len(), 2);
    for record in &records {
        assert_eq!(record["name"], "Pow 12 bits");
        assert_eq!(record["outcome"], "found");
        assert_eq!(record["search"]["bits"], 12);
    }
}

/// A fresh folder holding one saved preset, "Mine 12 bits", and poolwatch started there with
/// the launcher open on it (the saved preset is the launcher's last row): (the folder, the
/// preset's file, the session).
fn launcher_on_a_saved_preset() -> (Scratch, std::path::PathBuf, Pty) {
    let dir = fresh_dir();
    let saved = dir.join("presets/mine-12-bits.toml");
    std::fs::write(
        &saved,
        "name = \"Mine 12 bits\"\n[search]\nkind = \"pow\"\nbits = 12\n",
    )
    .unwrap();
    let mut session = start_in(dir.path(), &["-w", "2"]);
    session.wait_for("[Ready]");
    session.press("l");
    session.wait_for("Mine 12 bits [pow");
    for _ in 0..20 {
        session.press(DOWN);
    }
    session.wait_until("the saved preset highlighted", |screen| {
        highlighted(screen).is_some_and(|title| title.starts_with("Mine 12 bits"))
    });
    (dir, saved, session)
}

#[test]
fn d_in_the_launcher_deletes_a_saved_preset_after_asking() {
    let (_dir, saved, mut session) = launcher_on_a_saved_preset();
    session.press("d");
    session.wait_for("delete the saved preset \"Mine 12 bits\"? y/n");
    session.press("n");
    session.wait_gone("delete the saved preset");
    assert!(saved.exists(), "n keeps it");
    session.press("d");
    session.wait_for("delete the saved preset");
    session.press("y");
    session.wait_gone("Mine 12 bits [pow");
    assert!(!saved.exists(), "y deletes its file");
    // A shipped preset has no file: nothing is deleted, and the log says why.
    session.press(UP);
    session.press("d");
    session.wait_for("delete the saved preset");
    session.press("y");
    session.wait_gone("delete the saved preset");
    session.press("\x1b");
    session.wait_for("nothing deleted");
    session.press("q");
    session.wait_exit();
}

#[test]
fn n_in_the_launcher_renames_a_saved_preset() {
    let (dir, saved, mut session) = launcher_on_a_saved_preset();
    session.press("n");
    session.wait_for("rename \"Mine 12 bits\"");
    session.press(CTRL_U);
    session.press("Yours");
    session.press("\r");
    session.press("s");
    session.wait_for("deleted preset \"Mine 12 bits\"");
    let renamed = dir.join("presets/yours.toml");
    assert!(renamed.exists() && !saved.exists(), "the file follows the name");
    assert!(std::fs::read_to_string(&renamed).unwrap().contains("bits = 12"));
    session.press("\x1b");
    session.wait_for("Yours [pow");
    session.press("q");
    session.wait_exit();
}
