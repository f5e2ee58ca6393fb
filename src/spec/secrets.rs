//! A container's secrets: `secrets = ["NAME", { name = "NAME", target =
//! "/etc/app/pw", mode = 0o440 }, ...]` (files at `/run/secrets/NAME`, 0400,
//! unless said otherwise) and `env.VAR = { secret = "NAME" }`. Only names:
//! the values are kept by systemd (`podctl secret create`).

use super::diag::{Sink, join};
use super::tree::{self, Value, fields};
use crate::model::{SECRET_NAME_RULE, SecretFile, is_secret_name};

/// Checks one secret name written at `span`.
fn name(sink: &mut Sink, s: &tree::Str<'_>, key: &str) -> Option<String> {
    if is_secret_name(s.text) {
        Some(s.text.to_string())
    } else {
        sink.error(
            s.span.clone(),
            key,
            format!("{:?} is not a secret name ({SECRET_NAME_RULE})", s.text),
        );
        None
    }
}

const FILE_EXPECTED: &str =
    "expected \"NAME\" or { name = \"NAME\", target = \"/path\", mode = 0o400 }";

/// `secrets = [...]`: valid names, each target once.
pub(crate) fn read_files(sink: &mut Sink, v: &Value<'_>, key: &str) -> Vec<SecretFile> {
    let mut out: Vec<SecretFile> = Vec::new();
    let Some(items) = v.get_ref().as_array() else {
        sink.error(v.span(), key, "expected an array");
        return out;
    };
    for item in items {
        let Some(f) = read_file(sink, item, key) else {
            continue;
        };
        if out.iter().any(|o| o.target == f.target) {
            let what = if f.is_default() {
                format!("secret {:?} is listed twice", f.name)
            } else {
                format!("two secrets are mounted on {}", f.target)
            };
            sink.error(item.span(), key, what);
        } else {
            out.push(f);
        }
    }
    out
}

/// One element of `secrets`.
fn read_file(sink: &mut Sink, item: &Value<'_>, key: &str) -> Option<SecretFile> {
    if item.get_ref().as_str().is_some() {
        let s = tree::string(sink, item, key)?;
        return name(sink, &s, key).map(|n| SecretFile::at_default(&n));
    }
    let Some(t) = item.get_ref().as_table() else {
        sink.error(item.span(), key, FILE_EXPECTED);
        return None;
    };
    let [n, target, mode] = fields(sink, t, key, ["name", "target", "mode"]);
    let Some(n) = n else {
        sink.error(item.span(), &join(key, "name"), FILE_EXPECTED);
        return None;
    };
    let s = tree::string(sink, n, &join(key, "name"))?;
    let n = name(sink, &s, &join(key, "name"))?;
    let mut f = SecretFile::at_default(&n);
    if let Some(t) = target {
        let s = tree::string(sink, t, &join(key, "target"))?;
        if let Err(e) = super::volumes::check_target(s.text) {
            sink.error(s.span, &join(key, "target"), e);
            return None;
        }
        f.target = s.text.to_string();
    }
    if let Some(m) = mode {
        match tree::integer(m.get_ref()).filter(|m| (0..=0o777).contains(m)) {
            Some(m) => f.mode = m as u32,
            None => {
                sink.error(
                    m.span(),
                    &join(key, "mode"),
                    "expected permission bits from 0 to 0o777 (e.g. 0o440)",
                );
                return None;
            }
        }
    }
    Some(f)
}

