//! One supervisor run's network: what `podctl up` holds from before the
//! pod's units exist until it exits. The supervisor sees it as a
//! [`Session`]: [`Netavark`] on a host, those of [`fake::FakeNetwork`] in tests.
//! [`Netavark::begin`] reserves (and reclaims what dead supervisors left),
//! [`Session::attach`] sets the network up on the holder's namespace,
//! [`Netavark::end`] (or the drop) tears it down. A supervisor that never
//! gets that far (kill -9) leaves an entry whose owner is dead: the next
//! `begin` of any pod reclaims it.

pub mod fake;

use super::NetError;
use super::attach::{Attached, PodNet};
use super::host::Engine;
use super::ipam::{Liveness, Owner};
use crate::layout::Layout;
use crate::model::{NetworkMode, PodNetwork};
use std::path::PathBuf;

/// What the supervisor does with its pod's network, reserved before it
/// was made. Dropped, a session tears the network down and releases what
/// was reserved.
pub trait Session {
    /// Sets the network up on the namespace of `holder_pid` (nothing for a
    /// pod without a bridge network), before any container starts.
    fn attach(&mut self, holder_pid: u32) -> Result<(), NetError>;
}

/// The networking of one pod for this process's lifetime, through netavark.
pub struct Netavark {
    /// Where the networks' definitions, allocations and files are.
    paths: Layout,
    pod: String,
    hostname: String,
    spec: PodNetwork,
    host: Engine,
    attached: Option<Attached>,
    ended: bool,
}

impl Netavark {
    /// Step 1 (see [`PodNet::reserve`]), as this process, with the
    /// networks of `paths`.
    pub fn begin(
        paths: &Layout,
        pod: &str,
        hostname: &str,
        spec: &PodNetwork,
    ) -> Result<Netavark, NetError> {
        let host = Engine::default();
        let owner = Owner::current().map_err(|source| NetError::Store {
            path: "/proc/self".into(),
            source,
        })?;
        let live = Liveness::now();
        PodNet::new(&host, paths).reserve(pod, spec, &owner, |o| live.alive(o))?;
        Ok(Netavark {
            paths: paths.clone(),
            pod: pod.to_string(),
            hostname: hostname.to_string(),
            spec: spec.clone(),
            host,
            attached: None,
            ended: false,
        })
    }

    /// Whether the pod has a bridge network to set up.
    pub fn bridged(&self) -> bool {
        self.spec.mode == NetworkMode::Bridge
    }

    /// The generated `/etc/hosts` and `/etc/resolv.conf`, once attached.
    pub fn etc_files(&self) -> Vec<(PathBuf, &'static str)> {
        match &self.attached {
            Some(at) => vec![
                (at.hosts.clone(), "/etc/hosts"),
                (at.resolv_conf.clone(), "/etc/resolv.conf"),
            ],
            None => Vec::new(),
        }
    }

    /// Step 3: tears the pod's network down and releases its entry (for a
    /// pod on the host's network: removes the resolv.conf it was given).
    pub fn end(&mut self) -> Result<(), NetError> {
        self.ended = true;
        self.attached = None;
        if !self.bridged() && self.spec.writes_resolv_conf() {
            let _ = std::fs::remove_dir_all(self.paths.oci().net_files(&self.pod));
        }
        PodNet::new(&self.host, &self.paths).detach(&self.pod)
    }
}

impl Session for Netavark {
    /// Step 2, on the namespace of `holder_pid` (for a pod without a bridge
    /// network, only its resolv.conf if it has one of its own).
    fn attach(&mut self, holder_pid: u32) -> Result<(), NetError> {
        if !self.bridged() {
            // The host's network: a resolv.conf of its own when the pod
            // says more than the host's file.
            PodNet::new(&self.host, &self.paths).write_host_resolv_conf(&self.pod, &self.spec)?;
            return Ok(());
        }
        let at = PodNet::new(&self.host, &self.paths).attach(
            &self.pod,
            &self.hostname,
            &self.spec,
            holder_pid,
        )?;
        let ips: Vec<String> = at
            .addresses
            .iter()
            .map(|a| format!("{} on {}", a.ip, a.network))
            .collect();
        tracing::info!("pod {}: network up: {}", self.pod, ips.join(", "));
        self.attached = Some(at);
        Ok(())
    }
}

impl Drop for Netavark {
    /// The supervisor going (or a run that returns early) tears the network
    /// down and releases what was reserved, unless [`Netavark::end`] did.
    fn drop(&mut self) {
        if !self.ended
            && let Err(e) = self.end()
        {
            tracing::warn!(
                "pod {}: network teardown: {}",
                self.pod,
                crate::error_chain(&e)
            );
        }
    }
}
