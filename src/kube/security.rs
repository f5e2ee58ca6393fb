//! A container's `securityContext` (and the pod's runAsUser, runAsGroup and
//! sysctls, which apply to every container) as native security keys.

use super::native::{self, Keys, origin, set};
use super::pod_cx::PodCx;
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;

const SECURITY: [&str; 7] = [
    "runAsUser",
    "runAsGroup",
    "capabilities",
    "privileged",
    "readOnlyRootFilesystem",
    "allowPrivilegeEscalation",
    "seccompProfile",
];
const SECURITY_UNSUPPORTED: [&str; 5] = [
    "runAsNonRoot",
    "seLinuxOptions",
    "windowsOptions",
    "procMount",
    "appArmorProfile",
];

pub(crate) fn lower(cx: &mut Cx, n: Option<&Node>, path: &str, pcx: &PodCx, keys: &mut Keys) {
    let p = join(path, "securityContext");
    let [
        user,
        group,
        caps,
        privileged,
        read_only,
        escalation,
        seccomp,
    ] = match n {
        Some(n) => fields(cx, n, &p, SECURITY, &SECURITY_UNSUPPORTED),
        None => [None; 7],
    };
    let uid = walk::id(cx, user, &join(&p, "runAsUser")).or(pcx.run_as.0);
    let gid = walk::id(cx, group, &join(&p, "runAsGroup")).or(pcx.run_as.1);
    match (uid, gid) {
        (Some((u, at)), Some((g, _))) => set(
            cx,
            keys,
            "user",
            native::string(&format!("{u}:{g}")),
            at,
            &join(&p, "runAsUser"),
        ),
        (Some((u, at)), None) => set(cx, keys, "user", u.to_string(), at, &join(&p, "runAsUser")),
        (None, Some((_, at))) => cx.unsupported(
            at,
            &join(&p, "runAsGroup"),
            "runAsGroup without runAsUser (podctl's user is a uid with an optional gid)",
        ),
        (None, None) => {}
    }
    if let Some(c) = caps {
        let cp = join(&p, "capabilities");
        let [add, drop] = fields(cx, c, &cp, ["add", "drop"], &[]);
        for (key, list) in [("add", add), ("drop", drop)] {
            let Some(list) = list else { continue };
            let items: Vec<String> = walk::strings(cx, list, &join(&cp, key))
                .into_iter()
                .map(|(s, _)| native::string(s))
                .collect();
            let text = format!("[{}]", items.join(", "));
            set(
                cx,
                keys,
                &format!("capabilities.{key}"),
                text,
                list,
                &join(&cp, key),
            );
        }
    }
    for (v, key, native_key, invert) in [
        (privileged, "privileged", "privileged", false),
        (read_only, "readOnlyRootFilesystem", "read_only", false),
        (
            escalation,
            "allowPrivilegeEscalation",
            "no_new_privileges",
            true,
        ),
    ] {
        if let Some(v) = v
            && let Some(b) = walk::boolean(cx, v, &join(&p, key))
        {
            set(
                cx,
                keys,
                native_key,
                (b != invert).to_string(),
                v,
                &join(&p, key),
            );
        }
    }
    if let Some(s) = seccomp {
        let sp = join(&p, "seccompProfile");
        let [ty, profile] = fields(cx, s, &sp, ["type", "localhostProfile"], &[]);
        let value = match ty.and_then(|t| walk::string(cx, t, &join(&sp, "type"))) {
            Some("RuntimeDefault") => Some("default".to_string()),
            Some("Unconfined") => Some("unconfined".to_string()),
            Some("Localhost") => match profile
                .and_then(|x| walk::string(cx, x, &join(&sp, "localhostProfile")))
            {
                Some(path) if path.starts_with('/') => Some(path.to_string()),
                Some(path) => {
                    cx.unsupported(
                        profile.expect("set"),
                        &join(&sp, "localhostProfile"),
                        &format!("the relative profile {path:?} (podctl reads an absolute path)"),
                    );
                    None
                }
                None => {
                    cx.error(s, &sp, "type Localhost needs localhostProfile");
                    None
                }
            },
            Some(other) => {
                cx.error(ty.expect("set"), &join(&sp, "type"), format!("{other:?} is not a seccomp profile type (RuntimeDefault, Unconfined, Localhost)"));
                None
            }
            None => {
                cx.error(s, &sp, "missing type");
                None
            }
        };
        if let Some(v) = value {
            set(cx, keys, "seccomp", native::string(&v), s, &sp);
        }
    }
    if let Some(list) = pcx.sysctls {
        let sp = "spec.securityContext.sysctls";
        for (i, item) in walk::seq(cx, list, sp).iter().enumerate() {
            let ip = format!("{sp}[{i}]");
            let [name, value] = fields(cx, item, &ip, ["name", "value"], &[]);
            let name = name.and_then(|x| walk::string(cx, x, &join(&ip, "name")));
            let value = value.and_then(|x| walk::scalar_text(cx, x, &join(&ip, "value")));
            let (Some(name), Some(value)) = (name, value) else {
                cx.error(item, &ip, "a sysctl needs name and value");
                continue;
            };
            let key = format!("sysctls.{}", native::key(name));
            if let Err(o) = keys.set(
                &key,
                native::Val::Raw(native::string(&value)),
                origin(item, &ip),
            ) {
                cx.error(item, &ip, format!("also set by {}", o.path));
            }
        }
    }
}
