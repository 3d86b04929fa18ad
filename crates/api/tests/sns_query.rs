//! SNS through the HTTP application (`tower::ServiceExt::oneshot`): routing by `Version`
//! and by action name, AWS's XML replies and errors, the unsigned SubscribeURL and
//! UnsubscribeURL GETs, the SigningCertURL path and the actions eddy does not serve.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use api::{AccessKey, ApiConfig};
use axum::Router;
use axum::body::Body;
use engine::{CancellationToken, Engine, EngineConfig, SystemClock};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const NAMESPACE: &str = "xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"";

struct Rig {
    app: Router,
    _dir: tempfile::TempDir,
}

async fn rig_with(config: ApiConfig) -> Result<Rig, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = store::testing::open_test_store(dir.path()).await?;
    let engine = Engine::new(
        store,
        Arc::new(SystemClock),
        EngineConfig::default(),
        CancellationToken::new(),
    );
    Ok(Rig {
        app: api::app(engine, config),
        _dir: dir,
    })
}

fn keyed_config() -> ApiConfig {
    let keys: BTreeMap<String, AccessKey> = [(
        "AKIAEDDYTEST".to_string(),
        AccessKey {
            secret_access_key: "eddy/secret+key".into(),
            account: "123456789012".into(),
        },
    )]
    .into();
    ApiConfig { access_keys: keys }
}

struct Answer {
    status: StatusCode,
    body: String,
}

impl Rig {
    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    async fn form(&self, form: &str) -> Answer {
        let request = Request::post("/")
            .header("host", "localhost:4566")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form.to_string()))
            .unwrap();
        self.send(request).await
    }

    async fn get(&self, path_and_query: &str) -> Answer {
        let request = Request::get(path_and_query)
            .header("host", "localhost:4566")
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }
}

/// The text between `<tag>` and `</tag>`, first occurrence.
fn element<'a>(document: &'a str, tag: &str) -> Option<&'a str> {
    let start = document.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = document[start..].find(&format!("</{tag}>"))? + start;
    Some(&document[start..end])
}

#[tokio::test]
async fn topics_are_created_listed_and_described_in_xml() -> TestResult {
    let rig = rig_with(ApiConfig::default()).await?;
    let created = rig
        .form("Action=CreateTopic&Version=2010-03-31&Name=orders")
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(
        created
            .body
            .contains(&format!("<CreateTopicResponse {NAMESPACE}>"))
    );
    let arn = element(&created.body, "TopicArn").unwrap();
    assert_eq!(arn, "arn:aws:sns:us-east-1:000000000000:orders");

    // An SNS-only action name routes to SNS without a Version.
    let listed = rig.form("Action=ListTopics").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert!(
        listed
            .body
            .contains(&format!("<member><TopicArn>{arn}</TopicArn></member>"))
    );

    let described = rig
        .form(&format!(
            "Action=GetTopicAttributes&Version=2010-03-31&TopicArn={arn}"
        ))
        .await;
    assert!(
        described
            .body
            .contains("<entry><key>Owner</key><value>000000000000</value></entry>")
    );
    Ok(())
}

#[tokio::test]
async fn engine_errors_are_sns_error_documents() -> TestResult {
    let rig = rig_with(ApiConfig::default()).await?;
    let missing = rig
        .form("Action=GetTopicAttributes&Version=2010-03-31&TopicArn=arn:aws:sns:us-east-1:000000000000:none")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing
            .body
            .contains(&format!("<ErrorResponse {NAMESPACE}>"))
    );
    assert_eq!(element(&missing.body, "Type"), Some("Sender"));
    assert_eq!(element(&missing.body, "Code"), Some("NotFound"));
    assert_eq!(
        element(&missing.body, "Message"),
        Some("Topic does not exist")
    );
    assert!(element(&missing.body, "RequestId").is_some());

    let unknown = rig.form("Action=Frobnicate&Version=2010-03-31").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(element(&unknown.body, "Code"), Some("InvalidAction"));
    assert!(unknown.body.contains(NAMESPACE));
    Ok(())
}

#[tokio::test]
async fn sms_and_push_actions_say_eddy_does_not_send_them() -> TestResult {
    let rig = rig_with(ApiConfig::default()).await?;
    let answer = rig
        .form("Action=OptInPhoneNumber&Version=2010-03-31&phoneNumber=%2B15555550100")
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(element(&answer.body, "Code"), Some("InvalidParameter"));
    assert_eq!(
        element(&answer.body, "Message"),
        Some("Invalid parameter: OptInPhoneNumber Reason: eddy does not send SMS messages")
    );
    let push = rig.form("Action=CreatePlatformApplication").await;
    assert!(push.body.contains("mobile push"), "{}", push.body);
    Ok(())
}

#[tokio::test]
async fn subscribe_and_unsubscribe_urls_need_no_signature() -> TestResult {
    let rig = rig_with(keyed_config()).await?;
    let topic = "arn:aws:sns:us-east-1:123456789012:web";

    // Any other action without a signature is refused.
    let unsigned = rig.form("Action=ListTopics&Version=2010-03-31").await;
    assert_eq!(unsigned.status, StatusCode::FORBIDDEN);
    assert_eq!(
        element(&unsigned.body, "Code"),
        Some("MissingAuthenticationToken")
    );

    let confirm = rig
        .get(&format!(
            "/?Action=ConfirmSubscription&TopicArn={topic}&Token=randomtoken"
        ))
        .await;
    assert_eq!(confirm.status, StatusCode::BAD_REQUEST, "{}", confirm.body);
    assert_eq!(element(&confirm.body, "Message"), Some("Invalid token"));

    let unsubscribe = rig
        .get(&format!(
            "/?Action=Unsubscribe&SubscriptionArn={topic}:0b6c1c4e-4f9b-4a55-9b5e-5a8d58c7b2e1"
        ))
        .await;
    assert_eq!(unsubscribe.status, StatusCode::OK, "{}", unsubscribe.body);
    assert!(unsubscribe.body.contains(&format!(
        "<UnsubscribeResponse {NAMESPACE}><ResponseMetadata>"
    )));
    Ok(())
}

#[tokio::test]
async fn the_signing_certificate_path_is_served_without_credentials() -> TestResult {
    let rig = rig_with(keyed_config()).await?;
    let unknown = rig.get("/SimpleNotificationService-unknown.pem").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn pending_http_subscriptions_answer_pending_confirmation() -> TestResult {
    let rig = rig_with(ApiConfig::default()).await?;
    let created = rig.form("Action=CreateTopic&Name=web").await;
    let topic = element(&created.body, "TopicArn").unwrap().to_string();
    let subscribed = rig
        .form(&format!(
            "Action=Subscribe&TopicArn={topic}&Protocol=http&Endpoint=http%3A%2F%2F127.0.0.1%3A9%2F"
        ))
        .await;
    assert_eq!(subscribed.status, StatusCode::OK, "{}", subscribed.body);
    assert_eq!(
        element(&subscribed.body, "SubscriptionArn"),
        Some("pending confirmation")
    );
    let listed = rig
        .form(&format!("Action=ListSubscriptionsByTopic&TopicArn={topic}"))
        .await;
    assert_eq!(
        element(&listed.body, "SubscriptionArn"),
        Some("PendingConfirmation")
    );
    Ok(())
}
