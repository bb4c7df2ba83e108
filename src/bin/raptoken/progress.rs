//! "Still waiting for ..." on stderr, only once a fetch has taken more than a second: a fast
//! fetch prints nothing, a slow one explains the pause instead of looking hung.

use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::args::Progress;

const FIRST_AFTER: Duration = Duration::from_secs(1);

/// Runs `work`, reporting on stderr while it takes longer than a second. On a terminal the line
/// is updated in place each second and erased at the end; elsewhere (`--progress always`) a
/// plain line is written after 1 s and then every 5 s, so logs don't fill up.
pub fn run<R>(mode: Progress, target: &str, work: impl FnOnce() -> R) -> R {
    let tty = std::io::stderr().is_terminal();
    let show = match mode {
        Progress::Always => true,
        Progress::Never => false,
        Progress::Auto => tty,
    };
    if !show {
        return work();
    }
    let (done, finished) = mpsc::channel::<()>();
    let target = target.to_string();
    let reporter = std::thread::spawn(move || {
        let start = Instant::now();
        let mut wait = FIRST_AFTER;
        let mut shown = false;
        while let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(wait) {
            let secs = start.elapsed().as_secs();
            let mut err = std::io::stderr().lock();
            if tty {
                let _ = write!(err, "\r\x1b[Kraptoken: waiting for {target} ({secs} s)...");
                wait = Duration::from_secs(1);
            } else {
                let _ = writeln!(err, "raptoken: still waiting for {target} after {secs} s");
                wait = Duration::from_secs(5);
            }
            let _ = err.flush();
            shown = true;
        }
        if shown && tty {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    });
    let result = work();
    drop(done);
    let _ = reporter.join();
    result
}
