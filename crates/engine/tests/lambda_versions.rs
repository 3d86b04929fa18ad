//! Versions, aliases, tags and reserved concurrency through the `Engine` API: publishing
//! snapshots (and not publishing unchanged ones), qualifier resolution, Lambda's errors,
//! what DeleteFunction takes with it, and the concurrency gate following the store. No
//! code runs here (the boto3 suite invokes versions and aliases); the one invocation made
//! is throttled before anything starts.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use common::{Harness, TestResult};
use engine::Error;
use engine::lambda::{
    AliasRoutingConfiguration, ConcurrencyGate, CreateAliasInput, CreateFunctionInput,
    FunctionCode, FunctionPlatform, FunctionRunner, InvocationType, InvokeInput, LambdaConfig,
    PublishVersionInput, RuntimeApi, RuntimeApiServer, Throttled, UpdateAliasInput,
    UpdateFunctionCodeInput, UpdateFunctionConfigurationInput,
};

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";
const ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function";

fn zip_with(contents: &[u8]) -> TestResult<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file("app.py", zip::write::SimpleFileOptions::default())?;
    writer.write_all(contents)?;
    Ok(writer.finish()?.into_inner())
}

fn input(name: &str) -> TestResult<CreateFunctionInput> {
    Ok(CreateFunctionInput {
        function_name: name.to_string(),
        runtime: Some("python3.12".to_string()),
        role: Some(ROLE.to_string()),
        handler: Some("app.handler".to_string()),
        code: FunctionCode {
            zip_file: Some(zip_with(b"def handler(e, c):\n    return 1\n")?),
            ..FunctionCode::default()
        },
        ..CreateFunctionInput::default()
    })
}

fn account(h: &Harness) -> String {
    h.caller.account.clone()
}

async fn publish(h: &Harness, name: &str) -> TestResult<String> {
    Ok(h.engine
        .publish_version(&account(h), name, PublishVersionInput::default())
        .await?
        .version)
}

async fn new_code(h: &Harness, name: &str, body: &[u8]) -> TestResult {
    h.engine
        .update_function_code(
            &account(h),
            name,
            UpdateFunctionCodeInput {
                code: FunctionCode {
                    zip_file: Some(zip_with(body)?),
                    ..FunctionCode::default()
                },
                ..UpdateFunctionCodeInput::default()
            },
        )
        .await?;
    Ok(())
}

fn alias_input(name: &str, version: &str) -> CreateAliasInput {
    CreateAliasInput {
        name: name.to_string(),
        function_version: version.to_string(),
        ..CreateAliasInput::default()
    }
}

fn weights(version: &str, weight: f64) -> Option<AliasRoutingConfiguration> {
    Some(AliasRoutingConfiguration {
        additional_version_weights: BTreeMap::from([(version.to_string(), weight)]),
    })
}

/// A Runtime API server that serves nothing: these tests never start a function.
struct NoRuntimeApi;

impl RuntimeApiServer for NoRuntimeApi {
    fn serve(
        &self,
        _listener: tokio::net::TcpListener,
        _runtime_api: RuntimeApi,
        _stop: engine::CancellationToken,
    ) {
    }
}

fn with_platform(h: &Harness, data_dir: &std::path::Path) -> ConcurrencyGate {
    let gate = ConcurrencyGate::new(1000);
    h.engine.set_function_platform(FunctionPlatform {
        runner: FunctionRunner::new(LambdaConfig::default(), Arc::new(NoRuntimeApi)),
        data_dir: data_dir.to_path_buf(),
        concurrency: gate.clone(),
    });
    gate
}

