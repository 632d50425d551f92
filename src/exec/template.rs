//! The command template: `{}` becomes the input, `{#}` the 1-based task number; no `{}` appends the input.
//! A placeholder that is a whole argument passes its value unchanged; inside a longer argument
//! the value is shell-quoted for where it stands, unless `--unquoted-replacements` asks otherwise.

use super::quoting::{self, Context, Unquotable, insert};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

/// Placeholder for the input.
const INPUT: &str = "{}";
/// Placeholder for the task number (task id + 1).
const NUMBER: &str = "{#}";

/// A command line with placeholders, run once per input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    argv: Vec<String>,
    /// Each argument cut at its placeholders.
    pieces: Vec<Vec<Piece>>,
    has_input: bool,
}

/// Part of an argument: its own text, or a placeholder and how its value is inserted.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Input(Context),
    Number(Context),
}

impl Template {
    /// A template from `argv` (program first); `quoted`: a placeholder inside a longer argument
    /// gets its value shell-quoted for where it stands (see [`super::quoting`]), else inserted
    /// as it is (`--unquoted-replacements`). Returns `None` when there is no program.
    #[must_use]
    pub fn new(argv: Vec<String>, quoted: bool) -> Option<Self> {
        if argv.first().is_none_or(String::is_empty) {
            return None;
        }
        let has_input = argv.iter().any(|arg| arg.contains(INPUT));
        let pieces = argv.iter().map(|arg| pieces(arg, quoted)).collect();
        Some(Self {
            argv,
            pieces,
            has_input,
        })
    }

    /// The program as written, when it has no placeholder (so it can be looked up before the run).
    #[must_use]
    pub fn fixed_program(&self) -> Option<&str> {
        let program = self.argv.first()?;
        (!program.contains(INPUT) && !program.contains(NUMBER)).then_some(program.as_str())
    }

    /// The command line for one task: placeholders replaced, or the input appended.
    ///
    /// # Errors
    /// [`Unquotable`] when `input` cannot be quoted safely where a placeholder stands.
    pub fn render(&self, input: &[u8], number: u64) -> Result<Vec<OsString>, Unquotable> {
        let number = number.to_string();
        let mut argv = Vec::with_capacity(self.pieces.len() + 1);
        for pieces in &self.pieces {
            let mut arg = Vec::new();
            for piece in pieces {
                match piece {
                    Piece::Text(text) => arg.extend_from_slice(text.as_bytes()),
                    Piece::Input(context) => insert(&mut arg, input, *context)?,
                    Piece::Number(context) => insert(&mut arg, number.as_bytes(), *context)?,
                }
            }
            argv.push(OsString::from_vec(arg));
        }
        if !self.has_input {
            argv.push(OsString::from_vec(input.to_vec()));
        }
        Ok(argv)
    }

    /// The template as a shell-like line, for headers and summaries.
    #[must_use]
    pub fn display(&self) -> String {
        super::shell::words(&self.argv)
    }
}

/// Cuts one argument at `{#}` and `{}`, left to right; a placeholder that is the whole
/// argument is [`Context::Whole`], others are quoted for their place when `quoted`.
fn pieces(arg: &str, quoted: bool) -> Vec<Piece> {
    let mut contexts = quoting::contexts(arg).into_iter();
    let mut context = || match (arg, quoted) {
        (INPUT | NUMBER, _) => Context::Whole,
        (_, false) => Context::Raw,
        (_, true) => contexts.next().unwrap_or(Context::Strict),
    };
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let tail = &rest[open..];
        let placeholder = if let Some(after) = tail.strip_prefix(NUMBER) {
            Some((Piece::Number(context()), after))
        } else {
            tail.strip_prefix(INPUT)
                .map(|after| (Piece::Input(context()), after))
        };
        if let Some((piece, after)) = placeholder {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
            pieces.push(piece);
            rest = after;
        } else {
            text.push('{');
            rest = &tail[1..];
        }
    }
    text.push_str(rest);
    pieces.push(Piece::Text(text));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(args: &[&str]) -> Template {
        Template::new(args.iter().map(ToString::to_string).collect(), true).unwrap()
    }

    fn render(template: &Template, input: &str, number: u64) -> Vec<String> {
        let argv = template.render(input.as_bytes(), number).unwrap();
        argv.into_iter().map(|arg| arg.into_string().unwrap()).collect()
    }

    #[test]
    fn placeholders_are_replaced() {
        let t = template(&["echo", "in={}", "n={#}", "{}{}"]);
        assert_eq!(render(&t, "x", 3), ["echo", "in=x", "n=3", "xx"]);
    }

    #[test]
    fn a_whole_argument_is_the_value_and_a_part_is_quoted() {
        let t = template(&["echo", "{}", "in={}", "{#}"]);
        assert_eq!(
            render(&t, "a'b $x", 3),
            ["echo", "a'b $x", r"in='a'\''b $x'", "3"]
        );
        assert_eq!(render(&t, "", 3), ["echo", "", "in=''", "3"]);
        let raw = Template::new(vec!["sh".into(), "-c".into(), "echo {}".into()], false).unwrap();
        assert_eq!(render(&raw, "$(id)", 1), ["sh", "-c", "echo $(id)"]);
    }

    #[test]
    fn a_value_that_cannot_be_quoted_where_it_stands_is_refused() {
        let t = template(&["sh", "-c", "echo `echo {}`"]);
        assert_eq!(
            render(&t, "plain-1.txt", 1),
            ["sh", "-c", "echo `echo plain-1.txt`"]
        );
        assert_eq!(t.render(b"a;b", 1), Err(Unquotable));
    }

    #[test]
    fn input_is_appended_without_a_placeholder() {
        let t = template(&["echo", "{#}"]);
        assert_eq!(render(&t, "a b", 1), ["echo", "1", "a b"]);
    }

    #[test]
    fn replaced_text_is_not_read_again() {
        let t = template(&["echo", "{}"]);
        assert_eq!(render(&t, "{#}", 7), ["echo", "{#}"]);
    }

    #[test]
    fn empty_program_is_rejected_and_placeholders_hide_it() {
        assert!(Template::new(vec![], true).is_none());
        assert!(Template::new(vec![String::new()], true).is_none());
        assert_eq!(template(&["run{}"]).fixed_program(), None);
        assert_eq!(template(&["sh", "-c", "x y"]).display(), "sh -c 'x y'");
    }
}
