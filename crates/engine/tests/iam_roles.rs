//! IAM roles through the `Engine` API: creation and its validation, lookups regardless of
//! case, pagination, policies, the delete conflict and tags.

mod common;

use common::{Harness, TestResult};
use engine::Error;
use engine::iam::{CreateRoleInput, Page};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const BASIC_EXECUTION: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

fn role_input(name: &str) -> CreateRoleInput {
    CreateRoleInput {
        role_name: name.to_string(),
        assume_role_policy_document: TRUST.to_string(),
        ..CreateRoleInput::default()
    }
}

fn account(h: &Harness) -> String {
    h.caller.account.clone()
}

#[tokio::test]
async fn create_role_fills_in_aws_defaults() -> TestResult {
    let h = Harness::new().await?;
    let role = h
        .engine
        .create_role(&account(&h), role_input("exec"))
        .await?;
    assert_eq!(role.path, "/");
    assert_eq!(role.arn, "arn:aws:iam::000000000000:role/exec");
    assert_eq!(role.max_session_duration, 3600);
    assert_eq!(role.role_id.len(), 21);
    assert!(role.role_id.starts_with("AROA"));
    assert_eq!(role.create_date, "2023-11-14T22:13:20Z");
    assert_eq!(role.assume_role_policy_document, TRUST);
    assert_eq!(h.engine.get_role(&account(&h), "exec").await?, role);
    Ok(())
}

#[tokio::test]
async fn role_path_appears_in_the_arn() -> TestResult {
    let h = Harness::new().await?;
    let mut input = role_input("svc");
    input.path = Some("/service-role/".to_string());
    let role = h.engine.create_role(&account(&h), input).await?;
    assert_eq!(role.arn, "arn:aws:iam::000000000000:role/service-role/svc");
    Ok(())
}

#[tokio::test]
async fn role_names_are_unique_regardless_of_case() -> TestResult {
    let h = Harness::new().await?;
    h.engine
        .create_role(&account(&h), role_input("Exec"))
        .await?;
    let again = h.engine.create_role(&account(&h), role_input("EXEC")).await;
    assert!(
        matches!(again, Err(Error::EntityAlreadyExists(_))),
        "{again:?}"
    );
    assert_eq!(h.engine.get_role(&account(&h), "exec").await?.name, "Exec");
    Ok(())
}

