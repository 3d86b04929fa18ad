//! Event filtering of event source mappings (`FilterCriteria`): the subset of EventBridge
//! patterns that Lambda documents for mappings, compiled once and matched against each
//! SQS record.
//!
//! A pattern is a JSON object. Each key names a field of the record; its value is either a
//! nested pattern (an object, for a nested field) or a non-empty array of rules, any of
//! which may match. All keys must match (AND); `"$or": [pattern, …]` matches when any of
//! its patterns does. Rules: exact values (string, number, boolean, `null`), and objects
//! with one operator: `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (values,
//! or a `prefix`/`suffix`/`equals-ignore-case` inside), `numeric` (`=`, `<`, `<=`, `>`,
//! `>=`, one comparison or a range), and `exists`. When the record's field is an array,
//! a rule matches if it matches any element (EventBridge's rule).
//!
//! SQS records are matched with their `body` as AWS does: a pattern whose `body` is an
//! object matches the body parsed as JSON (a body that is not JSON never matches it); a
//! pattern whose `body` is a list of rules matches the body as the plain string it is.

use serde_json::{Map, Value};

/// The message of `InvalidParameterValueException` for any malformed pattern.
pub const INVALID_PATTERN: &str = "Invalid filter pattern definition.";

/// One compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    root: ObjectPattern,
}

#[derive(Debug, Clone, PartialEq)]
struct ObjectPattern {
    fields: Vec<(String, FieldPattern)>,
    /// Each `$or` member: at least one alternative must match.
    any_of: Vec<Vec<ObjectPattern>>,
}

#[derive(Debug, Clone, PartialEq)]
enum FieldPattern {
    Nested(ObjectPattern),
    Rules(Vec<Rule>),
}

#[derive(Debug, Clone, PartialEq)]
enum Rule {
    Exact(Value),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    AnythingBut(Vec<Value>),
    AnythingButPrefix(String),
    AnythingButSuffix(String),
    AnythingButIgnoreCase(Vec<String>),
    Numeric(Vec<(Comparison, f64)>),
    Exists(bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Pattern {
    /// Parses and checks one `Filters[].Pattern` string.
    pub fn parse(source: &str) -> Result<Pattern, &'static str> {
        let value: Value = serde_json::from_str(source).map_err(|_| INVALID_PATTERN)?;
        let Value::Object(object) = value else {
            return Err(INVALID_PATTERN);
        };
        Ok(Pattern {
            root: object_pattern(&object)?,
        })
    }

    /// Whether `record` matches, with `body` handled as described in the module docs.
    /// `body` is the record's raw body; `record` holds the other fields.
    pub fn matches_sqs_record(&self, record: &Value, body: &str) -> bool {
        let parsed_body = std::cell::OnceCell::new();
        let lookup = |key: &str, wants_object: bool| -> Option<Value> {
            if key == "body" {
                if wants_object {
                    return Some(
                        parsed_body
                            .get_or_init(|| {
                                serde_json::from_str::<Value>(body)
                                    .unwrap_or_else(|_| Value::String(body.to_string()))
                            })
                            .clone(),
                    );
                }
                return Some(Value::String(body.to_string()));
            }
            record.get(key).cloned()
        };
        matches_object_with(&self.root, &lookup)
    }
}

fn object_pattern(object: &Map<String, Value>) -> Result<ObjectPattern, &'static str> {
    let mut pattern = ObjectPattern {
        fields: Vec::new(),
        any_of: Vec::new(),
    };
    for (key, value) in object {
        if key == "$or" {
            let Value::Array(alternatives) = value else {
                return Err(INVALID_PATTERN);
            };
            if alternatives.len() < 2 {
                return Err(INVALID_PATTERN);
            }
            let alternatives = alternatives
                .iter()
                .map(|alternative| match alternative {
                    Value::Object(object) if !object.is_empty() => object_pattern(object),
                    _ => Err(INVALID_PATTERN),
                })
                .collect::<Result<Vec<_>, _>>()?;
            pattern.any_of.push(alternatives);
            continue;
        }
        let field = match value {
            Value::Object(nested) if !nested.is_empty() => {
                FieldPattern::Nested(object_pattern(nested)?)
            }
            Value::Array(rules) if !rules.is_empty() => {
                FieldPattern::Rules(rules.iter().map(rule).collect::<Result<_, _>>()?)
            }
            _ => return Err(INVALID_PATTERN),
        };
        pattern.fields.push((key.clone(), field));
    }
    Ok(pattern)
}

