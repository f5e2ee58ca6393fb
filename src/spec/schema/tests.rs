mod validator;

use super::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const APP: &str = "[containers.app]\ncommand = [\"/bin/true\"]\n";

/// The keys the reader accepts where `doc` has the unknown key `zzzzzzzzzz`,
/// from its "unknown key (allowed: ...)" diagnostic.
fn reader_keys(doc: &str) -> BTreeSet<String> {
    let d = crate::spec::parse_str(doc, "t.toml", "t").expect_err(doc);
    let d =
        d.0.iter()
            .find(|d| d.key.ends_with("zzzzzzzzzz"))
            .unwrap_or_else(|| panic!("{doc}: {d:?}"));
    let allowed = d
        .message
        .split_once("(allowed: ")
        .unwrap_or_else(|| panic!("{}", d.message))
        .1;
    allowed
        .trim_end_matches(')')
        .split(", ")
        .map(String::from)
        .collect()
}

/// The property names of the object schema at `pointer`.
fn schema_keys(schema: &Value, pointer: &str) -> BTreeSet<String> {
    let o = schema
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{pointer}"));
    assert_eq!(
        o["additionalProperties"],
        json!(false),
        "{pointer} takes unknown keys"
    );
    o["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn the_schema_has_exactly_the_readers_keys_at_every_level() {
    let schema = pod_schema();
    let z = "zzzzzzzzzz = 1";
    for (pointer, doc) in [
        ("", format!("{z}\n{APP}")),
        ("/$defs/resources", format!("[resources]\n{z}\n{APP}")),
        ("/$defs/container", format!("{APP}{z}\n")),
        ("/$defs/resources", format!("{APP}resources = {{ {z} }}\n")),
        (
            "/$defs/probe",
            format!("{APP}ready = {{ tcp = 80, {z} }}\n"),
        ),
        ("/$defs/probe", format!("{APP}live = {{ tcp = 80, {z} }}\n")),
        (
            "/$defs/container/properties/hooks",
            format!("{APP}hooks = {{ {z} }}\n"),
        ),
        (
            "/$defs/hook",
            format!("{APP}hooks.pre_stop = {{ sleep = 1, {z} }}\n"),
        ),
        (
            "/$defs/container/properties/capabilities",
            format!("{APP}capabilities = {{ {z} }}\n"),
        ),
        (
            "/properties/volumes/additionalProperties",
            format!("[volumes]\ns = {{ {z} }}\n{APP}"),
        ),
    ] {
        assert_eq!(
            schema_keys(&schema, pointer),
            reader_keys(&doc),
            "{pointer}"
        );
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A pod file as the JSON the schema describes.
fn as_json(src: &str) -> Value {
    let table: toml::Table = toml::from_str(src).unwrap();
    serde_json::to_value(table).unwrap()
}

/// Every pod file the reader accepts: the examples, the annotated example
/// of docs/pod-file.md, and a few that use the other forms of values.
fn accepted_pods() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(repo().join("examples")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
    let doc = POD_FILE_DOC
        .split("```toml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    out.push(("docs/pod-file.md".into(), doc.to_string()));
    out.push(("forms".into(), format!(
        "name = \"f\"\nhost = [\"net\"]\nresources = {{ memory = 1073741824, cpu = 1.5, tasks = 9 }}\n\
         {APP}user = 1000\nstop_signal = 15\nstop_timeout = 7\nafter = []\n\
         ready = \"notify\"\nlive = {{ exec = [\"true\"], interval = \"500ms\", delay = \"1min\" }}\n\
         [containers.b]\ncommand = [\"/bin/true\"]\nafter = [\"app\"]\nuser = \"1000:1000\"\n\
         stop_signal = \"term\"\nseccomp = \"unconfined\"\nruntime = \"/usr/bin/runc\"\n\
         resources = {{ cpu = \"25%\", memory = \"1Gi\" }}\nsysctls = {{ \"kernel.shmmax\" = 1000 }}\n"
    )));
    out.push(("network".into(), format!(
        "networks = [\"podctl\"]\nports = [\"127.0.0.1:8080:80/tcp\", \"9000-9001:9000-9001\"]\n\
         dns = [\"10.0.0.1\"]\nextra_hosts = {{ \"db.local\" = \"10.0.0.2\" }}\n\
         resolv_conf = \"pod\"\ndns_search = [\"svc.example\"]\ndns_options = [\"ndots:2\", \"edns0\"]\n{APP}"
    )));
    out.push(("updates".into(), format!(
        "auto_update = \"registry\"\nupdate_deadline = \"90s\"\nrevision_history = 5\n\
         [containers.web]\nimage = \"nginx:1.25\"\npull = \"always\"\n\
         [containers.db]\nimage = \"postgres:16\"\npull = \"never\"\nauto_update = \"disabled\"\n{APP}"
    )));
    out.push(("hooks".into(), format!(
        "{APP}hooks = {{ post_start = {{ exec = [\"touch\", \"/tmp/up\"] }}, pre_stop = {{ sleep = \"2s\" }} }}\n\
         [containers.web]\ncommand = [\"/bin/true\"]\nhooks.pre_stop = {{ http = \"http://127.0.0.1/\", headers = {{ A = \"b\" }} }}\n"
    )));
    let mut accepted = Vec::new();
    for (name, src) in out {
        if let Err(d) = crate::spec::parse_str(&src, &name, "t") {
            panic!("the reader refuses {name}: {d}");
        }
        accepted.push((name, src));
    }
    accepted
}

#[test]
fn every_pod_the_reader_accepts_is_valid() {
    let schema = pod_schema();
    let pods = accepted_pods();
    assert!(pods.len() >= 7, "{}", pods.len());
    for (name, src) in pods {
        let e = validator::errors(&schema, &as_json(&src));
        assert!(e.is_empty(), "{name}: {e:#?}");
    }
}

/// Refused by the reader for what a schema can say: unknown keys, wrong
/// types, values outside an enum or a pattern.
const REFUSED: [&str; 23] = [
    "unknown-key",
    "unknown-key-no-suggestion",
    "unknown-nested-key",
    "wrong-type",
    "bad-restart",
    "network-bad-mode",
    "unknown-namespace",
    "bad-size",
    "empty-command",
    "bad-name",
    "bad-hostname",
    "relative-workdir",
    "bad-runtime",
    "bad-stop",
    "zero-cpu",
    "bad-env-key",
    "pod-volumes-not-a-table",
    "empty-containers",
    "no-containers",
    "bad-container-name",
    "reserved-container-name",
    "duplicate-namespace",
    "hook-bad-handler",
];

#[test]
fn files_the_reader_refuses_for_a_key_a_type_or_a_value_are_invalid() {
    let schema = pod_schema();
    let dir = repo().join("tests/data/spec/invalid");
    for name in REFUSED {
        let src = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
        assert!(crate::spec::parse_str(&src, name, "t").is_err(), "{name}");
        assert!(
            !validator::errors(&schema, &as_json(&src)).is_empty(),
            "the schema accepts {name}"
        );
    }
    for (what, doc) in [
        ("unknown top-level key", format!("nme = \"x\"\n{APP}")),
        (
            "unknown probe key",
            format!("{APP}ready = {{ tcp = 1, retry = 2 }}\n"),
        ),
        (
            "two probe checks",
            format!("{APP}ready = {{ tcp = 1, http = \"http://x/\" }}\n"),
        ),
        (
            "shm_size in a container",
            format!("{APP}shm_size = \"1M\"\n"),
        ),
        ("integer as string list", format!("share = 1\n{APP}")),
        (
            "bad condition",
            format!("{APP}after = {{ b = \"done\" }}\n"),
        ),
        (
            "bad duration",
            format!("{APP}stop_timeout = \"10 minutes\"\n"),
        ),
        ("bad signal", format!("{APP}stop_signal = \"SIGFOO\"\n")),
        ("bad port", format!("ports = [\"80\"]\n{APP}")),
        (
            "bad pull",
            format!("{APP}image = \"nginx\"\npull = \"sometimes\"\n"),
        ),
        ("bad auto_update", format!("auto_update = \"local\"\n{APP}")),
        ("no revisions", format!("revision_history = 0\n{APP}")),
        (
            "bad resolv_conf",
            format!("resolv_conf = \"cluster\"\n{APP}"),
        ),
        (
            "bad dns option",
            format!("dns_options = [\"nd ots\"]\n{APP}"),
        ),
    ] {
        assert!(
            crate::spec::parse_str(&doc, "t.toml", "t").is_err(),
            "the reader accepts {what}"
        );
        assert!(
            !validator::errors(&schema, &as_json(&doc)).is_empty(),
            "the schema accepts {what}"
        );
    }
}

#[test]
fn descriptions_come_from_the_reference() {
    let schema = pod_schema();
    let d = |p: &str| {
        schema
            .pointer(p)
            .and_then(|v| v["description"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        d("/properties/autostart").contains("starts at boot"),
        "{}",
        d("/properties/autostart")
    );
    assert!(d("/$defs/probe/properties/tcp").contains("127.0.0.1:PORT"));
    assert!(d("/$defs/resources/properties/memory").contains("memory limit"));
    assert!(
        d("/$defs/container/properties/pull").contains("podctl apply"),
        "{}",
        d("/$defs/container/properties/pull")
    );
    assert!(
        !d("/properties/networks").contains("]("),
        "links are plain text"
    );
}

#[test]
fn generate_writes_the_schema() {
    let dir = std::env::temp_dir().join(format!("podctl-schema-{}", std::process::id()));
    let path = write(&dir).unwrap();
    assert_eq!(path, dir.join(FILE_NAME));
    let written: Value = serde_json::from_slice(&std::fs::read(Path::new(&path)).unwrap()).unwrap();
    assert_eq!(written, pod_schema());
    std::fs::remove_dir_all(&dir).unwrap();
}
