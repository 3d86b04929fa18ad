//! CloudWatch Logs filter patterns for unstructured log events, the subset eddy supports:
//! terms (`ERROR`), quoted phrases (`"Task timed out"`), optional terms of which one must
//! match (`?ERROR ?WARN`) and excluded terms (`-DEBUG`). Every plain term and phrase must
//! appear; matching is case-sensitive, as in CloudWatch. JSON (`{ $.level = … }`),
//! space-delimited (`[ip, user, …]`) and regular-expression (`%…%`) patterns are refused.

use crate::{Error, Result};

/// A parsed filter pattern.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterPattern {
    required: Vec<String>,
    optional: Vec<String>,
    excluded: Vec<String>,
}

impl FilterPattern {
    /// Parses `pattern`; an empty pattern matches every event.
    pub fn parse(pattern: &str) -> Result<FilterPattern> {
        let trimmed = pattern.trim();
        if trimmed.starts_with('{') || trimmed.starts_with('[') || trimmed.starts_with('%') {
            return Err(Error::LogsInvalidParameter(
                "eddy supports filter patterns of terms and quoted phrases only; JSON, \
                 space-delimited and regular-expression patterns are not supported."
                    .to_string(),
            ));
        }
        let mut parsed = FilterPattern::default();
        let mut characters = trimmed.chars().peekable();
        loop {
            while characters.next_if(|c| c.is_whitespace()).is_some() {}
            let Some(&first) = characters.peek() else {
                break;
            };
            let kind = match first {
                '?' | '-' => {
                    characters.next();
                    first
                }
                _ => ' ',
            };
            let mut term = String::new();
            if characters.next_if_eq(&'"').is_some() {
                let mut closed = false;
                while let Some(c) = characters.next() {
                    match c {
                        '\\' => {
                            if let Some(escaped) = characters.next() {
                                term.push(escaped);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        other => term.push(other),
                    }
                }
                if !closed {
                    return Err(Error::LogsInvalidParameter(
                        "Invalid filter pattern: a quoted phrase is not closed.".to_string(),
                    ));
                }
            } else {
                while let Some(c) = characters.next_if(|c| !c.is_whitespace()) {
                    term.push(c);
                }
            }
            if term.is_empty() {
                // `""` (or a lone `?`/`-`) adds nothing.
                continue;
            }
            match kind {
                '?' => parsed.optional.push(term),
                '-' => parsed.excluded.push(term),
                _ => parsed.required.push(term),
            }
        }
        Ok(parsed)
    }

    /// Whether `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        self.required
            .iter()
            .all(|term| message.contains(term.as_str()))
            && (self.optional.is_empty()
                || self
                    .optional
                    .iter()
                    .any(|term| message.contains(term.as_str())))
            && !self
                .excluded
                .iter()
                .any(|term| message.contains(term.as_str()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn matches(pattern: &str, message: &str) -> bool {
        FilterPattern::parse(pattern).unwrap().matches(message)
    }

    #[test]
    fn terms_must_all_appear_case_sensitively() {
        assert!(matches("", "anything"));
        assert!(matches("ERROR", "an ERROR here"));
        assert!(!matches("ERROR", "an error here"));
        assert!(matches("ERROR disk", "ERROR: disk full"));
        assert!(!matches("ERROR disk", "ERROR: memory"));
    }

    #[test]
    fn quoted_phrases_match_as_a_whole() {
        assert!(matches(
            "\"timed out\"",
            "Task timed out after 3.00 seconds"
        ));
        assert!(!matches("\"timed out\"", "timed and out"));
        assert!(matches("\"say \\\"hi\\\"\"", "they say \"hi\" twice"));
        assert!(matches("\"\"", "empty phrase matches all"));
    }

    #[test]
    fn optional_and_excluded_terms() {
        assert!(matches("?ERROR ?WARN", "WARN low disk"));
        assert!(!matches("?ERROR ?WARN", "INFO fine"));
        assert!(matches("ERROR -Exiting", "ERROR retrying"));
        assert!(!matches("ERROR -Exiting", "ERROR Exiting now"));
    }

    #[test]
    fn structured_patterns_and_open_quotes_are_refused() {
        for pattern in ["{ $.level = \"x\" }", "[ip, user]", "%ab+%", "\"open"] {
            assert!(
                matches!(
                    FilterPattern::parse(pattern),
                    Err(Error::LogsInvalidParameter(_))
                ),
                "{pattern}"
            );
        }
    }
}
