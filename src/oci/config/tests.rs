use super::*;
use crate::oci::container::Container;
use oci_spec::runtime::Mount;

fn config(pod_toml: &str) -> Spec {
    config_with(pod_toml, None)
}

fn config_with(pod_toml: &str, secrets: Option<&Provided>) -> Spec {
    let pod = crate::spec::parse_str(pod_toml, "t", "t").expect("the pod parses");
    let plan = crate::plan::build(&pod);
    let host_root: Vec<String> = ["etc", "root", "srv", "usr"].map(String::from).to_vec();
    let ctx = Context {
        holder_pid: 1,
        init: Path::new("/usr/local/bin/podctl-pause"),
        rootfs: Path::new("/run/podctl/rootfs"),
        host_root: &host_root,
        shm: Path::new("/run/podctl/shm"),
        volumes: Path::new("/var/lib/podctl/volumes"),
        scratch: Path::new("/var/lib/podctl/scratch"),
        net_files: Path::new("/run/podctl/net/t"),
        notify_socket: None,
        cgroups_path: None,
        user: HostUser {
            uid: 0,
            gid: 0,
            additional_gids: vec![],
        },
        custom_seccomp: None,
        host_caps: None,
        secrets,
    };
    build(&Container::from_plan(&plan, &plan.containers[0]), &ctx)
}

fn mount_at<'a>(spec: &'a Spec, dest: &str) -> &'a Mount {
    spec.mounts()
        .as_ref()
        .unwrap()
        .iter()
        .find(|m| m.destination() == Path::new(dest))
        .unwrap_or_else(|| panic!("no mount at {dest}"))
}

