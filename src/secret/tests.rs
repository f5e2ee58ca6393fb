use super::*;
use crate::layout::Layout;

fn paths(name: &str) -> Layout {
    let dir = std::env::temp_dir().join(format!("podctl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Layout::under(&dir)
}

fn store_pod(paths: &Layout, pod: &str, text: &str) {
    std::fs::create_dir_all(&paths.store).unwrap();
    std::fs::write(paths.definition(pod), text).unwrap();
}

const USES_DB: &str = "[containers.app]\ncommand = [\"/bin/true\"]\n\
    env = { PASSWORD = { secret = \"db\" } }\n";

#[test]
fn create_encrypts_through_stdin_and_never_stores_the_value() {
    let paths = paths("secret-create");
    let enc = fake::Reverse::default();
    let store = Store {
        paths: &paths,
        enc: &enc,
    };
    store.create("db", b"hunter2").unwrap();
    assert_eq!(*enc.names.lock().unwrap(), ["db"]);
    let on_disk = std::fs::read(paths.secrets.join("db")).unwrap();
    assert_eq!(on_disk, b"enc:2retnuh");
    assert!(matches!(
        store.create("db", b"x"),
        Err(SecretError::Exists(_))
    ));
    assert!(matches!(store.create("e", b""), Err(SecretError::Empty(_))));
    assert!(matches!(
        store.create("../x", b"v"),
        Err(SecretError::BadName(_))
    ));
    assert!(matches!(
        store.create(".x", b"v"),
        Err(SecretError::BadName(_))
    ));
    let big = vec![b'a'; VALUE_MAX + 1];
    assert!(matches!(
        store.create("big", &big),
        Err(SecretError::TooBig { .. })
    ));
    let ls = store.list().unwrap();
    assert_eq!(ls.len(), 1);
    assert_eq!((ls[0].name.as_str(), ls[0].size), ("db", 11));
    let shown = serde_json::to_string(&ls).unwrap();
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn a_secret_a_stored_pod_uses_is_not_removed() {
    let paths = paths("secret-rm");
    let enc = fake::Reverse::default();
    let store = Store {
        paths: &paths,
        enc: &enc,
    };
    store.create("db", b"v").unwrap();
    store_pod(&paths, "web", USES_DB);
    assert_eq!(store.inspect("db").unwrap().used_by, ["web"]);
    let e = store.remove("db").unwrap_err().to_string();
    assert!(e.contains("used by pod web"), "{e}");
    assert!(paths.secrets.join("db").exists());
    std::fs::remove_file(paths.definition("web")).unwrap();
    store.remove("db").unwrap();
    assert!(!paths.secrets.join("db").exists());
    assert!(matches!(store.remove("db"), Err(SecretError::Missing(_))));
}

#[test]
fn the_drop_in_loads_each_secret_once_and_a_missing_one_is_named() {
    let paths = paths("secret-dropin");
    let text = format!("{USES_DB}secrets = [\"db\", \"tls\"]\n");
    let plan = crate::plan::build(&crate::spec::parse_str(&text, "t", "web").unwrap());
    let dir = paths.secrets.display().to_string();
    assert_eq!(
        dropin::text(&paths, &plan.secret_names()).unwrap(),
        format!(
            "# Written by podctl apply: the secrets this pod's containers use.\n[Service]\n\
             LoadCredentialEncrypted=db:{dir}/db\nLoadCredentialEncrypted=tls:{dir}/tls\n"
        )
    );
    assert_eq!(dropin::text(&paths, &[]), None);
    let enc = fake::Reverse::default();
    let store = Store {
        paths: &paths,
        enc: &enc,
    };
    store.create("db", b"v").unwrap();
    let e = dropin::check(&store, &plan).unwrap_err().to_string();
    assert!(
        e.contains("pod web container app") && e.contains("\"tls\""),
        "{e}"
    );
    store.create("tls", b"v").unwrap();
    dropin::check(&store, &plan).unwrap();
    assert!(dropin::write(&paths, &plan).unwrap());
    assert!(!dropin::write(&paths, &plan).unwrap(), "unchanged");
}

/// Apply of a pod that uses a secret: refused, with nothing stored, while
/// the secret is missing; then its drop-in is written and systemd reloaded
/// before the pod starts.
#[test]
fn apply_loads_the_secrets_before_the_start_and_refuses_a_missing_one() {
    use crate::apply::{Applier, Definition, Planned};
    let paths = paths("secret-apply");
    std::fs::create_dir_all(&paths.lib).unwrap();
    let file = paths.lib.join("web.toml");
    std::fs::write(&file, USES_DB).unwrap();
    let definition = Definition::read(&file, crate::kube::Unsupported::Error, &paths).unwrap();
    let plan = crate::plan::build(&definition.pod);
    let planned = Planned {
        definition,
        facts: Default::default(),
        plan,
    };
    let mgr = crate::systemd::fake::Shared::default();
    let applier = Applier::new(&mgr, &paths);
    let e = applier.apply(&planned).unwrap_err().to_string();
    assert!(e.contains("container app") && e.contains("\"db\""), "{e}");
    assert!(!paths.definition("web").exists(), "nothing stored");
    assert!(mgr.calls().is_empty(), "{:?}", mgr.calls());

    let enc = fake::Reverse::default();
    let store = Store {
        paths: &paths,
        enc: &enc,
    };
    store.create("db", b"hunter2").unwrap();
    applier.apply(&planned).unwrap();
    let calls = mgr.calls();
    let at = |what: &str| calls.iter().position(|c| c == what);
    assert!(at("reload") < at("start pod@web.service"), "{calls:?}");
    assert!(at("reload").is_some(), "{calls:?}");
    let dropin = crate::apply::dropin::dir(&paths, "web").join("50-podctl-credentials.conf");
    let text = std::fs::read_to_string(dropin).unwrap();
    assert!(text.contains("LoadCredentialEncrypted=db:"), "{text}");
}

/// A manifest's secrets: created, left alone when the value is the same
/// (compared decrypted, in memory), replaced when it changed; only those
/// replaced are returned (their pods restart). `create` still refuses an
/// existing name.
#[test]
fn a_manifests_values_are_created_kept_or_replaced() {
    let paths = paths("secret-put");
    let enc = fake::Reverse::default();
    let store = Store {
        paths: &paths,
        enc: &enc,
    };
    let values = |pw: &[u8]| {
        crate::kube::secret::Values(std::collections::BTreeMap::from([
            ("db.password".to_string(), pw.to_vec()),
            ("db.user".to_string(), b"admin".to_vec()),
        ]))
    };
    assert!(store_values(&store, &values(b"one")).unwrap().is_empty());
    assert_eq!(
        std::fs::read(paths.secrets.join("db.password")).unwrap(),
        b"enc:eno"
    );
    assert!(store_values(&store, &values(b"one")).unwrap().is_empty());
    assert_eq!(
        store_values(&store, &values(b"two")).unwrap(),
        ["db.password"]
    );
    assert_eq!(
        std::fs::read(paths.secrets.join("db.password")).unwrap(),
        b"enc:owt"
    );
    assert_eq!(store.put("db.user", b"admin").unwrap(), Put::Unchanged);
    // One it cannot decrypt is replaced.
    std::fs::write(paths.secrets.join("db.user"), b"garbage").unwrap();
    assert_eq!(store.put("db.user", b"admin").unwrap(), Put::Replaced);
    assert!(matches!(
        store.create("db.user", b"x"),
        Err(SecretError::Exists(_))
    ));
    assert!(matches!(store.put("e", b""), Err(SecretError::Empty(_))));
    let leftovers: Vec<_> = std::fs::read_dir(&paths.secrets)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// New values of secrets a running pod uses recreate it (systemd loads
/// them when the service starts); a pod created anyway stays created.
#[test]
fn new_values_recreate_a_running_pod() {
    use crate::plan::decide::Changes;
    let d = crate::plan::diff::PlanDiff {
        pod: "web".into(),
        recreate: false,
        slice: Vec::new(),
        containers: Vec::new(),
    };
    for c in [Changes::Unchanged(d.clone()), Changes::Reload(d.clone())] {
        let c = c.with_new_secret_values();
        assert_eq!(c.kind(), "recreate");
        assert!(c.report().contains("secrets changed"), "{}", c.report());
    }
    let created = Changes::Create { pod: "web".into() }.with_new_secret_values();
    assert_eq!(created.kind(), "create");
}
