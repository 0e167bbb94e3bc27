//! Progress of a long `check` on stderr: a line that is rewritten in place,
//! shown only when stderr is a terminal and not in CI, so that logs and
//! pipes never receive it.

use std::cell::Cell;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Time between two updates of the progress line. The first batch of
/// documents is always shown, and the line is cleared at the end, so a
/// short run leaves nothing behind.
const INTERVAL: Duration = Duration::from_millis(250);

pub struct Progress {
    enabled: bool,
    started: Instant,
    last: Cell<Option<Instant>>,
    bytes: Cell<u64>,
    shown: Cell<bool>,
}

impl Progress {
    /// Starts tracking; shows nothing when `quiet`, when stderr is not a
    /// terminal, or when `CI` is set.
    pub fn start(quiet: bool) -> Self {
        let enabled = !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Progress {
            enabled,
            started: Instant::now(),
            last: Cell::new(None),
            bytes: Cell::new(0),
            shown: Cell::new(false),
        }
    }

    /// Counts `bytes` more of input read, and shows the totals at most
    /// every quarter second.
    pub fn update(&self, records: usize, bytes: usize) {
        self.bytes.set(self.bytes.get() + bytes as u64);
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let elapsed = now.duration_since(self.started);
        if self
            .last
            .get()
            .is_some_and(|t| now.duration_since(t) < INTERVAL)
        {
            return;
        }
        self.last.set(Some(now));
        self.shown.set(true);
        let megabytes = self.bytes.get() as f64 / 1_048_576.0;
        let rate = megabytes / elapsed.as_secs_f64().max(0.001);
        let mut stderr = std::io::stderr().lock();
        let _ = write!(
            stderr,
            "\r\x1b[Kclaimlint: {records} records, {megabytes:.0} MB read ({rate:.0} MB/s)"
        );
        let _ = stderr.flush();
    }

    /// Clears the progress line, if one was shown.
    pub fn finish(&self) {
        if self.shown.get() {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[K");
            let _ = stderr.flush();
        }
    }
}
