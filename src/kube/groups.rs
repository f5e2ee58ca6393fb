//! The pod's groups both ways: `spec.securityContext.fsGroup`,
//! `fsGroupChangePolicy` and `supplementalGroups` are the pod file's
//! `fs_group`, `fs_group_change` and `supplemental_groups`
//! ([`crate::model::PodGroups`]). `supplementalGroupsPolicy: Merge` (the
//! default) is what podctl does; `Strict` is not supported.

use super::native::{self, Native, set};
use super::walk::{self, Cx, join};
use super::yaml::Node;
use super::yaml_out::{MapB, Y};
use crate::model::{FsGroupChange, PodGroups};

const PATH: &str = "spec.securityContext";
/// Kubernetes' names of [`FsGroupChange`].
const CHANGES: [(&str, FsGroupChange); 2] = [
    ("Always", FsGroupChange::Always),
    ("OnRootMismatch", FsGroupChange::OnRootMismatch),
];

/// The fields of the pod's `securityContext`, as written.
pub(crate) struct Fields<'a> {
    pub fs_group: Option<&'a Node>,
    pub change: Option<&'a Node>,
    pub supplemental: Option<&'a Node>,
}

/// Lowers them to the native keys.
pub(crate) fn lower(cx: &mut Cx, f: Fields<'_>, out: &mut Native) {
    if let Some((g, n)) = walk::id(cx, f.fs_group, &join(PATH, "fsGroup")) {
        let at = join(PATH, "fsGroup");
        set(cx, &mut out.keys, "fs_group", g.to_string(), n, &at);
    }
    if let Some(n) = f.change {
        let at = join(PATH, "fsGroupChangePolicy");
        match walk::string(cx, n, &at).map(|t| (t, CHANGES.iter().find(|(k, _)| *k == t))) {
            Some((_, Some((_, c)))) => set(
                cx,
                &mut out.keys,
                "fs_group_change",
                native::string(c.as_str()),
                n,
                &at,
            ),
            Some((t, None)) => cx.error(
                n,
                &at,
                format!("{t:?} is not a policy (Always, OnRootMismatch)"),
            ),
            None => {}
        }
    }
    if let Some(n) = f.supplemental {
        let at = join(PATH, "supplementalGroups");
        let ids: Vec<String> = walk::seq(cx, n, &at)
            .iter()
            .enumerate()
            .filter_map(|(i, item)| walk::id(cx, Some(item), &format!("{at}[{i}]")))
            .map(|(g, _)| g.to_string())
            .collect();
        set(
            cx,
            &mut out.keys,
            "supplemental_groups",
            format!("[{}]", ids.join(", ")),
            n,
            &at,
        );
    }
}

/// The pod's `securityContext` fields of `g`, into `security`.
pub(crate) fn generate(g: &PodGroups, security: &mut MapB) {
    if let Some(fs) = g.fs_group {
        security.put("fsGroup", Y::Int(i64::from(fs)));
        if g.fs_group_change != FsGroupChange::default() {
            let name = CHANGES
                .iter()
                .find(|(_, c)| *c == g.fs_group_change)
                .map_or("Always", |(k, _)| k);
            security.str("fsGroupChangePolicy", name);
        }
    }
    let items = g
        .supplemental
        .iter()
        .map(|s| Y::Int(i64::from(*s)))
        .collect();
    security.nonempty("supplementalGroups", Y::Seq(items));
}
