//! One real systemd in a systemd-nspawn container, booted from the cached
//! root with a throwaway overlay, with the podctl build bind-mounted
//! read-only. Powered off by [`Container::shutdown`]; killed on drop.

use super::guest::Guest;
use super::procs;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long systemd in the container may take to reach `running`.
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);
/// How long `systemctl poweroff` may take before the container is killed.
const POWEROFF_TIMEOUT: Duration = Duration::from_secs(30);

/// A host path bound read-only at a guest path.
pub struct Bind {
    pub host: PathBuf,
    pub guest: &'static str,
}

/// The podctl build as the guest sees it: binaries in /usr/local/bin,
/// `units/pod@.service` (when the repo has it), the examples. The binaries
/// are the ones cargo built for this test binary (`CARGO_BIN_EXE_*`).
pub fn podctl_binds() -> Vec<Bind> {
    // option_env!: this file is also compiled into examples/quickstart.rs,
    // where cargo sets no CARGO_BIN_EXE_* (it calls `podctl_binds_from`).
    match (
        option_env!("CARGO_BIN_EXE_podctl"),
        option_env!("CARGO_BIN_EXE_podctl-pause"),
    ) {
        (Some(podctl), Some(pause)) => podctl_binds_from(Path::new(podctl), Path::new(pause)),
        _ => panic!("podctl_binds: no CARGO_BIN_EXE_* (not a test): use podctl_binds_from"),
    }
}

/// [`podctl_binds`] with the binaries at explicit paths (e.g.
/// `target/release/podctl` and `target/release/podctl-pause`);
/// `podctl-supervisor` (what pod@.service runs) is the one next to `podctl`.
pub fn podctl_binds_from(podctl: &Path, pause: &Path) -> Vec<Bind> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut binds = vec![
        Bind {
            host: podctl.into(),
            guest: "/usr/local/bin/podctl",
        },
        Bind {
            host: podctl.with_file_name("podctl-supervisor"),
            guest: "/usr/local/bin/podctl-supervisor",
        },
        Bind {
            host: pause.into(),
            guest: "/usr/local/bin/podctl-pause",
        },
    ];
    let optional = [
        ("units/pod@.service", "/etc/systemd/system/pod@.service"),
        // The subordinate IDs pods with userns = "auto" take their ranges
        // from: the `containers` line podctl's package adds.
        ("tests/rig/subid", "/etc/subuid"),
        ("tests/rig/subid", "/etc/subgid"),
        ("examples", "/usr/local/share/podctl/examples"),
    ];
    for (rel, guest) in optional {
        let host = repo.join(rel);
        if host.exists() {
            binds.push(Bind { host, guest });
        }
    }
    binds
}

/// A booted container.
pub struct Container {
    child: Child,
    pid1: u32,
    name: String,
    root: PathBuf,
    log: PathBuf,
}

impl Container {
    /// Boots `root` with `binds` and waits until systemd is running.
    pub fn boot(root: &Path, binds: &[Bind]) -> Result<Container, String> {
        Self::boot_named(root, binds, &format!("podctl-bench-{}", std::process::id()))
    }

    /// As [`Container::boot`], as machine `name` (a second guest next to the first).
    pub fn boot_named(root: &Path, binds: &[Bind], name: &str) -> Result<Container, String> {
        let name = name.to_string();
        let log = std::env::temp_dir().join(format!("{name}.log"));
        let child = spawn_nspawn(root, &name, binds, &log)?;
        let mut container = Container {
            child,
            pid1: 0,
            name,
            root: root.to_path_buf(),
            log,
        };
        let start = Instant::now();
        container.pid1 = container.find_pid1()?;
        container.wait_running()?;
        eprintln!(
            "bench: container {} running (PID 1 = host PID {}) after {:.1?}",
            container.name,
            container.pid1,
            start.elapsed()
        );
        Ok(container)
    }

    /// The guest handle trials use.
    pub fn guest(&self) -> Guest {
        Guest::nsenter(self.pid1, &format!("container {}", self.name))
    }

    /// Polls for the `systemd` child of the nspawn process.
    fn find_pid1(&mut self) -> Result<u32, String> {
        let nspawn = self.child.id();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(pid) = procs::children(nspawn)
                .into_iter()
                .find(|&pid| procs::comm(pid).as_deref() == Some("systemd"))
            {
                return Ok(pid);
            }
            self.check_alive()?;
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(self.failure("no systemd child of systemd-nspawn after 30 s"))
    }

