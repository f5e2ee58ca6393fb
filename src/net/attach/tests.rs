use super::*;
use crate::model::ports::parse;
use crate::net::fake::Fake;

struct Env {
    root: PathBuf,
}

impl Env {
    fn new(tag: &str) -> Env {
        let root = std::env::temp_dir().join(format!("podctl-attach-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("networks")).unwrap();
        std::fs::write(root.join("resolv.conf"), "nameserver 192.0.2.53\n").unwrap();
        Env { root }
    }

    fn podnet<'n>(&self, net: &'n Fake) -> PodNet<'n> {
        PodNet {
            net,
            store: Store::new(self.root.join("state")),
            run_dir: self.root.join("run"),
            networks_dir: self.root.join("networks"),
            host_resolv: self.root.join("resolv.conf"),
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn bridge(ports: &[&str]) -> PodNetwork {
    PodNetwork {
        mode: NetworkMode::Bridge,
        networks: vec!["podctl".into()],
        ports: ports.iter().map(|p| parse(p).unwrap()).collect(),
        ..Default::default()
    }
}

fn owner(pid: u32) -> Owner {
    Owner {
        boot_id: Owner::current().unwrap().boot_id,
        pid,
        start_time: 7,
    }
}

#[test]
fn reserve_attach_detach_in_order_and_nothing_left() {
    let env = Env::new("cycle");
    let fake = Fake::default();
    let pn = env.podnet(&fake);
    let spec = bridge(&["8080:80"]);
    let addrs = pn.reserve("web", &spec, &owner(1), |_| true).unwrap();
    assert_eq!(addrs[0].ip, Ipv4Addr::new(10, 87, 0, 2));
    let at = pn.attach("web", "web", &spec, 42).unwrap();
    assert_eq!(at.dns_servers, vec![Ipv4Addr::new(10, 87, 0, 1)]);
    let hosts = std::fs::read_to_string(&at.hosts).unwrap();
    assert!(hosts.contains("10.87.0.2\tweb\n"), "{hosts}");
    let resolv = std::fs::read_to_string(&at.resolv_conf).unwrap();
    assert!(resolv.ends_with("nameserver 10.87.0.1\n"), "{resolv}");
    let entry = pn.peek().unwrap().pods["web"].clone();
    assert_eq!((entry.netns, entry.engine_options), (None, None));
    let engaged = Engaged::read(&env.root.join("run/web")).expect("the engine's record");
    assert_eq!(engaged.netns, pn.pin_path("web"));
    assert_eq!(engaged.options["container_name"], "web");

    pn.detach("web").unwrap();
    let pin = pn.pin_path("web").display().to_string();
    assert_eq!(
        fake.calls(),
        [
            format!("pin 42 {pin}"),
            "setup web".into(),
            "teardown web".into(),
            format!("unpin {pin}")
        ]
    );
    assert!(pn.peek().unwrap().pods.is_empty());
    assert!(!at.hosts.exists() && !pn.pin_path("web").exists());
}

#[test]
fn a_port_of_another_pod_or_of_the_host_is_refused_before_anything_runs() {
    let env = Env::new("ports");
    let fake = Fake {
        busy: vec![(9090, "python3 (pid 77)".into())],
        ..Default::default()
    };
    let pn = env.podnet(&fake);
    pn.reserve("web", &bridge(&["8080:80"]), &owner(1), |_| true)
        .unwrap();
    let e = pn
        .reserve("api", &bridge(&["8079-8081:79-81"]), &owner(2), |_| true)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "pod api: port 8079-8081:79-81/tcp is already published by pod web"
    );
    assert!(e.is_conflict());
    let e = pn
        .reserve("api", &bridge(&["9090:80"]), &owner(2), |_| true)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "pod api: port 9090/tcp is in use on the host by python3 (pid 77)"
    );
    assert!(fake.calls().is_empty());
    let pods: Vec<String> = pn.peek().unwrap().pods.into_keys().collect();
    assert_eq!(pods, ["web"]);
}

#[test]
fn what_a_dead_owner_left_is_torn_down_by_the_next_reserve() {
    let env = Env::new("stale");
    let fake = Fake::default();
    let pn = env.podnet(&fake);
    let spec = bridge(&["8080:80"]);
    pn.reserve("web", &spec, &owner(1), |_| true).unwrap();
    pn.attach("web", "web", &spec, 42).unwrap();
    // The supervisor of web (pid 1 here) is gone: its port and address are free again.
    let addrs = pn.reserve("api", &spec, &owner(2), |o| o.pid != 1).unwrap();
    assert_eq!(addrs[0].ip, Ipv4Addr::new(10, 87, 0, 2));
    let calls = fake.calls();
    assert_eq!(
        calls[2..4],
        [
            "teardown web".to_string(),
            format!("unpin {}", pn.pin_path("web").display())
        ]
    );
    let pods: Vec<String> = pn.peek().unwrap().pods.into_keys().collect();
    assert_eq!(pods, ["api"]);
    // reclaim_stale alone does the same for entries of any pod.
    assert_eq!(pn.reclaim_stale(|_| false).unwrap(), ["api"]);
    assert!(pn.peek().unwrap().pods.is_empty());
}

#[test]
fn after_a_reboot_entries_are_dropped_without_calling_the_engine() {
    let env = Env::new("reboot");
    let fake = Fake::default();
    let pn = env.podnet(&fake);
    let spec = bridge(&[]);
    let before = Owner {
        boot_id: "an-earlier-boot".into(),
        ..owner(1)
    };
    pn.reserve("web", &spec, &before, |_| true).unwrap();
    pn.attach("web", "web", &spec, 42).unwrap();
    fake.calls.borrow_mut().clear();
    assert_eq!(pn.reclaim_stale(|o| o.alive()).unwrap(), ["web"]);
    // The namespace, links and rules died with the old boot: only unpin.
    assert_eq!(
        fake.calls(),
        [format!("unpin {}", pn.pin_path("web").display())]
    );
}

#[test]
fn a_failed_setup_is_undone_by_detach() {
    let env = Env::new("fail");
    let fake = Fake::default();
    let pn = env.podnet(&fake);
    let spec = bridge(&[]);
    pn.reserve("web", &spec, &owner(1), |_| true).unwrap();
    *fake.fail_setup.borrow_mut() = Some("boom".into());
    assert!(pn.attach("web", "web", &spec, 42).is_err());
    pn.detach("web").unwrap();
    assert!(fake.calls().ends_with(&[
        "teardown web".to_string(),
        format!("unpin {}", pn.pin_path("web").display())
    ]));
    assert!(pn.peek().unwrap().pods.is_empty());
}

#[test]
fn pods_without_a_bridge_touch_nothing() {
    let env = Env::new("none");
    let fake = Fake::default();
    let pn = env.podnet(&fake);
    let none = PodNetwork::default();
    assert!(
        pn.reserve("web", &none, &owner(1), |_| true)
            .unwrap()
            .is_empty()
    );
    pn.detach("web").unwrap();
    assert!(fake.calls().is_empty());
    assert!(pn.peek().unwrap().pods.is_empty());
}

#[test]
fn check_finds_what_reserve_would_refuse_and_records_nothing() {
    let env = Env::new("check");
    let fake = Fake {
        busy: vec![(9090, "python3 (pid 77)".into())],
        ..Default::default()
    };
    let pn = env.podnet(&fake);
    pn.reserve("web", &bridge(&["8080:80"]), &owner(1), |_| true)
        .unwrap();
    let e = pn
        .check("api", &bridge(&["8080:80"]), |_| true)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "pod api: port 8080:80/tcp is already published by pod web"
    );
    let e = pn
        .check("api", &bridge(&["9090:80"]), |_| true)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "pod api: port 9090/tcp is in use on the host by python3 (pid 77)"
    );
    pn.check("api", &bridge(&["8081:80"]), |_| true).unwrap();
    // The pod itself, applied again: its own ports are no conflict.
    pn.check("web", &bridge(&["8080:80"]), |_| true).unwrap();
    // A dead owner's ports are free (its entry is the next reserve's to
    // reclaim: check changes nothing).
    pn.check("api", &bridge(&["8080:80"]), |o| o.pid != 1)
        .unwrap();
    assert_eq!(pn.peek().unwrap().pods.len(), 1);
    // Owners are asked whether they live only when in the way.
    pn.check("api", &bridge(&["8081:80"]), |_| panic!("asked"))
        .unwrap();
    assert!(
        pn.check("api", &PodNetwork::default(), |_| true).is_ok(),
        "a pod without a bridge has nothing to check"
    );
    assert!(fake.calls().is_empty());
}