fn options(m: &Mount) -> Vec<&str> {
    m.options()
        .as_ref()
        .map(|o| o.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

const HOST_ROOT_POD: &str = "[containers.app]\ncommand = [\"/bin/true\"]\n\
    volumes = [\"/srv:/data:ro\", \"/srv:/rw\"]\n";

#[test]
fn the_host_view_and_ro_volumes_are_read_only_down_to_submounts() {
    let spec = config(HOST_ROOT_POD);
    for dir in ["/etc", "/root", "/srv", "/usr"] {
        let o = options(mount_at(&spec, dir));
        for want in ["rbind", "ro", "rro", "rnosuid", "rnodev"] {
            assert!(o.contains(&want), "{dir}: {o:?} lacks {want}");
        }
    }
    let ro = options(mount_at(&spec, "/data"));
    for want in ["ro", "rro", "rnosuid", "rnodev"] {
        assert!(ro.contains(&want), "/data: {ro:?} lacks {want}");
    }
    let rw = options(mount_at(&spec, "/rw"));
    assert!(rw.contains(&"rw") && rw.contains(&"rnodev") && !rw.contains(&"rro"));
}

#[test]
fn dev_is_nodev_with_the_standard_nodes_bound() {
    let spec = config(HOST_ROOT_POD);
    let dev = options(mount_at(&spec, "/dev"));
    assert!(dev.contains(&"nodev"), "/dev: {dev:?}");
    for &(path, _, _) in &defaults::DEVICES {
        let m = mount_at(&spec, path);
        assert_eq!(m.source().as_deref(), Some(Path::new(path)));
        assert_eq!(m.typ().as_deref(), Some("bind"));
    }
    // The device cgroup: everything denied first, then the allow list.
    let linux = spec.linux().as_ref().unwrap();
    let rules = linux
        .resources()
        .as_ref()
        .unwrap()
        .devices()
        .as_ref()
        .unwrap();
    assert!(!rules[0].allow() && rules[0].typ() == Some(LinuxDeviceType::A));
    assert!(rules[1..].iter().all(|r| r.allow()));
    // A privileged container has the host's /dev.
    let spec = config("[containers.app]\ncommand = [\"/bin/true\"]\nprivileged = true\n");
    assert_eq!(mount_at(&spec, "/dev").typ().as_deref(), Some("bind"));
}

#[test]
fn a_host_root_container_has_the_host_secrets_masked() {
    let spec = config(HOST_ROOT_POD);
    let masked = spec
        .linux()
        .as_ref()
        .unwrap()
        .masked_paths()
        .clone()
        .unwrap();
    for secret in defaults::HOST_SECRETS.iter().chain(&defaults::MASKED_PATHS) {
        assert!(masked.iter().any(|m| m == secret), "{secret} is not masked");
    }
    for p in [
        "/etc/shadow",
        "/etc/ssh/ssh_host_ed25519_key",
        "/root",
        "/etc/containers/auth.json",
    ] {
        assert!(defaults::HOST_SECRETS.contains(&p), "{p}");
    }
}

#[test]
fn the_seccomp_profile_follows_the_capabilities() {
    let has_mount_allowed = |spec: &Spec| {
        let s = spec.linux().as_ref().unwrap().seccomp().clone().unwrap();
        s.syscalls().as_ref().unwrap().iter().any(|r| {
            r.names().iter().any(|n| n == "mount")
                && r.action() == oci_spec::runtime::LinuxSeccompAction::ScmpActAllow
        })
    };
    assert!(!has_mount_allowed(&config(HOST_ROOT_POD)));
    let admin = "[containers.app]\ncommand = [\"/bin/true\"]\n\
                 capabilities = { add = [\"SYS_ADMIN\"] }\n";
    assert!(has_mount_allowed(&config(admin)));
}

#[test]
fn a_volume_under_a_masked_secret_unmasks_that_path_only() {
    let spec = config(
        "[containers.app]\ncommand = [\"/bin/true\"]\n\
         volumes = [\"/srv:/root/data\"]\n",
    );
    let masked = spec
        .linux()
        .as_ref()
        .unwrap()
        .masked_paths()
        .clone()
        .unwrap();
    assert!(!masked.iter().any(|m| m == "/root"), "{masked:?}");
    // A sibling whose name starts alike is no volume under /root.
    let spec = config("[containers.app]\ncommand = [\"/bin/true\"]\nvolumes = [\"/srv:/rootx\"]\n");
    let masked = spec
        .linux()
        .as_ref()
        .unwrap()
        .masked_paths()
        .clone()
        .unwrap();
    assert!(masked.iter().any(|m| m == "/root"), "{masked:?}");
    assert!(masked.iter().any(|m| m == "/etc/shadow"));
    assert!(masked.iter().any(|m| m == "/etc/ssl/private"));
}

/// In a user namespace, bind and named volumes are bound from their
/// idmapped attachments beside the root; scratch and tmpfs volumes as
/// they are.
#[test]
fn in_a_user_namespace_volumes_come_from_their_idmapped_attachments() {
    let volumes = "volumes = [\"/srv:/www:ro\", \"data:/data\", \"disk:/d\", \"tmpfs:/t\"]\n";
    let pod = |userns: &str| {
        format!("{userns}[volumes]\ndisk = {{}}\n[containers.app]\nimage = \"x:1\"\n{volumes}")
    };
    let spec = config(&pod(
        "userns = { uid = 200000, gid = 200000, size = 65536 }\n",
    ));
    let source = |spec: &Spec, dest: &str| mount_at(spec, dest).source().clone().unwrap();
    assert_eq!(source(&spec, "/www"), Path::new("/run/podctl/idmapped/0"));
    assert_eq!(source(&spec, "/data"), Path::new("/run/podctl/idmapped/1"));
    assert_eq!(
        source(&spec, "/d"),
        Path::new("/var/lib/podctl/scratch/disk")
    );
    assert_eq!(source(&spec, "/t"), Path::new("tmpfs"));
    assert!(options(mount_at(&spec, "/www")).contains(&"rro"));
    // The host's user namespace: the volumes themselves.
    let spec = config(&pod(""));
    assert_eq!(source(&spec, "/www"), Path::new("/srv"));
    assert_eq!(
        source(&spec, "/data"),
        Path::new("/var/lib/podctl/volumes/data")
    );
}

#[test]
fn secrets_are_read_only_binds_at_run_secrets_and_env_values() {
    let pod = "[containers.app]\ncommand = [\"/bin/true\"]\n\
        secrets = [\"db\", { name = \"db\", target = \"/etc/app/pw\", mode = 0o440 }]\n\
        env = { A = \"plain\", PASSWORD = { secret = \"db\" } }\n";
    let provided = Provided {
        dir: PathBuf::from("/run/podctl/pods/t/secrets/app"),
        env: vec![("PASSWORD".into(), "hunter2".into())],
    };
    let spec = config_with(pod, Some(&provided));
    let m = mount_at(&spec, "/run/secrets/db");
    assert_eq!(
        m.source().as_deref(),
        Some(Path::new("/run/podctl/pods/t/secrets/app/db"))
    );
    // At its own target, from a file of its own.
    let own = mount_at(&spec, "/etc/app/pw");
    assert_eq!(
        own.source().as_deref(),
        Some(Path::new("/run/podctl/pods/t/secrets/app/db@1"))
    );
    assert!(options(own).contains(&"ro"), "{:?}", options(own));
    for want in ["bind", "ro", "nosuid", "nodev", "noexec"] {
        assert!(options(m).contains(&want), "{:?} lacks {want}", options(m));
    }
    let env = spec.process().as_ref().unwrap().env().clone().unwrap();
    assert!(env.contains(&"PASSWORD=hunter2".to_string()), "{env:?}");
    assert!(env.contains(&"A=plain".to_string()), "{env:?}");
}

/// A secret inside a volume (a projected volume's secret over its read-only
/// directory) is mounted after the volume, which would hide it, and that
/// volume is private; the other secrets are mounted before the volumes,
/// which may cover them.
#[test]
fn a_secret_inside_a_volume_is_mounted_after_it() {
    let pod = "[containers.app]\ncommand = [\"/bin/true\"]\n\
        volumes = [\"/srv/conf:/etc/app:ro\", \"/srv/etc-app:/etc/app-other\"]\n\
        secrets = [{ name = \"db\", target = \"/etc/app/pw\" }, \"other\", { name = \"x\", target = \"/etc/application\" }]\n";
    let provided = Provided {
        dir: PathBuf::from("/run/podctl/pods/t/secrets/app"),
        env: vec![],
    };
    let spec = config_with(pod, Some(&provided));
    let order: Vec<String> = spec
        .mounts()
        .as_ref()
        .unwrap()
        .iter()
        .map(|m| m.destination().display().to_string())
        .filter(|d| d.starts_with("/etc/app") || d.starts_with("/run/secrets"))
        .collect();
    assert_eq!(
        order,
        [
            "/run/secrets/other",
            "/etc/application",
            "/etc/app",
            "/etc/app-other",
            "/etc/app/pw"
        ]
    );
    // The volume it is mounted in is private first: a bind is a peer of the
    // host's mount, which would get the secret too.
    assert!(options(mount_at(&spec, "/etc/app")).contains(&"rprivate"));
    assert!(!options(mount_at(&spec, "/etc/app-other")).contains(&"rprivate"));
}

#[test]
fn the_pods_groups_follow_the_users_own() {
    let spec = config(
        "fs_group = 2000\nsupplemental_groups = [4000, 2000]\n\
         [containers.app]\ncommand = [\"/bin/true\"]\n",
    );
    let user = spec.process().as_ref().unwrap().user();
    assert_eq!(user.additional_gids().as_deref(), Some(&[2000, 4000][..]));
    assert_eq!(
        HostUser {
            uid: 1000,
            gid: 3000,
            additional_gids: vec![3000, 4000],
        }
        .with_groups(&[2000, 4000])
        .additional_gids,
        [3000, 4000, 2000]
    );
    let none = config(HOST_ROOT_POD);
    assert_eq!(
        none.process().as_ref().unwrap().user().additional_gids(),
        &None
    );
}
