//! In-guest half of the benchmark: `/opt/podctl-test/pods --in-guest`, run at
//! boot by `podctl-bench.service`. Measures with `Instant` around the real
//! commands (run directly, not through a shell), writes the results to
//! [`RESULTS`] after every section (a failed or timed-out section keeps what
//! came before) and prints progress to the console.

#[path = "floor.rs"]
mod floor;
#[path = "imagepod.rs"]
mod imagepod;
#[path = "images.rs"]
mod images;
#[path = "network.rs"]
mod network;
#[path = "podman.rs"]
mod podman;
#[path = "rootless.rs"]
mod rootless;
#[path = "scale.rs"]
mod scale;

use podman::Podman;

use super::report::Results;
use super::rig::Guest;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub const RESULTS: &str = "/var/lib/podctl-test/bench.json";
/// Staged by the host: `sections=a,b` (empty: all) and `rounds=N` (empty:
/// the defaults below).
pub const CONF: &str = "/opt/podctl-test/bench.conf";
/// podctl's binaries, in `/usr/local/bin`.
pub const BINARIES: [&str; 3] = ["podctl", "podctl-supervisor", "podctl-pause"];
/// Where the host stages this build's [`BINARIES`] and the baseline's
/// (`PODCTL_BENCH_BASELINE`); `/usr/local/bin` then links to one of them.
pub const THIS_BUILD: &str = "/opt/podctl-test/this";
pub const BASELINE_BUILD: &str = "/opt/podctl-test/baseline";

/// The unit that runs the benchmark at boot, then powers the VM off.
pub const UNIT: &str = "\
[Unit]
Description=podctl benchmark

[Service]
Type=exec
# The subordinate IDs of userns = \"auto\" (the package's `containers` line).
ExecStartPre=/bin/cp /opt/podctl-test/subid /etc/subuid
ExecStartPre=/bin/cp /opt/podctl-test/subid /etc/subgid
ExecStart=/opt/podctl-test/pods --in-guest
ExecStopPost=/bin/systemctl poweroff --no-block
StandardOutput=journal+console
StandardError=journal+console
RuntimeMaxSec=4700
";

/// Rounds per measurement (the p50s of 10 and 20 rounds differed by a few
/// per cent in earlier runs; the boot's time goes to the 100 bridge pods);
/// Podman's graceful stop costs ~10 s a round; the pods whose commands
/// ignore SIGTERM wait out their 2 s stop timeout.
const ROUNDS: usize = 10;
const PODMAN_ROUNDS: usize = 4;
const TERM_ROUNDS: usize = 5;

struct Conf {
    sections: Vec<String>,
    rounds: Option<usize>,
    pods: Option<usize>,
    /// A baseline build is staged ([`BASELINE_BUILD`]).
    baseline: bool,
}

fn conf() -> &'static Conf {
    static CONF_: std::sync::OnceLock<Conf> = std::sync::OnceLock::new();
    CONF_.get_or_init(|| {
        let text = std::fs::read_to_string(CONF).unwrap_or_default();
        let get = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        Conf {
            sections: get("sections")
                .split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            rounds: get("rounds").parse().ok(),
            pods: get("pods").parse().ok(),
            baseline: get("baseline") == "1",
        }
    })
}

/// Rounds of a timed loop whose default is `default`.
fn rounds(default: usize) -> usize {
    conf().rounds.unwrap_or(default)
}
/// Bridge pods (the default network mode): apply time over 100 of them.
const SCALE_PODS: usize = 100;

/// Bridge pods of the scale section (`pods=N` in [`CONF`], at least 20).
fn scale_pods() -> usize {
    conf().pods.unwrap_or(SCALE_PODS).max(20)
}

const POD_DIR: &str = "/var/lib/podctl-bench";
const ROOTFS: &str = "/var/lib/podctl-bench/rootfs";