/// A pod network made with a layout keeps its allocations, pins and files
/// in the layout's directories and reads the networks defined in its own;
/// `podctl status` and the containers' configs find them there.
#[test]
fn a_layouts_network_directories_hold_what_a_pod_network_keeps() {
    let env = Env::new("layout");
    let paths = crate::layout::Layout::under(&env.root);
    std::fs::create_dir_all(&paths.networks).unwrap();
    std::fs::write(
        paths.networks.join("backend.toml"),
        "subnet = \"10.90.0.0/24\"\n",
    )
    .unwrap();
    let fake = Fake::default();
    let mut pn = PodNet::new(&fake, &paths);
    pn.host_resolv = env.root.join("resolv.conf");
    let spec = PodNetwork {
        networks: vec!["backend".into()],
        ..bridge(&[])
    };
    let addrs = pn.reserve("web", &spec, &owner(1), |_| true).unwrap();
    assert_eq!(addrs[0].ip, Ipv4Addr::new(10, 90, 0, 2));
    assert!(pn.store.file().starts_with(&paths.net_state) && pn.store.file().exists());
    let at = pn.attach("web", "web", &spec, 42).unwrap();
    assert_eq!(pn.pin_path("web"), paths.net_run.join("web.netns"));
    assert_eq!(at.hosts, paths.oci().net_files("web").join("hosts"));
    assert!(at.hosts.exists());
    let status = crate::net::status::of(&paths, "web");
    assert_eq!(status.addresses[0].ip, Ipv4Addr::new(10, 90, 0, 2));
    pn.detach("web").unwrap();
}

