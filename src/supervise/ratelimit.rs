//! A bound on repeated warnings: the first [`Limit::burst`] in each
//! interval are logged, the rest counted and summed up once when the next
//! interval begins. Anyone may send what a warning is about (a notify
//! datagram), and journald drops a unit's lines past its own rate limit:
//! without this bound a flood would silence the supervisor's other lines.

use std::time::{Duration, Instant};

/// Warnings logged per interval before the rest are only counted.
pub const WARN_BURST: u32 = 5;
/// The interval of [`WARN_BURST`].
pub const WARN_INTERVAL: Duration = Duration::from_secs(60);

/// What to do with one more occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Log this one.
    pub log: bool,
    /// Occurrences of the previous interval that were not logged (to be
    /// summed up in one line first); 0 when none were.
    pub suppressed: u64,
}

#[derive(Debug, Clone)]
pub struct Limit {
    burst: u32,
    interval: Duration,
    start: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

impl Default for Limit {
    fn default() -> Self {
        Limit::new(WARN_BURST, WARN_INTERVAL)
    }
}

impl Limit {
    pub fn new(burst: u32, interval: Duration) -> Limit {
        Limit {
            burst,
            interval,
            start: None,
            logged: 0,
            suppressed: 0,
        }
    }

    /// One more occurrence at `now`.
    pub fn note(&mut self, now: Instant) -> Verdict {
        let mut carried = 0;
        let expired = self
            .start
            .is_none_or(|s| now.saturating_duration_since(s) >= self.interval);
        if expired {
            carried = std::mem::take(&mut self.suppressed);
            self.start = Some(now);
            self.logged = 0;
        }
        if self.logged < self.burst {
            self.logged += 1;
            Verdict {
                log: true,
                suppressed: carried,
            }
        } else {
            self.suppressed += 1;
            Verdict {
                log: false,
                suppressed: carried,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_summary_per_interval() {
        let t0 = Instant::now();
        let mut l = Limit::new(3, Duration::from_secs(10));
        let logged: Vec<bool> = (0..100).map(|_| l.note(t0).log).collect();
        assert_eq!(logged.iter().filter(|x| **x).count(), 3);
        assert!(logged[..3].iter().all(|x| *x));
        // Within the interval: still counted, not logged.
        let v = l.note(t0 + Duration::from_secs(9));
        assert_eq!(
            v,
            Verdict {
                log: false,
                suppressed: 0
            }
        );
        // The next interval logs again and carries the 98 left unsaid.
        let v = l.note(t0 + Duration::from_secs(10));
        assert_eq!(
            v,
            Verdict {
                log: true,
                suppressed: 98
            }
        );
        // Said once only.
        assert_eq!(l.note(t0 + Duration::from_secs(10)).suppressed, 0);
    }
}
