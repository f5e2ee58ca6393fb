//! Where a pod's range comes from when its plan is assembled: allocated
//! (`podctl apply`, the supervisor) or only looked up (a plan shown, a diff).

use super::IdsError;
use crate::layout::Layout;
use crate::model::{IdMap, Pod, UserMap, UserNs};
use crate::owner::Owner;

/// The range of IDs of a pod with `userns = "auto"`; `None` for the others,
/// and for an `auto` pod a lookup finds nothing for.
pub trait IdSource {
    fn range(&self, pod: &Pod) -> Result<Option<IdMap>, IdsError>;

    /// A user's mapping, for every pod when the pods are a user's
    /// (rootless); `None` for root's.
    fn user(&self) -> Result<Option<UserMap>, IdsError> {
        Ok(None)
    }
}

/// The user's mapping when `layout`'s pods are a user's.
fn users(layout: &Layout) -> Result<Option<UserMap>, IdsError> {
    match &layout.owner {
        Owner::User(u) => {
            let map = super::user_map(&layout.host, u)?;
            let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
            super::user::tools_on(&path)?;
            Ok(Some(map))
        }
        Owner::System => Ok(None),
    }
}

/// Allocates (or finds again) the range of a pod, kept while it is stored.
pub struct Allocate<'a>(pub &'a Layout);

/// Finds the range a pod holds, allocating nothing.
pub struct Lookup<'a>(pub &'a Layout);

impl IdSource for Allocate<'_> {
    fn range(&self, pod: &Pod) -> Result<Option<IdMap>, IdsError> {
        let UserNs::Auto { size } = pod.userns else {
            return Ok(None);
        };
        if self.0.owner.is_user() {
            return Ok(None);
        }
        let paths = self.0;
        // A pod is running while its supervisor's state file is there
        // (/run: gone at reboot), stored while its definition is.
        super::assign(
            paths,
            &pod.name,
            size,
            |p| paths.definition(p).exists(),
            |p| crate::supervise::state::path(&paths.run, p).exists(),
        )
        .map(Some)
    }

    fn user(&self) -> Result<Option<UserMap>, IdsError> {
        users(self.0)
    }
}

impl IdSource for Lookup<'_> {
    fn range(&self, pod: &Pod) -> Result<Option<IdMap>, IdsError> {
        match pod.userns {
            UserNs::Auto { .. } if self.0.owner.is_user() => Ok(None),
            UserNs::Auto { size } => Ok(super::get(self.0, &pod.name)?.filter(|m| m.size == size)),
            _ => Ok(None),
        }
    }

    fn user(&self) -> Result<Option<UserMap>, IdsError> {
        users(self.0)
    }
}

/// Tests: a fixed answer for every `auto` pod.
impl IdSource for Option<IdMap> {
    fn range(&self, pod: &Pod) -> Result<Option<IdMap>, IdsError> {
        Ok(self.filter(|_| matches!(pod.userns, UserNs::Auto { .. })))
    }
}