#[tokio::test]
async fn publish_snapshots_latest_and_answers_unchanged_with_the_last_version() -> TestResult {
    let h = Harness::new().await?;
    let created = h.engine.create_function(&account(&h), input("f")?).await?;
    let first = h
        .engine
        .publish_version(&account(&h), "f", PublishVersionInput::default())
        .await?;
    assert_eq!(first.version, "1");
    assert_eq!(first.function_arn, format!("{ARN}:f:1"));
    assert_eq!(first.state.as_deref(), Some("Pending"));
    assert_eq!(first.last_update_status, None);
    assert_eq!(first.code_sha256, created.code_sha256);
    // Nothing changed: the same version again.
    assert_eq!(publish(&h, "f").await?, "1");

    new_code(&h, "f", b"def handler(e, c):\n    return 2\n").await?;
    assert_eq!(publish(&h, "f").await?, "2");
    h.engine
        .update_function_configuration(
            &account(&h),
            "f",
            UpdateFunctionConfigurationInput {
                timeout: Some(10),
                ..UpdateFunctionConfigurationInput::default()
            },
        )
        .await?;
    assert_eq!(publish(&h, "f").await?, "3");

    // Version 1 keeps the first code and settings, and is Active.
    let one = h
        .engine
        .get_function_configuration(&account(&h), "f", Some("1"))
        .await?;
    assert_eq!(one.code_sha256, created.code_sha256);
    assert_eq!(one.timeout, 3);
    assert_eq!(one.state.as_deref(), Some("Active"));
    let qualified_name = h
        .engine
        .get_function_configuration(&account(&h), "f:3", None)
        .await?;
    assert_eq!(qualified_name.timeout, 10);
    assert!(matches!(
        h.engine.get_function_configuration(&account(&h), "f", Some("9")).await,
        Err(Error::FunctionNotFound(m)) if m == format!("Function not found: {ARN}:f:9")
    ));
    Ok(())
}

#[tokio::test]
async fn publish_checks_code_hash_and_revision() -> TestResult {
    let h = Harness::new().await?;
    let created = h.engine.create_function(&account(&h), input("f")?).await?;
    let wrong_hash = h
        .engine
        .publish_version(
            &account(&h),
            "f",
            PublishVersionInput {
                code_sha256: Some("AAAA".to_string()),
                ..PublishVersionInput::default()
            },
        )
        .await;
    assert!(
        matches!(wrong_hash, Err(Error::LambdaInvalidParameterValue(m)) if m.starts_with("CodeSHA256 (AAAA) is different from current CodeSHA256 in $LATEST"))
    );
    let stale = h
        .engine
        .publish_version(
            &account(&h),
            "f",
            PublishVersionInput {
                revision_id: Some("stale".to_string()),
                ..PublishVersionInput::default()
            },
        )
        .await;
    assert!(matches!(stale, Err(Error::PreconditionFailed(_))));
    let published = h
        .engine
        .publish_version(
            &account(&h),
            "f",
            PublishVersionInput {
                code_sha256: Some(created.code_sha256.clone()),
                revision_id: Some(created.revision_id.clone()),
                description: Some("first".to_string()),
            },
        )
        .await?;
    assert_eq!(published.description, "first");
    Ok(())
}

#[tokio::test]
async fn concurrent_publishes_of_one_snapshot_make_one_version() -> TestResult {
    let h = Harness::new().await?;
    h.engine.create_function(&account(&h), input("f")?).await?;
    let publishes: Vec<_> = (0..6)
        .map(|_| {
            let engine = h.engine.clone();
            let account = account(&h);
            tokio::spawn(async move {
                engine
                    .publish_version(&account, "f", PublishVersionInput::default())
                    .await
            })
        })
        .collect();
    for publish in publishes {
        assert_eq!(publish.await??.version, "1");
    }
    let listed = h
        .engine
        .list_versions_by_function(&account(&h), "f", None, None)
        .await?;
    let versions: Vec<&str> = listed.versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(versions, ["$LATEST", "1"]);
    Ok(())
}

#[tokio::test]
async fn version_numbers_are_never_reused_after_a_delete() -> TestResult {
    let h = Harness::new().await?;
    h.engine.create_function(&account(&h), input("f")?).await?;
    assert_eq!(publish(&h, "f").await?, "1");
    new_code(&h, "f", b"# two\n").await?;
    assert_eq!(publish(&h, "f").await?, "2");
    h.engine
        .delete_function(&account(&h), "f", Some("2"))
        .await?;
    new_code(&h, "f", b"# three\n").await?;
    assert_eq!(publish(&h, "f").await?, "3");
    assert!(matches!(
        h.engine.delete_function(&account(&h), "f", Some("2")).await,
        Err(Error::FunctionNotFound(_))
    ));
    assert!(matches!(
        h.engine.delete_function(&account(&h), "f", Some("$LATEST")).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m == "$LATEST version cannot be deleted without deleting the function."
    ));
    Ok(())
}

