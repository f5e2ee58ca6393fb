//! The journal's word on a pod that failed to start, to explain the
//! failure where it happens (`podctl apply` prints it under its error).

use std::time::{Duration, Instant};

/// How long apply waits for the journal to hold a failed start's messages.
const JOURNAL_SETTLE: Duration = Duration::from_secs(2);

/// The last journal lines of a unit.
pub fn journal_tail(unit: &str, lines: u32) -> String {
    std::process::Command::new("journalctl")
        .args([
            "--no-pager",
            "-q",
            "-o",
            "cat",
            "-n",
            &lines.to_string(),
            crate::supervise::journal::UnitFields::own().flag,
            unit,
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_string())
        .unwrap_or_default()
}

/// The journal's last lines of a unit whose start failed. journald reads
/// the supervisor's stderr and systemd's own messages from different
/// sockets, in no set order: this waits (at most [`JOURNAL_SETTLE`]) until
/// systemd's word on the main process is there, then gives what the
/// supervisor wrote a moment more to arrive.
pub fn failure_tail(unit: &str) -> String {
    const LINES: u32 = 15;
    let settled = |t: &str| t.contains("Main process exited") || t.contains("Failed with result");
    let deadline = Instant::now() + JOURNAL_SETTLE;
    let mut tail = journal_tail(unit, LINES);
    while !settled(&tail) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        tail = journal_tail(unit, LINES);
    }
    if settled(&tail) {
        std::thread::sleep(Duration::from_millis(100));
        tail = journal_tail(unit, LINES);
    }
    tail
}
