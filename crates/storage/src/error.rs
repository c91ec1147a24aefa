//! The storage crate's one error type, [`StorageError`], and the mapping of redb's error types
//! into it.
//!
//! Each variant says who has to act: the operator (`Locked`, `Io`, `Unavailable`, `Corrupt`,
//! `Incompatible`), the caller (`InvalidInput`) or a developer (`Internal`).

use std::path::{Path, PathBuf};

/// Every failure of the durable store.
///
/// `Display` prints only this error's own message; the OS error behind an [`StorageError::Io`]
/// (for example "No space left on device") is its [`std::error::Error::source`], so callers that
/// show the error to a person should print the whole source chain.
#[derive(thiserror::Error, Debug)]
pub enum StorageError {
    /// Another process (or another [`crate::Store`] in this process) holds the exclusive lock on
    /// the data directory. The operator must stop the other server or pick another directory.
    #[error("data directory \"{}\" is locked: another freshet server is using it", .dir.display())]
    Locked {
        /// The data directory whose `LOCK` file is held.
        dir: PathBuf,
    },

    /// The operating system reported an I/O failure, such as a full disk or a permission
    /// problem. The operator must fix the cause. Any I/O failure while writing leaves the open
    /// store unusable (later calls fail with [`StorageError::Unavailable`]), so the server must
    /// then be restarted.
    #[error("I/O error while {context}")]
    Io {
        /// What the store was doing, naming the file or directory involved.
        context: String,
        /// The OS error; its text (e.g. "No space left on device") is kept here.
        #[source]
        source: std::io::Error,
    },

    /// An earlier I/O failure left the open store unusable. The operator must fix that failure's
    /// cause and restart the server, which reopens and recovers the data file.
    #[error(
        "data file \"{}\" is unusable after an earlier I/O error (while {context}): fix the cause and restart the server",
        .path.display()
    )]
    Unavailable {
        /// The data file.
        path: PathBuf,
        /// What the store was asked to do.
        context: String,
    },

    /// The data file is damaged or is not a freshet data file. The operator must restore it from
    /// a backup or move it away.
    #[error("data file \"{}\" is corrupt (while {context}): {detail}", .path.display())]
    Corrupt {
        /// The data file.
        path: PathBuf,
        /// What the store was doing when it found the damage.
        context: String,
        /// What is wrong, as far as it is known.
        detail: String,
    },

    /// The data file was written in a format this build cannot read. The operator must run a
    /// matching server version or migrate the data.
    #[error("data file \"{}\" has an incompatible format: {detail}", .path.display())]
    Incompatible {
        /// The data file.
        path: PathBuf,
        /// Which versions were found and expected.
        detail: String,
    },

    /// The caller asked for something the store cannot do, such as storing a value larger than
    /// redb's 3 GiB limit. The caller must change the request.
    #[error("invalid storage request while {context}: {detail}")]
    InvalidInput {
        /// What the store was asked to do.
        context: String,
        /// What is wrong with the request.
        detail: String,
    },

    /// A bug in freshet or redb (a broken invariant that is reported rather than panicking,
    /// such as a poisoned internal lock). A developer must fix it.
    #[error("internal storage error while {context}: {detail}")]
    Internal {
        /// What the store was doing.
        context: String,
        /// The underlying failure.
        detail: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Converts one of redb's error types into a [`StorageError`], given the data file's path and a
/// description of the operation (e.g. "committing transaction at ts 42").
pub(crate) trait IntoStorageError {
    fn into_storage_error(self, path: &Path, context: String) -> StorageError;
}

impl IntoStorageError for redb::StorageError {
    fn into_storage_error(self, path: &Path, context: String) -> StorageError {
        match self {
            redb::StorageError::Corrupted(detail) => StorageError::Corrupt {
                path: path.to_path_buf(),
                context,
                detail,
            },
            redb::StorageError::ValueTooLarge(len) => StorageError::InvalidInput {
                context,
                detail: format!("a value of {len} bytes exceeds the maximum value size of 3 GiB"),
            },
            // redb reports a file that does not start with its magic number, and reads past the
            // end of a truncated file, as these kinds.
            redb::StorageError::Io(source)
                if matches!(
                    source.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                StorageError::Corrupt {
                    path: path.to_path_buf(),
                    context,
                    detail: format!("the file is invalid or truncated: {source}"),
                }
            }
            redb::StorageError::Io(source) => StorageError::Io {
                context: format!("{context} (data file \"{}\")", path.display()),
                source,
            },
            redb::StorageError::PreviousIo | redb::StorageError::DatabaseClosed => {
                StorageError::Unavailable {
                    path: path.to_path_buf(),
                    context,
                }
            }
            other => StorageError::Internal {
                context,
                detail: other.to_string(),
            },
        }
    }
}

impl IntoStorageError for redb::DatabaseError {
    fn into_storage_error(self, path: &Path, context: String) -> StorageError {
        match self {
            redb::DatabaseError::Storage(err) => err.into_storage_error(path, context),
            // Our own LOCK file is taken first, so this means a process that does not use it
            // (an older freshet or a redb tool) has the file open.
            redb::DatabaseError::DatabaseAlreadyOpen | redb::DatabaseError::LockProtocolMismatch => {
                StorageError::Locked {
                    dir: path.parent().unwrap_or(path).to_path_buf(),
                }
            }
            redb::DatabaseError::UpgradeRequired(version) => StorageError::Incompatible {
                path: path.to_path_buf(),
                detail: format!(
                    "the redb file format version is {version}, which this build of redb cannot open without a manual upgrade"
                ),
            },
            other => StorageError::Internal {
                context,
                detail: other.to_string(),
            },
        }
    }
}

impl IntoStorageError for redb::TransactionError {
    fn into_storage_error(self, path: &Path, context: String) -> StorageError {
        match self {
            redb::TransactionError::Storage(err) => err.into_storage_error(path, context),
            other => StorageError::Internal {
                context,
                detail: other.to_string(),
            },
        }
    }
}

impl IntoStorageError for redb::TableError {
    fn into_storage_error(self, path: &Path, context: String) -> StorageError {
        match self {
            redb::TableError::Storage(err) => err.into_storage_error(path, context),
            // A table of ours with another key or value type means the file was not written by
            // this format version of freshet.
            err @ (redb::TableError::TableTypeMismatch { .. }
            | redb::TableError::TableIsMultimap(_)
            | redb::TableError::TypeDefinitionChanged { .. }
            | redb::TableError::TableDoesNotExist(_)) => StorageError::Corrupt {
                path: path.to_path_buf(),
                context,
                detail: format!("it is not a freshet data file: {err}"),
            },
            other => StorageError::Internal {
                context,
                detail: other.to_string(),
            },
        }
    }
}

impl IntoStorageError for redb::CommitError {
    fn into_storage_error(self, path: &Path, context: String) -> StorageError {
        match self {
            redb::CommitError::Storage(err) => err.into_storage_error(path, context),
            other => StorageError::Internal {
                context,
                detail: other.to_string(),
            },
        }
    }
}

impl IntoStorageError for redb::SetDurabilityError {
    fn into_storage_error(self, _path: &Path, context: String) -> StorageError {
        StorageError::Internal {
            context,
            detail: self.to_string(),
        }
    }
}
