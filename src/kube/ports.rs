//! A container's `ports`: those with a `hostPort` are the pod's published ports.

use super::native::{self, Origin, origin};
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;

/// `ports`: those with a hostPort are published (`[IP:]HOST:CONTAINER/proto`);
/// a containerPort alone documents the port, as in Kubernetes.
pub(crate) fn read_ports(
    cx: &mut Cx,
    n: &Node,
    path: &str,
    host_net: bool,
    out: &mut Vec<(String, Origin)>,
) {
    for (i, p) in walk::seq(cx, n, path).iter().enumerate() {
        let path = format!("{path}[{i}]");
        let [container, host, ip, protocol, _] = fields(
            cx,
            p,
            &path,
            ["containerPort", "hostPort", "hostIP", "protocol", "name"],
            &[],
        );
        let Some(container) =
            container.and_then(|c| walk::integer(cx, c, &join(&path, "containerPort"), 1, 65_535))
        else {
            if container.is_none() {
                cx.error(p, &path, "missing containerPort");
            }
            continue;
        };
        let protocol = match protocol.and_then(|x| walk::string(cx, x, &join(&path, "protocol"))) {
            None | Some("TCP") => "tcp",
            Some("UDP") => "udp",
            Some("SCTP") => "sctp",
            Some(other) => {
                cx.error(
                    protocol.expect("set"),
                    &join(&path, "protocol"),
                    format!("{other:?} is not a protocol (TCP, UDP, SCTP)"),
                );
                continue;
            }
        };
        // On the host's network a port is the host's already.
        let Some(host) = host.filter(|_| !host_net) else {
            continue;
        };
        let Some(host) = walk::integer(cx, host, &join(&path, "hostPort"), 1, 65_535) else {
            continue;
        };
        let ip = ip.and_then(|x| walk::string(cx, x, &join(&path, "hostIP")));
        let ip = ip
            .filter(|i| !i.is_empty() && *i != "0.0.0.0")
            .map(|i| format!("{i}:"))
            .unwrap_or_default();
        out.push((
            native::string(&format!("{ip}{host}:{container}/{protocol}")),
            origin(p, &path),
        ));
    }
}
