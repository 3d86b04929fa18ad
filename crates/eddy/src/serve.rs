//! `eddy serve`: opens the store, starts the engine and its workers, creates the queues
//! the configuration declares, and serves every API on one port until SIGINT or SIGTERM.
//!
//! Shutdown order matters for durability: stop accepting connections and end long polls,
//! let in-flight requests finish (each is answered only after its commit), stop the
//! workers, stop every function environment, then drop the engine so the store's writer
//! drains and exits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use engine::sqs::{Caller, CreateQueueInput};
use engine::{CancellationToken, Engine, EngineConfig, SystemClock};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::config::Settings;

/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = if store::is_postgres_url(&settings.store_url) {
        let options = store::PostgresOptions {
            pool_size: settings.store_pool_size,
            ..store::PostgresOptions::default()
        };
        store::open_postgres(&settings.store_url, options).await
    } else {
        store::open(&settings.store_url).await
    };
    let store = store.with_context(|| {
        format!(
            "cannot open store {}",
            store::redact_url(&settings.store_url)
        )
    })?;
    tracing::info!(
        backend = store.backend_name(),
        url = %store::redact_url(&settings.store_url),
        "store open"
    );

    let listener = TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    let shutdown = CancellationToken::new();
    let clock: Arc<dyn engine::Clock> = Arc::new(SystemClock);
    let engine = Engine::new(
        store,
        clock.clone(),
        EngineConfig {
            default_account: settings.account_id.clone(),
            region: settings.region.clone(),
        },
        shutdown.clone(),
    );
    let local_address = listener.local_addr()?;
    engine.set_function_platform(function_platform(&settings, local_address, clock));
    engine.set_sns_platform(engine::sns::SnsPlatform {
        public_url: public_url(local_address),
        http: Arc::new(api::sns::http::HttpNotifier::new()),
    });
    engine.set_async_invocation_settings(engine::lambda::AsyncInvocationSettings {
        function_retry_delay: settings.function_retry_delay,
    });
    engine.set_sns_envelope_signing(settings.sns_sign_envelopes);
    create_declared_queues(&engine, &settings).await?;
    let workers = engine.start_workers();

    let app = api::app(
        engine.clone(),
        api::ApiConfig {
            access_keys: settings.access_keys.clone(),
        },
    );
    // Tests and scripts read this first stdout line to learn the port.
    let mut stdout = tokio::io::stdout();
    stdout
        .write_all(format!("listening on http://{local_address}\n").as_bytes())
        .await?;
    stdout.flush().await?;
    tracing::info!(
        address = %local_address,
        startup_ms = started.elapsed().as_millis() as u64,
        signed = !settings.access_keys.is_empty(),
        "eddy is serving"
    );

    if settings.access_keys.is_empty() && !local_address.ip().is_loopback() && settings.insecure {
        tracing::warn!("--insecure: accepting unsigned requests on a non-loopback address");
    }

    let signal_token = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested: finishing in-flight requests");
        signal_token.cancel();
    });

    let server_token = shutdown.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        server_token.cancelled().await;
    });
    let server = tokio::spawn(async move { server.await });
    shutdown.cancelled().await;
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => tracing::error!(%error, "server error"),
        Ok(Err(error)) => tracing::error!(%error, "server task failed"),
        Err(_) => tracing::warn!("in-flight requests did not finish in time; exiting anyway"),
    }
    workers.join().await;
    if let Some(runner) = engine.function_runner() {
        runner.stop_all_environments();
    }
    drop(engine);
    tracing::info!("eddy stopped");
    Ok(())
}

/// Where clients reach this server, for the SubscribeURL, UnsubscribeURL and
/// SigningCertURL of SNS messages: the bound address, or loopback when bound to all
/// interfaces (`0.0.0.0` is not an address a subscriber can call).
fn public_url(local_address: std::net::SocketAddr) -> String {
    let mut address = local_address;
    if address.ip().is_unspecified() {
        address.set_ip(match address.ip() {
            std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{address}")
}

/// What Invoke runs functions with: a runner whose environments reach the Runtime API
/// through the api crate, call eddy back at its own address, stop after the idle timeout
/// and are held to their MemorySize (by cgroup when one is configured and usable).
fn function_platform(
    settings: &Settings,
    local_address: std::net::SocketAddr,
    clock: Arc<dyn engine::Clock>,
) -> engine::lambda::FunctionPlatform {
    let (memory_limit, cgroup_refused) =
        engine::lambda::MemoryLimit::choose(settings.function_cgroup.as_deref());
    if let Some(reason) = cgroup_refused {
        tracing::warn!(%reason, "function memory cgroup unusable; enforcing MemorySize with RLIMIT_AS");
    }
    match &memory_limit {
        engine::lambda::MemoryLimit::Cgroup(parent) => {
            tracing::info!(cgroup = %parent.display(), "function MemorySize enforced by cgroup");
        }
        engine::lambda::MemoryLimit::AddressSpace => {
            tracing::debug!("function MemorySize enforced with RLIMIT_AS");
        }
    }
    let mut config = engine::lambda::LambdaConfig {
        region: settings.region.clone(),
        account: settings.account_id.clone(),
        endpoint_url: Some(format!("http://{local_address}")),
        idle_timeout: settings.function_idle_timeout,
        memory_limit,
        clock,
        ..engine::lambda::LambdaConfig::default()
    };
    if let Some(python) = &settings.lambda_python {
        config.commands.python.program = python.clone();
    }
    engine::lambda::FunctionPlatform {
        runner: engine::lambda::FunctionRunner::new(
            config,
            Arc::new(api::lambda_runtime::RuntimeApiHttp),
        ),
        data_dir: settings.data_dir.clone(),
        concurrency: engine::lambda::ConcurrencyGate::new(settings.concurrency_limit),
    }
}

async fn create_declared_queues(engine: &Engine, settings: &Settings) -> anyhow::Result<()> {
    for queue in &settings.queues {
        let account = queue
            .account
            .clone()
            .unwrap_or_else(|| settings.account_id.clone());
        let caller = Caller {
            sender_id: account.clone(),
            account,
        };
        let created = engine
            .create_queue(
                &caller,
                CreateQueueInput {
                    name: queue.name.clone(),
                    attributes: queue.attribute_strings(),
                    tags: queue.tags.clone(),
                },
            )
            .await;
        match created {
            Ok(_) => {}
            // The configuration creates what is absent; it never rewrites a live queue.
            Err(engine::Error::QueueNameExists(reason)) => {
                tracing::warn!(queue = %queue.name, %reason, "declared queue exists with other attributes; left as it is");
                continue;
            }
            Err(error) => {
                return Err(error).with_context(|| {
                    format!("cannot create queue {} from the configuration", queue.name)
                });
            }
        }
        tracing::info!(queue = %queue.name, "declared queue ready");
    }
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut interrupt), Ok(mut terminate)) => {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
        _ => {
            // Without signal handlers, fall back to Ctrl-C only.
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
