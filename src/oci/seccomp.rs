//! podctl's default seccomp profile: `seccomp.toml` (data, reviewed with a
//! reason per group) turned into the runtime config's `linux.seccomp`, an
//! allow list whose default answer is ENOSYS.

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompOperator, LinuxSyscall,
};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// The profile's text, compiled in.
pub const PROFILE: &str = include_str!("seccomp.toml");

/// EPERM, the answer of a denied system call that names no errno.
const EPERM: u32 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    /// The answer to every system call the profile does not allow.
    default_errno: u32,
    /// libseccomp architectures filtered, by Rust's name of the host's.
    architectures: BTreeMap<String, Vec<String>>,
    allow: Vec<Allow>,
    deny: Vec<Deny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Allow {
    #[allow(dead_code)] // for people, and checked by a test: each group says why
    why: String,
    syscalls: Vec<String>,
    /// The group applies when the bounding set holds any of these.
    #[serde(default)]
    caps: Vec<String>,
    /// Allowed only for these values of the first argument.
    #[serde(default)]
    arg0_eq: Vec<u64>,
    /// Allowed only when the first argument has none of these bits.
    arg0_clear: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Deny {
    #[allow(dead_code)] // for people, and checked by a test: each group says why
    why: String,
    syscalls: Vec<String>,
    errno: Option<u32>,
    /// One rule per bit, applying when the first argument has that bit.
    #[serde(default)]
    arg0_has: Vec<u64>,
}

impl Allow {
    fn applies(&self, bounding: &[String]) -> bool {
        self.caps.is_empty() || self.caps.iter().any(|c| bounding.contains(c))
    }

    fn conditional(&self) -> bool {
        !self.arg0_eq.is_empty() || self.arg0_clear.is_some()
    }
}

fn profile() -> Profile {
    // The file is part of the source; a unit test parses it.
    toml::from_str(PROFILE).expect("src/oci/seccomp.toml is valid")
}

/// The system calls a container with this bounding set may make whatever
/// their arguments.
pub fn allowed(bounding: &[String]) -> BTreeSet<String> {
    allowed_in(&profile(), bounding)
}

fn allowed_in(p: &Profile, bounding: &[String]) -> BTreeSet<String> {
    p.allow
        .iter()
        .filter(|g| g.applies(bounding) && !g.conditional())
        .flat_map(|g| g.syscalls.iter().cloned())
        .collect()
}

fn arg0(op: LinuxSeccompOperator, value: u64, value_two: u64) -> LinuxSeccompArg {
    LinuxSeccompArgBuilder::default()
        .index(0usize)
        .value(value)
        .value_two(value_two)
        .op(op)
        .build()
        .expect("every field of a seccomp argument is set")
}

fn rule(
    names: Vec<String>,
    action: LinuxSeccompAction,
    errno: Option<u32>,
    args: Option<Vec<LinuxSeccompArg>>,
) -> LinuxSyscall {
    let mut s = LinuxSyscall::default();
    s.set_names(names);
    s.set_action(action);
    s.set_errno_ret(errno);
    s.set_args(args);
    s
}

/// The names of `syscalls` that `open` does not allow outright.
fn not_open(syscalls: &[String], open: &BTreeSet<String>) -> Vec<String> {
    syscalls
        .iter()
        .filter(|n| !open.contains(*n))
        .cloned()
        .collect()
}

/// The default profile of a container whose bounding set is `bounding`
/// (canonical `CAP_*` names), as `linux.seccomp`.
pub fn default_profile(bounding: &[String]) -> LinuxSeccomp {
    let p = profile();
    let open = allowed_in(&p, bounding);
    let mut syscalls = Vec::new();
    let allow = LinuxSeccompAction::ScmpActAllow;
    for g in p.allow.iter().filter(|g| g.applies(bounding)) {
        if !g.conditional() {
            syscalls.push(rule(g.syscalls.clone(), allow, None, None));
            continue;
        }
        // An argument rule is moot for a name allowed outright.
        let names = not_open(&g.syscalls, &open);
        if names.is_empty() {
            continue;
        }
        for &v in &g.arg0_eq {
            let a = arg0(LinuxSeccompOperator::ScmpCmpEq, v, 0);
            syscalls.push(rule(names.clone(), allow, None, Some(vec![a])));
        }
        if let Some(bits) = g.arg0_clear {
            let a = arg0(LinuxSeccompOperator::ScmpCmpMaskedEq, bits, 0);
            syscalls.push(rule(names.clone(), allow, None, Some(vec![a])));
        }
    }
    let errno = LinuxSeccompAction::ScmpActErrno;
    for g in &p.deny {
        let names = not_open(&g.syscalls, &open);
        if names.is_empty() {
            continue;
        }
        let ret = Some(g.errno.unwrap_or(EPERM));
        if g.arg0_has.is_empty() {
            syscalls.push(rule(names.clone(), errno, ret, None));
        }
        for &bit in &g.arg0_has {
            let a = arg0(LinuxSeccompOperator::ScmpCmpMaskedEq, bit, bit);
            syscalls.push(rule(names.clone(), errno, ret, Some(vec![a])));
        }
    }
    let architectures = p.architectures.get(std::env::consts::ARCH).map(|list| {
        list.iter()
            .map(|a| {
                serde_json::from_value::<Arch>(serde_json::Value::String(a.clone()))
                    .expect("architectures in seccomp.toml are libseccomp names")
            })
            .collect()
    });
    let mut s = LinuxSeccomp::default();
    s.set_default_action(errno);
    s.set_default_errno_ret(Some(p.default_errno));
    s.set_architectures(architectures);
    s.set_syscalls(Some(syscalls));
    s
}

#[cfg(test)]
mod tests;
