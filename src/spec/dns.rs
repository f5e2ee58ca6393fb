//! The pod file's resolver keys: `dns` (nameservers), `resolv_conf` (where
//! the pod's `/etc/resolv.conf` starts from), `dns_search`, `dns_options`.

use super::diag::Sink;
use super::names;
use super::tree::{self, Value};
use crate::model::NetworkMode;
use crate::model::dns::{ResolvFrom, Resolver, option_name};
use std::net::IpAddr;

/// At most this many search domains, and this many characters in all, as
/// Kubernetes allows (and glibc reads since 2.26).
pub const MAX_SEARCH: usize = 32;
pub const MAX_SEARCH_CHARS: usize = 2048;

/// The values of `dns`, `resolv_conf`, `dns_search`, `dns_options`.
pub(crate) type Keys<'a, 'i> = [Option<&'a Value<'i>>; 4];

/// Reads the resolver keys of a pod whose network is `mode`.
pub(crate) fn read(
    sink: &mut Sink,
    keys: Keys<'_, '_>,
    mode: NetworkMode,
) -> (Vec<IpAddr>, Resolver) {
    let [dns, from, search, options] = keys;
    let dns = dns.map(|v| read_dns(sink, v)).unwrap_or_default();
    let mut r = Resolver {
        from: from.and_then(|v| read_from(sink, v)).unwrap_or_default(),
        search: search.map(|v| read_search(sink, v)).unwrap_or_default(),
        options: options.map(|v| read_options(sink, v)).unwrap_or_default(),
    };
    // Without a network a container keeps its image's file: these would
    // say nothing.
    if mode == NetworkMode::None {
        for (v, key) in [
            (from, "resolv_conf"),
            (search, "dns_search"),
            (options, "dns_options"),
        ] {
            if let Some(v) = v {
                sink.error(
                    v.span(),
                    key,
                    "the pod has no network (network = \"none\"): its containers keep their image's /etc/resolv.conf",
                );
            }
        }
        r = Resolver::default();
    }
    if r.from == ResolvFrom::Pod
        && dns.is_empty()
        && let Some(v) = from
    {
        sink.error(
            v.span(),
            "resolv_conf",
            "resolv_conf = \"pod\" takes the nameservers from dns only: give at least one",
        );
    }
    (dns, r)
}

fn read_dns(sink: &mut Sink, v: &Value<'_>) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for s in tree::strings(sink, v, "dns").unwrap_or_default() {
        match s.text.parse::<IpAddr>() {
            Ok(ip) => out.push(ip),
            Err(_) => sink.error(s.span, "dns", format!("{:?} is not an IP address", s.text)),
        }
    }
    out
}

fn read_from(sink: &mut Sink, v: &Value<'_>) -> Option<ResolvFrom> {
    let s = tree::string(sink, v, "resolv_conf")?;
    let found = ResolvFrom::ALL.into_iter().find(|f| f.as_str() == s.text);
    if found.is_none() {
        sink.error(
            s.span,
            "resolv_conf",
            format!(
                "{:?} is not where a resolv.conf comes from (network, host or pod)",
                s.text
            ),
        );
    }
    found
}

fn read_search(sink: &mut Sink, v: &Value<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let list = tree::strings(sink, v, "dns_search").unwrap_or_default();
    for s in &list {
        // A trailing dot (an absolute name) is allowed, as in Kubernetes.
        let name = s.text.strip_suffix('.').unwrap_or(s.text);
        if !names::is_hostname(name) {
            sink.error(
                s.span.clone(),
                "dns_search",
                format!("{:?} is not a domain name (letters, digits and '-' in labels separated by dots)", s.text),
            );
        } else if out.iter().any(|o| o == s.text) {
            sink.error(
                s.span.clone(),
                "dns_search",
                format!("{:?} is listed twice", s.text),
            );
        } else {
            out.push(s.text.to_string());
        }
    }
    let chars = out.iter().map(String::len).sum::<usize>() + out.len().saturating_sub(1);
    if out.len() > MAX_SEARCH || chars > MAX_SEARCH_CHARS {
        sink.error(
            v.span(),
            "dns_search",
            format!("{} domains of {chars} characters: at most {MAX_SEARCH} domains of {MAX_SEARCH_CHARS} characters in all", out.len()),
        );
    }
    out
}

