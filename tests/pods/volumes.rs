//! Volumes: named volumes outlive the pod, scratch volumes are
//! shared by the pod's containers and gone after down, `:ro` is read-only,
//! tmpfs volumes have their size, a missing host path fails apply.

use super::common::*;
use super::confined::journal_until;
use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "volumes::named_volume_survives_down",
        named_volume_survives_down,
    ),
    (
        "volumes::scratch_is_shared_and_gone_after_down",
        scratch_is_shared_and_gone_after_down,
    ),
    (
        "volumes::read_only_binds_and_sized_tmpfs",
        read_only_binds_and_sized_tmpfs,
    ),
    (
        "volumes::missing_host_path_fails_apply",
        missing_host_path_fails_apply,
    ),
    ("volumes::volume_commands", volume_commands),
    (
        "volumes::target_missing_in_host_root_is_refused",
        target_missing_in_host_root_is_refused,
    ),
];

/// A pod whose `app` runs `script` once; its output up to `END`.
fn run_once(g: &Guest, pod: &str, keys: &str, script: &str) -> Result<String, String> {
    let toml = format!(
        "name = \"{pod}\"\n[containers.app]\nrestart = \"never\"\n{keys}\n\
         command = [\"/bin/sh\", \"-c\", '''{script}\necho END\nexec sleep infinity''']\n"
    );
    apply(g, pod, &toml)?;
    journal_until(g, pod, "app", "END")
}

/// Data written to a named volume is there again after down and a new apply
/// (and on the host under /var/lib/podctl/volumes/NAME).
fn named_volume_survives_down(g: &Guest) -> Result<(), String> {
    g.ok("rm -rf /var/lib/podctl/volumes/nv-data")?;
    run_once(
        g,
        "nv",
        "volumes = [\"nv-data:/data\"]",
        "echo kept-7301 > /data/file && echo written",
    )?;
    g.ok("podctl down --purge nv")?;
    if g.ok("cat /var/lib/podctl/volumes/nv-data/file")? != "kept-7301" {
        return Err("the named volume's data is not on the host after down".into());
    }
    g.ok("journalctl --rotate >/dev/null 2>&1; true")?;
    let out = run_once(
        g,
        "nv2",
        "volumes = [\"nv-data:/data\"]",
        "echo \"read: $(cat /data/file)\"",
    )?;
    if !out.lines().any(|l| l == "read: kept-7301") {
        return Err(format!("the named volume lost its data:\n{out}"));
    }
    g.ok("podctl down --purge nv2")?;
    Ok(())
}

