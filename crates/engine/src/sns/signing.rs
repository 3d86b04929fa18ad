//! The key pair and certificate SNS messages are signed with, and AWS's strings to sign.
//!
//! AWS signs every notification and (un)subscribe confirmation it sends: SignatureVersion
//! "1" is SHA1withRSA, "2" is SHA256withRSA (both RSASSA-PKCS1-v1_5), the signature in
//! base64; subscribers verify it with the X.509 certificate at the message's
//! `SigningCertURL`. eddy does the same with its own self-signed certificate, which it
//! serves itself.
//!
//! The key pair is created once per store, on the first start, and kept there: it survives
//! restarts, and every node sharing a PostgreSQL store signs with the same key. Nodes that
//! start at once race to create it with a create-only write; the losers read back the
//! winner's key, so all of them end with one key.
//!
//! Stored as resource (`sns:system`, `sns-signing-key`, `default`): the document holds the
//! certificate PEM, the blob the private key as PKCS#8 PEM (blobs are never returned by the
//! listing calls, so the private key only leaves the store when asked for by name).

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use rsa::pkcs1v15::{Signature, SigningKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::sha2::{Digest, Sha256};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::{PrivateKey, PublicKey};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use store::{ResourceCondition, ResourceOutcome, ResourceRecord};
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::der::referenced::OwnedToRef;
use x509_cert::der::{DecodePem, Encode, EncodePem};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};

use crate::clock::{Clock, SystemClock};
use crate::{Error, Result};

/// The account the key is stored under: not a 12-digit account id, so no client can name it.
pub const SIGNING_KEY_ACCOUNT: &str = "sns:system";
/// The resource kind of the signing key.
pub const SIGNING_KEY_KIND: &str = "sns-signing-key";
/// The one signing key's resource key.
pub const SIGNING_KEY_NAME: &str = "default";

/// Size of the RSA modulus, as AWS's SNS certificates have.
const KEY_BITS: usize = 2048;
/// How long the certificate is valid: about ten years.
const CERTIFICATE_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);
/// notBefore is set this far in the past, so a subscriber whose clock is a little behind
/// the node that created the key still accepts the certificate.
const CERTIFICATE_BACKDATING: Duration = Duration::from_secs(24 * 60 * 60);
/// The certificate's subject (and issuer): the common name AWS's certificates carry, which
/// some verifiers check.
const CERTIFICATE_SUBJECT: &str = "CN=sns.amazonaws.com";

/// The key pair and certificate SNS messages are signed with.
pub struct SigningKeys {
    sha1_signer: SigningKey<Sha1>,
    sha256_signer: SigningKey<Sha256>,
    certificate_pem: String,
    certificate_file_name: String,
}

impl std::fmt::Debug for SigningKeys {
    // Never prints the private key.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SigningKeys")
            .field("certificate_file_name", &self.certificate_file_name)
            .finish_non_exhaustive()
    }
}

/// The document of the stored key resource.
#[derive(Debug, Serialize, Deserialize)]
struct StoredCertificate {
    certificate_pem: String,
}

impl SigningKeys {
    /// Loads the key pair from the store, or creates it (RSA 2048, a self-signed X.509
    /// certificate for CN `sns.amazonaws.com`, valid about ten years) and stores it.
    /// Several nodes starting at once end with one key: each writes only if no key is
    /// stored yet, and one that finds a key already there reads it back.
    pub async fn load_or_create(store: &store::Store) -> Result<SigningKeys> {
        if let Some(keys) = load(store).await? {
            return Ok(keys);
        }
        // Generating an RSA key takes a while of pure computation: keep it off the runtime's
        // worker threads.
        let created = tokio::task::spawn_blocking(create).await.map_err(|error| {
            creation_failure(format!("the key generation task failed: {error}"))
        })?;
        let (keys, private_key_pem) = created?;
        store_or_adopt(store, keys, private_key_pem).await
    }

    /// The certificate as PEM text (what eddy serves at the SigningCertURL).
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// Stable file name for the certificate:
    /// `SimpleNotificationService-<first 32 hex digits of sha256(certificate DER)>.pem`.
    pub fn certificate_file_name(&self) -> &str {
        &self.certificate_file_name
    }

