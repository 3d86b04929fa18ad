//! This node's handle on the SNS signing key pair: loaded (or created) once from the store,
//! then used to sign notifications and confirmations and to serve the certificate.
//!
//! Signing is an RSA private-key operation, about a millisecond of CPU; a publish signs
//! once per distinct message text (every subscription of a publish shares the string to
//! sign: the URLs that differ between subscriptions are not part of it).

use std::sync::Arc;

use super::records::TopicRecord;
use super::signing::{self, SigningKeys};
use crate::{Engine, Result};

/// `(SignatureVersion, Signature, SigningCertURL)`.
pub(crate) type SignatureFields = (String, String, String);

impl Engine {
    /// The key pair, loaded from the store (created there on first use).
    pub(crate) async fn signing_keys(&self) -> Result<Arc<SigningKeys>> {
        let keys = self
            .inner
            .sns
            .keys
            .get_or_try_init(|| async {
                SigningKeys::load_or_create(self.store())
                    .await
                    .map(Arc::new)
            })
            .await?;
        Ok(keys.clone())
    }

    /// Loads the key pair now, so the certificate can be served before the first publish.
    pub(crate) async fn load_signing_keys(&self) {
        if let Err(error) = self.signing_keys().await {
            tracing::warn!(%error, "cannot load the SNS signing key pair; will retry on first use");
        }
    }

    /// `<public url>/SimpleNotificationService-<hash>.pem`.
    fn signing_cert_url(&self, keys: &SigningKeys) -> String {
        format!("{}/{}", self.public_url(), keys.certificate_file_name())
    }

    /// Whether SQS envelopes and Lambda events get real signatures (`--sns-sign-envelopes`).
    /// Off by default: an RSA signature costs far more CPU than the rest of a publish, and
    /// subscribers verify HTTP deliveries, which are always signed. When off, the fields
    /// are present with an empty `Signature`, so parsers that expect them still work.
    pub fn set_sns_envelope_signing(&self, sign: bool) {
        self.inner
            .sns
            .sign_envelopes
            .store(sign, std::sync::atomic::Ordering::Relaxed);
    }

    /// The signature fields of an SQS envelope or Lambda event: real when envelope signing
    /// is on, else with an empty signature.
    pub(crate) async fn envelope_signature(
        &self,
        topic: &TopicRecord,
        message: &str,
        message_id: &str,
        subject: Option<&str>,
        timestamp: &str,
        topic_arn: &str,
    ) -> Result<Option<SignatureFields>> {
        if self
            .inner
            .sns
            .sign_envelopes
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            return self
                .sign_notification(topic, message, message_id, subject, timestamp, topic_arn)
                .await;
        }
        let keys = self.signing_keys().await?;
        Ok(Some((
            signature_version_of(topic).to_string(),
            String::new(),
            self.signing_cert_url(&keys),
        )))
    }

    /// The signature fields of a notification of `topic`, with its SignatureVersion.
    pub(crate) async fn sign_notification(
        &self,
        topic: &TopicRecord,
        message: &str,
        message_id: &str,
        subject: Option<&str>,
        timestamp: &str,
        topic_arn: &str,
    ) -> Result<Option<SignatureFields>> {
        let keys = self.signing_keys().await?;
        let version = signature_version_of(topic);
        let text = signing::notification_string_to_sign(
            message, message_id, subject, timestamp, topic_arn,
        );
        Ok(Some((
            version.to_string(),
            keys.sign(version, &text),
            self.signing_cert_url(&keys),
        )))
    }

    /// The signature fields of a SubscriptionConfirmation or UnsubscribeConfirmation.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn sign_confirmation(
        &self,
        topic: Option<&TopicRecord>,
        kind: &str,
        message: &str,
        message_id: &str,
        subscribe_url: &str,
        timestamp: &str,
        token: &str,
        topic_arn: &str,
    ) -> Result<SignatureFields> {
        let keys = self.signing_keys().await?;
        let version = topic.map_or("1", signature_version_of);
        let text = signing::confirmation_string_to_sign(
            kind,
            message,
            message_id,
            subscribe_url,
            timestamp,
            token,
            topic_arn,
        );
        Ok((
            version.to_string(),
            keys.sign(version, &text),
            self.signing_cert_url(&keys),
        ))
    }

    /// The PEM text of the signing certificate served at `/<file_name>`, when `file_name`
    /// is the name in this server's SigningCertURL.
    pub fn sns_signing_certificate(&self, file_name: &str) -> Option<String> {
        let keys = self.inner.sns.keys.get()?;
        (keys.certificate_file_name() == file_name).then(|| keys.certificate_pem().to_string())
    }
}

/// `"2"` for topics that ask for SHA256withRSA, else `"1"`.
fn signature_version_of(topic: &TopicRecord) -> &'static str {
    match topic.signature_version() {
        "2" => "2",
        _ => "1",
    }
}