/// The two-container pod (examples/web.toml) with `sleep` commands.
fn pod_file(name: &str) -> String {
    format!(
        r#"name = "{name}"
hostname = "{name}"

[resources]
memory = "512M"
cpu = "50%"
tasks = 256

[containers.app]
command = ["/bin/sleep", "inf"]
resources = {{ memory = "256M", cpu = "25%", tasks = 64 }}

[containers.sidecar]
command = ["/bin/sleep", "inf"]
resources = {{ memory = "128M" }}
"#
    )
}

/// The same pod whose commands ignore SIGTERM (a shell that ignores it,
/// exec'ing `sleep`, which inherits that), with a 2 s stop timeout: down
/// waits it out, then SIGKILL.
fn term_pod_file(name: &str) -> String {
    pod_file(name).replace(
        r#"command = ["/bin/sleep", "inf"]"#,
        r#"command = ["/bin/sh", "-c", "trap '' TERM; exec /bin/sleep inf"]
stop_timeout = "2s""#,
    )
}

/// A pod of `n` containers (for validate and --dry-run).
pub fn big_pod_file(n: usize) -> String {
    let mut s = String::from("name = \"big\"\n\n[resources]\nmemory = \"8G\"\ntasks = 4096\n");
    for i in 1..=n {
        s.push_str(&format!(
            "\n[containers.c{i:03}]\ncommand = [\"/bin/sleep\", \"inf\"]\nenv = {{ INDEX = \"{i}\" }}\nresources = {{ memory = \"64M\", tasks = 16 }}\n"
        ));
    }
    s
}

/// One part of the benchmark; `Err` leaves its rows empty.
type Section = fn(&Guest, &mut Results) -> Result<(), String>;

pub fn main() -> ! {
    let mut r = Results::default();
    let g = Guest::local();
    let state = g.sh_timeout(
        "systemctl is-system-running --wait",
        Duration::from_secs(300),
    );
    say(&format!("system is {}", state.stdout.trim()));
    machine(&g, &mut r);
    save(&r);
    let sections: &[(&str, Section)] = &[
        ("setup", setup),
        ("floor", floor),
        ("podctl", podctl),
        ("overhead", overhead),
        ("network", network::network),
        ("podman", podman::podman),
        ("images", images::images),
        ("imagepod", imagepod::imagepod),
        ("rootless", rootless::rootless),
        ("scale", scale::scale),
        ("files", files),
    ];
    let only = &conf().sections;
    if !only.is_empty() || conf().rounds.is_some() || conf().pods.is_some() {
        r.notes.push(format!(
            "partial run: sections {only:?}, rounds {:?}, scale pods {}",
            conf().rounds,
            scale_pods()
        ));
    }
    for (name, f) in sections {
        if *name != "setup" && !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let start = Instant::now();
        say(&format!("section {name}..."));
        match f(&g, &mut r) {
            Ok(()) => r.done.push(name.to_string()),
            Err(e) => {
                say(&format!("section {name} FAILED: {e}"));
                r.errors.push(format!("{name}: {e}"));
                cleanup(&g);
            }
        }
        say(&format!("section {name} took {:.1?}", start.elapsed()));
        save(&r);
        if *name == "setup" && !r.errors.is_empty() {
            break;
        }
    }
    std::process::exit(0)
}

fn say(s: &str) {
    println!("podctl-bench: {s}");
}

fn save(r: &Results) {
    let text = serde_json::to_string_pretty(r).unwrap_or_default();
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(RESULTS)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()
    };
    if let Err(e) = write() {
        say(&format!("cannot write {RESULTS}: {e}"));
    }
}

fn machine(g: &Guest, r: &mut Results) {
    let mut put = |k: &str, cmd: &str| {
        let v = g.sh(cmd).stdout.trim().to_string();
        r.machine.insert(format!("guest.{k}"), v);
    };
    put("kernel", "uname -r");
    put("cpus", "nproc");
    put(
        "mem_mib",
        "awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo",
    );
    put(
        "cpu",
        "sed -n 's/^model name\\s*: //p' /proc/cpuinfo | head -1",
    );
    put("systemd", "systemctl --version | head -1");
    put("podman", "podman --version");
    put("crun", "crun --version | head -1");
}

