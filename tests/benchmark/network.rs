//! In-guest networking measurements: what a bridge network adds
//! to apply and down (the same pod with `network = "bridge"` and `"none"`,
//! alternating in one boot), and throughput and latency over HTTP through a
//! published port against the pod's address directly. The scale section's
//! pods are bridge pods (the default), so it shows apply time over 100 of them.

use super::{POD_DIR, pod_file, podctl_down, podctl_up, rounds, say, timed};
use crate::report::Results;
use crate::rig::Guest;
use std::time::Duration;

/// Files the web pod serves.
const WWW: &str = "/var/lib/podctl-bench/www";
/// Transfers of the 100 MB file (large enough that a connection's setup
/// is lost in it: ~1 s under TCG), and small GETs, per path.
const BULK_ROUNDS: usize = 7;
const BULK_MIB: f64 = 100.0;
const GET_ROUNDS: usize = 20;
const PUBLISHED: u16 = 18300;
/// Bridge/none rounds: the difference is seconds, 5 rounds show it.
const NET_ROUNDS: usize = 5;

fn write(name: &str, text: &str) -> Result<(), String> {
    std::fs::write(format!("{POD_DIR}/{name}.toml"), text).map_err(|e| e.to_string())
}

pub(super) fn network(g: &Guest, r: &mut Results) -> Result<(), String> {
    for (mode, name) in [("bridge", "nbr"), ("none", "nno")] {
        write(name, &format!("network = \"{mode}\"\n{}", pod_file(name)))?;
    }
    let n = rounds(NET_ROUNDS);
    for round in 0..=n {
        for (mode, name) in [("bridge", "nbr"), ("none", "nno")] {
            let up = podctl_up(name)?;
            let (_, down) = podctl_down(name)?;
            if round > 0 {
                r.push(&format!("net.{mode}.apply"), up);
                r.push(&format!("net.{mode}.down"), down);
            }
            say(&format!(
                "network {round}/{n}: {mode} apply {up:.0} ms, down {down:.0} ms"
            ));
        }
    }

    g.ok(&format!(
        "mkdir -p {WWW} && head -c 100M /dev/zero > {WWW}/blob && echo x > {WWW}/small"
    ))?;
    let web = format!(
        "name = \"nweb\"\nnetwork = \"bridge\"\nports = [\"{PUBLISHED}:8080\"]\n\
         [containers.app]\ncommand = [\"python3\", \"-m\", \"http.server\", \"8080\", \"--directory\", \"{WWW}\"]\n\
         ready = {{ http = \"http://127.0.0.1:8080/small\", interval = \"200ms\" }}\n\
         [containers.sidecar]\ncommand = [\"/bin/sleep\", \"inf\"]\n"
    );
    write("nweb", &web)?;
    podctl_up("nweb")?;
    let (_, st) = timed(
        &["podctl", "status", "nweb", "--json"],
        Duration::from_secs(30),
    )?;
    let st: serde_json::Value = serde_json::from_str(&st).map_err(|e| e.to_string())?;
    let ip = st["network"]["addresses"][0]["ip"]
        .as_str()
        .ok_or_else(|| format!("nweb has no address: {st}"))?
        .to_string();
    let paths = [
        ("port", format!("http://127.0.0.1:{PUBLISHED}")),
        ("direct", format!("http://{ip}:8080")),
    ];
    // Alternating, so that a change in the machine's load (TCG, shared
    // cores) hits both paths alike.
    for _ in 0..BULK_ROUNDS {
        for (what, base) in &paths {
            let ms = curl_ms(&format!("{base}/blob"))?;
            r.push(&format!("net.{what}.100mb"), ms);
            r.push(&format!("net.{what}.mibps"), BULK_MIB * 1000.0 / ms);
            say(&format!("network: 100 MiB via {what} in {ms:.0} ms"));
        }
    }
    for _ in 0..GET_ROUNDS {
        for (what, base) in &paths {
            r.push(
                &format!("net.{what}.get"),
                curl_ms(&format!("{base}/small"))?,
            );
        }
    }
    podctl_down("nweb")?;
    g.ok(&format!("rm -rf {WWW}"))?;
    Ok(())
}

/// curl's total time for GET `url`, in ms (the body is discarded).
fn curl_ms(url: &str) -> Result<f64, String> {
    let (_, out) = timed(
        &["curl", "-sf", "-o", "/dev/null", "-w", "%{time_total}", url],
        Duration::from_secs(300),
    )?;
    out.trim()
        .parse::<f64>()
        .map(|s| s * 1000.0)
        .map_err(|_| format!("curl {url}: {out:?}"))
}
