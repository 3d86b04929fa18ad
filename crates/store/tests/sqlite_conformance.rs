//! Runs the store conformance suite against the embedded SQLite backend, each test on a
//! fresh database in its own temporary directory.

use std::future::Future;
use std::pin::Pin;

use store::conformance::Backing;
use store::{SqliteOptions, Store};

struct SqliteBacking {
    dir: tempfile::TempDir,
    commit_delay: std::time::Duration,
}

impl SqliteBacking {
    fn fresh() -> SqliteBacking {
        SqliteBacking {
            dir: tempfile::tempdir().expect("a temporary directory for the test database"),
            commit_delay: std::time::Duration::ZERO,
        }
    }

    /// The same backend with the writer holding commits open for company.
    fn fresh_with_commit_delay() -> SqliteBacking {
        SqliteBacking {
            commit_delay: std::time::Duration::from_micros(500),
            ..SqliteBacking::fresh()
        }
    }
}

impl Backing for SqliteBacking {
    fn open(&self) -> Pin<Box<dyn Future<Output = store::Result<Store>> + Send + '_>> {
        // Small batches and one reader exercise the batching and pool edges too.
        Box::pin(store::open_sqlite(
            self.dir.path(),
            SqliteOptions {
                max_batch: 8,
                readers: 1,
                commit_delay: self.commit_delay,
            },
        ))
    }
}

store::conformance_tests!(SqliteBacking::fresh());

mod with_commit_delay {
    use super::SqliteBacking;

    store::conformance_tests!(SqliteBacking::fresh_with_commit_delay());
}

#[tokio::test]
async fn a_second_open_of_the_same_directory_is_refused() -> Result<(), Box<dyn std::error::Error>>
{
    let dir = tempfile::tempdir()?;
    let first = store::open_sqlite(dir.path(), store::SqliteOptions::default()).await?;
    let second = store::open_sqlite(dir.path(), store::SqliteOptions::default()).await;
    assert!(matches!(second, Err(store::Error::AlreadyOpen(_))));
    drop(first);
    // Once the first handle is gone the directory can be opened again.
    store::open_sqlite(dir.path(), store::SqliteOptions::default()).await?;
    Ok(())
}
