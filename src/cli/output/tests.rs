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
