//! The engine's serialised per-message metadata (`NewMessage::meta`): message attributes,
//! system attributes, the sender and the digests, as compact JSON. Binary values are
//! base64 so that a 256 KiB binary attribute does not become a megabyte of JSON numbers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::types::{MessageAttributeValue, MessageAttributes};
use crate::{Error, Result};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct MessageMeta {
    #[serde(rename = "a", default, skip_serializing_if = "Vec::is_empty")]
    attributes: Vec<StoredAttribute>,
    #[serde(rename = "s", default, skip_serializing_if = "Vec::is_empty")]
    system_attributes: Vec<StoredAttribute>,
    #[serde(rename = "i", default)]
    pub sender_id: String,
    /// MD5OfBody, kept so a receive does not hash the body again.
    #[serde(rename = "mb", default, skip_serializing_if = "Option::is_none")]
    pub md5_of_body: Option<String>,
    #[serde(rename = "ma", default, skip_serializing_if = "Option::is_none")]
    pub md5_of_attributes: Option<String>,
    #[serde(rename = "ms", default, skip_serializing_if = "Option::is_none")]
    pub md5_of_system_attributes: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct StoredAttribute {
    #[serde(rename = "n")]
    name: String,
    #[serde(rename = "t")]
    data_type: String,
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    string: Option<String>,
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    binary: Option<String>,
}

impl StoredAttribute {
    fn from_value(name: &str, value: &MessageAttributeValue) -> StoredAttribute {
        StoredAttribute {
            name: name.to_string(),
            data_type: value.data_type.clone(),
            string: value.string_value.clone(),
            binary: value.binary_value.as_ref().map(|b| STANDARD.encode(b)),
        }
    }

    fn to_value(&self) -> (String, MessageAttributeValue) {
        let value = MessageAttributeValue {
            data_type: self.data_type.clone(),
            string_value: self.string.clone(),
            // The engine wrote this base64 itself; a value that no longer decodes is dropped
            // rather than failing the whole receive.
            binary_value: self.binary.as_ref().and_then(|b| STANDARD.decode(b).ok()),
            ..Default::default()
        };
        (self.name.clone(), value)
    }
}

impl MessageMeta {
    pub(crate) fn new(
        attributes: &MessageAttributes,
        system_attributes: &MessageAttributes,
        sender_id: &str,
        md5_of_body: String,
        md5_of_attributes: Option<String>,
        md5_of_system_attributes: Option<String>,
    ) -> MessageMeta {
        let store = |map: &MessageAttributes| {
            map.iter()
                .map(|(name, value)| StoredAttribute::from_value(name, value))
                .collect()
        };
        MessageMeta {
            attributes: store(attributes),
            system_attributes: store(system_attributes),
            sender_id: sender_id.to_string(),
            md5_of_body: Some(md5_of_body),
            md5_of_attributes,
            md5_of_system_attributes,
        }
    }

    pub(crate) fn encode(&self) -> String {
        // Serialising plain strings into JSON cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub(crate) fn decode(raw: &str) -> Result<MessageMeta> {
        if raw.is_empty() {
            return Ok(MessageMeta::default());
        }
        serde_json::from_str(raw)
            .map_err(|e| Error::Store(store::Error::Corrupt(format!("message metadata: {e}"))))
    }

    pub(crate) fn attributes(&self) -> MessageAttributes {
        self.attributes
            .iter()
            .map(StoredAttribute::to_value)
            .collect()
    }

    pub(crate) fn system_attributes(&self) -> MessageAttributes {
        self.system_attributes
            .iter()
            .map(StoredAttribute::to_value)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_binary_and_string_attributes() -> Result<()> {
        let mut attributes = MessageAttributes::new();
        attributes.insert(
            "bin".to_string(),
            MessageAttributeValue {
                data_type: "Binary".to_string(),
                binary_value: Some(vec![0, 1, 255]),
                ..Default::default()
            },
        );
        attributes.insert(
            "text".to_string(),
            MessageAttributeValue {
                data_type: "String.custom".to_string(),
                string_value: Some("hi".to_string()),
                ..Default::default()
            },
        );
        let meta = MessageMeta::new(
            &attributes,
            &MessageAttributes::new(),
            "AKID",
            "d41d8cd98f00b204e9800998ecf8427e".to_string(),
            None,
            None,
        );
        let decoded = MessageMeta::decode(&meta.encode())?;
        assert_eq!(decoded.attributes(), attributes);
        assert_eq!(decoded.sender_id, "AKID");
        assert_eq!(
            decoded.md5_of_body.as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        Ok(())
    }
}