/// `env.VAR = { secret = "NAME" }`: the secret's name.
pub(crate) fn read_env_ref(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<String> {
    let t = v.get_ref().as_table()?;
    let [secret] = fields(sink, t, key, ["secret"]);
    let Some(secret) = secret else {
        sink.error(
            v.span(),
            key,
            "expected a string or { secret = \"NAME\" } (a secret made with `podctl secret create`)",
        );
        return None;
    };
    let s = tree::string(sink, secret, &join(key, "secret"))?;
    name(sink, &s, &join(key, "secret"))
}

#[cfg(test)]
mod tests {
    fn errors(text: &str) -> String {
        match crate::spec::parse_str(text, "t.toml", "p") {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    const HEAD: &str = "[containers.app]\ncommand = [\"/bin/true\"]\n";

    #[test]
    fn files_and_env_from_secrets_are_read() {
        let text = format!(
            "{HEAD}secrets = [\"db-password\", \"tls.key\"]\nenv = {{ A = \"plain\", PASSWORD = {{ secret = \"db-password\" }} }}\n"
        );
        let pod = crate::spec::parse_str(&text, "t.toml", "p").expect("valid");
        let c = &pod.containers[0];
        let names: Vec<&str> = c.secrets.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["db-password", "tls.key"]);
        assert!(c.secrets.files.iter().all(|f| f.is_default()));
        assert_eq!(
            c.secrets.env,
            [("PASSWORD".to_string(), "db-password".to_string())]
        );
        assert_eq!(c.env.len(), 1, "a secret is no plain value: {:?}", c.env);
    }

    #[test]
    fn a_file_may_say_where_and_with_which_mode() {
        let text = format!(
            "{HEAD}secrets = [\"a\", {{ name = \"b\", target = \"/etc/app/pw\", mode = 0o440 }}, {{ name = \"a\", target = \"/etc/a\" }}]\n"
        );
        let pod = crate::spec::parse_str(&text, "t.toml", "p").expect("valid");
        let f = &pod.containers[0].secrets.files;
        assert_eq!(f.len(), 3);
        assert!(f[0].is_default());
        assert_eq!(
            (f[1].name.as_str(), f[1].target.as_str(), f[1].mode),
            ("b", "/etc/app/pw", 0o440)
        );
        assert_eq!((f[2].target.as_str(), f[2].mode), ("/etc/a", 0o400));
        assert_eq!(pod.containers[0].secrets.names(), ["a", "b"]);
    }

    #[test]
    fn bad_names_and_shapes_are_located_errors() {
        let e = errors(&format!("{HEAD}secrets = [\"../etc/shadow\"]\n"));
        assert!(
            e.contains("containers.app.secrets") && e.contains("not a secret name"),
            "{e}"
        );
        let e = errors(&format!("{HEAD}secrets = [\"a\", \"a\"]\n"));
        assert!(e.contains("listed twice"), "{e}");
        let e = errors(&format!(
            "{HEAD}secrets = [\"a\", {{ name = \"b\", target = \"/run/secrets/a\" }}]\n"
        ));
        assert!(
            e.contains("two secrets are mounted on /run/secrets/a"),
            "{e}"
        );
        let e = errors(&format!(
            "{HEAD}secrets = [{{ name = \"a\", target = \"etc/x\" }}]\n"
        ));
        assert!(
            e.contains("secrets.target") && e.contains("not an absolute path"),
            "{e}"
        );
        let e = errors(&format!(
            "{HEAD}secrets = [{{ name = \"a\", target = \"/proc/x\" }}]\n"
        ));
        assert!(e.contains("which the runtime mounts"), "{e}");
        let e = errors(&format!(
            "{HEAD}secrets = [{{ name = \"a\", mode = 0o1777 }}]\n"
        ));
        assert!(e.contains("secrets.mode") && e.contains("0o777"), "{e}");
        let e = errors(&format!("{HEAD}secrets = [{{ target = \"/x\" }}]\n"));
        assert!(e.contains("secrets.name"), "{e}");
        let e = errors(&format!("{HEAD}secrets = [3]\n"));
        assert!(e.contains("expected \"NAME\" or {"), "{e}");
        let e = errors(&format!("{HEAD}env = {{ P = {{ secret = \".x\" }} }}\n"));
        assert!(e.contains("containers.app.env.P.secret"), "{e}");
        let e = errors(&format!("{HEAD}env = {{ P = {{ secrte = \"x\" }} }}\n"));
        assert!(e.contains("did you mean `secret`"), "{e}");
        let e = errors(&format!("{HEAD}env = {{ P = 3 }}\n"));
        assert!(e.contains("expected a string"), "{e}");
    }
}
