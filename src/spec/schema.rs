//! A JSON Schema (draft 2020-12) of the pod file, for editors and CI
//! (`podctl __generate schema DIR` writes `pod.schema.json`). The key sets
//! at every level are the reader's (a test compares them with the keys the
//! reader accepts); types, enums and patterns follow the reader's rules as
//! far as a schema can say them. Checks across keys (a container asking
//! more than its pod, `after` cycles, namespaces in both lists) stay with
//! `podctl validate`. Descriptions come from docs/pod-file.md.

use super::updates::{AUTO_UPDATES, PULLS};
use crate::model::{Condition, MAX_REVISION_HISTORY, Namespace, NetworkMode, Restart};
use serde_json::{Map, Value, json};

/// The file `__generate schema` writes.
pub const FILE_NAME: &str = "pod.schema.json";

/// Signals by name, as `stop_signal` takes them (with or without SIG, any case).
const SIGNAL_NAMES: [&str; 8] = [
    "HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "WINCH",
];

/// Writes `pod.schema.json` into `dir`; returns its path.
pub fn write(dir: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(FILE_NAME);
    let mut text = serde_json::to_string_pretty(&pod_schema()).map_err(std::io::Error::other)?;
    text.push('\n');
    std::fs::write(&path, text)?;
    Ok(path)
}

/// The whole schema.
pub fn pod_schema() -> Value {
    let mut top = object(
        "Top-level keys",
        vec![
            ("name", reference("name")),
            ("hostname", hostname()),
            ("share", namespaces()),
            ("host", namespaces()),
            ("autostart", json!({"type": "boolean"})),
            ("resources", reference("resources")),
            ("containers", containers()),
            ("runtime", reference("runtime")),
            ("shm_size", reference("size")),
            ("start_timeout", reference("duration")),
            ("userns", userns()),
            ("needs", pod_names()),
            ("wants", pod_names()),
            ("auto_update", auto_update()),
            ("update_deadline", reference("duration")),
            (
                "revision_history",
                json!({"type": "integer", "minimum": 1, "maximum": MAX_REVISION_HISTORY}),
            ),
            ("volumes", scratch_volumes()),
            ("fs_group", group_id()),
            (
                "fs_group_change",
                strings_enum(crate::model::FsGroupChange::ALL.map(|c| c.as_str())),
            ),
            (
                "supplemental_groups",
                json!({"type": "array", "items": group_id(), "uniqueItems": true, "maxItems": 32}),
            ),
            (
                "network",
                strings_enum(NetworkMode::ALL.map(|m| m.as_str())),
            ),
            (
                "networks",
                json!({"type": "array", "items": {"$ref": "#/$defs/name"}, "minItems": 1}),
            ),
            (
                "ports",
                json!({"type": "array", "items": {"type": "string", "pattern": PORT}}),
            ),
            ("dns", json!({"type": "array", "items": {"type": "string"}})),
            (
                "extra_hosts",
                json!({"type": "object", "additionalProperties": {"type": "string"}}),
            ),
            (
                "resolv_conf",
                strings_enum(crate::model::dns::ResolvFrom::ALL.map(|f| f.as_str())),
            ),
            (
                "dns_search",
                json!({"type": "array", "items": {"type": "string"}, "uniqueItems": true}),
            ),
            (
                "dns_options",
                json!({"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z0-9_-]+(:[!-~]+)?$"}}),
            ),
        ],
    );
    let t = top.as_object_mut().expect("an object");
    t.insert("required".into(), json!(["containers"]));
    let mut schema = Map::new();
    schema.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    schema.insert("title".into(), json!("podctl pod file"));
    schema.extend(std::mem::take(t));
    schema.insert("$defs".into(), definitions());
    Value::Object(schema)
}

/// `[HOST_IP:]HOST:CONTAINER[/tcp|udp|sctp]`, ports or ranges.
const PORT: &str = "^([^/]+:)?[0-9]+(-[0-9]+)?:[0-9]+(-[0-9]+)?(/(tcp|udp|sctp))?$";

