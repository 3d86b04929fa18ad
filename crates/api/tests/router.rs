//! The HTTP application end to end through `tower::ServiceExt::oneshot`: both SQS
//! protocols, STS, IAM, errors in each wire format, body limits and SigV4, against a real
//! engine on a fresh store (`store::testing` picks SQLite or PostgreSQL).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use api::{AccessKey, ApiConfig};
use axum::Router;
use axum::body::Body;
use engine::{CancellationToken, Engine, EngineConfig, SystemClock};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Rig {
    app: Router,
    _dir: tempfile::TempDir,
}

async fn rig_with(config: ApiConfig) -> Result<Rig, Box<dyn std::error::Error>> {
    rig_limited(config, api::DEFAULT_MAX_BODY_BYTES).await
}

async fn rig_limited(
    config: ApiConfig,
    max_body_bytes: usize,
) -> Result<Rig, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = store::testing::open_test_store(dir.path()).await?;
    let engine = Engine::new(
        store,
        Arc::new(SystemClock),
        EngineConfig::default(),
        CancellationToken::new(),
    );
    Ok(Rig {
        app: api::app_with_body_limit(engine, config, max_body_bytes),
        _dir: dir,
    })
}

async fn rig() -> Result<Rig, Box<dyn std::error::Error>> {
    rig_with(ApiConfig::default()).await
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn answer(response: Response<Body>) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

impl Rig {
    async fn send(&self, request: Request<Body>) -> Answer {
        answer(self.app.clone().oneshot(request).await.unwrap()).await
    }

    async fn json(&self, action: &str, body: Value) -> Answer {
        let request = Request::post("/")
            .header("host", "localhost:4566")
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("AmazonSQS.{action}"))
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    async fn form(&self, path: &str, form: &str) -> Answer {
        let request = Request::post(path)
            .header("host", "localhost:4566")
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(Body::from(form.to_string()))
            .unwrap();
        self.send(request).await
    }
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The text of every `<tag>` element, unescaped by a real XML parser.
fn xml_texts(document: &str, tag: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(document);
    let mut texts = Vec::new();
    let mut current: Option<String> = None;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(start) if start.name().as_ref() == tag.as_bytes() => {
                current = Some(String::new())
            }
            Event::End(end) if end.name().as_ref() == tag.as_bytes() => {
                texts.extend(current.take())
            }
            Event::Text(text) => {
                if let Some(current) = current.as_mut() {
                    current.push_str(&text.decode().unwrap());
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(current) = current.as_mut() {
                    match reference.resolve_char_ref().unwrap() {
                        Some(c) => current.push(c),
                        None => current.push_str(
                            quick_xml::escape::resolve_predefined_entity(
                                &reference.decode().unwrap(),
                            )
                            .unwrap(),
                        ),
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    texts
}

#[tokio::test]
async fn health_answers_ok() -> TestResult {
    let rig = rig().await?;
    let answer = rig
        .send(Request::get("/_eddy/health").body(Body::empty())?)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"status": "ok"}));
    assert!(answer.header("x-amzn-requestid").is_some());
    Ok(())
}

#[tokio::test]
async fn json_round_trip_keeps_body_exact() -> TestResult {
    let rig = rig().await?;
    let created = rig.json("CreateQueue", json!({"QueueName": "q1"})).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    assert_eq!(
        created.header("content-type"),
        Some("application/x-amz-json-1.0")
    );
    assert!(created.header("x-amzn-requestid").is_some());
    let url = created.json()["QueueUrl"].as_str().unwrap().to_string();
    assert_eq!(url, "http://localhost:4566/000000000000/q1");

    let body = "line1\r\nline2\rü ✓ 😀 <&>";
    let sent = rig
        .json(
            "SendMessage",
            json!({"QueueUrl": url, "MessageBody": body,
                   "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": "AAEC"}}}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
    assert!(sent.json()["MessageId"].is_string());

    let received = rig
        .json(
            "ReceiveMessage",
            json!({"QueueUrl": url, "MessageAttributeNames": ["All"], "AttributeNames": ["All"]}),
        )
        .await;
    assert_eq!(received.status, StatusCode::OK, "{}", received.text());
    let message = &received.json()["Messages"][0];
    assert_eq!(message["Body"], body);
    assert_eq!(message["MessageAttributes"]["b"]["BinaryValue"], "AAEC");
    assert_eq!(message["Attributes"]["SenderId"], "000000000000");

    let deleted = rig
        .json(
            "DeleteMessage",
            json!({"QueueUrl": url, "ReceiptHandle": message["ReceiptHandle"]}),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text());
    assert_eq!(deleted.json(), json!({}));
    Ok(())
}

#[tokio::test]
async fn query_round_trip_keeps_body_exact() -> TestResult {
    let rig = rig().await?;
    let created = rig
        .form("/", "Action=CreateQueue&Version=2012-11-05&QueueName=q2")
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    assert_eq!(created.header("content-type"), Some("text/xml"));
    let url = xml_texts(&created.text(), "QueueUrl").remove(0);
    assert_eq!(url, "http://localhost:4566/000000000000/q2");

    let body = "a\r\nb\r ü ✓ <x>&amp;";
    let sent = rig
        .form(
            "/",
            &format!(
                "Action=SendMessage&Version=2012-11-05&QueueUrl={}&MessageBody={}",
                encode(&url),
                encode(body)
            ),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
    assert_eq!(xml_texts(&sent.text(), "MessageId").len(), 1);

    // Older SDKs post to the queue URL itself without a QueueUrl member.
    let received = rig
        .form(
            "/000000000000/q2",
            "Action=ReceiveMessage&Version=2012-11-05&AttributeName.1=All",
        )
        .await;
    assert_eq!(received.status, StatusCode::OK, "{}", received.text());
    let text = received.text();
    assert!(text.contains("&#xD;"), "{text}");
    assert_eq!(xml_texts(&text, "Body"), vec![body.to_string()]);
    assert!(
        text.contains(
            "<ReceiveMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">"
        )
    );
    assert!(text.contains("<Name>SenderId</Name>"));
    Ok(())
}

#[tokio::test]
async fn query_get_with_query_string_works() -> TestResult {
    let rig = rig().await?;
    let answer = rig
        .send(
            Request::get("/?Action=ListQueues&Version=2012-11-05")
                .header("host", "localhost:4566")
                .body(Body::empty())?,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(answer.text().contains("<ListQueuesResponse"));
    Ok(())
}

#[tokio::test]
async fn json_missing_queue_carries_query_error_header() -> TestResult {
    let rig = rig().await?;
    let answer = rig
        .json(
            "SendMessage",
            json!({"QueueUrl": "http://localhost:4566/000000000000/absent", "MessageBody": "x"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.header("x-amzn-query-error"),
        Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
    );
    assert_eq!(
        answer.json(),
        json!({"__type": "com.amazonaws.sqs#QueueDoesNotExist",
               "message": "The specified queue does not exist."})
    );
    assert!(answer.header("x-amzn-requestid").is_some());
    Ok(())
}

#[tokio::test]
async fn query_missing_queue_is_xml_error_response() -> TestResult {
    let rig = rig().await?;
    let answer = rig
        .form(
            "/",
            "Action=GetQueueUrl&Version=2012-11-05&QueueName=absent",
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let text = answer.text();
    assert_eq!(
        xml_texts(&text, "Code"),
        vec!["AWS.SimpleQueueService.NonExistentQueue".to_string()]
    );
    assert_eq!(xml_texts(&text, "Type"), vec!["Sender".to_string()]);
    assert_eq!(
        xml_texts(&text, "RequestId"),
        vec![answer.header("x-amzn-requestid").unwrap().to_string()]
    );
    Ok(())
}

#[tokio::test]
async fn unknown_operations_are_invalid_action() -> TestResult {
    let rig = rig().await?;
    let answer = rig.json("Frobnicate", json!({})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json()["__type"],
        "com.amazon.coral.service#UnknownOperationException"
    );

    let answer = rig.form("/", "Action=Frobnicate&Version=2012-11-05").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        xml_texts(&answer.text(), "Code"),
        vec!["InvalidAction".to_string()]
    );
    assert_eq!(
        xml_texts(&answer.text(), "Message"),
        vec!["The action or operation requested is invalid. Verify that the action is typed correctly.".to_string()]
    );
    let answer = rig.form("/", "").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn malformed_requests_get_protocol_errors() -> TestResult {
    let rig = rig().await?;
    let request = Request::post("/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "AmazonSQS.ListQueues")
        .body(Body::from("{not json"))?;
    let answer = rig.send(request).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json()["__type"],
        "com.amazon.coral.service#SerializationException"
    );

    let answer = rig.form("/", "Action=ListQueues&QueueNamePrefix=%G1").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        xml_texts(&answer.text(), "Code"),
        vec!["MalformedQueryString".to_string()]
    );

    let answer = rig.json("DeleteQueue", json!({})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.header("x-amzn-query-error"),
        Some("MissingParameter;Sender")
    );

    let answer = rig
        .json("DeleteQueue", json!({"QueueUrl": "http://localhost:4566/"}))
        .await;
    assert_eq!(
        answer.header("x-amzn-query-error"),
        Some("InvalidAddress;Sender")
    );
    Ok(())
}

#[tokio::test]
async fn oversized_body_is_rejected_before_decoding() -> TestResult {
    let rig = rig_limited(ApiConfig::default(), 1024).await?;
    let answer = rig
        .json(
            "SendMessage",
            json!({"QueueUrl": "q", "MessageBody": "x".repeat(2000)}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer.header("x-amzn-requestid").is_some());
    Ok(())
}

#[tokio::test]
async fn get_caller_identity_over_query() -> TestResult {
    let rig = rig().await?;
    let answer = rig
        .form("/", "Action=GetCallerIdentity&Version=2011-06-15")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let text = answer.text();
    assert!(text.contains(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    ));
    assert_eq!(
        xml_texts(&text, "Account"),
        vec!["000000000000".to_string()]
    );
    assert_eq!(
        xml_texts(&text, "Arn"),
        vec!["arn:aws:iam::000000000000:root".to_string()]
    );
    Ok(())
}

#[tokio::test]
async fn iam_role_actions_over_query_with_iam_errors() -> TestResult {
    let rig = rig().await?;
    let trust = r#"{"Version":"2012-10-17","Statement":[]}"#;
    let created = rig
        .form(
            "/",
            &format!(
                "Action=CreateRole&Version=2010-05-08&RoleName=exec&AssumeRolePolicyDocument={}",
                encode(trust)
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let text = created.text();
    assert!(
        text.contains("<CreateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">")
    );
    assert_eq!(
        xml_texts(&text, "Arn"),
        vec!["arn:aws:iam::000000000000:role/exec".to_string()]
    );
    assert_eq!(
        xml_texts(&text, "AssumeRolePolicyDocument"),
        vec![encode(trust)]
    );
    assert_eq!(xml_texts(&text, "RequestId").len(), 1);

    let again = rig
        .form(
            "/",
            "Action=CreateRole&Version=2010-05-08&RoleName=EXEC&AssumeRolePolicyDocument=%7B%7D",
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        xml_texts(&again.text(), "Code"),
        vec!["EntityAlreadyExists"]
    );

    let missing = rig
        .form("/", "Action=GetRole&Version=2010-05-08&RoleName=none")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let text = missing.text();
    assert!(text.starts_with(
        "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>"
    ));
    assert!(!text.contains("Detail"));

    let unknown = rig
        .form("/", "Action=CreateUser&Version=2010-05-08&UserName=u")
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(xml_texts(&unknown.text(), "Code"), vec!["InvalidAction"]);

    // SQS and STS over the query protocol still reach their own services.
    let queue = rig
        .form("/", "Action=CreateQueue&Version=2012-11-05&QueueName=q")
        .await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text());
    let identity = rig
        .form("/", "Action=GetCallerIdentity&Version=2011-06-15")
        .await;
    assert_eq!(identity.status, StatusCode::OK);
    Ok(())
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

/// Signed by botocore's SigV4Auth with secret `eddy/secret+key` at 2024-01-02T03:04:05Z.
fn botocore_signed(body: &'static str) -> Request<Body> {
    Request::post("/")
        .header("host", "localhost:4566")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "AmazonSQS.SendMessage")
        .header("x-amz-date", "20240102T030405Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAEDDYTEST/20240102/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=7e3c243c77255bc3965b59b41ccae6215c7c006faa6bd668963bd3762398c359",
        )
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn configured_keys_require_a_valid_signature() -> TestResult {
    let rig = rig_with(keyed_config()).await?;

    let unsigned = rig.json("ListQueues", json!({})).await;
    assert_eq!(unsigned.status, StatusCode::FORBIDDEN);
    assert_eq!(
        unsigned.header("x-amzn-query-error"),
        Some("MissingAuthenticationToken;Sender")
    );

    // A correct signature gets through to the engine (the queue does not exist).
    let signed = rig
        .send(botocore_signed(
            r#"{"QueueUrl":"http://localhost:4566/000000000000/q1","MessageBody":"hi"}"#,
        ))
        .await;
    assert_eq!(signed.status, StatusCode::BAD_REQUEST, "{}", signed.text());
    assert_eq!(
        signed.header("x-amzn-query-error"),
        Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
    );

    let tampered = rig
        .send(botocore_signed(
            r#"{"QueueUrl":"http://localhost:4566/000000000000/q1","MessageBody":"ho"}"#,
        ))
        .await;
    assert_eq!(tampered.status, StatusCode::FORBIDDEN);
    assert_eq!(
        tampered.header("x-amzn-query-error"),
        Some("SignatureDoesNotMatch;Sender")
    );

    let unsigned_query = rig.form("/", "Action=ListQueues&Version=2012-11-05").await;
    assert_eq!(unsigned_query.status, StatusCode::FORBIDDEN);
    assert_eq!(
        xml_texts(&unsigned_query.text(), "Code"),
        vec!["MissingAuthenticationToken".to_string()]
    );
    Ok(())
}

#[tokio::test]
async fn batch_and_attribute_actions_work_over_both_protocols() -> TestResult {
    let rig = rig().await?;
    let url = rig
        .json(
            "CreateQueue",
            json!({"QueueName": "b1", "Attributes": {"VisibilityTimeout": "45"}, "tags": {"team": "x"}}),
        )
        .await
        .json()["QueueUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let batch = rig
        .json(
            "SendMessageBatch",
            json!({"QueueUrl": url, "Entries": [{"Id": "a", "MessageBody": "1"}, {"Id": "b", "MessageBody": "2"}]}),
        )
        .await;
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.text());
    assert_eq!(batch.json()["Successful"].as_array().unwrap().len(), 2);

    let attributes = rig
        .form(
            "/",
            &format!(
                "Action=GetQueueAttributes&Version=2012-11-05&QueueUrl={}&AttributeName.1=All",
                encode(&url)
            ),
        )
        .await;
    assert_eq!(attributes.status, StatusCode::OK, "{}", attributes.text());
    assert!(
        attributes
            .text()
            .contains("<Attribute><Name>VisibilityTimeout</Name><Value>45</Value></Attribute>")
    );

    let tags = rig
        .form(
            "/",
            &format!(
                "Action=ListQueueTags&Version=2012-11-05&QueueUrl={}",
                encode(&url)
            ),
        )
        .await;
    assert!(
        tags.text()
            .contains("<Tag><Key>team</Key><Value>x</Value></Tag>"),
        "{}",
        tags.text()
    );

    let received = rig
        .json(
            "ReceiveMessage",
            json!({"QueueUrl": url, "MaxNumberOfMessages": 10}),
        )
        .await
        .json();
    let entries: Vec<Value> = received["Messages"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"Id": format!("e{i}"), "ReceiptHandle": m["ReceiptHandle"]}))
        .collect();
    assert_eq!(entries.len(), 2);
    let deleted = rig
        .json(
            "DeleteMessageBatch",
            json!({"QueueUrl": url, "Entries": entries}),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text());
    assert_eq!(deleted.json()["Successful"].as_array().unwrap().len(), 2);
    Ok(())
}