#[tokio::test]
async fn list_versions_pages_latest_first_then_by_number() -> TestResult {
    let h = Harness::new().await?;
    h.engine.create_function(&account(&h), input("f")?).await?;
    for round in 0..11 {
        new_code(&h, "f", format!("# {round}\n").as_bytes()).await?;
        publish(&h, "f").await?;
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..10 {
        let page = h
            .engine
            .list_versions_by_function(&account(&h), "f", marker.as_deref(), Some(5))
            .await?;
        assert!(page.versions.len() <= 5);
        assert!(page.versions.iter().all(|v| v.state.is_none()));
        seen.extend(page.versions.into_iter().map(|v| v.version));
        marker = page.next_marker;
        if marker.is_none() {
            break;
        }
    }
    let expected: Vec<String> = std::iter::once("$LATEST".to_string())
        .chain((1..=11).map(|n| n.to_string()))
        .collect();
    assert_eq!(seen, expected);
    Ok(())
}

#[tokio::test]
async fn aliases_resolve_to_their_version_under_the_alias_arn() -> TestResult {
    let h = Harness::new().await?;
    h.engine.create_function(&account(&h), input("f")?).await?;
    publish(&h, "f").await?;
    new_code(&h, "f", b"# two\n").await?;
    publish(&h, "f").await?;

    let live = h
        .engine
        .create_alias(&account(&h), "f", alias_input("live", "1"))
        .await?;
    assert_eq!(live.alias_arn, format!("{ARN}:f:live"));
    assert_eq!(live.description, "");
    let resolved = h
        .engine
        .get_function_configuration(&account(&h), "f", Some("live"))
        .await?;
    assert_eq!(resolved.version, "1");
    assert_eq!(resolved.function_arn, format!("{ARN}:f:live"));
    let by_arn = h
        .engine
        .get_function(&account(&h), &format!("{ARN}:f:live"), None)
        .await?;
    assert_eq!(by_arn.configuration.version, "1");

    let moved = h
        .engine
        .update_alias(
            &account(&h),
            "f",
            "live",
            UpdateAliasInput {
                function_version: Some("2".to_string()),
                revision_id: Some(live.revision_id.clone()),
                ..UpdateAliasInput::default()
            },
        )
        .await?;
    assert_ne!(moved.revision_id, live.revision_id);
    assert_eq!(
        h.engine
            .get_function_configuration(&account(&h), "f", Some("live"))
            .await?
            .version,
        "2"
    );
    let stale = h
        .engine
        .update_alias(
            &account(&h),
            "f",
            "live",
            UpdateAliasInput {
                description: Some("x".to_string()),
                revision_id: Some(live.revision_id),
                ..UpdateAliasInput::default()
            },
        )
        .await;
    assert!(matches!(stale, Err(Error::PreconditionFailed(_))));

    h.engine.delete_alias(&account(&h), "f", "live").await?;
    assert!(matches!(
        h.engine.get_alias(&account(&h), "f", "live").await,
        Err(Error::FunctionNotFound(m)) if m == format!("Cannot find alias arn: {ARN}:f:live")
    ));
    assert!(matches!(
        h.engine.get_function_configuration(&account(&h), "f", Some("live")).await,
        Err(Error::FunctionNotFound(m)) if m == format!("Function not found: {ARN}:f:live")
    ));
    Ok(())
}

#[tokio::test]
async fn alias_rules_and_errors_are_lambdas() -> TestResult {
    let h = Harness::new().await?;
    h.engine.create_function(&account(&h), input("f")?).await?;
    publish(&h, "f").await?;
    new_code(&h, "f", b"# two\n").await?;
    publish(&h, "f").await?;
    h.engine
        .create_alias(&account(&h), "f", alias_input("live", "1"))
        .await?;

    let duplicate = h
        .engine
        .create_alias(&account(&h), "f", alias_input("live", "2"))
        .await;
    assert!(
        matches!(duplicate, Err(Error::ResourceConflict(m)) if m == format!("Alias already exists: {ARN}:f:live"))
    );
    assert!(matches!(
        h.engine.create_alias(&account(&h), "f", alias_input("123", "1")).await,
        Err(Error::LambdaValidation(m)) if m.contains("at 'name'")
    ));
    assert!(matches!(
        h.engine.create_alias(&account(&h), "f", alias_input("next", "7")).await,
        Err(Error::FunctionNotFound(m)) if m == format!("Function not found: {ARN}:f:7")
    ));
    assert!(matches!(
        h.engine
            .create_alias(&account(&h), "missing", alias_input("next", "1"))
            .await,
        Err(Error::FunctionNotFound(_))
    ));
    let routed = |version: &str, weight: f64| CreateAliasInput {
        routing_config: weights(version, weight),
        ..alias_input("canary", "1")
    };
    assert!(matches!(
        h.engine.create_alias(&account(&h), "f", routed("1", 0.5)).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m.contains("already included in routing configuration")
    ));
    assert!(matches!(
        h.engine
            .create_alias(&account(&h), "f", routed("2", 1.5))
            .await,
        Err(Error::LambdaValidation(_))
    ));
    assert!(matches!(
        h.engine
            .create_alias(&account(&h), "f", routed("9", 0.5))
            .await,
        Err(Error::FunctionNotFound(_))
    ));
    assert!(matches!(
        h.engine
            .create_alias(
                &account(&h),
                "f",
                CreateAliasInput {
                    routing_config: weights("1", 0.5),
                    ..alias_input("latest", "$LATEST")
                }
            )
            .await,
        Err(Error::LambdaInvalidParameterValue(m)) if m == "$LATEST is not supported for an alias pointing to more than 1 version"
    ));
    let canary = h
        .engine
        .create_alias(&account(&h), "f", routed("2", 0.25))
        .await?;
    assert_eq!(canary.routing_config, weights("2", 0.25));

    // A version an alias routes to cannot be deleted.
    assert!(matches!(
        h.engine.delete_function(&account(&h), "f", Some("2")).await,
        Err(Error::ResourceConflict(m)) if m == "Unable to delete version because the following aliases reference it: [canary]"
    ));
    assert!(matches!(
        h.engine
            .delete_function(&account(&h), "f", Some("live"))
            .await,
        Err(Error::LambdaInvalidParameterValue(_))
    ));

    // Listing: by name, filtered by version, paged.
    let all = h
        .engine
        .list_aliases(&account(&h), "f", None, None, None)
        .await?;
    let names: Vec<&str> = all.aliases.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["canary", "live"]);
    let first = h
        .engine
        .list_aliases(&account(&h), "f", None, None, Some(1))
        .await?;
    assert_eq!(first.aliases[0].name, "canary");
    let second = h
        .engine
        .list_aliases(
            &account(&h),
            "f",
            None,
            first.next_marker.as_deref(),
            Some(1),
        )
        .await?;
    assert_eq!(second.aliases[0].name, "live");
    assert_eq!(second.next_marker, None);
    let on_two = h
        .engine
        .list_aliases(&account(&h), "f", Some("2"), None, None)
        .await?;
    assert!(on_two.aliases.is_empty());

    // An empty routing configuration removes the routing.
    let cleared = h
        .engine
        .update_alias(
            &account(&h),
            "f",
            "canary",
            UpdateAliasInput {
                routing_config: Some(AliasRoutingConfiguration::default()),
                ..UpdateAliasInput::default()
            },
        )
        .await?;
    assert_eq!(cleared.routing_config, None);
    Ok(())
}

