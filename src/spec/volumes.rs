//! Volumes: a container's `volumes = ["SRC:/target[:OPTS]", ...]` and the
//! pod's scratch volumes, `[volumes] NAME = { size = "16M" }` (a tmpfs),
//! `{}` or `{ limit = "1G" }` (on disk, at most that much).
//!
//! `SRC` is a host path (`/srv/www`: a bind mount), `tmpfs`, the name of one
//! of the pod's scratch volumes, or any other name: a named volume kept under
//! `/var/lib/podctl/volumes/NAME`. `OPTS` is `ro` or `rw`; tmpfs also takes
//! `size=16M` (`tmpfs:/run:size=16M,ro`).

use super::diag::{Sink, join};
use super::names;
use super::security::has_dot_dot;
use super::size::parse_size;
use super::tree::{self, Value, fields};
use crate::model::{ScratchVolume, Volume, VolumeSource};

const FORMS: &str =
    "use \"/host/path:/target[:ro]\", \"NAME:/target[:ro]\" or \"tmpfs:/target[:size=16M]\"";
const SIZE_HELP: &str = "use bytes or K/M/G/T, e.g. 16M";

/// Targets no volume may cover: the runtime mounts them itself.
const RESERVED_TARGETS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// The pod's `[volumes]` table, sorted by name.
pub(crate) fn read_scratch(sink: &mut Sink, v: &Value<'_>) -> Vec<ScratchVolume> {
    let mut out = Vec::new();
    let Some(t) = v.get_ref().as_table() else {
        sink.error(
            v.span(),
            "volumes",
            "expected a table of the pod's scratch volumes, e.g. [volumes] shared = {} (a container's mounts are its own `volumes` list)",
        );
        return out;
    };
    for (k, v) in t.iter() {
        let name: &str = k.get_ref();
        let path = join("volumes", name);
        if !names::is_dns_label(name) || name == "tmpfs" {
            sink.error(
                k.span(),
                &path,
                format!(
                    "{name:?} is not a valid volume name ({}; not \"tmpfs\")",
                    names::LABEL_RULE
                ),
            );
        }
        let (mut size, mut limit) = (None, None);
        if let Some(t) = tree::table(sink, v, &path) {
            let [s, l] = fields(sink, t, &path, ["size", "limit"]);
            size = s.and_then(|s| read_size(sink, s, &join(&path, "size")));
            limit = l.and_then(|l| read_size(sink, l, &join(&path, "limit")));
            if let (Some(_), Some(l)) = (s, l) {
                sink.error(
                    l.span(),
                    &join(&path, "limit"),
                    "a tmpfs (size) cannot grow past its size: limit is for a scratch volume on disk",
                );
            }
        }
        out.push(ScratchVolume {
            name: name.to_string(),
            size,
            limit,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn read_size(sink: &mut Sink, v: &Value<'_>, path: &str) -> Option<u64> {
    let s = tree::string(sink, v, path)?;
    match parse_size(s.text) {
        Ok(n) => Some(n),
        Err(e) => {
            sink.error(s.span, path, format!("{:?}: {e} ({SIZE_HELP})", s.text));
            None
        }
    }
}

/// A container's `volumes` list; `scratch` names the pod's scratch volumes.
pub(crate) fn read(sink: &mut Sink, v: &Value<'_>, key: &str, scratch: &[String]) -> Vec<Volume> {
    let mut out: Vec<Volume> = Vec::new();
    for s in tree::strings(sink, v, key).unwrap_or_default() {
        match parse(s.text, scratch) {
            Ok(vol) if out.iter().any(|o| o.target == vol.target) => sink.error(
                s.span,
                key,
                format!("two volumes are mounted on {}", vol.target),
            ),
            Ok(vol) => out.push(vol),
            Err(why) => sink.error(s.span, key, format!("{:?}: {why}", s.text)),
        }
    }
    out
}

/// One volume string.
fn parse(text: &str, scratch: &[String]) -> Result<Volume, String> {
    if text.contains('\0') {
        return Err("volumes cannot contain NUL characters".into());
    }
    let mut parts = text.splitn(3, ':');
    let (Some(src), Some(target)) = (parts.next(), parts.next()) else {
        return Err(format!("expected SOURCE:TARGET ({FORMS})"));
    };
    let opts = parts.next();
    check_target(target)?;
    let mut read_only = false;
    let mut size = None;
    for opt in opts.into_iter().flat_map(|o| o.split(',')) {
        match opt {
            "ro" => read_only = true,
            "rw" => read_only = false,
            o if src == "tmpfs" && o.starts_with("size=") => {
                size = Some(
                    parse_size(&o[5..])
                        .map_err(|e| format!("tmpfs size {:?}: {e} ({SIZE_HELP})", &o[5..]))?,
                )
            }
            o => {
                let allowed = if src == "tmpfs" {
                    "ro, rw, size=N"
                } else {
                    "ro, rw"
                };
                return Err(format!("unknown option {o:?} (allowed: {allowed})"));
            }
        }
    }
    let source = if src.starts_with('/') {
        if has_dot_dot(src) {
            return Err(format!("the host path {src} has a `..` component"));
        }
        VolumeSource::Bind(src.to_string())
    } else if src == "tmpfs" {
        VolumeSource::Tmpfs(size)
    } else if scratch.iter().any(|s| s == src) {
        VolumeSource::Scratch(src.to_string())
    } else if names::is_dns_label(src) {
        VolumeSource::Named(src.to_string())
    } else if src.is_empty() {
        return Err(format!("the source is empty ({FORMS})"));
    } else {
        return Err(format!(
            "{src:?} is neither an absolute host path, \"tmpfs\" nor a volume name ({})",
            names::LABEL_RULE
        ));
    };
    Ok(Volume {
        source,
        target: target.to_string(),
        read_only,
    })
}

/// A target is absolute, stays in the container's root and covers nothing
/// the runtime mounts itself.
pub(crate) fn check_target(target: &str) -> Result<(), String> {
    if !target.starts_with('/') {
        return Err(format!("the target {target:?} is not an absolute path"));
    }
    if has_dot_dot(target) {
        return Err(format!(
            "the target {target} has a `..` component: it could escape the container's root"
        ));
    }
    if target.split('/').skip(1).any(|c| c.is_empty() || c == ".") {
        return Err(format!(
            "the target {target} is not a plain path (no `.`, `//` or trailing `/`)"
        ));
    }
    if let Some(r) = RESERVED_TARGETS
        .iter()
        .find(|r| target == **r || target.starts_with(&format!("{r}/")))
    {
        return Err(format!(
            "the target {target} is under {r}, which the runtime mounts"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let s = vec!["shared".to_string()];
        let v = parse("/srv/www:/usr/share/nginx/html:ro", &s).unwrap();
        assert_eq!(v.source, VolumeSource::Bind("/srv/www".into()));
        assert!(v.read_only);
        let v = parse("cache:/var/cache/app", &s).unwrap();
        assert_eq!(v.source, VolumeSource::Named("cache".into()));
        assert!(!v.read_only);
        let v = parse("shared:/data", &s).unwrap();
        assert_eq!(v.source, VolumeSource::Scratch("shared".into()));
        let v = parse("tmpfs:/run:size=16M,ro", &s).unwrap();
        assert_eq!(v.source, VolumeSource::Tmpfs(Some(16 << 20)));
        assert!(v.read_only);
        for bad in [
            "/a:/b/../../etc",
            "/a/../etc:/b",
            "x:relative",
            "x:/",
            "x:/proc/sys",
            "x:/a//b",
            "x",
            "X_Y:/a",
            "/a:/b:rx",
            "cache:/a:size=1M",
            "tmpfs:/a:size=lots",
        ] {
            assert!(parse(bad, &s).is_err(), "{bad}");
        }
    }
}
