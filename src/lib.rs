//! podctl: declarative, systemd-native pods.
//!
//! A pod file goes through four stages: [`spec`] parses and validates it into a
//! [`model::Pod`]; [`plan`] turns that into the exact transient units, D-Bus
//! properties and namespace steps; [`supervise`] carries the plan out through a
//! [`systemd::Manager`]. Only the last stage touches the host.

pub mod apply;
pub mod cli;
pub mod ids;
pub mod image;
pub mod kube;
#[cfg(test)]
mod layers;
pub mod layout;
pub mod model;
pub mod mount;
pub mod net;
pub mod oci;
pub mod owner;
pub mod pidfd;
pub mod plan;
pub mod private;
pub mod revision;
pub mod secret;
pub mod spec;
pub mod statefile;
pub mod supervise;
pub mod systemd;

/// An error and its causes on one line: `outer: cause: root cause`.
/// A cause whose text repeats the previous one (some libraries wrap an error
/// and print it too) is left out.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut last = out.clone();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !text.is_empty() && !last.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        last = text;
        cur = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("outer {0}")]
    struct Outer(&'static str, #[source] std::io::Error);

    #[test]
    fn chain_joins_causes_once() {
        let e = Outer("x", std::io::Error::other("root"));
        assert_eq!(super::error_chain(&e), "outer x: root");
    }
}
