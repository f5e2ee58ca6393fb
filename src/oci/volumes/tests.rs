use super::*;

fn pod(name: &str, volumes: &[&str]) -> Pod {
    let list: Vec<String> = volumes.iter().map(|v| format!("{v:?}")).collect();
    crate::spec::parse_str(
        &format!(
            "[volumes]\nscratch = {{}}\n[containers.app]\ncommand = [\"true\"]\nvolumes = [{}]\n[containers.side]\ncommand = [\"true\"]\nvolumes = [\"cache:/c\"]\n",
            list.join(", ")
        ),
        &format!("{name}.toml"),
        name,
    )
    .unwrap()
}

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!("podctl-vol-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Tmp(d)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn only_named_volumes_count_and_each_pod_once() {
    let web = pod("web", &["data:/d", "/srv:/srv", "tmpfs:/t", "scratch:/s"]);
    let api = pod("api", &["data:/d:ro"]);
    assert_eq!(
        named_in(&web).into_iter().collect::<Vec<_>>(),
        ["cache", "data"]
    );
    let u = Usage::of([&web, &api]);
    assert_eq!(u.users("data"), ["api", "web"]);
    assert_eq!(u.users("cache"), ["api", "web"]);
    assert!(u.users("scratch").is_empty() && u.users("other").is_empty());
}

#[test]
fn rm_refuses_a_volume_in_use_naming_its_pods_unless_forced() {
    let u = Usage::of([&pod("web", &["data:/d"])]);
    let dir = Path::new("/v");
    let all = |_: &str| true;
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let e = plan_rm(&names(&["old", "data"]), all, dir, &u, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "volume data is used by pod(s) web; remove them first (podctl down --purge POD) or use --force, which does"
    );
    assert_eq!(
        plan_rm(&names(&["data"]), all, dir, &u, true).unwrap(),
        ["web"]
    );
    assert!(
        plan_rm(&names(&["old"]), all, dir, &u, false)
            .unwrap()
            .is_empty()
    );
    let e = plan_rm(&names(&["gone"]), |n| n != "gone", dir, &u, false).unwrap_err();
    assert_eq!(e.to_string(), "no volume \"gone\" (/v/gone does not exist)");
    for bad in ["../etc", "a/b", "", "tmpfs", "UPPER"] {
        assert!(matches!(
            plan_rm(&names(&[bad]), all, dir, &u, true),
            Err(VolumeError::BadName(_))
        ));
    }
}

#[test]
fn an_unreadable_definition_blocks_rm_and_prune() {
    let u = Usage {
        unreadable: vec![("odd".into(), "/p/odd.toml".into(), "bad key".into())],
        ..Usage::default()
    };
    let e = unused(&["a".into()], &u).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot tell which volumes pod odd uses: /p/odd.toml: bad key; fix or remove it first"
    );
    assert!(plan_rm(&["a".into()], |_| true, Path::new("/v"), &u, false).is_err());
}

#[test]
fn prune_keeps_what_a_pod_uses() {
    let u = Usage::of([&pod("web", &["data:/d"])]);
    let all: Vec<String> = ["cache", "data", "old"].map(String::from).to_vec();
    assert_eq!(unused(&all, &u).unwrap(), ["old"]);
}

#[test]
fn listing_reads_the_directory_and_the_store() {
    let t = Tmp::new("ls");
    let (dir, store) = (t.0.join("volumes"), t.0.join("pods"));
    assert!(names(&dir).unwrap().is_empty(), "no directory: no volumes");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::create_dir_all(dir.join("old/sub")).unwrap();
    std::fs::create_dir_all(dir.join("Not_A_Volume")).unwrap();
    std::fs::write(dir.join("stray-file"), "x").unwrap();
    std::fs::write(dir.join("old/sub/f"), vec![7u8; 10_000]).unwrap();
    std::fs::hard_link(dir.join("old/sub/f"), dir.join("old/f2")).unwrap();
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(
        store.join("web.toml"),
        "[containers.app]\ncommand = [\"true\"]\nvolumes = [\"data:/d\"]\n",
    )
    .unwrap();
    let u = Usage::load(&store);
    assert!(u.unreadable.is_empty());
    let l = list(&dir, &u).unwrap();
    let summary: Vec<(&str, &[String])> = l
        .iter()
        .map(|v| (v.name.as_str(), v.used_by.as_slice()))
        .collect();
    assert_eq!(
        summary,
        [("data", &["web".to_string()][..]), ("old", &[][..])]
    );
    assert_eq!(l[1].path, dir.join("old"));
    // 10,000 bytes once (the hard link is not counted twice), plus the directories.
    let dirs = disk_usage(&dir.join("data"));
    assert!(
        l[1].size >= 12288 && l[1].size < 12288 + 3 * dirs.max(4096),
        "{} (empty dir: {dirs})",
        l[1].size
    );
    remove(&dir, "old").unwrap();
    assert_eq!(names(&dir).unwrap(), ["data"]);
    assert!(matches!(
        inspect(&dir, "old", &u),
        Err(VolumeError::NotFound { .. })
    ));
    std::fs::write(store.join("broken.toml"), "nonsense = [").unwrap();
    assert_eq!(Usage::load(&store).unreadable[0].0, "broken");
}

#[test]
fn sizes_for_people() {
    assert_eq!(human_size(0), "0 B");
    assert_eq!(human_size(4096), "4.0 KiB");
    assert_eq!(human_size(3 << 20 | 1 << 19), "3.5 MiB");
}

/// `podctl volume ls --output json`: the shape in tests/data/json/volume-ls.json.
#[test]
fn json_shape() {
    let v = vec![VolumeInfo {
        name: "data".into(),
        path: "/var/lib/podctl/volumes/data".into(),
        size: 8192,
        used_by: vec!["web".into()],
    }];
    let got = serde_json::to_value(&v).unwrap();
    let want: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/data/json/volume-ls.json")).unwrap();
    assert_eq!(got, want);
}

#[test]
fn targets_under_host_directories_must_exist_there() {
    let t = Tmp::new("targets");
    let host = &t.0;
    std::fs::create_dir_all(host.join("usr/share")).unwrap();
    std::fs::create_dir_all(host.join("tmp")).unwrap();
    std::os::unix::fs::symlink("usr/share", host.join("share")).unwrap();
    let vols = |targets: &[&str]| -> Vec<crate::model::Volume> {
        targets
            .iter()
            .map(|t| crate::model::Volume {
                source: VolumeSource::Tmpfs(None),
                target: t.to_string(),
                read_only: false,
            })
            .collect()
    };
    for fine in [
        &["/usr/share"][..],
        &["/data", "/data/sub"],
        &["/tmp/x", "/run/y"],
        &["/share"],
        &["/usr/share", "/usr/share/new"],
    ] {
        check_host_targets("app", &vols(fine), host).unwrap();
    }
    let e = check_host_targets("app", &vols(&["/usr/new"]), host).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "container app: the volume target /usr/new does not exist on the host, whose /usr a container without an image sees read-only"
        ),
        "{e}"
    );
    assert!(check_host_targets("app", &vols(&["/share/new"]), host).is_err());
}