// ---------------------------------------------------------------- helpers

/// Runs `argv` directly, timed; fails on a non-zero exit or after `limit`.
fn timed(argv: &[&str], limit: Duration) -> Result<(f64, String), String> {
    // Output goes to files, not pipes: a pipe nobody reads while the command
    // runs fills up (a 100-container --dry-run prints more than 64 KiB).
    let file = |name: &str| {
        let path = format!("/run/podctl-bench-{name}");
        std::fs::File::create(&path)
            .map(|f| (f, path.clone()))
            .map_err(|e| format!("creating {path}: {e}"))
    };
    let ((out_file, out_path), (err_file, err_path)) = (file("stdout")?, file("stderr")?);
    let start = Instant::now();
    let mut child = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(err_file)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", argv[0]))?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`{}` timed out after {limit:?}", argv.join(" ")));
            }
            Ok(None) => sleep(Duration::from_millis(1)),
            Err(e) => return Err(format!("waiting for {}: {e}", argv[0])),
        }
    };
    let elapsed = ms_since(start);
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    if !status.success() {
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        return Err(format!(
            "`{}` failed ({status}): {stderr}{stdout}",
            argv.join(" ")
        ));
    }
    Ok((elapsed, stdout))
}

/// The cgroup v2 hierarchy systemd tracks units in: `/sys/fs/cgroup` (the
/// VM), or the hybrid layout's `unified` one (the native guest, whose
/// systemd has no controllers).
fn cgroup_fs() -> &'static str {
    if Path::new("/sys/fs/cgroup/cgroup.procs").exists() {
        "/sys/fs/cgroup"
    } else {
        "/sys/fs/cgroup/unified"
    }
}

/// Whether the cgroup v2 hierarchy is the whole one (controllers can be
/// delegated): podctl then runs crun with the cgroupfs manager, payload in a
/// leaf of the scope; otherwise with `--cgroup-manager=disabled`, the
/// container staying in the scope (src/oci/cgroup.rs).
fn unified() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// Whether this guest has Podman (the VM has; the native guest has not).
fn has_podman() -> bool {
    Path::new("/usr/bin/podman").exists()
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// Polls `check` every `every` until true; fails after `limit`.
fn wait(
    limit: Duration,
    every: Duration,
    what: &str,
    mut check: impl FnMut() -> bool,
) -> Result<(), String> {
    let start = Instant::now();
    while !check() {
        if start.elapsed() > limit {
            return Err(format!("timed out after {limit:?} waiting for {what}"));
        }
        sleep(every);
    }
    Ok(())
}

/// Cheap checks (one PID's files) are polled every 2 ms; whole-/proc scans
/// every 10 ms, so the polling does not steal a TCG vCPU from what it times.
const POLL: Duration = Duration::from_millis(2);
const POLL_SCAN: Duration = Duration::from_millis(10);

fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

/// (state, ppid) from /proc/PID/stat.
fn stat(pid: u32) -> Option<(String, u32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut rest = s[s.rfind(')')? + 1..].split_whitespace();
    let state = rest.next()?.to_string();
    Some((state, rest.next()?.parse().ok()?))
}

fn alive(pid: u32) -> bool {
    matches!(stat(pid), Some((s, _)) if s != "Z" && s != "X")
}

/// Processes any pod of any kind leaves behind.
const POD_COMMS: &[&str] = &[
    "sleep",
    "podctl-pause",
    "podctl",
    // `podctl-supervisor`: a comm holds 15 bytes.
    "podctl-supervis",
    "unshare",
    "nsenter",
    "conmon",
    "catatonit",
    "crun",
];

fn leftovers() -> Vec<(u32, String)> {
    let me = std::process::id();
    pids()
        .into_iter()
        .filter(|&p| p != me && alive(p))
        .map(|p| (p, comm(p)))
        .filter(|(_, c)| POD_COMMS.contains(&c.as_str()))
        .collect()
}

fn nothing_left() -> bool {
    leftovers().is_empty()
}

fn vm_rss_bytes(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib * 1024.0)
}

