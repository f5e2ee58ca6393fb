//! `podctl-supervisor up NAME` (`podctl up NAME`): the supervisor's
//! composition root, run by `pod@NAME.service` (Type=notify): the pod's
//! definition read and its plan assembled once, then started and run.

use crate::layout::Layout;
use crate::supervise::supervisor::{Started, Supervisor, block_signals};
use crate::systemd::Manager;
use anyhow::{Context, bail};
use sd_notify::NotifyState;
use std::process::ExitCode;

pub fn up(name: &str) -> ExitCode {
    crate::supervise::logging::init();
    let result = run(name);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = crate::error_chain(e.as_ref());
            // stderr, not the journal protocol: the service's stream is
            // attributed to pod@NAME.service even though we exit right away
            // (journald may not find the unit of a process already gone).
            eprintln!("pod {name}: {msg}");
            let _ = sd_notify::notify(&[NotifyState::Status(&format!("failed: {msg}"))]);
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Exit status for pod@.service: [`EX_CONFIG`] when the pod cannot start as
/// defined, [`EX_FINISHED`] when its containers ended under `never` /
/// `on-failure` and some failed (the unit restarts neither), 1 otherwise
/// (it does: a lost sandbox, a failed init container).
fn exit_code(e: &anyhow::Error) -> u8 {
    use crate::supervise::supervisor::SupervisorError;
    let network_conflict = |n: &crate::net::NetError| n.is_conflict();
    let config = e.downcast_ref::<crate::spec::Diagnostics>().is_some()
        || e.downcast_ref::<crate::ids::IdsError>().is_some()
        || e.downcast_ref::<crate::net::NetError>()
            .is_some_and(network_conflict)
        || matches!(
            e.downcast_ref::<SupervisorError>(),
            Some(SupervisorError::Launch(
                crate::supervise::launch::LaunchError::Setup {
                    fault: crate::supervise::report::SetupFault::Definition,
                    ..
                }
            ))
        );
    if config {
        EX_CONFIG
    } else if matches!(
        e.downcast_ref::<SupervisorError>(),
        Some(SupervisorError::Finished(_) | SupervisorError::Evicted(_))
    ) {
        EX_FINISHED
    } else {
        1
    }
}

/// sysexits.h: configuration error; `RestartPreventExitStatus=78` in pod@.service.
pub const EX_CONFIG: u8 = 78;
/// Every container ended for good and some failed: the pod is finished, not
/// broken; `RestartPreventExitStatus=79` in pod@.service.
pub const EX_FINISHED: u8 = 79;

fn run(name: &str) -> anyhow::Result<()> {
    // Before any thread exists, so that every thread inherits the mask.
    block_signals().context("cannot block signals")?;
    crate::supervise::supervisor::memory::one_arena();
    // systemd is needed once the pod is planned: the connection is made
    // meanwhile, on a thread of its own (tens of ms under emulation).
    let mgr = crate::systemd::ondemand::OnDemand::from_env();
    mgr.connect_ahead();
    let paths = Layout::from_env();
    let file = paths.definition(name);
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let pod = crate::spec::parse_str(&text, &file.display().to_string(), name)?;
    if pod.name != name {
        bail!(
            "{} defines pod {:?}, not {name:?}",
            file.display(),
            pod.name
        );
    }
    // Images come from the store only: a pod at boot never needs the network.
    // Each image as the pod's newest revision pins it.
    let pins = paths.revisions_of(name).pins()?;
    let mut facts = crate::image::facts::stored(&paths.images, &pod, &pins)?;
    // The range apply allocated (allocated here for a pod file put in place
    // by hand): kept while the pod is stored.
    let ids = crate::ids::Allocate(&paths);
    facts.ids = crate::ids::IdSource::range(&ids, &pod)?;
    facts.user = crate::ids::IdSource::user(&ids)?;
    let plan = crate::plan::assemble(&pod, &facts);
    // The pod's addresses and ports, before any of its units exists: a port
    // taken is refused here, with nothing started (and what a supervisor
    // killed with -9 left is reclaimed). Torn down when `sup` goes.
    let network = session(&paths, &pod)?;
    let mut sup = Supervisor::new(&mgr, paths, plan, text)?
        .with_facts(facts)
        .with_network(network);
    if sup.start()? == Started::Stopped {
        tracing::info!("pod {name}: stopped during its start");
        return Ok(());
    }
    // Started: the connection to systemd goes until there is work again.
    mgr.idle();
    let count = pod.containers.len();
    tracing::info!("pod {name}: {count} containers running");
    let _ = sd_notify::notify(&[
        NotifyState::Ready,
        NotifyState::Status(&format!("{count} containers running")),
    ]);
    sup.run()?;
    Ok(())
}

/// The pod's network: netavark for root's pods; pasta for a user's pod on
/// a network (`none` and the host's need nothing of either).
fn session(
    paths: &Layout,
    pod: &crate::model::Pod,
) -> anyhow::Result<Box<dyn crate::net::session::Session>> {
    use crate::model::NetworkMode;
    if paths.owner.is_user() && pod.network.mode == NetworkMode::Bridge {
        let pasta = crate::net::pasta::Pasta::begin(
            paths.oci().net_files(&pod.name),
            &paths.host.proc,
            &pod.name,
            &pod.hostname,
            &pod.network,
        )?;
        return Ok(Box::new(pasta));
    }
    Ok(Box::new(crate::net::session::Netavark::begin(
        paths,
        &pod.name,
        &pod.hostname,
        &pod.network,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervise::supervisor::SupervisorError;

    #[test]
    fn finished_pod_exits_79_lost_sandbox_exits_1() {
        let finished =
            anyhow::Error::from(SupervisorError::Finished("failed: app exited 3".into()));
        assert_eq!(exit_code(&finished), EX_FINISHED);
        let lost = anyhow::Error::from(SupervisorError::SandboxLost("signal 9".into()));
        assert_eq!(exit_code(&lost), 1);
    }

    #[test]
    fn only_what_the_definition_makes_impossible_exits_78() {
        use crate::supervise::launch::LaunchError;
        use crate::supervise::report::SetupFault;
        let setup = |fault| {
            anyhow::Error::from(SupervisorError::Launch(LaunchError::Setup {
                container: "app".into(),
                fault,
                message: "x".into(),
            }))
        };
        assert_eq!(exit_code(&setup(SetupFault::Definition)), EX_CONFIG);
        assert_eq!(exit_code(&setup(SetupFault::Transient)), 1);
        let holder = anyhow::Error::from(SupervisorError::Holder(
            crate::supervise::holder::HolderError::Setup {
                pid: 7,
                detail: "killed (OOM)".into(),
            },
        ));
        assert_eq!(exit_code(&holder), 1);
    }
}
