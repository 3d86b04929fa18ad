//! `eddy serve` configuration end to end: queues declared in `eddy.toml` exist when the
//! server answers, each configured access key acts in its own account, and a public
//! address without credentials is refused.

#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_sqs::types::QueueAttributeName;
use common::{Server, sqs_client, sqs_client_with_key};

#[tokio::test]
async fn queues_declared_in_eddy_toml_exist_with_their_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("eddy.toml");
    std::fs::write(
        &config,
        r#"
[[queues]]
name = "orders-dlq"

[[queues]]
name = "orders"
attributes = { VisibilityTimeout = 60, RedrivePolicy = '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:orders-dlq","maxReceiveCount":3}' }
tags = { team = "shop" }

[[queues]]
name = "payments.fifo"
attributes = { FifoQueue = true, ContentBasedDeduplication = true }
"#,
    )
    .unwrap();
    let config_arg = config.to_str().unwrap();
    let mut server = Server::start_with(&["--config", config_arg]);
    let client = sqs_client(&server.endpoint).await;
    let url = client
        .get_queue_url()
        .queue_name("orders")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let attributes = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attributes[&QueueAttributeName::VisibilityTimeout], "60");
    assert!(attributes[&QueueAttributeName::RedrivePolicy].contains("orders-dlq"));
    let tags = client
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags.unwrap()["team"], "shop");
    client
        .get_queue_url()
        .queue_name("payments.fifo")
        .send()
        .await
        .unwrap();

    // A restart with the same file leaves the existing queues as they are.
    client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::VisibilityTimeout, "90")
        .send()
        .await
        .unwrap();
    server.restart();
    let client = sqs_client(&server.endpoint).await;
    let visibility = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::VisibilityTimeout)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(visibility[&QueueAttributeName::VisibilityTimeout], "90");
}

#[tokio::test]
async fn each_access_key_acts_in_its_own_account() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials.toml");
    std::fs::write(
        &credentials,
        r#"
[[access_keys]]
id = "AKIDALICE"
secret = "alice-secret"
account = "111111111111"

[[access_keys]]
id = "AKIDBOB"
secret = "bob-secret"
account = "222222222222"
"#,
    )
    .unwrap();
    let server = Server::start_with(&["--credentials-file", credentials.to_str().unwrap()]);
    let alice = sqs_client_with_key(&server.endpoint, "AKIDALICE", "alice-secret").await;
    let bob = sqs_client_with_key(&server.endpoint, "AKIDBOB", "bob-secret").await;

    let alice_url = alice
        .create_queue()
        .queue_name("inbox")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    assert!(alice_url.ends_with("/111111111111/inbox"), "{alice_url}");
    // The same name in another account is another queue.
    let bob_url = bob
        .create_queue()
        .queue_name("inbox")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    assert!(bob_url.ends_with("/222222222222/inbox"), "{bob_url}");
    alice
        .send_message()
        .queue_url(&alice_url)
        .message_body("for alice")
        .send()
        .await
        .unwrap();
    let bob_sees = bob
        .receive_message()
        .queue_url(&bob_url)
        .send()
        .await
        .unwrap();
    assert!(bob_sees.messages.unwrap_or_default().is_empty());
    let alice_sees = alice
        .receive_message()
        .queue_url(&alice_url)
        .send()
        .await
        .unwrap();
    assert_eq!(
        alice_sees.messages.unwrap()[0].body.as_deref(),
        Some("for alice")
    );

    // A key eddy does not know is refused.
    let stranger = sqs_client_with_key(&server.endpoint, "AKIDSTRANGER", "x").await;
    let refused = stranger.list_queues().send().await;
    assert!(refused.is_err());
}

#[test]
fn a_public_address_without_credentials_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(["serve", "--bind", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("EDDY_ACCESS_KEY_ID")
        .env_remove("EDDY_SECRET_ACCESS_KEY")
        .env_remove("EDDY_INSECURE")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without credentials"), "{stderr}");
}
