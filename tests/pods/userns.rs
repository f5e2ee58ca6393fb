//! User namespaces in the container tier: root in a default image pod is an
//! unprivileged ID of the host, in a range no other pod has; a file its
//! root writes into a named volume is owned by the container's ID on disk
//! and readable again after down and a second apply; the image store is
//! not chowned; `userns = "host"` is the host's identity map; a pod keeps
//! its range across a crash of its supervisor and gives it back on
//! `down --purge`.
//!
//! The guest's root is an overlayfs, which cannot be idmapped: the named
//! volume of these trials is a tmpfs mounted here (the image store and the
//! containers' upper layers are tmpfs mounts of image_pods already).

use super::common::{status, wait_pid, write_pod};
use super::image_pods::{self, APP, apply_cmd};
use super::image_rig::{NETNS, REGISTRIES_CONF};
use crate::rig::{Guest, TrialFn, VmTrial, wait_for};
use std::collections::BTreeMap;
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "userns::root_inside_is_an_unprivileged_id_outside",
        root_inside_is_an_unprivileged_id_outside,
    ),
    (
        "userns::volume_files_keep_the_containers_ids",
        volume_files_keep_the_containers_ids,
    ),
    (
        "userns::a_range_survives_a_crash_and_goes_with_purge",
        a_range_survives_a_crash_and_goes_with_purge,
    ),
    (
        "userns::a_tree_that_cannot_be_idmapped_is_refused_at_apply",
        a_tree_that_cannot_be_idmapped_is_refused_at_apply,
    ),
];

/// VM tier: the pod comes back after a reboot with its range, and reads
/// what its root wrote into a named volume (on the VM's ext4) before it.
pub const VM_TRIALS: &[VmTrial] = &[VmTrial::reboot(
    "userns::range_and_volume_files_after_a_reboot",
    range_and_volume_before_reboot,
    range_and_volume_after_reboot,
)];

/// Where the ranges are kept.
const RANGES: &str = "/var/lib/podctl/userns/ranges.json";
/// The first host ID of the guests' `containers` entry (tests/rig/subid).
const SUBID_START: u64 = 2_147_483_647;

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// A pod of one image container running as root, `sleep TAG` after `script`.
fn pod(name: &str, tag: u32, extra: &str, script: &str) -> String {
    format!(
        "name = \"{name}\"\nnetwork = \"none\"\n{extra}\n\
         [containers.app]\nimage = \"{APP}\"\nuser = 0\n\
         args = [\"{script} exec sleep {tag}\"]\n"
    )
}

fn apply(g: &Guest, name: &str, toml: &str) -> Result<(), String> {
    let path = write_pod(g, name, toml)?;
    g.ok(&apply_cmd(&path)).map(|_| ())
}

/// `uid_map` of a process, as (inside, outside, count) lines.
fn uid_map(g: &Guest, pid: u32) -> Result<Vec<(u64, u64, u64)>, String> {
    let text = g.ok(&format!("cat /proc/{pid}/uid_map"))?;
    text.lines()
        .map(|l| {
            let n: Vec<u64> = l
                .split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect();
            match n[..] {
                [a, b, c] => Ok((a, b, c)),
                _ => Err(format!("uid_map line {l:?}")),
            }
        })
        .collect()
}

/// The host UID a process runs as (its effective UID; `ps -o uid` prints
/// IDs above 2^31 as negative numbers).
fn host_uid(g: &Guest, pid: u32) -> Result<u64, String> {
    let out = g.ok(&format!("awk '/^Uid:/ {{ print $3 }}' /proc/{pid}/status"))?;
    out.trim()
        .parse()
        .map_err(|e| format!("the Uid line of /proc/{pid}/status: {out:?}: {e}"))
}

