//! `secret` volumes: each key of the Secret (or each of `items`) is a
//! podctl secret (`NAME.KEY`, [`super::secret::name`]) mounted as a file at
//! the volume's mountPath joined with its path (native `secrets = [{ name,
//! target, mode }]`): its value is in no file of the host's but the
//! memory-backed one the container binds. A Secret not in the file is the
//! one stored already: its keys are then listed in `items`.

use super::refs::{Kind, Refs};
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;
use crate::model::SECRET_FILE_MODE;

/// One file of a secret volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    /// Relative to the volume's mountPath, without `..`.
    pub path: String,
    /// The podctl secret.
    pub secret: String,
    pub mode: u32,
}

/// Reads a `secret` volume source (`secretName`, `items`, `defaultMode`,
/// `optional`); `None` when it is in error (reported).
pub(crate) fn read(cx: &mut Cx, n: &Node, path: &str, objects: &Refs) -> Option<Vec<Item>> {
    let [name, items, mode, optional] = fields(
        cx,
        n,
        path,
        ["secretName", "items", "defaultMode", "optional"],
        &[],
    );
    let mode = match mode {
        Some(m) => walk::integer(cx, m, &join(path, "defaultMode"), 0, 0o777)? as u32,
        None => SECRET_FILE_MODE,
    };
    let r = Ref {
        name,
        field: "secretName",
        items,
        optional,
    };
    keys(cx, n, path, r, mode, objects)
}

/// Reads a projected volume's `secret` source (`name`, `items`,
/// `optional`), its files `mode` unless an item says another.
pub(crate) fn projection(
    cx: &mut Cx,
    n: &Node,
    path: &str,
    mode: u32,
    objects: &Refs,
) -> Option<Vec<Item>> {
    let [name, items, optional] = fields(cx, n, path, ["name", "items", "optional"], &[]);
    let r = Ref {
        name,
        field: "name",
        items,
        optional,
    };
    keys(cx, n, path, r, mode, objects)
}

/// The fields that say which keys of which Secret.
struct Ref<'a> {
    name: Option<&'a Node>,
    /// The name's field: `secretName` of a volume, `name` of a projection.
    field: &'static str,
    items: Option<&'a Node>,
    optional: Option<&'a Node>,
}

/// The keys of the Secret `r` names as files: all of them, or its `items`.
fn keys(
    cx: &mut Cx,
    n: &Node,
    path: &str,
    r: Ref<'_>,
    mode: u32,
    objects: &Refs,
) -> Option<Vec<Item>> {
    let (name_field, items) = (r.field, r.items);
    let optional = r
        .optional
        .and_then(|o| walk::boolean(cx, o, &join(path, "optional")))
        .unwrap_or(false);
    let Some(name) = r
        .name
        .and_then(|x| walk::string(cx, x, &join(path, name_field)))
    else {
        cx.error(n, path, format!("missing {name_field}"));
        return None;
    };
    let data = objects.get(Kind::Secret, name);
    let mut out = Vec::new();
    let Some(list) = items else {
        let Some(data) = data else {
            if !optional {
                cx.error(
                    n,
                    path,
                    format!("no Secret named {name:?} {} ({}; list the keys of a stored one in items; or set optional: true)", objects.looked_in(), objects.put_it()),
                );
            }
            return Some(out);
        };
        for (k, v) in data {
            let at = join(path, name_field);
            out.push(item(cx, n, &at, (name, k, v), k, mode)?);
        }
        return Some(out);
    };
    let p = join(path, "items");
    for (i, it) in walk::seq(cx, list, &p).iter().enumerate() {
        let ip = format!("{p}[{i}]");
        let Some((key, to_text, item_mode)) = super::files::item_entry(cx, it, &ip, mode) else {
            continue;
        };
        if let Err(e) = super::rules::key(key) {
            cx.error(it, &join(&ip, "key"), e);
            continue;
        }
        match data.map(|d| d.get(key)) {
            Some(Some(v)) => {
                if let Some(x) = item(cx, it, &ip, (name, key, v), to_text, item_mode) {
                    out.push(x);
                }
            }
            _ if optional => {}
            Some(None) => cx.error(
                it,
                &join(&ip, "key"),
                format!("the Secret {name:?} has no key {key:?}"),
            ),
            // Stored already (apply checks that it is).
            None => match super::secret::name(name, key) {
                Some(secret) => out.push(Item {
                    path: to_text.to_string(),
                    secret,
                    mode: item_mode,
                }),
                None => cx.error(
                    it,
                    &join(&ip, "key"),
                    format!("{name}.{key} is no podctl secret name (too long)"),
                ),
            },
        }
    }
    Some(out)
}