/// A scratch volume is one directory for the pod's containers (one writes,
/// the other reads), removed with the pod; a new pod gets it empty.
fn scratch_is_shared_and_gone_after_down(g: &Guest) -> Result<(), String> {
    let toml = "name = \"sv\"\n[volumes]\nshared = {}\nfast = { size = \"4M\" }\n\
        [containers.writer]\nrestart = \"never\"\nvolumes = [\"shared:/shared\", \"fast:/fast\"]\n\
        command = [\"/bin/sh\", \"-c\", \"echo from-writer > /shared/f; echo fast > /fast/f; df -k /fast | tail -1; echo END; exec sleep infinity\"]\n\
        [containers.reader]\nrestart = \"never\"\nafter = [\"writer\"]\nvolumes = [\"shared:/in:ro\", \"fast:/fast\"]\n\
        command = [\"/bin/sh\", \"-c\", \"sleep 1; cat /in/f /fast/f; touch /in/x 2>/dev/null || echo 'ro: refused'; echo END; exec sleep infinity\"]\n";
    apply(g, "sv", toml)?;
    let w = journal_until(g, "sv", "writer", "END")?;
    let fast_kb = w
        .lines()
        .find(|l| l.starts_with("tmpfs"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    if fast_kb != "4096" {
        return Err(format!("the sized scratch volume is not a 4M tmpfs:\n{w}"));
    }
    let r = journal_until(g, "sv", "reader", "END")?;
    for want in ["from-writer", "fast", "ro: refused"] {
        if !r.lines().any(|l| l == want) {
            return Err(format!("reader should show {want:?}:\n{r}"));
        }
    }
    let on_host = g.ok("cat /var/lib/podctl/scratch/sv/shared/f")?;
    if on_host != "from-writer" {
        return Err(format!("scratch volume on the host holds {on_host:?}"));
    }
    g.ok("podctl down --purge sv")?;
    g.ok("! test -e /var/lib/podctl/scratch/sv")?;
    g.ok("! grep -q /var/lib/podctl/scratch/sv /proc/self/mountinfo")?;
    Ok(())
}

/// `/host:/target:ro` cannot be written; a tmpfs volume has its size.
fn read_only_binds_and_sized_tmpfs(g: &Guest) -> Result<(), String> {
    g.ok("mkdir -p /srv/ro-src && echo host-data > /srv/ro-src/f")?;
    let out = run_once(
        g,
        "rob",
        "volumes = [\"/srv/ro-src:/ro:ro\", \"/srv/ro-src:/rw\", \"tmpfs:/t:size=8M\"]",
        "cat /ro/f; (echo x > /ro/g) 2>/dev/null && echo 'ro: WRITTEN' || echo 'ro: refused'; \
         echo y > /rw/g && echo 'rw: ok'; df -k /t | tail -1",
    )?;
    for want in ["host-data", "ro: refused", "rw: ok"] {
        if !out.lines().any(|l| l == want) {
            return Err(format!("want {want:?}:\n{out}"));
        }
    }
    let t_kb = out
        .lines()
        .find(|l| l.starts_with("tmpfs"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    if t_kb != "8192" {
        return Err(format!("tmpfs:/t:size=8M is {t_kb} KiB:\n{out}"));
    }
    g.ok("test -f /srv/ro-src/g && ! test -e /srv/ro-src/x")?;
    g.ok("podctl down --purge rob")?;
    Ok(())
}

/// A bind source that does not exist fails apply, naming it, before
/// anything is stored or started.
fn missing_host_path_fails_apply(g: &Guest) -> Result<(), String> {
    write_pod(
        g,
        "nosrc",
        "[containers.app]\ncommand = [\"sleep\", \"7401\"]\nvolumes = [\"/srv/no-such-dir:/data\"]\n",
    )?;
    let out = g.sh("podctl apply /root/pods/nosrc.toml");
    let want = "the host path /srv/no-such-dir of volume /data does not exist";
    if out.success() || !out.stderr.contains(want) {
        return Err(format!("apply: {} {}", out.status, out.stderr));
    }
    g.ok("! test -e /etc/podctl/pods/nosrc.toml && ! systemctl is-active pod@nosrc")?;
    Ok(())
}

/// `podctl volume ls --output json`'s entry for `name`, if listed.
fn listed(g: &Guest, name: &str) -> Result<Option<serde_json::Value>, String> {
    let out = g.ok("podctl volume ls --output json")?;
    let all: serde_json::Value =
        serde_json::from_str(&out).map_err(|e| format!("volume ls --output json: {e}: {out}"))?;
    Ok(all
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == name)
        .cloned())
}

/// `podctl volume`: a volume made by a pod is listed as used by it; rm is
/// refused while a stored pod uses it (naming the pod), `down --purge`
/// keeps it, rm then works; `rm --force` removes the pod first; prune
/// removes only unused volumes (in a directory of its own: other trials'
/// volumes are in use in between).
fn volume_commands(g: &Guest) -> Result<(), String> {
    g.ok("rm -rf /var/lib/podctl/volumes/vc-data /var/lib/podctl/volumes/vc-force")?;
    run_once(
        g,
        "vcmd",
        "volumes = [\"vc-data:/data\"]",
        "head -c 100000 /dev/zero > /data/blob && echo written",
    )?;
    let v = listed(g, "vc-data")?.ok_or("vc-data is not listed after the pod made it")?;
    if v["used_by"] != serde_json::json!(["vcmd"]) || v["size"].as_u64().unwrap_or(0) < 100_000 {
        return Err(format!(
            "volume ls: vc-data is {v}, want used by vcmd, >= 100000 bytes"
        ));
    }
    let ls = g.ok("podctl volume ls")?;
    if !ls
        .lines()
        .any(|l| l.starts_with("vc-data ") && l.ends_with(" vcmd"))
    {
        return Err(format!("podctl volume ls:\n{ls}"));
    }
    let rm = g.sh("podctl volume rm vc-data");
    if rm.success() || !rm.stderr.contains("volume vc-data is used by pod(s) vcmd") {
        return Err(format!(
            "volume rm of a used volume: {} {}",
            rm.status, rm.stderr
        ));
    }
    g.ok("test -f /var/lib/podctl/volumes/vc-data/blob")?;
    g.ok("podctl down --purge vcmd")?;
    g.ok("test -f /var/lib/podctl/volumes/vc-data/blob")
        .map_err(|e| format!("down --purge did not keep the volume: {e}"))?;
    let v = listed(g, "vc-data")?.ok_or("vc-data is not listed after down --purge")?;
    if v["used_by"] != serde_json::json!([]) {
        return Err(format!("after down --purge: {v}"));
    }
    let inspect = g.ok("podctl volume inspect vc-data")?;
    if !inspect.contains("/var/lib/podctl/volumes/vc-data") || !inspect.contains("no stored pod") {
        return Err(format!("podctl volume inspect vc-data:\n{inspect}"));
    }
    g.ok("podctl volume rm vc-data")?;
    g.ok("! test -e /var/lib/podctl/volumes/vc-data")?;
    if listed(g, "vc-data")?.is_some() {
        return Err("vc-data is listed after rm".into());
    }

    run_once(
        g,
        "vforce",
        "volumes = [\"vc-force:/data\"]",
        "echo x > /data/f",
    )?;
    let out = g.ok("podctl volume rm --force vc-force")?;
    if !out.contains("vforce: removed") {
        return Err(format!("volume rm --force: {out}"));
    }
    g.ok("! test -e /var/lib/podctl/volumes/vc-force && ! test -e /etc/podctl/pods/vforce.toml")?;
    g.expect_property("pod@vforce.service", "ActiveState", "inactive")?;

    // prune, against a store and volume directory of its own.
    let env = "PODCTL_STORE=/root/vprune/pods PODCTL_LIB=/root/vprune/lib";
    g.ok(&format!(
        "rm -rf /root/vprune && mkdir -p /root/vprune/pods /root/vprune/lib/volumes/kept /root/vprune/lib/volumes/gone1 /root/vprune/lib/volumes/gone2 && \
         printf '[containers.app]\\ncommand = [\"true\"]\\nvolumes = [\"kept:/k\"]\\n' > /root/vprune/pods/user.toml && \
         {env} podctl volume ls"
    ))?;
    let out = g.ok(&format!("{env} podctl volume prune"))?;
    if !out.contains("volume gone1: removed") || !out.contains("volume gone2: removed") {
        return Err(format!("volume prune: {out}"));
    }
    g.ok("test -d /root/vprune/lib/volumes/kept && ! test -e /root/vprune/lib/volumes/gone1 && ! test -e /root/vprune/lib/volumes/gone2")?;
    Ok(())
}

/// A container without an image sees the host's directories read-only; a
/// volume target missing in one of them would be made by the runtime on
/// the host itself. apply refuses it, naming it, and the host's /usr stays
/// as it was.
fn target_missing_in_host_root_is_refused(g: &Guest) -> Result<(), String> {
    let path = write_pod(
        g,
        "vtgt",
        "[containers.app]\ncommand = [\"sleep\", \"7402\"]\nvolumes = [\"/tmp:/usr/no-such-dir-7402\"]\n",
    )?;
    let out = g.sh(&format!("podctl apply {path}"));
    let want = "container app: the volume target /usr/no-such-dir-7402 does not exist on the host";
    if out.success() || !out.stderr.contains(want) {
        return Err(format!("apply: {} {}", out.status, out.stderr));
    }
    g.ok("sleep 1; ! test -e /usr/no-such-dir-7402")
        .map_err(|e| format!("the target was made on the host: {e}"))?;
    g.ok("! test -e /etc/podctl/pods/vtgt.toml && ! systemctl is-active pod@vtgt")?;
    Ok(())
}
