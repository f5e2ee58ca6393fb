use super::*;
use std::ffi::{CString, c_char, c_int};

fn caps(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn default_caps() -> Vec<String> {
    caps(&crate::model::defaults::CAPABILITIES)
}

/// libseccomp's architecture tokens (`AUDIT_ARCH_*`): x86_64, i386,
/// aarch64, arm.
const ARCH_TOKENS: [u32; 4] = [0xc000_003e, 0x4000_0003, 0xc000_00b7, 0x4000_0028];

type Resolve = unsafe extern "C" fn(u32, *const c_char) -> c_int;

/// Whether libseccomp (the library crun and runc resolve names with) knows
/// `name` as a system call of x86_64, i386, aarch64 or arm.
fn known_to_libseccomp(resolve: Resolve, name: &str) -> bool {
    let c = CString::new(name).expect("no NUL in a syscall name");
    ARCH_TOKENS.iter().any(|&arch| {
        // SAFETY: `resolve` is libseccomp's seccomp_syscall_resolve_name_arch,
        // given a valid arch token and a NUL-terminated string it only reads.
        let nr = unsafe { resolve(arch, c.as_ptr()) };
        nr >= 0
    })
}

fn libseccomp_resolver() -> Resolve {
    // SAFETY: dlopen with a NUL-terminated name; the handle is kept for the
    // life of the test process (never dlclosed), so the symbol stays valid.
    let handle = unsafe { libc::dlopen(c"libseccomp.so.2".as_ptr(), libc::RTLD_NOW) };
    assert!(
        !handle.is_null(),
        "libseccomp.so.2 (Debian: libseccomp2) is needed to check the profile's names"
    );
    // SAFETY: the handle is valid and the symbol name NUL-terminated.
    let sym = unsafe { libc::dlsym(handle, c"seccomp_syscall_resolve_name_arch".as_ptr()) };
    assert!(!sym.is_null(), "libseccomp has no resolver");
    // SAFETY: the symbol is `int seccomp_syscall_resolve_name_arch(uint32_t,
    // const char *)` (seccomp.h), which `Resolve` spells.
    unsafe { std::mem::transmute::<*mut libc::c_void, Resolve>(sym) }
}

#[test]
fn the_profile_parses_and_every_group_says_why() {
    let p = profile();
    assert_eq!(p.default_errno, 38, "unknown system calls answer ENOSYS");
    for g in &p.allow {
        assert!(g.why.len() > 10 && !g.syscalls.is_empty(), "{g:?}");
        for c in &g.caps {
            assert_eq!(crate::model::caps::canonical(c), Some(c.as_str()), "{c}");
        }
    }
    for g in &p.deny {
        assert!(g.why.len() > 10 && !g.syscalls.is_empty(), "{g:?}");
    }
    assert!(p.architectures.contains_key("x86_64") && p.architectures.contains_key("aarch64"));
    // Every architecture name is one oci-spec (and libseccomp) knows.
    for arch in p.architectures.values().flatten() {
        serde_json::from_value::<Arch>(serde_json::Value::String(arch.clone()))
            .unwrap_or_else(|e| panic!("{arch}: {e}"));
    }
}

#[test]
fn no_name_twice_and_none_both_allowed_and_denied() {
    let p = profile();
    let mut seen = BTreeSet::new();
    for g in p.allow.iter().filter(|g| g.caps.is_empty()) {
        for n in &g.syscalls {
            assert!(seen.insert(n.clone()), "{n} is allowed twice");
        }
    }
    let mut denied = BTreeSet::new();
    for g in &p.deny {
        for n in &g.syscalls {
            assert!(denied.insert(n.clone()), "{n} is denied twice");
        }
    }
    // What every container may do is never also denied (clone's allow rule
    // is conditional: it and the deny rules look at different flags).
    for n in allowed(&[]) {
        assert!(!denied.contains(&n), "{n} is allowed and denied");
    }
    let mut gated = BTreeSet::new();
    for g in p.allow.iter().filter(|g| !g.caps.is_empty()) {
        for n in &g.syscalls {
            assert!(gated.insert((n.clone(), g.caps.clone())), "{n} twice");
        }
    }
}

#[test]
fn every_name_is_a_system_call_libseccomp_knows() {
    let resolve = libseccomp_resolver();
    let p = profile();
    let names = p
        .allow
        .iter()
        .flat_map(|g| &g.syscalls)
        .chain(p.deny.iter().flat_map(|g| &g.syscalls));
    let unknown: Vec<&String> = names.filter(|n| !known_to_libseccomp(resolve, n)).collect();
    assert!(unknown.is_empty(), "unknown system calls: {unknown:?}");
    // The check itself: a made-up name is unknown.
    assert!(!known_to_libseccomp(resolve, "podctl_escape"));
}

fn rules_for<'a>(p: &'a LinuxSeccomp, name: &str) -> Vec<&'a LinuxSyscall> {
    p.syscalls()
        .as_ref()
        .unwrap()
        .iter()
        .filter(|s| s.names().iter().any(|n| n == name))
        .collect()
}

