//! A container's `env`: plain values, and variables set from a secret
//! (`{ secret = "NAME" }`).

use super::diag::{Sink, join};
use super::names;
use super::tree::{self, Value};
use std::collections::BTreeMap;

/// Plain values, and variables set from a secret (sorted by variable).
type Env = (BTreeMap<String, String>, Vec<(String, String)>);

pub(crate) fn read(sink: &mut Sink, v: &Value<'_>, path: &str) -> Env {
    let mut env = BTreeMap::new();
    let mut from_secrets = Vec::new();
    let Some(t) = tree::table(sink, v, path) else {
        return (env, from_secrets);
    };
    for (k, v) in t.iter() {
        let name: &str = k.get_ref();
        let key = join(path, name);
        if !names::is_env_name(name) {
            sink.error(
                k.span(),
                &key,
                format!(
                    "{name:?} is not a valid environment variable name (use [A-Za-z_][A-Za-z0-9_]*)"
                ),
            );
        }
        if v.get_ref().as_table().is_some() {
            if let Some(secret) = super::secrets::read_env_ref(sink, v, &key) {
                from_secrets.push((name.to_string(), secret));
            }
        } else if let Some(s) = tree::string(sink, v, &key) {
            if s.text.contains('\0') {
                sink.error(s.span, &key, "values cannot contain NUL characters");
            } else {
                env.insert(name.to_string(), s.text.to_string());
            }
        }
    }
    from_secrets.sort();
    (env, from_secrets)
}
