//! `podctl auto-update` for one pod: which of its auto-updated images has
//! a new digest ([`check`], every pull done before anything restarts),
//! then the update as a new revision, watched by the [`Gate`]; an update
//! that does not hold is rolled back to the revision before it, and its
//! digests are marked so the next run does not try them again.

use super::Applier;
use super::gate::{Gate, Verdict};
use crate::image::facts::{Pin, Pins};
use crate::revision::{Cause, Revision};
use crate::supervise::state::PodState;
use anyhow::Context;
use std::time::{Duration, Instant};

/// How often the gate reads the pod's state.
const GATE_POLL: Duration = Duration::from_millis(200);

/// A tag that names a new digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub reference: String,
    /// The containers that use it (the ones that restart).
    pub containers: Vec<String>,
    /// The digest the pod runs.
    pub from: String,
    pub to: Pin,
}

/// One pod, checked.
#[derive(Debug, Clone)]
pub struct Checked {
    pub pod: String,
    /// Its stored file.
    pub text: String,
    /// Its newest revision (`None`: applied before revisions were kept).
    pub newest: Option<Revision>,
    /// What it runs now.
    pub pins: Pins,
    pub changes: Vec<Change>,
    /// New digests not tried: an earlier update to them was rolled back.
    pub skipped: Vec<Change>,
    /// References checked and current.
    pub current: Vec<String>,
}

/// What an update came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to update.
    Current,
    /// Updated; the revision now running.
    Updated { revision: u64 },
    /// The update did not hold: back at revision `to` (as a new revision).
    RolledBack { why: String, to: u64 },
}

/// Pod `name`'s auto-updated references and what `resolve` says each tag
/// names now (pulled, or only asked, as `resolve` does).
pub fn check(
    paths: &crate::layout::Layout,
    name: &str,
    resolve: &mut dyn FnMut(&str) -> Result<Pin, String>,
) -> anyhow::Result<Checked> {
    let stored = paths.definition(name);
    let text = std::fs::read_to_string(&stored)
        .with_context(|| format!("pod {name}: cannot read {}", stored.display()))?;
    let pod = crate::spec::parse_str(&text, &stored.display().to_string(), name)
        .with_context(|| format!("pod {name}: its stored file does not parse"))?;
    let revisions = paths.revisions_of(name);
    let newest = revisions.newest()?;
    let pins = match &newest {
        Some(r) => r.images.clone(),
        None => crate::image::facts::pins_of(&crate::image::facts::stored(
            &paths.images,
            &pod,
            &Pins::new(),
        )?),
    };
    let bad = revisions.bad()?;
    let mut out = Checked {
        pod: name.to_string(),
        text,
        newest,
        pins,
        changes: Vec::new(),
        skipped: Vec::new(),
        current: Vec::new(),
    };
    for c in pod.containers.iter().filter(|c| c.updates.auto_update) {
        let Some(reference) = c.image.as_deref() else {
            continue;
        };
        if let Some(ch) = out.changes.iter_mut().find(|x| x.reference == reference) {
            ch.containers.push(c.name.clone());
            continue;
        }
        if out.current.iter().any(|r| r == reference) {
            continue;
        }
        if let Some(ch) = out.skipped.iter_mut().find(|x| x.reference == reference) {
            ch.containers.push(c.name.clone());
            continue;
        }
        let to = resolve(reference).map_err(|e| anyhow::anyhow!("pod {name}: {e}"))?;
        let from = out
            .pins
            .get(reference)
            .map(|p| p.digest.clone())
            .unwrap_or_default();
        if to.digest == from {
            out.current.push(reference.to_string());
            continue;
        }
        let change = Change {
            reference: reference.to_string(),
            containers: vec![c.name.clone()],
            from,
            to,
        };
        if bad.contains(reference, &change.to.digest) {
            out.skipped.push(change);
        } else {
            out.changes.push(change);
        }
    }
    Ok(out)
}

