//! Native pods: the VM's in-guest sections that compare podctl with the
//! floor (`floor`, `podctl`, `overhead`, `images`, `imagepod`: guest.rs)
//! run again in the container tier's nspawn guest, where times are real (no
//! TCG). The benchmark binary runs there as the VM runs it
//! (`/opt/podctl-test/pods --in-guest`, a service of the guest's systemd),
//! with the same pods, bundles and overlay mounts; its results come back
//! under `native.pod.*`. The guest has no Podman (the container root does
//! not carry it), so Podman's rows are the VM's only; the guest's systemd
//! has no cgroup controllers, so limits are written but not enforced, for
//! the floor and podctl alike.

use super::report::{Results, Stats};
use super::rig::Guest;
use super::rig::nspawn::{Bind, Container, podctl_binds_from};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// The sections run natively (setup always runs).
const SECTIONS: &str = "floor,podctl,overhead,images,imagepod";
/// Rounds per timed loop (real time is cheap; more rounds, steadier p50s).
const ROUNDS: usize = 15;
/// Bounds the whole in-guest run.
const LIMIT: Duration = Duration::from_secs(3600);
/// Prefix of every key this section adds.
pub const PREFIX: &str = "native.pod.";

pub fn run(r: &mut Results) -> Result<(), String> {
    let root = super::rig::cache::container_root()?;
    let exe = std::env::current_exe().map_err(|e| format!("finding this binary: {e}"))?;
    let conf =
        std::env::temp_dir().join(format!("podctl-bench-native-{}.conf", std::process::id()));
    let var = |k: &str, default: String| std::env::var(k).unwrap_or(default);
    let text = format!(
        "sections={}\nrounds={}\n",
        var("PODCTL_BENCH_NATIVE_SECTIONS", SECTIONS.into()),
        var("PODCTL_BENCH_NATIVE_ROUNDS", ROUNDS.to_string()),
    );
    std::fs::write(&conf, text).map_err(|e| format!("writing {}: {e}", conf.display()))?;
    let mut binds = podctl_binds_from(
        Path::new(env!("CARGO_BIN_EXE_podctl")),
        Path::new(env!("CARGO_BIN_EXE_podctl-pause")),
    );
    binds.push(Bind {
        host: exe,
        guest: "/opt/podctl-test/pods",
    });
    binds.push(Bind {
        host: conf.clone(),
        guest: super::guest::CONF,
    });
    let container = Container::boot_named(
        &root,
        &binds,
        &format!("podctl-bench-pods-{}", std::process::id()),
    )?;
    let result = measure(&container.guest(), r);
    let down = container.shutdown();
    let _ = std::fs::remove_file(&conf);
    result.and(down)
}

fn measure(g: &Guest, r: &mut Results) -> Result<(), String> {
    // The guest's root is an overlayfs (`--volatile=overlay`), which cannot
    // be an overlay's upper layer: podctl's store and the floor's bundles go
    // on tmpfs (the VM's are on its ext4 disk).
    g.ok(
        "mkdir -p /var/lib/podctl-test /var/lib/podctl /var/lib/podctl-bench && \
          mount -t tmpfs -o mode=0700 tmpfs /var/lib/podctl && \
          mount -t tmpfs tmpfs /var/lib/podctl-bench",
    )?;
    // A service of the guest's systemd, as podctl-bench.service in the VM:
    // the floor's `systemd-run --scope` moves its caller into the scope,
    // which systemd does only for a process inside the guest's cgroups.
    let out = g.sh_timeout(
        "systemd-run --unit=podctl-bench --wait --quiet --collect \
         -p StandardOutput=journal -p StandardError=journal /opt/podctl-test/pods --in-guest",
        LIMIT,
    );
    let text = g.sh(&format!("cat {}", super::guest::RESULTS)).stdout;
    if text.is_empty() {
        let log = g
            .sh("journalctl -u podctl-bench --no-pager | tail -40")
            .stdout;
        return Err(format!(
            "the native guest wrote no results (systemd-run: {} {}):\n{log}",
            out.status, out.stderr
        ));
    }
    let guest: Results = serde_json::from_str(&text)
        .map_err(|e| format!("bad {} from the native guest: {e}", super::guest::RESULTS))?;
    for (k, v) in guest.series {
        r.series.insert(format!("{PREFIX}{k}"), v);
    }
    for (k, v) in guest.values {
        r.values.insert(format!("{PREFIX}{k}"), v);
    }
    for (k, v) in guest.machine {
        r.machine.insert(format!("{PREFIX}{k}"), v);
    }
    r.notes.push(
        "native pods: the nspawn guest's cgroups are the host's hybrid layout (systemd's in the v2 `unified` \
         hierarchy, no controllers): podctl runs crun with --cgroup-manager=disabled there, each container \
         staying in its scope, and so does the floor; podctl's store and the floor's bundles are on tmpfs"
            .into(),
    );
    r.notes
        .extend(guest.notes.into_iter().map(|n| format!("native pods: {n}")));
    r.errors.extend(
        guest
            .errors
            .into_iter()
            .map(|e| format!("native pods: {e}")),
    );
    Ok(())
}

