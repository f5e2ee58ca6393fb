//! podctl's default seccomp profile: `seccomp.toml` (data, reviewed with a
//! reason per group) turned into the runtime config's `linux.seccomp`.

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompOperator, LinuxSyscall,
};
use serde::Deserialize;

/// The profile's text, compiled in.
pub const PROFILE: &str = include_str!("seccomp.toml");

/// EPERM, the default answer of a denied system call.
const EPERM: u32 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    architectures: Vec<String>,
    deny: Vec<Group>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    #[allow(dead_code)] // for people: each group says why
    why: String,
    syscalls: Vec<String>,
    errno: Option<u32>,
    /// The rule applies when the first argument has this bit set (one rule
    /// per bit: seccomp compares one masked value at a time).
    #[serde(default)]
    arg0_has: Vec<u64>,
}

/// Every system call the default profile denies (for tests and the README).
pub fn denied() -> Vec<String> {
    profile()
        .deny
        .into_iter()
        .flat_map(|g| g.syscalls)
        .collect()
}

fn profile() -> Profile {
    // The file is part of the source; a unit test parses it.
    toml::from_str(PROFILE).expect("src/oci/seccomp.toml is valid")
}

/// The default profile as `linux.seccomp`: allow everything else.
pub fn default_profile() -> LinuxSeccomp {
    let p = profile();
    let architectures: Vec<Arch> = p
        .architectures
        .iter()
        .map(|a| {
            serde_json::from_value(serde_json::Value::String(a.clone()))
                .expect("architectures in seccomp.toml are libseccomp names")
        })
        .collect();
    let mut syscalls = Vec::new();
    for g in p.deny {
        let errno = g.errno.unwrap_or(EPERM);
        let rule = |args: Option<Vec<LinuxSeccompArg>>| {
            let mut s = LinuxSyscall::default();
            s.set_names(g.syscalls.clone());
            s.set_action(LinuxSeccompAction::ScmpActErrno);
            s.set_errno_ret(Some(errno));
            s.set_args(args);
            s
        };
        if g.arg0_has.is_empty() {
            syscalls.push(rule(None));
        }
        for &bit in &g.arg0_has {
            let arg = LinuxSeccompArgBuilder::default()
                .index(0usize)
                .value(bit)
                .value_two(bit)
                .op(LinuxSeccompOperator::ScmpCmpMaskedEq)
                .build()
                .expect("every field of a seccomp argument is set");
            syscalls.push(rule(Some(vec![arg])));
        }
    }
    let mut s = LinuxSeccomp::default();
    s.set_default_action(LinuxSeccompAction::ScmpActAllow);
    s.set_architectures(Some(architectures));
    s.set_syscalls(Some(syscalls));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_denies_what_dockers_default_denies() {
        let denied = denied();
        for must in [
            "mount",
            "umount2",
            "pivot_root",
            "kexec_load",
            "kexec_file_load",
            "init_module",
            "finit_module",
            "delete_module",
            "bpf",
            "perf_event_open",
            "keyctl",
            "add_key",
            "request_key",
            "userfaultfd",
            "open_by_handle_at",
            "reboot",
            "swapon",
            "swapoff",
            "setns",
            "unshare",
            "clone",
        ] {
            assert!(denied.iter().any(|d| d == must), "{must} is not denied");
        }
        let p = default_profile();
        assert_eq!(p.default_action(), LinuxSeccompAction::ScmpActAllow);
        let clone_rules = p
            .syscalls()
            .as_ref()
            .unwrap()
            .iter()
            .filter(|s| s.names() == &["clone".to_string()])
            .count();
        // One rule per namespace flag, CLONE_NEWUSER included.
        assert_eq!(clone_rules, 7);
    }
}
