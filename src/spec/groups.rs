//! `fs_group`, `fs_group_change` and `supplemental_groups`: the groups of
//! the pod's processes and volumes ([`crate::model::PodGroups`]).

use super::diag::Sink;
use super::tree::{self, Value};
use crate::model::{FsGroupChange, PodGroups, UserNs};

/// The highest group ID a pod file may give (as for `user`).
const MAX_ID: i64 = u32::MAX as i64 - 1;

/// The three keys as written; `userns`: the pod's, whose range every group
/// must fall in.
pub(crate) fn read(
    sink: &mut Sink,
    [fs_group, change, supplemental]: [Option<&Value<'_>>; 3],
    userns: UserNs,
) -> PodGroups {
    let mut out = PodGroups::default();
    let mut ids = Vec::new();
    if let Some(v) = fs_group
        && let Some(g) = id(sink, v, "fs_group")
    {
        out.fs_group = Some(g);
        ids.push((g, v.span(), "fs_group"));
    }
    if let Some(v) = change {
        let text = tree::string(sink, v, "fs_group_change");
        match text.map(|s| {
            FsGroupChange::ALL
                .into_iter()
                .find(|c| c.as_str() == s.text)
        }) {
            Some(Some(c)) => out.fs_group_change = c,
            Some(None) => sink.error(
                v.span(),
                "fs_group_change",
                format!(
                    "{:?} is not a policy (always, on-root-mismatch)",
                    sink.text(v.span())
                ),
            ),
            None => {}
        }
        if out.fs_group.is_none() && fs_group.is_none() {
            sink.error(
                v.span(),
                "fs_group_change",
                "has no effect without fs_group (the group the volumes are given)",
            );
        }
    }
    if let Some(v) = supplemental {
        match v.get_ref().as_array() {
            Some(items) => {
                for item in items {
                    if let Some(g) = id(sink, item, "supplemental_groups") {
                        if out.supplemental.contains(&g) {
                            sink.error(
                                item.span(),
                                "supplemental_groups",
                                format!("{g} is listed twice"),
                            );
                        }
                        out.supplemental.push(g);
                        ids.push((g, item.span(), "supplemental_groups"));
                    }
                }
                if items.len() > 32 {
                    sink.error(v.span(), "supplemental_groups", "at most 32 groups");
                }
            }
            None => sink.error(
                v.span(),
                "supplemental_groups",
                "expected a list of group IDs, e.g. [1000, 2000]",
            ),
        }
        out.supplemental.sort();
        out.supplemental.dedup();
    }
    let size = match userns {
        UserNs::Host => None,
        UserNs::Auto { size } => Some(size),
        UserNs::Fixed(m) => Some(m.size),
    };
    if let Some(size) = size {
        for (g, span, key) in ids.into_iter().filter(|(g, _, _)| *g >= size) {
            sink.error(
                span,
                key,
                format!("group {g} is outside the pod's user namespace, which maps IDs 0 to {} (give userns a larger size, or a smaller group)", size - 1),
            );
        }
    }
    out
}

/// A group ID: a whole number from 0 to 4294967294.
fn id(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<u32> {
    let n = tree::integer(v.get_ref())
        .filter(|n| (0..=MAX_ID).contains(n))
        .and_then(|n| u32::try_from(n).ok());
    if n.is_none() {
        sink.error(
            v.span(),
            key,
            format!("expected a group ID, a whole number from 0 to {MAX_ID}"),
        );
    }
    n
}
