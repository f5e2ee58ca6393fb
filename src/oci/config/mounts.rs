//! The mounts of a container's config, in the order the module above
//! describes: root, kernel filesystems, podctl's own, then the volumes.

use super::{Context, notify_socket};
use crate::model::VolumeSource;
use crate::model::defaults;
use crate::oci::container::Container;
use crate::plan::NsKind;
use oci_spec::runtime::Mount;
use std::path::{Path, PathBuf};

fn mount(dest: &str, typ: &str, source: &Path, options: &[&str]) -> Mount {
    let mut m = Mount::default();
    m.set_destination(PathBuf::from(dest));
    m.set_typ(Some(typ.to_string()));
    m.set_source(Some(source.to_path_buf()));
    m.set_options(Some(options.iter().map(|o| o.to_string()).collect()));
    m
}

/// A host top-level directory: read-only, no setuid, no device files, for
/// every mount under it too (`/boot/efi`, `/var/log/...`, `/srv/x`): the
/// plain flags apply to the top mount only. The recursive forms need
/// mount_setattr (Linux 5.12; crun 1.8, runc 1.1).
const HOST_ROOT_OPTIONS: [&str; 7] = ["rbind", "ro", "nosuid", "nodev", "rro", "rnosuid", "rnodev"];

/// A volume's bind mount options: `ro` ones read-only down to their
/// submounts, every one without setuid or device files down to them.
fn bind_options(read_only: bool) -> Vec<&'static str> {
    if read_only {
        vec!["rbind", "nosuid", "nodev", "ro", "rro", "rnosuid", "rnodev"]
    } else {
        vec!["rbind", "nosuid", "nodev", "rw", "rnosuid", "rnodev"]
    }
}