    /// Waits for `systemctl is-system-running --wait` to say running/degraded.
    fn wait_running(&mut self) -> Result<(), String> {
        let guest = self.guest();
        let deadline = Instant::now() + BOOT_TIMEOUT;
        let mut state = String::new();
        while Instant::now() < deadline {
            let out = guest.sh_timeout("systemctl is-system-running --wait", BOOT_TIMEOUT);
            state = out.stdout.trim().to_string();
            match state.as_str() {
                "running" => return Ok(()),
                "degraded" => {
                    let failed = guest.sh("systemctl --failed --no-legend --no-pager");
                    eprintln!("bench: container is degraded:\n{}", failed.stdout);
                    return Ok(());
                }
                _ => {}
            }
            self.check_alive()?;
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(self.failure(&format!(
            "systemd did not reach running within {BOOT_TIMEOUT:?} (last state {state:?})"
        )))
    }

    fn check_alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(self.failure(&format!("systemd-nspawn exited: {status}"))),
            _ => Ok(()),
        }
    }

    fn failure(&self, what: &str) -> String {
        format!(
            "container {} from {}: {what}; last lines of {}:\n{}",
            self.name,
            self.root.display(),
            self.log.display(),
            super::cache::tail(&self.log, 40)
        )
    }

    /// Powers the container off, kills it if that hangs, and checks that no
    /// process or mount of it is left.
    pub fn shutdown(mut self) -> Result<(), String> {
        let _ = self
            .guest()
            .sh_timeout("systemctl poweroff --no-block", Duration::from_secs(10));
        let exited = procs::wait_child(&mut self.child, POWEROFF_TIMEOUT);
        if !exited {
            eprintln!("bench: container did not power off within {POWEROFF_TIMEOUT:?}; killing it");
            self.kill();
        }
        remove_own_cgroups(&self.name);
        let leftovers = self.leftovers();
        if leftovers.is_empty() {
            let _ = std::fs::remove_file(&self.log);
            Ok(())
        } else {
            Err(format!(
                "container {} left behind: {}",
                self.name,
                leftovers.join("; ")
            ))
        }
    }

    fn kill(&mut self) {
        procs::kill9(self.pid1);
        let _ = self.child.kill();
        let _ = self.child.wait();
        remove_own_cgroups(&self.name);
    }

    /// Processes still running with our machine name, and host mounts of the root.
    fn leftovers(&self) -> Vec<String> {
        let mut found: Vec<String> = procs::with_arg(&format!("--machine={}", self.name))
            .into_iter()
            .map(|pid| format!("systemd-nspawn process {pid}"))
            .collect();
        if procs::is_alive(self.pid1) {
            found.push(format!("container PID 1 (host PID {})", self.pid1));
        }
        found.extend(
            procs::mounts_under(&self.root)
                .into_iter()
                .map(|m| format!("mount {m}")),
        );
        found
    }
}

/// Where the host mounts cgroup hierarchies nspawn follows: cgroup v2
/// (whole or the hybrid `unified` one) and systemd's named v1 hierarchy.
const CGROUP_HIERARCHIES: [&str; 3] = [
    "/sys/fs/cgroup",
    "/sys/fs/cgroup/unified",
    "/sys/fs/cgroup/systemd",
];

/// A cgroup `podctl-rig-NAME` in every hierarchy the host has (at its
/// root), made for the guest's nspawn to start in.
fn own_cgroups(name: &str) -> Result<Vec<String>, String> {
    let mut dirs = Vec::new();
    for h in CGROUP_HIERARCHIES {
        if !Path::new(h).join("cgroup.procs").exists() {
            continue;
        }
        let dir = format!("{h}/podctl-rig-{name}");
        match std::fs::create_dir(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(format!("creating cgroup {dir}: {e}"));
            }
            _ => dirs.push(dir),
        }
    }
    if dirs.iter().any(|d| d.contains(' ')) {
        return Err(format!("a cgroup path with a space: {dirs:?}"));
    }
    Ok(dirs)
}

/// Removes the guest's cgroups (empty once nspawn is gone), deepest first.
fn remove_own_cgroups(name: &str) {
    fn rmdir_tree(dir: &Path) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    rmdir_tree(&e.path());
                }
            }
        }
        let _ = std::fs::remove_dir(dir);
    }
    for h in CGROUP_HIERARCHIES {
        let dir = Path::new(h).join(format!("podctl-rig-{name}"));
        if dir.exists() {
            rmdir_tree(&dir);
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            eprintln!("bench: killing container {}", self.name);
            self.kill();
        }
    }
}

fn spawn_nspawn(root: &Path, name: &str, binds: &[Bind], log: &Path) -> Result<Child, String> {
    let out = File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("opening {}: {e}", log.display()))?;
    // nspawn makes the guest's cgroups (`payload`, `supervisor`) below its
    // own: started from a cgroup of its own, guests booted side by side
    // (trials, tiers, benchmarks) do not see or share each other's units'
    // cgroups (pod slices of the same name in two guests would).
    let own = own_cgroups(name)?;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"for g in $0; do echo $$ > "$g/cgroup.procs" || exit 1; done; exec systemd-nspawn "$@""#)
        .arg(own.join(" "));
    cmd.arg("-D").arg(root).args([
        "--volatile=overlay",
        "--boot",
        "--register=no",
        "--keep-unit",
        "--capability=all",
        "--console=pipe",
        // The guest's own network namespace (only a loopback): pod networks,
        // bridges and firewall rules made in trials never reach the CI
        // machine's interfaces, routes or firewall.
        "--private-network",
    ]);
    cmd.arg(format!("--machine={name}"));
    for bind in binds {
        if !bind.host.exists() {
            return Err(format!(
                "bind source {} does not exist",
                bind.host.display()
            ));
        }
        cmd.arg(format!("--bind-ro={}:{}", bind.host.display(), bind.guest));
    }
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    // SIGTERM makes nspawn shut the container down cleanly if we die.
    procs::die_with_parent(&mut cmd, nix::sys::signal::Signal::SIGTERM);
    cmd.spawn()
        .map_err(|e| format!("cannot start systemd-nspawn -D {}: {e}", root.display()))
}