#[tokio::test]
async fn create_role_rejects_bad_input_with_iam_codes() -> TestResult {
    let h = Harness::new().await?;
    let a = account(&h);
    let mut not_json = role_input("r");
    not_json.assume_role_policy_document = "not json".to_string();
    let mut bad_path = role_input("r");
    bad_path.path = Some("no-slashes".to_string());
    let mut long_session = role_input("r");
    long_session.max_session_duration = Some(43_201);
    let cases = [
        (role_input("has space"), "ValidationError"),
        (role_input(&"x".repeat(65)), "ValidationError"),
        (bad_path, "ValidationError"),
        (long_session, "ValidationError"),
        (not_json, "MalformedPolicyDocument"),
    ];
    for (input, expected) in cases {
        let error = h.engine.create_role(&a, input).await.err();
        let code = match error {
            Some(Error::ValidationError(_)) => "ValidationError",
            Some(Error::MalformedPolicyDocument(_)) => "MalformedPolicyDocument",
            other => panic!("expected {expected}, got {other:?}"),
        };
        assert_eq!(code, expected);
    }
    assert!(
        h.engine
            .list_roles(&a, None, &Page::default())
            .await?
            .items
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn list_roles_pages_with_marker_and_filters_by_path() -> TestResult {
    let h = Harness::new().await?;
    let a = account(&h);
    for name in ["d", "a", "c", "b", "e"] {
        let mut input = role_input(name);
        if name == "c" || name == "e" {
            input.path = Some("/app/".to_string());
        }
        h.engine.create_role(&a, input).await?;
    }
    let mut seen = Vec::new();
    let mut page = Page {
        marker: None,
        max_items: Some(2),
    };
    loop {
        let listed = h.engine.list_roles(&a, None, &page).await?;
        assert!(listed.items.len() <= 2);
        seen.extend(listed.items.into_iter().map(|r| r.name));
        match listed.marker {
            Some(marker) => page.marker = Some(marker),
            None => break,
        }
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);
    let app = h
        .engine
        .list_roles(&a, Some("/app/"), &Page::default())
        .await?;
    let names: Vec<_> = app.items.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["c", "e"]);
    assert!(!app.is_truncated());
    let too_many = Page {
        marker: None,
        max_items: Some(1001),
    };
    assert!(matches!(
        h.engine.list_roles(&a, None, &too_many).await,
        Err(Error::ValidationError(_))
    ));
    Ok(())
}

#[tokio::test]
async fn delete_role_conflicts_until_policies_are_gone() -> TestResult {
    let h = Harness::new().await?;
    let a = account(&h);
    h.engine.create_role(&a, role_input("r")).await?;
    h.engine
        .attach_role_policy(&a, "r", BASIC_EXECUTION)
        .await?;
    h.engine.put_role_policy(&a, "r", "inline", "{}").await?;
    assert!(matches!(
        h.engine.delete_role(&a, "r").await,
        Err(Error::DeleteConflict(m)) if m.contains("detach")
    ));
    h.engine
        .detach_role_policy(&a, "r", BASIC_EXECUTION)
        .await?;
    assert!(matches!(
        h.engine.delete_role(&a, "r").await,
        Err(Error::DeleteConflict(_))
    ));
    h.engine.delete_role_policy(&a, "r", "inline").await?;
    h.engine.delete_role(&a, "r").await?;
    assert!(matches!(
        h.engine.get_role(&a, "r").await,
        Err(Error::NoSuchEntity(m)) if m == "The role with name r cannot be found."
    ));
    Ok(())
}

#[tokio::test]
async fn policies_are_listed_and_read_back() -> TestResult {
    let h = Harness::new().await?;
    let a = account(&h);
    h.engine.create_role(&a, role_input("r")).await?;
    h.engine
        .attach_role_policy(&a, "r", BASIC_EXECUTION)
        .await?;
    h.engine
        .attach_role_policy(&a, "r", BASIC_EXECUTION)
        .await?;
    let attached = h
        .engine
        .list_attached_role_policies(&a, "r", None, &Page::default())
        .await?;
    assert_eq!(attached.items.len(), 1);
    assert_eq!(attached.items[0].policy_name, "AWSLambdaBasicExecutionRole");
    let only_service_role = h
        .engine
        .list_attached_role_policies(&a, "r", Some("/other/"), &Page::default())
        .await?;
    assert!(only_service_role.items.is_empty());

    let document = r#"{"Version":"2012-10-17","Statement":[]}"#;
    h.engine.put_role_policy(&a, "r", "b", document).await?;
    h.engine.put_role_policy(&a, "r", "a", "{}").await?;
    let policy = h.engine.get_role_policy(&a, "R", "b").await?;
    assert_eq!(policy.role_name, "r");
    assert_eq!(policy.policy_document, document);
    let names = h
        .engine
        .list_role_policies(&a, "r", &Page::default())
        .await?;
    assert_eq!(names.items, ["a", "b"]);
    Ok(())
}

#[tokio::test]
async fn missing_roles_and_policies_are_no_such_entity() -> TestResult {
    let h = Harness::new().await?;
    let a = account(&h);
    assert!(matches!(
        h.engine
            .attach_role_policy(&a, "none", BASIC_EXECUTION)
            .await,
        Err(Error::NoSuchEntity(_))
    ));
    h.engine.create_role(&a, role_input("r")).await?;
    assert!(matches!(
        h.engine.detach_role_policy(&a, "r", BASIC_EXECUTION).await,
        Err(Error::NoSuchEntity(_))
    ));
    assert!(matches!(
        h.engine.get_role_policy(&a, "r", "absent").await,
        Err(Error::NoSuchEntity(m)) if m == "The role policy with name absent cannot be found."
    ));
    assert!(matches!(
        h.engine.delete_role_policy(&a, "r", "absent").await,
        Err(Error::NoSuchEntity(_))
    ));
    assert!(matches!(
        h.engine
            .attach_role_policy(&a, "r", "arn:aws:s3:::some-bucket/key")
            .await,
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        h.engine.put_role_policy(&a, "r", "p", "{").await,
        Err(Error::MalformedPolicyDocument(_))
    ));
    Ok(())
}

#[tokio::test]
async fn roles_of_one_account_are_invisible_to_another() -> TestResult {
    let h = Harness::new().await?;
    h.engine.create_role(&account(&h), role_input("r")).await?;
    assert!(matches!(
        h.engine.get_role("111111111111", "r").await,
        Err(Error::NoSuchEntity(_))
    ));
    let other = h
        .engine
        .create_role("111111111111", role_input("r"))
        .await?;
    assert_eq!(other.arn, "arn:aws:iam::111111111111:role/r");
    Ok(())
}

#[tokio::test]
async fn tags_are_set_replaced_and_removed() -> TestResult {
    let h = Harness::new().await?;
    let a = account(&h);
    let mut input = role_input("r");
    input.tags = vec![("team".into(), "a".into())];
    h.engine.create_role(&a, input).await?;
    h.engine
        .tag_role(
            &a,
            "r",
            vec![("env".into(), "dev".into()), ("team".into(), "b".into())],
        )
        .await?;
    let tags = h.engine.list_role_tags(&a, "r", &Page::default()).await?;
    assert_eq!(
        tags.items,
        [
            ("team".to_string(), "b".to_string()),
            ("env".to_string(), "dev".to_string())
        ]
    );
    h.engine.untag_role(&a, "r", vec!["team".into()]).await?;
    assert_eq!(
        h.engine.get_role(&a, "r").await?.tags,
        [("env".to_string(), "dev".to_string())]
    );
    let page = Page {
        marker: None,
        max_items: Some(1),
    };
    h.engine
        .tag_role(&a, "r", vec![("x".into(), "1".into())])
        .await?;
    let first = h.engine.list_role_tags(&a, "r", &page).await?;
    assert_eq!(first.items.len(), 1);
    let second = h
        .engine
        .list_role_tags(
            &a,
            "r",
            &Page {
                marker: first.marker,
                max_items: Some(1),
            },
        )
        .await?;
    assert_eq!(second.items, [("x".to_string(), "1".to_string())]);
    assert!(!second.is_truncated());
    Ok(())
}
