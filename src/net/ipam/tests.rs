use super::*;
use crate::model::ports::parse;

fn owner(pid: u32) -> Owner {
    Owner {
        boot_id: "b".into(),
        pid,
        start_time: 1,
    }
}

fn alloc(ip: [u8; 4], ports: &[&str]) -> Allocation {
    Allocation {
        owner: owner(u32::from(ip[3])),
        addresses: vec![Address {
            network: "podctl".into(),
            ip: Ipv4Addr::from(ip),
            interface: "eth0".into(),
        }],
        ports: ports.iter().map(|p| parse(p).unwrap()).collect(),
        netns: None,
        engine_options: None,
    }
}

#[test]
fn lowest_free_address_and_own_kept() {
    let defs = [NetworkDef::default_network()];
    let mut a = Allocations::default();
    let nets = ["podctl".to_string()];
    assert_eq!(
        a.pick("x", &nets, &defs).unwrap()[0].ip,
        Ipv4Addr::new(10, 87, 0, 2)
    );
    a.pods.insert("a".into(), alloc([10, 87, 0, 2], &[]));
    a.pods.insert("c".into(), alloc([10, 87, 0, 4], &[]));
    assert_eq!(
        a.pick("x", &nets, &defs).unwrap()[0].ip,
        Ipv4Addr::new(10, 87, 0, 3)
    );
    assert_eq!(
        a.pick("c", &nets, &defs).unwrap()[0].ip,
        Ipv4Addr::new(10, 87, 0, 4)
    );
    assert!(matches!(
        a.pick("x", &["nope".to_string()], &defs),
        Err(AllocError::UnknownNetwork(_))
    ));
}

#[test]
fn a_small_network_runs_out() {
    let mut def = NetworkDef::default_network();
    def.subnet = "10.87.0.0/30".parse().unwrap();
    let mut a = Allocations::default();
    a.pods.insert("a".into(), alloc([10, 87, 0, 2], &[]));
    let e = a.pick("x", &["podctl".into()], &[def]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "network podctl (10.87.0.0/30) has no free address left"
    );
}

#[test]
fn ports_of_other_pods_are_taken() {
    let mut a = Allocations::default();
    a.pods
        .insert("web".into(), alloc([10, 87, 0, 2], &["8080:80"]));
    let mine = [parse("8080:8080").unwrap()];
    assert_eq!(
        a.port_taken("api", &mine).unwrap_err().to_string(),
        "port 8080:8080/tcp is already published by pod web"
    );
    assert!(a.port_taken("web", &mine).is_ok());
    assert!(
        a.port_taken("api", &[parse("8080:80/udp").unwrap()])
            .is_ok()
    );
}

#[test]
fn stale_entries_are_those_whose_owner_is_gone() {
    let mut a = Allocations::default();
    a.pods.insert("live".into(), alloc([10, 87, 0, 2], &[]));
    a.pods.insert("dead".into(), alloc([10, 87, 0, 3], &[]));
    assert_eq!(a.stale(|o| o.pid == 2), vec!["dead".to_string()]);
    // The real check: this process is alive, a made-up one is not.
    let me = Owner::current().unwrap();
    assert!(me.alive());
    assert!(
        !Owner {
            start_time: me.start_time + 1,
            ..me.clone()
        }
        .alive()
    );
    assert!(
        !Owner {
            boot_id: "other".into(),
            ..me
        }
        .alive()
    );
}

#[test]
fn store_round_trip_under_lock() {
    let dir = std::env::temp_dir().join(format!("podctl-ipam-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::new(&dir);
    assert_eq!(store.peek().unwrap(), Allocations::default());
    let mut a = Allocations::default();
    a.pods
        .insert("web".into(), alloc([10, 87, 0, 2], &["8080:80"]));
    {
        let l = store.lock().unwrap();
        l.write(&a).unwrap();
        assert_eq!(l.read().unwrap(), a);
    }
    assert_eq!(store.peek().unwrap(), a);
    let _ = std::fs::remove_dir_all(&dir);
}
