//! eddy rides out a crash of its PostgreSQL server: while the database is down, requests
//! fail with a retryable 503 ServiceUnavailable (and the process stays up); once it is back,
//! the same eddy process serves again, without a restart, and every message it had
//! acknowledged is still there.
//!
//! The test runs a PostgreSQL server of its own (initdb into a temporary directory, on a
//! free loopback port) and crashes it with `pg_ctl stop -m immediate`, from which PostgreSQL
//! recovers by replaying its WAL. It never touches the shared test server that other tests
//! use at the same time. It needs PostgreSQL's server binaries
//! (`/usr/lib/postgresql/*/bin`, as `scripts/postgres start` installs them); as root it
//! runs them as the `postgres` user, since PostgreSQL refuses to run as root.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};

use common::Server;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Messages sent to each queue before the crash.
const MESSAGES: usize = 100;
/// Requests made while the database is down (three kinds, several rounds).
const OUTAGE_REQUESTS: usize = 9;
/// How long eddy may take to serve again once PostgreSQL accepts connections.
const RECOVERY_LIMIT: Duration = Duration::from_secs(60);
/// Each request attempt gives up after this long (eddy waits up to 5 s for a pooled
/// connection and 5 s to connect).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound of every pg_ctl wait, in seconds.
const PG_CTL_TIMEOUT_SECONDS: &str = "60";

/// A PostgreSQL server of this test's own, in a temporary directory. Stopped (immediately)
/// when dropped, whatever happened.
struct TestPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    /// Removed after `drop` has stopped the server.
    _cluster_dir: tempfile::TempDir,
}