/// The pod's range as `podctl status --json` reports it: (uid, gid, size).
fn range(g: &Guest, name: &str) -> Result<(u64, u64, u64), String> {
    let st = status(g, name)?;
    let u = &st["sandbox"]["userns"];
    match (u["uid"].as_u64(), u["gid"].as_u64(), u["size"].as_u64()) {
        (Some(a), Some(b), Some(c)) => Ok((a, b, c)),
        _ => Err(format!(
            "status of {name} has no sandbox.userns range: {st:#}"
        )),
    }
}

/// Owner, group and ctime of every file under `dir`, by path.
fn owners(g: &Guest, dir: &str) -> Result<BTreeMap<String, String>, String> {
    let out = g.ok(&format!("find {dir} -printf '%p %U:%G %C@\\n'"))?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(p, rest)| (p.to_string(), rest.to_string()))
        .collect())
}

fn root_inside_is_an_unprivileged_id_outside(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    // The unpacked layers (what an image root is made of), once pulled.
    g.ok(&format!(
        "ip netns exec {NETNS} env CONTAINERS_REGISTRIES_CONF={REGISTRIES_CONF} podctl pull {APP}"
    ))?;
    let store = "/var/lib/podctl/storage/layers";
    let before = owners(g, store)?;
    apply(g, "usa", &pod("usa", 1701, "", "touch /made-by-root;"))?;
    apply(g, "usb", &pod("usb", 1702, "", ""))?;
    apply(g, "ush", &pod("ush", 1703, "userns = \"host\"", ""))?;
    let (a, b, h) = (
        wait_pid(g, "sleep 1701")?,
        wait_pid(g, "sleep 1702")?,
        wait_pid(g, "sleep 1703")?,
    );
    // Root inside: not the identity map, not host root, not a host user.
    let map_a = uid_map(g, a)?;
    let [(0, outside_a, count_a)] = map_a[..] else {
        return Err(format!(
            "usa's uid_map is {map_a:?}, want one line mapping 0"
        ));
    };
    expect(outside_a >= SUBID_START && count_a == 65_536, || {
        format!("usa maps root to {outside_a} ({count_a} IDs): not from the containers entry")
    })?;
    let uid_a = host_uid(g, a)?;
    expect(uid_a == outside_a, || {
        format!("usa's root runs as host UID {uid_a}, want {outside_a}")
    })?;
    expect(range(g, "usa")? == (outside_a, outside_a, 65_536), || {
        "status --json does not report usa's range".into()
    })?;
    // Two pods, two ranges that do not overlap.
    let [(0, outside_b, count_b)] = uid_map(g, b)?[..] else {
        return Err("usb's uid_map is not one line mapping 0".into());
    };
    expect(
        outside_b + count_b <= outside_a || outside_a + count_a <= outside_b,
        || format!("usa ({outside_a}+{count_a}) and usb ({outside_b}+{count_b}) overlap"),
    )?;
    // userns = "host": the host's identity map, root is root.
    let map_h = uid_map(g, h)?;
    expect(
        map_h == [(0, 0, 4_294_967_295)] && host_uid(g, h)? == 0,
        || format!("ush (userns = \"host\") has uid_map {map_h:?}"),
    )?;
    // Inside, root owns its root and the file it made.
    let ls = g.ok("podctl exec usa app -- /bin/ls -ln /made-by-root")?;
    expect(ls.contains(" 0 ") && ls.contains("0 "), || {
        format!("inside usa, /made-by-root: {ls}")
    })?;
    let inspect = g.ok("podctl inspect usa")?;
    expect(
        inspect.contains(&format!(
            "user namespace: the pod's own, IDs 0-65535 -> {outside_a}-"
        )),
        || format!("podctl inspect usa shows no user namespace:\n{inspect}"),
    )?;
    // No layer of the store was chowned or touched (what existed before
    // is as it was; other trials may pull meanwhile).
    let after = owners(g, store)?;
    let changed: Vec<_> = before
        .iter()
        .filter(|(p, v)| after.get(*p).is_some_and(|w| w != *v))
        .collect();
    expect(changed.is_empty(), || {
        format!("the image store changed under userns pods: {changed:?}")
    })?;
    g.ok("podctl down usa usb ush").map(|_| ())
}

