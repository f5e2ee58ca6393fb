//! Rootless pods, in the VM (the only tier with a user manager and cgroup
//! v2): an ordinary user with lingering on runs `podctl` against their own
//! systemd manager. Their pod's units are under `user@UID.service`, its
//! processes are the user's subordinate IDs (root inside is the user), and
//! root's podctl neither sees nor touches it.

use crate::rig::{Guest, VmTrial, wait_for};
use std::time::Duration;

pub const VM_TRIALS: &[VmTrial] = &[VmTrial::once(
    "rootless::a_users_pod_runs_under_their_manager",
    |g| with_journal(g, a_users_pod_runs_under_their_manager(g)),
)];

/// A failure with the user's journal (their manager's and their units' lines).
fn with_journal(g: &Guest, r: Result<(), String>) -> Result<(), String> {
    r.map_err(|e| {
        let log = g.sh(&format!(
            "journalctl --no-pager -n 150 _UID={UID} + _SYSTEMD_USER_UNIT=pod@rl.service"
        ));
        format!("{e}\n----- the user's journal:\n{}", log.stdout)
    })
}

/// The trials' user.
pub const USER: &str = "ann";
pub const UID: u32 = 1500;

/// A user with lingering on (their manager runs with no login) and the
/// subordinate IDs `useradd` gives; idempotent.
pub fn user(g: &Guest) -> Result<(), String> {
    g.ok(&format!(
        "id {USER} >/dev/null 2>&1 || useradd -m -u {UID} {USER}; loginctl enable-linger {USER}"
    ))?;
    let socket = format!("/run/user/{UID}/systemd/private");
    wait_for(Duration::from_secs(60), "the user's manager", || {
        Ok(g.sh(&format!("test -S {socket}")).success())
    })
}

/// `cmd` run by the user in a shell, with the environment a login gives.
pub fn as_user(g: &Guest, cmd: &str) -> Result<String, String> {
    g.ok(&user_cmd(cmd))
}

/// The shell command line that runs `cmd` as the user.
pub fn user_cmd(cmd: &str) -> String {
    let quoted = cmd.replace('\'', "'\\''");
    format!(
        "cd /home/{USER} && runuser -u {USER} -- env HOME=/home/{USER} XDG_RUNTIME_DIR=/run/user/{UID} sh -c '{quoted}'"
    )
}

/// Writes a pod file into the user's home; returns its path.
fn user_pod(g: &Guest, name: &str, toml: &str) -> Result<String, String> {
    let path = format!("/home/{USER}/{name}.toml");
    g.ok(&format!(
        "cat > {path} <<'PODCTL_EOF'\n{toml}\nPODCTL_EOF\nchown {USER}: {path}"
    ))?;
    Ok(path)
}

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// The user installs their pod@.service and applies a pod: it runs under
/// their manager, as their IDs, and goes with `down --purge`.
fn a_users_pod_runs_under_their_manager(g: &Guest) -> Result<(), String> {
    user(g)?;
    let out = as_user(g, "podctl install")?;
    expect(
        out.contains("/home/ann/.config/systemd/user/pod@.service"),
        || format!("install as a user did not name the user's unit: {out}"),
    )?;
    let path = user_pod(
        g,
        "rl",
        "name = \"rl\"\nnetwork = \"none\"\n[containers.app]\ncommand = [\"/bin/sleep\", \"1001\"]\n",
    )?;
    as_user(g, &format!("podctl apply {path}"))?;
    let active = as_user(g, "systemctl --user is-active pod@rl.service")?;
    expect(active == "active", || format!("pod@rl.service is {active}"))?;
    let pid = super::common::wait_pid(g, "/bin/sleep 1001")?;
    // Root inside is the user; the rest are the user's subordinate IDs.
    let map = g.ok(&format!("cat /proc/{pid}/uid_map"))?;
    let lines: Vec<Vec<&str>> = map
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    expect(
        lines == [vec!["0", "1500", "1"], vec!["1", "100000", "65536"]],
        || format!("the container's uid_map is not the user's mapping: {map}"),
    )?;
    let owner = g.ok(&format!("stat -c %u /proc/{pid}"))?;
    expect(owner == UID.to_string(), || {
        format!("the container's root is host UID {owner}, not the user's {UID}")
    })?;
    let cgroup = g.ok(&format!("cat /proc/{pid}/cgroup"))?;
    expect(
        cgroup.contains(&format!("/user@{UID}.service/")) && cgroup.contains("pod-rl"),
        || format!("the container is not in the user's manager's pod units: {cgroup}"),
    )?;
    let ps = as_user(g, "podctl ps")?;
    expect(ps.contains("rl"), || format!("podctl ps as the user: {ps}"))?;
    let id = as_user(g, "podctl exec rl app id -u")?;
    expect(id == "0", || format!("exec id -u gave {id:?}"))?;
    // root's podctl does not see the user's pod.
    let root_ps = g.ok("podctl ps")?;
    expect(!root_ps.contains("rl"), || {
        format!("root's podctl ps shows the user's pod: {root_ps}")
    })?;
    as_user(g, "podctl down --purge rl")?;
    let left = g.ok(&format!(
        "pgrep -u {UID} -f 'sleep 1001|podctl' || true; \
         ls /home/{USER}/.config/podctl/pods; \
         runuser -u {USER} -- env XDG_RUNTIME_DIR=/run/user/{UID} systemctl --user list-units --all --no-legend 'pod*'"
    ))?;
    expect(left.trim().is_empty(), || {
        format!("down --purge left processes, definitions or units: {left}")
    })
}
