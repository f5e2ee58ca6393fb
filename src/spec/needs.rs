//! `needs` and `wants`: the pods this pod starts after. Names only: whether
//! those pods exist, and cycles among pods, are for apply, which sees them
//! all (`crate::plan::needs`).

use super::diag::Sink;
use super::names;
use super::tree::{self, Value};

/// Reads both lists for pod `own`: valid pod names, each once, not `own`,
/// and a pod in at most one of the two lists.
pub(crate) fn read(
    sink: &mut Sink,
    needs: Option<&Value<'_>>,
    wants: Option<&Value<'_>>,
    own: &str,
) -> (Vec<String>, Vec<String>) {
    let needs = list(sink, needs, "needs", own, &[]);
    let wants = list(sink, wants, "wants", own, &needs);
    (needs, wants)
}

fn list(
    sink: &mut Sink,
    v: Option<&Value<'_>>,
    key: &str,
    own: &str,
    needed: &[String],
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Some(v) = v else {
        return out;
    };
    for s in tree::strings(sink, v, key).unwrap_or_default() {
        let problem = if !names::is_dns_label(s.text) {
            format!(
                "{:?} is not a valid pod name ({})",
                s.text,
                names::LABEL_RULE
            )
        } else if s.text == own {
            format!("{:?} is this pod: a pod cannot need itself", s.text)
        } else if out.iter().any(|o| o == s.text) {
            format!("{:?} is listed twice", s.text)
        } else if needed.iter().any(|n| n == s.text) {
            format!(
                "{:?} is also in needs; needs already orders the start (remove it from wants)",
                s.text
            )
        } else {
            out.push(s.text.to_string());
            continue;
        };
        sink.error(s.span, key, problem);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::spec::parse_str;

    const APP: &str = "[containers.app]\ncommand = [\"sleep\", \"1\"]\n";

    fn errors(head: &str) -> Vec<String> {
        parse_str(&format!("name = \"web\"\n{head}{APP}"), "t.toml", "t")
            .expect_err("should be rejected")
            .0
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    #[test]
    fn both_lists_are_read_in_file_order() {
        let src = format!("name = \"web\"\nneeds = [\"db\", \"api\"]\nwants = [\"cache\"]\n{APP}");
        let pod = parse_str(&src, "t.toml", "t").unwrap();
        assert_eq!(pod.needs, ["db", "api"]);
        assert_eq!(pod.wants, ["cache"]);
        let none = parse_str(APP, "t.toml", "t").unwrap();
        assert!(none.needs.is_empty() && none.wants.is_empty());
    }

    #[test]
    fn bad_lists_are_located_errors_naming_the_key() {
        assert_eq!(
            errors("needs = [\"Db\"]\n"),
            [format!(
                "t.toml:2:10: needs: \"Db\" is not a valid pod name ({})",
                crate::spec::names::LABEL_RULE
            )]
        );
        assert_eq!(
            errors("needs = [\"web\"]\n"),
            ["t.toml:2:10: needs: \"web\" is this pod: a pod cannot need itself"]
        );
        assert_eq!(
            errors("wants = [\"db\", \"db\"]\n"),
            ["t.toml:2:16: wants: \"db\" is listed twice"]
        );
        assert_eq!(
            errors("needs = [\"db\"]\nwants = [\"db\"]\n"),
            [
                "t.toml:3:10: wants: \"db\" is also in needs; needs already orders the start (remove it from wants)"
            ]
        );
        assert_eq!(
            errors("needs = \"db\"\n"),
            ["t.toml:2:9: needs: expected an array of strings"]
        );
    }
}
