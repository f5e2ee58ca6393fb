//! A container's `env` and `envFrom`: values, ConfigMap keys of the same
//! file, Secret keys (podctl secrets: `env.VAR = { secret = "NAME.KEY" }`,
//! never the value), the pod's name and namespace (`fieldRef`), and its
//! containers' limits and requests (`resourceFieldRef`).

use super::native::{Origin, Val, key, origin, string};
use super::pod_cx::PodCx;
use super::refs::{Kind, Refs};
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;
use std::collections::BTreeMap;

/// The native `env.NAME` keys and the values (for `$(NAME)` in command and args).
pub(crate) type Env = (Vec<(String, Val, Origin)>, BTreeMap<String, String>);

/// A variable's value: plain text, or the podctl secret it is given from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Plain(String),
    Secret(String),
}

/// The environment of one container, as native `env.NAME` keys.
pub(crate) fn read(
    cx: &mut Cx,
    env: Option<&Node>,
    env_from: Option<&Node>,
    path: &str,
    container: &str,
    pod: &PodCx,
) -> Env {
    // envFrom first: `env` wins over it, and a later entry over an earlier
    // one, as in Kubernetes.
    let mut vars: BTreeMap<String, (Value, Origin)> = BTreeMap::new();
    if let Some(n) = env_from {
        let p = join(path, "envFrom");
        for (i, src) in walk::seq(cx, n, &p).iter().enumerate() {
            let p = format!("{p}[{i}]");
            let [cm, secret, prefix] =
                fields(cx, src, &p, ["configMapRef", "secretRef", "prefix"], &[]);
            let prefix = prefix
                .and_then(|x| walk::string(cx, x, &join(&p, "prefix")))
                .unwrap_or("");
            let (kind, r, rp) = match (cm, secret) {
                (Some(r), None) => (Kind::ConfigMap, r, join(&p, "configMapRef")),
                (None, Some(r)) => (Kind::Secret, r, join(&p, "secretRef")),
                _ => {
                    cx.error(src, &p, "give one of configMapRef or secretRef");
                    continue;
                }
            };
            let [name, optional] = fields(cx, r, &rp, ["name", "optional"], &[]);
            let optional = optional
                .and_then(|o| walk::boolean(cx, o, &join(&rp, "optional")))
                .unwrap_or(false);
            let Some(name) = name.and_then(|n| walk::string(cx, n, &join(&rp, "name"))) else {
                cx.error(r, &rp, "missing name");
                continue;
            };
            match pod.objects.get(kind, name) {
                Some(data) => {
                    for (k, v) in data {
                        let value = match kind {
                            Kind::Secret => secret_value(name, k, v),
                            Kind::ConfigMap => Value::Plain(v.clone()),
                        };
                        vars.insert(format!("{prefix}{k}"), (value, origin(src, &p)));
                    }
                }
                None if optional => {}
                // Its keys are known only from the file.
                None if kind == Kind::Secret => cx.error(
                    r,
                    &rp,
                    format!("no Secret named {name:?} {}: envFrom takes the keys of a Secret of the manifest (name each stored one with secretKeyRef)", pod.objects.looked_in()),
                ),
                None => missing(cx, (r, &rp), kind, name, pod.objects),
            }
        }
    }
    if let Some(n) = env {
        let p = join(path, "env");
        for (i, item) in walk::seq(cx, n, &p).iter().enumerate() {
            let p = format!("{p}[{i}]");
            let [name, value, from] = fields(cx, item, &p, ["name", "value", "valueFrom"], &[]);
            let Some(name) = name.and_then(|n| walk::string(cx, n, &join(&p, "name"))) else {
                cx.error(item, &p, "missing name");
                continue;
            };
            let value = match (value, from) {
                (Some(_), Some(_)) => {
                    cx.error(item, &p, "give value or valueFrom, not both");
                    continue;
                }
                // `$(NAME)` refers to a variable defined before, as in Kubernetes.
                (Some(v), None) => walk::scalar_text(cx, v, &join(&p, "value"))
                    .map(|t| Value::Plain(expand(&t, &plain(&vars)))),
                (None, Some(f)) => value_from(cx, f, &join(&p, "valueFrom"), container, pod),
                (None, None) => Some(Value::Plain(String::new())),
            };
            if let Some(v) = value {
                vars.insert(name.to_string(), (v, origin(item, &p)));
            }
        }
    }
    let values = plain(&vars);
    let keys = vars
        .into_iter()
        .map(|(k, (v, o))| {
            let text = match v {
                Value::Plain(v) => string(&v),
                Value::Secret(n) => format!("{{ secret = {} }}", string(&n)),
            };
            (format!("env.{}", key(&k)), Val::Raw(text), o)
        })
        .collect();
    (keys, values)
}

/// The plain variables, for `$(NAME)`: one given from a secret is left as
/// written (its value is never put into a pod file).
fn plain(vars: &BTreeMap<String, (Value, Origin)>) -> BTreeMap<String, String> {
    vars.iter()
        .filter_map(|(k, (v, _))| match v {
            Value::Plain(v) => Some((k.clone(), v.clone())),
            Value::Secret(_) => None,
        })
        .collect()
}