fn cgroup_of(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    Some(
        text.lines()
            .find_map(|l| l.strip_prefix("0::"))?
            .to_string(),
    )
}

fn read_u64(path: &str) -> f64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(0.0)
}

fn memory_current(cgroup: &str) -> f64 {
    read_u64(&format!("{}{cgroup}/memory.current", cgroup_fs()))
}

fn cgroup_procs(cgroup: &str) -> Vec<u32> {
    std::fs::read_to_string(format!("{}{cgroup}/cgroup.procs", cgroup_fs()))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

fn mem_available() -> f64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib * 1024.0)
}

/// Best effort: removes whatever a failed section left running (in this
/// throwaway VM), so that the next section starts from nothing.
fn cleanup(g: &Guest) {
    g.sh(
        "systemctl kill --signal=SIGKILL bfloor.slice pod.slice; systemctl stop bfloor.slice; \
         for u in $(systemctl list-units --plain --no-legend 'pod@*' | awk '{print $1}'); do systemctl stop \"$u\"; done; \
         systemctl stop pod.slice; podman pod rm -f -t 0 -a; umount /run/bfloor-shm; rm -rf /run/bfloor-crun; \
         for m in /var/lib/podctl-bench/floor/*/rootfs; do mountpoint -q $m && umount $m; done",
    );
    for (pid, _) in leftovers() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    g.sh("systemctl reset-failed");
}

// ---------------------------------------------------------------- sections

fn setup(g: &Guest, r: &mut Results) -> Result<(), String> {
    g.ok(&format!(
        "mkdir -p {POD_DIR} /etc/podctl/pods {ROOTFS}/bin {ROOTFS}/etc {ROOTFS}/proc {ROOTFS}/dev {ROOTFS}/sys {ROOTFS}/tmp {ROOTFS}/run && \
         cp /bin/busybox {ROOTFS}/bin/busybox && ln -sf busybox {ROOTFS}/bin/sleep && ln -sf busybox {ROOTFS}/bin/sh"
    ))?;
    // The floor's sandbox has a network namespace with lo only: so has
    // podctl's `network = "none"` (the bridge's cost is the network section's).
    let write = |name: &str, text: String| {
        std::fs::write(format!("{POD_DIR}/{name}.toml"), text).map_err(|e| e.to_string())
    };
    write("bpod", format!("network = \"none\"\n{}", pod_file("bpod")))?;
    write(
        "bterm",
        format!("network = \"none\"\n{}", term_pod_file("bterm")),
    )?;
    for i in 1..=scale_pods() {
        let name = format!("s{i:02}");
        std::fs::write(format!("{POD_DIR}/{name}.toml"), pod_file(&name))
            .map_err(|e| e.to_string())?;
    }
    std::fs::write(format!("{POD_DIR}/big.toml"), big_pod_file(100)).map_err(|e| e.to_string())?;
    // The floor's slice gets the pod's limits once (a runtime drop-in that
    // every round's slice picks up), as podctl's slice has them.
    g.ok("systemctl set-property --runtime bfloor.slice MemoryMax=512M CPUQuota=50% TasksMax=256")?;
    r.notes.push(format!(
        "rounds: floor and podctl {} (+1 warm-up each), SIGTERM-ignoring pods {}, podman {} per stop variant (+1 warm-up); \
         'until nothing left' = no sleep/podctl/podctl-pause/unshare/nsenter/conmon/catatonit/crun process (polled every 10 ms)",
        rounds(ROUNDS),
        rounds(TERM_ROUNDS),
        rounds(PODMAN_ROUNDS)
    ));
    Ok(())
}