impl TestPostgres {
    /// initdb a fresh cluster listening on a free loopback port, and start it.
    fn start() -> TestResult<TestPostgres> {
        let bin_dir = newest_bin_dir()?;
        let cluster_dir = tempfile::Builder::new()
            .prefix("eddy-pg-restart-")
            .tempdir()?;
        if running_as_root() {
            run(Command::new("chown")
                .arg("postgres:")
                .arg(cluster_dir.path()))?;
            let reachable = Command::new("runuser")
                .args(["-u", "postgres", "--", "test", "-w"])
                .arg(cluster_dir.path())
                .status()?;
            if !reachable.success() {
                return Err(format!(
                    "the user postgres cannot write to {} (a parent directory is not \
                     traversable); set TMPDIR to a directory under /tmp",
                    cluster_dir.path().display()
                )
                .into());
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let server = TestPostgres {
            data_dir: cluster_dir.path().join("data"),
            log_file: cluster_dir.path().join("postgres.log"),
            bin_dir,
            port,
            _cluster_dir: cluster_dir,
        };
        run(server
            .as_owner("initdb")
            .arg("-D")
            .arg(&server.data_dir)
            .args(["-U", "eddy", "--auth=trust", "-E", "UTF8", "--no-locale"]))?;
        let mut config = std::fs::OpenOptions::new()
            .append(true)
            .open(server.data_dir.join("postgresql.conf"))?;
        // TCP on loopback only (no unix socket, whose path could be too long); fsync on, so
        // the crash below is a real test of what was committed.
        write!(
            config,
            "\n# eddy database_restart test\nlisten_addresses = '127.0.0.1'\nport = {port}\n\
             unix_socket_directories = ''\nmax_connections = 50\nshared_buffers = 16MB\n\
             fsync = on\nsynchronous_commit = on\n"
        )?;
        server.start_again()?;
        Ok(server)
    }

    fn start_again(&self) -> TestResult {
        let started = run(self
            .as_owner("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&self.log_file)
            .args(["-w", "-t", PG_CTL_TIMEOUT_SECONDS, "start"]));
        started.map_err(|error| format!("{error}\n{}", self.log_tail()).into())
    }

    /// The crash case: every server process quits at once, without a checkpoint; the next
    /// start recovers from the WAL.
    fn stop_immediately(&self) -> TestResult {
        run(&mut self.stop_immediately_command())
    }

    /// `pg_ctl stop -m immediate`, waiting for the server to be gone.
    fn stop_immediately_command(&self) -> Command {
        let mut command = self.as_owner("pg_ctl");
        command.arg("-D").arg(&self.data_dir).args([
            "-m",
            "immediate",
            "-w",
            "-t",
            PG_CTL_TIMEOUT_SECONDS,
            "stop",
        ]);
        command
    }

    fn create_database(&self, name: &str) -> TestResult<String> {
        run(Command::new(self.bin_dir.join("createdb"))
            .args(["-h", "127.0.0.1", "-U", "eddy", "-p"])
            .arg(self.port.to_string())
            .arg(name))?;
        Ok(format!("postgres://eddy@127.0.0.1:{}/{name}", self.port))
    }

    /// A command running one of the server binaries as the cluster's owner.
    fn as_owner(&self, program: &str) -> Command {
        let program = self.bin_dir.join(program);
        if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log_file).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("last lines of {}:\n{tail}", self.log_file.display())
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if self.data_dir.join("postmaster.pid").exists() {
            let _ = self
                .stop_immediately_command()
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

/// The newest installed PostgreSQL's bin directory (Debian layout).
fn newest_bin_dir() -> TestResult<PathBuf> {
    let mut found: Vec<(Vec<u32>, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
    {
        let entry = entry?;
        let bin_dir = entry.path().join("bin");
        if bin_dir.join("initdb").is_file() {
            let version = entry
                .file_name()
                .to_string_lossy()
                .split('.')
                .map(|part| part.parse().unwrap_or(0))
                .collect();
            found.push((version, bin_dir));
        }
    }
    found.sort();
    found.pop().map(|(_, bin_dir)| bin_dir).ok_or_else(|| {
        "PostgreSQL's server binaries are not installed (no /usr/lib/postgresql/*/bin/initdb): \
         run `scripts/postgres start` once, or apt-get install postgresql"
            .into()
    })
}

/// Runs a command to completion; an error carries its output.
fn run(command: &mut Command) -> TestResult {
    let output = command.output()?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
    .into())
}

/// A short description of a failed call.
fn describe<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> String {
    match error {
        SdkError::ServiceError(service) => format!(
            "HTTP {} {}: {}",
            service.raw().status().as_u16(),
            service.err().code().unwrap_or("<no code>"),
            service.err().message().unwrap_or("")
        ),
        SdkError::TimeoutError(_) => "client timeout".to_string(),
        SdkError::DispatchFailure(_) => "dispatch failure (connection)".to_string(),
        SdkError::ResponseError(_) => "response error (connection lost mid-response)".to_string(),
        _ => "construction failure or unclassified SdkError".to_string(),
    }
}

/// Checks that a call failed as a retryable 503 ServiceUnavailable.
fn expect_service_unavailable<T, E: ProvideErrorMetadata>(
    what: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> TestResult {
    match result {
        Ok(_) => Err(format!("{what} succeeded while the database was down").into()),
        Err(SdkError::ServiceError(service))
            if service.raw().status().as_u16() == 503
                && service.err().code() == Some("ServiceUnavailable") =>
        {
            Ok(())
        }
        Err(error) => Err(format!(
            "{what} while the database was down: expected HTTP 503 ServiceUnavailable, got {}",
            describe(&error)
        )
        .into()),
    }
}

async fn create_queue(client: &Client, name: &str, fifo: bool) -> TestResult<String> {
    let mut request = client.create_queue().queue_name(name);
    if fifo {
        request = request.attributes(QueueAttributeName::FifoQueue, "true");
    }
    let output = request.send().await.map_err(|error| describe(&error))?;
    Ok(output.queue_url().ok_or("no QueueUrl")?.to_string())
}

/// Sends numbered messages, alternating SendMessage and SendMessageBatch; every one must be
/// acknowledged. Returns the bodies in send order.
async fn send_numbered(
    client: &Client,
    queue_url: &str,
    prefix: &str,
    fifo: bool,
) -> TestResult<Vec<String>> {
    let mut bodies = Vec::new();
    while bodies.len() < MESSAGES {
        let size = if bodies.len() % 20 == 0 {
            1
        } else {
            (MESSAGES - bodies.len()).min(10)
        };
        let batch: Vec<String> = (bodies.len()..bodies.len() + size)
            .map(|index| format!("{prefix}-{index:04}"))
            .collect();
        if size == 1 {
            let mut request = client
                .send_message()
                .queue_url(queue_url)
                .message_body(&batch[0]);
            if fifo {
                request = request
                    .message_group_id("group")
                    .message_deduplication_id(&batch[0]);
            }
            request.send().await.map_err(|error| describe(&error))?;
        } else {
            let mut request = client.send_message_batch().queue_url(queue_url);
            for (index, body) in batch.iter().enumerate() {
                let mut entry = SendMessageBatchRequestEntry::builder()
                    .id(format!("e{index}"))
                    .message_body(body);
                if fifo {
                    entry = entry
                        .message_group_id("group")
                        .message_deduplication_id(body);
                }
                request = request.entries(entry.build()?);
            }
            let output = request.send().await.map_err(|error| describe(&error))?;
            if !output.failed().is_empty() || output.successful().len() != batch.len() {
                return Err(format!("batch entries failed: {:?}", output.failed()).into());
            }
        }
        bodies.extend(batch);
    }
    Ok(bodies)
}

/// Receives and deletes until `expected` messages came or nothing more comes; returns the
/// bodies in delivery order. Every call must succeed.
async fn receive_and_delete(
    client: &Client,
    queue_url: &str,
    expected: usize,
) -> TestResult<Vec<String>> {
    let mut bodies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while bodies.len() < expected && Instant::now() < deadline {
        let output = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(60)
            .send()
            .await
            .map_err(|error| format!("receive after the restart: {}", describe(&error)))?;
        for message in output.messages() {
            bodies.push(message.body().unwrap_or_default().to_string());
            client
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .map_err(|error| format!("delete after the restart: {}", describe(&error)))?;
        }
    }
    Ok(bodies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eddy_serves_again_after_its_database_crashes_and_keeps_every_message() -> TestResult {
    // Dropped last: the server outlives the eddy node, whatever fails.
    let postgres = tokio::task::block_in_place(TestPostgres::start)?;
    let store_url = postgres.create_database("eddy_restart")?;
    let node = tokio::task::block_in_place(|| Server::start_node(&store_url, &[]));
    let client = common::sqs_client_without_retries(&node.endpoint, ATTEMPT_TIMEOUT).await;
    let standard = create_queue(&client, "before-the-crash", false).await?;
    let fifo = create_queue(&client, "before-the-crash.fifo", true).await?;
    let standard_bodies = send_numbered(&client, &standard, "std", false).await?;
    let fifo_bodies = send_numbered(&client, &fifo, "fifo", true).await?;

    tokio::task::block_in_place(|| postgres.stop_immediately())?;
    // A few rounds, so requests that find broken pooled connections and requests that
    // find no server to connect to are both seen.
    for round in 0..OUTAGE_REQUESTS / 3 {
        let what = |action: &str| format!("{action} (round {round})");
        expect_service_unavailable(
            &what("SendMessage"),
            client
                .send_message()
                .queue_url(&standard)
                .message_body("during the outage")
                .send()
                .await,
        )?;
        expect_service_unavailable(
            &what("ReceiveMessage"),
            client.receive_message().queue_url(&standard).send().await,
        )?;
        expect_service_unavailable(
            &what("GetQueueAttributes"),
            client
                .get_queue_attributes()
                .queue_url(&standard)
                .attribute_names(QueueAttributeName::All)
                .send()
                .await,
        )?;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    tokio::task::block_in_place(|| postgres.start_again())?;
    let restarted = Instant::now();
    let mut failures_while_recovering = Vec::new();
    let depth = loop {
        let result = client
            .get_queue_attributes()
            .queue_url(&standard)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await;
        match result {
            Ok(output) => {
                break output
                    .attributes()
                    .and_then(|attributes| {
                        attributes.get(&QueueAttributeName::ApproximateNumberOfMessages)
                    })
                    .cloned()
                    .unwrap_or_default();
            }
            Err(error) => failures_while_recovering.push(describe(&error)),
        }
        if restarted.elapsed() > RECOVERY_LIMIT {
            return Err(format!(
                "eddy did not serve again within {RECOVERY_LIMIT:?} of PostgreSQL's restart; \
                 failures: {failures_while_recovering:?}"
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let recovered_after = restarted.elapsed();
    assert_eq!(depth, MESSAGES.to_string(), "ApproximateNumberOfMessages");

    let received = receive_and_delete(&client, &standard, MESSAGES).await?;
    let received: BTreeSet<String> = received.into_iter().collect();
    let sent: BTreeSet<String> = standard_bodies.into_iter().collect();
    let missing: Vec<&String> = sent.difference(&received).collect();
    assert!(
        missing.is_empty(),
        "acknowledged standard messages lost in the crash: {missing:?}"
    );
    let received = receive_and_delete(&client, &fifo, MESSAGES).await?;
    assert_eq!(
        received, fifo_bodies,
        "the FIFO queue after the crash: wrong messages or order"
    );

    // Sends work again, and what they send is delivered.
    for (queue_url, fifo) in [(&standard, false), (&fifo, true)] {
        let mut request = client
            .send_message()
            .queue_url(queue_url)
            .message_body("after the restart");
        if fifo {
            request = request
                .message_group_id("group")
                .message_deduplication_id("after-the-restart");
        }
        request
            .send()
            .await
            .map_err(|error| format!("send after the restart: {}", describe(&error)))?;
        let received = receive_and_delete(&client, queue_url, 1).await?;
        assert_eq!(received, ["after the restart"]);
    }
    eprintln!(
        "database_restart: {MESSAGES} messages per queue kept; {OUTAGE_REQUESTS} requests \
         during the outage all answered 503 ServiceUnavailable; eddy served again \
         {recovered_after:.1?} after PostgreSQL restarted ({} failed requests meanwhile: {:?})",
        failures_while_recovering.len(),
        failures_while_recovering.iter().collect::<BTreeSet<_>>()
    );
    Ok(())
}