fn definitions() -> Value {
    json!({
        "name": {
            "type": "string",
            "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
            "description": "a lowercase DNS label: letters, digits and -, starting and ending with a letter or digit, at most 63 characters"
        },
        "secret": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,252}$",
            "description": "a secret made with `podctl secret create`: 1 to 253 of A-Z a-z 0-9 . _ -, not starting with a dot"
        },
        "size": {
            "type": "string",
            "pattern": "^0*[1-9][0-9]*([KMGT]i?)?$",
            "description": "bytes, or a number with K, M, G or T (or Ki, Mi, Gi, Ti), powers of 1024; more than 0"
        },
        "duration": {
            "anyOf": [
                {"type": "string", "pattern": "^\\s*[0-9]+(ms|s|m|min|h)?\\s*$"},
                {"type": "integer", "minimum": 0, "maximum": 86400}
            ],
            "description": "an integer with ms, s, m (or min) or h, or an integer of seconds; at most a day"
        },
        "runtime": {
            "type": "string",
            "pattern": "^(crun|runc|/.*)$",
            "description": "crun, runc or the absolute path of an OCI runtime"
        },
        "resources": object("resources", vec![
            ("memory", json!({"anyOf": [{"$ref": "#/$defs/size"}, {"type": "integer", "minimum": 1}]})),
            ("cpu", json!({"anyOf": [
                {"type": "string", "pattern": "^0*[1-9][0-9]*%$"},
                {"type": "number", "exclusiveMinimum": 0}
            ]})),
            ("tasks", json!({"type": "integer", "minimum": 1})),
            ("cpu_weight", json!({"type": "integer", "minimum": 1, "maximum": 10000})),
            ("memory_low", json!({"anyOf": [{"$ref": "#/$defs/size"}, {"type": "integer", "minimum": 1}]})),
        ]),
        "probe": probe(),
        "hook": hook(),
        "container": container(),
    })
}

fn container() -> Value {
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let mut c = object(
        "Containers",
        vec![
            ("image", json!({"type": "string", "minLength": 1})),
            (
                "command",
                json!({"type": "array", "items": {"type": "string"}, "minItems": 1}),
            ),
            ("args", strings.clone()),
            (
                "env",
                json!({
                    "type": "object",
                    "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                    "additionalProperties": {"anyOf": [
                        {"type": "string"},
                        {"type": "object", "required": ["secret"], "additionalProperties": false,
                         "properties": {"secret": {"$ref": "#/$defs/secret"}}}
                    ]}
                }),
            ),
            (
                "secrets",
                json!({"type": "array", "items": {"anyOf": [
                    {"$ref": "#/$defs/secret"},
                    {"type": "object", "required": ["name"], "additionalProperties": false,
                     "properties": {
                         "name": {"$ref": "#/$defs/secret"},
                         "target": {"type": "string", "pattern": "^/"},
                         "mode": {"type": "integer", "minimum": 0, "maximum": 511}
                     }}
                ]}}),
            ),
            ("workdir", json!({"type": "string", "pattern": "^/"})),
            (
                "user",
                json!({"anyOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "integer", "minimum": 0, "maximum": 4294967294u64}
                ]}),
            ),
            (
                "restart",
                strings_enum(
                    [Restart::Always, Restart::OnFailure, Restart::Never].map(|r| r.as_str()),
                ),
            ),
            ("resources", reference("resources")),
            ("init", json!({"type": "boolean"})),
            (
                "after",
                json!({"anyOf": [
                    {"type": "array", "items": {"$ref": "#/$defs/name"}},
                    {"type": "object", "additionalProperties": strings_enum(Condition::ALL.map(|c| c.as_str()))}
                ]}),
            ),
            (
                "ready",
                json!({"anyOf": [{"const": "notify"}, {"$ref": "#/$defs/probe"}]}),
            ),
            ("live", reference("probe")),
            (
                "hooks",
                object(
                    "Hooks",
                    vec![
                        ("post_start", reference("hook")),
                        ("pre_stop", reference("hook")),
                    ],
                ),
            ),
            ("stop_signal", signal()),
            ("stop_timeout", reference("duration")),
            ("runtime", reference("runtime")),
            ("privileged", json!({"type": "boolean"})),
            (
                "capabilities",
                object(
                    "Security",
                    vec![
                        (
                            "add",
                            json!({"type": "array", "items": {"type": "string"}, "uniqueItems": true}),
                        ),
                        (
                            "drop",
                            json!({"type": "array", "items": {"type": "string"}, "uniqueItems": true}),
                        ),
                    ],
                ),
            ),
            ("read_only", json!({"type": "boolean"})),
            ("no_new_privileges", json!({"type": "boolean"})),
            (
                "seccomp",
                json!({"type": "string", "pattern": "^(default|unconfined|/.*)$"}),
            ),
            (
                "sysctls",
                json!({
                    "type": "object",
                    "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "integer"}]}
                }),
            ),
            // The pod's /dev/shm is one for all its containers.
            ("shm_size", json!(false)),
            (
                "volumes",
                json!({"type": "array", "items": {"type": "string", "minLength": 1}}),
            ),
            ("pull", strings_enum(PULLS.map(|p| p.as_str()))),
            ("auto_update", auto_update()),
            ("tty", json!({"type": "boolean"})),
            ("stdin", json!({"type": "boolean"})),
        ],
    );
    c.as_object_mut().expect("an object").insert(
        "description".into(),
        json!(
            "one container; regular containers start in file order unless `after` says otherwise"
        ),
    );
    c
}

