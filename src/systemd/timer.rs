//! A timer future for bounding D-Bus calls and job waits (the timer of
//! zbus's runtime is not public). Each timer is a sleeping thread that wakes
//! the future when it fires; dropping the timer (the awaited call finished
//! first) ends the thread at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Shared {
    fired: bool,
    cancelled: bool,
    waker: Option<Waker>,
}

pub(super) struct Timer {
    shared: Arc<(Mutex<Shared>, Condvar)>,
}

impl Timer {
    pub(super) fn after(d: Duration) -> Timer {
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        let theirs = Arc::clone(&shared);
        let deadline = Instant::now() + d;
        std::thread::spawn(move || {
            let (lock, cv) = &*theirs;
            let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
            while !s.cancelled {
                let now = Instant::now();
                if now >= deadline {
                    s.fired = true;
                    if let Some(w) = s.waker.take() {
                        w.wake();
                    }
                    return;
                }
                s = cv
                    .wait_timeout(s, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        });
        Timer { shared }
    }
}

impl Future for Timer {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.shared.0.lock().unwrap_or_else(|e| e.into_inner());
        if s.fired {
            Poll::Ready(())
        } else {
            s.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let (lock, cv) = &*self.shared;
        lock.lock().unwrap_or_else(|e| e.into_inner()).cancelled = true;
        cv.notify_one();
    }
}

/// `fut`'s output, or None if `d` passed first.
pub(super) async fn within<F: Future>(d: Duration, fut: F) -> Option<F::Output> {
    use futures_util::future::{Either, select};
    let fut = std::pin::pin!(fut);
    match select(fut, Timer::after(d)).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(((), _)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_future_times_out_a_ready_one_does_not() {
        let t = Instant::now();
        let never = zbus::block_on(within(
            Duration::from_millis(100),
            std::future::pending::<()>(),
        ));
        assert_eq!(never, None);
        assert!(t.elapsed() >= Duration::from_millis(100));
        assert!(t.elapsed() < Duration::from_secs(5));
        let now = zbus::block_on(within(Duration::from_secs(60), async { 7 }));
        assert_eq!(now, Some(7));
    }
}
