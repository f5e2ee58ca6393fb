use super::*;

#[test]
fn create_checks_against_other_networks_and_rm_refuses_named_ones() {
    let root = std::env::temp_dir().join(format!("podctl-netcli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (dir, store) = (root.join("networks"), root.join("pods"));
    create(&dir, "backend", "10.90.0.0/24", None, None, true, true).unwrap();
    let def = &config::load_all(&dir).unwrap()[0];
    assert_eq!(
        (def.name.as_str(), def.internal, def.bridge.as_str()),
        ("backend", true, "pc-backend")
    );
    let e = create(&dir, "other", "10.87.3.0/24", None, None, false, true).unwrap_err();
    assert!(e.to_string().contains("overlaps network podctl"), "{e}");
    assert!(!config::file_for(&dir, "other").exists());
    assert!(create(&dir, "backend", "10.91.0.0/24", None, None, false, true).is_err());
    assert!(create(&dir, "podctl", "10.91.0.0/24", None, None, false, true).is_err());

    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(
        store.join("api.toml"),
        "networks = [\"backend\"]\n[containers.app]\ncommand = [\"sleep\", \"1\"]\n",
    )
    .unwrap();
    let none = Allocations::default();
    let e = rm(&dir, "backend", &store, &none).unwrap_err();
    assert!(
        e.to_string().contains("named by the stored pod(s) api"),
        "{e}"
    );
    std::fs::remove_file(store.join("api.toml")).unwrap();
    // A running pod on it (an allocation) is refused too.
    let mut running = Allocations::default();
    running.pods.insert(
        "web".into(),
        crate::net::ipam::Allocation {
            owner: crate::net::ipam::Owner::current().unwrap(),
            addresses: vec![crate::net::ipam::Address {
                network: "backend".into(),
                ip: Ipv4Addr::new(10, 90, 0, 2),
                interface: "eth0".into(),
            }],
            ports: vec![],
            netns: None,
            engine_options: None,
        },
    );
    let e = rm(&dir, "backend", &store, &running).unwrap_err();
    assert_eq!(
        e.to_string(),
        "network backend is in use by pod(s) web; stop them first (podctl down NAME)"
    );
    assert!(rm(&dir, "podctl", &store, &none).is_err());
    rm(&dir, "backend", &store, &none).unwrap();
    assert!(!config::file_for(&dir, "backend").exists());
    let _ = std::fs::remove_dir_all(&root);
}
