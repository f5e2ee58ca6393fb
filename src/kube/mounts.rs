//! Each container's `volumeMounts`: the native `volumes` strings and, for
//! secret volumes (and the secrets of projected ones), `secrets` elements
//! of the pod's volumes ([`super::volumes::Source`]).

use super::native::{self, Origin, origin};
use super::volumes::Source;
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;

/// One container's mounts: native `volumes` and `secrets` elements.
#[derive(Default)]
pub(crate) struct Mounts {
    pub volumes: Vec<(String, Origin)>,
    pub secrets: Vec<(String, Origin)>,
}

/// One container's `volumeMounts` as native volume strings and secrets.
pub(crate) fn mounts(cx: &mut Cx, n: &Node, path: &str, vols: &[(String, Source)]) -> Mounts {
    let mut all = Mounts::default();
    let out = &mut all.volumes;
    for (i, m) in walk::seq(cx, n, path).iter().enumerate() {
        let p = format!("{path}[{i}]");
        let [name, target, ro, sub] = fields(
            cx,
            m,
            &p,
            ["name", "mountPath", "readOnly", "subPath"],
            &["mountPropagation", "subPathExpr", "recursiveReadOnly"],
        );
        let name = name.and_then(|n| walk::string(cx, n, &join(&p, "name")));
        let target = target.and_then(|t| walk::string(cx, t, &join(&p, "mountPath")));
        let (Some(name), Some(target)) = (name, target) else {
            cx.error(m, &p, "a volume mount needs name and mountPath");
            continue;
        };
        let mut read_only = ro
            .and_then(|r| walk::boolean(cx, r, &join(&p, "readOnly")))
            .unwrap_or(false);
        let sub = sub.and_then(|s| Some((walk::string(cx, s, &join(&p, "subPath"))?, s)));
        // A subPath stays inside its volume, as in Kubernetes.
        if let Some((s, n)) = sub
            && let Err(e) = super::rules::relative_path(s)
        {
            cx.error(n, &join(&p, "subPath"), e);
            continue;
        }
        let Some((_, source)) = vols.iter().find(|(n, _)| n == name) else {
            let names: Vec<&str> = vols.iter().map(|(n, _)| n.as_str()).collect();
            let hint = crate::spec::names::suggest(name, &names)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            cx.error(
                m,
                &join(&p, "name"),
                format!("no volume named {name:?} in spec.volumes{hint}"),
            );
            continue;
        };
        let src = match source {
            Source::Unsupported => continue,
            // Read-only files, as in Kubernetes, whatever readOnly says.
            Source::Secret(items) => {
                let files = super::secret_volume::mounted(items, target, sub.map(|(s, _)| s));
                if let Some((s, n)) = sub
                    && files.is_empty()
                {
                    cx.error(
                        n,
                        &join(&p, "subPath"),
                        format!("{s:?} is no item of the secret volume {name:?}"),
                    );
                }
                all.secrets
                    .extend(files.into_iter().map(|f| (f, origin(m, &p))));
                continue;
            }
            Source::Mixed {
                dir,
                files,
                secrets,
            } => {
                let sub = sub.map(|(s, _)| s);
                let under = |f: &String| {
                    sub.is_none_or(|s| {
                        f == s || f.strip_prefix(s).is_some_and(|r| r.starts_with('/'))
                    })
                };
                let in_files = files.iter().any(under);
                let in_secrets = super::secret_volume::mounted(secrets, target, sub);
                if !in_files && in_secrets.is_empty() {
                    let s = sub.unwrap_or_default();
                    cx.error(
                        m,
                        &join(&p, "subPath"),
                        format!("{s:?} is no item of the projected volume {name:?}"),
                    );
                    continue;
                }
                // The directory first: the secrets are mounted in it.
                if in_files {
                    let src = match sub {
                        Some(s) => format!("{dir}/{s}"),
                        None => dir.clone(),
                    };
                    out.push((native::string(&format!("{src}:{target}:ro")), origin(m, &p)));
                }
                all.secrets
                    .extend(in_secrets.into_iter().map(|f| (f, origin(m, &p))));
                continue;
            }
            Source::Files(dir) => {
                // Kubernetes mounts them read-only, whatever readOnly says.
                read_only = true;
                match sub {
                    Some((s, _)) => format!("{dir}/{s}"),
                    None => dir.clone(),
                }
            }
            Source::Host(h) => match sub {
                Some((s, _)) => format!("{}/{s}", h.trim_end_matches('/')),
                None => h.clone(),
            },
            Source::Scratch | Source::Claim(..) => {
                if let Some((_, s)) = sub {
                    cx.unsupported(
                        s,
                        &join(&p, "subPath"),
                        "subPath of an emptyDir or a claim (only of a hostPath)",
                    );
                }
                match source {
                    Source::Claim(c, claim_ro) => {
                        read_only |= claim_ro;
                        c.clone()
                    }
                    _ => name.to_string(),
                }
            }
        };
        let text = format!("{src}:{target}{}", if read_only { ":ro" } else { "" });
        out.push((native::string(&text), origin(m, &p)));
    }
    all
}
