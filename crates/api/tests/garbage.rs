//! No input may panic the server or make it fail with a 5xx: mangled variants of valid
//! requests for every SQS action, in both protocols, go through the real application and
//! must each get a client error (or a success) in the protocol's own error shape.
//!
//! The mutations are pseudo-random with a fixed seed, so a failure replays exactly.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use api::ApiConfig;
use axum::body::Body;
use engine::{CancellationToken, Engine, EngineConfig, SystemClock};
use http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

const QUEUE_URL: &str = "http://localhost/000000000000/garbage";

/// xorshift64*: enough randomness for mutations, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Values that break assumptions: wrong types, extremes, odd text.
const NASTY_JSON: &[&str] = &[
    "null",
    "true",
    "-1",
    "0",
    "1e309",
    "99999999999999999999999",
    "-9223372036854775808",
    "9223372036854775807",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"💥\"",
    "[]",
    "[null]",
    "{}",
    "{\"a\":{\"b\":[1,{}]}}",
    "\"AQAAAAAAAAABAAAAAAAAAAE7BVNnjUeZG_MQFEq_Edua\"",
];

const NASTY_FORM: &[&str] = &[
    "",
    "-1",
    "99999999999999999999999",
    "9223372036854775807",
    "%00",
    "%FF%FE",
    "%",
    "%zz",
    "abc",
    "%F0%9F%92%A5",
    "All",
    "1.5",
];

