//! Receipt handles: an opaque encoding of (queue id, message sequence, receive nonce) with a
//! checksum, so garbage and handles of other queues are recognised without a lookup.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use store::{QueueId, Receipt};

use crate::Error;

const VERSION: u8 = 1;
/// version + queue id + sequence + nonce.
const PAYLOAD_LEN: usize = 1 + 8 + 8 + 8;
const CHECK_LEN: usize = 8;
/// Mixed into the checksum so that a handle is not merely "any 33 bytes with a hash".
const CHECK_DOMAIN: &[u8] = b"eddy.sqs.receipt.v1";

/// Encodes the handle a client gets for one receive of one message.
pub(crate) fn encode(queue: QueueId, receipt: Receipt) -> String {
    let mut bytes = Vec::with_capacity(PAYLOAD_LEN + CHECK_LEN);
    bytes.push(VERSION);
    bytes.extend_from_slice(&queue.to_be_bytes());
    bytes.extend_from_slice(&receipt.sequence.to_be_bytes());
    bytes.extend_from_slice(&receipt.nonce.to_be_bytes());
    let check = checksum(&bytes);
    bytes.extend_from_slice(&check);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a handle given for `queue`; anything else (garbage, a handle of another queue)
/// is `ReceiptHandleIsInvalid`, with SQS's message.
pub(crate) fn decode(queue: QueueId, handle: &str) -> Result<Receipt, Error> {
    decode_any(handle)
        .filter(|(owner, _)| *owner == queue)
        .map(|(_, receipt)| receipt)
        .ok_or_else(|| invalid_handle(handle))
}

pub(crate) fn invalid_handle(handle: &str) -> Error {
    Error::ReceiptHandleIsInvalid(format!(
        "The input receipt handle \"{handle}\" is not a valid receipt handle."
    ))
}

fn decode_any(handle: &str) -> Option<(QueueId, Receipt)> {
    let bytes = URL_SAFE_NO_PAD.decode(handle.as_bytes()).ok()?;
    if bytes.len() != PAYLOAD_LEN + CHECK_LEN || bytes.first() != Some(&VERSION) {
        return None;
    }
    let (payload, check) = bytes.split_at(PAYLOAD_LEN);
    if checksum(payload) != check {
        return None;
    }
    let field = |offset: usize| -> Option<i64> {
        let slice: [u8; 8] = payload.get(offset..offset + 8)?.try_into().ok()?;
        Some(i64::from_be_bytes(slice))
    };
    let queue = field(1)?;
    let sequence = field(9)?;
    let nonce = field(17)?;
    Some((queue, Receipt { sequence, nonce }))
}

fn checksum(payload: &[u8]) -> [u8; CHECK_LEN] {
    let mut hasher = Sha256::new();
    hasher.update(CHECK_DOMAIN);
    hasher.update(payload);
    let digest = hasher.finalize();
    let mut check = [0u8; CHECK_LEN];
    check.copy_from_slice(&digest[..CHECK_LEN]);
    check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_round_trips_for_its_own_queue() {
        let receipt = Receipt {
            sequence: 42,
            nonce: -7,
        };
        let handle = encode(3, receipt);
        assert_eq!(decode(3, &handle).ok(), Some(receipt));
    }

    #[test]
    fn a_handle_of_another_queue_is_invalid() {
        let handle = encode(
            3,
            Receipt {
                sequence: 1,
                nonce: 1,
            },
        );
        assert!(matches!(
            decode(4, &handle),
            Err(Error::ReceiptHandleIsInvalid(_))
        ));
    }

    #[test]
    fn garbage_and_tampered_handles_are_invalid() {
        assert!(decode(1, "garbage").is_err());
        assert!(decode(1, "").is_err());
        let mut handle = encode(
            1,
            Receipt {
                sequence: 5,
                nonce: 9,
            },
        );
        handle.replace_range(4..5, if &handle[4..5] == "A" { "B" } else { "A" });
        assert!(decode(1, &handle).is_err());
    }

    #[test]
    fn invalid_handle_message_quotes_the_handle() {
        let message = invalid_handle("xyz").to_string();
        assert_eq!(
            message,
            "The input receipt handle \"xyz\" is not a valid receipt handle."
        );
    }
}
