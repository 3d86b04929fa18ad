//! Lambda functions through the `Engine` API (no code is run here: the boto3 suite invokes
//! functions): defaults, validation, paging, revisions, and Invoke's checks before running.

mod common;

use std::collections::BTreeMap;
use std::io::Write;

use common::{Harness, TestResult};
use engine::Error;
use engine::lambda::{
    CreateFunctionInput, EnvironmentInput, FunctionCode, InvocationType, InvokeInput,
    UpdateFunctionConfigurationInput,
};

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

fn zip_with(name: &str, contents: &[u8]) -> TestResult<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file(name, zip::write::SimpleFileOptions::default())?;
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
            zip_file: Some(zip_with("app.py", b"def handler(e, c):\n    return e\n")?),
            ..FunctionCode::default()
        },
        ..CreateFunctionInput::default()
    })
}

fn account(h: &Harness) -> String {
    h.caller.account.clone()
}

#[tokio::test]
async fn create_function_fills_in_aws_defaults() -> TestResult {
    let h = Harness::new().await?;
    let created = h.engine.create_function(&account(&h), input("f")?).await?;
    assert_eq!(created.timeout, 3);
    assert_eq!(created.memory_size, 128);
    assert_eq!(created.version, "$LATEST");
    assert_eq!(created.architectures, ["x86_64"]);
    // The answer says Pending, as AWS's does; the function is Active at once.
    assert_eq!(created.state.as_deref(), Some("Pending"));
    assert_eq!(created.state_reason_code.as_deref(), Some("Creating"));
    assert_eq!(created.last_update_status, None);
    // The harness clock starts at 1_700_000_000_000 ms.
    assert_eq!(created.last_modified, "2023-11-14T22:13:20.000+0000");
    assert_eq!(created.logging_config.log_group, "/aws/lambda/f");
    assert_eq!(created.code_sha256.len(), 44);
    let again = h
        .engine
        .get_function_configuration(&account(&h), "f", None)
        .await?;
    assert_eq!(again.state.as_deref(), Some("Active"));
    assert_eq!(again.last_update_status.as_deref(), Some("Successful"));
    assert_eq!(again.revision_id, created.revision_id);
    assert_eq!(again.code_sha256, created.code_sha256);
    Ok(())
}

#[tokio::test]
async fn create_function_refuses_duplicates_and_bad_values() -> TestResult {
    let h = Harness::new().await?;
    h.engine.create_function(&account(&h), input("f")?).await?;
    let duplicate = h.engine.create_function(&account(&h), input("f")?).await;
    assert!(
        matches!(duplicate, Err(Error::ResourceConflict(m)) if m == "Function already exist: f")
    );

    let mut timeout = input("g")?;
    timeout.timeout = Some(901);
    assert!(matches!(
        h.engine.create_function(&account(&h), timeout).await,
        Err(Error::LambdaValidation(m)) if m.contains("'timeout'")
    ));
    let mut unzippable = input("g")?;
    unzippable.code.zip_file = Some(b"not a zip".to_vec());
    assert!(matches!(
        h.engine.create_function(&account(&h), unzippable).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m.starts_with("Could not unzip")
    ));
    let mut no_handler = input("g")?;
    no_handler.handler = None;
    assert!(matches!(
        h.engine.create_function(&account(&h), no_handler).await,
        Err(Error::LambdaInvalidParameterValue(_))
    ));
    let mut bad_role = input("g")?;
    bad_role.role = Some("lambda-role".to_string());
    assert!(matches!(
        h.engine.create_function(&account(&h), bad_role).await,
        Err(Error::LambdaValidation(m)) if m.contains("'role'")
    ));
    Ok(())
}

#[tokio::test]
async fn list_functions_pages_with_an_opaque_marker() -> TestResult {
    let h = Harness::new().await?;
    for name in ["c", "a", "b"] {
        h.engine.create_function(&account(&h), input(name)?).await?;
    }
    let first = h.engine.list_functions(&account(&h), None, Some(2)).await?;
    let names: Vec<&str> = first
        .functions
        .iter()
        .map(|f| f.function_name.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(first.functions.iter().all(|f| f.state.is_none()));
    let marker = first.next_marker.ok_or("a second page")?;
    let second = h
        .engine
        .list_functions(&account(&h), Some(&marker), Some(1000))
        .await?;
    assert_eq!(second.functions.len(), 1);
    assert_eq!(second.functions[0].function_name, "c");
    assert_eq!(second.next_marker, None);
    Ok(())
}

#[tokio::test]
async fn update_configuration_checks_the_revision_and_replaces_the_environment() -> TestResult {
    let h = Harness::new().await?;
    let mut with_environment = input("f")?;
    with_environment.environment = Some(EnvironmentInput {
        variables: BTreeMap::from([("A".to_string(), "1".to_string())]),
    });
    let created = h
        .engine
        .create_function(&account(&h), with_environment)
        .await?;
    h.clock.advance(1500);
    let updated = h
        .engine
        .update_function_configuration(
            &account(&h),
            "f",
            UpdateFunctionConfigurationInput {
                environment: Some(EnvironmentInput {
                    variables: BTreeMap::from([("B".to_string(), "2".to_string())]),
                }),
                revision_id: Some(created.revision_id.clone()),
                ..UpdateFunctionConfigurationInput::default()
            },
        )
        .await?;
    assert_eq!(
        updated.environment.map(|e| e.variables),
        Some(BTreeMap::from([("B".to_string(), "2".to_string())]))
    );
    assert_ne!(updated.revision_id, created.revision_id);
    assert_eq!(updated.last_modified, "2023-11-14T22:13:21.500+0000");
    let stale = h
        .engine
        .update_function_configuration(
            &account(&h),
            "f",
            UpdateFunctionConfigurationInput {
                memory_size: Some(256),
                revision_id: Some(created.revision_id),
                ..UpdateFunctionConfigurationInput::default()
            },
        )
        .await;
    assert!(matches!(stale, Err(Error::PreconditionFailed(_))));
    Ok(())
}

#[tokio::test]
async fn invoke_checks_payload_and_function_before_running() -> TestResult {
    let h = Harness::new().await?;
    h.engine.create_function(&account(&h), input("f")?).await?;
    let invoke = |name: &str, payload: &[u8], invocation_type| InvokeInput {
        function_name: name.to_string(),
        qualifier: None,
        invocation_type,
        payload: payload.to_vec(),
        client_context: None,
    };
    let dry_run = h
        .engine
        .invoke(&account(&h), invoke("f", b"{}", InvocationType::DryRun))
        .await?;
    assert!(dry_run.is_none());
    assert!(matches!(
        h.engine
            .invoke(
                &account(&h),
                invoke("f", b"{", InvocationType::RequestResponse)
            )
            .await,
        Err(Error::InvalidRequestContent(_))
    ));
    assert!(matches!(
        h.engine
            .invoke(&account(&h), invoke("missing", b"{}", InvocationType::RequestResponse))
            .await,
        Err(Error::FunctionNotFound(m)) if m == "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing"
    ));
    let too_large = vec![b' '; 6_291_457];
    assert!(matches!(
        h.engine
            .invoke(
                &account(&h),
                invoke("f", &too_large, InvocationType::RequestResponse)
            )
            .await,
        Err(Error::LambdaRequestTooLarge(_))
    ));
    h.engine.delete_function(&account(&h), "f", None).await?;
    assert!(matches!(
        h.engine.get_function(&account(&h), "f", None).await,
        Err(Error::FunctionNotFound(_))
    ));
    Ok(())
}
