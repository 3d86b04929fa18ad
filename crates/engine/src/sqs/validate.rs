//! Validation of names and message contents, with the error codes and messages SQS gives.

use std::collections::BTreeSet;

use super::types::{BatchEntry, MessageAttributeValue, MessageAttributes};
use crate::{Error, Result};

pub(crate) const FIFO_SUFFIX: &str = ".fifo";
pub(crate) const MAX_QUEUE_NAME_LEN: usize = 80;
pub(crate) const MAX_BATCH_ENTRIES: usize = 10;
pub(crate) const MAX_MESSAGE_ATTRIBUTES: usize = 10;
/// The most all messages of one SendMessageBatch may carry together (1 MiB).
pub(crate) const MAX_BATCH_PAYLOAD: usize = 1_048_576;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// CreateQueue's name rules: 1–80 of `[A-Za-z0-9_-]`; a FIFO name ends in `.fifo`, which
/// counts toward the 80.
pub(crate) fn queue_name(name: &str, fifo: bool) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidParameterValue(
            "Queue name cannot be empty".to_string(),
        ));
    }
    if fifo {
        let valid = name.len() <= MAX_QUEUE_NAME_LEN
            && name
                .strip_suffix(FIFO_SUFFIX)
                .is_some_and(|base| !base.is_empty() && base.chars().all(is_name_char));
        if !valid {
            return Err(Error::InvalidParameterValue(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or \
                 underscores, must end with .fifo suffix and be 1 to 80 in length."
                    .to_string(),
            ));
        }
        return Ok(());
    }
    if name.len() > MAX_QUEUE_NAME_LEN || !name.chars().all(is_name_char) {
        return Err(Error::InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
                .to_string(),
        ));
    }
    Ok(())
}

/// The characters SQS accepts in a message: `#x9 | #xA | #xD | #x20-#xD7FF |
/// #xE000-#xFFFD | #x10000-#x10FFFF` (XML 1.0 characters).
pub(crate) fn is_allowed_message_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

pub(crate) const INVALID_CHARACTERS: &str = "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF";

pub(crate) fn message_body(body: &str) -> Result<()> {
    if body.is_empty() {
        return Err(Error::MissingParameter(
            "The request must contain the parameter MessageBody.".to_string(),
        ));
    }
    if !body.chars().all(is_allowed_message_char) {
        return Err(Error::InvalidMessageContents(
            INVALID_CHARACTERS.to_string(),
        ));
    }
    Ok(())
}

/// Bytes a message counts against `MaximumMessageSize`: the body plus every attribute's
/// name, data type and value.
pub(crate) fn message_size(body: &str, attributes: &MessageAttributes) -> usize {
    body.len()
        + attributes
            .iter()
            .map(|(name, value)| name.len() + value.data_type.len() + attribute_value_len(value))
            .sum::<usize>()
}

fn attribute_value_len(value: &MessageAttributeValue) -> usize {
    value.string_value.as_ref().map_or(0, String::len)
        + value.binary_value.as_ref().map_or(0, Vec::len)
        + value
            .string_list_values
            .iter()
            .map(String::len)
            .sum::<usize>()
        + value.binary_list_values.iter().map(Vec::len).sum::<usize>()
}

pub(crate) fn message_too_long(max: i64) -> Error {
    Error::InvalidParameterValue(format!(
        "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
    ))
}

/// Message (user) attributes: at most 10, SQS's name rules, a String/Number/Binary data
/// type with an optional custom suffix, and a non-empty value of that type.
pub(crate) fn message_attributes(attributes: &MessageAttributes) -> Result<()> {
    if attributes.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(Error::InvalidParameterValue(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].",
            attributes.len()
        )));
    }
    for (name, value) in attributes {
        message_attribute_name(name)?;
        message_attribute_value(name, value)?;
    }
    Ok(())
}

