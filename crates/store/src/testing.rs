//! Test fixtures that pick the backend a test run asks for: with `EDDY_TEST_STORE=postgres`
//! each test gets a fresh database on the PostgreSQL server named by
//! `EDDY_TEST_POSTGRES_URL` (`scripts/test` starts one with `scripts/postgres start` and
//! exports its URL); unset or `sqlite`, it gets SQLite in its own temporary directory.
//!
//! Test databases are never dropped: a test run's server is thrown away with the machine,
//! or recreated by the next `scripts/postgres start` that finds it stopped.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use crate::{Error, PostgresOptions, Result, SqliteOptions, Store};

/// The variable that chooses the backend: `sqlite` (the default) or `postgres`.
pub const STORE_VARIABLE: &str = "EDDY_TEST_STORE";
/// The variable holding an admin URL of the test PostgreSQL server (a role that may
/// `CREATE DATABASE`), e.g. `postgres://eddy@127.0.0.1:55432/postgres`.
pub const POSTGRES_URL_VARIABLE: &str = "EDDY_TEST_POSTGRES_URL";

/// How long creating a test database may take, connection included.
const CREATE_DATABASE_LIMIT: Duration = Duration::from_secs(60);

/// The backend tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// The backend `EDDY_TEST_STORE` asks for; an error names a value it does not know.
pub fn requested_backend() -> Result<TestBackend> {
    match std::env::var(STORE_VARIABLE) {
        Err(std::env::VarError::NotPresent) => Ok(TestBackend::Sqlite),
        Ok(value) => match value.trim().to_ascii_lowercase().as_str() {
            "" | "sqlite" => Ok(TestBackend::Sqlite),
            "postgres" | "postgresql" => Ok(TestBackend::Postgres),
            _ => Err(Error::Unsupported(format!(
                "{STORE_VARIABLE}={value:?}: expected `sqlite` or `postgres`"
            ))),
        },
        Err(std::env::VarError::NotUnicode(value)) => Err(Error::Unsupported(format!(
            "{STORE_VARIABLE}={value:?}: expected `sqlite` or `postgres`"
        ))),
    }
}

/// The backend `EDDY_TEST_STORE` asks for.
///
/// # Panics
///
/// On a value other than `sqlite` or `postgres` (test code only; the functions below
/// return that as an error instead).
pub fn test_backend() -> TestBackend {
    match requested_backend() {
        Ok(backend) => backend,
        Err(error) => panic!("{error}"),
    }
}

/// Creates a database with a fresh name on the test PostgreSQL server and returns its URL.
pub async fn fresh_postgres_url() -> Result<String> {
    let admin_url = std::env::var(POSTGRES_URL_VARIABLE).map_err(|_| {
        Error::Unavailable(format!(
            "{POSTGRES_URL_VARIABLE} is not set: run ./scripts/test, or start a server with \
             `scripts/postgres start` and set {POSTGRES_URL_VARIABLE} to the URL it prints"
        ))
    })?;
    let name = format!("eddy_test_{}", uuid::Uuid::new_v4().simple());
    let url = with_database(&admin_url, &name)?;
    let mut config = tokio_postgres::Config::from_str(&admin_url)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    let create = async {
        let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
        let connection = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        drop(client);
        let _ = connection.await;
        Ok::<_, Error>(())
    };
    tokio::time::timeout(CREATE_DATABASE_LIMIT, create)
        .await
        .map_err(|_| {
            Error::Unavailable(format!(
                "creating database {name} on {admin_url} took over {CREATE_DATABASE_LIMIT:?}"
            ))
        })??;
    Ok(url)
}

/// Opens a store for one test on the backend `EDDY_TEST_STORE` asks for: SQLite in `dir`,
/// or PostgreSQL on a fresh database (then `dir` is unused), each with default options.
pub async fn open_test_store(dir: &Path) -> Result<Store> {
    match requested_backend()? {
        TestBackend::Sqlite => crate::open_sqlite(dir, SqliteOptions::default()).await,
        TestBackend::Postgres => {
            crate::open_postgres(&fresh_postgres_url().await?, PostgresOptions::default()).await
        }
    }
}

/// The `--store` URL an `eddy serve` under test should use: `sqlite:<dir>`, or a fresh
/// PostgreSQL database.
pub async fn test_store_url(dir: &Path) -> Result<String> {
    match requested_backend()? {
        TestBackend::Sqlite => Ok(format!("sqlite:{}", dir.display())),
        TestBackend::Postgres => fresh_postgres_url().await,
    }
}

/// `url` (a `postgres://` URL) with its database replaced by `database`; query
/// parameters are kept.
fn with_database(url: &str, database: &str) -> Result<String> {
    let not_a_url = || {
        Error::Unsupported(format!(
            "{POSTGRES_URL_VARIABLE}={url:?}: expected a URL like \
             postgres://user@127.0.0.1:5432/postgres"
        ))
    };
    if !crate::is_postgres_url(url) {
        return Err(not_a_url());
    }
    let authority_start = url.find("://").ok_or_else(not_a_url)? + 3;
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(authority_end);
    let query = after.find('?').map_or("", |at| &after[at..]);
    Ok(format!(
        "{}{authority}/{database}{query}",
        &url[..authority_start]
    ))
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_only_the_database() -> crate::Result<()> {
        for (admin, expected) in [
            (
                "postgres://eddy@127.0.0.1:55432/postgres",
                "postgres://eddy@127.0.0.1:55432/t",
            ),
            ("postgresql://u:p@h", "postgresql://u:p@h/t"),
            ("postgres://h:1/", "postgres://h:1/t"),
            (
                "postgres://h/db?sslmode=disable&x=y",
                "postgres://h/t?sslmode=disable&x=y",
            ),
            (
                "postgres://h?sslmode=disable",
                "postgres://h/t?sslmode=disable",
            ),
        ] {
            assert_eq!(with_database(admin, "t")?, expected);
        }
        assert!(with_database("host=localhost dbname=x", "t").is_err());
        Ok(())
    }
}