#[tokio::test]
async fn tags_are_kept_per_function_and_checked() -> TestResult {
    let h = Harness::new().await?;
    let mut tagged = input("f")?;
    tagged.tags = Some(BTreeMap::from([("team".to_string(), "core".to_string())]));
    h.engine.create_function(&account(&h), tagged).await?;
    let arn = format!("{ARN}:f");
    h.engine
        .tag_resource(
            &account(&h),
            &arn,
            BTreeMap::from([
                ("stage".to_string(), "dev".to_string()),
                ("team".to_string(), "edge".to_string()),
            ]),
        )
        .await?;
    h.engine
        .untag_resource(&account(&h), &arn, vec!["stage".to_string()])
        .await?;
    assert_eq!(
        h.engine.list_tags(&account(&h), &arn).await?,
        BTreeMap::from([("team".to_string(), "edge".to_string())])
    );
    assert_eq!(
        h.engine.get_function(&account(&h), "f", None).await?.tags,
        BTreeMap::from([("team".to_string(), "edge".to_string())])
    );
    assert!(matches!(
        h.engine.list_tags(&account(&h), &format!("{ARN}:missing")).await,
        Err(Error::FunctionNotFound(m)) if m == format!("Function not found: {ARN}:missing")
    ));
    assert!(matches!(
        h.engine.list_tags(&account(&h), &format!("{arn}:1")).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m.starts_with("Tagging operations are permitted on Lambda functions only")
    ));
    assert!(matches!(
        h.engine.list_tags(&account(&h), "f").await,
        Err(Error::LambdaValidation(_))
    ));
    let too_many: BTreeMap<String, String> = (0..50)
        .map(|index| (format!("k{index}"), String::new()))
        .collect();
    assert!(matches!(
        h.engine.tag_resource(&account(&h), &arn, too_many).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m == "Number of tags exceeds function tag limit."
    ));
    Ok(())
}