fn action_of(p: &LinuxSeccomp, name: &str) -> Option<(LinuxSeccompAction, Option<u32>)> {
    let rules = rules_for(p, name);
    let plain: Vec<_> = rules.iter().filter(|r| r.args().is_none()).collect();
    assert!(
        plain.len() <= 1,
        "{name}: {} unconditional rules",
        plain.len()
    );
    plain.first().map(|r| (r.action(), r.errno_ret()))
}

#[test]
fn a_default_container_gets_an_allow_list() {
    let p = default_profile(&default_caps());
    assert_eq!(p.default_action(), LinuxSeccompAction::ScmpActErrno);
    assert_eq!(p.default_errno_ret(), Some(38));
    let allow = Some((LinuxSeccompAction::ScmpActAllow, None));
    let eperm = Some((LinuxSeccompAction::ScmpActErrno, Some(1)));
    for name in ["read", "openat", "execve", "epoll_wait", "chroot", "setuid"] {
        assert_eq!(action_of(&p, name), allow, "{name}");
    }
    for name in [
        "io_uring_setup",
        "mount",
        "unshare",
        "setns",
        "finit_module",
        "reboot",
        "bpf",
        "keyctl",
        "ptrace",
        "open_by_handle_at",
        "clock_settime",
    ] {
        assert_eq!(action_of(&p, name), eperm, "{name}");
    }
    // Not named: the default answer, ENOSYS.
    for name in ["clone3", "cachestat", "process_mrelease"] {
        assert!(rules_for(&p, name).is_empty(), "{name}");
    }
    // clone: allowed without namespace flags, EPERM with each of the 7.
    let clone = rules_for(&p, "clone");
    assert_eq!(clone.len(), 8);
    let allow_rule = clone
        .iter()
        .find(|r| r.action() == LinuxSeccompAction::ScmpActAllow)
        .expect("clone is allowed without flags");
    let a = &allow_rule.args().as_ref().unwrap()[0];
    assert_eq!((a.value(), a.value_two()), (0x7e02_0000, Some(0)));
    assert_eq!(a.op(), LinuxSeccompOperator::ScmpCmpMaskedEq);
    // personality: one rule per harmless value.
    assert_eq!(rules_for(&p, "personality").len(), 5);
}

#[test]
fn capabilities_open_their_groups() {
    let none = default_profile(&[]);
    assert!(
        rules_for(&none, "chroot")
            .iter()
            .all(|r| r.action() == LinuxSeccompAction::ScmpActErrno),
        "chroot without CAP_SYS_CHROOT"
    );
    let admin = default_profile(&caps(&["CAP_SYS_ADMIN"]));
    let allow = Some((LinuxSeccompAction::ScmpActAllow, None));
    for name in [
        "mount", "unshare", "setns", "clone", "clone3", "bpf", "syslog",
    ] {
        assert_eq!(action_of(&admin, name), allow, "{name}");
        assert_eq!(rules_for(&admin, name).len(), 1, "{name}: one rule");
    }
    assert_eq!(action_of(&admin, "finit_module").unwrap().1, Some(1));
    let ptrace = default_profile(&caps(&["CAP_SYS_PTRACE"]));
    assert_eq!(action_of(&ptrace, "ptrace"), allow);
    assert_eq!(action_of(&ptrace, "mount").unwrap().1, Some(1));
    let all = default_profile(&caps(&crate::model::caps::CAPABILITIES));
    for name in ["reboot", "finit_module", "iopl", "clock_settime", "acct"] {
        assert_eq!(action_of(&all, name), allow, "{name}");
    }
    // Never, whatever the capabilities: kexec, keys, userfaultfd, io_uring.
    for name in ["kexec_load", "keyctl", "userfaultfd", "io_uring_setup"] {
        assert_eq!(
            action_of(&all, name).unwrap().0,
            LinuxSeccompAction::ScmpActErrno
        );
    }
}

#[test]
fn the_host_architectures_are_filtered() {
    let p = default_profile(&[]);
    let archs = p.architectures().clone().unwrap_or_default();
    if std::env::consts::ARCH == "x86_64" {
        assert_eq!(
            archs,
            [Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
        );
    }
}