/// An option is `NAME` or `NAME:VALUE`: letters, digits, `-` and `_` in the
/// name, printable ASCII without blanks in the value (one resolv.conf word).
pub fn is_option(o: &str) -> bool {
    let (name, value) = match o.split_once(':') {
        Some((n, v)) => (n, Some(v)),
        None => (o, None),
    };
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    let value_ok = value.is_none_or(|v| !v.is_empty() && v.bytes().all(|c| c.is_ascii_graphic()));
    name_ok && value_ok && o.len() <= 255
}

fn read_options(sink: &mut Sink, v: &Value<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in tree::strings(sink, v, "dns_options").unwrap_or_default() {
        if !is_option(s.text) {
            sink.error(
                s.span,
                "dns_options",
                format!("{:?} is not a resolv.conf option (NAME or NAME:VALUE, e.g. \"ndots:2\", \"edns0\")", s.text),
            );
        } else if out.iter().any(|o| option_name(o) == option_name(s.text)) {
            sink.error(
                s.span,
                "dns_options",
                format!("option {:?} is given twice", option_name(s.text)),
            );
        } else {
            out.push(s.text.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::model::dns::ResolvFrom;
    use crate::spec::parse_str;

    const APP: &str = "\n[containers.app]\ncommand = [\"sleep\", \"1\"]\n";

    fn errors(head: &str) -> String {
        match parse_str(&format!("{head}{APP}"), "t.toml", "t") {
            Ok(_) => String::new(),
            Err(d) => d.to_string(),
        }
    }

    #[test]
    fn the_resolver_keys_are_read() {
        let pod = parse_str(
            &format!("resolv_conf = \"pod\"\ndns = [\"192.0.2.1\"]\ndns_search = [\"ns1.svc.cluster-domain.example\", \"my.dns.search.suffix.\"]\ndns_options = [\"ndots:2\", \"edns0\"]\n{APP}"),
            "t.toml",
            "t",
        )
        .unwrap_or_else(|d| panic!("{d}"));
        let r = &pod.network.resolver;
        assert_eq!(r.from, ResolvFrom::Pod);
        assert_eq!(
            r.search,
            ["ns1.svc.cluster-domain.example", "my.dns.search.suffix."]
        );
        assert_eq!(r.options, ["ndots:2", "edns0"]);
        let default = parse_str(APP, "t.toml", "t").unwrap();
        assert!(default.network.resolver.is_default());
    }

    #[test]
    fn bad_resolver_keys_are_located() {
        assert!(
            errors("resolv_conf = \"cluster\"\n").contains("not where a resolv.conf comes from")
        );
        assert!(errors("resolv_conf = \"pod\"\n").contains("give at least one"));
        assert!(errors("dns_search = [\"a..b\"]\n").contains("not a domain name"));
        assert!(errors("dns_search = [\"a\", \"a\"]\n").contains("listed twice"));
        let many: Vec<String> = (0..33).map(|i| format!("\"d{i}\"")).collect();
        assert!(errors(&format!("dns_search = [{}]\n", many.join(", "))).contains("at most 32"));
        assert!(errors("dns_options = [\"nd ots\"]\n").contains("not a resolv.conf option"));
        assert!(errors("dns_options = [\"ndots:\\n\"]\n").contains("not a resolv.conf option"));
        assert!(errors("dns_options = [\"ndots:1\", \"ndots:2\"]\n").contains("given twice"));
        let none = errors("network = \"none\"\ndns_search = [\"x\"]\n");
        assert!(
            none.contains("dns_search") && none.contains("no network"),
            "{none}"
        );
        assert_eq!(errors("network = \"host\"\nresolv_conf = \"host\"\n"), "");
    }
}
