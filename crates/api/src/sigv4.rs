//! AWS Signature Version 4 verification, for the `Authorization` header and for
//! presigned query strings, following AWS's canonical-request rules for services other
//! than S3 (the raw request path is URI-encoded once more, as the SDKs do when signing);
//! and [`sign`], the same rules from the client's side, for eddy's own client commands.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::AccessKey;
use crate::error::{Error, Result};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The parts of a request a signature covers. `path` and `query` are as received
/// (still percent-encoded).
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// `AKID/20150830/us-east-1/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential<'a> {
    pub access_key_id: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl<'a> Credential<'a> {
    fn parse(text: &'a str) -> Option<Credential<'a>> {
        let mut parts = text.split('/');
        let credential = Credential {
            access_key_id: parts.next()?,
            date: parts.next()?,
            region: parts.next()?,
            service: parts.next()?,
        };
        (parts.next()? == "aws4_request" && parts.next().is_none()).then_some(credential)
    }

    fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// A signature found in a request, owned so it can outlive the decoded query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    credential: String,
    signed_headers: String,
    signature: String,
    amz_date: String,
    presigned: bool,
}

impl Authorization {
    pub fn credential(&self) -> Option<Credential<'_>> {
        Credential::parse(&self.credential)
    }
}

/// Who signed a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub access_key_id: Option<String>,
}

fn incomplete(message: &str) -> Error {
    Error::IncompleteSignature(message.to_string())
}

/// Reads the signature of a request: the `Authorization` header, else presigned
/// `X-Amz-*` query parameters. `Ok(None)` when the request is unsigned.
pub fn parse_authorization(request: &SignedRequest<'_>) -> Result<Option<Authorization>> {
    if let Some(header) = request.headers.get(http::header::AUTHORIZATION) {
        let header = header
            .to_str()
            .map_err(|_| incomplete("Authorization header is not valid ASCII."))?;
        let rest = header
            .strip_prefix(ALGORITHM)
            .ok_or_else(|| incomplete("Unsupported signing algorithm; use AWS4-HMAC-SHA256."))?;
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let part = part.trim();
            if let Some(value) = part.strip_prefix("Credential=") {
                credential = Some(value);
            } else if let Some(value) = part.strip_prefix("SignedHeaders=") {
                signed_headers = Some(value);
            } else if let Some(value) = part.strip_prefix("Signature=") {
                signature = Some(value);
            }
        }
        let (Some(credential), Some(signed_headers), Some(signature)) =
            (credential, signed_headers, signature)
        else {
            return Err(incomplete(
                "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
            ));
        };
        if Credential::parse(credential).is_none() {
            return Err(incomplete(
                "Credential should be scoped to a valid region and service.",
            ));
        }
        let amz_date = header_value(request.headers, "x-amz-date")
            .or_else(|| header_value(request.headers, "date"))
            .ok_or_else(|| incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."))?;
        return Ok(Some(Authorization {
            credential: credential.to_string(),
            signed_headers: signed_headers.to_string(),
            signature: signature.to_string(),
            amz_date: amz_date.to_string(),
            presigned: false,
        }));
    }
    let Some(query) = request.query else {
        return Ok(None);
    };
    let mut found: BTreeMap<&str, String> = BTreeMap::new();
    for (name, value) in query_pairs(query) {
        if name.starts_with("X-Amz-") {
            found.insert(name, percent_decode(value));
        }
    }
    let Some(credential) = found.remove("X-Amz-Credential") else {
        return Ok(None);
    };
    if found.get("X-Amz-Algorithm").map(String::as_str) != Some(ALGORITHM) {
        return Err(incomplete("X-Amz-Algorithm must be AWS4-HMAC-SHA256."));
    }
    let (Some(signed_headers), Some(signature), Some(amz_date)) = (
        found.remove("X-Amz-SignedHeaders"),
        found.remove("X-Amz-Signature"),
        found.remove("X-Amz-Date"),
    ) else {
        return Err(incomplete(
            "Presigned requests require X-Amz-Credential, X-Amz-SignedHeaders, X-Amz-Signature and X-Amz-Date.",
        ));
    };
    if Credential::parse(&credential).is_none() {
        return Err(incomplete(
            "Credential should be scoped to a valid region and service.",
        ));
    }
    Ok(Some(Authorization {
        credential,
        signed_headers,
        signature,
        amz_date,
        presigned: true,
    }))
}

