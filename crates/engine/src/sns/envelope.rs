//! The JSON SNS delivers, exactly as AWS writes it: the notification envelope (SQS bodies
//! and HTTP POST bodies), the Lambda event, and the confirmation messages of HTTP
//! subscriptions. Field order is AWS's; struct fields serialise in declaration order.

use serde::Serialize;

use super::types::SnsMessageAttributes;
use base64::Engine as _;

/// One message attribute as the envelope shows it: `{"Type":"String","Value":"v"}`
/// (binary values base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct EnvelopeAttribute {
    #[serde(rename = "Type")]
    pub data_type: String,
    #[serde(rename = "Value")]
    pub value: String,
}

pub(crate) type EnvelopeAttributes = std::collections::BTreeMap<String, EnvelopeAttribute>;

/// The envelope form of a Publish's message attributes.
pub(crate) fn envelope_attributes(attributes: &SnsMessageAttributes) -> EnvelopeAttributes {
    attributes
        .iter()
        .map(|(name, value)| {
            let text = match (&value.string_value, &value.binary_value) {
                (Some(text), _) => text.clone(),
                (None, Some(bytes)) => base64::engine::general_purpose::STANDARD.encode(bytes),
                (None, None) => String::new(),
            };
            (
                name.clone(),
                EnvelopeAttribute {
                    data_type: value.data_type.clone(),
                    value: text,
                },
            )
        })
        .collect()
}

/// What every delivery of one published message shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notification<'a> {
    pub message_id: &'a str,
    /// FIFO topics: the topic's 20-digit sequence number.
    pub sequence_number: Option<&'a str>,
    pub topic_arn: &'a str,
    pub subject: Option<&'a str>,
    pub message: &'a str,
    pub timestamp: &'a str,
    /// `(SignatureVersion, Signature, SigningCertURL)`; `None` on FIFO topics, whose
    /// envelopes carry no signature.
    pub signature: Option<(&'a str, &'a str, &'a str)>,
    pub unsubscribe_url: &'a str,
    pub attributes: &'a EnvelopeAttributes,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EnvelopeJson<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    message_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence_number: Option<&'a str>,
    topic_arn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    message: &'a str,
    timestamp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<&'a str>,
    #[serde(rename = "SigningCertURL", skip_serializing_if = "Option::is_none")]
    signing_cert_url: Option<&'a str>,
    #[serde(rename = "UnsubscribeURL")]
    unsubscribe_url: &'a str,
    #[serde(skip_serializing_if = "EnvelopeAttributes::is_empty")]
    message_attributes: &'a EnvelopeAttributes,
}

