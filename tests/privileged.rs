//! Namespace and process setup, tested on the host in child processes (the
//! middle tier between fakes and the real-systemd bench): the sandbox holder
//! and the container helper are real processes, and the containers are
//! started by crun (`--cgroup-manager=disabled` on this hybrid-cgroup host)
//! from the bundle podctl writes, as in production; a recording fake stands
//! in for systemd. Runtime state goes to a directory of the test's own
//! (`PODCTL_RUN`, `PODCTL_LIB`), not the host's /run/podctl. Needs root and
//! crun: without them every trial is reported ignored, and under
//! `PODCTL_BENCH=required` that is a failure.

#[path = "rig/preflight.rs"]
#[allow(dead_code)]
mod preflight;
#[path = "common/tempdirs.rs"]
mod tempdirs;

use libtest_mimic::{Arguments, Failed, Trial};
use podctl::layout::Layout;
use podctl::plan::{self, NsKind, SandboxPlan, UnitPlan};
use podctl::supervise::launch::{self, LaunchSpec};
use podctl::supervise::process::{OsProcesses, Process};
use podctl::supervise::{holder, ns};
use podctl::systemd::fake::Recorder;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type TestFn = fn() -> Result<(), String>;

const TESTS: &[(&str, TestFn)] = &[
    (
        "holder_creates_namespaces_hostname_and_lo",
        holder_creates_namespaces_hostname_and_lo,
    ),
    (
        "holder_with_pid_is_pid1_and_exits_0_on_term",
        holder_with_pid_is_pid1_and_exits_0_on_term,
    ),
    (
        "container_joins_sandbox_and_gets_own_namespaces",
        container_joins_sandbox_and_gets_own_namespaces,
    ),
    (
        "container_command_is_not_pid1_so_sigterm_stops_it",
        container_command_is_not_pid1_so_sigterm_stops_it,
    ),
    (
        "container_exec_failure_is_reported",
        container_exec_failure_is_reported,
    ),
    (
        "container_runs_as_user_in_workdir_with_env",
        container_runs_as_user_in_workdir_with_env,
    ),
    (
        "supervisor_creates_units_in_one_batch_then_stops",
        supervisor_creates_units_in_one_batch_then_stops,
    ),
];

fn main() {
    let args = Arguments::from_args();
    let availability = preflight::check("privileged (host namespaces)", &["nsenter", "crun"]);
    let state = std::env::temp_dir().join(format!("podctl-priv-state-{}", std::process::id()));
    // SAFETY: no other thread exists yet (the trials start in run below).
    unsafe {
        std::env::set_var("PODCTL_RUN", state.join("run"));
        std::env::set_var("PODCTL_LIB", state.join("lib"));
    }
    let availability = match availability {
        preflight::Availability::Ready => match hide_unified_cgroup(&state) {
            Ok(()) => preflight::Availability::Ready,
            Err(e) => preflight::Availability::Fail(e),
        },
        other => other,
    };
    let trials = TESTS
        .iter()
        .map(|&(name, f)| match availability.clone() {
            preflight::Availability::Ready => Trial::test(name, move || f().map_err(Failed::from)),
            preflight::Availability::Skip(why) => {
                Trial::test(name, move || Err(why.into())).with_ignored_flag(true)
            }
            preflight::Availability::Fail(msg) => Trial::test(name, move || Err(msg.into())),
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    // The pods' /dev/shm mounts are in the tmpfs: all go at once.
    let _ = nix::mount::umount2(&state, nix::mount::MntFlags::MNT_DETACH);
    let _ = std::fs::remove_dir_all(&state);
    tempdirs::remove_run_tempdirs("podctl-priv-");
    conclusion.exit();
}

/// crun refuses hybrid cgroups whose v2 half has a controller ("cgroups in
/// hybrid mode not supported, drop all controllers from cgroupv2"; this
/// host's /sys/fs/cgroup/unified has hugetlb). In a mount namespace of this
/// process's own (slave: nothing propagates to the host), an empty tmpfs
/// covers it: crun sees cgroup v1 and, with `--cgroup-manager=disabled`
/// (what podctl picks without a v2 root), leaves cgroups alone, as in the
/// nspawn tier. The host's cgroups are not touched. `state` (PODCTL_RUN
/// and PODCTL_LIB) becomes a tmpfs of that namespace too, so the pods'
/// mounts under it go with it. Runs before any thread.
fn hide_unified_cgroup(state: &Path) -> Result<(), String> {
    use nix::mount::{MsFlags, mount};
    let unified = Path::new("/sys/fs/cgroup/unified");
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    )
    .map_err(|e| format!("make / a slave mount: {e}"))?;
    if unified.is_dir() {
        mount(
            Some("tmpfs"),
            unified,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            Some("size=4k"),
        )
        .map_err(|e| format!("cover {}: {e}", unified.display()))?;
    }
    std::fs::create_dir_all(state).map_err(|e| format!("{}: {e}", state.display()))?;
    mount(
        Some("tmpfs"),
        state,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755"),
    )
    .map_err(|e| format!("tmpfs on {}: {e}", state.display()))
}

fn pause() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_podctl-pause"))
}

