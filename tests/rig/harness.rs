//! Turning trial lists into libtest-mimic trials: one guest per binary,
//! booted only when some selected trial needs it, evidence appended to every
//! failure, and skips reported as ignored (or failures when required).

use super::guest::Guest;
use super::nspawn::{Container, podctl_binds};
use super::preflight::{self, Availability};
use libtest_mimic::{Arguments, Failed, Trial};
use std::sync::{Arc, OnceLock};

/// A trial: runs against a booted guest; `Err` is the failure message.
pub type TrialFn = fn(&Guest) -> Result<(), String>;

/// Host tools the container tier runs.
const CONTAINER_TOOLS: &[&str] = &["systemd-nspawn", "nsenter", "debootstrap", "sha256sum"];

/// Wraps `runner` as a libtest-mimic trial according to `availability`.
pub fn trial<R>(name: &str, availability: &Availability, runner: R) -> Trial
where
    R: FnOnce() -> Result<(), String> + Send + 'static,
{
    match availability.clone() {
        Availability::Ready => Trial::test(name, move || runner().map_err(Failed::from)),
        Availability::Skip(why) => {
            Trial::test(name, move || Err(format!("skipped: {why}").into())).with_ignored_flag(true)
        }
        Availability::Fail(msg) => Trial::test(name, move || Err(msg.into())),
    }
}

/// Whether any trial of `trials` will actually run with `args`.
pub fn any_will_run(args: &Arguments, trials: &[Trial]) -> bool {
    !args.list
        && trials
            .iter()
            .any(|t| !args.is_filtered_out(t) && !args.is_ignored(t))
}

/// A trial's failure message with the guest's evidence appended.
pub fn with_evidence(guest: &Guest, message: String) -> String {
    format!("{message}\n{}", guest.evidence_for(&message))
}

/// The whole container tier: boot one container, run `trials` (in parallel),
/// power it off, exit with libtest's status.
pub fn container_main(trials: &[(&'static str, TrialFn)]) -> ! {
    let args = Arguments::from_args();
    let availability = preflight::check("container", CONTAINER_TOOLS);
    let slot: Arc<OnceLock<Result<Guest, String>>> = Arc::new(OnceLock::new());
    let list: Vec<Trial> = trials
        .iter()
        .map(|&(name, f)| {
            let slot = Arc::clone(&slot);
            trial(name, &availability, move || match slot.get() {
                Some(Ok(guest)) => f(guest).map_err(|m| with_evidence(guest, m)),
                Some(Err(boot)) => Err(format!("container did not boot: {boot}")),
                None => Err("container was not booted".to_string()),
            })
        })
        .collect();
    let mut container = None;
    let mut host_net = None;
    if matches!(availability, Availability::Ready) && any_will_run(&args, &list) {
        host_net = Some(super::hostnet::snapshot());
        let booted =
            super::cache::container_root().and_then(|root| Container::boot(&root, &podctl_binds()));
        let _ = slot.set(booted.as_ref().map(Container::guest).map_err(Clone::clone));
        container = booted.ok();
    }
    let conclusion = libtest_mimic::run(&args, list);
    let mut failed = conclusion.has_failed();
    if let Some(Err(e)) = container.map(Container::shutdown) {
        eprintln!("bench: error: {e}");
        failed = true;
    }
    // Networking trials ran in the guest's own namespace: the CI machine's
    // interfaces, routes and firewall are as they were.
    if let Some(before) = host_net {
        match super::hostnet::compare(&before, &super::hostnet::snapshot()) {
            Ok(()) => eprintln!(
                "bench: the host's network is unchanged ({})",
                super::hostnet::sources(&before)
            ),
            Err(e) => {
                eprintln!("bench: error: {e}");
                failed = true;
            }
        }
    }
    std::process::exit(if failed { 101 } else { 0 })
}