/// A pod on the host's network gets a resolv.conf of its own only when it
/// says more than the host's file; its loopback nameservers are kept (the
/// pod shares the host's loopback).
#[test]
fn a_host_network_pod_gets_its_own_resolv_conf_only_when_it_says_more() {
    let env = Env::new("host-resolv");
    std::fs::write(
        env.root.join("resolv.conf"),
        "nameserver 127.0.0.53\nsearch example.org\n",
    )
    .unwrap();
    let fake = Fake::default();
    let pn = env.podnet(&fake);
    let plain = PodNetwork {
        mode: NetworkMode::Host,
        ..Default::default()
    };
    assert_eq!(pn.write_host_resolv_conf("h", &plain).unwrap(), None);
    assert!(!env.root.join("run/h").exists());
    let own = PodNetwork {
        resolver: crate::model::dns::Resolver {
            search: vec!["svc.example".into()],
            ..Default::default()
        },
        ..plain
    };
    let path = pn.write_host_resolv_conf("h", &own).unwrap().unwrap();
    assert_eq!(path, env.root.join("run/h/resolv.conf"));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# generated by podctl\nsearch example.org svc.example\nnameserver 127.0.0.53\n"
    );
    // A bridge pod's is written by attach.
    assert_eq!(pn.write_host_resolv_conf("b", &bridge(&[])).unwrap(), None);
}

/// Every pod start reads and writes the allocation file whole: it holds
/// owners, addresses and ports only, without indentation, and attach
/// leaves it as reserve wrote it (the engine's options go to the pod's own
/// record).
#[test]
fn the_allocation_file_stays_small_and_attach_does_not_rewrite_it() {
    let env = Env::new("small");
    let fake = Fake::default();
    let pn = env.podnet(&fake);
    let spec = bridge(&[]);
    for i in 0..50 {
        pn.reserve(&format!("p{i:02}"), &spec, &owner(1), |_| true)
            .unwrap();
    }
    let file = pn.store.file();
    let reserved = std::fs::read(&file).unwrap();
    pn.attach("p00", "p00", &spec, 42).unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), reserved);
    let per_pod = reserved.len() / 50;
    assert!(per_pod < 250, "{per_pod} bytes per pod");
    assert!(!reserved.contains(&b'\n'));
}

/// An entry an earlier podctl wrote, with the engine's options in it and
/// no record of its own, is torn down with those options.
#[test]
fn an_entry_with_the_options_inline_is_torn_down_with_them() {
    let env = Env::new("legacy");
    let fake = Fake::default();
    let pn = env.podnet(&fake);
    let spec = bridge(&["8080:80"]);
    pn.reserve("web", &spec, &owner(1), |_| true).unwrap();
    let pin = pn.pin_path("web");
    std::fs::create_dir_all(env.root.join("run")).unwrap();
    std::fs::write(&pin, "").unwrap();
    {
        let (l, mut a) = pn.lock().unwrap();
        let e = a.pods.get_mut("web").unwrap();
        e.netns = Some(pin.clone());
        e.engine_options = Some(serde_json::json!({"container_name": "web"}));
        pn.save(&l, &a).unwrap();
    }
    pn.reserve("api", &spec, &owner(2), |o| o.pid != 1).unwrap();
    assert_eq!(
        fake.calls(),
        [
            "teardown web".to_string(),
            format!("unpin {}", pin.display())
        ]
    );
}