impl Applier<'_> {
    /// Carries out a checked update: the new pins as a pending revision,
    /// applied, then gated; kept if it holds, else rolled back.
    pub fn update(&self, checked: &Checked, pod_deadline: Duration) -> anyhow::Result<Outcome> {
        if checked.changes.is_empty() {
            return Ok(Outcome::Current);
        }
        let mut pins = checked.pins.clone();
        for ch in &checked.changes {
            pins.insert(ch.reference.clone(), ch.to.clone());
        }
        let name = &checked.pod;
        if let Some(why) = self.apply_update(name, &checked.text, &pins)? {
            return self.fail(checked, why);
        }
        let revision = self
            .paths
            .revisions_of(name)
            .newest()?
            .map_or(0, |r| r.number);
        self.settle(checked, revision, pod_deadline)
    }

    /// Gates revision `revision` (the update `checked` describes): marks it
    /// proven if it holds; otherwise marks its digests bad, rolls the pod
    /// back and tells the journal.
    fn settle(
        &self,
        checked: &Checked,
        revision: u64,
        deadline: Duration,
    ) -> anyhow::Result<Outcome> {
        let name = &checked.pod;
        let revisions = self.paths.revisions_of(name);
        let containers = checked
            .changes
            .iter()
            .flat_map(|c| c.containers.iter().cloned())
            .collect();
        let why = match self.watch(name, Gate::new(containers, deadline)) {
            Verdict::Pass | Verdict::Wait => {
                revisions.confirm(revision)?;
                return Ok(Outcome::Updated { revision });
            }
            Verdict::Fail(why) => why,
        };
        self.fail(checked, why)
    }

    /// An update that did not hold (`why`): its digests marked bad, the
    /// pod rolled back, the journal told.
    fn fail(&self, checked: &Checked, why: String) -> anyhow::Result<Outcome> {
        let name = &checked.pod;
        let revisions = self.paths.revisions_of(name);
        let failed: Vec<(String, String)> = checked
            .changes
            .iter()
            .map(|c| (c.reference.clone(), c.to.digest.clone()))
            .collect();
        revisions.mark_bad(&failed)?;
        let to = self.roll_back(name, checked, &why)?;
        revisions.settle_older()?;
        for ch in &checked.changes {
            for c in &ch.containers {
                crate::supervise::events::emit(
                    &self.paths.host,
                    name,
                    c,
                    crate::supervise::events::Event::Rollback,
                    &format!("{} {} -> {}: {why}", ch.reference, ch.to.digest, ch.from),
                );
            }
        }
        Ok(Outcome::RolledBack { why, to })
    }

    /// Back to what ran before the update (its newest revision, or the
    /// pins it ran with if it had none); returns that revision's number.
    fn roll_back(&self, name: &str, checked: &Checked, why: &str) -> anyhow::Result<u64> {
        let (text, pins, to) = match &checked.newest {
            Some(r) => (r.text.as_str(), &r.images, r.number),
            None => (checked.text.as_str(), &checked.pins, 0),
        };
        let back = Applier {
            cause: Cause::Rollback {
                to,
                why: Some(why.to_string()),
            },
            pending: false,
            ..*self
        };
        back.apply_pinned(name, text, pins).with_context(|| {
            format!("pod {name}: the update did not hold ({why}) and rolling it back failed")
        })?;
        Ok(to)
    }

    /// Feeds the gate the pod's state until it decides.
    fn watch(&self, name: &str, mut gate: Gate) -> Verdict {
        let start = Instant::now();
        loop {
            let state = PodState::load(&self.paths.run, name);
            match gate.observe(state.as_ref(), start.elapsed()) {
                Verdict::Wait => std::thread::sleep(GATE_POLL),
                v => return v,
            }
        }
    }

    /// A pod whose newest revision is an update still pending (an
    /// auto-update was killed while it waited): applied again and gated;
    /// rolled back to the revision before it if it does not hold.
    pub fn resume(&self, name: &str, pod_deadline: Duration) -> anyhow::Result<Option<Outcome>> {
        let revisions = self.paths.revisions_of(name);
        let all = revisions.list()?;
        let Some((pending, earlier)) = all.split_last() else {
            return Ok(None);
        };
        if !pending.pending {
            return Ok(None);
        }
        let Some(before) = earlier.last() else {
            revisions.confirm(pending.number)?;
            return Ok(None);
        };
        let changes: Vec<Change> = pending
            .images
            .iter()
            .filter(|(r, p)| before.images.get(*r) != Some(*p))
            .map(|(r, p)| Change {
                reference: r.clone(),
                containers: containers_using(&pending.text, name, r),
                from: before
                    .images
                    .get(r)
                    .map(|b| b.digest.clone())
                    .unwrap_or_default(),
                to: p.clone(),
            })
            .collect();
        let checked = Checked {
            pod: name.to_string(),
            text: pending.text.clone(),
            newest: Some(before.clone()),
            pins: before.images.clone(),
            changes,
            skipped: Vec::new(),
            current: Vec::new(),
        };
        // Judged already (the run was killed before its rollback): not
        // tried again.
        let bad = revisions.bad()?;
        let judged = |c: &Change| bad.contains(&c.reference, &c.to.digest);
        if !checked.changes.is_empty() && checked.changes.iter().all(judged) {
            let why = "an earlier auto-update found it did not hold".to_string();
            return self.fail(&checked, why).map(Some);
        }
        // It may not run yet: applying the same revision records nothing new.
        if let Some(why) = self.apply_update(name, &pending.text, &pending.images)? {
            return self.fail(&checked, why).map(Some);
        }
        self.settle(&checked, pending.number, pod_deadline)
            .map(Some)
    }

    /// Applies an update as a pending revision. `Some(why)`: it was
    /// recorded (the newest revision is this pending update) but could not
    /// be carried out, so it is to be rolled back like one that did not
    /// hold; an error: nothing was recorded, the pod is as it was.
    fn apply_update(&self, name: &str, text: &str, pins: &Pins) -> anyhow::Result<Option<String>> {
        let updating = Applier {
            cause: Cause::AutoUpdate,
            pending: true,
            ..*self
        };
        let Err(e) = updating.apply_pinned(name, text, pins) else {
            return Ok(None);
        };
        let recorded = self
            .paths
            .revisions_of(name)
            .newest()?
            .is_some_and(|r| r.pending && r.same(text, pins));
        if recorded {
            let why = format!(
                "it could not be applied: {}",
                crate::error_chain(e.as_ref())
            );
            return Ok(Some(why));
        }
        Err(e)
    }
}