    /// Base64 signature of `string_to_sign` for SignatureVersion "2" (SHA256withRSA) or
    /// "1" (SHA1withRSA; also for any other value, as "1" is SNS's default).
    pub fn sign(&self, signature_version: &str, string_to_sign: &str) -> String {
        let signature: std::result::Result<Signature, _> = match signature_version {
            "2" => self.sha256_signer.try_sign(string_to_sign.as_bytes()),
            _ => self.sha1_signer.try_sign(string_to_sign.as_bytes()),
        };
        match signature {
            Ok(signature) => base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
            // Only the operating system's random source (used to blind the private-key
            // operation) can fail here. A message must not be lost over it: it goes out with
            // an empty signature, which a subscriber that verifies rejects.
            Err(error) => {
                tracing::error!(%error, "signing an SNS message failed");
                String::new()
            }
        }
    }

    /// Keys for a private key and the certificate made for it; the certificate must hold the
    /// key's public half.
    fn from_parts(private_key: PrivateKey, certificate: &Certificate) -> Result<SigningKeys> {
        let certificate_public_key = public_key_of(certificate)?;
        if certificate_public_key != private_key.to_public_key() {
            return Err(corrupt(
                "the certificate does not hold the private key's public key".to_string(),
            ));
        }
        let certificate_pem = certificate
            .to_pem(LineEnding::LF)
            .map_err(|error| corrupt(format!("the certificate cannot be encoded: {error}")))?;
        let certificate_der = certificate
            .to_der()
            .map_err(|error| corrupt(format!("the certificate cannot be encoded: {error}")))?;
        let digest = hex::encode(Sha256::digest(&certificate_der));
        let certificate_file_name = format!("SimpleNotificationService-{}.pem", &digest[..32]);
        Ok(SigningKeys {
            sha1_signer: SigningKey::<Sha1>::new(private_key.clone()),
            sha256_signer: SigningKey::<Sha256>::new(private_key),
            certificate_pem,
            certificate_file_name,
        })
    }
}

/// AWS's string to sign for a `Notification`: for each present field, in this order,
/// `"<Name>\n<value>\n"`: Message, MessageId, Subject (only when there is one), Timestamp,
/// TopicArn, Type.
pub fn notification_string_to_sign(
    message: &str,
    message_id: &str,
    subject: Option<&str>,
    timestamp: &str,
    topic_arn: &str,
) -> String {
    let mut fields = vec![("Message", message), ("MessageId", message_id)];
    if let Some(subject) = subject {
        fields.push(("Subject", subject));
    }
    fields.extend([
        ("Timestamp", timestamp),
        ("TopicArn", topic_arn),
        ("Type", "Notification"),
    ]);
    join_fields(&fields)
}

/// AWS's string to sign for a `SubscriptionConfirmation` or `UnsubscribeConfirmation`
/// (`message_type`): Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type,
/// each as `"<Name>\n<value>\n"`.
pub fn confirmation_string_to_sign(
    message_type: &str,
    message: &str,
    message_id: &str,
    subscribe_url: &str,
    timestamp: &str,
    token: &str,
    topic_arn: &str,
) -> String {
    join_fields(&[
        ("Message", message),
        ("MessageId", message_id),
        ("SubscribeURL", subscribe_url),
        ("Timestamp", timestamp),
        ("Token", token),
        ("TopicArn", topic_arn),
        ("Type", message_type),
    ])
}

fn join_fields(fields: &[(&str, &str)]) -> String {
    let length = fields
        .iter()
        .map(|(name, value)| name.len() + value.len() + 2)
        .sum();
    let mut text = String::with_capacity(length);
    for (name, value) in fields {
        text.push_str(name);
        text.push('\n');
        text.push_str(value);
        text.push('\n');
    }
    text
}

/// Stores newly created `keys` unless a key is stored already; then returns that one, so
/// every node signs with the key that was stored first.
async fn store_or_adopt(
    store: &store::Store,
    keys: SigningKeys,
    private_key_pem: String,
) -> Result<SigningKeys> {
    let document = serde_json::to_string(&StoredCertificate {
        certificate_pem: keys.certificate_pem.clone(),
    })
    .map_err(|error| creation_failure(error.to_string()))?;
    let record = ResourceRecord {
        account: SIGNING_KEY_ACCOUNT.to_string(),
        kind: SIGNING_KEY_KIND.to_string(),
        key: SIGNING_KEY_NAME.to_string(),
        document,
        revision_id: uuid::Uuid::new_v4().to_string(),
        modified_at: SystemClock.now(),
    };
    // The document and the private key go in one commit, and only if no key is stored.
    match store
        .put_resource(
            record,
            Some(private_key_pem.into_bytes()),
            ResourceCondition::Absent,
        )
        .await?
    {
        ResourceOutcome::Done => Ok(keys),
        // Another node stored its key first: everyone signs with that one. Nothing deletes
        // the key, so it is there to read.
        ResourceOutcome::ConditionFailed => load(store).await?.ok_or_else(|| {
            corrupt("the key was stored by another node, then could not be read".to_string())
        }),
    }
}

