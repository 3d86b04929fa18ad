//! The store's one error enum.

/// Everything that can go wrong below the engine. None of these is the client's fault:
/// the engine reports them as internal errors and logs the detail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// The database cannot be reached right now (it is restarting, the network is down,
    /// the pool timed out). Retrying later may succeed, and nothing was changed.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The backend's worker is gone (the server is shutting down or the writer died).
    #[error("the store is closed")]
    Closed,
    /// Another process holds the data directory.
    #[error("{0} is in use by another eddy process")]
    AlreadyOpen(String),
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl Error {
    /// Whether the client may retry the same request later with a chance of success
    /// (the database was unreachable); the engine answers these as `ServiceUnavailable`.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Unavailable(_) | Error::Closed => true,
            Error::Postgres(error) => match error.as_db_error() {
                // No answer from the server at all: the connection failed or was lost.
                None => true,
                // Connection exceptions, the server shutting down, too many connections.
                Some(db) => ["08", "57P", "53"]
                    .iter()
                    .any(|class| db.code().code().starts_with(class)),
            },
            _ => false,
        }
    }
}
