//! The store's one error enum.

/// Everything that can go wrong below the engine. None of these is the client's fault:
/// the engine reports them as internal errors and logs the detail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
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
