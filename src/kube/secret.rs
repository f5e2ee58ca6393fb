//! A manifest's Secrets become podctl secrets ([`crate::secret`]): key
//! KEY of Secret NAME is the secret `NAME.KEY` ([`name`]), encrypted by
//! systemd when `apply` stores it; the native pod file holds only that
//! name (`env.VAR = { secret = "NAME.KEY" }`, `secrets = [{ name =
//! "NAME.KEY", target = ..., mode = ... }]`). The values travel from the
//! manifest to `apply` in memory only ([`Values`]).
//!
//! No command shows a value: `apply --dry-run`, `diff`, `validate` and
//! `kube generate` print `<secret>` wherever one would appear by chance (a
//! plain value that holds it), and the stored pod file marks such a line
//! with [`MARK`], so that `kube generate NAME` hides them too.

use crate::model::{Check, Pod, is_secret_name};
use std::collections::BTreeMap;

/// The podctl secret that key `key` of Secret `secret` is: `SECRET.KEY`
/// (a Secret's name is a DNS subdomain and a key `[-._a-zA-Z0-9]+`: both
/// are a secret name's characters); `None` when that is no secret name
/// (too long).
pub fn name(secret: &str, key: &str) -> Option<String> {
    let n = format!("{secret}.{key}");
    is_secret_name(&n).then_some(n)
}

/// The Secret and key a podctl secret's name is written as in a manifest
/// (`kube generate`): split at its first dot, the Secret a DNS-1123 label
/// (as Kubernetes names are written), the key a valid key. `None`: the name
/// has no such form (it is then written in an annotation).
pub fn split(name: &str) -> Option<(&str, &str)> {
    let (secret, key) = name.split_once('.')?;
    let label = !secret.is_empty()
        && secret.len() <= super::rules::MAX_VOLUME_NAME
        && secret
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !secret.starts_with('-')
        && !secret.ends_with('-');
    (label && super::rules::key(key).is_ok()).then_some((secret, key))
}

/// A manifest's secret values by podctl secret name, for `apply` to store:
/// in memory only, never printed (its `Debug` shows the names).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Values(pub BTreeMap<String, Vec<u8>>);

impl std::fmt::Debug for Values {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// What is printed instead of a secret value.
pub const REDACTED: &str = "<secret>";

/// The comment ending a native line that holds a secret value.
pub const MARK: &str = "  # secret";

/// The secret strings of a stored native pod file: the string values of
/// its lines marked [`MARK`] (whole values; they hold a secret).
pub fn marked(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| l.ends_with(MARK)) {
        // A key's line (`env.A = "..."`) or an array element's (`  "...",`).
        let table: Option<toml::Table> = if line.starts_with("  ") {
            toml::from_str(&format!("x = [\n{line}\n]")).ok()
        } else {
            toml::from_str(line).ok()
        };
        if let Some(t) = table {
            strings(&toml::Value::Table(t), &mut out);
        }
    }
    out.retain(|s| !s.is_empty());
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    out.dedup();
    out
}

fn strings(v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::String(s) => out.push(s.clone()),
        toml::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        toml::Value::Table(t) => t.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// `s` with every occurrence of a secret (longest first) replaced by
/// [`REDACTED`].
pub fn hide(s: &str, secrets: &[String]) -> String {
    let mut out = s.to_string();
    for secret in secrets.iter().filter(|x| !x.is_empty()) {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

/// The pod as it may be shown: every secret in a container's environment,
/// command, arguments and exec probes replaced by [`REDACTED`].
pub fn redact(pod: &mut Pod, secrets: &[String]) {
    if secrets.is_empty() {
        return;
    }
    let list = |v: &mut Vec<String>| v.iter_mut().for_each(|s| *s = hide(s, secrets));
    for c in &mut pod.containers {
        c.env.values_mut().for_each(|v| *v = hide(v, secrets));
        c.command.as_mut().map(list);
        c.args.as_mut().map(list);
        for p in [&mut c.ready, &mut c.live].into_iter().flatten() {
            if let Check::Exec(argv) = &mut p.check {
                list(argv);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_of_a_secret_is_the_secret_named_both() {
        assert_eq!(name("db", "password").as_deref(), Some("db.password"));
        assert_eq!(
            name("app.example", "tls.key").as_deref(),
            Some("app.example.tls.key")
        );
        assert_eq!(name(&"a".repeat(200), &"k".repeat(60)), None);
        assert_eq!(split("db.password"), Some(("db", "password")));
        assert_eq!(split("db.tls.key"), Some(("db", "tls.key")));
        for plain in ["db-password", "Db.password", "-x.y", "db."] {
            assert_eq!(split(plain), None, "{plain}");
        }
        // What is split is named back the same.
        let (s, k) = split("db.tls.key").unwrap();
        assert_eq!(name(s, k).as_deref(), Some("db.tls.key"));
        let v = Values(BTreeMap::from([("db.password".into(), b"s3cr3t".to_vec())]));
        assert_eq!(format!("{v:?}"), "[\"db.password\"]");
    }

    #[test]
    fn marked_lines_give_their_strings_and_hide_replaces_them() {
        let text = format!(
            "[containers.app]\nenv.A = \"s3cr3t\"{MARK}\nenv.B = \"plain\"\ncommand = [\n  \"echo\",\n  \"x-s3cr3t\",{MARK}\n]\n"
        );
        assert_eq!(marked(&text), ["x-s3cr3t", "s3cr3t"]);
        let secrets = vec!["s3cr3t".to_string()];
        assert_eq!(hide("a s3cr3t b s3cr3t", &secrets), "a <secret> b <secret>");
        assert_eq!(hide("plain", &secrets), "plain");
    }
}
