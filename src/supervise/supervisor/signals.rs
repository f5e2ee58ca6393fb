//! The supervisor's signal inbox: every wait of the supervisor (start loops,
//! launches, stops, the run loop) waits on it, so a stop request is heard at
//! any moment.
//!
//! Two signalfds: SIGTERM/SIGINT alone, so that a helper's status pipe can
//! be polled together with "a stop was requested" without being woken by
//! every SIGCHLD; and SIGHUP/SIGCHLD, which only wake waits up.

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

pub(super) struct Inbox {
    stop: SignalFd,
    other: SignalFd,
    /// When SIGTERM/SIGINT first arrived.
    stop_requested: Option<Instant>,
    reload_requested: bool,
}

fn fd(signals: &[Signal]) -> nix::Result<SignalFd> {
    let mut set = SigSet::empty();
    for s in signals {
        set.add(*s);
    }
    SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
}

impl Inbox {
    /// The signals must be blocked already (see [`super::block_signals`]).
    pub(super) fn new() -> nix::Result<Self> {
        Ok(Inbox {
            stop: fd(&[Signal::SIGTERM, Signal::SIGINT])?,
            other: fd(&[Signal::SIGHUP, Signal::SIGCHLD])?,
            stop_requested: None,
            reload_requested: false,
        })
    }

    /// Readable once a stop was requested (and not yet read by [`Self::drain`]).
    pub(super) fn stop_fd(&self) -> BorrowedFd<'_> {
        self.stop.as_fd()
    }

    /// Reads every pending signal into the flags.
    pub(super) fn drain(&mut self) {
        while let Ok(Some(_)) = self.stop.read_signal() {
            self.stop_requested.get_or_insert_with(Instant::now);
        }
        while let Ok(Some(info)) = self.other.read_signal() {
            if info.ssi_signo == Signal::SIGHUP as u32 {
                self.reload_requested = true;
            }
        }
    }

    /// Since when a stop was requested, if it was.
    pub(super) fn stop_requested(&mut self) -> Option<Instant> {
        self.drain();
        self.stop_requested
    }

    /// Takes a pending reload request.
    pub(super) fn take_reload(&mut self) -> bool {
        self.drain();
        std::mem::take(&mut self.reload_requested)
    }

    /// Sleeps up to `timeout` (None: until a signal), waking on any of the
    /// supervisor's signals or on one of `extra` becoming readable; whether
    /// one of them woke it (false: the time ran out).
    pub(super) fn wait(&mut self, timeout: Option<Duration>, extra: &[BorrowedFd<'_>]) -> bool {
        let mut fds = vec![
            PollFd::new(self.stop.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.other.as_fd(), PollFlags::POLLIN),
        ];
        fds.extend(extra.iter().map(|f| PollFd::new(*f, PollFlags::POLLIN)));
        let ms = timeout.map_or(PollTimeout::NONE, |d| {
            PollTimeout::try_from(d.as_micros().div_ceil(1000).min(60_000) as i32)
                .unwrap_or(PollTimeout::NONE)
        });
        let woken = poll(&mut fds, ms).is_ok_and(|n| n > 0);
        self.drain();
        woken
    }
}