/// The floor (floor.rs): bundles captured from podctl, for the same pod by
/// hand with `crun run`, plain and with commands that ignore SIGTERM. Its
/// rounds alternate with podctl's (the podctl section).
fn floor(g: &Guest, r: &mut Results) -> Result<(), String> {
    for kind in [floor::SLEEP, floor::TERM] {
        floor::capture(g, kind)?;
    }
    CAPTURED.store(true, std::sync::atomic::Ordering::SeqCst);
    r.notes.push(
        "floor: `systemd-run --scope --slice=bfloor.slice` for the sandbox `unshare -n -i -u sleep inf`, then both containers at once: \
         a scope each (the pod's limits, Delegate=yes, TimeoutStopSec = the pod's stop_timeout) running `sh -c 'enter the scope's relay leaf; \
         exec crun --cgroup-manager=cgroupfs run --bundle B ID'`, B = the bundle podctl wrote for that container (captured from an apply; \
         namespace paths, cgroupsPath and the pod's /dev/shm tmpfs, mounted by the floor, are the floor's); up = until both containers' \
         `sleep` run in their payload cgroups; down = `systemctl stop` of the slice until no process and no cgroup is left; \
         floor and podctl rounds alternate"
            .into(),
    );
    Ok(())
}

/// Whether the floor section captured its bundles (the podctl section then
/// alternates floor and podctl rounds).
static CAPTURED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[derive(serde::Deserialize)]
struct PodStatus {
    containers: Vec<ContainerStatus>,
}

#[derive(serde::Deserialize)]
struct ContainerStatus {
    name: String,
    pid: u32,
    state: String,
}

/// After apply returned: every container is running with a live PID.
fn check_running(name: &str) -> Result<(), String> {
    let (_, json) = timed(
        &["podctl", "status", name, "--json"],
        Duration::from_secs(30),
    )?;
    let st: PodStatus =
        serde_json::from_str(&json).map_err(|e| format!("status --json: {e}: {json}"))?;
    if st.containers.len() != 2 {
        return Err(format!(
            "{name}: {} containers in status",
            st.containers.len()
        ));
    }
    for c in &st.containers {
        if c.state != "running" || c.pid == 0 || !alive(c.pid) {
            return Err(format!(
                "{name}/{}: {} pid {} after apply returned",
                c.name, c.state, c.pid
            ));
        }
    }
    Ok(())
}

fn podctl_up(name: &str) -> Result<f64, String> {
    let file = format!("{POD_DIR}/{name}.toml");
    let (t, _) = timed(&["podctl", "apply", &file], Duration::from_secs(60))?;
    check_running(name)?;
    Ok(t)
}

/// (command time, time until nothing is left)
fn podctl_down(name: &str) -> Result<(f64, f64), String> {
    let start = Instant::now();
    let (t, _) = timed(&["podctl", "down", name], Duration::from_secs(60))?;
    let slice = format!("{}/pod.slice/pod-{name}.slice", cgroup_fs());
    wait(
        Duration::from_secs(30),
        POLL_SCAN,
        "the pod's processes to go",
        || nothing_left() && !Path::new(&slice).exists(),
    )?;
    Ok((t, ms_since(start)))
}

/// podctl's rounds, each after a floor round of the same pod when the floor
/// section ran: the VM slows down over a section (seen: +30 % from the first
/// rounds to the last), which all floor rounds first would charge to podctl.
/// With a baseline build staged, each round runs both builds, taking turns
/// going first (series `baseline.*` for the baseline's).
fn podctl(_g: &Guest, r: &mut Results) -> Result<(), String> {
    let with_floor = CAPTURED.load(std::sync::atomic::Ordering::SeqCst);
    let builds: &[&str] = if conf().baseline {
        &["podctl", "baseline"]
    } else {
        &["podctl"]
    };
    if conf().baseline {
        r.notes.push(format!(
            "podctl section: this build ({THIS_BUILD}) and the baseline build ({BASELINE_BUILD}) \
             in every round, taking turns going first; /usr/local/bin's binaries link to the one measured"
        ));
    }
    for (pod, key, n, kind) in [
        ("bpod", "podctl", rounds(ROUNDS), floor::SLEEP),
        ("bterm", "podctl.term", rounds(TERM_ROUNDS), floor::TERM),
    ] {
        let floor_key = key.replacen("podctl", "floor", 1);
        for round in 0..=n {
            if with_floor {
                let (up, down) = floor::one(kind)?;
                if round > 0 {
                    r.push(&format!("{floor_key}.up"), up);
                    r.push(&format!("{floor_key}.down"), down);
                }
                say(&format!(
                    "{floor_key} {round}/{n}: up {up:.0} ms, down {down:.0} ms"
                ));
            }
            let mut order = builds.to_vec();
            if round % 2 == 1 {
                order.reverse();
            }
            for build in order {
                if conf().baseline {
                    use_build(build)?;
                }
                let key = key.replacen("podctl", build, 1);
                let up = podctl_up(pod)?;
                let (cmd, down) = podctl_down(pod)?;
                if round > 0 {
                    r.push(&format!("{key}.apply"), up);
                    r.push(&format!("{key}.down"), down);
                    r.push(&format!("{key}.down.command"), cmd);
                }
                say(&format!(
                    "{key} {round}/{n}: apply {up:.0} ms, down {cmd:.0} ms (gone {down:.0} ms)"
                ));
            }
        }
    }
    if conf().baseline {
        use_build("podctl")?;
    }
    Ok(())
}