/// The service a request's credential scope names (`sqs`, `sts`, …), for routing.
pub fn scope_service(request: &SignedRequest<'_>) -> Option<String> {
    let authorization = parse_authorization(request).ok()??;
    authorization.credential().map(|c| c.service.to_string())
}

/// Checks a request's signature against the configured keys. With no keys configured
/// every request is accepted in `default_account`, but the access key id is still read
/// (leniently) so SQS can report it as `SenderId`.
pub fn authenticate(
    request: &SignedRequest<'_>,
    keys: &BTreeMap<String, AccessKey>,
    default_account: &str,
) -> Result<Identity> {
    let authorization = parse_authorization(request);
    if keys.is_empty() {
        let access_key_id = authorization
            .ok()
            .flatten()
            .and_then(|a| a.credential().map(|c| c.access_key_id.to_string()));
        return Ok(Identity {
            account: default_account.to_string(),
            access_key_id,
        });
    }
    let authorization = authorization?.ok_or(Error::MissingAuthenticationToken)?;
    let credential = authorization
        .credential()
        .ok_or_else(|| incomplete("Credential should be scoped to a valid region and service."))?;
    let key = keys
        .get(credential.access_key_id)
        .ok_or(Error::InvalidClientTokenId)?;
    verify(request, &authorization, &key.secret_access_key)?;
    let account = if key.account.is_empty() {
        default_account.to_string()
    } else {
        key.account.clone()
    };
    Ok(Identity {
        account,
        access_key_id: Some(credential.access_key_id.to_string()),
    })
}

/// Recomputes the signature with `secret` and compares it in constant time.
pub fn verify(
    request: &SignedRequest<'_>,
    authorization: &Authorization,
    secret: &str,
) -> Result<()> {
    let credential = authorization
        .credential()
        .ok_or_else(|| incomplete("Credential should be scoped to a valid region and service."))?;
    let key = signing_key(
        secret,
        credential.date,
        credential.region,
        credential.service,
    );
    let payload_hashes: Vec<String> = match header_value(request.headers, "x-amz-content-sha256") {
        // A client-supplied hash is signed, but it must also be the body's: otherwise a
        // captured request could be replayed with another body.
        Some(hash) if hash != UNSIGNED_PAYLOAD => {
            if !hash.eq_ignore_ascii_case(&hex::encode(Sha256::digest(request.body))) {
                return Err(Error::SignatureDoesNotMatch);
            }
            vec![hash.to_string()]
        }
        Some(hash) => vec![hash.to_string()],
        None if authorization.presigned => {
            vec![
                hex::encode(Sha256::digest(request.body)),
                UNSIGNED_PAYLOAD.to_string(),
            ]
        }
        None => vec![hex::encode(Sha256::digest(request.body))],
    };
    for payload_hash in &payload_hashes {
        let canonical = canonical_request(
            request,
            &authorization.signed_headers,
            payload_hash,
            authorization.presigned,
        );
        let to_sign = string_to_sign(&authorization.amz_date, &credential.scope(), &canonical);
        let expected = hex::encode(hmac(&key, to_sign.as_bytes()));
        if constant_time_eq(expected.as_bytes(), authorization.signature.as_bytes()) {
            return Ok(());
        }
    }
    Err(Error::SignatureDoesNotMatch)
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_secret = format!("AWS4{secret}");
    let k_date = hmac(k_secret.as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn header_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// AWS's URI encoding: every byte but `A-Z a-z 0-9 - . _ ~` (and `/` when asked) as
/// `%XY` with upper-case hex.
pub fn uri_encode(input: &[u8], keep_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in input {
        if is_unreserved(byte) || (keep_slash && byte == b'/') {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[(byte >> 4) as usize] as char);
            out.push(HEX[(byte & 15) as usize] as char);
        }
    }
}

fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
}

/// Decodes `%XY` escapes (leaving `+` alone, as SigV4 clients encode spaces as `%20`);
/// invalid escapes are kept literally.
fn percent_decode_bytes(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let (Some(high), Some(low)) = (
                (bytes[index + 1] as char).to_digit(16),
                (bytes[index + 2] as char).to_digit(16),
            )
        {
            out.push((high * 16 + low) as u8);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    out
}

fn percent_decode(input: &str) -> String {
    String::from_utf8_lossy(&percent_decode_bytes(input)).into_owned()
}

/// Who signs a client request, and for which region and service.
#[derive(Debug, Clone, Copy)]
pub struct SigningCredentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    /// The service in the credential scope (`logs`, `lambda`, `sqs`...).
    pub service: &'a str,
}