fn message_attribute_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidParameterValue(
            "The request must contain non-empty message (user) attribute names.".to_string(),
        ));
    }
    if name.len() > 256 {
        return Err(Error::InvalidParameterValue(format!(
            "Message (user) attribute name '{name}' must be shorter than 256 bytes."
        )));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(Error::InvalidParameterValue(format!(
            "Message (user) attribute name '{name}' can only contain upper and lower case \
             characters, digits, periods, hyphens and underscores."
        )));
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("aws.") || lower.starts_with("amazon.") {
        return Err(Error::InvalidParameterValue(format!(
            "Message (user) attribute name '{name}' is invalid: you can't use names beginning \
             with 'AWS.' or 'Amazon.'; these prefixes are reserved for internal use."
        )));
    }
    if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        return Err(Error::InvalidParameterValue(format!(
            "Message (user) attribute name '{name}' can't start or end with a period or contain \
             two successive periods."
        )));
    }
    Ok(())
}

/// The base type of a data type (`String.custom` → `String`), when it is one SQS knows.
pub(crate) fn base_type(data_type: &str) -> Option<&'static str> {
    let base = data_type
        .split_once('.')
        .map_or(data_type, |(base, _)| base);
    match base {
        "String" => Some("String"),
        "Number" => Some("Number"),
        "Binary" => Some("Binary"),
        _ => None,
    }
}

fn message_attribute_value(name: &str, value: &MessageAttributeValue) -> Result<()> {
    let data_type = value.data_type.as_str();
    if data_type.is_empty() {
        return Err(Error::InvalidParameterValue(format!(
            "The message (user) attribute '{name}' must contain a non-empty message attribute type."
        )));
    }
    if data_type.len() > 256 {
        return Err(Error::InvalidParameterValue(format!(
            "Message (user) attribute '{name}' type must be shorter than 256 bytes."
        )));
    }
    let Some(base) = base_type(data_type) else {
        return Err(Error::InvalidParameterValue(format!(
            "The type of message (user) attribute '{name}' is invalid. You must use only the \
             following supported type prefixes: Binary, Number, String."
        )));
    };
    let missing = || {
        Error::InvalidParameterValue(format!(
            "Message (user) attribute '{name}' must contain a non-empty value of message \
             attribute type '{data_type}'."
        ))
    };
    if !value.string_list_values.is_empty() || !value.binary_list_values.is_empty() {
        // The list fields are reserved in the API and SQS does not accept them.
        return Err(Error::InvalidParameterValue(format!(
            "Message (user) attribute '{name}': list values are not supported."
        )));
    }
    match base {
        "Binary" => {
            if value.binary_value.as_ref().is_none_or(Vec::is_empty) {
                return Err(missing());
            }
        }
        _ => {
            let Some(string) = value.string_value.as_deref().filter(|s| !s.is_empty()) else {
                return Err(missing());
            };
            if !string.chars().all(is_allowed_message_char) {
                return Err(Error::InvalidParameterValue(INVALID_CHARACTERS.to_string()));
            }
            if base == "Number" && !is_number(string) {
                return Err(Error::InvalidParameterValue(format!(
                    "Could not cast message (user) attribute '{name}' value to number."
                )));
            }
        }
    }
    Ok(())
}

