//! Replacement strings made safe for the shell: where `{}` or `{#}` stands inside a longer
//! argument (`sh -c 'echo {}'`), the value is quoted for the shell context it stands in, so
//! that a shell reading that argument sees the value as data and never runs any of it.
//!
//! A small lexer follows POSIX shell quoting through the argument up to each placeholder:
//! unquoted, inside `'...'`, inside `"..."`, inside `$(...)`, `${...}` or `$'...'`. Where it
//! cannot follow the shell (after a backquote, a here-document or a backslash just before the
//! placeholder) only values made of characters no shell treats specially are inserted.

/// How a value is inserted where a placeholder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The placeholder is the whole argument: the value, unchanged (no shell reads it as code
    /// unless the program runs its argument, as `sh -c {}` asks).
    Whole,
    /// Unquoted shell text: one single-quoted word (`'it'\''s'`) unless it holds only plain
    /// characters, exact.
    Plain,
    /// Inside `'...'`: each `'` written as `'\''`, exact.
    Single,
    /// Inside `"..."`: `$`, `` ` ``, `"` and `\` escaped with a backslash, exact.
    Double,
    /// Where the lexer knows the text is code or quoted but not exactly how (`${x:-{}}`,
    /// `$'...'`, after `case`): every special character escaped with a backslash, which no
    /// such context runs.
    Loose,
    /// Where backslashes may be read twice (backquotes, here-documents, `\{}`): only a value
    /// of plain characters is inserted, any other is refused.
    Strict,
    /// `--unquoted-replacements`: the value as it is, wherever it stands.
    Raw,
}

/// A value that cannot be inserted safely where its placeholder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "it cannot be quoted safely where its placeholder stands (after a backquote, a here-document or a backslash); pass it as an argument instead: sh -c '... \"$1\"' sh {{}}"
)]
pub struct Unquotable;

/// True for a byte no shell treats specially, in any context (bytes of non-ASCII characters too).
fn plain(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&byte) || byte >= 0x80
}

/// Appends `value` to `out` as `context` asks.
///
/// # Errors
/// [`Unquotable`] for a value with special characters in a [`Context::Strict`] place.
pub fn insert(out: &mut Vec<u8>, value: &[u8], context: Context) -> Result<(), Unquotable> {
    match context {
        Context::Whole | Context::Raw => out.extend_from_slice(value),
        Context::Plain if !value.is_empty() && value.iter().all(|&byte| plain(byte)) => {
            out.extend_from_slice(value);
        }
        Context::Plain => {
            out.push(b'\'');
            insert(out, value, Context::Single)?;
            out.push(b'\'');
        }
        Context::Single => {
            for &byte in value {
                if byte == b'\'' {
                    out.extend_from_slice(br"'\''");
                } else {
                    out.push(byte);
                }
            }
        }
        Context::Double => escape_each(out, value, |byte| b"$`\"\\".contains(&byte)),
        Context::Loose => escape_each(out, value, |byte| !plain(byte)),
        Context::Strict if value.iter().all(|&byte| plain(byte)) => out.extend_from_slice(value),
        Context::Strict => return Err(Unquotable),
    }
    Ok(())
}

/// Appends `value`, a backslash before each byte `special` picks.
fn escape_each(out: &mut Vec<u8>, value: &[u8], special: impl Fn(u8) -> bool) {
    for &byte in value {
        if special(byte) {
            out.push(b'\\');
        }
        out.push(byte);
    }
}

/// A shell construct the lexer is inside of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// The argument's own text, unquoted.
    Top,
    /// `$( ... )`.
    Command,
    /// `( ... )` inside code.
    Paren,
    /// `${ ... }`.
    Brace,
    /// `" ... "`.
    Double,
    /// `' ... '`.
    Single,
    /// `$' ... '`.
    AnsiC,
    /// `# ...` up to the end of the line.
    Comment,
}

/// Words after which the lexer loses track: `case` patterns end in an unmatched `)`; `let`
/// (like `((` and `$((`) evaluates arithmetic, which expands `$(...)` even inside single quotes.
const LOOSE_AFTER: &[&[u8]] = &[b"case", b"let"];
/// Programs that read a string as shell code once more: quoting for this shell would be
/// undone there (`sh -c "sh -c 'echo {}'"`), so only plain values go in after them.
const STRICT_AFTER: &[&[u8]] = &[b"eval", b"sh", b"bash", b"dash", b"zsh", b"ksh", b"ssh", b"su"];