fn json_seeds() -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    let entry = json!({"Id": "a", "MessageBody": "x", "DelaySeconds": 1,
        "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "5"}}});
    vec![
        (
            "CreateQueue",
            json!({"QueueName": "q1", "Attributes": {"VisibilityTimeout": "5"}, "tags": {"k": "v"}}),
        ),
        (
            "GetQueueUrl",
            json!({"QueueName": "garbage", "QueueOwnerAWSAccountId": "000000000000"}),
        ),
        (
            "ListQueues",
            json!({"QueueNamePrefix": "g", "MaxResults": 5, "NextToken": "x"}),
        ),
        (
            "GetQueueAttributes",
            json!({"QueueUrl": QUEUE_URL, "AttributeNames": ["All"]}),
        ),
        (
            "SetQueueAttributes",
            json!({"QueueUrl": QUEUE_URL, "Attributes": {"DelaySeconds": "1", "RedrivePolicy": "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:garbage\",\"maxReceiveCount\":2}"}}),
        ),
        (
            "SendMessage",
            json!({"QueueUrl": QUEUE_URL, "MessageBody": "hello", "DelaySeconds": 0,
            "MessageAttributes": {"s": {"DataType": "String", "StringValue": "v"}, "b": {"DataType": "Binary", "BinaryValue": "AAEC"}},
            "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "t"}}}),
        ),
        (
            "SendMessageBatch",
            json!({"QueueUrl": QUEUE_URL, "Entries": [entry.clone(), entry]}),
        ),
        (
            "ReceiveMessage",
            json!({"QueueUrl": QUEUE_URL, "MaxNumberOfMessages": 10, "VisibilityTimeout": 0, "WaitTimeSeconds": 0,
            "AttributeNames": ["All"], "MessageAttributeNames": ["All", "s.*"], "ReceiveRequestAttemptId": "r"}),
        ),
        (
            "DeleteMessage",
            json!({"QueueUrl": QUEUE_URL, "ReceiptHandle": "AQAAAAAAAAABAAAAAAAAAAE7BVNnjUeZG_MQFEq_Edua"}),
        ),
        (
            "DeleteMessageBatch",
            json!({"QueueUrl": QUEUE_URL, "Entries": [{"Id": "a", "ReceiptHandle": "h"}]}),
        ),
        (
            "ChangeMessageVisibility",
            json!({"QueueUrl": QUEUE_URL, "ReceiptHandle": "h", "VisibilityTimeout": 10}),
        ),
        (
            "ChangeMessageVisibilityBatch",
            json!({"QueueUrl": QUEUE_URL, "Entries": [{"Id": "a", "ReceiptHandle": "h", "VisibilityTimeout": 1}]}),
        ),
        ("PurgeQueue", json!({"QueueUrl": QUEUE_URL})),
        (
            "TagQueue",
            json!({"QueueUrl": QUEUE_URL, "Tags": {"a": "b"}}),
        ),
        (
            "UntagQueue",
            json!({"QueueUrl": QUEUE_URL, "TagKeys": ["a"]}),
        ),
        ("ListQueueTags", json!({"QueueUrl": QUEUE_URL})),
        (
            "ListDeadLetterSourceQueues",
            json!({"QueueUrl": QUEUE_URL, "MaxResults": 1}),
        ),
        (
            "StartMessageMoveTask",
            json!({"SourceArn": "arn:aws:sqs:us-east-1:000000000000:garbage", "MaxNumberOfMessagesPerSecond": 1}),
        ),
        (
            "ListMessageMoveTasks",
            json!({"SourceArn": "arn:aws:sqs:us-east-1:000000000000:garbage", "MaxResults": 1}),
        ),
        (
            "CancelMessageMoveTask",
            json!({"TaskHandle": "eyJ0YXNrSWQiOiJ4In0="}),
        ),
        (
            "AddPermission",
            json!({"QueueUrl": QUEUE_URL, "Label": "l", "AWSAccountIds": ["000000000000"], "Actions": ["SendMessage"]}),
        ),
        (
            "RemovePermission",
            json!({"QueueUrl": QUEUE_URL, "Label": "l"}),
        ),
        (
            "DeleteQueue",
            json!({"QueueUrl": "http://localhost/000000000000/other"}),
        ),
    ]
}

fn form_seeds() -> Vec<String> {
    let url = "http%3A%2F%2Flocalhost%2F000000000000%2Fgarbage";
    vec![
        "Action=CreateQueue&QueueName=q2&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=5&Tag.1.Key=k&Tag.1.Value=v".to_string(),
        format!("Action=SendMessage&QueueUrl={url}&MessageBody=hi&DelaySeconds=1&MessageAttribute.1.Name=n&MessageAttribute.1.Value.DataType=Number&MessageAttribute.1.Value.StringValue=5"),
        format!("Action=SendMessageBatch&QueueUrl={url}&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=y"),
        format!("Action=ReceiveMessage&QueueUrl={url}&MaxNumberOfMessages=10&AttributeName.1=All&MessageAttributeName.1=All&VisibilityTimeout=0&WaitTimeSeconds=0"),
        format!("Action=DeleteMessageBatch&QueueUrl={url}&DeleteMessageBatchRequestEntry.1.Id=a&DeleteMessageBatchRequestEntry.1.ReceiptHandle=h"),
        format!("Action=ChangeMessageVisibilityBatch&QueueUrl={url}&ChangeMessageVisibilityBatchRequestEntry.1.Id=a&ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle=h&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=3"),
        format!("Action=SetQueueAttributes&QueueUrl={url}&Attribute.1.Name=MaximumMessageSize&Attribute.1.Value=2048"),
        format!("Action=GetQueueAttributes&QueueUrl={url}&AttributeName.1=All"),
        format!("Action=ListQueues&QueueNamePrefix=g&MaxResults=2"),
        format!("Action=TagQueue&QueueUrl={url}&Tag.1.Key=a&Tag.1.Value=b"),
        format!("Action=AddPermission&QueueUrl={url}&Label=l&AWSAccountId.1=000000000000&ActionName.1=SendMessage"),
        "Action=GetCallerIdentity&Version=2011-06-15".to_string(),
    ]
}

/// Replaces a random value somewhere in the JSON tree with a nasty one, or removes a key.
fn mutate_json(value: &mut serde_json::Value, rng: &mut Rng) {
    use serde_json::Value;
    match value {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = &keys[rng.below(keys.len())];
            match rng.below(4) {
                0 => {
                    map.remove(key);
                }
                1 => {
                    let nasty = NASTY_JSON[rng.below(NASTY_JSON.len())];
                    map.insert(
                        key.clone(),
                        serde_json::from_str(nasty).unwrap_or(Value::Null),
                    );
                }
                _ => mutate_json(map.get_mut(key).unwrap(), rng),
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let index = rng.below(items.len());
            if rng.below(3) == 0 {
                items.push(items[index].clone());
            } else {
                mutate_json(&mut items[index], rng);
            }
        }
        other => {
            let nasty = NASTY_JSON[rng.below(NASTY_JSON.len())];
            *other = serde_json::from_str(nasty).unwrap_or(Value::Null);
        }
    }
}

/// Mangles the text of a body: cut it short, flip a byte, or splice in junk.
fn mangle_bytes(bytes: &mut Vec<u8>, rng: &mut Rng) {
    if bytes.is_empty() {
        bytes.push(b'{');
        return;
    }
    match rng.below(3) {
        0 => bytes.truncate(rng.below(bytes.len())),
        1 => {
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
        }
        _ => {
            let at = rng.below(bytes.len());
            bytes.splice(at..at, b"\"\\\x00\xff,]}".iter().copied());
        }
    }
}

/// Replaces one `name=value` pair's value with a nasty one, drops a pair, or renumbers one.
fn mutate_form(form: &str, rng: &mut Rng) -> String {
    let mut pairs: Vec<String> = form.split('&').map(str::to_string).collect();
    let index = rng.below(pairs.len());
    match rng.below(4) {
        0 => {
            pairs.remove(index);
        }
        1 => {
            let name = pairs[index].split('=').next().unwrap_or("").to_string();
            pairs[index] = format!("{name}={}", NASTY_FORM[rng.below(NASTY_FORM.len())]);
        }
        2 => {
            let pair = pairs[index]
                .replace(".1.", ".0.")
                .replace(".2.", ".99999999999.");
            pairs[index] = pair;
        }
        _ => {
            let copy = pairs[index].clone();
            pairs.push(copy);
        }
    }
    pairs.join("&")
}

#[tokio::test]
async fn mangled_requests_never_panic_or_fail_with_a_server_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = store::testing::open_test_store(dir.path()).await.unwrap();
    let engine = Engine::new(
        store,
        Arc::new(SystemClock),
        EngineConfig::default(),
        CancellationToken::new(),
    );
    let app = api::app(engine, ApiConfig::default());
    let send = |request: Request<Body>| {
        let app = app.clone();
        async move {
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, body)
        }
    };
    // A queue and a message so that mutations reach past "queue does not exist".
    for body in [
        r#"{"QueueName":"garbage"}"#.to_string(),
        format!(r#"{{"QueueUrl":"{QUEUE_URL}","MessageBody":"seed"}}"#),
    ] {
        let target = if body.contains("QueueName") {
            "CreateQueue"
        } else {
            "SendMessage"
        };
        let request = Request::post("/")
            .header("host", "localhost")
            .header("x-amz-target", format!("AmazonSQS.{target}"))
            .header("content-type", "application/x-amz-json-1.0")
            .body(Body::from(body))
            .unwrap();
        let (status, _) = send(request).await;
        assert!(status.is_success());
    }

    let mut rng = Rng(0x5eed_0edd_0001);
    let json_seeds = json_seeds();
    let form_seeds = form_seeds();
    let (mut succeeded, mut refused) = (0, 0);
    for round in 0..1500 {
        let request = if round % 3 == 2 {
            let seed = &form_seeds[rng.below(form_seeds.len())];
            let mut body = mutate_form(seed, &mut rng);
            if rng.below(4) == 0 {
                let mut bytes = body.into_bytes();
                mangle_bytes(&mut bytes, &mut rng);
                body = String::from_utf8_lossy(&bytes).into_owned();
            }
            Request::post("/")
                .header("host", "localhost")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body.clone()))
                .map(|request| (request, body))
        } else {
            let (action, seed) = &json_seeds[rng.below(json_seeds.len())];
            let mut value = seed.clone();
            for _ in 0..=rng.below(3) {
                mutate_json(&mut value, &mut rng);
            }
            let mut bytes = value.to_string().into_bytes();
            if rng.below(4) == 0 {
                mangle_bytes(&mut bytes, &mut rng);
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            Request::post("/")
                .header("host", "localhost")
                .header("x-amz-target", format!("AmazonSQS.{action}"))
                .header("content-type", "application/x-amz-json-1.0")
                .body(Body::from(bytes))
                .map(|request| (request, text))
        };
        let (request, shown) = request.unwrap();
        let (status, body) = send(request).await;
        assert!(
            !status.is_server_error(),
            "round {round}: {status} for {shown}: {}",
            String::from_utf8_lossy(&body)
        );
        if status.is_success() {
            succeeded += 1;
        } else {
            assert!(
                !body.is_empty(),
                "round {round}: an error without a body for {shown}"
            );
            refused += 1;
        }
    }
    // The mutations exercise both sides: some mangled requests are still valid.
    println!("{succeeded} succeeded, {refused} refused");
    assert!(
        succeeded > 100 && refused > 300,
        "{succeeded} succeeded, {refused} refused"
    );
}