fn volume_files_keep_the_containers_ids(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    let vol = "/var/lib/podctl/volumes/usvol";
    g.ok(&format!(
        "mkdir -p {vol} && (mountpoint -q {vol} || mount -t tmpfs -o mode=0755 tmpfs {vol})"
    ))?;
    let file = pod(
        "usv",
        1711,
        "",
        "echo kept > /data/by-root; touch /data/by-www /in-upper; chown 33:33 /data/by-www;",
    )
    .replace("user = 0\n", "user = 0\nvolumes = [\"usvol:/data\"]\n");
    apply(g, "usv", &file)?;
    wait_pid(g, "sleep 1711")?;
    // Its root is the pod's: what it writes in its own root (the upper
    // layer) is the pod's first host ID on disk...
    let upper = format!("{}/usv/app/upper/in-upper", image_pods::CONTAINERS);
    wait_for(Duration::from_secs(20), &upper, || {
        Ok(g.sh(&format!("test -e {upper}")).success())
    })?;
    let owner: u64 = g
        .ok(&format!("stat -c %u {upper}"))?
        .parse()
        .map_err(|e| format!("owner of {upper}: {e}"))?;
    expect(owner >= SUBID_START, || {
        format!("a file usv's root made in its root is host UID {owner} on disk")
    })?;
    // ... and in the named volume the container's IDs (the mount is
    // idmapped), not the pod's range.
    let on_disk = g.ok(&format!("stat -c '%n %u:%g' {vol}/by-root {vol}/by-www"))?;
    expect(
        on_disk == format!("{vol}/by-root 0:0\n{vol}/by-www 33:33"),
        || format!("files written by the container's root and www, on disk:\n{on_disk}"),
    )?;
    // After down and a second apply, root reads them back and owns them.
    g.ok("podctl down usv")?;
    apply(g, "usv", &file.replace("1711", "1712"))?;
    wait_pid(g, "sleep 1712")?;
    let back =
        g.ok("podctl exec usv app -- /bin/sh -c 'cat /data/by-root; ls -ln /data/by-root'")?;
    expect(back.starts_with("kept\n") && back.contains(" 0 "), || {
        format!("after down and apply, /data/by-root reads:\n{back}")
    })?;
    g.ok("podctl down usv")?;
    g.ok(&format!("umount {vol}")).map(|_| ())
}

fn a_range_survives_a_crash_and_goes_with_purge(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    apply(g, "usk", &pod("usk", 1721, "", ""))?;
    wait_pid(g, "sleep 1721")?;
    let first = range(g, "usk")?;
    let sup = wait_pid(g, "/usr/local/bin/podctl-supervisor up usk")?;
    g.ok(&format!("kill -9 {sup}"))?;
    // systemd starts the supervisor again (Restart=on-failure); the pod
    // comes back with the range it had.
    wait_for(Duration::from_secs(60), "usk back after kill -9", || {
        Ok(g.sh("pgrep -xf 'sleep 1721'").success()
            && status(g, "usk").is_ok_and(|s| s["phase"] == "running" && s["sandbox"]["pid"] != 0))
    })?;
    let again = range(g, "usk")?;
    expect(again == first, || {
        format!("after kill -9 of its supervisor, usk has range {again:?}, had {first:?}")
    })?;
    let held = g.ok(&format!("cat {RANGES}"))?;
    expect(held.contains("\"usk\""), || {
        format!("{RANGES} does not hold usk's range:\n{held}")
    })?;
    g.ok("podctl down --purge usk")?;
    let held = g.ok(&format!("cat {RANGES}"))?;
    expect(!held.contains("\"usk\""), || {
        format!("after down --purge, {RANGES} still holds usk:\n{held}")
    })
}