pub(super) fn mounts(c: &Container, ctx: &Context<'_>) -> Vec<Mount> {
    let s = &c.security;
    let ipc_of_host = !c.joins.contains(&NsKind::Ipc) && !c.creates.contains(&NsKind::Ipc);
    let mut out = Vec::new();
    // 1. The host's root, read-only, without setuid or device files (an
    // image container's root is its overlay: nothing of the host's).
    let host_root = if c.image.is_some() {
        &[][..]
    } else {
        ctx.host_root
    };
    for dir in host_root {
        let dest = format!("/{dir}");
        out.push(mount(&dest, "bind", Path::new(&dest), &HOST_ROOT_OPTIONS));
    }
    // 2. Kernel filesystems and /dev.
    out.push(mount(
        "/proc",
        "proc",
        Path::new("proc"),
        &["nosuid", "noexec", "nodev"],
    ));
    if s.privileged {
        out.push(mount(
            "/dev",
            "bind",
            Path::new("/dev"),
            &["rbind", "nosuid"],
        ));
    } else {
        // nodev: a node made in /dev (with CAP_MKNOD) cannot be opened,
        // even where no device cgroup applies (crun without a cgroup
        // manager, a cgroup v1 guest). The standard nodes are binds of the
        // host's, each its own mount, so they still open.
        out.push(mount(
            "/dev",
            "tmpfs",
            Path::new("tmpfs"),
            &["nosuid", "nodev", "strictatime", "mode=755", "size=65536k"],
        ));
        for &(path, _, _) in &defaults::DEVICES {
            out.push(mount(
                path,
                "bind",
                Path::new(path),
                &["bind", "nosuid", "noexec"],
            ));
        }
    }
    out.push(mount(
        "/dev/pts",
        "devpts",
        Path::new("devpts"),
        &[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ],
    ));
    out.push(mount(
        "/dev/shm",
        "bind",
        ctx.shm,
        &["rbind", "nosuid", "nodev", "noexec"],
    ));
    if !ipc_of_host {
        out.push(mount(
            "/dev/mqueue",
            "mqueue",
            Path::new("mqueue"),
            &["nosuid", "noexec", "nodev"],
        ));
    }
    let sys_access = if s.privileged { "rw" } else { "ro" };
    out.push(mount(
        "/sys",
        "sysfs",
        Path::new("sysfs"),
        &["nosuid", "noexec", "nodev", sys_access],
    ));
    out.push(mount(
        "/sys/fs/cgroup",
        "cgroup",
        Path::new("cgroup"),
        &["nosuid", "noexec", "nodev", "relatime", sys_access],
    ));
    // 3. Private /tmp and /run; the init; the notify socket.
    let tmp_access = if s.read_only { "ro" } else { "rw" };
    out.push(mount(
        "/tmp",
        "tmpfs",
        Path::new("tmpfs"),
        &[
            "nosuid",
            "nodev",
            "mode=1777",
            defaults::TMP_SIZE,
            tmp_access,
        ],
    ));
    out.push(mount(
        "/run",
        "tmpfs",
        Path::new("tmpfs"),
        &["nosuid", "nodev", "mode=755", defaults::TMP_SIZE],
    ));
    out.push(mount(
        defaults::INIT_PATH,
        "bind",
        ctx.init,
        &["bind", "ro", "nosuid", "nodev"],
    ));
    if let Some(sock) = notify_socket(c, ctx) {
        let dest = sock.to_string_lossy();
        out.push(mount(
            &dest,
            "bind",
            sock,
            &["bind", "nosuid", "nodev", "noexec"],
        ));
    }
    // The pod network's /etc files, before the volumes (which may cover them).
    // Not idmapped in a user namespace: read-only, and readable by anyone.
    for f in &c.etc_files {
        out.push(mount(
            &f.target,
            "bind",
            &f.host_path(ctx.net_files),
            &["bind", "ro", "nosuid", "nodev", "noexec"],
        ));
    }
    // Secrets, read-only, at their targets (by default where Podman and
    // Docker put them). Not idmapped: the files are the container user's
    // mapped IDs already. One inside a volume is mounted after the volumes
    // (over the volume, which would hide it).
    let secret = |i: usize, f: &crate::model::SecretFile| {
        ctx.secrets.map(|p| {
            mount(
                &f.target,
                "bind",
                &p.dir.join(f.host_file(i)),
                &["bind", "ro", "nosuid", "nodev", "noexec"],
            )
        })
    };
    let under = |f: &crate::model::SecretFile, v: &crate::model::Volume| {
        let base = v.target.trim_end_matches('/');
        f.target
            .strip_prefix(base)
            .is_some_and(|r| r.starts_with('/'))
    };
    let in_volume = |f: &crate::model::SecretFile| c.volumes.iter().any(|v| under(f, v));
    let (inside, outside): (Vec<_>, Vec<_>) = c
        .secrets
        .files
        .iter()
        .enumerate()
        .partition(|(_, f)| in_volume(f));
    out.extend(outside.into_iter().filter_map(|(i, f)| secret(i, f)));
    // 4. Volumes. In a user namespace, bind and named volumes come from
    // their idmapped attachments in the bundle (the container helper made
    // them); scratch volumes are the namespace root's, tmpfs ones 1777.
    let idmapped = |i| {
        c.userns
            .map(|_| crate::mount::idmapped_volume(ctx.rootfs, i))
    };
    for (i, v) in c.volumes.iter().enumerate() {
        let access = if v.read_only { "ro" } else { "rw" };
        // A bind of a host directory (or of its idmapped attachment) is a
        // peer of the host's mount: one a secret is mounted in is made
        // private first, so that the secret is not mounted on the host too.
        let mut binds = bind_options(v.read_only);
        if c.secrets.files.iter().any(|f| under(f, v)) {
            binds.push("rprivate");
        }
        let m = match &v.source {
            VolumeSource::Bind(p) => mount(
                &v.target,
                "bind",
                &idmapped(i).unwrap_or_else(|| PathBuf::from(p)),
                &binds,
            ),
            VolumeSource::Named(n) => mount(
                &v.target,
                "bind",
                &idmapped(i).unwrap_or_else(|| ctx.volumes.join(n)),
                &binds,
            ),
            VolumeSource::Scratch(n) => mount(&v.target, "bind", &ctx.scratch.join(n), &binds),
            VolumeSource::Tmpfs(size) => {
                let size = size.map(|n| format!("size={n}"));
                let mut opts = vec!["nosuid", "nodev", "mode=1777", access];
                if let Some(sz) = &size {
                    opts.push(sz);
                }
                mount(&v.target, "tmpfs", Path::new("tmpfs"), &opts)
            }
        };
        out.push(m);
    }
    out.extend(inside.into_iter().filter_map(|(i, f)| secret(i, f)));
    out
}