/// Signs a client request in place: adds `x-amz-date` (`amz_date`, `YYYYMMDDTHHMMSSZ`),
/// `x-amz-content-sha256` and an `Authorization` header covering every header present.
/// `headers` must already hold `host` and whatever else is sent.
pub fn sign(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &mut HeaderMap,
    body: &[u8],
    credentials: &SigningCredentials<'_>,
    amz_date: &str,
) {
    let payload_hash = hex::encode(Sha256::digest(body));
    for (name, value) in [
        ("x-amz-date", amz_date),
        ("x-amz-content-sha256", payload_hash.as_str()),
    ] {
        if let Ok(value) = http::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    let mut names: Vec<&str> = headers.keys().map(http::HeaderName::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let signed_headers = names.join(";");
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let scope = format!(
        "{date}/{}/{}/aws4_request",
        credentials.region, credentials.service
    );
    let request = SignedRequest {
        method,
        path,
        query,
        headers,
        body,
    };
    let canonical = canonical_request(&request, &signed_headers, &payload_hash, false);
    let to_sign = string_to_sign(amz_date, &scope, &canonical);
    let key = signing_key(
        credentials.secret_access_key,
        date,
        credentials.region,
        credentials.service,
    );
    let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id
    );
    if let Ok(value) = http::HeaderValue::from_str(&authorization) {
        headers.insert(http::header::AUTHORIZATION, value);
    }
}

/// The canonical request: method, canonical URI, canonical query string, canonical
/// headers, signed header names and payload hash, one per line.
pub fn canonical_request(
    request: &SignedRequest<'_>,
    signed_headers: &str,
    payload_hash: &str,
    presigned: bool,
) -> String {
    let mut out =
        String::with_capacity(256 + request.path.len() + request.query.map_or(0, str::len));
    out.push_str(request.method);
    out.push('\n');
    if request.path.is_empty() {
        out.push('/');
    } else {
        uri_encode(request.path.as_bytes(), true, &mut out);
    }
    out.push('\n');

    let mut pairs: Vec<(String, String)> = request
        .query
        .map(|query| {
            query_pairs(query)
                .filter(|(name, _)| !(presigned && *name == "X-Amz-Signature"))
                .map(|(name, value)| {
                    let mut encoded_name = String::new();
                    uri_encode(&percent_decode_bytes(name), false, &mut encoded_name);
                    let mut encoded_value = String::new();
                    uri_encode(&percent_decode_bytes(value), false, &mut encoded_value);
                    (encoded_name, encoded_value)
                })
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out.push('\n');

    for name in signed_headers.split(';') {
        out.push_str(name);
        out.push(':');
        let mut first = true;
        for value in request.headers.get_all(name) {
            if !first {
                out.push(',');
            }
            first = false;
            // Trim, and collapse runs of spaces inside the value to one.
            let text = String::from_utf8_lossy(value.as_bytes());
            let mut previous_space = false;
            for c in text.trim().chars() {
                if c == ' ' {
                    if !previous_space {
                        out.push(' ');
                    }
                    previous_space = true;
                } else {
                    out.push(c);
                    previous_space = false;
                }
            }
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(signed_headers);
    out.push('\n');
    out.push_str(payload_hash);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http::HeaderValue;

    const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    /// Signs one request of the AWS SigV4 test suite (2015-08-30, us-east-1, `service`)
    /// and returns the hex signature.
    fn suite_signature(
        method: &str,
        path: &str,
        query: Option<&str>,
        extra_headers: &[(&str, &str)],
        body: &[u8],
        signed_headers: &str,
    ) -> String {
        let mut all = vec![
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ];
        all.extend_from_slice(extra_headers);
        let headers = headers(&all);
        let request = SignedRequest {
            method,
            path,
            query,
            headers: &headers,
            body,
        };
        let payload = hex::encode(Sha256::digest(body));
        let canonical = canonical_request(&request, signed_headers, &payload, false);
        let to_sign = string_to_sign(
            "20150830T123600Z",
            "20150830/us-east-1/service/aws4_request",
            &canonical,
        );
        let key = signing_key(SUITE_SECRET, "20150830", "us-east-1", "service");
        hex::encode(hmac(&key, to_sign.as_bytes()))
    }

    #[test]
    fn signed_client_requests_authenticate_and_tampering_is_caught() {
        let credentials = SigningCredentials {
            access_key_id: "AKIDCLIENT",
            secret_access_key: "client-secret",
            region: "us-east-1",
            service: "logs",
        };
        let mut headers = headers(&[
            ("host", "127.0.0.1:4566"),
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "Logs_20140328.FilterLogEvents"),
        ]);
        let body = br#"{"logGroupName":"/aws/lambda/f"}"#;
        sign(
            "POST",
            "/",
            None,
            &mut headers,
            body,
            &credentials,
            "20260131T123456Z",
        );
        let keys = BTreeMap::from([(
            "AKIDCLIENT".to_string(),
            AccessKey {
                secret_access_key: "client-secret".to_string(),
                account: "111111111111".to_string(),
            },
        )]);
        let request = |body: &'static [u8], headers: &HeaderMap| {
            authenticate(
                &SignedRequest {
                    method: "POST",
                    path: "/",
                    query: None,
                    headers,
                    body,
                },
                &keys,
                "000000000000",
            )
        };
        let identity = request(body, &headers).unwrap();
        assert_eq!(identity.account, "111111111111");
        // The signed x-amz-content-sha256 must be the body's: a replay with another body
        // fails even though the header still matches the signature.
        assert!(matches!(
            request(br#"{"logGroupName":"/aws/lambda/other"}"#, &headers),
            Err(Error::SignatureDoesNotMatch)
        ));
        assert_eq!(
            scope_service(&SignedRequest {
                method: "POST",
                path: "/",
                query: None,
                headers: &headers,
                body,
            })
            .as_deref(),
            Some("logs")
        );
        // Every header sent is signed: another target fails.
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("Logs_20140328.GetLogEvents"),
        );
        assert!(matches!(
            request(body, &headers),
            Err(Error::SignatureDoesNotMatch)
        ));
    }

    #[test]
    fn suite_get_vanilla() {
        assert_eq!(
            suite_signature("GET", "/", None, &[], b"", "host;x-amz-date"),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn suite_get_vanilla_canonical_request_is_exact() {
        let headers = headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ]);
        let request = SignedRequest {
            method: "GET",
            path: "/",
            query: None,
            headers: &headers,
            body: b"",
        };
        assert_eq!(
            canonical_request(
                &request,
                "host;x-amz-date",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                false
            ),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn suite_get_vanilla_query_order_key_case() {
        assert_eq!(
            suite_signature(
                "GET",
                "/",
                Some("Param2=value2&Param1=value1"),
                &[],
                b"",
                "host;x-amz-date"
            ),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn suite_get_unreserved() {
        assert_eq!(
            suite_signature(
                "GET",
                "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                None,
                &[],
                b"",
                "host;x-amz-date"
            ),
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"
        );
    }

    #[test]
    fn suite_get_utf8_path() {
        assert_eq!(
            suite_signature("GET", "/ሴ", None, &[], b"", "host;x-amz-date"),
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
        );
    }

    #[test]
    fn suite_get_vanilla_utf8_query() {
        assert_eq!(
            suite_signature(
                "GET",
                "/",
                Some("%E1%88%B4=bar"),
                &[],
                b"",
                "host;x-amz-date"
            ),
            "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"
        );
    }

    #[test]
    fn suite_post_vanilla_query_nonunreserved() {
        assert_eq!(
            suite_signature(
                "POST",
                "/",
                Some("%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D"),
                &[],
                b"",
                "host;x-amz-date"
            ),
            "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"
        );
    }

    #[test]
    fn suite_get_header_value_trim() {
        assert_eq!(
            suite_signature(
                "GET",
                "/",
                None,
                &[("my-header1", "value1"), ("my-header2", "\"a   b   c\"")],
                b"",
                "host;my-header1;my-header2;x-amz-date"
            ),
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
        );
    }

    #[test]
    fn suite_post_x_www_form_urlencoded() {
        assert_eq!(
            suite_signature(
                "POST",
                "/",
                None,
                &[("content-type", "application/x-www-form-urlencoded")],
                b"Param1=value1",
                "content-type;host;x-amz-date"
            ),
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        );
    }

    fn keys() -> BTreeMap<String, AccessKey> {
        [(
            "AKIAEDDYTEST".to_string(),
            AccessKey {
                secret_access_key: "eddy/secret+key".into(),
                account: "123456789012".into(),
            },
        )]
        .into()
    }

    /// Signed by botocore's `SigV4Auth` (secret `eddy/secret+key`, 2024-01-02T03:04:05Z).
    fn botocore_json_request() -> (HeaderMap, &'static [u8]) {
        let headers = headers(&[
            ("host", "localhost:4566"),
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "AmazonSQS.SendMessage"),
            ("x-amz-date", "20240102T030405Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAEDDYTEST/20240102/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=7e3c243c77255bc3965b59b41ccae6215c7c006faa6bd668963bd3762398c359",
            ),
        ]);
        (
            headers,
            br#"{"QueueUrl":"http://localhost:4566/000000000000/q1","MessageBody":"hi"}"#,
        )
    }

    #[test]
    fn accepts_request_signed_by_botocore() {
        let (headers, body) = botocore_json_request();
        let request = SignedRequest {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body,
        };
        let identity = authenticate(&request, &keys(), "000000000000").unwrap();
        assert_eq!(identity.account, "123456789012");
        assert_eq!(identity.access_key_id.as_deref(), Some("AKIAEDDYTEST"));
        assert_eq!(scope_service(&request).as_deref(), Some("sqs"));
    }

    #[test]
    fn rejects_tampered_body() {
        let (headers, _) = botocore_json_request();
        let request = SignedRequest {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body: br#"{"QueueUrl":"http://localhost:4566/000000000000/q1","MessageBody":"ho"}"#,
        };
        assert!(matches!(
            authenticate(&request, &keys(), "0"),
            Err(Error::SignatureDoesNotMatch)
        ));
    }

    #[test]
    fn rejects_wrong_secret_and_unknown_key() {
        let (headers, body) = botocore_json_request();
        let request = SignedRequest {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body,
        };
        let mut wrong = keys();
        if let Some(key) = wrong.get_mut("AKIAEDDYTEST") {
            key.secret_access_key = "other".into();
        }
        assert!(matches!(
            authenticate(&request, &wrong, "0"),
            Err(Error::SignatureDoesNotMatch)
        ));
        let other: BTreeMap<String, AccessKey> = [(
            "AKIAOTHER".to_string(),
            AccessKey {
                secret_access_key: "x".into(),
                account: "1".into(),
            },
        )]
        .into();
        assert!(matches!(
            authenticate(&request, &other, "0"),
            Err(Error::InvalidClientTokenId)
        ));
    }

    #[test]
    fn accepts_presigned_query_signed_by_botocore() {
        let headers = headers(&[("host", "localhost:4566")]);
        let request = SignedRequest {
            method: "GET",
            path: "/000000000000/q1",
            query: Some(
                "Action=GetQueueAttributes&Version=2012-11-05&AttributeName.1=All&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEDDYTEST%2F20240102%2Fus-east-1%2Fsqs%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=a5ecdd46a6399d3a2ef691d2e8cf5263140f8eb675634b597e93a42785b9a0e3",
            ),
            headers: &headers,
            body: b"",
        };
        let identity = authenticate(&request, &keys(), "0").unwrap();
        assert_eq!(identity.account, "123456789012");
        assert_eq!(scope_service(&request).as_deref(), Some("sqs"));
    }

    #[test]
    fn unsigned_request_needs_a_token_only_when_keys_are_configured() {
        let headers = headers(&[("host", "localhost")]);
        let request = SignedRequest {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body: b"",
        };
        assert!(matches!(
            authenticate(&request, &keys(), "0"),
            Err(Error::MissingAuthenticationToken)
        ));
        let identity = authenticate(&request, &BTreeMap::new(), "000000000000").unwrap();
        assert_eq!(identity.account, "000000000000");
        assert_eq!(identity.access_key_id, None);
    }

    #[test]
    fn open_mode_reads_the_access_key_id_without_checking() {
        let (headers, _) = botocore_json_request();
        let request = SignedRequest {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body: b"anything",
        };
        let identity = authenticate(&request, &BTreeMap::new(), "000000000000").unwrap();
        assert_eq!(identity.access_key_id.as_deref(), Some("AKIAEDDYTEST"));
        assert_eq!(identity.account, "000000000000");
    }

    #[test]
    fn malformed_authorization_is_incomplete_signature() {
        let headers = headers(&[
            ("host", "localhost"),
            ("x-amz-date", "20240102T030405Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAEDDYTEST/20240102",
            ),
        ]);
        let request = SignedRequest {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body: b"",
        };
        assert!(matches!(
            authenticate(&request, &keys(), "0"),
            Err(Error::IncompleteSignature(_))
        ));
    }
}
