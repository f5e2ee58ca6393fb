//! `projected` volumes: the files of `secret`, `configMap` and
//! `downwardAPI` sources in one directory. The ConfigMap's and the
//! Downward API's are written to the volume's directory as a configMap
//! volume's are ([`super::files`]); a Secret's keys stay podctl secrets
//! ([`super::secret_volume`]), each mounted over an empty file of that
//! directory (so that the read-only directory has their mount points).
//! `serviceAccountToken`, `clusterTrustBundle` and `podCertificate` come
//! from a cluster's API server, which one host does not have.

use super::downward::Meta;
use super::files::{DEFAULT_MODE, File};
use super::refs::Refs;
use super::secret_volume::Item;
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;
use crate::model::SECRET_FILE_MODE;

/// Sources that only a cluster's API server gives, and why.
const CLUSTER_SOURCES: [(&str, &str); 3] = [
    (
        "serviceAccountToken",
        "a service account token has no meaning on one host without an API server",
    ),
    (
        "clusterTrustBundle",
        "a cluster trust bundle has no meaning on one host without an API server",
    ),
    (
        "podCertificate",
        "a pod certificate has no meaning on one host without an API server",
    ),
];

/// A projected volume's files: those written to its directory, and the
/// podctl secrets mounted in it.
#[derive(Debug, Default)]
pub(crate) struct Projected {
    pub files: Vec<File>,
    pub secrets: Vec<Item>,
}

impl Projected {
    /// The files to write: the ConfigMaps' and the Downward API's, and an
    /// empty one (mode 0) where each secret is mounted.
    pub(crate) fn with_mount_points(&self) -> Vec<File> {
        let points = self.secrets.iter().map(|s| File {
            path: s.path.clone(),
            content: Vec::new(),
            mode: 0,
        });
        self.files.iter().cloned().chain(points).collect()
    }
}

/// Reads a `projected` volume source (`sources`, `defaultMode`); `None`
/// when it is in error (reported).
pub(crate) fn read(
    cx: &mut Cx,
    n: &Node,
    path: &str,
    meta: &Meta<'_>,
    objects: &Refs,
) -> Option<Projected> {
    let [sources, mode] = fields(cx, n, path, ["sources", "defaultMode"], &[]);
    let mode = match mode {
        Some(m) => Some(walk::integer(cx, m, &join(path, "defaultMode"), 0, 0o777)? as u32),
        None => None,
    };
    let mut out = Projected::default();
    // Each path given, and by which source.
    let mut given: Vec<(String, usize)> = Vec::new();
    let Some(sources) = sources else {
        cx.error(n, path, "missing sources");
        return None;
    };
    let p = join(path, "sources");
    let kinds = ["secret", "configMap", "downwardAPI"];
    let known: [&str; 6] = [
        kinds[0],
        kinds[1],
        kinds[2],
        CLUSTER_SOURCES[0].0,
        CLUSTER_SOURCES[1].0,
        CLUSTER_SOURCES[2].0,
    ];
    for (i, s) in walk::seq(cx, sources, &p).iter().enumerate() {
        let sp = format!("{p}[{i}]");
        let found = fields(cx, s, &sp, known, &[]);
        let mut cluster = false;
        for ((field, why), n) in CLUSTER_SOURCES.iter().zip(&found[3..]) {
            if n.is_some() {
                cx.unsupported(s, &join(&sp, field), why);
                cluster = true;
            }
        }
        let [secret, config_map, downward] = [found[0], found[1], found[2]];
        let count = [secret, config_map, downward]
            .iter()
            .filter(|x| x.is_some())
            .count();
        if count + usize::from(cluster) != 1 {
            cx.error(
                s,
                &sp,
                "give exactly one of secret, configMap or downwardAPI",
            );
            continue;
        }
        let (files, secrets) = if let Some(n) = secret {
            let mode = mode.unwrap_or(SECRET_FILE_MODE);
            let at = join(&sp, "secret");
            let items = super::secret_volume::projection(cx, n, &at, mode, objects);
            (Vec::new(), items.unwrap_or_default())
        } else if let Some(n) = config_map {
            let mode = mode.unwrap_or(DEFAULT_MODE);
            let at = join(&sp, "configMap");
            let files = super::files::projection(cx, n, &at, mode, objects);
            (files.unwrap_or_default(), Vec::new())
        } else if let Some(n) = downward {
            let mode = mode.unwrap_or(DEFAULT_MODE);
            let at = join(&sp, "downwardAPI");
            (
                super::downward::projection(cx, n, &at, mode, meta),
                Vec::new(),
            )
        } else {
            continue;
        };
        // A file that clashes with an earlier source's is reported and left out.
        let mut fresh = |path: &String| match given.iter().find(|(old, _)| clash(old, path)) {
            Some((old, j)) => {
                let what = if old == path {
                    format!("{path:?} is also a file of {p}[{j}]")
                } else {
                    format!(
                        "{path:?} and {old:?} of {p}[{j}] cannot both be files: one is under the other"
                    )
                };
                cx.error(s, &sp, what);
                false
            }
            None => {
                given.push((path.clone(), i));
                true
            }
        };
        out.files
            .extend(files.into_iter().filter(|f| fresh(&f.path)));
        out.secrets
            .extend(secrets.into_iter().filter(|x| fresh(&x.path)));
    }
    Some(out)
}

/// Two files of one directory that cannot both be: the same path, or one
/// under the other.
fn clash(a: &str, b: &str) -> bool {
    let under = |x: &str, y: &str| x.strip_prefix(y).is_some_and(|r| r.starts_with('/'));
    a == b || under(a, b) || under(b, a)
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_clash_when_equal_or_nested() {
        assert!(super::clash("a", "a"));
        assert!(super::clash("a", "a/b"));
        assert!(super::clash("a/b/c", "a/b"));
        assert!(!super::clash("a/b", "a/c"));
        assert!(!super::clash("ab", "a"));
    }
}
