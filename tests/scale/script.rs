//! Many pods in one guest, for the scale trial (tests/scale.rs) and the
//! benchmark's native section (tests/benchmark/native.rs): pod files
//! `/root/scale/sNNNN.toml` (one `sleep` container each), loops over them in
//! one guest shell command (one `nsenter` per loop, not per pod), timed in
//! the guest, and the counts that must not grow with the number of pods.
#![allow(dead_code)] // the scale trial and the benchmark each use a part

use crate::rig::Guest;
use std::time::Duration;

/// Longest one loop (apply or down of up to 1,000 pods) may take.
pub const LOOP_TIMEOUT: Duration = Duration::from_secs(1200);

pub fn name(i: usize) -> String {
    format!("s{i:04}")
}

/// Writes the pod files of pods 1..=n. They have `network = "none"`: the
/// trial measures podctl and systemd at 1,000 pods (bridge pods are
/// measured by [`write_bridge_pods`] in the benchmark's native section).
pub fn write_pods(g: &Guest, n: usize) -> Result<(), String> {
    write_pod_files(g, n, "s", "none")
}

/// Writes the pod files `/root/scale/bNNNN.toml` of pods `b0001..=bNNNN`:
/// one `sleep` container each on the default bridge network (`podctl0`; a
/// Linux bridge takes at most 1,024 ports).
pub fn write_bridge_pods(g: &Guest, n: usize) -> Result<(), String> {
    write_pod_files(g, n, "b", "bridge")
}

fn write_pod_files(g: &Guest, n: usize, prefix: &str, network: &str) -> Result<(), String> {
    g.ok(&format!(
        "mkdir -p /root/scale && for j in $(seq 1 {n}); do p=$(printf %04d $j); \
           printf 'name = \"{prefix}%s\"\\nnetwork = \"{network}\"\\n\\n[containers.main]\\ncommand = [\"/bin/sleep\", \"infinity\"]\\n' $p \
             > /root/scale/{prefix}$p.toml; done"
    ))
    .map(|_| ())
}

/// Runs `body` (shell, `$i` = the pod's 4-digit number) for pods
/// `from..=to`, one after another, timed in the guest; the times in ms, or
/// the first failure with podctl's message.
pub fn timed_loop(
    g: &Guest,
    what: &str,
    from: usize,
    to: usize,
    body: &str,
) -> Result<Vec<f64>, String> {
    let cmd = format!(
        "for j in $(seq {from} {to}); do i=$(printf %04d $j); \
           a=$(date +%s%N); \
           if ! {body} >/dev/null 2>/root/scale/err; then echo \"FAIL s$i: $(cat /root/scale/err)\"; exit 1; fi; \
           b=$(date +%s%N); echo \"$i $(( (b - a) / 1000 ))\"; \
         done"
    );
    let out = g.sh_timeout(&cmd, LOOP_TIMEOUT);
    let mut ms = Vec::new();
    for line in out.stdout.lines() {
        if line.starts_with("FAIL") {
            return Err(format!(
                "{what}: {line} (after {} pods)",
                from - 1 + ms.len()
            ));
        }
        if let Some((_, us)) = line.split_once(' ')
            && let Ok(us) = us.trim().parse::<f64>()
        {
            ms.push(us / 1000.0);
        }
    }
    if !out.success() {
        return Err(format!(
            "{what}: loop ended with status {} after {} pods: {}",
            out.status,
            from - 1 + ms.len(),
            out.stderr
        ));
    }
    Ok(ms)
}

/// `cmd` run once in the guest, timed there, in ms; and its stdout.
pub fn timed(g: &Guest, cmd: &str) -> Result<(f64, String), String> {
    let out = g.ok(&format!(
        "a=$(date +%s%N); {cmd} > /root/scale/out; b=$(date +%s%N); echo $(( (b - a) / 1000 ))"
    ))?;
    let us: f64 = out.parse().map_err(|_| format!("timing {cmd}: {out:?}"))?;
    Ok((us / 1000.0, g.ok("cat /root/scale/out")?))
}

pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

/// Connections to systemd's private socket and to the system bus whose
/// client end a podctl process (`podctl`, `podctl-supervisor`, `podctl-pause`) holds, matched by
/// socket inode: `ss -x` gives each accepted connection's peer inode.
const HELD_SCRIPT: &str = r#"
ss -xn > /root/scale/ss
for p in $(pgrep -x 'podctl|podctl-supervis|podctl-pause'); do ls -l /proc/$p/fd 2>/dev/null; done \
  | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p' | sort -u > /root/scale/mine