/// Points `/usr/local/bin`'s podctl binaries at this build (`podctl`) or the
/// baseline's (`baseline`): each a symlink, replaced by rename (no pod runs
/// between rounds). podctl finds `podctl-pause` beside its own resolved
/// path, so each build runs with its own.
fn use_build(build: &str) -> Result<(), String> {
    let dir = if build == "baseline" {
        BASELINE_BUILD
    } else {
        THIS_BUILD
    };
    for bin in BINARIES {
        let link = format!("/usr/local/bin/{bin}");
        let tmp = format!("/usr/local/bin/.{bin}.next");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(format!("{dir}/{bin}"), &tmp)
            .and_then(|()| std::fs::rename(&tmp, &link))
            .map_err(|e| format!("pointing {link} at {dir}: {e}"))?;
    }
    Ok(())
}

/// PSS of `pid` in bytes (`/proc/PID/smaps_rollup`): its pages, shared
/// ones divided among the processes sharing them.
fn pss_bytes(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib * 1024.0)
}

/// The processes podctl adds to one pod, by role.
struct PodProcs {
    supervisor: Vec<u32>,
    holder: Vec<u32>,
    /// `podctl-pause relay`, in each container scope's `relay` leaf.
    relays: Vec<u32>,
    /// `podctl-pause init`, PID 1 of each container (its `payload` leaf).
    inits: Vec<u32>,
}

impl PodProcs {
    fn of(pod: &str) -> PodProcs {
        let svc = format!("/system.slice/system-pod.slice/pod@{pod}.service");
        let base = format!("/pod.slice/pod-{pod}.slice");
        let mut p = PodProcs {
            supervisor: all_procs_under(&svc)
                .into_iter()
                .filter(|&p| comm(p) == "podctl-supervis")
                .collect(),
            holder: all_procs_under(&format!("{base}/pod-{pod}.sandbox.scope")),
            relays: Vec::new(),
            inits: Vec::new(),
        };
        for c in ["app", "sidecar"] {
            let scope = format!("{base}/pod-{pod}.{c}.scope");
            if unified() {
                p.relays.extend(all_procs_under(&format!("{scope}/relay")));
                p.inits.extend(
                    all_procs_under(&format!("{scope}/payload"))
                        .into_iter()
                        .filter(|&p| comm(p) == "podctl-pause"),
                );
                continue;
            }
            // A hybrid host: relay and container share the scope; the
            // container's init is PID 1 of its own PID namespace.
            for pid in all_procs_under(&scope) {
                if comm(pid) == "podctl-pause" {
                    if pid_ns_init(pid) {
                        p.inits.push(pid);
                    } else {
                        p.relays.push(pid);
                    }
                }
            }
        }
        p
    }

    /// (supervisor, holder, relays, inits), summed with `f`.
    fn sum(&self, f: fn(u32) -> f64) -> [f64; 4] {
        let s = |v: &[u32]| v.iter().copied().map(f).sum();
        [
            s(&self.supervisor),
            s(&self.holder),
            s(&self.relays),
            s(&self.inits),
        ]
    }
}