/// The containers of pod file `text` whose image is `reference`.
fn containers_using(text: &str, name: &str, reference: &str) -> Vec<String> {
    crate::spec::parse_str(text, "revision", name)
        .map(|p| {
            p.containers
                .iter()
                .filter(|c| c.image.as_deref() == Some(reference))
                .map(|c| c.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revision::Cause;

    fn pin(d: char) -> Pin {
        Pin {
            name: "localhost:5000/app:1".into(),
            digest: format!("sha256:{}", d.to_string().repeat(64)),
        }
    }

    /// Only auto-updated containers are checked, each reference once; a new
    /// digest is a change naming every container that uses it, the same
    /// digest is current, and a digest rolled back before is skipped.
    #[test]
    fn check_finds_new_digests_of_auto_updated_containers() {
        let dir = crate::apply::tests::temp_dir("check");
        let paths = crate::layout::Layout::under(&dir);
        let text = "[containers.a]\nimage = \"app:1\"\nauto_update = \"registry\"\n\
            [containers.b]\nimage = \"app:1\"\nauto_update = \"registry\"\n\
            [containers.c]\nimage = \"side:1\"\nauto_update = \"registry\"\n\
            [containers.d]\nimage = \"fixed:1\"\n";
        std::fs::create_dir_all(&paths.store).unwrap();
        std::fs::write(paths.definition("web"), text).unwrap();
        let pins: Pins = [("app:1", 'a'), ("side:1", 'c'), ("fixed:1", 'f')]
            .into_iter()
            .map(|(r, d)| (r.to_string(), pin(d)))
            .collect();
        let revisions = paths.revisions_of("web");
        revisions
            .record(text, &pins, Cause::Apply, false, 10)
            .unwrap();
        let mut asked = Vec::new();
        let mut resolve = |r: &str| {
            asked.push(r.to_string());
            Ok(if r == "app:1" { pin('b') } else { pin('c') })
        };
        let c = check(&paths, "web", &mut resolve).unwrap();
        assert_eq!(asked, ["app:1", "side:1"]);
        assert_eq!(c.changes.len(), 1);
        assert_eq!(c.changes[0].containers, ["a", "b"]);
        assert_eq!(c.changes[0].from, pin('a').digest);
        assert_eq!(c.changes[0].to, pin('b'));
        assert_eq!(c.current, ["side:1"]);
        assert_eq!(c.newest.as_ref().map(|r| r.number), Some(1));
        // Rolled back once: not tried again until the tag moves on.
        revisions
            .mark_bad(&[("app:1".into(), pin('b').digest)])
            .unwrap();
        let c = check(&paths, "web", &mut |r: &str| {
            Ok(if r == "app:1" { pin('b') } else { pin('c') })
        })
        .unwrap();
        assert!(c.changes.is_empty());
        assert_eq!(c.skipped.len(), 1);
        // A registry that cannot answer is the pod's error.
        let e = check(&paths, "web", &mut |_: &str| Err("registry down".into())).unwrap_err();
        assert_eq!(e.to_string(), "pod web: registry down");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
