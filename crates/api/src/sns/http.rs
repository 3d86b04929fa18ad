//! The HTTP client SNS notifications are POSTed with: hyper's pooled client over plain TCP
//! for `http://` endpoints and rustls (ring, the Mozilla root certificates) for `https://`.
//! The engine knows no HTTP library; the server installs this as `SnsPlatform::http`.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// How much of an endpoint's answer is read (and thrown away) so the connection can be
/// reused; larger answers are cut off.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Sends SNS's HTTP/HTTPS notifications.
#[derive(Debug, Clone)]
pub struct HttpNotifier {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Default for HttpNotifier {
    fn default() -> HttpNotifier {
        HttpNotifier::new()
    }
}

impl HttpNotifier {
    pub fn new() -> HttpNotifier {
        // The provider is named, not taken from the process default: other crates in the
        // build may enable rustls's aws-lc-rs provider too, and then there is no default.
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls_ring_provider())
            .expect("rustls's ring provider supports the default TLS versions")
            .https_or_http()
            .enable_http1()
            .build();
        HttpNotifier {
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    async fn send(
        &self,
        url: &str,
        headers: Vec<(String, String)>,
        body: String,
    ) -> Result<u16, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|error| format!("invalid endpoint URL {url}: {error}"))?;
        let mut request = http::Request::post(uri)
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| format!("cannot build the request: {error}"))?;
        for (name, value) in headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|error| format!("invalid header name {name}: {error}"))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|error| format!("invalid value of header {name}: {error}"))?;
            request.headers_mut().append(name, value);
        }
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| describe(&error))?;
        let status = response.status().as_u16();
        // Drain what the endpoint answered so the pooled connection can serve the next POST.
        let _ = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await;
        Ok(status)
    }
}

fn rustls_ring_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}

/// The error and its causes on one line (hyper's top-level message alone says little).
fn describe(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[async_trait::async_trait]
impl engine::sns::HttpNotifier for HttpNotifier {
    async fn post(
        &self,
        url: &str,
        headers: Vec<(String, String)>,
        body: String,
        timeout: Duration,
    ) -> Result<u16, String> {
        match tokio::time::timeout(timeout, self.send(url, headers, body)).await {
            Ok(result) => result,
            Err(_) => Err(format!("no response within {} ms", timeout.as_millis())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::{Arc, Mutex};

    use engine::sns::HttpNotifier as _;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Accepts one connection, records the request bytes and answers `status`.
    async fn one_shot_server(status: u16) -> (String, Arc<Mutex<Vec<u8>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = vec![0u8; 8192];
            let mut request = Vec::new();
            // Read until the headers and the 5-byte body are in.
            for _ in 0..50 {
                let read = socket.read(&mut buffer).await.unwrap();
                request.extend_from_slice(&buffer[..read]);
                if read == 0 || request.ends_with(b"hello") {
                    break;
                }
            }
            *recorded.lock().unwrap() = request;
            let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\n\r\nok");
            socket.write_all(answer.as_bytes()).await.unwrap();
        });
        (format!("http://{address}/hook"), seen)
    }

    #[tokio::test]
    async fn posts_headers_and_body_and_returns_the_status() {
        let (url, seen) = one_shot_server(202).await;
        let status = HttpNotifier::new()
            .post(
                &url,
                vec![("x-amz-sns-message-type".into(), "Notification".into())],
                "hello".into(),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        assert_eq!(status, 202);
        let request = String::from_utf8(seen.lock().unwrap().clone()).unwrap();
        assert!(request.starts_with("POST /hook HTTP/1.1\r\n"), "{request}");
        assert!(
            request
                .to_ascii_lowercase()
                .contains("x-amz-sns-message-type: notification")
        );
        assert!(request.ends_with("hello"));
    }

    #[tokio::test]
    async fn an_endpoint_that_does_not_answer_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        // Accept and hold the connection without answering.
        let holder = tokio::spawn(async move {
            let accepted = listener.accept().await;
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(accepted);
        });
        let error = HttpNotifier::new()
            .post(
                &format!("http://{address}/"),
                Vec::new(),
                "x".into(),
                Duration::from_millis(200),
            )
            .await
            .unwrap_err();
        assert!(error.contains("no response"), "{error}");
        holder.abort();
    }

    #[tokio::test]
    async fn https_endpoints_are_spoken_to_in_tls() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let first_byte = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut byte = [0u8; 1];
            socket.read_exact(&mut byte).await.unwrap();
            byte[0]
        });
        let result = HttpNotifier::new()
            .post(
                &format!("https://{address}/"),
                Vec::new(),
                "x".into(),
                Duration::from_secs(5),
            )
            .await;
        // 0x16 opens a TLS handshake record: the ClientHello. The server then hangs up.
        assert_eq!(first_byte.await.unwrap(), 0x16);
        assert!(result.is_err());
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let result = HttpNotifier::new()
            .post(
                &format!("http://{address}/"),
                Vec::new(),
                "x".into(),
                Duration::from_secs(5),
            )
            .await;
        assert!(result.is_err());
    }
}