/// The word at the start of `text` without its directory (`/bin/sh -c` gives `sh`).
fn command_name(text: &[u8]) -> &[u8] {
    let end = text.iter().position(|&byte| !plain(byte)).unwrap_or(text.len());
    let word = &text[..end];
    word.iter()
        .rposition(|&byte| byte == b'/')
        .map_or(word, |slash| &word[slash + 1..])
}

/// Follows shell quoting through one argument and gives each placeholder its [`Context`].
struct Lexer<'a> {
    text: &'a [u8],
    at: usize,
    frames: Vec<Frame>,
    /// A context that holds for the rest of the argument once the lexer lost track.
    sticky: Option<Context>,
    word_start: bool,
    contexts: Vec<Context>,
}

/// The context of each placeholder (`{}` or `{#}`, left to right) in `arg`, read as shell text.
#[must_use]
pub fn contexts(arg: &str) -> Vec<Context> {
    let mut lexer = Lexer {
        text: arg.as_bytes(),
        at: 0,
        frames: vec![Frame::Top],
        sticky: None,
        word_start: true,
        contexts: Vec::new(),
    };
    while lexer.at < lexer.text.len() {
        if !lexer.placeholder(false) {
            lexer.step();
        }
    }
    lexer.contexts
}

impl Lexer<'_> {
    fn rest(&self) -> &[u8] {
        &self.text[self.at..]
    }

    fn top(&self) -> Frame {
        self.frames.last().copied().unwrap_or(Frame::Top)
    }

    /// Takes a placeholder at the cursor, if one is there; `escaped` when a backslash precedes it.
    fn placeholder(&mut self, escaped: bool) -> bool {
        let Some(len) = [&b"{}"[..], b"{#}"]
            .iter()
            .find(|token| self.rest().starts_with(token))
            .map(|token| token.len())
        else {
            return false;
        };
        let context = match (escaped, self.sticky, self.top()) {
            (true, _, _) => Context::Strict,
            (false, Some(sticky), _) => sticky,
            (false, None, Frame::Single) => Context::Single,
            (false, None, Frame::Double) => Context::Double,
            (false, None, Frame::Brace | Frame::AnsiC) => Context::Loose,
            (false, None, Frame::Top | Frame::Command | Frame::Paren | Frame::Comment) => Context::Plain,
        };
        self.contexts.push(context);
        self.at += len;
        self.word_start = false;
        true
    }

    /// Loses track from here on: `Strict` outranks `Loose`.
    fn lose_track(&mut self, context: Context) {
        if self.sticky != Some(Context::Strict) {
            self.sticky = Some(context);
        }
    }

    /// Reads one construct at the cursor (at least one byte).
    fn step(&mut self) {
        let byte = self.text[self.at];
        let word_start = self.word_start;
        self.word_start = false;
        match self.top() {
            Frame::Comment | Frame::Single => {
                let end = if self.top() == Frame::Single { b'\'' } else { b'\n' };
                if byte == end {
                    self.frames.pop();
                }
                self.at += 1;
            }
            Frame::AnsiC => match byte {
                b'\\' => self.escape(),
                b'\'' => self.pop_one(),
                _ => self.at += 1,
            },
            Frame::Double => match byte {
                b'\\' => self.escape(),
                b'"' => self.pop_one(),
                b'$' | b'`' => self.dollar_or_backquote(),
                _ => self.at += 1,
            },
            Frame::Top | Frame::Command | Frame::Paren | Frame::Brace => self.code(byte, word_start),
        }
    }

    fn pop_one(&mut self) {
        self.frames.pop();
        self.at += 1;
    }

    /// A backslash: the next byte is taken as it is; a placeholder there is [`Context::Strict`].
    fn escape(&mut self) {
        self.at += 1;
        if !self.placeholder(true) && self.at < self.text.len() {
            self.at += 1;
        }
    }

    /// `$(`, `${`, `$'` (in code only) or a backquote; any other `$` is an ordinary byte.
    /// Arithmetic (`$((`) expands `$(...)` even inside single quotes: the lexer loses track.
    fn dollar_or_backquote(&mut self) {
        if self.rest().starts_with(b"$((") {
            self.lose_track(Context::Loose);
        }
        let rest = self.rest();
        let frame = match rest.get(..2) {
            Some(b"$(") => Some(Frame::Command),
            Some(b"${") => Some(Frame::Brace),
            Some(b"$'") if self.top() != Frame::Double => Some(Frame::AnsiC),
            _ => None,
        };
        if rest.first() == Some(&b'`') {
            self.lose_track(Context::Strict);
            self.at += 1;
        } else if let Some(frame) = frame {
            self.frames.push(frame);
            self.at += 2;
        } else {
            self.at += 1;
        }
    }

    /// One byte of unquoted shell code.
    fn code(&mut self, byte: u8, word_start: bool) {
        let rest = self.rest();
        let command = if word_start { command_name(rest) } else { b"" };
        let case = LOOSE_AFTER.contains(&command) || (word_start && rest.starts_with(b"(("));
        let reparsed = STRICT_AFTER.contains(&command);
        let heredoc = rest.starts_with(b"<<");
        if word_start && byte == b'#' {
            self.frames.push(Frame::Comment);
            self.at += 1;
            return;
        }
        if case {
            self.lose_track(Context::Loose);
        }
        if heredoc || reparsed {
            self.lose_track(Context::Strict);
        }
        match byte {
            b'\\' => return self.escape(),
            b'\'' => self.frames.push(Frame::Single),
            b'"' => self.frames.push(Frame::Double),
            b'$' | b'`' => return self.dollar_or_backquote(),
            b'(' => self.frames.push(Frame::Paren),
            b')' if matches!(self.top(), Frame::Command | Frame::Paren) => {
                self.frames.pop();
            }
            b'}' if self.top() == Frame::Brace => {
                self.frames.pop();
            }
            _ => {}
        }
        self.word_start = byte.is_ascii_whitespace() || b";&|()<>".contains(&byte);
        self.at += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(value: &str, context: Context) -> String {
        let mut out = Vec::new();
        insert(&mut out, value.as_bytes(), context).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_context_has_its_quoting() {
        assert_eq!(quoted("it's", Context::Plain), r"'it'\''s'");
        assert_eq!(quoted("", Context::Plain), "''");
        assert_eq!(quoted("it's", Context::Single), r"it'\''s");
        assert_eq!(quoted(r#"$`"\x"#, Context::Double), r#"\$\`\"\\x"#);
        assert_eq!(quoted("a b;c", Context::Loose), r"a\ b\;c");
        assert_eq!(quoted("café-1.txt", Context::Strict), "café-1.txt");
        assert_eq!(insert(&mut Vec::new(), b"a b", Context::Strict), Err(Unquotable));
    }

    #[test]
    fn the_lexer_follows_quotes_and_substitutions() {
        use Context::{Double, Loose, Plain, Single, Strict};
        assert_eq!(contexts("echo {} {#}"), [Plain, Plain]);
        assert_eq!(contexts("echo '{}' \"{}\""), [Single, Double]);
        assert_eq!(contexts(r#"echo "$(cat "{}") $(ls {})""#), [Double, Plain]);
        assert_eq!(contexts("echo ${x:-{}} $'{}' it\\'s {}"), [Loose, Loose, Plain]);
        assert_eq!(contexts("echo \\{} `{}`"), [Strict, Strict]);
        assert_eq!(contexts("cat <<E\n{}\nE"), [Strict]);
        assert_eq!(contexts("# it's\necho {}"), [Plain]);
        assert_eq!(contexts("x=1 # it's {}\necho '{}'"), [Plain, Single]);
        assert_eq!(contexts("case $x in a) echo \"{}\";; esac"), [Loose]);
        assert_eq!(contexts("echo $(( {} + 1 )) '{}'"), [Loose, Loose]);
        assert_eq!(contexts("(( {} )); let x={}"), [Loose, Loose]);
        assert_eq!(contexts("letter {}"), [Plain]);
        assert_eq!(contexts("eval echo {}"), [Strict]);
        assert_eq!(contexts("x; /bin/sh -c 'echo {}'"), [Strict]);
        assert_eq!(contexts("shasum {} | ssh"), [Plain]);
    }
}
