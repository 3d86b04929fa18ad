//! Runs the store conformance suite against the embedded SQLite backend, each test on a
//! fresh database in its own temporary directory.

use std::future::Future;
use std::pin::Pin;

use store::conformance::Backing;
use store::{SqliteOptions, Store};

struct SqliteBacking {
    dir: tempfile::TempDir,
}

impl SqliteBacking {
    fn fresh() -> SqliteBacking {
        SqliteBacking {
            dir: tempfile::tempdir().expect("a temporary directory for the test database"),
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
            },
        ))
    }

    fn reject_message_body<'a>(
        &'a self,
        body: &'a str,
    ) -> Pin<Box<dyn Future<Output = store::Result<()>> + Send + 'a>> {
        Box::pin(async move {
            // A second connection beside the open store's writer: the writer's statements
            // see the new trigger (SQLite re-prepares them when the schema changes).
            let connection = rusqlite::Connection::open(self.dir.path().join("eddy.db"))?;
            connection.busy_timeout(std::time::Duration::from_secs(10))?;
            connection.execute_batch(&format!(
                "CREATE TRIGGER reject_message_body BEFORE INSERT ON messages \
                 WHEN NEW.body = '{}' BEGIN SELECT RAISE(ABORT, 'message body refused'); END;",
                body.replace('\'', "''")
            ))?;
            Ok(())
        })
    }
}

store::conformance_tests!(SqliteBacking::fresh());

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
