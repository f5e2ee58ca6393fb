//! The schema of a probe table, a hook's handler and `userns`: keys with a
//! choice of forms.

use super::{object, reference};
use serde_json::{Value, json};

/// `ready` and `live`: exactly one check, optional timing.
pub(super) fn probe() -> Value {
    let mut p = object(
        "Probes",
        vec![
            (
                "exec",
                json!({"type": "array", "items": {"type": "string"}, "minItems": 1}),
            ),
            (
                "tcp",
                json!({"type": "integer", "minimum": 1, "maximum": 65535}),
            ),
            ("http", json!({"type": "string", "pattern": "^http://"})),
            ("interval", reference("duration")),
            ("timeout", reference("duration")),
            (
                "retries",
                json!({"type": "integer", "minimum": 1, "maximum": 1000}),
            ),
            ("delay", reference("duration")),
            (
                "headers",
                json!({"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 32}),
            ),
        ],
    );
    p.as_object_mut().expect("an object").insert(
        "oneOf".into(),
        json!([{"required": ["exec"]}, {"required": ["tcp"]}, {"required": ["http"]}]),
    );
    p
}

/// A hook's handler: exactly one of exec, http (with headers) and sleep.
pub(super) fn hook() -> Value {
    let mut h = object(
        "Hook handlers",
        vec![
            (
                "exec",
                json!({"type": "array", "items": {"type": "string"}, "minItems": 1}),
            ),
            ("http", json!({"type": "string", "pattern": "^http://"})),
            ("sleep", reference("duration")),
            (
                "headers",
                json!({"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 32}),
            ),
            // Read only to say why it is refused.
            ("tcp", json!(false)),
        ],
    );
    h.as_object_mut().expect("an object").insert(
        "oneOf".into(),
        json!([{"required": ["exec"]}, {"required": ["http"]}, {"required": ["sleep"]}]),
    );
    h
}

/// `userns`: "auto", "host", or a table of `uid`, `gid` and `size`.
pub(super) fn userns() -> Value {
    let id = json!({"type": "integer", "minimum": 1, "maximum": u32::MAX});
    let size = json!({
        "type": "integer",
        "minimum": crate::model::MIN_USERNS_SIZE,
        "maximum": crate::spec::userns::MAX_USERNS_SIZE
    });
    json!({"anyOf": [
        {"type": "string", "enum": ["auto", "host"]},
        {
            "type": "object",
            "properties": {"uid": id, "gid": id, "size": size},
            "dependentRequired": {"gid": ["uid"]},
            "additionalProperties": false
        }
    ]})
}