#[tokio::test]
async fn reserved_concurrency_is_stored_checked_and_enforced() -> TestResult {
    let h = Harness::new().await?;
    let data = tempfile::tempdir()?;
    let gate = with_platform(&h, data.path());
    h.engine.create_function(&account(&h), input("f")?).await?;
    h.engine.create_function(&account(&h), input("g")?).await?;
    let key = (account(&h), "f".to_string());

    assert_eq!(
        h.engine.get_function_concurrency(&account(&h), "f").await?,
        None
    );
    assert_eq!(
        h.engine
            .put_function_concurrency(&account(&h), "f", Some(0))
            .await?,
        0
    );
    assert_eq!(gate.reservation(&key), Some(0));
    assert_eq!(
        h.engine
            .get_function(&account(&h), "f", None)
            .await?
            .reserved_concurrency,
        Some(0)
    );
    let invoke = InvokeInput {
        function_name: "f".to_string(),
        qualifier: None,
        invocation_type: InvocationType::RequestResponse,
        payload: b"{}".to_vec(),
        client_context: None,
    };
    assert!(matches!(
        h.engine.invoke(&account(&h), invoke).await,
        Err(Error::TooManyRequests(
            Throttled::ReservedFunctionConcurrentInvocationLimitExceeded
        ))
    ));

    // At the default limit of 1000, 100 stay unreserved.
    h.engine
        .put_function_concurrency(&account(&h), "g", Some(800))
        .await?;
    assert!(matches!(
        h.engine.put_function_concurrency(&account(&h), "f", Some(101)).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m == "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."
    ));
    h.engine
        .put_function_concurrency(&account(&h), "f", Some(100))
        .await?;
    let settings = h.engine.account_settings(&account(&h)).await?;
    assert_eq!(settings.account_limit.concurrent_executions, 1000);
    assert_eq!(settings.account_limit.unreserved_concurrent_executions, 100);
    assert_eq!(settings.account_usage.function_count, 2);
    assert!(matches!(
        h.engine
            .put_function_concurrency(&account(&h), "f", Some(-1))
            .await,
        Err(Error::LambdaValidation(_))
    ));
    assert!(matches!(
        h.engine.put_function_concurrency(&account(&h), "f:1", Some(1)).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m.starts_with("This operation is permitted on Lambda functions only.")
    ));

    // The gate follows the store: a node that lost track reloads it.
    assert!(gate.replace_reservations(Default::default(), gate.changes_seen()));
    assert_eq!(gate.reservation(&key), None);
    h.engine.load_reservations().await?;
    assert_eq!(gate.reservation(&key), Some(100));
    h.engine
        .delete_function_concurrency(&account(&h), "f")
        .await?;
    assert_eq!(gate.reservation(&key), None);
    assert_eq!(
        h.engine.get_function_concurrency(&account(&h), "f").await?,
        None
    );
    Ok(())
}

