//! `podctl history POD` and `podctl rollback POD [--to N]`: a pod's
//! revisions ([`crate::revision`]), and one of them run again exactly.

use super::output;
use crate::apply::Applier;
use crate::layout::Layout;
use crate::revision::{Cause, Revision, RevisionError};
use crate::supervise::state::PodState;
use serde::Serialize;

/// One revision as `history` shows it.
#[derive(Debug, Serialize)]
pub struct Shown {
    pub revision: u64,
    /// RFC 3339, UTC.
    pub created: String,
    pub cause: Cause,
    /// Its supervisor runs it (its file and every digest).
    pub running: bool,
    /// An auto-update not yet proven.
    pub pending: bool,
    pub images: crate::image::facts::Pins,
}

/// Which of `revisions` the pod's supervisor runs, if one: the newest
/// whose file and digests are those of `state`.
pub fn running(revisions: &[Revision], state: Option<&PodState>) -> Option<u64> {
    let st = state?;
    let pins = crate::image::facts::pins_of(&st.facts);
    revisions
        .iter()
        .rev()
        .find(|r| r.same(&st.definition, &pins))
        .map(|r| r.number)
}

pub fn history(paths: &Layout, pod: &str, out: output::OutputArgs) -> anyhow::Result<()> {
    super::check_owner("history")?;
    let list = paths.revisions_of(pod).list()?;
    if list.is_empty() && !paths.definition(pod).exists() {
        anyhow::bail!(
            "no pod named {pod:?} (no {})",
            paths.definition(pod).display()
        );
    }
    let state = PodState::load(&paths.run, pod);
    let on = running(&list, state.as_ref());
    let shown: Vec<Shown> = list
        .into_iter()
        .map(|r| Shown {
            revision: r.number,
            created: output::rfc3339(r.created.saturating_mul(1_000_000)),
            running: on == Some(r.number),
            pending: r.pending,
            cause: r.cause,
            images: r.images,
        })
        .collect();
    if output::print(out.format(), &shown)? {
        return Ok(());
    }
    print!("{}", table(&shown));
    Ok(())
}

/// The human table: a revision a line, a rollback's reason under it.
fn table(shown: &[Shown]) -> String {
    let mut out = format!(
        "{:<9}{:<9}{:<22}{:<14}IMAGES\n",
        "REVISION", "STATE", "CREATED", "CAUSE"
    );
    for s in shown {
        let state = match (s.running, s.pending) {
            (true, true) => "running?",
            (true, false) => "running",
            (false, true) => "pending",
            (false, false) => "",
        };
        // Revisions are made at whole seconds: `YYYY-MM-DDTHH:MM:SSZ`.
        let created = match s.created.get(..19) {
            Some(t) => format!("{t}Z"),
            None => s.created.clone(),
        };
        let images: Vec<String> = s
            .images
            .iter()
            .map(|(r, p)| format!("{r}@{}", short(&p.digest)))
            .collect();
        out += &format!(
            "{:<9}{:<9}{:<22}{:<14}{}\n",
            s.revision,
            state,
            created,
            cause_word(&s.cause),
            if images.is_empty() {
                "-".into()
            } else {
                images.join(" ")
            }
        );
        if let Cause::Rollback { why: Some(w), .. } = &s.cause {
            out += &format!("{:<54}({w})\n", "");
        }
    }
    out
}

fn cause_word(c: &Cause) -> String {
    match c {
        Cause::Rollback { to, .. } => format!("rollback:{to}"),
        other => other.describe(),
    }
}

/// `sha256:` and the first 12 hex digits.
fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

/// `podctl rollback POD [--to N]`: revision N's file and digests (by
/// default the newest before the newest that differs from it), applied as
/// a new revision.
pub fn rollback(
    paths: &Layout,
    pod: &str,
    to: Option<u64>,
    early: super::Early,
) -> anyhow::Result<()> {
    super::check_owner("rollback")?;
    let revisions = paths.revisions_of(pod);
    let list = revisions.list()?;
    let target = match to {
        Some(n) => revisions.get(n)?,
        None => {
            let newest = list.last().ok_or_else(|| RevisionError::NoEarlier {
                pod: pod.to_string(),
            })?;
            list.iter()
                .rev()
                .find(|r| !r.same(&newest.text, &newest.images))
                .cloned()
                .ok_or_else(|| RevisionError::NoEarlier {
                    pod: pod.to_string(),
                })?
        }
    };
    let mgr = early.connect()?;
    let applier = Applier {
        cause: Cause::Rollback {
            to: target.number,
            why: None,
        },
        ..Applier::new(&mgr, paths)
    };
    let changes = applier.apply_pinned(pod, &target.text, &target.images)?;
    println!("{}", changes.report());
    let now = revisions.newest()?.map_or(0, |r| r.number);
    println!(
        "{pod}: at revision {} again (now revision {now})",
        target.number
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::facts::Pin;

    /// Each column starts where its heading does: the created time (at
    /// whole seconds) leaves room for the cause.
    #[test]
    fn the_table_keeps_its_columns() {
        let pin = Pin {
            name: "localhost:5001/app:1".into(),
            digest: format!("sha256:{}", "ab".repeat(32)),
        };
        let shown = [
            Shown {
                revision: 1,
                created: output::rfc3339(1_796_677_889_000_000),
                cause: Cause::Apply,
                running: false,
                pending: false,
                images: [("app:1".to_string(), pin)].into(),
            },
            Shown {
                revision: 12,
                created: output::rfc3339(1_796_677_899_000_000),
                cause: Cause::Rollback {
                    to: 1,
                    why: Some("app restarted (exited 1)".into()),
                },
                running: true,
                pending: false,
                images: Default::default(),
            },
        ];
        let want = "\
REVISION STATE    CREATED               CAUSE         IMAGES
1                 2026-12-07T21:11:29Z  apply         app:1@sha256:abababababab
12       running  2026-12-07T21:11:39Z  rollback:1    -
                                                      (app restarted (exited 1))
";
        assert_eq!(table(&shown), want);
    }
}
