//! Pod networks on a real engine, container tier: published TCP
//! and UDP ports, pods reaching each other by name and address, an internal
//! network with no way out, port conflicts, and nothing left behind by
//! down, a lost sandbox or a killed supervisor. All of it inside the
//! guest's own network namespace (nspawn --private-network).

use super::common::*;
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "net::published_tcp_and_udp_ports",
        published_tcp_and_udp_ports,
    ),
    ("net::pods_reach_each_other_by_name_and_ip", by_name_and_ip),
    ("net::internal_network_has_no_way_out", internal_network),
    ("net::port_conflict_is_an_apply_error", port_conflict),
    ("net::nothing_left_after_down_or_kills", nothing_left_behind),
];

/// How long a pod may take to come up (or back) with its network.
const UP: Duration = Duration::from_secs(30);

/// A python3 one-liner run in a container, quoted for a TOML string array.
fn py(code: &str) -> String {
    format!("[\"python3\", \"-c\", {code:?}]")
}

/// A web server on `port` in the pod, ready once it answers.
fn web(port: u16) -> String {
    format!(
        "[containers.srv]\ncommand = [\"python3\", \"-m\", \"http.server\", \"{port}\", \"--bind\", \"0.0.0.0\", \"--directory\", \"/usr/share\"]\n\
         ready = {{ http = \"http://127.0.0.1:{port}/\", interval = \"200ms\" }}\n"
    )
}

fn sleeper(name: &str) -> String {
    format!("[containers.{name}]\ncommand = [\"sleep\", \"infinity\"]\n")
}

/// The pod's first address, from `podctl status --json`.
fn pod_ip(g: &Guest, pod: &str) -> Result<String, String> {
    let st = status(g, pod)?;
    st["network"]["addresses"][0]["ip"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("podctl status {pod}: no address in {}", st["network"]))
}

/// HTTP status of GET `url` from the guest's host side (000 when nothing answers).
fn curl(g: &Guest, url: &str) -> Result<String, String> {
    g.ok(&format!(
        "curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 {url} || true"
    ))
}

/// `podctl exec POD CONTAINER -- python3 -c CODE`, its stdout.
fn exec_py(g: &Guest, pod: &str, container: &str, code: &str) -> Result<String, String> {
    g.ok(&format!(
        "podctl exec {pod} {container} -- python3 -c '{code}'"
    ))
}

/// HTTP status of GET `url` from inside a pod, or the exception's name.
fn fetch_in(g: &Guest, pod: &str, container: &str, url: &str) -> Result<String, String> {
    exec_py(
        g,
        pod,
        container,
        &format!(
            "import urllib.request\ntry:\n  print(urllib.request.urlopen(\"{url}\", timeout=3).status)\nexcept Exception as e:\n  print(type(e).__name__, e)"
        ),
    )
}

fn network_create(g: &Guest, name: &str, args: &str) -> Result<(), String> {
    // Idempotent: an earlier run of the trial in the same guest made it.
    g.ok(&format!(
        "podctl network inspect {name} >/dev/null 2>&1 || podctl network create {name} {args}"
    ))
    .map(drop)
}