/// Key `key` of the file's Secret `secret`, whose value is `value`: the
/// podctl secret, or an empty plain value (a secret is never empty).
fn secret_value(secret: &str, key: &str, value: &str) -> Value {
    match super::secret::name(secret, key) {
        Some(n) if !value.is_empty() => Value::Secret(n),
        // Too long a name is refused where the Secret is read.
        _ => Value::Plain(String::new()),
    }
}

/// Kubernetes' `$(NAME)` references: the variable's value when it is
/// defined, else left as written; `$$` is a `$`.
pub(crate) fn expand(s: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
        {
            let name = &inner[..end];
            match vars.get(name) {
                Some(v) => out.push_str(v),
                None => out.push_str(&rest[i..i + 2 + end + 1]),
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn missing(cx: &mut Cx, (at, path): (&Node, &str), kind: Kind, name: &str, objects: &Refs) {
    cx.error(
        at,
        path,
        format!(
            "no {} named {name:?} {} ({}, or set optional: true)",
            kind.as_str(),
            objects.looked_in(),
            objects.put_it()
        ),
    );
}

/// `valueFrom`: a key of a ConfigMap or Secret, the pod's name or
/// namespace, or a limit or request of one of its containers.
fn value_from(cx: &mut Cx, n: &Node, path: &str, container: &str, pod: &PodCx) -> Option<Value> {
    let [cm, secret, field, resource] = fields(
        cx,
        n,
        path,
        [
            "configMapKeyRef",
            "secretKeyRef",
            "fieldRef",
            "resourceFieldRef",
        ],
        &["fileKeyRef"],
    );
    if let Some(r) = resource {
        let p = join(path, "resourceFieldRef");
        return super::resource_env::value(cx, r, &p, Some(container), pod.spec).map(Value::Plain);
    }
    if let Some(f) = field {
        let p = join(path, "fieldRef");
        let [fp, _] = fields(cx, f, &p, ["fieldPath", "apiVersion"], &[]);
        let fp_node = fp?;
        return match walk::string(cx, fp_node, &join(&p, "fieldPath"))? {
            "metadata.name" => Some(Value::Plain(pod.name.clone())),
            "metadata.namespace" => Some(Value::Plain(pod.namespace.clone())),
            other => {
                cx.unsupported(
                    fp_node,
                    &join(&p, "fieldPath"),
                    &format!(
                        "fieldPath {other} (podctl gives metadata.name and metadata.namespace)"
                    ),
                );
                None
            }
        };
    }
    let (kind, r, p) = match (cm, secret) {
        (Some(r), None) => (Kind::ConfigMap, r, join(path, "configMapKeyRef")),
        (None, Some(r)) => (Kind::Secret, r, join(path, "secretKeyRef")),
        _ => {
            cx.error(
                n,
                path,
                "give one of configMapKeyRef, secretKeyRef, fieldRef or resourceFieldRef",
            );
            return None;
        }
    };
    let [name, k, optional] = fields(cx, r, &p, ["name", "key", "optional"], &[]);
    let optional = optional
        .and_then(|o| walk::boolean(cx, o, &join(&p, "optional")))
        .unwrap_or(false);
    let name = name.and_then(|x| walk::string(cx, x, &join(&p, "name")));
    let k = k.and_then(|x| walk::string(cx, x, &join(&p, "key")));
    let (Some(name), Some(k)) = (name, k) else {
        cx.error(r, &p, "needs name and key");
        return None;
    };
    match pod.objects.get(kind, name).map(|d| d.get(k)) {
        Some(Some(v)) if kind == Kind::Secret => Some(secret_value(name, k, v)),
        Some(Some(v)) => Some(Value::Plain(v.clone())),
        _ if optional => None,
        // A Secret not in the file: the podctl secret stored already
        // (apply checks that it is).
        None if kind == Kind::Secret => match super::secret::name(name, k) {
            Some(n) => Some(Value::Secret(n)),
            None => {
                cx.error(
                    r,
                    &p,
                    format!(
                        "{name}.{k} is no podctl secret name (longer than {} bytes)",
                        crate::model::SECRET_NAME_MAX
                    ),
                );
                None
            }
        },
        Some(None) => {
            cx.error(
                r,
                &join(&p, "key"),
                format!("the {} {name:?} has no key {k:?}", kind.as_str()),
            );
            None
        }
        None => {
            missing(cx, (r, &p), kind, name, pod.objects);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn references_expand_as_in_kubernetes() {
        let vars = [("A".to_string(), "x".to_string())].into_iter().collect();
        assert_eq!(expand("$(A)-$(B)-$$(A)-$-$(", &vars), "x-$(B)-$(A)-$-$(");
        assert_eq!(expand("no refs", &vars), "no refs");
        assert_eq!(expand("é$(A)é", &vars), "éxé");
    }
}