for s in /run/systemd/private /run/dbus/system_bus_socket; do
  awk -v s="$s" '$5 == s {print $8}' /root/scale/ss | sort -u > /root/scale/peers
  echo "$s $(comm -12 /root/scale/mine /root/scale/peers | wc -l) $(wc -l < /root/scale/peers)"
done
"#;

/// A connection endpoint and how many connections it has: podctl's, all.
#[derive(Debug)]
pub struct Held {
    pub endpoint: String,
    pub podctl: usize,
    pub all: usize,
}

pub fn held(g: &Guest) -> Result<Vec<Held>, String> {
    let out = g.ok(HELD_SCRIPT)?;
    out.lines()
        .map(
            |l| match l.split_whitespace().collect::<Vec<_>>().as_slice() {
                [s, mine, all] => Ok(Held {
                    endpoint: s.to_string(),
                    podctl: mine.parse().map_err(|_| l.to_string())?,
                    all: all.parse().map_err(|_| l.to_string())?,
                }),
                _ => Err(format!("unexpected line {l:?}")),
            },
        )
        .collect()
}

/// Sum of `Pss:` (KiB) of podctl's processes by kind, and how many there
/// are of each: one line `KIND KIB COUNT` for supervisors (`podctl-supervisor
/// up`, or `podctl up` where an older unit runs that), holders, relays and
/// inits (`podctl-pause hold|relay|init`). pgrep matches the name the
/// kernel keeps, 15 characters: `podctl-supervis`.
const PSS_SCRIPT: &str = r#"
pss() { for p in "$@"; do awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup 2>/dev/null; done | awk '{s += $1} END {print s + 0}'; }
supervisor=$(pgrep -x 'podctl|podctl-supervis'); hold=; relay=; init=
for p in $(pgrep -x podctl-pause); do
  case $(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null | awk '{print $2}') in
    hold) hold="$hold $p" ;; relay) relay="$relay $p" ;; init) init="$init $p" ;;
  esac
done
for k in supervisor hold relay init; do eval l=\$$k; echo "$k $(pss $l) $(echo $l | wc -w)"; done
"#;

/// PSS (`/proc/PID/smaps_rollup`: shared pages divided among the processes
/// sharing them) of podctl's processes, in KiB, summed per kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pss {
    pub supervisor: Kind,
    pub holder: Kind,
    pub relay: Kind,
    pub init: Kind,
}

/// The PSS sum of one kind of process and how many there are.
#[derive(Debug, Clone, Copy, Default)]
pub struct Kind {
    pub kib: f64,
    pub count: f64,
}

impl Kind {
    /// KiB per process of this kind.
    pub fn each(&self) -> f64 {
        if self.count > 0.0 {
            self.kib / self.count
        } else {
            0.0
        }
    }
}

impl Pss {
    /// What `pods` pods cost with this many running: supervisors, holders
    /// and relays (the containers' inits apart), KiB per pod.
    pub fn per_pod(&self, pods: usize) -> f64 {
        (self.supervisor.kib + self.holder.kib + self.relay.kib) / pods as f64
    }
}

pub fn pss(g: &Guest) -> Result<Pss, String> {
    let out = g.ok(PSS_SCRIPT)?;
    let mut p = Pss::default();
    for line in out.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [kind, kib, count] = f[..] else {
            return Err(format!("unexpected PSS line {line:?}"));
        };
        let k = Kind {
            kib: kib.parse().map_err(|_| format!("PSS line {line:?}"))?,
            count: count.parse().map_err(|_| format!("PSS line {line:?}"))?,
        };
        match kind {
            "supervisor" => p.supervisor = k,
            "hold" => p.holder = k,
            "relay" => p.relay = k,
            "init" => p.init = k,
            _ => return Err(format!("unexpected PSS line {line:?}")),
        }
    }
    Ok(p)
}

