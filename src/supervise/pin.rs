//! Telling a process from a later one that got its PID: the start time the
//! kernel gives it (`/proc/PID/stat` field 22, clock ticks since boot)
//! never changes for a process and differs for the next holder of the PID
//! but for one started within the same tick. The supervisor records it
//! next to the container's PID in the state file; `podctl exec` checks it
//! before and after it opens the namespaces behind the PID, so a container
//! that ended and whose PID went to another process is never entered.

use std::path::Path;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinError {
    #[error("process {pid} is gone")]
    Gone { pid: u32 },
    #[error(
        "process {pid} is not the container's any more (it started at tick {now}, \
         the container's at {want}): its PID was reused"
    )]
    Reused { pid: u32, want: u64, now: u64 },
}

/// Field 22 of `PROC/PID/stat`.
pub fn start_time(proc_root: &Path, pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(proc_root.join(pid.to_string()).join("stat")).ok()?;
    parse_start_time(&stat)
}

/// Field 22 of a `/proc/PID/stat` text. The command name (field 2) may hold
/// spaces and parentheses: fields are counted after its last `)`.
pub fn parse_start_time(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `pid` is still the process that started at `want` (0: not
/// recorded, nothing to check).
pub fn check(proc_root: &Path, pid: u32, want: u64) -> Result<(), PinError> {
    if want == 0 {
        return Ok(());
    }
    match start_time(proc_root, pid) {
        None => Err(PinError::Gone { pid }),
        Some(now) if now != want => Err(PinError::Reused { pid, want, now }),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(comm: &str, start: u64) -> String {
        format!("42 ({comm}) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 {start} 2000000 100")
    }

    #[test]
    fn start_time_is_field_22() {
        assert_eq!(parse_start_time(&stat("sleep", 12345)), Some(12345));
        assert_eq!(parse_start_time(&stat("a) b (c", 7)), Some(7));
        assert_eq!(parse_start_time("42 (x) S 1"), None);
        assert_eq!(parse_start_time(""), None);
        let me = std::process::id();
        assert!(start_time(Path::new("/proc"), me).is_some());
    }

    #[test]
    fn a_reused_pid_is_refused() {
        let proc = std::env::temp_dir().join(format!("podctl-pin-{}", std::process::id()));
        std::fs::create_dir_all(proc.join("42")).unwrap();
        std::fs::write(proc.join("42/stat"), stat("sleep", 500)).unwrap();
        assert_eq!(check(&proc, 42, 500), Ok(()));
        assert_eq!(
            check(&proc, 42, 400),
            Err(PinError::Reused {
                pid: 42,
                want: 400,
                now: 500
            })
        );
        assert_eq!(check(&proc, 43, 500), Err(PinError::Gone { pid: 43 }));
        // Not recorded (a state file of an older supervisor): not checked.
        assert_eq!(check(&proc, 43, 0), Ok(()));
        std::fs::remove_dir_all(&proc).unwrap();
    }
}
