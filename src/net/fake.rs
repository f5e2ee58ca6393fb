//! A [`Network`] that records calls and touches only files, for tests.

use super::netavark::Status;
use super::{NetError, Network};
use crate::model::ports::PortMapping;
use std::cell::RefCell;
use std::net::Ipv4Addr;
use std::path::Path;

#[derive(Debug, Default)]
pub struct Fake {
    /// `pin PID PATH`, `setup POD`, `teardown POD`, `unpin PATH`, in order.
    pub calls: RefCell<Vec<String>>,
    /// Host ports in use, with the user named in errors.
    pub busy: Vec<(u16, String)>,
    /// Make the next setup fail with this message.
    pub fail_setup: RefCell<Option<String>>,
}

impl Fake {
    pub fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }

    fn record(&self, call: String) {
        self.calls.borrow_mut().push(call);
    }
}

fn pod(options: &serde_json::Value) -> String {
    options["container_name"]
        .as_str()
        .unwrap_or("?")
        .to_string()
}

impl Network for Fake {
    fn pin(&self, holder_pid: u32, pin: &Path) -> Result<(), NetError> {
        self.record(format!("pin {holder_pid} {}", pin.display()));
        if let Some(d) = pin.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        std::fs::write(pin, b"").map_err(|source| NetError::Pin {
            path: pin.into(),
            source,
        })
    }

    fn unpin(&self, pin: &Path) -> Result<(), NetError> {
        self.record(format!("unpin {}", pin.display()));
        let _ = std::fs::remove_file(pin);
        Ok(())
    }

    fn setup(&self, _netns: &Path, options: &serde_json::Value) -> Result<Status, NetError> {
        self.record(format!("setup {}", pod(options)));
        if let Some(detail) = self.fail_setup.borrow_mut().take() {
            return Err(NetError::Engine {
                command: "fake setup".into(),
                detail,
            });
        }
        let mut st = Status::default();
        for (net, o) in options["networks"].as_object().into_iter().flatten() {
            let ip: Ipv4Addr = o["static_ips"][0]
                .as_str()
                .unwrap_or("0.0.0.0")
                .parse()
                .unwrap_or(Ipv4Addr::UNSPECIFIED);
            st.addresses.push((net.clone(), ip));
            let info = &options["network_info"][net];
            if info["dns_enabled"] == true
                && let Some(gw) = info["subnets"][0]["gateway"]
                    .as_str()
                    .and_then(|g| g.parse().ok())
            {
                st.dns_servers.push(gw);
            }
        }
        Ok(st)
    }

    fn teardown(&self, _netns: &Path, options: &serde_json::Value) -> Result<(), NetError> {
        self.record(format!("teardown {}", pod(options)));
        Ok(())
    }

    fn host_port_user(&self, m: &PortMapping) -> Option<String> {
        self.busy
            .iter()
            .find(|(p, _)| m.host_ports().contains(p))
            .map(|(p, who)| format!("{p}/{} is in use on the host by {who}", m.protocol))
    }
}
