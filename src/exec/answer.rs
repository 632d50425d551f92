//! The answer lines of `exec --worker`: plain words (`0`, `1 VALUE`, `s SCORE`, `e MESSAGE`) or one JSON object per line.

/// What one answer line says about its input.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `0`, `false`, `miss`, `{}`.
    Miss,
    /// `s 12.5`, `score 12.5`, `{"score": 12.5}`.
    Score(f64),
    /// `1`, `1 VALUE`, `match VALUE`, `{"match": VALUE, "score": N}`.
    Match {
        /// What the worker said about the match, if anything.
        value: Option<String>,
        /// A score of the match, if given.
        score: Option<f64>,
    },
    /// `e MESSAGE`, `error MESSAGE`, `{"error": "MESSAGE"}`.
    Error(String),
    /// Anything else.
    Garbage,
}

/// Reads one answer line (without its newline; a trailing `\r` and spaces are ignored).
#[must_use]
pub fn parse_answer(line: &[u8]) -> Answer {
    match line {
        b"0" => return Answer::Miss,
        b"1" => {
            return Answer::Match {
                value: None,
                score: None,
            };
        }
        _ => {}
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return Answer::Garbage;
    };
    let text = text.trim();
    if text.starts_with('{') {
        return parse_json(text);
    }
    let (word, rest) = match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    };
    match (word, rest.is_empty()) {
        ("0" | "false" | "False" | "miss", true) => Answer::Miss,
        ("1" | "true" | "True" | "match", true) => Answer::Match {
            value: None,
            score: None,
        },
        ("1" | "match", false) => Answer::Match {
            value: Some(rest.to_string()),
            score: None,
        },
        ("s" | "score", false) => finite(rest).map_or(Answer::Garbage, Answer::Score),
        ("e" | "error", _) => Answer::Error(if rest.is_empty() {
            "error".to_string()
        } else {
            rest.to_string()
        }),
        _ => Answer::Garbage,
    }
}

fn finite(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

/// `{"match": true|"value"|number, "score": N, "error": "message"}`; `{}` is a miss.
fn parse_json(text: &str) -> Answer {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
        return Answer::Garbage;
    };
    let score = match map.get("score") {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => match value.as_f64().filter(|score| score.is_finite()) {
            Some(score) => Some(score),
            None => return Answer::Garbage,
        },
    };
    if let Some(error) = map.get("error").filter(|error| !error.is_null()) {
        return Answer::Error(match error {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        });
    }
    let value = match map.get("match") {
        None | Some(serde_json::Value::Null | serde_json::Value::Bool(false)) => {
            return score.map_or(Answer::Miss, Answer::Score);
        }
        Some(serde_json::Value::Bool(true)) => None,
        Some(serde_json::Value::String(text)) => Some(text.clone()),
        Some(other) => Some(other.to_string()),
    };
    Answer::Match { value, score }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words() {
        assert_eq!(parse_answer(b"0"), Answer::Miss);
        assert_eq!(parse_answer(b"false\r"), Answer::Miss);
        assert_eq!(
            parse_answer(b"1"),
            Answer::Match {
                value: None,
                score: None
            }
        );
        assert_eq!(
            parse_answer(b"1 found it"),
            Answer::Match {
                value: Some("found it".into()),
                score: None
            }
        );
        assert_eq!(parse_answer(b"s -2.5"), Answer::Score(-2.5));
        assert_eq!(
            parse_answer(b"e ValueError: bad"),
            Answer::Error("ValueError: bad".into())
        );
        for garbage in [&b"yes please"[..], b"s nan", b"s", b"", b"2", b"\xff"] {
            assert_eq!(parse_answer(garbage), Answer::Garbage, "{garbage:?}");
        }
    }

    #[test]
    fn json_lines() {
        assert_eq!(parse_answer(b"{}"), Answer::Miss);
        assert_eq!(parse_answer(br#"{"score": 3}"#), Answer::Score(3.0));
        assert_eq!(
            parse_answer(br#"{"match": "x", "score": 1.5}"#),
            Answer::Match {
                value: Some("x".into()),
                score: Some(1.5)
            }
        );
        assert_eq!(
            parse_answer(br#"{"match": true}"#),
            Answer::Match {
                value: None,
                score: None
            }
        );
        assert_eq!(
            parse_answer(br#"{"error": "boom"}"#),
            Answer::Error("boom".into())
        );
        assert_eq!(parse_answer(b"{nope"), Answer::Garbage);
        assert_eq!(parse_answer(br#"{"score": "high"}"#), Answer::Garbage);
    }
}
