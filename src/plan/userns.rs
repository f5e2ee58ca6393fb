//! A pod's user namespace in its plan: the host's, or the holder's with
//! the mapping the pod file fixes or the range allocated to it.

use super::{Facts, NsKind};
use crate::model::Pod;
use serde::{Deserialize, Serialize};

/// A pod's user namespace, as the plan runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserNsPlan {
    /// The host's: container root is host root.
    Host,
    /// The holder's, with this mapping; every container joins it.
    Mapped(crate::model::IdMap),
    /// `userns = "auto"` before a range was allocated (a plan only shown):
    /// the supervisor never runs one.
    Pending { size: u32 },
    /// A user's pod (rootless): the holder's, with the user's mapping
    /// (root is the user); containers' runtimes run inside it.
    User(crate::model::UserMap),
}

impl UserNsPlan {
    /// The mapping, when the pod has a user namespace of its own and it is known.
    pub fn map(&self) -> Option<crate::model::IdMap> {
        match self {
            UserNsPlan::Mapped(m) => Some(*m),
            _ => None,
        }
    }

    /// The user's mapping, for a user's pod.
    pub fn user(&self) -> Option<crate::model::UserMap> {
        match self {
            UserNsPlan::User(m) => Some(*m),
            _ => None,
        }
    }

    /// What the holder makes of `shared` (the namespaces the pod shares, in
    /// join order) and what the runtime joins. A user's pod: the holder
    /// also makes a mount namespace, owned by the pod's user namespace,
    /// where the containers' helpers mount what the pod shares (its
    /// /dev/shm, scratch volumes) and their roots; the helpers enter both
    /// before they run the runtime, which joins the rest.
    pub fn holder_and_joined(&self, shared: &[NsKind]) -> (Vec<NsKind>, Vec<NsKind>) {
        if self.user().is_none() {
            return (shared.to_vec(), shared.to_vec());
        }
        let mut holder = shared.to_vec();
        holder.push(NsKind::Mnt);
        holder.sort();
        let joined = shared
            .iter()
            .copied()
            .filter(|&k| k != NsKind::User)
            .collect();
        (holder, joined)
    }

    /// Whether the pod has a user namespace of its own (allocated or not).
    pub fn is_private(&self) -> bool {
        !matches!(self, UserNsPlan::Host)
    }
}

/// The user namespace of `pod` given the range allocated to it, if any.
pub(super) fn userns(pod: &Pod, facts: &Facts) -> UserNsPlan {
    use crate::model::UserNs;
    // A user's pods run in the user's mapping, whatever the file says
    // (`Definition::read` refused a fixed range).
    if let Some(user) = facts.user {
        return UserNsPlan::User(user);
    }
    match pod.userns {
        UserNs::Host => UserNsPlan::Host,
        UserNs::Fixed(m) => UserNsPlan::Mapped(m),
        UserNs::Auto { size } => match facts.ids {
            Some(m) if m.size == size => UserNsPlan::Mapped(m),
            _ => UserNsPlan::Pending { size },
        },
    }
}