fn podctl() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_podctl"))
}

fn sandbox(creates: Vec<NsKind>, hostname: &str) -> SandboxPlan {
    SandboxPlan {
        unit: UnitPlan {
            name: "t.scope".into(),
            properties: vec![],
        },
        creates,
        hostname: Some(hostname.into()),
    }
}

fn ino(pid: u32, kind: NsKind) -> u64 {
    ns::inode(Path::new("/proc"), pid, kind).unwrap_or(0)
}

/// Kills and reaps a child when dropped, so a failing test leaks nothing.
struct Reaper(Option<Box<dyn Process>>);
impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn term_and_wait(
    child: &mut Box<dyn Process>,
    within: Duration,
) -> Result<std::process::ExitStatus, String> {
    child
        .signal(nix::sys::signal::Signal::SIGTERM)
        .map_err(|e| format!("kill: {e}"))?;
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(st);
        }
        if start.elapsed() > within {
            return Err(format!(
                "pid {} still running {within:?} after SIGTERM",
                child.pid()
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn nsenter(pid: u32, flag: &str, cmd: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new("nsenter")
        .args(["-t", &pid.to_string(), flag, "--"])
        .args(cmd)
        .output()
        .map_err(|e| format!("nsenter: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "nsenter {cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn holder_creates_namespaces_hostname_and_lo() -> Result<(), String> {
    let plan = sandbox(vec![NsKind::Ipc, NsKind::Uts, NsKind::Net], "podtest");
    let pending = holder::spawn(&OsProcesses, &pause(), &plan).map_err(|e| e.to_string())?;
    let hpid = pending.pid();
    // Held: nothing is created before release.
    std::thread::sleep(Duration::from_millis(50));
    if ino(hpid, NsKind::Net) != ino(std::process::id(), NsKind::Net) {
        return Err("holder created its namespaces before being released".into());
    }
    let (child, ns_pid) = pending
        .release(
            &podctl::plan::UserNsPlan::Host,
            std::path::Path::new("/proc"),
        )
        .map_err(|e| e.to_string())?;
    let mut child = Reaper(Some(child));
    if ns_pid != hpid {
        return Err(format!(
            "without pid sharing the holder owns the namespaces: {ns_pid} != {hpid}"
        ));
    }
    let me = std::process::id();
    for k in [NsKind::Ipc, NsKind::Uts, NsKind::Net] {
        if ino(hpid, k) == ino(me, k) {
            return Err(format!("holder shares the test's {k:?} namespace"));
        }
    }
    for k in [NsKind::Pid, NsKind::Mnt] {
        if ino(hpid, k) != ino(me, k) {
            return Err(format!("holder unshared {k:?}, which it must not"));
        }
    }
    let host = nsenter(hpid, "-u", &["hostname"])?;
    if host != "podtest" {
        return Err(format!("hostname in sandbox is {host:?}"));
    }
    let lo = nsenter(hpid, "-n", &["ip", "-o", "link", "show", "lo"])?;
    if !lo.contains("UP") {
        return Err(format!("lo is not up in the sandbox: {lo}"));
    }
    let rss = std::fs::read_to_string(format!("/proc/{hpid}/status")).unwrap_or_default();
    let rss_kb: u64 = rss
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(u64::MAX);
    eprintln!("holder VmRSS: {rss_kb} kB");
    if rss_kb > 256 {
        return Err(format!("holder RSS {rss_kb} kB exceeds 256 KiB"));
    }
    let st = term_and_wait(child.0.as_mut().unwrap(), Duration::from_secs(2))?;
    child.0 = None;
    if st.code() != Some(0) {
        return Err(format!("holder exited {st:?} on SIGTERM, expected 0"));
    }
    Ok(())
}

fn holder_with_pid_is_pid1_and_exits_0_on_term() -> Result<(), String> {
    let plan = sandbox(
        vec![NsKind::Ipc, NsKind::Uts, NsKind::Net, NsKind::Pid],
        "podpid",
    );
    let pending = holder::spawn(&OsProcesses, &pause(), &plan).map_err(|e| e.to_string())?;
    let (child, ns_pid) = pending
        .release(
            &podctl::plan::UserNsPlan::Host,
            std::path::Path::new("/proc"),
        )
        .map_err(|e| e.to_string())?;
    let mut child = Reaper(Some(child));
    let status =
        std::fs::read_to_string(format!("/proc/{ns_pid}/status")).map_err(|e| e.to_string())?;
    let nspid = status
        .lines()
        .find(|l| l.starts_with("NSpid:"))
        .unwrap_or("");
    if !nspid.trim_end().ends_with("\t1") {
        return Err(format!(
            "namespace owner is not PID 1 of its namespace: {nspid:?}"
        ));
    }
    if ino(ns_pid, NsKind::Pid) == ino(std::process::id(), NsKind::Pid) {
        return Err("no new PID namespace".into());
    }
    let st = term_and_wait(child.0.as_mut().unwrap(), Duration::from_secs(2))?;
    child.0 = None;
    if st.code() != Some(0) {
        return Err(format!("holder exited {st:?} on SIGTERM, expected 0"));
    }
    Ok(())
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("podctl-priv-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let _ = std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o777));
    d
}

fn wait_file(p: &Path, lines: usize) -> Result<String, String> {
    let start = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(p)
            && s.lines().count() >= lines
        {
            return Ok(s);
        }
        if start.elapsed() > Duration::from_secs(5) {
            return Err(format!("{} did not get {lines} lines", p.display()));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts a holder (ipc,uts,net) and one container running `argv`.
fn start_pair(spec: LaunchSpec) -> Result<(Reaper, u32, Result<Reaper, String>), String> {
    let pending = holder::spawn(
        &OsProcesses,
        &pause(),
        &sandbox(vec![NsKind::Ipc, NsKind::Uts, NsKind::Net], "podc"),
    )
    .map_err(|e| e.to_string())?;
    let (h, ns_pid) = pending
        .release(
            &podctl::plan::UserNsPlan::Host,
            std::path::Path::new("/proc"),
        )
        .map_err(|e| e.to_string())?;
    let c = launch::spawn(&OsProcesses, &podctl(), "c", &spec).map_err(|e| e.to_string())?;
    // Never readable: nothing interrupts this release.
    let (never, _keep) = nix::unistd::pipe().map_err(|e| e.to_string())?;
    let c = c
        .release(ns_pid, std::os::fd::AsFd::as_fd(&never), Path::new("/proc"))
        .map(|c| Reaper(Some(c.child)))
        .map_err(|e| podctl::error_chain(&e));
    Ok((Reaper(Some(h)), ns_pid, c))
}

/// Where a container's `/out` is on the host: the test reads what it writes.
const OUT: &str = "/out";

/// A container `c` of pod `pod` running `argv` through crun, as the supervisor
/// starts it: joins the sandbox's ipc, uts and net namespaces, has its own
/// cgroup, pid and mount namespaces, and `out` (a host directory) at /out.
/// `keys` are more container keys (user, workdir, env).
fn spec(pod: &str, argv: &[&str], out: &Path, keys: &str) -> LaunchSpec {
    let argv: Vec<String> = argv.iter().map(|a| format!("{a:?}")).collect();
    let toml = format!(
        "network = \"none\"\n[containers.c]\ncommand = [{}]\nvolumes = [\"{}:{OUT}\"]\n{keys}\n",
        argv.join(", "),
        out.display()
    );
    let pod = podctl::spec::parse_str(&toml, &format!("{pod}.toml"), pod).expect("a valid pod");
    let plan = plan::build(&pod);
    let c = &plan.containers[0];
    let spec = LaunchSpec::new(&plan, c, &pause());
    let oci = &spec.container;
    assert!(
        oci.joins.len() == 3
            && [NsKind::Ipc, NsKind::Uts, NsKind::Net]
                .iter()
                .all(|k| oci.joins.contains(k))
            && oci.creates.contains(&NsKind::Pid),
        "{:?} {:?}",
        oci.joins,
        oci.creates
    );
    spec
}

/// This process's mounts, except the pods' own (their /dev/shm under
/// `PODCTL_RUN`, which podctl mounts on the host on purpose).
fn host_mounts() -> Vec<String> {
    let run = std::env::var("PODCTL_RUN").unwrap_or_default();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| run.is_empty() || !l.contains(&run))
        .map(str::to_string)
        .collect()
}

fn container_joins_sandbox_and_gets_own_namespaces() -> Result<(), String> {
    let dir = tempdir("join");
    let out = dir.join("out");
    let mounts_before = host_mounts();
    let script = format!(
        "for n in ipc uts net pid mnt cgroup; do stat -L -c %i /proc/self/ns/$n; done > {o}.tmp; \
         echo $$ >> {o}.tmp; hostname >> {o}.tmp; ls /proc | grep -c '^[0-9]' >> {o}.tmp; mv {o}.tmp {o}; exec sleep 100",
        o = format!("{OUT}/out")
    );
    let (_h, ns_pid, c) = start_pair(spec("tjoin", &["/bin/sh", "-c", &script], &dir, ""))?;
    let _c = c?;
    let text = wait_file(&out, 9)?;
    let lines: Vec<&str> = text.lines().collect();
    let me = std::process::id();
    let kinds = [
        NsKind::Ipc,
        NsKind::Uts,
        NsKind::Net,
        NsKind::Pid,
        NsKind::Mnt,
        NsKind::Cgroup,
    ];
    for (i, k) in kinds.iter().enumerate() {
        let got: u64 = lines[i]
            .parse()
            .map_err(|_| format!("bad line {:?}", lines[i]))?;
        let shared = matches!(k, NsKind::Ipc | NsKind::Uts | NsKind::Net);
        if shared && got != ino(ns_pid, *k) {
            return Err(format!(
                "{k:?}: container {got} != sandbox {}",
                ino(ns_pid, *k)
            ));
        }
        if !shared && (got == ino(me, *k) || got == ino(ns_pid, *k)) {
            return Err(format!("{k:?}: container is not in a namespace of its own"));
        }
    }
    if lines[6] != "2" {
        return Err(format!(
            "command should be PID 2 (after the container's init), is {}",
            lines[6]
        ));
    }
    if lines[7] != "podc" {
        return Err(format!("hostname in container is {:?}", lines[7]));
    }
    // Its own /proc: only its PID namespace (init, sh/sleep, ls, grep...).
    let procs: u32 = lines[8].parse().unwrap_or(999);
    if procs > 6 {
        return Err(format!(
            "/proc in the container lists {procs} processes: not its own PID namespace"
        ));
    }
    if mounts_before != host_mounts() {
        return Err("the container's /proc mount propagated to the host".into());
    }
    Ok(())
}

fn container_command_is_not_pid1_so_sigterm_stops_it() -> Result<(), String> {
    // `sleep` installs no SIGTERM handler: as PID 1 it would ignore SIGTERM.
    let (_h, _ns, c) = start_pair(spec("tterm", &["sleep", "100"], &tempdir("term"), ""))?;
    let mut c = c?;
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    let st = term_and_wait(c.0.as_mut().unwrap(), Duration::from_secs(3))?;
    c.0 = None;
    if st.code() != Some(128 + 15) {
        return Err(format!(
            "expected exit 143 (SIGTERM), got {st:?} (signal {:?})",
            st.signal()
        ));
    }
    eprintln!("container stopped {:?} after SIGTERM", start.elapsed());
    Ok(())
}

fn container_exec_failure_is_reported() -> Result<(), String> {
    let (_h, _ns, c) = start_pair(spec("texec", &["/nonexistent/cmd"], &tempdir("exec"), ""))?;
    match c {
        Ok(_) => Err("a missing command was reported as started".into()),
        Err(e) if e.contains("cannot execute /nonexistent/cmd") => Ok(()),
        Err(e) => Err(format!("unexpected error: {e}")),
    }
}

fn container_runs_as_user_in_workdir_with_env() -> Result<(), String> {
    let dir = tempdir("user");
    let out = dir.join("out");
    let s = spec(
        "tuser",
        &[
            "/bin/sh",
            "-c",
            "echo $(id -u):$(id -g) $(pwd) $GREETING > $OUT.tmp && mv $OUT.tmp $OUT; exec sleep 100",
        ],
        &dir,
        &format!(
            "user = \"65534:65534\"\nworkdir = \"{OUT}\"\nenv = {{ GREETING = \"hello\", OUT = \"{OUT}/out\" }}"
        ),
    );
    let (_h, _ns, c) = start_pair(s)?;
    let _c = c?;
    let text = wait_file(&out, 1)?;
    let want = format!("65534:65534 {OUT} hello");
    if text.trim() != want {
        return Err(format!("got {:?}, want {want:?}", text.trim()));
    }
    Ok(())
}

/// A stand-in OCI runtime for this host (crun refuses hybrid cgroups): the
/// CLI protocol only (create forks the config's init, stopped on a fifo
/// until start; run --detach forks it running; delete forgets), no isolation. Named crun-* so that it is
/// driven as crun is.
const FAKE_RUNTIME: &str = r#"#!/usr/bin/python3
import json, os, sys
a = sys.argv[1:]
root = "/tmp"
while a and a[0].startswith("--"):
    if a[0] in ("--root", "--log"):
        if a[0] == "--root":
            root = a[1]
        a = a[2:]
    else:
        a = a[1:]
cmd, a = a[0], a[1:]
os.makedirs(root, exist_ok=True)
if cmd in ("create", "run"):
    a = [x for x in a if x not in ("--no-new-keyring", "--detach")]
    bundle, pidfile, cid = a[1], a[3], a[4]
    cfg = json.load(open(os.path.join(bundle, "config.json")))
    init = [m["source"] for m in cfg["mounts"] if m["destination"] == "/run/podctl-pause"][0]
    argv = [init] + cfg["process"]["args"][1:]
    fifo = os.path.join(root, cid + ".fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    pid = os.fork()
    if pid == 0:
        if cmd == "create":
            open(fifo).read(1)
        env = dict(e.split("=", 1) for e in cfg["process"]["env"])
        os.execve(init, argv, env)
    open(pidfile, "w").write(str(pid))
elif cmd == "start":
    open(os.path.join(root, a[0] + ".fifo"), "w").write("g")
elif cmd == "delete":
    a = [x for x in a if x != "--force"]
    try:
        os.unlink(os.path.join(root, a[0] + ".fifo"))
    except FileNotFoundError:
        pass
else:
    sys.exit("fake runtime: " + cmd + " is not supported")
"#;

fn supervisor_creates_units_in_one_batch_then_stops() -> Result<(), String> {
    let run = tempdir("sup");
    let runtime = run.join("crun-fake");
    std::fs::write(&runtime, FAKE_RUNTIME).map_err(|e| e.to_string())?;
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .map_err(|e| e.to_string())?;
    let pod = podctl::spec::parse_str(
        &format!(
            "runtime = \"{}\"\n[containers.app]\ncommand = [\"sleep\", \"100\"]\n[containers.sidecar]\ncommand = [\"sleep\", \"100\"]\n",
            runtime.display()
        ),
        "web.toml",
        "web",
    )
    .map_err(|d| d.to_string())?;
    let plan = plan::build(&pod);
    let paths = Layout {
        host: podctl::layout::HostRoots::system(),
        store: run.clone(),
        run: run.clone(),
        podctl: podctl(),
        pause: pause(),
        ..Layout::from_env()
    };
    let fake = Recorder::new();
    let mut sup = podctl::supervise::supervisor::Supervisor::new(&fake, paths, plan, String::new())
        .map_err(|e| podctl::error_chain(&e))?;
    sup.start().map_err(|e| podctl::error_chain(&e))?;
    let state = podctl::supervise::state::PodState::load(&run, "web").ok_or("no state file")?;
    sup.stop().map_err(|e| podctl::error_chain(&e))?;
    let calls = fake.calls.borrow().clone();
    let starts: Vec<&String> = calls
        .iter()
        .filter(|c| c.starts_with("start_transient"))
        .collect();
    let names: Vec<&str> = starts
        .iter()
        .map(|c| c.split_whitespace().nth(1).unwrap_or(""))
        .collect();
    if names
        != [
            "pod-web.slice",
            "pod-web.sandbox.scope",
            "pod-web.app.scope",
            "pod-web.sidecar.scope",
        ]
    {
        return Err(format!("unexpected unit creation order: {calls:#?}"));
    }
    if !starts[0].ends_with("pids=[]") || starts[1..].iter().any(|c| c.ends_with("pids=[]")) {
        return Err(format!(
            "each scope must be created with its process: {starts:#?}"
        ));
    }
    // Stopped by signals through the relays: no SIGKILL was needed.
    if calls
        .iter()
        .any(|c| c.starts_with("kill ") && c.ends_with(" 9"))
    {
        return Err(format!("stop had to SIGKILL: {calls:#?}"));
    }
    if podctl::supervise::state::PodState::load(&run, "web").is_some() {
        return Err("the state file outlived the stop".into());
    }
    if state.containers.len() != 2 || state.containers.iter().any(|c| c.state != "running") {
        return Err(format!("state file: {state:?}"));
    }
    Ok(())
}
