use super::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

fn container(toml: &str) -> Container {
    let pod = crate::spec::parse_str(toml, "t", "p").expect("valid");
    let plan = crate::plan::build(&pod);
    Container::from_plan(&plan, &plan.containers[0])
}

const POD: &str = "[containers.app]\ncommand = [\"/bin/true\"]\nsecrets = [\"db\"]\n\
    env = { PASSWORD = { secret = \"db\" } }\n";

fn values(v: &[u8]) -> SecretValues {
    SecretValues(BTreeMap::from([("db".to_string(), v.to_vec())]))
}

fn me() -> HostUser {
    HostUser {
        uid: nix::unistd::getuid().as_raw(),
        gid: nix::unistd::getgid().as_raw(),
        additional_gids: vec![],
    }
}

#[test]
fn files_are_the_users_alone_and_env_holds_the_value() {
    let tmp = std::env::temp_dir().join(format!("podctl-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let dirs = Dirs {
        run: tmp.join("run"),
        lib: tmp.join("lib"),
        net: tmp.join("run/net"),
    };
    let c = container(POD);
    let p = provide(&c, &values(b"hunter2"), &dirs, &me())
        .unwrap()
        .expect("secrets");
    assert_eq!(p.env, [("PASSWORD".to_string(), "hunter2".to_string())]);
    let file = p.dir.join("db");
    assert_eq!(std::fs::read(&file).unwrap(), b"hunter2");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&file), 0o400);
    assert_eq!(mode(&p.dir), 0o500);
    assert_eq!(std::fs::metadata(&file).unwrap().uid(), me().uid);
    // A restart writes them anew.
    let again = provide(&c, &values(b"new"), &dirs, &me()).unwrap().unwrap();
    assert_eq!(std::fs::read(again.dir.join("db")).unwrap(), b"new");
    std::fs::set_permissions(&p.dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// A file with its own target and mode: a file of its own, with that
/// mode, beside the default one of the same secret.
#[test]
fn a_file_gets_its_own_mode() {
    let tmp = std::env::temp_dir().join(format!("podctl-secrets-mode-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let dirs = Dirs {
        run: tmp.join("run"),
        lib: tmp.join("lib"),
        net: tmp.join("run/net"),
    };
    let c = container(
        "[containers.app]\ncommand = [\"/bin/true\"]\n\
         secrets = [\"db\", { name = \"db\", target = \"/etc/app/pw\", mode = 0o440 }]\n",
    );
    let p = provide(&c, &values(b"hunter2"), &dirs, &me())
        .unwrap()
        .unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&p.dir.join("db")), 0o400);
    assert_eq!(mode(&p.dir.join("db@1")), 0o440);
    assert_eq!(std::fs::read(p.dir.join("db@1")).unwrap(), b"hunter2");
    assert_eq!(
        std::fs::metadata(p.dir.join("db@1")).unwrap().uid(),
        me().uid
    );
    std::fs::set_permissions(&p.dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn a_missing_or_binary_secret_is_named() {
    let c = container(POD);
    let e = env(&c, &SecretValues::default()).unwrap_err().to_string();
    assert!(e.contains("container app") && e.contains("\"db\""), "{e}");
    let e = env(&c, &values(b"a\0b")).unwrap_err().to_string();
    assert!(e.contains("PASSWORD"), "{e}");
    assert_eq!(
        format!("{:?}", values(b"hunter2")),
        "[\"db\"]",
        "never printed"
    );
}