/// A decimal number as SQS accepts it: optional sign, digits, optional fraction and
/// exponent; no `NaN` or infinities.
fn is_number(text: &str) -> bool {
    let trimmed = text.trim();
    !trimmed.is_empty()
        && trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
        && trimmed.chars().any(|c| c.is_ascii_digit())
        && trimmed.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Message system attributes: SendMessage accepts only `AWSTraceHeader`, a String.
pub(crate) fn message_system_attributes(attributes: &MessageAttributes) -> Result<()> {
    for (name, value) in attributes {
        if name != "AWSTraceHeader" {
            return Err(Error::InvalidParameterValue(format!(
                "Message system attribute name '{name}' is invalid."
            )));
        }
        if value.data_type != "String" {
            return Err(Error::InvalidParameterValue(format!(
                "Message system attribute '{name}' must be of type String."
            )));
        }
        let Some(string) = value.string_value.as_deref().filter(|s| !s.is_empty()) else {
            return Err(Error::InvalidParameterValue(format!(
                "Message system attribute '{name}' must contain a non-empty value of message \
                 attribute type 'String'."
            )));
        };
        if !string.chars().all(is_allowed_message_char) {
            return Err(Error::InvalidParameterValue(INVALID_CHARACTERS.to_string()));
        }
    }
    Ok(())
}

/// `MessageGroupId`, `MessageDeduplicationId` and `ReceiveRequestAttemptId`: 1–128 of
/// alphanumeric and punctuation characters.
pub(crate) fn fifo_token(value: &str, parameter: &str) -> Result<()> {
    let valid = !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c.is_ascii_punctuation());
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidParameterValue(format!(
            "Value {value} for parameter {parameter} is invalid. Reason: {parameter} can only \
             include alphanumeric and punctuation characters. 1 to 128 in length."
        )))
    }
}

/// Whole-request checks shared by the three batch actions. `request_entry` names the
/// entry type in SQS's "empty" message, e.g. `SendMessageBatchRequestEntry`.
pub(crate) fn batch_entries<T>(entries: &[BatchEntry<T>], request_entry: &str) -> Result<()> {
    if entries.is_empty() {
        return Err(Error::EmptyBatchRequest(format!(
            "There should be at least one {request_entry} in the request."
        )));
    }
    if entries.len() > MAX_BATCH_ENTRIES {
        return Err(Error::TooManyEntriesInBatchRequest(format!(
            "Maximum number of entries per request are {MAX_BATCH_ENTRIES}. You have sent {}.",
            entries.len()
        )));
    }
    let mut seen = BTreeSet::new();
    for entry in entries {
        let id = entry.id.as_str();
        if id.is_empty() || id.len() > MAX_QUEUE_NAME_LEN || !id.chars().all(is_name_char) {
            return Err(Error::InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and \
                 underscores. It can be at most 80 letters long."
                    .to_string(),
            ));
        }
        if !seen.insert(id) {
            return Err(Error::BatchEntryIdsNotDistinct(format!(
                "Id {id} repeated."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_names_allow_only_word_characters_and_hyphens() {
        assert!(queue_name("orders-1_a", false).is_ok());
        assert!(queue_name(&"a".repeat(80), false).is_ok());
        assert!(queue_name(&"a".repeat(81), false).is_err());
        assert!(queue_name("orders.fifo", false).is_err());
        assert!(queue_name("a b", false).is_err());
    }

    #[test]
    fn fifo_suffix_counts_toward_the_name_limit() {
        assert!(queue_name(&format!("{}.fifo", "a".repeat(75)), true).is_ok());
        assert!(queue_name(&format!("{}.fifo", "a".repeat(76)), true).is_err());
        assert!(queue_name("orders", true).is_err());
        assert!(queue_name(".fifo", true).is_err());
    }

    #[test]
    fn message_body_rejects_characters_outside_the_xml_range() {
        assert!(message_body("hello\tworld\n").is_ok());
        assert!(message_body("emoji 😀").is_ok());
        assert!(matches!(
            message_body("bell \u{7}"),
            Err(Error::InvalidMessageContents(_))
        ));
        assert!(matches!(
            message_body("\u{FFFE}"),
            Err(Error::InvalidMessageContents(_))
        ));
        assert!(matches!(message_body(""), Err(Error::MissingParameter(_))));
    }

    #[test]
    fn number_attributes_must_parse() {
        assert!(is_number("12"));
        assert!(is_number("-1.5e3"));
        assert!(!is_number("NaN"));
        assert!(!is_number("inf"));
        assert!(!is_number("12abc"));
    }
}
