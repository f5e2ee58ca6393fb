//! A Secret's values are shown by no command: `apply --dry-run`, `diff`,
//! `validate` and `kube generate` print `<secret>` where a pod's
//! environment, command or probes hold one.
//!
//! Where they live: a manifest's Secrets become the values of the native
//! pod file's keys (a container's `env`), which `apply` stores in
//! `/etc/podctl/pods/NAME.toml` (0600, in a 0700 directory), and the
//! supervisor's state file (`/run/podctl/NAME.json`, 0600) holds the same
//! text; secret volumes' files are in `/var/lib/podctl/kube/NAME/` (0700),
//! 0400 unless the manifest gives a mode. The stored pod file marks each
//! line that holds a secret with [`MARK`], so that `kube generate NAME`
//! hides them too.

use crate::model::{Check, Pod};

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
