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
}

store::conformance_tests!(SqliteBacking::fresh());
