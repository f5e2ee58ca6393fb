use super::*;

#[test]
fn the_rootfs_mirrors_the_host_top_level() {
    let tmp = std::env::temp_dir().join(format!("podctl-bundle-{}", std::process::id()));
    let host = tmp.join("host");
    for d in ["usr", "etc", "proc", "tmp", "run"] {
        std::fs::create_dir_all(host.join(d)).unwrap();
    }
    std::os::unix::fs::symlink("usr/bin", host.join("bin")).unwrap();
    std::fs::write(host.join("file"), "").unwrap();
    let h = read_host_root(&host, false).unwrap();
    assert_eq!(h.dirs, ["etc", "usr"]);
    assert_eq!(h.links, [("bin".to_string(), PathBuf::from("usr/bin"))]);
    let bundle = tmp.join("b");
    let m = crate::mount::fake::Mounts::new();
    write(&bundle, &h, "{}", &m).unwrap();
    write(&bundle, &h, "{}", &m).unwrap(); // again: made afresh
    assert!(bundle.join("rootfs/usr").is_dir());
    assert_eq!(
        std::fs::read_link(bundle.join("rootfs/bin")).unwrap(),
        PathBuf::from("usr/bin")
    );
    assert_eq!(
        std::fs::read_to_string(bundle.join("config.json")).unwrap(),
        "{}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(bundle.join("config.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "config.json holds secrets: root's only"
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn a_missing_bind_source_is_named() {
    let pod = crate::spec::parse_str(
        "[containers.app]\ncommand = [\"true\"]\nvolumes = [\"/nonexistent/www:/www:ro\"]\n",
        "t.toml",
        "t",
    )
    .unwrap();
    let plan = crate::plan::build(&pod);
    let c = Container::from_plan(&plan, &plan.containers[0]);
    assert_eq!(
        check_sources(&c).unwrap_err().to_string(),
        "container app: the host path /nonexistent/www of volume /www does not exist (create it, or fix `volumes`)"
    );
}

const MAP: IdMap = IdMap {
    uid: 200_000,
    gid: 300_000,
    size: 65_536,
};

/// A container of a pod in a user namespace: bind mounts of a host
/// directory and file, a named volume, a scratch volume and a tmpfs.
fn userns_container(host: &Path) -> Container {
    let toml = format!(
        "userns = {{ uid = 200000, gid = 300000, size = 65536 }}\n\
         [volumes]\ndisk = {{}}\n\
         [containers.app]\nimage = \"x:1\"\nvolumes = [\"{www}:/www\", \"{conf}:/conf:ro\", \
         \"data:/data\", \"disk:/d\", \"tmpfs:/t\"]\n",
        www = host.join("www").display(),
        conf = host.join("conf").display(),
    );
    let pod = crate::spec::parse_str(&toml, "t.toml", "p").unwrap();
    let plan = crate::plan::build(&pod);
    let c = Container::from_plan(&plan, &plan.containers[0]);
    assert_eq!(c.userns, Some(MAP));
    c
}

#[test]
fn in_a_user_namespace_volumes_are_attached_idmapped_in_the_bundle() {
    use crate::mount::fake::{Idmapped, Mounts};
    use std::os::unix::fs::PermissionsExt;
    let tmp = std::env::temp_dir().join(format!("podctl-bundle-idmap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let host = tmp.join("host");
    std::fs::create_dir_all(host.join("www")).unwrap();
    std::fs::write(host.join("conf"), "").unwrap();
    let dirs = Dirs {
        run: tmp.join("run"),
        lib: tmp.join("lib"),
        net: tmp.join("run").join("net"),
    };
    let c = userns_container(&host);
    let bundle = dirs.bundle(&c.id());
    let rootfs = bundle.join("rootfs");
    let m = Mounts::new();
    prepare(&bundle, &HostRoot::default(), &m).unwrap();
    attach_volumes(&c, &bundle, &dirs, MAP, &m).unwrap();
    let at = |i| crate::mount::idmapped_volume(&rootfs, i);
    let attached = |source: PathBuf| Idmapped { source, map: MAP };
    assert_eq!(
        m.idmapped(),
        [
            (at(0), attached(host.join("www"))),
            (at(1), attached(host.join("conf"))),
            (at(2), attached(dirs.volumes().join("data"))),
        ],
        "scratch and tmpfs volumes are not attached"
    );
    assert!(at(0).is_dir() && at(1).is_file() && at(2).is_dir());
    let mode = std::fs::metadata(crate::mount::idmapped_volumes(&rootfs))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    // Made afresh: the attachments are detached before anything is removed.
    prepare(&bundle, &HostRoot::default(), &m).unwrap();
    assert!(m.idmapped().is_empty(), "{:?}", m.idmapped());
    assert!(!at(0).exists());
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn the_namespace_root_can_reach_the_bundle() {
    use crate::mount::fake::Mounts;
    use std::os::unix::fs::PermissionsExt;
    let tmp = std::env::temp_dir().join(format!("podctl-bundle-reach-{}", std::process::id()));
    let bundle = tmp.join("oci/p.app");
    let m = Mounts::new();
    prepare(&bundle, &HostRoot::default(), &m).unwrap();
    open_to_namespace_root(&bundle, MAP, &m).unwrap();
    assert_eq!(
        m.log(),
        [format!("chown {} 200000:300000", bundle.display())]
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&tmp.join("oci")), 0o711);
    assert_eq!(mode(&bundle), 0o700);
    std::fs::remove_dir_all(&tmp).unwrap();
}
