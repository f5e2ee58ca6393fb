//! `spec.dnsPolicy` and `spec.dnsConfig`, in and out: the pod file's
//! `resolv_conf`, `dns`, `dns_search` and `dns_options`.
//!
//! podctl has no cluster DNS: `ClusterFirst` is the pod network's
//! (aardvark-dns on a DNS network), `Default` the host's resolv.conf,
//! `None` only what dnsConfig says.

use super::native::{self, Native, Val, origin, set};
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;
use super::yaml_out::{MapB, Y};
use crate::model::Pod;
use crate::model::dns::ResolvFrom;

const POLICIES: [&str; 4] = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];

/// Reads `spec.dnsPolicy` (`policy`) and `spec.dnsConfig` (`config`) of a
/// pod on the host's network or not (`host_net`).
pub(crate) fn read(
    cx: &mut Cx,
    policy: Option<&Node>,
    config: Option<&Node>,
    host_net: bool,
    out: &mut Native,
) {
    let nameservers = config.map_or(0, |c| read_config(cx, c, out));
    let Some(p) = policy else { return };
    const P: &str = "spec.dnsPolicy";
    let Some(text) = walk::string(cx, p, P) else {
        return;
    };
    let from = match text {
        "ClusterFirst" => return,
        "ClusterFirstWithHostNet" => {
            if host_net {
                cx.warnings.error(
                    p.offset..p.offset,
                    P,
                    "podctl has no cluster DNS: a pod on the host's network resolves with the host's resolv.conf, as with dnsPolicy Default",
                );
            }
            return;
        }
        "Default" => ResolvFrom::Host,
        "None" if nameservers == 0 => {
            cx.error(
                p,
                P,
                "dnsPolicy None takes every DNS setting from dnsConfig: give at least one dnsConfig.nameservers",
            );
            return;
        }
        "None" => ResolvFrom::Pod,
        other => {
            cx.error(
                p,
                P,
                format!("{other:?} is not a dnsPolicy ({})", POLICIES.join(", ")),
            );
            return;
        }
    };
    set(
        cx,
        &mut out.keys,
        "resolv_conf",
        native::string(from.as_str()),
        p,
        P,
    );
}

/// `spec.dnsConfig`: `nameservers`, `searches`, `options` (`name`,
/// `value`); returns how many nameservers it gives.
fn read_config(cx: &mut Cx, n: &Node, out: &mut Native) -> usize {
    const P: &str = "spec.dnsConfig";
    let [servers, searches, options] =
        fields(cx, n, P, ["nameservers", "searches", "options"], &[]);
    let mut count = 0;
    for (key, list, path) in [
        ("dns", servers, join(P, "nameservers")),
        ("dns_search", searches, join(P, "searches")),
    ] {
        let Some(list) = list else { continue };
        let items: Vec<_> = walk::strings(cx, list, &path)
            .into_iter()
            .enumerate()
            .map(|(i, (t, n))| (native::string(t), origin(n, &format!("{path}[{i}]"))))
            .collect();
        if key == "dns" {
            count = items.len();
        }
        let _ = out.keys.set(key, Val::Array(items), origin(list, &path));
    }
    if let Some(list) = options {
        let path = join(P, "options");
        let mut items = Vec::new();
        for (i, o) in walk::seq(cx, list, &path).iter().enumerate() {
            let p = format!("{path}[{i}]");
            let [name, value] = fields(cx, o, &p, ["name", "value"], &[]);
            let Some(name) = name.and_then(|n| walk::string(cx, n, &join(&p, "name"))) else {
                cx.error(o, &p, "an option needs a name");
                continue;
            };
            let text = match value.and_then(|v| walk::scalar_text(cx, v, &join(&p, "value"))) {
                Some(v) => format!("{name}:{v}"),
                None => name.to_string(),
            };
            items.push((native::string(&text), origin(o, &p)));
        }
        let _ = out
            .keys
            .set("dns_options", Val::Array(items), origin(list, &path));
    }
    count
}

/// `dnsPolicy` and `dnsConfig` of the pod's resolver settings.
pub(crate) fn generate(p: &Pod, spec: &mut MapB) {
    let net = &p.network;
    let r = &net.resolver;
    match r.from {
        ResolvFrom::Network => {}
        ResolvFrom::Host => {
            spec.str("dnsPolicy", "Default");
        }
        ResolvFrom::Pod => {
            spec.str("dnsPolicy", "None");
        }
    }
    let strs = |v: &[String]| Y::Seq(v.iter().map(|s| Y::Str(s.clone())).collect());
    let mut config = MapB::default();
    let servers: Vec<String> = net.dns.iter().map(|d| d.to_string()).collect();
    config.nonempty("nameservers", strs(&servers));
    config.nonempty("searches", strs(&r.search));
    let options = r
        .options
        .iter()
        .map(|o| {
            let mut m = MapB::default();
            match o.split_once(':') {
                Some((name, value)) => m.str("name", name).str("value", value),
                None => m.str("name", o),
            };
            m.done()
        })
        .collect();
    config.nonempty("options", Y::Seq(options));
    spec.nonempty("dnsConfig", config.done());
}