/// Key `key` of the file's Secret `secret` (value `value`) as a file at
/// `path`: an empty value cannot be a podctl secret.
fn item(
    cx: &mut Cx,
    at: &Node,
    field: &str,
    (secret, key, value): (&str, &str, &str),
    path: &str,
    mode: u32,
) -> Option<Item> {
    if value.is_empty() {
        cx.error(
            at,
            field,
            format!("the Secret {secret:?}'s key {key:?} is empty: a podctl secret holds at least one byte"),
        );
        return None;
    }
    // A name too long is refused where the Secret is read.
    let name = super::secret::name(secret, key)?;
    Some(Item {
        path: path.to_string(),
        secret: name,
        mode,
    })
}

/// The native `secrets` element of `item` mounted under `mount_path`
/// (`subPath` selects an item, or the items under a directory): `"NAME"`
/// when that is `/run/secrets/NAME`, 0400, else `{ name, target, mode }`.
pub(crate) fn mounted(items: &[Item], mount_path: &str, sub: Option<&str>) -> Vec<String> {
    let base = mount_path.trim_end_matches('/');
    items
        .iter()
        .filter_map(|it| {
            let target = match sub {
                None => format!("{base}/{}", it.path),
                Some(s) if it.path == s => base.to_string(),
                Some(s) => format!("{base}/{}", it.path.strip_prefix(&format!("{s}/"))?),
            };
            let f = crate::model::SecretFile {
                name: it.secret.clone(),
                target,
                mode: it.mode,
            };
            Some(native(&f))
        })
        .collect()
}

/// A secret file as a native `secrets` element.
pub(crate) fn native(f: &crate::model::SecretFile) -> String {
    let name = super::native::string(&f.name);
    if f.is_default() {
        name
    } else {
        format!(
            "{{ name = {name}, target = {}, mode = 0o{:o} }}",
            super::native::string(&f.target),
            f.mode
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<Item> {
        let it = |path: &str, secret: &str, mode| Item {
            path: path.into(),
            secret: secret.into(),
            mode,
        };
        vec![
            it("password", "db.password", 0o400),
            it("tls/key", "db.tls.key", 0o440),
        ]
    }

    #[test]
    fn items_are_files_under_the_mount_path_or_its_sub_path() {
        assert_eq!(
            mounted(&items(), "/etc/db/", None),
            [
                r#"{ name = "db.password", target = "/etc/db/password", mode = 0o400 }"#,
                r#"{ name = "db.tls.key", target = "/etc/db/tls/key", mode = 0o440 }"#,
            ]
        );
        assert_eq!(
            mounted(&items(), "/etc/pw", Some("password")),
            [r#"{ name = "db.password", target = "/etc/pw", mode = 0o400 }"#]
        );
        assert_eq!(
            mounted(&items(), "/tls", Some("tls")),
            [r#"{ name = "db.tls.key", target = "/tls/key", mode = 0o440 }"#]
        );
        assert!(mounted(&items(), "/x", Some("other")).is_empty());
        // The default place and mode: the bare name.
        assert_eq!(
            mounted(&items()[..1], "/run/secrets/db.password", Some("password")),
            [r#""db.password""#]
        );
    }
}