fn rule(value: &Value) -> Result<Rule, &'static str> {
    let object = match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => {
            return Ok(Rule::Exact(value.clone()));
        }
        Value::Array(_) => return Err(INVALID_PATTERN),
        Value::Object(object) => object,
    };
    let mut entries = object.iter();
    let (Some((operator, operand)), None) = (entries.next(), entries.next()) else {
        return Err(INVALID_PATTERN);
    };
    match (operator.as_str(), operand) {
        ("prefix", Value::String(prefix)) => Ok(Rule::Prefix(prefix.clone())),
        ("suffix", Value::String(suffix)) => Ok(Rule::Suffix(suffix.clone())),
        ("equals-ignore-case", Value::String(text)) => Ok(Rule::EqualsIgnoreCase(text.clone())),
        ("exists", Value::Bool(exists)) => Ok(Rule::Exists(*exists)),
        ("numeric", Value::Array(terms)) => numeric(terms),
        ("anything-but", operand) => anything_but(operand),
        _ => Err(INVALID_PATTERN),
    }
}

fn anything_but(operand: &Value) -> Result<Rule, &'static str> {
    match operand {
        Value::String(_) | Value::Number(_) => Ok(Rule::AnythingBut(vec![operand.clone()])),
        Value::Array(values) if !values.is_empty() => {
            let all_strings = values.iter().all(Value::is_string);
            let all_numbers = values.iter().all(Value::is_number);
            if !(all_strings || all_numbers) {
                return Err(INVALID_PATTERN);
            }
            Ok(Rule::AnythingBut(values.clone()))
        }
        Value::Object(object) if object.len() == 1 => match object.iter().next() {
            Some((operator, Value::String(text))) if operator == "prefix" => {
                Ok(Rule::AnythingButPrefix(text.clone()))
            }
            Some((operator, Value::String(text))) if operator == "suffix" => {
                Ok(Rule::AnythingButSuffix(text.clone()))
            }
            Some((operator, Value::String(text))) if operator == "equals-ignore-case" => {
                Ok(Rule::AnythingButIgnoreCase(vec![text.clone()]))
            }
            Some((operator, Value::Array(texts)))
                if operator == "equals-ignore-case"
                    && !texts.is_empty()
                    && texts.iter().all(Value::is_string) =>
            {
                Ok(Rule::AnythingButIgnoreCase(
                    texts
                        .iter()
                        .filter_map(|text| text.as_str().map(str::to_string))
                        .collect(),
                ))
            }
            _ => Err(INVALID_PATTERN),
        },
        _ => Err(INVALID_PATTERN),
    }
}

/// `[op, n]` or a range `[">"|">=", low, "<"|"<=", high]`.
fn numeric(terms: &[Value]) -> Result<Rule, &'static str> {
    let comparison = |value: &Value| match value.as_str() {
        Some("=") => Ok(Comparison::Equal),
        Some("<") => Ok(Comparison::Less),
        Some("<=") => Ok(Comparison::LessOrEqual),
        Some(">") => Ok(Comparison::Greater),
        Some(">=") => Ok(Comparison::GreaterOrEqual),
        _ => Err(INVALID_PATTERN),
    };
    let number = |value: &Value| value.as_f64().ok_or(INVALID_PATTERN);
    match terms {
        [operator, value] => Ok(Rule::Numeric(vec![(comparison(operator)?, number(value)?)])),
        [low_operator, low, high_operator, high] => {
            let low_operator = comparison(low_operator)?;
            let high_operator = comparison(high_operator)?;
            let (low, high) = (number(low)?, number(high)?);
            let lower_bound = matches!(
                low_operator,
                Comparison::Greater | Comparison::GreaterOrEqual
            );
            let upper_bound = matches!(high_operator, Comparison::Less | Comparison::LessOrEqual);
            if !lower_bound || !upper_bound || low > high {
                return Err(INVALID_PATTERN);
            }
            Ok(Rule::Numeric(vec![
                (low_operator, low),
                (high_operator, high),
            ]))
        }
        _ => Err(INVALID_PATTERN),
    }
}

