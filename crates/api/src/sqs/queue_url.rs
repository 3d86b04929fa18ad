//! Queue URLs: building `http://<host>/<account>/<name>` for responses and resolving
//! whatever a client sends as `QueueUrl` (any host, with or without scheme, LocalStack's
//! path styles, or a bare queue name) into an engine [`QueueRef`].

use engine::sqs::QueueRef;

use crate::error::{Error, Result};

/// The URL clients should use for `queue`, on the host they reached us through.
pub fn queue_url(host: &str, queue: &QueueRef) -> String {
    let mut url = String::with_capacity(8 + host.len() + queue.account.len() + queue.name.len());
    url.push_str("http://");
    url.push_str(host);
    url.push('/');
    url.push_str(&queue.account);
    url.push('/');
    url.push_str(&queue.name);
    url
}

/// Resolves a `QueueUrl` value. The host is ignored: a queue is named by its last two
/// path segments (`…/<account>/<name>`), so URLs built for another hostname, port or
/// LocalStack's `sqs.<region>.localhost.localstack.cloud` and `/queue/<region>/…` styles
/// all work. A value with no `/` at all is a bare queue name in the caller's account.
pub fn resolve(value: &str, caller_account: &str) -> Result<QueueRef> {
    let trimmed = value.trim();
    let invalid = || Error::InvalidAddress(value.to_string());
    if trimmed.is_empty() {
        return Err(invalid());
    }
    let path = match trimmed.find("://") {
        Some(scheme_end) => {
            let after_scheme = &trimmed[scheme_end + 3..];
            match after_scheme.find('/') {
                Some(slash) => &after_scheme[slash..],
                None => return Err(invalid()),
            }
        }
        None if !trimmed.contains('/') => {
            return Ok(QueueRef {
                account: caller_account.to_string(),
                name: trimmed.to_string(),
            });
        }
        None => trimmed,
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    from_path(path).ok_or_else(invalid)
}

/// The queue named by a request path `/<account>/<name>` (older SDKs post the query form
/// to the queue URL itself), if the path has that shape.
pub fn from_path(path: &str) -> Option<QueueRef> {
    let mut segments = path.rsplit('/').filter(|segment| !segment.is_empty());
    let name = segments.next()?;
    let account = segments.next()?;
    Some(QueueRef {
        account: account.to_string(),
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn queue(account: &str, name: &str) -> QueueRef {
        QueueRef {
            account: account.into(),
            name: name.into(),
        }
    }

    #[test]
    fn builds_url_on_the_request_host() {
        assert_eq!(
            queue_url("localhost:4566", &queue("000000000000", "q1")),
            "http://localhost:4566/000000000000/q1"
        );
    }

    #[test]
    fn resolves_urls_from_any_host() {
        for url in [
            "http://localhost:4566/123456789012/orders",
            "https://sqs.us-east-1.amazonaws.com/123456789012/orders",
            "http://sqs.us-east-1.localhost.localstack.cloud:4566/123456789012/orders",
            "http://localhost:4566/queue/us-east-1/123456789012/orders",
            "localhost:4566/123456789012/orders",
            "/123456789012/orders",
            "http://127.0.0.1:9/123456789012/orders/",
            "http://127.0.0.1:9/123456789012/orders?x=1",
        ] {
            assert_eq!(
                resolve(url, "000000000000").unwrap(),
                queue("123456789012", "orders"),
                "{url}"
            );
        }
    }

    #[test]
    fn resolves_a_bare_name_in_the_callers_account() {
        assert_eq!(
            resolve("orders.fifo", "111122223333").unwrap(),
            queue("111122223333", "orders.fifo")
        );
    }

    #[test]
    fn rejects_urls_without_account_and_name() {
        for url in [
            "",
            "http://localhost:4566",
            "http://localhost:4566/",
            "http://h/only",
        ] {
            assert!(
                matches!(resolve(url, "0"), Err(Error::InvalidAddress(_))),
                "{url}"
            );
        }
    }

    #[test]
    fn reads_queue_from_request_path() {
        assert_eq!(
            from_path("/000000000000/q").unwrap(),
            queue("000000000000", "q")
        );
        assert!(from_path("/").is_none());
        assert!(from_path("/q").is_none());
    }
}