/// The body SQS (non-raw) and HTTP subscriptions get.
pub(crate) fn envelope_json(notification: &Notification<'_>) -> String {
    let json = EnvelopeJson {
        kind: "Notification",
        message_id: notification.message_id,
        sequence_number: notification.sequence_number,
        topic_arn: notification.topic_arn,
        subject: notification.subject,
        message: notification.message,
        timestamp: notification.timestamp,
        signature_version: notification.signature.map(|s| s.0),
        signature: notification.signature.map(|s| s.1),
        signing_cert_url: notification.signature.map(|s| s.2),
        unsubscribe_url: notification.unsubscribe_url,
        message_attributes: notification.attributes,
    };
    // Serialising plain strings and maps of strings cannot fail.
    serde_json::to_string(&json).unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LambdaSns<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    message_id: &'a str,
    topic_arn: &'a str,
    subject: Option<&'a str>,
    message: &'a str,
    timestamp: &'a str,
    signature_version: &'a str,
    signature: &'a str,
    signing_cert_url: &'a str,
    unsubscribe_url: &'a str,
    message_attributes: &'a EnvelopeAttributes,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LambdaRecord<'a> {
    event_source: &'static str,
    event_version: &'static str,
    event_subscription_arn: &'a str,
    sns: LambdaSns<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LambdaEvent<'a> {
    records: [LambdaRecord<'a>; 1],
}

/// The event a function subscribed to a topic is invoked with (one record). Note the
/// keys `SigningCertUrl`/`UnsubscribeUrl`, `Subject: null` and `MessageAttributes`
/// always present, unlike the envelope.
pub(crate) fn lambda_event(notification: &Notification<'_>, subscription_arn: &str) -> String {
    let (version, signature, cert) = notification.signature.unwrap_or(("1", "", ""));
    let event = LambdaEvent {
        records: [LambdaRecord {
            event_source: "aws:sns",
            event_version: "1.0",
            event_subscription_arn: subscription_arn,
            sns: LambdaSns {
                kind: "Notification",
                message_id: notification.message_id,
                topic_arn: notification.topic_arn,
                subject: notification.subject,
                message: notification.message,
                timestamp: notification.timestamp,
                signature_version: version,
                signature,
                signing_cert_url: cert,
                unsubscribe_url: notification.unsubscribe_url,
                message_attributes: notification.attributes,
            },
        }],
    };
    serde_json::to_string(&event).unwrap_or_default()
}

/// A SubscriptionConfirmation or UnsubscribeConfirmation for an HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ConfirmationJson<'a> {
    #[serde(rename = "Type")]
    pub kind: &'a str,
    pub message_id: &'a str,
    pub token: &'a str,
    pub topic_arn: &'a str,
    pub message: &'a str,
    #[serde(rename = "SubscribeURL")]
    pub subscribe_url: &'a str,
    pub timestamp: &'a str,
    pub signature_version: &'a str,
    pub signature: &'a str,
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: &'a str,
}

pub(crate) fn confirmation_json(confirmation: &ConfirmationJson<'_>) -> String {
    serde_json::to_string(confirmation).unwrap_or_default()
}

/// `2026-01-31T12:00:00.123Z`.
pub(crate) fn iso_timestamp(millis: store::Millis) -> String {
    let seconds = millis.div_euclid(1000);
    let millis = millis.rem_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// Howard Hinnant's days-to-civil conversion (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'a>(attributes: &'a EnvelopeAttributes) -> Notification<'a> {
        Notification {
            message_id: "m-1",
            sequence_number: None,
            topic_arn: "arn:aws:sns:us-east-1:000000000000:t",
            subject: None,
            message: "hello",
            timestamp: "2026-01-31T12:00:00.123Z",
            signature: Some(("1", "c2ln", "http://h/SimpleNotificationService-x.pem")),
            unsubscribe_url: "http://h/?Action=Unsubscribe",
            attributes,
        }
    }

    #[test]
    fn envelope_keeps_aws_field_order_and_omits_empty_attributes() {
        let attributes = EnvelopeAttributes::new();
        let json = envelope_json(&sample(&attributes));
        assert_eq!(
            json,
            "{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"TopicArn\":\"arn:aws:sns:us-east-1:000000000000:t\",\
             \"Message\":\"hello\",\"Timestamp\":\"2026-01-31T12:00:00.123Z\",\"SignatureVersion\":\"1\",\
             \"Signature\":\"c2ln\",\"SigningCertURL\":\"http://h/SimpleNotificationService-x.pem\",\
             \"UnsubscribeURL\":\"http://h/?Action=Unsubscribe\"}"
        );
    }

    #[test]
    fn lambda_event_has_null_subject_and_empty_attributes() -> Result<(), serde_json::Error> {
        let attributes = EnvelopeAttributes::new();
        let event: serde_json::Value =
            serde_json::from_str(&lambda_event(&sample(&attributes), "arn:sub"))?;
        let sns = &event["Records"][0]["Sns"];
        assert_eq!(event["Records"][0]["EventSource"], "aws:sns");
        assert!(sns["Subject"].is_null());
        assert_eq!(sns["MessageAttributes"], serde_json::json!({}));
        assert_eq!(
            sns["SigningCertUrl"],
            "http://h/SimpleNotificationService-x.pem"
        );
        Ok(())
    }

    #[test]
    fn timestamps_are_iso_with_milliseconds() {
        assert_eq!(iso_timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_timestamp(1_769_860_800_123), "2026-01-31T12:00:00.123Z");
    }
}
