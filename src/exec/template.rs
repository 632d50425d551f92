//! The command template: `{}` becomes the input, `{#}` the 1-based task number; no `{}` appends the input.

/// Placeholder for the input.
const INPUT: &str = "{}";
/// Placeholder for the task number (task id + 1).
const NUMBER: &str = "{#}";

/// A command line with placeholders, run once per input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    argv: Vec<String>,
    has_input: bool,
}

impl Template {
    /// A template from `argv` (program first). Returns `None` when there is no program.
    #[must_use]
    pub fn new(argv: Vec<String>) -> Option<Self> {
        if argv.first().is_none_or(String::is_empty) {
            return None;
        }
        let has_input = argv.iter().any(|arg| arg.contains(INPUT));
        Some(Self { argv, has_input })
    }

    /// The program as written, when it has no placeholder (so it can be looked up before the run).
    #[must_use]
    pub fn fixed_program(&self) -> Option<&str> {
        let program = self.argv.first()?;
        (!program.contains(INPUT) && !program.contains(NUMBER)).then_some(program.as_str())
    }

    /// The command line for one task: placeholders replaced, or the input appended.
    #[must_use]
    pub fn render(&self, input: &str, number: u64) -> Vec<String> {
        let number = number.to_string();
        let mut argv: Vec<String> = self
            .argv
            .iter()
            .map(|arg| substitute(arg, input, &number))
            .collect();
        if !self.has_input {
            argv.push(input.to_string());
        }
        argv
    }

    /// The template as a shell-like line, for headers and summaries.
    #[must_use]
    pub fn display(&self) -> String {
        super::shell::words(&self.argv)
    }
}

/// Replaces `{#}` and `{}` in one argument, left to right, without re-reading replaced text.
fn substitute(arg: &str, input: &str, number: &str) -> String {
    let mut out = String::with_capacity(arg.len() + input.len());
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        if let Some(after) = tail.strip_prefix(NUMBER) {
            out.push_str(number);
            rest = after;
        } else if let Some(after) = tail.strip_prefix(INPUT) {
            out.push_str(input);
            rest = after;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(args: &[&str]) -> Template {
        Template::new(args.iter().map(ToString::to_string).collect()).unwrap()
    }

    #[test]
    fn placeholders_are_replaced() {
        let t = template(&["echo", "in={}", "n={#}", "{}{}"]);
        assert_eq!(t.render("x", 3), ["echo", "in=x", "n=3", "xx"]);
    }

    #[test]
    fn input_is_appended_without_a_placeholder() {
        let t = template(&["echo", "{#}"]);
        assert_eq!(t.render("a b", 1), ["echo", "1", "a b"]);
    }

    #[test]
    fn replaced_text_is_not_read_again() {
        let t = template(&["echo", "{}"]);
        assert_eq!(t.render("{#}", 7), ["echo", "{#}"]);
    }

    #[test]
    fn empty_program_is_rejected_and_placeholders_hide_it() {
        assert!(Template::new(vec![]).is_none());
        assert!(Template::new(vec![String::new()]).is_none());
        assert_eq!(template(&["run{}"]).fixed_program(), None);
        assert_eq!(template(&["sh", "-c", "x y"]).display(), "sh -c 'x y'");
    }
}
