//! Whose IDs a layer's files get on disk, decided by whose store it is
//! (never by the process's effective UID: a user's layers are unpacked by
//! root of the user's namespace).
//!
//! - root's store: the owners the layer says, overlayfs's `trusted.`
//!   xattrs (the overlay is mounted by host root);
//! - a user's store: unpacked by root of a user namespace that maps
//!   container ID 0 to the user and 1..=count to the user's subordinate
//!   IDs, as Podman's rootless storage does: an entry owned by N is owned
//!   on disk by the host ID N maps to. An ID past the mapping is refused
//!   with the entry's name (Podman refuses it too, unless told to ignore
//!   chown errors): squashing it would give the file to another ID than
//!   the image says, silently. The overlay is mounted in the user's
//!   namespace with `userxattr`, so its xattrs are `user.overlay.*`, and the
//!   layer's own `trusted.*` xattrs (which only host root may set) are
//!   left out.

use super::UnpackError;

/// How a layer's owners land on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Owners {
    /// root's store, unpacked by root: every owner as the layer says.
    Root,
    /// root's store unpacked by a process that is not root (tests):
    /// owners are left as the writer's.
    Writer,
    /// A user's store, unpacked by root of the user's namespace, which maps
    /// IDs `0..=count`: owners as the layer says within it, refused past it.
    Mapped { count: u32 },
}

/// The opaque-directory xattr of an overlay mounted by host root.
pub const TRUSTED_OPAQUE: &str = "trusted.overlay.opaque";
/// The same of an overlay mounted with `userxattr` (in a user namespace).
pub const USER_OPAQUE: &str = "user.overlay.opaque";

impl Owners {
    /// The xattr that marks an opaque directory for the overlay that will
    /// stack this layer.
    pub fn opaque_xattr(self) -> &'static str {
        match self {
            Owners::Root | Owners::Writer => TRUSTED_OPAQUE,
            Owners::Mapped { .. } => USER_OPAQUE,
        }
    }

    /// Whether a layer may set xattr `name` in a store of these owners
    /// (overlayfs's own are refused by every store, see `write::xattrs`):
    /// a user's namespace cannot set `trusted.*`.
    pub fn keeps_xattr(self, name: &[u8]) -> bool {
        !(matches!(self, Owners::Mapped { .. }) && name.starts_with(b"trusted."))
    }

    /// The owner to give entry `entry` whose header says `uid`:`gid`, as
    /// the unpacking process names it; `None`: left as the writer's.
    pub fn ids(self, entry: &str, uid: u64, gid: u64) -> Result<Option<(u32, u32)>, UnpackError> {
        let max = match self {
            Owners::Writer => return Ok(None),
            // (u32)-1 means "unchanged" to chown: never an owner.
            Owners::Root => u64::from(u32::MAX - 1),
            Owners::Mapped { count } => u64::from(count),
        };
        if uid <= max && gid <= max {
            return Ok(Some((uid as u32, gid as u32)));
        }
        Err(match self {
            Owners::Mapped { .. } => UnpackError::Unmapped {
                entry: entry.to_string(),
                uid,
                gid,
                max,
            },
            _ => UnpackError::Entry {
                entry: entry.to_string(),
                source: std::io::Error::other(format!("owner {uid}:{gid} is not a valid ID")),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_store_takes_user_xattrs_and_no_trusted_ones() {
        let user = Owners::Mapped { count: 65_536 };
        assert_eq!(Owners::Root.opaque_xattr(), "trusted.overlay.opaque");
        assert_eq!(user.opaque_xattr(), "user.overlay.opaque");
        assert!(Owners::Root.keeps_xattr(b"trusted.md5"));
        assert!(!user.keeps_xattr(b"trusted.md5"));
        assert!(user.keeps_xattr(b"security.capability"));
        assert!(user.keeps_xattr(b"user.mime_type"));
    }

    /// Within the mapping an owner is kept as the layer says (the
    /// namespace maps it); past it the entry is refused, named.
    #[test]
    fn an_owner_past_the_users_mapping_is_refused_by_name() {
        let user = Owners::Mapped { count: 65_536 };
        assert_eq!(user.ids("a", 0, 0).unwrap(), Some((0, 0)));
        assert_eq!(user.ids("a", 65_536, 42).unwrap(), Some((65_536, 42)));
        let e = user.ids("etc/shadow", 65_537, 0).unwrap_err().to_string();
        assert_eq!(
            e,
            "entry \"etc/shadow\": owner 65537:0 is outside the user's mapping (IDs 0 to 65536: the user and the user's subordinate IDs); give the user more subordinate IDs (usermod --add-subuids, --add-subgids) or use an image whose files are owned within them"
        );
        assert!(user.ids("a", 1, 1 << 40).is_err());
        assert_eq!(Owners::Writer.ids("a", 1 << 40, 7).unwrap(), None);
        assert_eq!(
            Owners::Root.ids("a", 1234, 5678).unwrap(),
            Some((1234, 5678))
        );
        assert!(Owners::Root.ids("a", u64::from(u32::MAX), 0).is_err());
    }
}
