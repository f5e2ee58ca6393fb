//! A JSON Schema validator for the keywords [`super::pod_schema`] emits,
//! and only those: a keyword it does not know fails the test rather than
//! being ignored.

use serde_json::Value;

/// Every place `value` breaks `schema`, as `path: why`.
pub fn errors(root: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(root, root, value, "", &mut out);
    out
}

fn check(root: &Value, schema: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    let s = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => return out.push(format!("{path}: not allowed")),
        Value::Object(s) => s,
        other => panic!("not a schema: {other}"),
    };
    for (keyword, arg) in s {
        match keyword.as_str() {
            "$schema" | "title" | "description" | "$defs" => {}
            "$ref" => {
                let name = arg.as_str().unwrap().strip_prefix("#/$defs/").unwrap();
                check(root, &root["$defs"][name], v, path, out);
            }
            "type" => {
                let ok = match arg.as_str().unwrap() {
                    "string" => v.is_string(),
                    "integer" => v.is_i64() || v.is_u64(),
                    "number" => v.is_number(),
                    "boolean" => v.is_boolean(),
                    "array" => v.is_array(),
                    "object" => v.is_object(),
                    t => panic!("type {t}"),
                };
                if !ok {
                    out.push(format!("{path}: {v} is not of type {arg}"));
                }
            }
            "enum" if !arg.as_array().unwrap().contains(v) => {
                out.push(format!("{path}: {v} is not one of {arg}"))
            }
            "const" if arg != v => out.push(format!("{path}: {v} is not {arg}")),
            "enum" | "const" => {}
            "pattern" => {
                let re = regex::Regex::new(arg.as_str().unwrap()).unwrap();
                if let Some(text) = v.as_str()
                    && !re.is_match(text)
                {
                    out.push(format!("{path}: {v} does not match {arg}"));
                }
            }
            "minLength" | "maxLength" => {
                if let Some(text) = v.as_str() {
                    let n = text.chars().count() as u64;
                    let bound = arg.as_u64().unwrap();
                    if (keyword == "minLength" && n < bound)
                        || (keyword == "maxLength" && n > bound)
                    {
                        out.push(format!("{path}: {v} breaks {keyword} {bound}"));
                    }
                }
            }
            "minimum" | "maximum" | "exclusiveMinimum" => {
                if let Some(n) = v.as_f64() {
                    let b = arg.as_f64().unwrap();
                    let ok = match keyword.as_str() {
                        "minimum" => n >= b,
                        "maximum" => n <= b,
                        _ => n > b,
                    };
                    if !ok {
                        out.push(format!("{path}: {v} breaks {keyword} {b}"));
                    }
                }
            }
            "minItems" => {
                if let Some(a) = v.as_array()
                    && (a.len() as u64) < arg.as_u64().unwrap()
                {
                    out.push(format!("{path}: fewer than {arg} items"));
                }
            }
            "uniqueItems" => {
                if let Some(a) = v.as_array()
                    && a.iter().enumerate().any(|(i, x)| a[..i].contains(x))
                {
                    out.push(format!("{path}: an item is repeated"));
                }
            }
            "items" => {
                for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                    check(root, arg, item, &format!("{path}[{i}]"), out);
                }
            }
            "minProperties" | "maxProperties" => {
                if let Some(o) = v.as_object() {
                    let (n, bound) = (o.len() as u64, arg.as_u64().unwrap());
                    if (keyword == "minProperties" && n < bound)
                        || (keyword == "maxProperties" && n > bound)
                    {
                        out.push(format!("{path}: {n} keys break {keyword} {bound}"));
                    }
                }
            }
            "required" => {
                for key in arg.as_array().unwrap() {
                    if let Some(o) = v.as_object()
                        && !o.contains_key(key.as_str().unwrap())
                    {
                        out.push(format!("{path}: {key} is required"));
                    }
                }
            }
            "properties" | "additionalProperties" | "propertyNames" => {
                let Some(o) = v.as_object() else { continue };
                for (key, item) in o {
                    let sub = format!("{path}.{key}");
                    match keyword.as_str() {
                        "propertyNames" => check(root, arg, &Value::String(key.clone()), &sub, out),
                        "properties" => {
                            if let Some(p) = arg.get(key) {
                                check(root, p, item, &sub, out);
                            }
                        }
                        _ => {
                            if s.get("properties").is_none_or(|p| p.get(key).is_none()) {
                                check(root, arg, item, &sub, out);
                            }
                        }
                    }
                }
            }
            "anyOf" | "oneOf" | "not" => {
                let branches: Vec<&Value> = match arg.as_array() {
                    Some(a) => a.iter().collect(),
                    None => vec![arg],
                };
                let passing = branches
                    .iter()
                    .filter(|b| {
                        let mut e = Vec::new();
                        check(root, b, v, path, &mut e);
                        e.is_empty()
                    })
                    .count();
                let ok = match keyword.as_str() {
                    "anyOf" => passing >= 1,
                    "oneOf" => passing == 1,
                    _ => passing == 0,
                };
                if !ok {
                    out.push(format!(
                        "{path}: {v} breaks {keyword} ({passing} of {} pass)",
                        branches.len()
                    ));
                }
            }
            other => panic!("the test validator does not know the keyword {other}"),
        }
    }
}
