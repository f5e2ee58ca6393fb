use super::*;

/// A directory of network files, removed when the test is done with it.
struct Dir(PathBuf);

impl std::ops::Deref for Dir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir_with(files: &[(&str, &str)]) -> Dir {
    let d = std::env::temp_dir().join(format!(
        "podctl-netcfg-{}-{}",
        std::process::id(),
        files.iter().map(|f| f.0).collect::<Vec<_>>().join("-")
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for (name, text) in files {
        std::fs::write(d.join(name), text).unwrap();
    }
    Dir(d)
}

#[test]
fn default_network_without_files() {
    let d = dir_with(&[]);
    let nets = load_all(&d).unwrap();
    assert_eq!(nets, vec![NetworkDef::default_network()]);
    assert_eq!(nets[0].gateway, Ipv4Addr::new(10, 87, 0, 1));
    assert!(!nets[0].subnet.overlaps(&"10.88.0.0/16".parse().unwrap()));
    assert!(!nets[0].subnet.overlaps(&"10.89.0.0/16".parse().unwrap()));
}

#[test]
fn a_file_with_defaults_filled_in() {
    let def = parse_str(
        "subnet = \"10.90.0.0/24\"\ninternal = true\n",
        "b.toml",
        "backend",
    )
    .unwrap();
    assert_eq!(def.gateway, Ipv4Addr::new(10, 90, 0, 1));
    assert_eq!(def.bridge, "pc-backend");
    assert!(def.internal && def.dns);
    assert_eq!(parse_str(&def.to_toml(), "b.toml", "backend").unwrap(), def);
}

#[test]
fn problems_are_located() {
    let e = parse_str("subnet = \"10.90.0.1/24\"\nmtu = 1\n", "b.toml", "b")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "b.toml:1:10: subnet: \"10.90.0.1/24\" has host bits set (the subnet is 10.90.0.0/24)\n\
         b.toml:2:1: mtu: unknown key (allowed: subnet, gateway, bridge, internal, dns)"
    );
    let e = parse_str(
        "subnet = \"10.90.0.0/24\"\ngateway = \"10.91.0.1\"\n",
        "b.toml",
        "b",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "b.toml:2:11: gateway: 10.91.0.1 is not a host address of 10.90.0.0/24"
    );
}

#[test]
fn overlapping_subnets_and_shared_bridges_are_refused() {
    let d = dir_with(&[
        ("a.toml", "subnet = \"10.90.0.0/16\"\n"),
        ("b.toml", "subnet = \"10.90.3.0/24\"\nbridge = \"pc-a\"\n"),
        ("c.toml", "subnet = \"10.87.1.0/24\"\n"),
    ]);
    let e = load_all(&d).unwrap_err().to_string();
    let b = d.join("b.toml").display().to_string();
    let c = d.join("c.toml").display().to_string();
    assert_eq!(
        e,
        format!(
            "{b}:1:10: subnet: 10.90.3.0/24 overlaps network a (10.90.0.0/16); networks' subnets must not overlap\n\
             {b}:2:10: bridge: bridge \"pc-a\" is network a's already\n\
             {c}:1:10: subnet: 10.87.1.0/24 overlaps network podctl (10.87.0.0/16); networks' subnets must not overlap"
        )
    );
}