/// The stored keys, if any.
async fn load(store: &store::Store) -> Result<Option<SigningKeys>> {
    let Some(record) = store
        .get_resource(SIGNING_KEY_ACCOUNT, SIGNING_KEY_KIND, SIGNING_KEY_NAME)
        .await?
    else {
        return Ok(None);
    };
    let stored: StoredCertificate = serde_json::from_str(&record.document)
        .map_err(|error| corrupt(format!("the stored document is not valid: {error}")))?;
    let private_key_pem = store
        .resource_blob(SIGNING_KEY_ACCOUNT, SIGNING_KEY_KIND, SIGNING_KEY_NAME)
        .await?
        .ok_or_else(|| corrupt("the private key is missing".to_string()))?;
    let private_key_pem = String::from_utf8(private_key_pem)
        .map_err(|_| corrupt("the private key is not PEM text".to_string()))?;
    let private_key = PrivateKey::from_pkcs8_pem(&private_key_pem)
        .map_err(|error| corrupt(format!("the private key cannot be read: {error}")))?;
    let certificate = Certificate::from_pem(stored.certificate_pem.as_bytes())
        .map_err(|error| corrupt(format!("the certificate cannot be read: {error}")))?;
    SigningKeys::from_parts(private_key, &certificate).map(Some)
}

/// A new key pair with its certificate, and the private key as PKCS#8 PEM to store.
fn create() -> Result<(SigningKeys, String)> {
    let private_key = PrivateKey::new(&mut getrandom::SysRng, KEY_BITS)
        .map_err(|error| creation_failure(format!("RSA key generation failed: {error}")))?;
    let private_key_pem = private_key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|error| creation_failure(format!("the private key cannot be encoded: {error}")))?
        .to_string();
    let certificate = self_signed_certificate(&private_key)?;
    let keys = SigningKeys::from_parts(private_key, &certificate)?;
    Ok((keys, private_key_pem))
}

/// A certificate for `private_key`'s public key, signed with it (SHA256withRSA).
fn self_signed_certificate(private_key: &PrivateKey) -> Result<Certificate> {
    let failure = |error: &dyn std::fmt::Display| {
        creation_failure(format!("the certificate cannot be built: {error}"))
    };
    let subject: Name = CERTIFICATE_SUBJECT
        .parse()
        .map_err(|error| failure(&error))?;
    let now = SystemTime::UNIX_EPOCH
        + Duration::from_millis(u64::try_from(SystemClock.now()).unwrap_or(0));
    let not_before = now
        .checked_sub(CERTIFICATE_BACKDATING)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let validity = Validity::new(
        Time::try_from(not_before).map_err(|error| failure(&error))?,
        Time::try_from(now + CERTIFICATE_LIFETIME).map_err(|error| failure(&error))?,
    );
    // A random positive serial of 16 bytes (RFC 5280 allows up to 20).
    let mut serial = *uuid::Uuid::new_v4().as_bytes();
    serial[0] &= 0x7f;
    let serial_number = SerialNumber::new(&serial).map_err(|error| failure(&error))?;
    let public_key_info = SubjectPublicKeyInfo::from_key(&private_key.to_public_key())
        .map_err(|error| failure(&error))?;
    let builder = CertificateBuilder::new(
        SigningCertificateProfile { subject },
        serial_number,
        validity,
        public_key_info,
    )
    .map_err(|error| failure(&error))?;
    let signer = SigningKey::<Sha256>::new(private_key.clone());
    builder
        .build::<_, Signature>(&signer)
        .map_err(|error| failure(&error))
}

/// A self-signed end-entity certificate for signing: not a CA, key usage digital signature
/// only.
struct SigningCertificateProfile {
    subject: Name,
}

impl BuilderProfile for SigningCertificateProfile {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        subject_public_key: SubjectPublicKeyInfoRef<'_>,
        _issuer_public_key: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        // Each extension is made knowing the ones before it (criticality may depend on them).
        let mut extensions = vec![
            BasicConstraints {
                ca: false,
                path_len_constraint: None,
            }
            .to_extension(tbs.subject(), &[])?,
        ];
        extensions.push(
            KeyUsage(KeyUsages::DigitalSignature.into())
                .to_extension(tbs.subject(), &extensions)?,
        );
        extensions.push(
            SubjectKeyIdentifier::try_from(subject_public_key)?
                .to_extension(tbs.subject(), &extensions)?,
        );
        Ok(extensions)
    }
}

