//! Files only their owner may touch: creating them (mode 0600, never over an existing name),
//! replacing them atomically, reading one only if it is a private regular file of ours, and
//! advisory locks between processes. Shared by the token file, the host shared cache and the
//! credentials file.

use std::borrow::Cow;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

/// Replaces `path` with `bytes` so that readers see the old file or the new one, never a part:
/// a new private file next to it, then rename. With `durable`, the data is on disk before it
/// replaces the old file (after a crash readers find a whole file, not an empty one).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    write_atomic_via(path, &temp_path(path), bytes, durable)
}

/// `write_atomic` through the temporary file `tmp` (in the same directory), which must not
/// exist: for writers that serialize themselves with a lock and so need no unique name.
pub(crate) fn write_atomic_via(path: &Path, tmp: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    let result = (|| {
        let mut f = create_private(tmp)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        std::fs::rename(tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    result
}

/// Creates `path` with `bytes`, mode 0600, never replacing an existing file (`AlreadyExists`):
/// written and synced under a temporary name, then linked into place, so nobody ever sees a
/// part of it.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = create_private(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// `.NAME.tmp.PID.N` next to `path`: unique per process and call, hidden from `ls`.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or(Cow::Borrowed("token"));
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.tmp.{}.{n}", std::process::id()))
}

/// A new file only its owner can read or write; fails if the name exists (no clobbering, no
/// following a planted symlink).
#[cfg(unix)]
pub(crate) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
pub(crate) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
pub(crate) fn create_private_dirs(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
pub(crate) fn create_private_dirs(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

// The Unix file checks: ownership and modes, no-follow opens.

#[cfg(unix)]
pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Ours, and no access for group or others.
#[cfg(unix)]
pub(crate) fn check_private(meta: &std::fs::Metadata) -> std::result::Result<(), String> {
    check_private_as(meta, euid())
}

#[cfg(unix)]
pub(crate) fn check_private_as(meta: &std::fs::Metadata, uid: u32) -> std::result::Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if meta.uid() != uid {
        return Err(format!("it is owned by uid {}, not by this user (uid {uid})", meta.uid()));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!("its mode {:o} gives group or others access", meta.mode() & 0o777));
    }
    Ok(())
}

/// The file's bytes if it exists and is a private regular file of ours; `Ok(None)` if it does
/// not exist; `Err(reason)` if it exists but must not be trusted. Never follows a symlink, and
/// checks the opened file itself (fstat), so it cannot be swapped between check and read.
#[cfg(unix)]
pub(crate) fn read_private(path: &Path, max: u64) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, String> {
    read_private_as(path, max, euid())
}

#[cfg(unix)]
pub(crate) fn read_private_as(path: &Path, max: u64, uid: u32) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, String> {
    read_checked(path, max, false, |meta| check_private_as(meta, uid))
}

/// The bytes of a file holding a secret of the user's choosing (a private key): it must give
/// group and others no access, whoever owns it. Symbolic links are followed (Kubernetes and
/// Docker mount secrets through them); the file finally opened is the one checked.
#[cfg(unix)]
pub(crate) fn read_protected(path: &Path, max: u64) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, String> {
    read_checked(path, max, true, |meta| {
        use std::os::unix::fs::MetadataExt;
        match meta.mode() & 0o077 {
            0 => Ok(()),
            _ => Err(format!(
                "it is open to group or others (mode {:o}), and a private key must be readable by its owner only; run: chmod 600 {}",
                meta.mode() & 0o777,
                path.display()
            )),
        }
    })
}

/// The bytes of a file that chooses what this process uses but holds nothing others may not
/// read (the SDK's credentials and token files): writable by group or others is refused, as
/// whoever can write it picks the credentials or token. Symbolic links are followed (dotfile
/// managers link them); the file finally opened is the one checked, so no check-then-read race.
#[cfg(unix)]
pub(crate) fn read_owner_written(path: &Path, max: u64) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, String> {
    read_checked(path, max, true, |meta| {
        use std::os::unix::fs::MetadataExt;
        match meta.mode() & 0o022 {
            0 => Ok(()),
            _ => Err(format!(
                "it is writable by group or others (mode {:o}); run: chmod 600 {}",
                meta.mode() & 0o777,
                path.display()
            )),
        }
    })
}

#[cfg(unix)]
fn read_checked(
    path: &Path,
    max: u64,
    follow: bool,
    check: impl Fn(&std::fs::Metadata) -> std::result::Result<(), String>,
) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let flags = if follow { libc::O_NONBLOCK } else { libc::O_NOFOLLOW | libc::O_NONBLOCK };
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(flags).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if !follow && e.raw_os_error() == Some(libc::ELOOP) => return Err("it is a symbolic link".into()),
        Err(e) => return Err(format!("cannot open it: {e}")),
    };
    let meta = file.metadata().map_err(|e| format!("cannot inspect it: {e}"))?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    check(&meta)?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(1024));
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > max {
        return Err("it is too large".into());
    }
    Ok(Some(bytes))
}

