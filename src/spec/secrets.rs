//! A container's secrets: `secrets = ["NAME", ...]` (files at
//! `/run/secrets/NAME`) and `env.VAR = { secret = "NAME" }`. Only names:
//! the values are kept by systemd (`podctl secret create`).

use super::diag::{Sink, join};
use super::tree::{self, Value, fields};
use crate::model::{SECRET_NAME_RULE, is_secret_name};

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

/// `secrets = [...]`: valid names, each once.
pub(crate) fn read_files(sink: &mut Sink, v: &Value<'_>, key: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in tree::strings(sink, v, key).unwrap_or_default() {
        let Some(n) = name(sink, &s, key) else {
            continue;
        };
        if out.contains(&n) {
            sink.error(s.span, key, format!("secret {n:?} is listed twice"));
        } else {
            out.push(n);
        }
    }
    out
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
        assert_eq!(c.secrets.files, ["db-password", "tls.key"]);
        assert_eq!(
            c.secrets.env,
            [("PASSWORD".to_string(), "db-password".to_string())]
        );
        assert_eq!(c.env.len(), 1, "a secret is no plain value: {:?}", c.env);
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
        let e = errors(&format!("{HEAD}env = {{ P = {{ secret = \".x\" }} }}\n"));
        assert!(e.contains("containers.app.env.P.secret"), "{e}");
        let e = errors(&format!("{HEAD}env = {{ P = {{ secrte = \"x\" }} }}\n"));
        assert!(e.contains("did you mean `secret`"), "{e}");
        let e = errors(&format!("{HEAD}env = {{ P = 3 }}\n"));
        assert!(e.contains("expected a string"), "{e}");
    }
}