/// The native rows, p50 and p90 against the floor's p50, when they ran.
pub fn table(out: &mut String, r: &Results) {
    if !r.series.keys().any(|k| k.starts_with(PREFIX)) {
        return;
    }
    let stats = |k: &str| Stats::of(r.series.get(&format!("{PREFIX}{k}"))?);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<60} {:>4} {:>9} {:>9} {:>8}",
        "native (nspawn, real time), network none (ms)", "n", "p50", "p90", "x floor"
    );
    let groups: [(&str, &[(&str, &str)]); 6] = [
        (
            "floor.up",
            &[
                ("two-container pod: floor up", "floor.up"),
                ("  podctl apply", "podctl.apply"),
            ],
        ),
        (
            "floor.down",
            &[
                ("two-container pod: floor down", "floor.down"),
                ("  podctl down, until nothing left", "podctl.down"),
            ],
        ),
        (
            "floor.term.up",
            &[
                ("commands ignore SIGTERM: floor up", "floor.term.up"),
                ("  podctl apply", "podctl.term.apply"),
            ],
        ),
        (
            "floor.term.down",
            &[
                ("commands ignore SIGTERM: floor down", "floor.term.down"),
                ("  podctl down", "podctl.term.down"),
            ],
        ),
        (
            "image.floor.up",
            &[
                (
                    "image pod: floor up (overlays + crun run)",
                    "image.floor.up",
                ),
                ("  podctl apply, userns = \"host\"", "image.podctl.apply"),
                ("  podctl apply, userns = \"auto\"", "image.userns.apply"),
            ],
        ),
        (
            "image.floor.down",
            &[
                (
                    "image pod: floor down (overlays unmounted)",
                    "image.floor.down",
                ),
                ("  podctl down, userns = \"host\"", "image.podctl.down"),
                ("  podctl down, userns = \"auto\"", "image.userns.down"),
            ],
        ),
    ];
    for (base, rows) in groups {
        let base = stats(base).map(|s| s.p50);
        for (label, key) in rows {
            let Some(s) = stats(key) else {
                let _ = writeln!(out, "{label:<60} {:>4} {:>9}", 0, "(no data)");
                continue;
            };
            let ratio = base.map_or(String::new(), |b| format!("{:.2}x", s.p50 / b));
            let _ = writeln!(
                out,
                "{label:<60} {:>4} {:>9.1} {:>9.1} {:>8}",
                s.n, s.p50, s.p90, ratio
            );
        }
    }
    if let (Some(pull), Some(skopeo)) = (stats("images.podctl.pull"), stats("images.skopeo")) {
        let bytes = r.values.get(&format!("{PREFIX}images.bytes")).copied();
        let mibps = |ms: f64| bytes.map_or(0.0, |b| b / 1048576.0 / (ms / 1000.0));
        let _ = writeln!(
            out,
            "{:<60} {:>4} {:>9.1} {:>9.1} {:>8}",
            "pull ~50 MB: skopeo copy, ms", skopeo.n, skopeo.p50, skopeo.p90, ""
        );
        let _ = writeln!(
            out,
            "{:<60} {:>4} {:>9.1} {:>9.1} {:>8}",
            "  podctl pull, ms",
            pull.n,
            pull.p50,
            pull.p90,
            format!("{:.2}x", pull.p50 / skopeo.p50)
        );
        let _ = writeln!(
            out,
            "{:<60} {:>4} {:>9.1} {:>9.1}",
            "  throughput skopeo / podctl, MiB/s (p50)",
            "",
            mibps(skopeo.p50),
            mibps(pull.p50)
        );
    }
    if let Some(pss) = r.values.get(&format!("{PREFIX}podctl.overhead.pss")) {
        let v = |k: &str| r.values.get(&format!("{PREFIX}podctl.{k}.pss")).copied();
        let _ = writeln!(
            out,
            "{:<60} {:>14}",
            "one pod's overhead PSS (supervisor + holder + relays)",
            format!("{:.2} MiB", pss / 1048576.0)
        );
        let _ = writeln!(
            out,
            "  supervisor / holder / relays: {:.0} / {:.0} / {:.0} KiB",
            v("supervisor").unwrap_or(0.0) / 1024.0,
            v("holder").unwrap_or(0.0) / 1024.0,
            v("relays").unwrap_or(0.0) / 1024.0
        );
    }
}
