//! The user's saved runs: preset TOML files in `$POOLWATCH_RUNS_DIR`, else `$XDG_CONFIG_HOME/poolwatch/runs/`, else `~/.config/poolwatch/runs/`.

use crate::preset::Preset;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variable that names the presets directory (tests use it).
pub const DIR_ENV: &str = "POOLWATCH_RUNS_DIR";

/// The directory from the environment values of `POOLWATCH_RUNS_DIR`, `XDG_CONFIG_HOME` and `HOME`
/// (empty values count as unset); `None` when none is set.
#[must_use]
pub fn dir_from(
    runs_dir: Option<OsString>,
    xdg_config: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    let set = |value: Option<OsString>| value.filter(|v| !v.is_empty()).map(PathBuf::from);
    set(runs_dir)
        .or_else(|| set(xdg_config).map(|config| config.join("poolwatch").join("runs")))
        .or_else(|| set(home).map(|home| home.join(".config").join("poolwatch").join("runs")))
}

/// The directory for this process's environment.
#[must_use]
pub fn dir() -> Option<PathBuf> {
    dir_from(
        std::env::var_os(DIR_ENV),
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    )
}

/// Every `*.toml` in `dir`, by file name; a file that does not load is one line in the second list.
/// A missing directory holds no presets.
#[must_use]
pub fn load(dir: &Path) -> (Vec<Preset>, Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (Vec::new(), Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    let mut presets = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match Preset::load(&path) {
            Ok(preset) => presets.push(preset),
            Err(err) => problems.push(format!("skipped saved run: {err}")),
        }
    }
    (presets, problems)
}

/// The file name a preset is saved under: its name in lower case, words joined by `-`.
#[must_use]
pub fn file_name(name: &str) -> String {
    let slug: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    if slug.is_empty() {
        "run.toml".to_string()
    } else {
        format!("{}.toml", slug.join("-"))
    }
}

/// Writes `preset` into `dir` (created if needed), replacing a file of the same name; returns its path.
///
/// # Errors
/// A one-line message when it cannot be written.
pub fn save(dir: &Path, preset: &Preset) -> Result<PathBuf, String> {
    let text = preset
        .to_toml()
        .map_err(|err| format!("cannot write preset {:?}: {err}", preset.name))?;
    std::fs::create_dir_all(dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let path = dir.join(file_name(&preset.name));
    std::fs::write(&path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use poolwatch_core::HaltPolicy;

    #[test]
    fn the_directory_follows_the_environment() {
        let os = |s: &str| Some(OsString::from(s));
        assert_eq!(dir_from(os("/r"), os("/x"), os("/h")), Some(PathBuf::from("/r")));
        assert_eq!(
            dir_from(os(""), os("/x"), os("/h")),
            Some(PathBuf::from("/x/poolwatch/runs"))
        );
        assert_eq!(
            dir_from(None, None, os("/h")),
            Some(PathBuf::from("/h/.config/poolwatch/runs"))
        );
        assert_eq!(dir_from(None, None, None), None);
    }

    #[test]
    fn a_saved_preset_loads_back_and_a_broken_one_is_one_line() {
        let dir = crate::testing::TempPath::new("userpresets");
        let preset = Preset {
            name: "Pow, 20 bits!".into(),
            description: "pow tasks=100".into(),
            spec: toml::from_str("kind = \"pow\"\ntasks = 100\ndata = \"x\"\nbits = 20").unwrap(),
            workers: Some(3),
            halt: HaltPolicy::After(2),
        };
        let path = save(&dir, &preset).unwrap();
        assert_eq!(path, dir.join("pow-20-bits.toml"));
        std::fs::write(
            dir.join("broken.toml"),
            "name = \"b\"\n[search]\nkind = \"pow\"\nbits = 0\n",
        )
        .unwrap();
        let (presets, problems) = load(&dir);
        assert_eq!(presets, [preset]);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("skipped saved run: bad preset "),
            "{}",
            problems[0]
        );
        assert!(!problems[0].contains('\n'));
    }
}