fn expect(what: &str, got: &str, want: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

/// curl to a published port (on every address, and on 127.0.0.1 only for
/// UDP) reaches the pod's servers; the pod's own address does too.
fn published_tcp_and_udp_ports(g: &Guest) -> Result<(), String> {
    let udp_echo = py(
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind((\"0.0.0.0\", 5353))\nwhile True:\n  d, a = s.recvfrom(100)\n  s.sendto(b\"echo:\" + d, a)",
    );
    let toml = format!(
        "name = \"nweb\"\nnetwork = \"bridge\"\nports = [\"28080:8080\", \"127.0.0.1:25353:5353/udp\"]\n{}\n[containers.udp]\ncommand = {udp_echo}\n",
        web(8080)
    );
    apply(g, "nweb", &toml)?;
    expect(
        "curl 127.0.0.1:28080",
        &curl(g, "http://127.0.0.1:28080/")?,
        "200",
    )?;
    let ip = pod_ip(g, "nweb")?;
    if !ip.starts_with("10.87.") {
        return Err(format!(
            "nweb's address {ip} is not on the podctl network 10.87.0.0/16"
        ));
    }
    expect(
        &format!("curl {ip}:8080"),
        &curl(g, &format!("http://{ip}:8080/"))?,
        "200",
    )?;
    let reply = g.ok(
        "python3 -c 'import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.settimeout(3)\ns.sendto(b\"ping\", (\"127.0.0.1\", 25353))\nprint(s.recv(100).decode())'",
    )?;
    expect("UDP 127.0.0.1:25353", &reply, "echo:ping")?;
    let inspect = g.ok("podctl inspect nweb")?;
    if !inspect.contains(&ip) {
        return Err(format!(
            "podctl inspect nweb does not show {ip}:\n{inspect}"
        ));
    }
    g.ok("podctl down --purge nweb")?;
    expect(
        "curl after down",
        &curl(g, "http://127.0.0.1:28080/")?,
        "000",
    )
}

/// Two pods on a named network: by pod name (aardvark-dns) and by address.
fn by_name_and_ip(g: &Guest) -> Result<(), String> {
    network_create(g, "ntrial", "--subnet 10.93.0.0/24")?;
    let na = format!("name = \"na\"\nnetworks = [\"ntrial\"]\n{}", web(8081));
    let nb = format!("name = \"nb\"\nnetworks = [\"ntrial\"]\n{}", sleeper("app"));
    apply(g, "na", &na)?;
    apply(g, "nb", &nb)?;
    let ip = pod_ip(g, "na")?;
    if !ip.starts_with("10.93.0.") {
        return Err(format!("na's address {ip} is not on ntrial (10.93.0.0/24)"));
    }
    // A network in use is not removed; `network ls` names its pods.
    let rm = g.sh("podctl network rm ntrial");
    if rm.status == 0
        || !rm
            .stderr
            .contains("network ntrial is in use by pod(s) na, nb")
    {
        return Err(format!(
            "network rm of a network in use: status {}, {}",
            rm.status, rm.stderr
        ));
    }
    let ls = g.ok("podctl network ls")?;
    if !ls
        .lines()
        .any(|l| l.starts_with("ntrial ") && l.contains("10.93.0.0/24") && l.ends_with("na,nb"))
    {
        return Err(format!("podctl network ls:\n{ls}"));
    }
    let resolv = g.ok("podctl exec nb app -- cat /etc/resolv.conf")?;
    if !resolv.contains("nameserver 10.93.0.1") {
        return Err(format!(
            "nb's resolv.conf does not name aardvark-dns on 10.93.0.1:\n{resolv}"
        ));
    }
    let resolved = exec_py(
        g,
        "nb",
        "app",
        "import socket\nprint(socket.gethostbyname(\"na\"))",
    )?;
    expect("na resolved in nb", &resolved, &ip)?;
    expect(
        "nb -> http://na:8081",
        &fetch_in(g, "nb", "app", "http://na:8081/")?,
        "200",
    )?;
    expect(
        &format!("nb -> {ip}:8081"),
        &fetch_in(g, "nb", "app", &format!("http://{ip}:8081/"))?,
        "200",
    )?;
    let hosts = g.ok("podctl exec nb app -- cat /etc/hosts")?;
    let nb_ip = pod_ip(g, "nb")?;
    if !hosts.contains(&format!("{nb_ip}\tnb")) {
        return Err(format!(
            "nb's /etc/hosts lacks its own address {nb_ip}:\n{hosts}"
        ));
    }
    g.ok("podctl down --purge nb && podctl down --purge na")?;
    Ok(())
}

/// A pod on an internal network reaches its neighbour but nothing outside
/// it (here: a server on the guest's host side that a bridge pod reaches).
fn internal_network(g: &Guest) -> Result<(), String> {
    network_create(g, "nint", "--subnet 10.94.0.0/24 --internal")?;
    g.ok(
        "systemctl is-active -q net-outside || systemd-run --unit=net-outside --collect \
         python3 -m http.server 28099 --bind 0.0.0.0 --directory /usr/share",
    )?;
    wait_for(Duration::from_secs(10), "the outside server", || {
        Ok(curl(g, "http://127.0.0.1:28099/")? == "200")
    })?;
    apply(
        g,
        "ni1",
        &format!("name = \"ni1\"\nnetworks = [\"nint\"]\n{}", web(8082)),
    )?;
    apply(
        g,
        "ni2",
        &format!("name = \"ni2\"\nnetworks = [\"nint\"]\n{}", sleeper("app")),
    )?;
    apply(
        g,
        "nbr",
        &format!("name = \"nbr\"\nnetwork = \"bridge\"\n{}", sleeper("app")),
    )?;
    // The outside is reachable from an ordinary bridge pod, through its gateway.
    expect(
        "bridge pod -> outside",
        &fetch_in(g, "nbr", "app", "http://10.87.0.1:28099/")?,
        "200",
    )?;
    let routes = g.ok("podctl exec ni2 app -- ip route")?;
    if routes.contains("default") {
        return Err(format!("an internal pod has a default route:\n{routes}"));
    }
    let out = fetch_in(g, "ni2", "app", "http://10.87.0.1:28099/")?;
    if out == "200" || !out.contains("Error") {
        return Err(format!("internal pod reached the outside: {out}"));
    }
    expect(
        "ni2 -> ni1 by name",
        &fetch_in(g, "ni2", "app", "http://ni1:8082/")?,
        "200",
    )?;
    g.ok("podctl down --purge ni1 && podctl down --purge ni2 && podctl down --purge nbr")?;
    g.ok("systemctl stop net-outside")?;
    Ok(())
}

/// A port published by another pod, or used by a program on the host: the
/// apply fails naming port and owner; nothing of the new pod runs.
fn port_conflict(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "npa",
        &format!(
            "name = \"npa\"\nnetwork = \"bridge\"\nports = [\"28090:8083\"]\n{}",
            web(8083)
        ),
    )?;
    let npb = write_pod(
        g,
        "npb",
        &format!(
            "name = \"npb\"\nnetwork = \"bridge\"\nports = [\"28089-28091:80-82\"]\n{}",
            sleeper("app")
        ),
    )?;
    let out = g.sh(&format!("podctl apply {npb}"));
    let text = format!("{}{}", out.stdout, out.stderr);
    if out.status == 0 || !text.contains("28089-28091:80-82/tcp is already published by pod npa") {
        return Err(format!(
            "apply of npb: status {}, output:\n{text}",
            out.status
        ));
    }
    nothing_of(g, "npb")?;
    expect(
        "npa still serves",
        &curl(g, "http://127.0.0.1:28090/")?,
        "200",
    )?;

    g.ok(
        "systemctl is-active -q net-listener || systemd-run --unit=net-listener --collect \
         python3 -m http.server 28092 --bind 0.0.0.0 --directory /usr/share",
    )?;
    wait_for(Duration::from_secs(10), "the host listener", || {
        Ok(curl(g, "http://127.0.0.1:28092/")? == "200")
    })?;
    let npc = write_pod(
        g,
        "npc",
        &format!(
            "name = \"npc\"\nnetwork = \"bridge\"\nports = [\"28092:80\"]\n{}",
            sleeper("app")
        ),
    )?;
    let out = g.sh(&format!("podctl apply {npc}"));
    let text = format!("{}{}", out.stdout, out.stderr);
    if out.status == 0 || !text.contains("28092/tcp is in use on the host by python3 (pid ") {
        return Err(format!(
            "apply of npc: status {}, output:\n{text}",
            out.status
        ));
    }
    nothing_of(g, "npc")?;
    g.ok("systemctl stop net-listener; podctl down --purge npb; podctl down --purge npc; podctl down --purge npa")?;
    Ok(())
}

/// Nothing of the pod: no stored file, pod@ neither enabled nor ever
/// started (its supervisor never ran), no unit, no allocation, no pin, no
/// firewall rule of netavark's for it (its links exist only once pinned
/// and set up).
fn nothing_of(g: &Guest, pod: &str) -> Result<(), String> {
    std::thread::sleep(Duration::from_secs(2)); // past RestartSec=1s
    g.ok(&format!("! test -e /etc/podctl/pods/{pod}.toml"))
        .map_err(|e| format!("{pod}'s definition was stored: {e}"))?;
    let service = format!("pod@{pod}.service");
    let enabled = g.unit_property(&service, "UnitFileState")?;
    if enabled == "enabled" {
        return Err(format!("{service} is enabled"));
    }
    let state = g.unit_property(&service, "ActiveState")?;
    let started = g.unit_property(&service, "ExecMainStartTimestampMonotonic")?;
    if state != "inactive" || started != "0" {
        return Err(format!(
            "{service} ran: ActiveState={state}, ExecMainStartTimestampMonotonic={started}"
        ));
    }
    let units = g.ok(&format!(
        "systemctl list-units --all --no-legend --plain 'pod-{pod}.*' | awk '$3 != \"inactive\"'"
    ))?;
    if !units.is_empty() {
        return Err(format!("units of {pod} left: {units}"));
    }
    let entries = allocation_pods(g)?;
    if entries.iter().any(|p| p == pod) {
        return Err(format!("{pod} holds an allocation: {entries:?}"));
    }
    g.ok(&format!(
        "! test -e /run/podctl/net/{pod}.netns && ! test -e /run/podctl/net/{pod}"
    ))
    .map_err(|e| format!("{pod}'s network namespace is pinned: {e}"))?;
    let id = podctl::net::netavark::id("pod", pod);
    let rules = g.ok(&format!("iptables-save | grep -c {id} || true"))?;
    if rules != "0" {
        return Err(format!("{rules} firewall rules name {pod} (id {id})"));
    }
    Ok(())
}

/// Pods in the allocation file.
pub fn allocation_pods(g: &Guest) -> Result<Vec<String>, String> {
    let out = g.ok(
        "python3 -c 'import json\ntry:\n  print(\" \".join(sorted(json.load(open(\"/var/lib/podctl/networks/allocations.json\"))[\"pods\"])))\nexcept FileNotFoundError:\n  pass'",
    )?;
    Ok(out.split_whitespace().map(str::to_string).collect())
}

/// What a pod on network `nleak` (bridge pc-nleak, 10.95.0.0/24) holds on
/// the host: veths on the bridge, the bridge, firewall rules naming the
/// subnet or the pod's port, its pin, its allocation entry.
fn leak_counts(g: &Guest) -> Result<[usize; 5], String> {
    let n = |cmd: &str| -> Result<usize, String> {
        Ok(g.ok(&format!("{cmd} | wc -l"))?
            .parse()
            .unwrap_or(usize::MAX))
    };
    Ok([
        n("ip -o link show master pc-nleak 2>/dev/null")?,
        n("ip -o link show pc-nleak 2>/dev/null")?,
        n("iptables-save | grep -e 10.95.0. -e 'dport 28100'")?,
        n("ls /run/podctl/net/nl.netns 2>/dev/null")?,
        allocation_pods(g)?
            .iter()
            .filter(|p| p.as_str() == "nl")
            .count(),
    ])
}

const LEAK_COUNTS: &str = "[veths on pc-nleak, bridge, firewall rules, pins, allocations]";

/// What pod `nl`'s one container holds of the OCI side: its /dev/shm
/// mount, its bundle, the runtime's state of it, the runtime's log.
fn oci_counts(g: &Guest) -> Result<[usize; 4], String> {
    let n = |cmd: &str| -> Result<usize, String> {
        Ok(g.ok(&format!("{cmd} | wc -l"))?
            .parse()
            .unwrap_or(usize::MAX))
    };
    Ok([
        n("grep ' /run/podctl/pods/nl/' /proc/self/mountinfo")?,
        n("ls -d /run/podctl/oci/nl.* 2>/dev/null")?,
        n("ls -d /run/podctl/oci-state/*/nl.* 2>/dev/null")?,
        n("ls -d /run/podctl/oci-state/nl.*.log 2>/dev/null")?,
    ])
}

const OCI_COUNTS: &str = "[shm mounts, bundles, runtime states, runtime logs]";

/// Down, a holder killed with -9 (sandbox loss, the pod comes back) and a
/// supervisor killed with -9 (systemd restarts it; the new one reclaims
/// what the dead one left), 20 times in turn: while up, one of each; after
/// every down, none.
fn nothing_left_behind(g: &Guest) -> Result<(), String> {
    network_create(g, "nleak", "--subnet 10.95.0.0/24")?;
    let toml = format!(
        "name = \"nl\"\nnetworks = [\"nleak\"]\nports = [\"28100:8084\"]\n{}",
        web(8084)
    );
    let path = write_pod(g, "nl", &toml)?;
    let zero = [0usize; 5];
    let before = leak_counts(g)?;
    if before != zero {
        return Err(format!("{LEAK_COUNTS} before the first apply: {before:?}"));
    }
    let before = oci_counts(g)?;
    if before != [0; 4] {
        return Err(format!("{OCI_COUNTS} before the first apply: {before:?}"));
    }
    for round in 0..20 {
        g.ok(&format!("podctl apply {path}"))?;
        up_with_one_of_each(g, round, "applied")?;
        match round % 3 {
            1 => {
                let holder = status(g, "nl")?["sandbox"]["pid"].as_u64().unwrap_or(0);
                let main = g.unit_property("pod@nl.service", "MainPID")?;
                g.ok(&format!("kill -9 {holder}"))?;
                wait_for(UP, "pod nl recreated after its sandbox was lost", || {
                    Ok(g.unit_property("pod@nl.service", "MainPID")? != main
                        && status(g, "nl")?["sandbox"]["pid"]
                            .as_u64()
                            .is_some_and(|p| p != holder && p != 0))
                })?;
                up_with_one_of_each(g, round, "recreated after kill -9 of the holder")?;
            }
            2 => {
                let main = g.unit_property("pod@nl.service", "MainPID")?;
                g.ok(&format!("kill -9 {main}"))?;
                wait_for(
                    UP,
                    "pod nl restarted after its supervisor was killed",
                    || {
                        let now = g.unit_property("pod@nl.service", "MainPID")?;
                        Ok(now != main && now != "0")
                    },
                )?;
                up_with_one_of_each(g, round, "restarted after kill -9 of the supervisor")?;
            }
            _ => {}
        }
        g.ok("podctl down nl")?;
        wait_for(Duration::from_secs(10), "nl's network torn down", || {
            Ok(leak_counts(g)? == zero)
        })
        .map_err(|e| format!("round {round}: {e}: {LEAK_COUNTS} = {:?}", leak_counts(g)))?;
        let left = oci_counts(g)?;
        if left != [0; 4] {
            return Err(format!(
                "round {round}: after down, {OCI_COUNTS} = {left:?}"
            ));
        }
    }
    g.ok("podctl down --purge nl")?;
    Ok(())
}

/// The pod serves on its published port and holds exactly one veth, one
/// bridge, its rules, one pin and one entry.
fn up_with_one_of_each(g: &Guest, round: usize, what: &str) -> Result<(), String> {
    wait_for(
        UP,
        &format!("round {round}: nl {what} serves on 28100"),
        || {
            Ok(
                g.unit_property("pod@nl.service", "ActiveState")? == "active"
                    && curl(g, "http://127.0.0.1:28100/")? == "200",
            )
        },
    )?;
    let c = leak_counts(g)?;
    if c[0] != 1 || c[1] != 1 || c[2] == 0 || c[3] != 1 || c[4] != 1 {
        return Err(format!(
            "round {round}, nl {what}: {LEAK_COUNTS} = {c:?}, want [1, 1, >0, 1, 1]"
        ));
    }
    let o = oci_counts(g)?;
    if o != [1; 4] {
        return Err(format!(
            "round {round}, nl {what}: {OCI_COUNTS} = {o:?}, want one of each"
        ));
    }
    Ok(())
}

/// VM tier: published ports after a reboot, and the allocation file then
/// holds exactly the pods that run.
pub const VM_TRIALS: &[crate::rig::VmTrial] = &[crate::rig::VmTrial::reboot(
    "net::published_port_after_reboot",
    ports_before_reboot,
    ports_after_reboot,
)];

/// Boot 1: `vnet` (started at boot) and `vgone` (not) publish ports.
fn ports_before_reboot(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "vnet",
        &format!(
            "name = \"vnet\"\nnetwork = \"bridge\"\nports = [\"28200:8085\"]\n{}",
            web(8085)
        ),
    )?;
    apply(
        g,
        "vgone",
        &format!(
            "name = \"vgone\"\nautostart = false\nnetwork = \"bridge\"\nports = [\"28201:8086\"]\n{}",
            web(8086)
        ),
    )?;
    expect("vnet on 28200", &curl(g, "http://127.0.0.1:28200/")?, "200")?;
    expect(
        "vgone on 28201",
        &curl(g, "http://127.0.0.1:28201/")?,
        "200",
    )?;
    let pods = allocation_pods(g)?;
    for p in ["vgone", "vnet"] {
        if !pods.iter().any(|x| x == p) {
            return Err(format!("{p} has no allocation before the reboot: {pods:?}"));
        }
    }
    // What a crash leaves: an entry whose owner lives until the end of this
    // boot (PID 1 here), so nothing reclaims it before the reboot; after
    // it, its boot ID is the old one.
    g.ok(STALE_ENTRY)?;
    if !allocation_pods(g)?.iter().any(|p| p == "vcrash") {
        return Err("the stale entry vcrash was not written".into());
    }
    Ok(())
}

/// Adds entry `vcrash` (10.87.0.250, port 28202) owned by PID 1, under the lock.
const STALE_ENTRY: &str = "flock /var/lib/podctl/networks/lock python3 -c '
import json
f = \"/var/lib/podctl/networks/allocations.json\"
a = json.load(open(f))
boot = open(\"/proc/sys/kernel/random/boot_id\").read().strip()
start = int(open(\"/proc/1/stat\").read().rsplit(\")\", 1)[1].split()[19])
a[\"pods\"][\"vcrash\"] = {\"owner\": {\"boot_id\": boot, \"pid\": 1, \"start_time\": start},
  \"addresses\": [{\"network\": \"podctl\", \"ip\": \"10.87.0.250\", \"interface\": \"eth0\"}],
  \"ports\": [{\"host_ip\": None, \"host_port\": 28202, \"container_port\": 80, \"range\": 1, \"protocol\": \"tcp\"}],
  \"netns\": None, \"engine_options\": None}
json.dump(a, open(f, \"w\"))
'";

/// Boot 2: vnet serves again; vgone's entry (released at its stop at
/// shutdown) and the stale vcrash (reclaimed when the first pod started)
/// are gone
/// and every entry left belongs to a running pod.
fn ports_after_reboot(g: &Guest) -> Result<(), String> {
    g.wait_property(
        "pod@vnet.service",
        "ActiveState",
        "active",
        Duration::from_secs(90),
    )?;
    wait_for(UP, "vnet serves on 28200 after the reboot", || {
        Ok(curl(g, "http://127.0.0.1:28200/")? == "200")
    })?;
    expect(
        "vgone (not started) on 28201",
        &curl(g, "http://127.0.0.1:28201/")?,
        "000",
    )?;
    let pods = allocation_pods(g)?;
    if !pods.iter().any(|p| p == "vnet") || pods.iter().any(|p| p == "vgone" || p == "vcrash") {
        return Err(format!(
            "allocations after the reboot: {pods:?}, want vnet and neither vgone nor the stale vcrash"
        ));
    }
    for p in &pods {
        let state = g.unit_property(&format!("pod@{p}.service"), "ActiveState")?;
        if state != "active" {
            return Err(format!(
                "allocation of {p}, whose pod@ is {state}: {pods:?}"
            ));
        }
    }
    g.ok("podctl down --purge vnet && podctl down --purge vgone")?;
    Ok(())
}
