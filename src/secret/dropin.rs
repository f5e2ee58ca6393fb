//! The drop-in that has systemd decrypt a pod's secrets for its service:
//! `LoadCredentialEncrypted=NAME:PATH`, one per secret the pod uses
//! (`$CREDENTIALS_DIRECTORY/NAME` in the supervisor, private to the
//! service, in memory, root's alone).

use super::{SecretError, Store};
use crate::apply::dropin::{self, Part};
use crate::layout::Layout;
use crate::plan::Plan;

/// The drop-in's text for `names` (pure); `None` when there are none.
pub fn text(paths: &Layout, names: &[String]) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    let mut out = String::from(
        "# Written by podctl apply: the secrets this pod's containers use.\n[Service]\n",
    );
    for n in names {
        out.push_str(&format!(
            "LoadCredentialEncrypted={n}:{}\n",
            paths.secrets.join(n).display()
        ));
    }
    Some(out)
}

/// Each secret a plan's containers use is stored; the first that is not
/// is the error, naming it and the container (checked before apply
/// changes anything).
pub fn check(store: &Store<'_>, plan: &Plan) -> Result<(), SecretError> {
    for c in &plan.containers {
        for name in c.secrets.names() {
            if !store.exists(&name) {
                return Err(SecretError::MissingFor {
                    name,
                    pod: plan.pod.clone(),
                    container: c.name.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Makes pod `plan.pod`'s credentials drop-in match its secrets; returns
/// whether it changed (systemd must then be reloaded, once).
pub fn write(paths: &Layout, plan: &Plan) -> anyhow::Result<bool> {
    let text = text(paths, &plan.secret_names());
    dropin::write(paths, &plan.pod, Part::Credentials, text.as_deref())
}

/// Removes pod `pod`'s credentials drop-in (its definition is purged).
pub fn remove(paths: &Layout, pod: &str) -> anyhow::Result<bool> {
    dropin::write(paths, pod, Part::Credentials, None)
}