/// Takes the `flock` of the lock file `path` (created mode 0600), waiting at most `wait` for
/// another process to release it, polling from 1 ms up to `max_poll`. `Ok(None)`: gave up. The
/// lock is released when the returned file is dropped, or by the kernel when this process dies.
/// A lock file that is not ours (or a symlink) is replaced, since someone else could hold it
/// forever; `replaced` hears why.
pub(crate) fn lock_within(path: &Path, wait: Duration, max_poll: Duration, replaced: &dyn Fn(&str)) -> std::io::Result<Option<std::fs::File>> {
    let file = open_lock(path, replaced)?;
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(1);
    loop {
        if try_lock(&file)? {
            return Ok(Some(file));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(max_poll);
    }
}

/// Opens (creating, mode 0600) the lock file `path`. One that is not ours is replaced: a lock
/// file someone else controls could be held forever; `replaced` hears why.
#[cfg(unix)]
pub(crate) fn open_lock(path: &Path, replaced: &dyn Fn(&str)) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let open = || std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(path);
    let file = match open() {
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => None,
        other => Some(other?),
    };
    if let Some(file) = file {
        let meta = file.metadata()?;
        match check_private(&meta) {
            Ok(()) if meta.is_file() => return Ok(file),
            Ok(()) => replaced("it is not a regular file"),
            Err(why) => replaced(&why),
        }
    } else {
        replaced("it is a symbolic link");
    }
    std::fs::remove_file(path)?;
    open()
}

/// `flock(LOCK_EX | LOCK_NB)`: `Ok(false)` if another open file holds it.
#[cfg(unix)]
pub(crate) fn try_lock(file: &std::fs::File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: a valid open descriptor owned by `file` for the duration of the call.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(e),
        }
    }
}

#[cfg(not(unix))]
pub(crate) fn open_lock(_: &Path, _: &dyn Fn(&str)) -> std::io::Result<std::fs::File> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "no flock on this system"))
}

#[cfg(not(unix))]
pub(crate) fn try_lock(_: &std::fs::File) -> std::io::Result<bool> {
    Ok(false)
}

/// Makes a rename in `dir` durable (the directory entry itself on disk). Best effort: some
/// file systems refuse fsync on a directory.
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
pub(crate) fn sync_dir(_: &Path) {}

#[cfg(not(unix))]
pub(crate) fn check_private(_: &std::fs::Metadata) -> std::result::Result<(), String> {
    Err("sharing tokens between processes needs a Unix system".into())
}

#[cfg(not(unix))]
pub(crate) fn read_private(_: &Path, _: u64) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, String> {
    Ok(None)
}

/// Without Unix modes there is nothing to check: the file's ACLs are the system's business.
#[cfg(not(unix))]
pub(crate) fn read_owner_written(path: &Path, max: u64) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, String> {
    read_protected(path, max)
}

/// Without Unix modes there is nothing to check: the file's ACLs are the system's business.
#[cfg(not(unix))]
pub(crate) fn read_protected(path: &Path, max: u64) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, String> {
    match std::fs::read(path) {
        Ok(b) if b.len() as u64 > max => Err("it is too large".into()),
        Ok(b) => Ok(Some(Zeroizing::new(b))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read it: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn files_of_another_user_or_open_to_others_are_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("raptoken-files-unit-{}", std::process::id()));
        create_private_dirs(&dir).unwrap();
        let file = dir.join("e.json");
        let mut f = create_private(&file).unwrap();
        f.write_all(b"{}").unwrap();
        assert!(read_private_as(&file, 1024, euid()).unwrap().is_some());
        // The same file, judged as if this process ran as someone else: not ours.
        let e = read_private_as(&file, 1024, euid().wrapping_add(1)).unwrap_err();
        assert!(e.contains("owned by uid"), "{e}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(read_private_as(&file, 1024, euid()).unwrap_err().contains("mode 640"));
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(read_private_as(&link, 1024, euid()).unwrap_err().contains("symbolic link"));
        assert!(read_private_as(&dir.join("missing.json"), 1024, euid()).unwrap().is_none());
        // A protected file: any owner, links followed, but no access for group or others.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_protected(&link, 1024).unwrap().unwrap().as_slice(), b"{}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).unwrap();
        let e = read_protected(&link, 1024).unwrap_err();
        assert!(e.contains("mode 604") && e.contains("chmod 600"), "{e}");
        assert!(read_protected(&dir, 1024).unwrap_err().contains("not a regular file"));
        let new = dir.join("new.pem");
        write_new(&new, b"k").unwrap();
        assert_eq!(std::fs::metadata(&new).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(write_new(&new, b"other").unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&new).unwrap(), b"k");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3, "no temporary file left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