#[tokio::test]
async fn delete_function_takes_versions_aliases_tags_and_concurrency() -> TestResult {
    let h = Harness::new().await?;
    let data = tempfile::tempdir()?;
    let gate = with_platform(&h, data.path());
    let mut tagged = input("f")?;
    tagged.tags = Some(BTreeMap::from([("team".to_string(), "core".to_string())]));
    tagged.publish = true;
    let created = h.engine.create_function(&account(&h), tagged).await?;
    assert_eq!(created.version, "1");
    assert_eq!(created.function_arn, format!("{ARN}:f"));
    h.engine
        .create_alias(&account(&h), "f", alias_input("live", "1"))
        .await?;
    h.engine
        .put_function_concurrency(&account(&h), "f", Some(5))
        .await?;

    h.engine.delete_function(&account(&h), "f", None).await?;
    assert_eq!(gate.reservation(&(account(&h), "f".to_string())), None);
    h.engine.create_function(&account(&h), input("f")?).await?;
    let versions = h
        .engine
        .list_versions_by_function(&account(&h), "f", None, None)
        .await?;
    assert_eq!(versions.versions.len(), 1);
    assert!(
        h.engine
            .list_aliases(&account(&h), "f", None, None, None)
            .await?
            .aliases
            .is_empty()
    );
    let details = h.engine.get_function(&account(&h), "f", None).await?;
    assert!(details.tags.is_empty());
    assert_eq!(details.reserved_concurrency, None);
    // Numbering starts again for the new function.
    assert_eq!(publish(&h, "f").await?, "1");
    Ok(())
}

#[tokio::test]
async fn invoking_a_pending_function_is_a_conflict() -> TestResult {
    let h = Harness::new().await?;
    h.engine.create_function(&account(&h), input("f")?).await?;
    // eddy stores functions Active at once; a Pending one is written here by hand.
    let mut pending = h
        .engine
        .get_function_configuration(&account(&h), "f", None)
        .await?;
    pending.state = Some("Pending".to_string());
    h.engine
        .store()
        .update_function(
            &account(&h),
            "f",
            store::FunctionUpdate {
                configuration: Some(serde_json::to_string(&pending)?),
                code: None,
                modified_at: common::START,
                revision_id: "pending".to_string(),
                expected_revision_id: None,
            },
        )
        .await?;
    let invoke = InvokeInput {
        function_name: "f".to_string(),
        qualifier: None,
        invocation_type: InvocationType::RequestResponse,
        payload: b"{}".to_vec(),
        client_context: None,
    };
    assert!(matches!(
        h.engine.invoke(&account(&h), invoke).await,
        Err(Error::ResourceConflict(m)) if m == "The operation cannot be performed at this time. The function is currently in the following state: Pending"
    ));
    Ok(())
}

#[tokio::test]
async fn deleting_a_version_or_alias_drops_its_event_invoke_config() -> TestResult {
    let h = Harness::new().await?;
    h.engine.create_function(&account(&h), input("f")?).await?;
    let version = publish(&h, "f").await?;
    h.engine
        .create_alias(&account(&h), "f", alias_input("live", &version))
        .await?;
    let config = || engine::lambda::EventInvokeConfigInput {
        maximum_retry_attempts: Some(1),
        ..Default::default()
    };
    for qualifier in ["live", version.as_str(), "$LATEST"] {
        h.engine
            .put_function_event_invoke_config(&account(&h), "f", Some(qualifier), config())
            .await?;
    }
    h.engine.delete_alias(&account(&h), "f", "live").await?;
    h.engine
        .delete_function(&account(&h), "f", Some(&version))
        .await?;
    for gone in ["live", version.as_str()] {
        let error = h
            .engine
            .get_function_event_invoke_config(&account(&h), "f", Some(gone))
            .await;
        assert!(
            matches!(error, Err(Error::FunctionNotFound(_))),
            "{gone}: {error:?}"
        );
    }
    // $LATEST's is untouched.
    h.engine
        .get_function_event_invoke_config(&account(&h), "f", Some("$LATEST"))
        .await?;
    Ok(())
}
