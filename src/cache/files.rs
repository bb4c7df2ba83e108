//! One token per host: the shared level's store in files, so short-lived processes (a CLI in a
//! shell loop, cron jobs, worker pools) reuse a token instead of each paying a request, and N
//! processes that start together send one request.
//!
//! Layout, per user: a directory of mode 0700 holding, per cache key, `KEY.json` (the token,
//! mode 0600), `KEY.lock` (an advisory `flock` held around the token request, so other
//! processes wait for its result; the kernel drops it if the holder dies) and, after a failed
//! request, `KEY.failed.json` (the error and when the next attempt is allowed). `KEY` is the
//! SHA-256 of what determines the token (issuer, token endpoint, client id, scopes, auth
//! method), never of the secret.
//!
//! Files that cannot be trusted (corrupt, truncated, someone else's, readable by others, a
//! symlink) are ignored and replaced; a directory that cannot be used (read-only, full, unsafe)
//! means in-memory caching only. The orchestration is shared.rs's.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::shared::{self, Fault, LevelConfig, Read, SharedLevel, Slot, Store};
use crate::util::files::{check_private, create_private_dirs, open_lock, read_private, try_lock, write_atomic};

/// An entry is a few hundred bytes; anything bigger is not ours.
const MAX_ENTRY: u64 = 64 * 1024;

/// The host level: files in one directory.
pub(crate) type SharedCache = SharedLevel<FileStore>;

/// Where and under which key a client shares its token (built by the options layer).
#[derive(Debug, Clone)]
pub(crate) struct SharedConfig {
    pub dir: PathBuf,
    pub level: LevelConfig,
}

impl SharedCache {
    pub(crate) fn new(cfg: SharedConfig) -> SharedCache {
        let key = cfg.level.key.clone();
        let store = FileStore {
            entry: cfg.dir.join(format!("{key}.json")),
            lock: cfg.dir.join(format!("{key}.lock")),
            failure: cfg.dir.join(format!("{key}.failed.json")),
            dir: cfg.dir,
            waiting: parking_lot::Mutex::new(None),
        };
        SharedLevel::with_store(store, cfg.level)
    }

    pub(crate) fn entry_path(&self) -> &Path {
        &self.store().entry
    }
}

/// The files of one cache key.
pub(crate) struct FileStore {
    dir: PathBuf,
    entry: PathBuf,
    lock: PathBuf,
    failure: PathBuf,
    /// The lock file opened while waiting for another process's lock: kept open between polls.
    waiting: parking_lot::Mutex<Option<File>>,
}

impl Store for FileStore {
    type Lock = File;

    fn describe_entry(&self) -> String {
        self.entry.display().to_string()
    }

    fn describe_lock(&self) -> String {
        self.lock.display().to_string()
    }

    fn open(&self) -> Result<(), Fault> {
        let unusable = |why: String| Fault::new("dir", format!("shared cache {} not used: {why}; caching in memory only", self.dir.display()));
        create_private_dirs(&self.dir).map_err(|e| unusable(format!("cannot create it: {e}")))?;
        let meta = std::fs::metadata(&self.dir).map_err(|e| unusable(format!("cannot inspect it: {e}")))?;
        if !meta.is_dir() {
            return Err(unusable("it is not a directory".into()));
        }
        // Others who can write here could plant tokens or symlinks; others who can list it
        // learn which clients run. Never loosen or tighten a user's directory silently.
        check_private(&meta).map_err(|why| unusable(format!("{why}; run: chmod 700 {}", self.dir.display())))
    }

    fn read(&self) -> Result<Read, Fault> {
        Ok(Read { entry: read_slot(&self.entry), failure: read_slot(&self.failure) })
    }

    fn try_lock(&self) -> Result<Option<File>, Fault> {
        let cannot = |e: std::io::Error| {
            Fault::new("lock", format!("cannot lock {}: {e}; requesting a token without waiting for other processes", self.lock.display()))
        };
        let mut waiting = self.waiting.lock();
        let file = match waiting.take() {
            Some(f) => f,
            None => open_lock(&self.lock, &|why| shared::log(format_args!("replacing {}: {why}", self.lock.display()))).map_err(cannot)?,
        };
        if try_lock(&file).map_err(cannot)? {
            return Ok(Some(file));
        }
        *waiting = Some(file);
        Ok(None)
    }

    fn unlock(&self, lock: File) {
        drop(lock);
        *self.waiting.lock() = None;
    }

    /// Atomically replaces the entry: readers see the old file or the new one, never a part.
    /// Not fsynced: this is a cache, and an entry lost in a crash costs one request.
    fn write_entry(&self, bytes: &[u8], _ttl: Duration) -> Result<(), Fault> {
        write_atomic(&self.entry, bytes, false)
            .map_err(|e| Fault::new("write", format!("cannot write {}: {e}; the token is cached in memory only", self.entry.display())))
    }

    fn write_failure(&self, bytes: &[u8], _ttl: Duration) -> Result<(), Fault> {
        write_atomic(&self.failure, bytes, false).map_err(|e| {
            Fault::new("write-failure", format!("cannot write {}: {e}; other processes will not know of this failure", self.failure.display()))
        })
    }

    fn clear_failure(&self) -> Result<(), Fault> {
        match std::fs::remove_file(&self.failure) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Fault::new("clear-failure", format!("cannot remove {}: {e}", self.failure.display())))
            }
            _ => Ok(()),
        }
    }
}

fn read_slot(path: &Path) -> Slot {
    match read_private(path, MAX_ENTRY) {
        Ok(None) => None,
        Ok(Some(bytes)) => Some(Ok(bytes)),
        Err(why) => Some(Err(why)),
    }
}