/// The RSA public key a certificate holds.
fn public_key_of(certificate: &Certificate) -> Result<PublicKey> {
    PublicKey::try_from(
        certificate
            .tbs_certificate()
            .subject_public_key_info()
            .owned_to_ref(),
    )
    .map_err(|error| corrupt(format!("the certificate holds no RSA public key: {error}")))
}

/// The stored key cannot be used.
fn corrupt(detail: String) -> Error {
    Error::Store(store::Error::Corrupt(format!("SNS signing key: {detail}")))
}

/// A new key could not be made. That can only come from the operating system (its random
/// source failing, the blocking task pool shutting down): reported as an I/O failure, which
/// the api answers as an internal error and logs.
fn creation_failure(detail: String) -> Error {
    Error::Store(store::Error::Io(std::io::Error::other(format!(
        "creating the SNS signing key: {detail}"
    ))))
}

#[cfg(test)]
mod tests {
    use rsa::pkcs1v15::VerifyingKey;
    use rsa::signature::Verifier;
    use rsa::traits::PublicKeyParts;

    use super::*;

    type TestResult<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

    async fn test_store(dir: &std::path::Path) -> store::Result<store::Store> {
        store::testing::open_test_store(dir).await
    }

    /// Verifies `signature` (base64) of `text` with the public key of `certificate_pem`,
    /// parsed back from the PEM as a subscriber would.
    fn verify(
        certificate_pem: &str,
        signature_version: &str,
        text: &str,
        signature: &str,
    ) -> TestResult {
        let certificate = Certificate::from_pem(certificate_pem.as_bytes())?;
        let public_key = PublicKey::try_from(
            certificate
                .tbs_certificate()
                .subject_public_key_info()
                .owned_to_ref(),
        )?;
        let signature = Signature::try_from(
            base64::engine::general_purpose::STANDARD
                .decode(signature)?
                .as_slice(),
        )?;
        match signature_version {
            "2" => VerifyingKey::<Sha256>::new(public_key).verify(text.as_bytes(), &signature)?,
            _ => VerifyingKey::<Sha1>::new(public_key).verify(text.as_bytes(), &signature)?,
        }
        Ok(())
    }