/// The guest's root is an overlayfs, which cannot be mounted idmapped: a
/// bind volume from it is refused by apply, naming the path and the way
/// out, with nothing stored or started; `userns = "host"` runs the pod.
fn a_tree_that_cannot_be_idmapped_is_refused_at_apply(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    let dir = "/root/usnoidmap";
    g.ok(&format!("mkdir -p {dir}"))?;
    let file = pod("usn", 1741, "", "").replace(
        "user = 0\n",
        &format!("user = 0\nvolumes = [\"{dir}:/data\"]\n"),
    );
    let path = write_pod(g, "usn", &file)?;
    let out = g.sh(&apply_cmd(&path));
    expect(!out.success(), || {
        format!(
            "apply of a pod binding an overlayfs directory went through:\n{}",
            out.stdout
        )
    })?;
    expect(
        out.stderr
            .contains(&format!("pod usn: cannot mount {dir} idmapped (overlayfs"))
            && out.stderr.contains("userns = \"host\""),
        || {
            format!(
                "apply's error does not name the path, its filesystem and the way out:\n{}",
                out.stderr
            )
        },
    )?;
    let left = g.sh("ls /etc/podctl/pods/usn.toml; systemctl is-active pod@usn.service");
    let stored_or_started = left
        .stdout
        .lines()
        .any(|l| l.contains("usn.toml") || l == "active" || l == "activating");
    expect(!stored_or_started, || {
        format!("a refused apply left: {}", left.stdout)
    })?;
    // In the host's user namespace the same pod runs.
    let host = file.replace(
        "network = \"none\"\n",
        "network = \"none\"\nuserns = \"host\"\n",
    );
    apply(g, "usn", &host)?;
    wait_pid(g, "sleep 1741")?;
    g.ok("podctl down --purge usn").map(|_| ())
}

const BOOT_POD: &str = "usboot";
const BOOT_NOTE: &str = "/var/lib/podctl-usboot";

fn range_and_volume_before_reboot(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    let file = pod(BOOT_POD, 1731, "", "echo before > /data/f;")
        .replace("user = 0\n", "user = 0\nvolumes = [\"usbootvol:/data\"]\n");
    apply(g, BOOT_POD, &file)?;
    let pid = wait_pid(g, "sleep 1731")?;
    let map = uid_map(g, pid)?;
    expect(
        map.len() == 1 && map[0].0 == 0 && map[0].1 >= SUBID_START,
        || format!("{BOOT_POD}'s uid_map is {map:?}"),
    )?;
    let owner = g.ok("stat -c %u:%g /var/lib/podctl/volumes/usbootvol/f")?;
    expect(owner == "0:0", || {
        format!("the file container root wrote is {owner} on disk, want 0:0")
    })?;
    g.ok(&format!(
        "echo {} > {BOOT_NOTE}-range; cat /proc/sys/kernel/random/boot_id > {BOOT_NOTE}-boot",
        map[0].1
    ))
    .map(|_| ())
}

fn range_and_volume_after_reboot(g: &Guest) -> Result<(), String> {
    if g.ok(&format!("cat {BOOT_NOTE}-boot"))? == g.ok("cat /proc/sys/kernel/random/boot_id")? {
        return Err("phase 2 ran in the same boot".into());
    }
    g.wait_property(
        &format!("pod@{BOOT_POD}.service"),
        "ActiveState",
        "active",
        Duration::from_secs(90),
    )?;
    let pid = wait_pid(g, "sleep 1731")?;
    let before: u64 = g
        .ok(&format!("cat {BOOT_NOTE}-range"))?
        .parse()
        .map_err(|e| format!("{BOOT_NOTE}-range: {e}"))?;
    let map = uid_map(g, pid)?;
    expect(map == [(0, before, 65_536)], || {
        format!("after the reboot {BOOT_POD}'s uid_map is {map:?}, had 0 {before} 65536")
    })?;
    let read = g.ok(&format!("podctl exec {BOOT_POD} app -- /bin/cat /data/f"))?;
    expect(read == "before", || {
        format!("after the reboot, /data/f reads {read:?}")
    })?;
    g.ok(&format!("podctl down --purge {BOOT_POD}")).map(|_| ())
}
