//! Container events as structured journal entries, written by the
//! supervisor: `PODCTL_POD=`, `PODCTL_CONTAINER=`, `PODCTL_EVENT=` (and
//! `PODCTL_DETAIL=`), so `journalctl PODCTL_POD=web` and `podctl events`
//! find them. Sent with journald's native protocol; never fails the caller
//! (without journald, e.g. in unit tests, an event is dropped).

use crate::layout::HostRoots;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::Path;

/// What happened to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Its command runs.
    Started,
    /// Its readiness probe passed (or it sent READY=1).
    Ready,
    /// Its command ended (detail: "exited 3", "signal 9").
    Exited,
    /// It is being started again after an exit.
    Restarted,
    /// The kernel's OOM killer ended it.
    Oom,
    /// A liveness probe failed (detail: failures in a row).
    ProbeFailed,
    /// A lifecycle hook failed (detail: which, and why).
    HookFailed,
    /// `podctl auto-update` rolled its image back (detail: the digests and
    /// why the update did not hold).
    Rollback,
    /// The pod was evicted: a scratch volume it mounts went past its
    /// `limit` (detail: the volume, its usage and limit).
    Evicted,
}

impl Event {
    pub const ALL: [Event; 9] = [
        Event::Started,
        Event::Ready,
        Event::Exited,
        Event::Restarted,
        Event::Oom,
        Event::ProbeFailed,
        Event::HookFailed,
        Event::Rollback,
        Event::Evicted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Started => "started",
            Event::Ready => "ready",
            Event::Exited => "exited",
            Event::Restarted => "restarted",
            Event::Oom => "oom",
            Event::ProbeFailed => "probe-failed",
            Event::HookFailed => "hook-failed",
            Event::Rollback => "rollback",
            Event::Evicted => "evicted",
        }
    }
}

/// Logs `event` of `pod`/`container` to the journal; `detail` may be empty.
pub fn emit(host: &HostRoots, pod: &str, container: &str, event: Event, detail: &str) {
    let _ = send(&host.journal_socket, pod, container, event, detail);
}

/// Logs `started` (one-line calls at the supervisor's event points).
pub fn started(host: &HostRoots, pod: &str, container: &str) {
    emit(host, pod, container, Event::Started, "");
}

/// Logs `ready`; `how` is "probe" or "READY=1".
pub fn ready(host: &HostRoots, pod: &str, container: &str, how: &str) {
    emit(host, pod, container, Event::Ready, how);
}

/// Logs `restarted`: a new start after an exit begins.
pub fn restarted(host: &HostRoots, pod: &str, container: &str) {
    emit(host, pod, container, Event::Restarted, "");
}

/// Logs `probe-failed` with the number of liveness failures in a row.
pub fn probe_failed(host: &HostRoots, pod: &str, container: &str, in_a_row: u32) {
    emit(
        host,
        pod,
        container,
        Event::ProbeFailed,
        &format!("liveness failed {in_a_row} in a row"),
    );
}

/// Logs `hook-failed`: `hook` failed (`why`: "exited 1", "timed out ...").
pub fn hook_failed(host: &HostRoots, pod: &str, container: &str, hook: &str, why: &str) {
    emit(
        host,
        pod,
        container,
        Event::HookFailed,
        &format!("{hook} hook {why}"),
    );
}

/// Logs `exited`, and `oom` too when the container's cgroup counted an OOM
/// kill. systemd may have removed the scope already (it stops once empty,
/// which can be before its last process is reaped): then the pod slice's
/// hierarchical count is compared with `slice_seen`, the count at the last
/// exit, which this updates. Returns whether it logged `oom`.
pub fn exited(
    host: &HostRoots,
    pod: &str,
    container: &str,
    unit: &str,
    detail: &str,
    slice_seen: &mut u64,
) -> bool {
    emit(host, pod, container, Event::Exited, detail);
    let root = &host.cgroup;
    let read = |dir: std::path::PathBuf| {
        std::fs::read_to_string(dir.join("memory.events"))
            .ok()
            .map(|t| oom_kills(&t))
    };
    let scope = read(super::cgroup::unit_dir(root, pod, unit));
    let slice_dir = root.join("pod.slice").join(crate::plan::units::slice(pod));
    let slice = read(slice_dir).unwrap_or(*slice_seen);
    let oom = scope.map_or(slice > *slice_seen, |n| n > 0);
    *slice_seen = slice;
    if oom {
        emit(host, pod, container, Event::Oom, detail);
    }
    oom
}