#[cfg(test)]
mod tests {
    use crate::kube::{Loaded, Unsupported, parse_str};
    use crate::model::dns::ResolvFrom;

    /// The Kubernetes documentation's example of dnsPolicy None.
    const NONE: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: dns-example\n  annotations:\n    podctl.io/host-binaries: test\nspec:\n  containers:\n    - name: test\n      command: [/bin/sleep, infinity]\n  dnsPolicy: \"None\"\n  dnsConfig:\n    nameservers:\n      - 192.0.2.1\n    searches:\n      - ns1.svc.cluster-domain.example\n      - my.dns.search.suffix\n    options:\n      - name: ndots\n        value: \"2\"\n      - name: edns0\n";

    fn read(src: &str) -> Result<Loaded, String> {
        parse_str(src, "t.yaml", Unsupported::Error, crate::kube::test_files())
            .map_err(|d| d.to_string())
    }

    #[test]
    fn the_policies_are_where_resolv_conf_starts_from() {
        let l = read(NONE).unwrap();
        let net = &l.pod.network;
        assert_eq!(net.resolver.from, ResolvFrom::Pod);
        assert_eq!(net.dns, ["192.0.2.1".parse::<std::net::IpAddr>().unwrap()]);
        assert_eq!(
            net.resolver.search,
            ["ns1.svc.cluster-domain.example", "my.dns.search.suffix"]
        );
        assert_eq!(net.resolver.options, ["ndots:2", "edns0"]);
        let default = read(&NONE.replace("\"None\"", "Default")).unwrap();
        assert_eq!(default.pod.network.resolver.from, ResolvFrom::Host);
        let first = read(&NONE.replace("\"None\"", "ClusterFirst")).unwrap();
        assert_eq!(first.pod.network.resolver.from, ResolvFrom::Network);
        assert!(first.warnings.is_empty());
        // Without the host's network it is ClusterFirst; with it, the
        // host's file, which Kubernetes would not give: a note.
        let with_host_net = NONE.replace("\"None\"", "ClusterFirstWithHostNet");
        let l = read(&with_host_net).unwrap();
        assert_eq!(l.pod.network.resolver.from, ResolvFrom::Network);
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        let l = read(&with_host_net.replace("spec:\n", "spec:\n  hostNetwork: true\n")).unwrap();
        let notes = l.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert!(
            notes.len() == 1 && notes[0].contains("spec.dnsPolicy: podctl has no cluster DNS"),
            "{notes:?}"
        );
    }

    #[test]
    fn none_needs_a_nameserver_and_the_config_is_checked() {
        let no_servers = NONE.replace("    nameservers:\n      - 192.0.2.1\n", "");
        let e = read(&no_servers).unwrap_err();
        assert!(
            e.contains("t.yaml:11:14: spec.dnsPolicy: dnsPolicy None takes every DNS setting from dnsConfig"),
            "{e}"
        );
        let e = read(&NONE.replace("ns1.svc", "ns1..svc")).unwrap_err();
        assert!(
            e.contains("spec.dnsConfig.searches[0]") && e.contains("not a domain name"),
            "{e}"
        );
        let e = read(&NONE.replace("value: \"2\"", "value: \"2 x\"")).unwrap_err();
        assert!(
            e.contains("spec.dnsConfig.options[0]") && e.contains("not a resolv.conf option"),
            "{e}"
        );
        let e = read(&NONE.replace("- name: edns0", "- value: x")).unwrap_err();
        assert!(
            e.contains("spec.dnsConfig.options[1]: an option needs a name"),
            "{e}"
        );
    }

    #[test]
    fn generate_writes_the_policy_and_the_config_back() {
        let l = read(NONE).unwrap();
        let yaml = crate::kube::generate::pod(&l.pod);
        assert!(
            yaml.contains("  dnsPolicy: None\n  dnsConfig:\n    nameservers:\n    - 192.0.2.1\n    searches:\n    - ns1.svc.cluster-domain.example\n    - my.dns.search.suffix\n    options:\n    - name: ndots\n      value: '2'\n    - name: edns0\n"),
            "{yaml}"
        );
        let back = read(&yaml).unwrap();
        assert_eq!(back.pod.network, l.pod.network);
    }
}