fn matches_object_with(
    pattern: &ObjectPattern,
    lookup: &dyn Fn(&str, bool) -> Option<Value>,
) -> bool {
    pattern.fields.iter().all(|(key, field)| {
        let wants_object = matches!(field, FieldPattern::Nested(_));
        let value = lookup(key, wants_object);
        matches_field(field, value.as_ref())
    }) && pattern.any_of.iter().all(|alternatives| {
        alternatives
            .iter()
            .any(|alternative| matches_object_with(alternative, lookup))
    })
}

fn matches_object(pattern: &ObjectPattern, document: Option<&Value>) -> bool {
    match document {
        Some(Value::Object(object)) => {
            matches_object_with(pattern, &|key, _| object.get(key).cloned())
        }
        // A missing object: only patterns that accept missing fields (`exists: false`).
        None => matches_object_with(pattern, &|_, _| None),
        Some(_) => false,
    }
}

fn matches_field(field: &FieldPattern, value: Option<&Value>) -> bool {
    match field {
        FieldPattern::Nested(nested) => match value {
            // An array of objects matches if any of them does.
            Some(Value::Array(items)) => {
                items.iter().any(|item| matches_object(nested, Some(item)))
            }
            other => matches_object(nested, other),
        },
        FieldPattern::Rules(rules) => rules.iter().any(|rule| matches_rule(rule, value)),
    }
}

fn matches_rule(rule: &Rule, value: Option<&Value>) -> bool {
    match (rule, value) {
        (Rule::Exists(exists), value) => value.is_some() == *exists,
        (_, None) => false,
        (rule, Some(Value::Array(items))) => items.iter().any(|item| matches_scalar(rule, item)),
        (rule, Some(value)) => matches_scalar(rule, value),
    }
}

fn matches_scalar(rule: &Rule, value: &Value) -> bool {
    match rule {
        Rule::Exact(expected) => same_value(expected, value),
        Rule::Prefix(prefix) => value.as_str().is_some_and(|text| text.starts_with(prefix)),
        Rule::Suffix(suffix) => value.as_str().is_some_and(|text| text.ends_with(suffix)),
        Rule::EqualsIgnoreCase(expected) => value
            .as_str()
            .is_some_and(|text| text.to_lowercase() == expected.to_lowercase()),
        Rule::AnythingBut(excluded) => {
            (value.is_string() || value.is_number())
                && !excluded.iter().any(|excluded| same_value(excluded, value))
        }
        Rule::AnythingButPrefix(prefix) => {
            value.as_str().is_some_and(|text| !text.starts_with(prefix))
        }
        Rule::AnythingButSuffix(suffix) => {
            value.as_str().is_some_and(|text| !text.ends_with(suffix))
        }
        Rule::AnythingButIgnoreCase(excluded) => value.as_str().is_some_and(|text| {
            let text = text.to_lowercase();
            !excluded
                .iter()
                .any(|excluded| excluded.to_lowercase() == text)
        }),
        Rule::Numeric(comparisons) => value.as_f64().is_some_and(|number| {
            comparisons
                .iter()
                .all(|(comparison, bound)| match comparison {
                    Comparison::Equal => number == *bound,
                    Comparison::Less => number < *bound,
                    Comparison::LessOrEqual => number <= *bound,
                    Comparison::Greater => number > *bound,
                    Comparison::GreaterOrEqual => number >= *bound,
                })
        }),
        Rule::Exists(_) => true,
    }
}

