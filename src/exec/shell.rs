//! The POSIX shell's conventions, written once: quoting words so a shell reads them back as they are, and finding a program on `PATH` as `execvp` does.

use std::path::{Path, PathBuf};

/// Where `execvp` looks for a program when `PATH` is not set (glibc's default).
const DEFAULT_PATH: &str = "/bin:/usr/bin";

/// `word` as a POSIX shell reads it back unchanged: as it is when it holds only characters no
/// shell treats specially, else in single quotes, each `'` written as `'\''`.
#[must_use]
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&byte));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `argv` as one shell command line, each word [`quote`]d.
#[must_use]
pub fn words(argv: &[String]) -> String {
    argv.iter().map(|word| quote(word)).collect::<Vec<_>>().join(" ")
}

/// Why a program cannot be run, as looking it up finds out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unrunnable {
    /// No file by that name.
    Missing,
    /// A file, but not one this user may run.
    NotExecutable,
}

impl Unrunnable {
    /// The system's words for it, as a failed `execvp` would say.
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "No such file or directory",
            Self::NotExecutable => "Permission denied",
        }
    }
}

/// Finds `program` as `execvp` would: a name with a `/` is that file; any other is the first
/// executable file of that name in the directories of `PATH` (`/bin:/usr/bin` when unset).
/// The spawn stays the final judge.
///
/// # Errors
/// [`Unrunnable::NotExecutable`] when only files that may not be run were found, else
/// [`Unrunnable::Missing`].
pub fn find_program(program: &str) -> Result<PathBuf, Unrunnable> {
    if program.contains('/') {
        return match executable(Path::new(program)) {
            Some(true) => Ok(PathBuf::from(program)),
            Some(false) => Err(Unrunnable::NotExecutable),
            None => Err(Unrunnable::Missing),
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into());
    let mut problem = Unrunnable::Missing;
    for candidate in std::env::split_paths(&path).map(|dir| dir.join(program)) {
        match executable(&candidate) {
            Some(true) => return Ok(candidate),
            Some(false) => problem = Unrunnable::NotExecutable,
            None => {}
        }
    }
    Err(problem)
}

/// `Some(true)` for an executable file, `Some(false)` for something there we may not run, `None`
/// for nothing there.
fn executable(path: &Path) -> Option<bool> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `sh` makes of `line`: each of its words in brackets.
    fn read_back(line: &str) -> String {
        let output = std::process::Command::new("sh")
            .args([
                "-c",
                &format!("for word in {line}; do printf '[%s]' \"$word\"; done"),
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{line}");
        String::from_utf8(output.stdout).unwrap()
    }

    #[test]
    fn words_are_quoted_only_when_a_shell_would_change_them() {
        assert_eq!(quote("x=1"), "x=1");
        assert_eq!(quote("/bin/poolwatch"), "/bin/poolwatch");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("{}"), "'{}'");
        assert_eq!(quote("#x"), "'#x'");
        assert_eq!(quote("line\nbreak"), "'line\nbreak'");
        assert_eq!(quote("café"), "'café'");
        assert_eq!(
            words(&["echo", "a b", "it's", "", "x=1"].map(String::from)),
            r"echo 'a b' 'it'\''s' '' x=1"
        );
    }

    #[test]
    fn a_shell_reads_quoted_words_back_as_they_were() {
        let argv = [
            "",
            "'",
            "it's",
            "a b",
            "tab\there",
            "line\nbreak",
            "café ☕",
            "$HOME",
            "*",
            "{a,b}",
            "#x",
            "\\",
            "a\"b",
            "`id`",
            "~",
        ]
        .map(String::from);
        let bracketed: String = argv.iter().map(|word| format!("[{word}]")).collect();
        assert_eq!(read_back(&words(&argv)), bracketed);
    }

    #[test]
    fn programs_are_found_as_execvp_finds_them() {
        assert!(find_program("sh").is_ok_and(|path| path.is_absolute()));
        assert_eq!(find_program("/bin/sh"), Ok(PathBuf::from("/bin/sh")));
        assert_eq!(
            find_program("poolwatch-no-such-program"),
            Err(Unrunnable::Missing)
        );
        assert_eq!(find_program("/no/such/program"), Err(Unrunnable::Missing));
        let dir = crate::testing::TempPath::dir("shell");
        let plain = dir.join("plain");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        assert_eq!(
            find_program(plain.to_str().unwrap()),
            Err(Unrunnable::NotExecutable)
        );
    }
}