/// Whether `pid` is PID 1 of a PID namespace below the host's.
fn pid_ns_init(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .is_some_and(|v| {
            v.split_whitespace().count() > 1 && v.split_whitespace().last() == Some("1")
        })
}

/// Memory of one running pod's pieces besides the containers' commands.
fn overhead(g: &Guest, r: &mut Results) -> Result<(), String> {
    let mark = g.ok("date +%s.%N")?;
    podctl_up("bpod")?;
    // Where an apply's time goes (console only): systemd's and podctl's
    // messages of this apply, with monotonic times.
    let log = g
        .sh(&format!(
            "journalctl -o short-monotonic --no-pager --since=@{mark} | grep -v ' kernel: ' | tail -80"
        ))
        .stdout;
    say(&format!("journal of one apply of bpod:\n{log}"));
    sleep(Duration::from_secs(2));
    let svc_cg = g.ok("systemctl show -P ControlGroup pod@bpod.service")?;
    r.value("podctl.supervisor.cgroup", memory_current(&svc_cg));
    let base = "/pod.slice/pod-bpod.slice";
    let sandbox = format!("{base}/pod-bpod.sandbox.scope");
    r.value("podctl.holder.cgroup", memory_current(&sandbox));
    let procs = PodProcs::of("bpod");
    if procs.supervisor.len() != 1 || procs.holder.is_empty() || procs.relays.len() != 2 {
        return Err(format!(
            "bpod: {} supervisors, {} holder processes, {} relays (expected 1, 1, 2)",
            procs.supervisor.len(),
            procs.holder.len(),
            procs.relays.len()
        ));
    }
    let [sup, holder, relays, inits] = procs.sum(vm_rss_bytes);
    r.value("podctl.supervisor.rss", sup);
    r.value("podctl.holder.rss", holder);
    r.value("podctl.relays.rss", relays);
    r.value("podctl.inits.rss", inits);
    r.value("podctl.relays.count", procs.relays.len() as f64);
    r.value("podctl.overhead.rss", sup + holder + relays);
    let [sup, holder, relays, inits] = procs.sum(pss_bytes);
    r.value("podctl.supervisor.pss", sup);
    r.value("podctl.holder.pss", holder);
    r.value("podctl.relays.pss", relays);
    r.value("podctl.inits.pss", inits);
    r.value("podctl.overhead.pss", sup + holder + relays);
    let mut scopes = 0.0;
    for c in ["app", "sidecar"] {
        scopes += memory_current(&format!("{base}/pod-bpod.{c}.scope"));
    }
    r.value("podctl.scopes.cgroup", scopes);
    r.value("podctl.slice.cgroup", memory_current(base));
    let tree = g
        .sh("systemd-cgls --no-pager -u pod.slice; systemd-cgls --no-pager -u system-pod.slice")
        .stdout;
    say(&format!("podctl pod processes:\n{tree}"));
    podctl_down("bpod")?;
    Ok(())
}

/// Processes in `cgroup` and its descendants (a delegated scope nests).
fn all_procs_under(cgroup: &str) -> Vec<u32> {
    let mut out = cgroup_procs(cgroup);
    if let Ok(dir) = std::fs::read_dir(format!("{}{cgroup}", cgroup_fs())) {
        for e in dir.flatten() {
            if e.path().is_dir() {
                let sub = format!("{cgroup}/{}", e.file_name().to_string_lossy());
                out.extend(all_procs_under(&sub));
            }
        }
    }
    out
}

fn files(_g: &Guest, r: &mut Results) -> Result<(), String> {
    let file = format!("{POD_DIR}/big.toml");
    for _ in 0..20 {
        r.push(
            "validate.guest",
            timed(&["podctl", "validate", &file], Duration::from_secs(60))?.0,
        );
        r.push(
            "dryrun.guest",
            timed(
                &["podctl", "apply", "--dry-run", &file],
                Duration::from_secs(60),
            )?
            .0,
        );
    }
    Ok(())
}