/// Strings compare exactly, numbers by value (`5` equals `5.0`), the rest as JSON.
fn same_value(expected: &Value, value: &Value) -> bool {
    match (expected, value) {
        (Value::Number(expected), Value::Number(value)) => expected.as_f64() == value.as_f64(),
        _ => expected == value,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    /// (pattern, body, expected): every operator AWS documents for mapping filters.
    const CASES: &[(&str, &str, bool)] = &[
        // Exact strings, numbers, booleans, null, empty string.
        (r#"{"body":{"code":["AAAA"]}}"#, r#"{"code":"AAAA"}"#, true),
        (r#"{"body":{"code":["AAAA"]}}"#, r#"{"code":"BBBB"}"#, false),
        (
            r#"{"body":{"code":["AAAA","BBBB"]}}"#,
            r#"{"code":"BBBB"}"#,
            true,
        ),
        (r#"{"body":{"n":[5]}}"#, r#"{"n":5.0}"#, true),
        (r#"{"body":{"n":[5]}}"#, r#"{"n":"5"}"#, false),
        (r#"{"body":{"flag":[true]}}"#, r#"{"flag":true}"#, true),
        (r#"{"body":{"user":[null]}}"#, r#"{"user":null}"#, true),
        (r#"{"body":{"user":[null]}}"#, r#"{}"#, false),
        (r#"{"body":{"name":[""]}}"#, r#"{"name":""}"#, true),
        // An array field matches if any element does.
        (
            r#"{"body":{"tags":["red"]}}"#,
            r#"{"tags":["blue","red"]}"#,
            true,
        ),
        // Prefix, suffix, equals-ignore-case.
        (
            r#"{"body":{"region":[{"prefix":"us-"}]}}"#,
            r#"{"region":"us-east-1"}"#,
            true,
        ),
        (
            r#"{"body":{"region":[{"prefix":"us-"}]}}"#,
            r#"{"region":"eu-west-1"}"#,
            false,
        ),
        (
            r#"{"body":{"file":[{"suffix":".png"}]}}"#,
            r#"{"file":"a.png"}"#,
            true,
        ),
        (
            r#"{"body":{"file":[{"suffix":".png"}]}}"#,
            r#"{"file":"a.jpg"}"#,
            false,
        ),
        (
            r#"{"body":{"name":[{"equals-ignore-case":"alice"}]}}"#,
            r#"{"name":"ALICE"}"#,
            true,
        ),
        // Anything-but: values, a number, a prefix; never a missing field.
        (
            r#"{"body":{"weather":[{"anything-but":["Raining"]}]}}"#,
            r#"{"weather":"Sunny"}"#,
            true,
        ),
        (
            r#"{"body":{"weather":[{"anything-but":["Raining"]}]}}"#,
            r#"{"weather":"Raining"}"#,
            false,
        ),
        (
            r#"{"body":{"weather":[{"anything-but":"Raining"}]}}"#,
            r#"{}"#,
            false,
        ),
        (r#"{"body":{"n":[{"anything-but":5}]}}"#, r#"{"n":6}"#, true),
        (
            r#"{"body":{"id":[{"anything-but":{"prefix":"test-"}}]}}"#,
            r#"{"id":"test-1"}"#,
            false,
        ),
        (
            r#"{"body":{"id":[{"anything-but":{"prefix":"test-"}}]}}"#,
            r#"{"id":"prod-1"}"#,
            true,
        ),
        // Numeric: one comparison, a range, never a string.
        (
            r#"{"body":{"price":[{"numeric":["=",100]}]}}"#,
            r#"{"price":100}"#,
            true,
        ),
        (
            r#"{"body":{"price":[{"numeric":[">",10,"<=",20]}]}}"#,
            r#"{"price":20}"#,
            true,
        ),
        (
            r#"{"body":{"price":[{"numeric":[">",10,"<=",20]}]}}"#,
            r#"{"price":10}"#,
            false,
        ),
        (
            r#"{"body":{"price":[{"numeric":[">",10]}]}}"#,
            r#"{"price":"105"}"#,
            false,
        ),
        // Exists and does-not-exist.
        (r#"{"body":{"p":[{"exists":true}]}}"#, r#"{"p":"x"}"#, true),
        (r#"{"body":{"p":[{"exists":true}]}}"#, r#"{"q":"x"}"#, false),
        (r#"{"body":{"p":[{"exists":false}]}}"#, r#"{"q":"x"}"#, true),
        // Nested keys, several keys (AND), $or.
        (
            r#"{"body":{"order":{"state":["paid"]}}}"#,
            r#"{"order":{"state":"paid"}}"#,
            true,
        ),
        (
            r#"{"body":{"order":{"state":["paid"]}}}"#,
            r#"{"order":"paid"}"#,
            false,
        ),
        (
            r#"{"body":{"a":["1"],"b":["2"]}}"#,
            r#"{"a":"1","b":"3"}"#,
            false,
        ),
        (
            r#"{"body":{"$or":[{"a":["1"]},{"b":["2"]}]}}"#,
            r#"{"a":"0","b":"2"}"#,
            true,
        ),
        (
            r#"{"body":{"$or":[{"a":["1"]},{"b":["2"]}]}}"#,
            r#"{"a":"0","b":"0"}"#,
            false,
        ),
        // A JSON pattern on body never matches a plain-text body; a rule list on body
        // matches the body as text.
        (r#"{"body":{"code":["AAAA"]}}"#, "plain AAAA", false),
        (r#"{"body":[{"prefix":"Result: "}]}"#, "Result: ok", true),
        (r#"{"body":["hello"]}"#, "hello", true),
        (r#"{"body":["hello"]}"#, r#""hello""#, false),
        // Other record fields.
        (
            r#"{"attributes":{"ApproximateReceiveCount":["1"]}}"#,
            "{}",
            true,
        ),
        (r#"{"eventSource":["aws:kinesis"]}"#, "{}", false),
    ];

    #[test]
    fn patterns_match_as_aws_documents() {
        let record = json!({
            "messageId": "m-1",
            "attributes": {"ApproximateReceiveCount": "1"},
            "eventSource": "aws:sqs",
        });
        for (source, body, expected) in CASES {
            let pattern = Pattern::parse(source).unwrap_or_else(|_| panic!("{source} parses"));
            assert_eq!(
                pattern.matches_sqs_record(&record, body),
                *expected,
                "pattern {source} on body {body}"
            );
        }
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for source in [
            "not json",
            "\"a string\"",
            "[]",
            r#"{"body":"AAAA"}"#,
            r#"{"body":{"code":[]}}"#,
            r#"{"body":{"code":"AAAA"}}"#,
            r#"{"body":{"code":[["nested"]]}}"#,
            r#"{"body":{"code":[{"prefix":1}]}}"#,
            r#"{"body":{"code":[{"unknown":"x"}]}}"#,
            r#"{"body":{"code":[{"prefix":"a","suffix":"b"}]}}"#,
            r#"{"body":{"n":[{"numeric":["!=",1]}]}}"#,
            r#"{"body":{"n":[{"numeric":["<",1,">",2]}]}}"#,
            r#"{"body":{"n":[{"numeric":[">",5,"<",1]}]}}"#,
            r#"{"body":{"n":[{"exists":"yes"}]}}"#,
            r#"{"body":{"x":[{"anything-but":[]}]}}"#,
            r#"{"body":{"x":[{"anything-but":["a",1]}]}}"#,
            r#"{"$or":[{"a":["1"]}]}"#,
            r#"{"$or":{"a":["1"]}}"#,
        ] {
            assert_eq!(Pattern::parse(source), Err(INVALID_PATTERN), "{source}");
        }
    }
}