/// One supervisor's memory by mapping (the newest one): `Pss` and
/// `Private_Dirty` in KiB of its binary's text, read-only data (with the
/// relocated .data.rel.ro) and writable data, the heap, the main stack,
/// anonymous mappings (malloc arenas, thread stacks), and the shared
/// libraries' text and data. One line `CATEGORY PSS PRIVATE_DIRTY` each.
pub const SUPERVISOR_MAPS_SCRIPT: &str = r#"
p=$(pgrep -n -x 'podctl|podctl-supervis') || { echo 'no supervisor runs' >&2; exit 1; }
echo "threads $(ls /proc/$p/task | wc -l)"
awk '/^[0-9a-f]+-[0-9a-f]+ /{perm=$2; f=$6; if (f == "") c="anon"; else if (f ~ /podctl/) c="binary-" perm; else if (f ~ /\.so/) c=(perm ~ /x/ ? "lib-text" : "lib-data"); else c=f}
     /^Pss:/{pss[c]+=$2} /^Private_Dirty:/{pd[c]+=$2}
     END{for (c in pss) if (pss[c] > 0) print c, pss[c], pd[c]}' /proc/$p/smaps | sort
"#;

/// What grows with pods, for the report: tasks, journald streams, files.
pub const FIGURES_SCRIPT: &str = r#"
echo "podctl processes: $(pgrep -x 'podctl|podctl-supervis|podctl-pause' | wc -l)"
echo "podctl threads: $(for p in $(pgrep -x 'podctl|podctl-supervis|podctl-pause'); do ls /proc/$p/task 2>/dev/null; done | wc -l)"
echo "supervisor threads, most: $(for p in $(pgrep -x 'podctl|podctl-supervis'); do ls /proc/$p/task 2>/dev/null | wc -l; done | sort -n | tail -1)"
echo "tasks in the guest: $(ls -d /proc/[0-9]*/task/* | wc -l) (kernel.pid_max $(cat /proc/sys/kernel/pid_max))"
echo "journald stdout streams: $(ls /run/systemd/journal/streams | wc -l)"
echo "systemd fds: $(ls /proc/1/fd | wc -l); journald fds: $(ls /proc/$(pgrep -x systemd-journal)/fd | wc -l)"
echo "systemd inotify watches: $(cat /proc/1/fdinfo/* 2>/dev/null | grep -c '^inotify')"
echo "units loaded: $(systemctl list-units --all --no-legend --plain | wc -l)"
echo "/run/podctl entries: $(find /run/podctl | wc -l)"
echo "system.slice TasksMax=$(systemctl show -P TasksMax system.slice) TasksCurrent=$(systemctl show -P TasksCurrent system.slice)"
echo "MemAvailable: $(awk '/MemAvailable/ {print $2}' /proc/meminfo) kB"
"#;

/// What a bridge pod leaves on the host while it runs, for the report:
/// ports on the bridge, firewall rules, names in aardvark-dns, podctl's
/// allocation state.
pub const BRIDGE_FIGURES_SCRIPT: &str = r#"
echo "ports on podctl0: $(ls /sys/class/net/podctl0/brif 2>/dev/null | wc -l)"
echo "iptables-save lines: $(iptables-save 2>/dev/null | wc -l)"
echo "aardvark-dns entries: $(cat /run/podctl/netavark/aardvark-dns/podctl 2>/dev/null | wc -l)"
echo "allocation state: $(du -sb /var/lib/podctl/networks | cut -f1) bytes"
"#;

/// Anything a bridge pod left once down: ports on the bridge, pinned
/// namespaces, names in aardvark-dns.
pub const BRIDGE_LEFT_SCRIPT: &str = "ls /sys/class/net/podctl0/brif 2>/dev/null; \
     find /run/podctl/net -name '*.netns' 2>/dev/null; \
     grep -h ' b[0-9][0-9][0-9][0-9]' /run/podctl/netavark/aardvark-dns/* 2>/dev/null; true";

/// Anything podctl left: units, processes, files, boot symlinks (netavark's
/// lock of the aardvark-dns files, which it keeps, apart).
pub const LEFT_SCRIPT: &str = "systemctl list-units --all --no-legend --plain 'pod@*' 'pod-*'; \
     pgrep -a -x podctl; pgrep -a -x podctl-supervis; pgrep -a -x podctl-pause; pgrep -a -xf '/bin/sleep infinity'; \
     find /run/podctl /etc/podctl/pods -mindepth 1 ! -type d ! -path /run/podctl/netavark/aardvark.lock; \
     ls /etc/systemd/system/multi-user.target.wants | grep '^pod@'; true";
