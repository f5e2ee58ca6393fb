use super::*;

use crate::mount::fake::{Mount, Mounts};

#[test]
fn shm_and_scratch_once_per_pod_and_gone_after_teardown() {
    let tmp = std::env::temp_dir().join(format!("podctl-podmnt-{}", std::process::id()));
    let dirs = dirs_in(&tmp);
    let pod = crate::spec::parse_str(
        "shm_size = \"16M\"\n[volumes]\nfast = { size = \"8M\" }\ndisk = {}\n\
         [containers.a]\ncommand = [\"true\"]\nvolumes = [\"fast:/f\", \"disk:/d\", \"keep:/k\"]\n\
         [containers.b]\ncommand = [\"true\"]\nvolumes = [\"fast:/f\"]\n",
        "t.toml",
        "p",
    )
    .unwrap();
    let plan = crate::plan::build(&pod);
    let m = Mounts::new();
    for c in &plan.containers {
        ensure(&Container::from_plan(&plan, c), &dirs, &m).unwrap();
    }
    // One shm of 16M and one tmpfs scratch for both containers.
    let tmpfs = |size, noexec| Mount::Tmpfs { size, noexec };
    assert_eq!(
        m.mounted(),
        [
            (dirs.shm("p"), tmpfs(16 << 20, true)),
            (dirs.scratch("p").join("fast"), tmpfs(8 << 20, false))
        ]
    );
    assert!(dirs.scratch("p").join("disk").is_dir());
    std::fs::create_dir_all(dirs.volumes().join("keep")).unwrap();
    assert!(teardown("p", &dirs, &m).is_empty());
    assert!(m.mounted().is_empty());
    assert!(!dirs.scratch("p").exists() && !dirs.pod("p").exists());
    assert!(dirs.volumes().join("keep").is_dir(), "named volumes stay");
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn in_a_user_namespace_scratch_on_disk_is_the_namespace_roots() {
    let tmp = std::env::temp_dir().join(format!("podctl-podns-{}", std::process::id()));
    let dirs = dirs_in(&tmp);
    let pod = |userns: &str| scratch_pod(userns);
    let m = Mounts::new();
    ensure(
        &pod("userns = { uid = 200000, gid = 300000, size = 65536 }\n"),
        &dirs,
        &m,
    )
    .unwrap();
    let disk = dirs.scratch("p").join("disk");
    let chowns: Vec<String> = m
        .log()
        .into_iter()
        .filter(|l| l.starts_with("chown"))
        .collect();
    assert_eq!(chowns, [format!("chown {} 200000:300000", disk.display())]);
    // The host's user namespace: nothing given away.
    let m = Mounts::new();
    ensure(&pod(""), &dirs, &m).unwrap();
    assert!(
        !m.log().iter().any(|l| l.starts_with("chown")),
        "{:?}",
        m.log()
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn teardown_detaches_idmapped_attachments_before_removing() {
    let tmp = std::env::temp_dir().join(format!("podctl-podidm-{}", std::process::id()));
    let dirs = dirs_in(&tmp);
    let map = crate::model::IdMap {
        uid: 200_000,
        gid: 200_000,
        size: 65_536,
    };
    let volume = crate::mount::idmapped_volume(&dirs.bundle("web.app").join("rootfs"), 0);
    let layer = dirs.containers().join("web/app/lower/0");
    for at in [&volume, &layer] {
        std::fs::create_dir_all(at).unwrap();
    }
    let m = Mounts::new();
    m.idmapped_bind(&dirs.volumes().join("data"), &volume, map)
        .unwrap();
    m.idmapped_bind(Path::new("/s/layers/a"), &layer, map)
        .unwrap();
    assert!(teardown("web", &dirs, &m).is_empty());
    assert!(m.idmapped().is_empty(), "{:?}", m.idmapped());
    assert!(!dirs.bundle("web.app").exists());
    assert!(!dirs.containers().join("web").exists());
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn teardown_removes_the_pods_bundles_runtime_logs_and_state_only() {
    let tmp = std::env::temp_dir().join(format!("podctl-teardown-{}", std::process::id()));
    let dirs = Dirs {
        run: tmp.clone(),
        lib: tmp.join("lib"),
        net: tmp.join("net"),
    };
    let state = tmp.join("oci-state");
    std::fs::create_dir_all(state.join("crun/web.app")).unwrap();
    std::fs::write(state.join("crun/web.app/status"), "").unwrap();
    std::fs::create_dir_all(state.join("crun/webx.app")).unwrap();
    std::fs::create_dir_all(dirs.bundle("web.app")).unwrap();
    let upper = dirs.containers().join("web/app/upper");
    std::fs::create_dir_all(&upper).unwrap();
    std::fs::create_dir_all(dirs.containers().join("webx/app/upper")).unwrap();
    for f in ["web.app.log", "web.sidecar.log", "webx.app.log"] {
        std::fs::write(state.join(f), "").unwrap();
    }
    let left = teardown("web", &dirs, &Mounts::new());
    assert!(left.is_empty(), "{left:?}");
    assert!(!dirs.bundle("web.app").exists());
    assert!(!dirs.containers().join("web").exists(), "upper layers");
    assert!(dirs.containers().join("webx/app/upper").is_dir());
    assert!(!state.join("web.app.log").exists());
    assert!(!state.join("web.sidecar.log").exists());
    assert!(state.join("webx.app.log").exists(), "another pod's log");
    assert!(
        !state.join("crun/web.app").exists(),
        "the runtime's state of web.app"
    );
    assert!(
        state.join("crun/webx.app").is_dir(),
        "another pod's runtime state"
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn fs_group_gives_scratch_volumes_the_group_through_the_mapping() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = std::env::temp_dir().join(format!("podctl-podfsg-{}", std::process::id()));
    let dirs = dirs_in(&tmp);
    let pod = |userns: &str| scratch_pod(&format!("fs_group = 2000\n{userns}"));
    let chowns = |m: &Mounts| -> Vec<String> {
        m.log()
            .into_iter()
            .filter(|l| l.starts_with("chown"))
            .collect()
    };
    let (disk, fast) = (
        dirs.scratch("p").join("disk"),
        dirs.scratch("p").join("fast"),
    );
    let m = Mounts::new();
    ensure(
        &pod("userns = { uid = 200000, gid = 300000, size = 65536 }\n"),
        &dirs,
        &m,
    )
    .unwrap();
    // Host GID 302000 is 2000 in the pod's user namespace.
    assert_eq!(
        chowns(&m),
        [
            format!("chown {} 200000:302000", disk.display()),
            format!("chown {} 200000:302000", fast.display())
        ]
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&disk), 0o2775);
    assert_eq!(mode(&fast), 0o3777);
    // The host's user namespace: the group as written.
    std::fs::remove_dir_all(&tmp).unwrap();
    let m = Mounts::new();
    ensure(&pod("userns = \"host\"\n"), &dirs, &m).unwrap();
    assert_eq!(
        chowns(&m),
        [
            format!("chown {} 0:2000", disk.display()),
            format!("chown {} 0:2000", fast.display())
        ]
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// A test's directories under `tmp`.
fn dirs_in(tmp: &std::path::Path) -> Dirs {
    Dirs {
        run: tmp.join("run"),
        lib: tmp.join("lib"),
        net: tmp.join("run").join("net"),
    }
}

/// The container of a pod with a tmpfs and an on-disk scratch volume,
/// `top` (top-level keys) first.
fn scratch_pod(top: &str) -> Container {
    let toml = format!(
        "{top}[volumes]\nfast = {{ size = \"8M\" }}\ndisk = {{}}\n\
         [containers.a]\nimage = \"x:1\"\nvolumes = [\"fast:/f\", \"disk:/d\"]\n"
    );
    let plan = crate::plan::build(&crate::spec::parse_str(&toml, "t.toml", "p").unwrap());
    Container::from_plan(&plan, &plan.containers[0])
}