/// `oom_kill N` of a memory.events file.
fn oom_kills(memory_events: &str) -> u64 {
    memory_events
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// One journal entry in the native format, to the socket at `socket`.
pub fn send(
    socket: &Path,
    pod: &str,
    container: &str,
    event: Event,
    detail: &str,
) -> std::io::Result<()> {
    let message = if detail.is_empty() {
        format!("container {pod}/{container} {}", event.as_str())
    } else {
        format!("container {pod}/{container} {}: {detail}", event.as_str())
    };
    let mut buf = Vec::new();
    let fields = [
        ("MESSAGE", message.as_str()),
        ("PRIORITY", "6"),
        ("SYSLOG_IDENTIFIER", "podctl"),
        ("PODCTL_POD", pod),
        ("PODCTL_CONTAINER", container),
        ("PODCTL_EVENT", event.as_str()),
        ("PODCTL_DETAIL", detail),
    ];
    for (key, value) in fields {
        field(&mut buf, key, value)?;
    }
    UnixDatagram::unbound()?.send_to(&buf, socket)?;
    Ok(())
}

/// `KEY=value\n`, or the length-prefixed form when the value has a newline.
fn field(buf: &mut Vec<u8>, key: &str, value: &str) -> std::io::Result<()> {
    if value.contains('\n') {
        writeln!(buf, "{key}")?;
        buf.extend_from_slice(&(value.len() as u64).to_le_bytes());
        buf.extend_from_slice(value.as_bytes());
        buf.push(b'\n');
    } else {
        writeln!(buf, "{key}={value}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_protocol_fields() {
        let dir = std::env::temp_dir().join(format!("podctl-events-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("socket");
        let server = UnixDatagram::bind(&path).unwrap();
        send(&path, "web", "app", Event::Exited, "signal 9").unwrap();
        let mut buf = [0u8; 4096];
        let n = server.recv(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        for want in [
            "MESSAGE=container web/app exited: signal 9\n",
            "PODCTL_POD=web\n",
            "PODCTL_CONTAINER=app\n",
            "PODCTL_EVENT=exited\n",
            "PODCTL_DETAIL=signal 9\n",
        ] {
            assert!(text.contains(want), "{want:?} not in {text:?}");
        }
        send(&path, "web", "app", Event::ProbeFailed, "a\nb").unwrap();
        let n = server.recv(&mut buf).unwrap();
        let mut want = b"PODCTL_DETAIL\n".to_vec();
        want.extend_from_slice(&3u64.to_le_bytes());
        want.extend_from_slice(b"a\nb\n");
        assert!(buf[..n].windows(want.len()).any(|w| w == want.as_slice()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The cgroup root and the journal socket come from the host roots: an
    /// OOM kill counted under a test's cgroup root is reported to a test's
    /// socket, and a scope already gone falls back to the slice's count.
    #[test]
    fn oom_is_read_from_the_given_cgroup_root() {
        let dir = std::env::temp_dir().join(format!("podctl-events-oom-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let host = HostRoots::under(&dir);
        std::fs::create_dir_all(host.journal_socket.parent().unwrap()).unwrap();
        let server = UnixDatagram::bind(&host.journal_socket).unwrap();
        server.set_nonblocking(true).unwrap();
        let scope = crate::supervise::cgroup::unit_dir(&host.cgroup, "web", "pod-web.app.scope");
        std::fs::create_dir_all(&scope).unwrap();
        std::fs::write(scope.join("memory.events"), "oom 1\noom_kill 1\n").unwrap();
        let mut seen = 0;
        assert!(exited(
            &host,
            "web",
            "app",
            "pod-web.app.scope",
            "signal 9",
            &mut seen
        ));
        let mut events = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = server.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            events.extend(
                text.lines()
                    .filter_map(|l| l.strip_prefix("PODCTL_EVENT="))
                    .map(String::from),
            );
        }
        assert_eq!(events, ["exited", "oom"]);
        // The scope is gone: the slice's count decides, against the last seen.
        std::fs::remove_dir_all(&scope).unwrap();
        let slice = scope.parent().unwrap();
        std::fs::write(slice.join("memory.events"), "oom_kill 2\n").unwrap();
        let mut seen = 2;
        assert!(!exited(
            &host,
            "web",
            "app",
            "pod-web.app.scope",
            "exited 0",
            &mut seen
        ));
        let mut seen = 1;
        assert!(exited(
            &host,
            "web",
            "app",
            "pod-web.app.scope",
            "signal 9",
            &mut seen
        ));
        assert_eq!(seen, 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn oom_kill_count() {
        assert_eq!(oom_kills("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"), 1);
        assert_eq!(oom_kills("oom_kill 0\n"), 0);
        assert_eq!(oom_kills(""), 0);
    }
}