    #[tokio::test]
    async fn key_is_created_once_then_loaded_identically() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = test_store(dir.path()).await?;
        let created = SigningKeys::load_or_create(&store).await?;
        let loaded = SigningKeys::load_or_create(&store).await?;
        assert_eq!(created.certificate_pem(), loaded.certificate_pem());
        assert_eq!(
            created.certificate_file_name(),
            loaded.certificate_file_name()
        );
        // PKCS#1 v1.5 signatures are deterministic: the same key gives the same signature.
        let text = notification_string_to_sign("hello", "id-1", None, "t", "arn");
        assert_eq!(created.sign("1", &text), loaded.sign("1", &text));
        assert_eq!(created.sign("2", &text), loaded.sign("2", &text));
        Ok(())
    }

    /// Opens the store at `url` (from `store::testing::test_store_url`); a SQLite directory
    /// just closed may take a moment to be let go of by its writer.
    async fn open_store_url(url: &str) -> TestResult<store::Store> {
        for _ in 0..100 {
            match store::open(url).await {
                Err(store::Error::AlreadyOpen(_)) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                opened => return Ok(opened?),
            }
        }
        Err(format!("{url} stayed in use").into())
    }

    #[tokio::test]
    async fn key_survives_reopening_the_store() -> TestResult {
        let dir = tempfile::tempdir()?;
        let url = store::testing::test_store_url(dir.path()).await?;
        let first = {
            let store = open_store_url(&url).await?;
            SigningKeys::load_or_create(&store).await?
        };
        let store = open_store_url(&url).await?;
        let second = SigningKeys::load_or_create(&store).await?;
        assert_eq!(first.certificate_pem(), second.certificate_pem());
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_load_or_create_agree_on_one_key() -> TestResult {
        let dir = tempfile::tempdir()?;
        let url = store::testing::test_store_url(dir.path()).await?;
        let first_node = open_store_url(&url).await?;
        // Two nodes with their own connections on PostgreSQL; SQLite has one writer per
        // directory, so there the two callers share one handle.
        let second_node = match store::testing::requested_backend()? {
            store::testing::TestBackend::Postgres => open_store_url(&url).await?,
            store::testing::TestBackend::Sqlite => first_node.clone(),
        };
        let first = tokio::spawn({
            let store = first_node.clone();
            async move { SigningKeys::load_or_create(&store).await }
        });
        let second = tokio::spawn(async move { SigningKeys::load_or_create(&second_node).await });
        let (first, second) = (first.await??, second.await??);
        assert_eq!(first.certificate_pem(), second.certificate_pem());
        let stored = SigningKeys::load_or_create(&first_node).await?;
        assert_eq!(first.certificate_pem(), stored.certificate_pem());
        let text = "Message\nhi\n";
        assert_eq!(first.sign("2", text), second.sign("2", text));
        Ok(())
    }

    #[tokio::test]
    async fn node_that_loses_the_race_adopts_the_stored_key() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = test_store(dir.path()).await?;
        // This node found no key and made one, but another stored its key meanwhile.
        let (own_keys, own_private_key_pem) = create()?;
        let winner = SigningKeys::load_or_create(&store).await?;
        assert_ne!(own_keys.certificate_pem(), winner.certificate_pem());
        let adopted = store_or_adopt(&store, own_keys, own_private_key_pem).await?;
        assert_eq!(adopted.certificate_pem(), winner.certificate_pem());
        let text = "Message\nhi\n";
        assert_eq!(adopted.sign("1", text), winner.sign("1", text));
        Ok(())
    }

    #[tokio::test]
    async fn signatures_verify_with_the_certificate_public_key() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = test_store(dir.path()).await?;
        let keys = SigningKeys::load_or_create(&store).await?;
        let text = notification_string_to_sign(
            "hello",
            "5f1a7b2c-0000-4000-8000-000000000000",
            Some("greeting"),
            "2026-01-31T12:00:00.123Z",
            "arn:aws:sns:us-east-1:000000000000:alerts",
        );
        for version in ["1", "2"] {
            verify(
                keys.certificate_pem(),
                version,
                &text,
                &keys.sign(version, &text),
            )?;
        }
        // Version "1" is SHA-1, "2" SHA-256: each fails under the other's digest.
        assert!(verify(keys.certificate_pem(), "2", &text, &keys.sign("1", &text)).is_err());
        assert!(verify(keys.certificate_pem(), "1", &text, &keys.sign("2", &text)).is_err());
        // A changed text does not verify.
        assert!(verify(keys.certificate_pem(), "2", "other", &keys.sign("2", &text)).is_err());
        Ok(())
    }

    #[tokio::test]
    async fn unknown_signature_version_signs_as_version_1() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = test_store(dir.path()).await?;
        let keys = SigningKeys::load_or_create(&store).await?;
        let text = "Message\nhi\n";
        assert_eq!(keys.sign("3", text), keys.sign("1", text));
        assert_eq!(keys.sign("", text), keys.sign("1", text));
        verify(keys.certificate_pem(), "1", text, &keys.sign("3", text))?;
        Ok(())
    }

    #[tokio::test]
    async fn certificate_is_a_self_signed_signing_certificate() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = test_store(dir.path()).await?;
        let keys = SigningKeys::load_or_create(&store).await?;
        let certificate = Certificate::from_pem(keys.certificate_pem().as_bytes())?;
        let tbs = certificate.tbs_certificate();
        assert_eq!(tbs.subject().to_string(), "CN=sns.amazonaws.com");
        assert_eq!(tbs.issuer(), tbs.subject());
        let not_before = tbs.validity().not_before.to_system_time();
        let not_after = tbs.validity().not_after.to_system_time();
        let lifetime = not_after.duration_since(not_before)?;
        assert!(lifetime > Duration::from_secs(9 * 365 * 24 * 60 * 60));
        // Its own public key verifies its signature (SHA256withRSA over the TBS part).
        let public_key = public_key_of(&certificate)?;
        let signature = Signature::try_from(certificate.signature().raw_bytes())?;
        VerifyingKey::<Sha256>::new(public_key).verify(&tbs.to_der()?, &signature)?;
        assert_eq!(public_key_of(&certificate)?.size() * 8, KEY_BITS);
        Ok(())
    }

    #[tokio::test]
    async fn certificate_file_name_is_the_sha256_of_the_der() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = test_store(dir.path()).await?;
        let keys = SigningKeys::load_or_create(&store).await?;
        let der = Certificate::from_pem(keys.certificate_pem().as_bytes())?.to_der()?;
        let expected = format!(
            "SimpleNotificationService-{}.pem",
            &hex::encode(Sha256::digest(&der))[..32]
        );
        assert_eq!(keys.certificate_file_name(), expected);
        assert!(
            keys.certificate_pem()
                .starts_with("-----BEGIN CERTIFICATE-----\n")
        );
        Ok(())
    }

    #[tokio::test]
    async fn private_key_is_stored_in_the_blob_and_the_certificate_in_the_document() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = test_store(dir.path()).await?;
        let keys = SigningKeys::load_or_create(&store).await?;
        let record = store
            .get_resource(SIGNING_KEY_ACCOUNT, SIGNING_KEY_KIND, SIGNING_KEY_NAME)
            .await?
            .ok_or("no key stored")?;
        let stored: StoredCertificate = serde_json::from_str(&record.document)?;
        assert_eq!(stored.certificate_pem, keys.certificate_pem());
        assert!(!record.document.contains("PRIVATE KEY"));
        let blob = store
            .resource_blob(SIGNING_KEY_ACCOUNT, SIGNING_KEY_KIND, SIGNING_KEY_NAME)
            .await?
            .ok_or("no private key stored")?;
        assert!(String::from_utf8(blob)?.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        Ok(())
    }

    #[tokio::test]
    async fn stored_key_that_does_not_match_its_certificate_is_refused() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = test_store(dir.path()).await?;
        SigningKeys::load_or_create(&store).await?;
        let record = store
            .get_resource(SIGNING_KEY_ACCOUNT, SIGNING_KEY_KIND, SIGNING_KEY_NAME)
            .await?
            .ok_or("no key stored")?;
        // Another key's private half under this certificate.
        let (_, other_private_key_pem) = create()?;
        store
            .put_resource(
                record,
                Some(other_private_key_pem.into_bytes()),
                ResourceCondition::Any,
            )
            .await?;
        let error = SigningKeys::load_or_create(&store)
            .await
            .err()
            .ok_or("a mismatched key was accepted")?;
        assert!(
            matches!(error, Error::Store(store::Error::Corrupt(_))),
            "{error:?}"
        );
        Ok(())
    }

    #[test]
    fn notification_string_to_sign_without_subject() {
        assert_eq!(
            notification_string_to_sign(
                "hello",
                "id-1",
                None,
                "2026-01-31T12:00:00.123Z",
                "arn:aws:sns:us-east-1:000000000000:alerts",
            ),
            "Message\nhello\n\
             MessageId\nid-1\n\
             Timestamp\n2026-01-31T12:00:00.123Z\n\
             TopicArn\narn:aws:sns:us-east-1:000000000000:alerts\n\
             Type\nNotification\n"
        );
    }

    #[test]
    fn notification_string_to_sign_with_subject() {
        assert_eq!(
            notification_string_to_sign(
                "line one\nline two",
                "id-1",
                Some("greeting"),
                "2026-01-31T12:00:00.123Z",
                "arn:aws:sns:us-east-1:000000000000:alerts",
            ),
            "Message\nline one\nline two\n\
             MessageId\nid-1\n\
             Subject\ngreeting\n\
             Timestamp\n2026-01-31T12:00:00.123Z\n\
             TopicArn\narn:aws:sns:us-east-1:000000000000:alerts\n\
             Type\nNotification\n"
        );
    }

    #[test]
    fn confirmation_string_to_sign_lists_its_fields_in_order() {
        let subscribe_url =
            "http://127.0.0.1:4566/?Action=ConfirmSubscription&TopicArn=arn&Token=tok";
        for message_type in ["SubscriptionConfirmation", "UnsubscribeConfirmation"] {
            assert_eq!(
                confirmation_string_to_sign(
                    message_type,
                    "You have chosen to subscribe",
                    "id-2",
                    subscribe_url,
                    "2026-01-31T12:00:00.123Z",
                    "tok",
                    "arn:aws:sns:us-east-1:000000000000:alerts",
                ),
                format!(
                    "Message\nYou have chosen to subscribe\n\
                     MessageId\nid-2\n\
                     SubscribeURL\n{subscribe_url}\n\
                     Timestamp\n2026-01-31T12:00:00.123Z\n\
                     Token\ntok\n\
                     TopicArn\narn:aws:sns:us-east-1:000000000000:alerts\n\
                     Type\n{message_type}\n"
                )
            );
        }
    }
}
