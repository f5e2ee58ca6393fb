use super::*;
use serde_json::json;

#[test]
fn yaml_blocks_and_scalars() {
    let v = json!({
        "name": "web",
        "pid": 102,
        "ready": true,
        "last_exit": null,
        "containers": [
            {"name": "app", "ports": []},
            {"name": "job", "tags": ["a", "b"]}
        ],
        "nested": {"deep": {"x": 1}},
        "empty": {},
        "image": "docker.io/library/nginx:1.25",
        "words": ["yes", "No", "null", "1.5", "-x", "", "a b", "line\nbreak", "say \"hi\""],
        "lists": [[1, 2], []]
    });
    // Keys in order, as kubectl prints them.
    let want = "\
containers:
  - name: app
    ports: []
  - name: job
    tags:
      - a
      - b
empty: {}
image: \"docker.io/library/nginx:1.25\"
last_exit: null
lists:
  - - 1
    - 2
  - []
name: web
nested:
  deep:
    x: 1
pid: 102
ready: true
words:
  - \"yes\"
  - \"No\"
  - \"null\"
  - \"1.5\"
  - \"-x\"
  - \"\"
  - \"a b\"
  - \"line\\nbreak\"
  - \"say \\\"hi\\\"\"
";
    assert_eq!(yaml(&v), want);
}

#[test]
fn yaml_top_level_list_and_scalar() {
    assert_eq!(yaml(&json!([])), "[]\n");
    assert_eq!(yaml(&json!("web")), "web\n");
    assert_eq!(yaml(&json!([{"a": 1}])), "- a: 1\n");
}

#[test]
fn render_formats() {
    let v = json!({"a": 1});
    assert_eq!(render(Format::Human, &v).unwrap(), None);
    assert_eq!(
        render(Format::Json, &v).unwrap().unwrap(),
        "{\n  \"a\": 1\n}\n"
    );
    assert_eq!(render(Format::Yaml, &v).unwrap().unwrap(), "a: 1\n");
}

/// A YAML document read back with a YAML parser, as JSON (core schema:
/// plain `null`, booleans and numbers resolve, every quoted scalar is a string).
fn read_back(src: &str) -> Value {
    use saphyr_parser::{Event, Parser, ScalarStyle};
    enum Open {
        Seq(Vec<Value>),
        Map(serde_json::Map<String, Value>, Option<String>),
    }
    fn put(stack: &mut [Open], root: &mut Option<Value>, v: Value) {
        match stack.last_mut() {
            Some(Open::Seq(items)) => items.push(v),
            Some(Open::Map(m, key)) => match key.take() {
                Some(k) => {
                    m.insert(k, v);
                }
                None => *key = Some(v.as_str().expect("string key").to_string()),
            },
            None => *root = Some(v),
        }
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut root = None;
    for item in Parser::new_from_str(src) {
        let (event, _) = item.expect("valid YAML");
        match event {
            Event::Scalar(text, style, _, _) => {
                let v = if style != ScalarStyle::Plain {
                    Value::String(text.to_string())
                } else if text == "null" {
                    Value::Null
                } else if let Ok(b) = text.parse::<bool>() {
                    Value::Bool(b)
                } else if let Ok(n) = text.parse::<i64>() {
                    Value::from(n)
                } else {
                    Value::String(text.to_string())
                };
                put(&mut stack, &mut root, v);
            }
            Event::SequenceStart(..) => stack.push(Open::Seq(Vec::new())),
            Event::MappingStart(..) => stack.push(Open::Map(serde_json::Map::new(), None)),
            Event::SequenceEnd | Event::MappingEnd => {
                let v = match stack.pop().expect("open") {
                    Open::Seq(items) => Value::Array(items),
                    Open::Map(m, _) => Value::Object(m),
                };
                put(&mut stack, &mut root, v);
            }
            _ => {}
        }
    }
    root.expect("a document")
}

/// What `-o yaml` prints reads back as what `-o json` prints.
#[test]
fn yaml_reads_back_as_the_json() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/json");
    for file in ["status.json", "ps.json", "inspect.json", "volume-ls.json"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let doc = yaml(&v);
        assert_eq!(read_back(&doc), v, "{file}:\n{doc}");
    }
    let tricky = json!({"s": ["yes", "on", "~", "null", "0x1F", "1e3", "a: b", "#x", "- y",
        "[z]", "{w}", "&a", "*b", "!t", "%p", "|", ">", "'q'", "\"d\"", " lead", "trail ",
        "tab\there", "é", "", "-", "?", ":"], "n": [0, -3, 1.5]});
    let doc = yaml(&tricky);
    let back = read_back(&doc);
    assert_eq!(back["s"], tricky["s"], "{doc}");
}

#[test]
fn times_in_utc() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(rfc3339(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
    assert_eq!(
        rfc3339(1_795_938_906_123_456),
        "2026-11-29T07:55:06.123456Z"
    );
}
