//! Host process and mount bookkeeping for the guests we start: finding the
//! container's PID 1, killing what we started, proving nothing is left.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// PIDs of all processes, from /proc.
fn all_pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

/// The parent PID of `pid` (field 4 of /proc/PID/stat, after the comm).
fn ppid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

/// Direct children of `parent`.
pub fn children(parent: u32) -> Vec<u32> {
    all_pids()
        .into_iter()
        .filter(|&p| ppid(p) == Some(parent))
        .collect()
}

/// The command name of `pid`.
pub fn comm(pid: u32) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end().to_string())
}

/// Whether `pid` exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    !matches!(state, Some("Z" | "X") | None)
}

/// Live processes one of whose arguments is exactly `arg`.
pub fn with_arg(arg: &str) -> Vec<u32> {
    all_pids()
        .into_iter()
        .filter(|&pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            is_alive(pid) && cmdline.split(|&b| b == 0).any(|a| a == arg.as_bytes())
        })
        .collect()
}

/// Mount points in our mount namespace at or under `path`.
pub fn mounts_under(path: &Path) -> Vec<String> {
    let prefix = path.display().to_string();
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .filter(|m| m.starts_with(&prefix))
        .map(str::to_string)
        .collect()
}

/// SIGKILL to `pid` (errors ignored: it may be gone already).
pub fn kill9(pid: u32) {
    if pid > 1 {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
    }
}

/// Waits up to `limit` for `child` to exit; whether it did.
pub fn wait_child(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Makes the child get `signal` when the thread that spawned it exits (the
/// test binary dying included), and puts it in its own process group so a
/// terminal's Ctrl-C reaches only the test binary. Spawn from the main thread.
pub fn die_with_parent(cmd: &mut Command, signal: Signal) {
    cmd.process_group(0);
    // SAFETY: the closure runs between fork and exec and only makes the
    // prctl(2) system call, which is async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || nix::sys::prctl::set_pdeathsig(signal).map_err(std::io::Error::from));
    }
}
