//! What a user's pod (rootless) cannot have, refused when its file is read,
//! before anything is stored or started: root's bridge networks, host ports
//! below `net.ipv4.ip_unprivileged_port_start`, a fixed ID range (a user's
//! pods run in the user's own mapping) and systemd-kept secrets (systemd
//! 252 keeps encrypted credentials for system services only).

use crate::layout::Layout;
use crate::model::{NetworkMode, Pod, UserNs};
use crate::spec::{Diagnostic, Diagnostics};
use std::path::Path;

/// The problems of `pod` (read from `file`) as a pod of `paths`' user;
/// nothing for root's pods.
pub fn check(pod: &Pod, file: &Path, paths: &Layout) -> Result<(), Diagnostics> {
    if !paths.owner.is_user() {
        return Ok(());
    }
    let start = crate::net::pasta::unprivileged_port_start(&paths.host.proc);
    let problems = problems(pod, start);
    if problems.is_empty() {
        return Ok(());
    }
    Err(Diagnostics(
        problems
            .into_iter()
            .map(|(key, message)| Diagnostic {
                file: file.display().to_string(),
                line: 0,
                column: 0,
                key: key.to_string(),
                message: format!("{key}: {message}"),
            })
            .collect(),
    ))
}

/// (key, why) for each thing a user's pod cannot have, with
/// `unprivileged_start` the first port a user may bind.
pub fn problems(pod: &Pod, unprivileged_start: u16) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let net = &pod.network;
    if let Some(other) = net
        .networks
        .iter()
        .find(|n| *n != crate::net::config::DEFAULT_NETWORK)
    {
        out.push((
            "networks",
            format!(
                "{other:?} is one of root's networks; a user's pods are on pasta's network only (leave `networks` out, or network = \"none\")"
            ),
        ));
    }
    if net.mode == NetworkMode::Bridge
        && let Err(why) = crate::net::pasta::check_ports(&net.ports, unprivileged_start)
    {
        out.push(("ports", why));
    }
    if let UserNs::Fixed(_) = pod.userns {
        out.push((
            "userns",
            "a user's pods run in the user's own mapping (root is you, then your /etc/subuid IDs): leave `userns` out".into(),
        ));
    }
    if let Some(c) = pod.containers.iter().find(|c| !c.secrets.is_empty()) {
        out.push((
            "secrets",
            format!(
                "container {}: a user's pods have no podctl secrets (systemd 252 keeps encrypted credentials for system services only); use a file volume",
                c.name
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(text: &str) -> Pod {
        crate::spec::parse_str(text, "p.toml", "p").unwrap()
    }

    #[test]
    fn a_users_pod_is_refused_what_only_root_has() {
        let ok = pod("ports = [\"8080:80\"]\n[containers.app]\ncommand = [\"/bin/true\"]\n");
        assert!(problems(&ok, 1024).is_empty());
        let low = pod("ports = [\"80:8000\"]\n[containers.app]\ncommand = [\"/bin/true\"]\n");
        let p = problems(&low, 1024);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "ports");
        assert!(p[0].1.contains("below 1024"), "{p:?}");
        assert!(problems(&low, 80).is_empty());
        let fixed = pod(
            "userns = { uid = 200000, gid = 200000, size = 65536 }\n[containers.app]\nimage = \"busybox\"\n",
        );
        assert_eq!(problems(&fixed, 1024)[0].0, "userns");
    }
}
