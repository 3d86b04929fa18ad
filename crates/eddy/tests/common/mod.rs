//! Shared helpers of the end-to-end tests: start a real `eddy serve` process on a loopback
//! port with its own data directory and a store `store::testing` picks (SQLite in the data
//! directory, or a fresh PostgreSQL database with `EDDY_TEST_STORE=postgres`), start more
//! nodes on the same store, restart a server, kill it with SIGKILL, and build SDK clients.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod chaos;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `eddy serve` child process. Killed (SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    pub data_dir: PathBuf,
    /// The `--store` URL: `sqlite:<data_dir>`, or a PostgreSQL database that other nodes
    /// may share ([`Server::start_node`]). A restart opens the same store again.
    pub store_url: String,
    /// `http://127.0.0.1:<port>`
    pub endpoint: String,
    pub port: u16,
    extra_args: Vec<String>,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts eddy on a free port with a fresh temporary data directory and a fresh store
    /// on the backend the test run asks for.
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts eddy with extra `serve` arguments.
    pub fn start_with(extra_args: &[&str]) -> Server {
        let temp = tempfile::tempdir().expect("temp dir");
        let store_url = test_store_url(temp.path());
        Server::start_on(temp, store_url, extra_args)
    }

    /// Starts another node on the store of a running one (`server.store_url`), with a data
    /// directory of its own. Only a PostgreSQL store can be shared; SQLite refuses a second
    /// process on its directory.
    pub fn start_node(store_url: &str, extra_args: &[&str]) -> Server {
        let temp = tempfile::tempdir().expect("temp dir");
        Server::start_on(temp, store_url.to_string(), extra_args)
    }

    /// Starts eddy on an existing data directory (not removed afterwards), always with the
    /// SQLite store in it: the directory is what carries the data here.
    pub fn start_in(data_dir: &Path, extra_args: &[&str]) -> Server {
        let mut server = Server {
            child: None,
            data_dir: data_dir.to_path_buf(),
            store_url: format!("sqlite:{}", data_dir.display()),
            endpoint: String::new(),
            port: 0,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            _temp: None,
        };
        server.spawn(0);
        server
    }

    fn start_on(temp: tempfile::TempDir, store_url: String, extra_args: &[&str]) -> Server {
        let mut server = Server {
            child: None,
            data_dir: temp.path().to_path_buf(),
            store_url,
            endpoint: String::new(),
            port: 0,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            _temp: Some(temp),
        };
        server.spawn(0);
        server
    }

    fn spawn(&mut self, port: u16) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_eddy"));
        command
            .arg("serve")
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--store")
            .arg(&self.store_url)
            .args(&self.extra_args)
            .env(
                "EDDY_LOG",
                std::env::var("EDDY_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("spawn eddy");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        // The first stdout line is `listening on http://127.0.0.1:<port>`.
        reader.read_line(&mut line).expect("read listening line");
        let endpoint = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from eddy: {line:?}"))
            .to_string();
        self.port = endpoint.rsplit(':').next().unwrap().parse().unwrap();
        self.endpoint = endpoint;
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown path runs, as in a crash or power cut.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait for a graceful exit; returns the exit status code.
    pub fn terminate(&mut self) -> Option<i32> {
        let child = self.child.take()?;
        let pid = child.id();
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        let mut child = child;
        let status = child.wait().ok()?;
        status.code()
    }

    /// Starts the server again on the same store, data directory and port.
    pub fn restart(&mut self) {
        self.kill9();
        let port = self.port;
        // The port may linger briefly; retry a few times before taking any port.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let free = std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
            if free || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.spawn(port);
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Sends `signal` (a `kill` name: "TERM", "INT") and waits up to `limit` for the process
    /// to exit. `Ok` holds its exit status; `Err` means it was still running at `limit` (it is
    /// then killed with SIGKILL). Afterwards `restart()` starts it again.
    pub fn signal_and_wait(
        &mut self,
        signal: &str,
        limit: Duration,
    ) -> Result<std::process::ExitStatus, String> {
        let mut child = self.child.take().ok_or("the server is not running")?;
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("still running {limit:?} after SIG{signal}"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The `--store` URL for a new server whose data directory is `dir`: `sqlite:<dir>`, or a
/// fresh PostgreSQL database with `EDDY_TEST_STORE=postgres`. Blocking, so it works from
/// sync code and from inside a test's runtime alike (it runs on a thread of its own).
pub fn test_store_url(dir: &Path) -> String {
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime to create the test store")
            .block_on(store::testing::test_store_url(&dir))
    })
    .join()
    .expect("the thread creating the test store")
    .unwrap_or_else(|error| panic!("cannot create a store for the test: {error}"))
}

/// An aws-sdk-sqs client for `endpoint` with static test credentials.
pub async fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    sqs_client_with_key(endpoint, "AKIDEXAMPLE", "secret").await
}

/// An aws-sdk-sqs client signing with the given access key.
pub async fn sqs_client_with_key(
    endpoint: &str,
    access_key_id: &str,
    secret_access_key: &str,
) -> aws_sdk_sqs::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "test",
        ))
        .load()
        .await;
    aws_sdk_sqs::Client::new(&config)
}

/// An aws-sdk-sqs client that never retries on its own, so a test decides what to retry
/// and knows which attempt was acknowledged; each attempt gives up after `attempt_timeout`.
pub async fn sqs_client_without_retries(
    endpoint: &str,
    attempt_timeout: Duration,
) -> aws_sdk_sqs::Client {
    let base = sqs_client(endpoint).await;
    let config = base
        .config()
        .to_builder()
        .retry_config(aws_sdk_sqs::config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_sdk_sqs::config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(attempt_timeout)
                .build(),
        )
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}
