//! How a pod's images change over time: a container's `pull` and
//! `auto_update`, the pod's `auto_update` (its image containers' default),
//! `update_deadline` and `revision_history`. None of it reaches a plan.

use super::diag::{Sink, join};
use super::names::suggest;
use super::tree::{self, Value};
use crate::model::{ImageUpdates, MAX_REVISION_HISTORY, PodUpdates, PullPolicy};
use std::ops::Range;

/// `pull`'s values, as written.
pub(crate) const PULLS: [PullPolicy; 3] =
    [PullPolicy::Missing, PullPolicy::Always, PullPolicy::Never];
/// `auto_update`'s values: `registry` moves a container to its tag's new
/// digest, `disabled` leaves it.
pub(crate) const AUTO_UPDATES: [&str; 2] = ["registry", "disabled"];

/// The pod's `auto_update` and where it is written, for its containers.
pub(crate) type PodAutoUpdate = Option<(bool, Range<usize>)>;

/// The pod's keys: its updates, and its `auto_update` for its containers.
pub(crate) fn read_pod(
    sink: &mut Sink,
    auto_update: Option<&Value<'_>>,
    update_deadline: Option<&Value<'_>>,
    revision_history: Option<&Value<'_>>,
) -> (PodUpdates, PodAutoUpdate) {
    let mut updates = PodUpdates::default();
    if let Some(v) = update_deadline {
        updates.deadline_ms = super::pod::read_timeout(sink, v, "update_deadline");
    }
    if let Some(v) = revision_history {
        updates.history = read_history(sink, v).unwrap_or(updates.history);
    }
    let auto_update =
        auto_update.and_then(|v| Some((read_auto_update(sink, v, "auto_update")?, v.span())));
    (updates, auto_update)
}

/// A container's `pull` and `auto_update` (`path`: `containers.NAME`);
/// `image`: whether it has an image. Without one, neither applies: the
/// host's binaries are never pulled nor updated.
pub(crate) fn read_container(
    sink: &mut Sink,
    path: &str,
    (pull, auto_update): (Option<&Value<'_>>, Option<&Value<'_>>),
    image: bool,
    pod: &PodAutoUpdate,
) -> ImageUpdates {
    let (pull_key, auto_key) = (join(path, "pull"), join(path, "auto_update"));
    if !image {
        const HOST: &str = "(this one runs the host's binaries)";
        if let Some(v) = pull {
            let m = format!("only a container with an image is pulled {HOST}");
            sink.error(v.span(), &pull_key, m);
        }
        if let Some(v) = auto_update
            && read_auto_update(sink, v, &auto_key) == Some(true)
        {
            let m = format!("only a container with an image is updated {HOST}");
            sink.error(v.span(), &auto_key, m);
        }
        return ImageUpdates::default();
    }
    let pull = pull.and_then(|v| Some((read_pull(sink, v, &pull_key)?, v.span())));
    let own = auto_update.and_then(|v| Some((read_auto_update(sink, v, &auto_key)?, v.span())));
    let updates = ImageUpdates {
        pull: pull.as_ref().map_or(PullPolicy::default(), |(p, _)| *p),
        auto_update: own.as_ref().or(pod.as_ref()).is_some_and(|(on, _)| *on),
    };
    if updates.auto_update
        && let Some((PullPolicy::Never, never)) = pull
    {
        const NEVER: &str = "an image that is never pulled is never updated";
        match own {
            Some((_, at)) => sink.error(
                at,
                &auto_key,
                format!("\"registry\" with pull = \"never\": {NEVER} (pull = \"missing\" or \"always\" pulls it)"),
            ),
            None => sink.error(
                never,
                &pull_key,
                format!("\"never\" in a pod with auto_update = \"registry\": {NEVER} (set auto_update = \"disabled\" in this container)"),
            ),
        }
    }
    updates
}

fn read_pull(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<PullPolicy> {
    let s = tree::string(sink, v, key)?;
    let names = PULLS.map(PullPolicy::as_str);
    if let Some(p) = PULLS.into_iter().find(|p| p.as_str() == s.text) {
        return Some(p);
    }
    let message = format!("{:?} is not a pull policy", s.text);
    sink.error(s.span, key, with_allowed(message, s.text, &names));
    None
}

/// `"registry"`: true; `"disabled"`: false.
fn read_auto_update(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<bool> {
    let s = tree::string(sink, v, key)?;
    match s.text {
        "registry" => Some(true),
        "disabled" => Some(false),
        other => {
            let message = format!("{other:?} is not an auto-update policy");
            sink.error(s.span, key, with_allowed(message, other, &AUTO_UPDATES));
            None
        }
    }
}

/// `message (allowed: ...)`, with a "did you mean" when one is close.
fn with_allowed(message: String, written: &str, allowed: &[&str]) -> String {
    let hint = suggest(written, allowed)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    format!("{message} (allowed: {}){hint}", allowed.join(", "))
}

/// `revision_history = 10`: 1 to [`MAX_REVISION_HISTORY`].
fn read_history(sink: &mut Sink, v: &Value<'_>) -> Option<u32> {
    let n = tree::integer(v.get_ref());
    if let Some(n) = n.filter(|n| (1..=i64::from(MAX_REVISION_HISTORY)).contains(n)) {
        return u32::try_from(n).ok();
    }
    let message = match n {
        Some(_) => format!(
            "{} is out of range (from 1 to {MAX_REVISION_HISTORY})",
            sink.text(v.span())
        ),
        None => format!("expected a number of revisions from 1 to {MAX_REVISION_HISTORY}"),
    };
    sink.error(v.span(), "revision_history", message);
    None
}

#[cfg(test)]
mod tests;