fn containers() -> Value {
    json!({
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"$ref": "#/$defs/name", "not": {"const": "sandbox"}},
        "additionalProperties": {"$ref": "#/$defs/container"}
    })
}

/// The pod's `[volumes]`: `NAME = {}` or `NAME = { size = "16M" }`.
fn scratch_volumes() -> Value {
    json!({
        "type": "object",
        "propertyNames": {"$ref": "#/$defs/name", "not": {"const": "tmpfs"}},
        "additionalProperties": object(
            "Volumes",
            vec![("size", reference("size")), ("limit", reference("size"))]
        )
    })
}

/// A group ID, as `fs_group` and `supplemental_groups` take it.
fn group_id() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": u32::MAX - 1})
}

fn hostname() -> Value {
    json!({
        "type": "string",
        "maxLength": 64,
        "pattern": "^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$"
    })
}

fn namespaces() -> Value {
    json!({
        "type": "array",
        "items": strings_enum(Namespace::ALL.map(|n| n.as_str())),
        "uniqueItems": true
    })
}

/// A signal by name in any case, with or without SIG, or a number 1-64.
fn signal() -> Value {
    let any_case = |s: &str| -> String {
        s.chars()
            .map(|c| match c.is_ascii_alphabetic() {
                true => format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()),
                false => c.to_string(),
            })
            .collect()
    };
    let names: Vec<String> = SIGNAL_NAMES.iter().map(|s| any_case(s)).collect();
    let pattern = format!("^({})?({})$", any_case("SIG"), names.join("|"));
    json!({"anyOf": [
        {"type": "string", "pattern": pattern},
        {"type": "integer", "minimum": 1, "maximum": 64}
    ]})
}

/// `auto_update`, of the pod or a container.
fn auto_update() -> Value {
    strings_enum(AUTO_UPDATES)
}

fn strings_enum<const N: usize>(values: [&str; N]) -> Value {
    json!({"type": "string", "enum": values.as_slice()})
}

/// `needs`, `wants`: pod names, each once.
fn pod_names() -> Value {
    json!({"type": "array", "items": {"$ref": "#/$defs/name"}, "uniqueItems": true})
}

fn reference(def: &str) -> Value {
    json!({"$ref": format!("#/$defs/{def}")})
}

/// A table of exactly these keys, each described from the table of
/// docs/pod-file.md under the heading `doc_section`.
fn object(doc_section: &str, keys: Vec<(&str, Value)>) -> Value {
    let mut properties = Map::new();
    for (key, mut schema) in keys {
        if let (Some(s), Some(text)) = (schema.as_object_mut(), meaning(doc_section, key)) {
            s.insert("description".into(), json!(text));
        }
        properties.insert(key.to_string(), schema);
    }
    json!({"type": "object", "properties": properties, "additionalProperties": false})
}

mod checks;
mod doc;
#[cfg(test)]
mod tests;

use checks::{hook, probe, userns};
#[cfg(test)]
use doc::POD_FILE_DOC;
use doc::meaning;
