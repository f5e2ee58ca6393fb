//! The YAML tree: scalars, positions, documents and its limits.

use super::*;

fn one(src: &str) -> Node {
    parse(src).unwrap().remove(0)
}

#[test]
fn scalars_follow_the_core_schema() {
    let Value::Map(p) = one("a: 1\nb: \"1\"\nc: true\nd: ~\ne: 1.5\nf: 500m\ng: !!str 2\n").value
    else {
        panic!()
    };
    let v: Vec<&Value> = p.iter().map(|(_, v)| &v.value).collect();
    assert_eq!(v[0], &Value::Int(1));
    assert_eq!(v[1], &Value::Str("1".into()));
    assert_eq!(v[2], &Value::Bool(true));
    assert_eq!(v[3], &Value::Null);
    assert_eq!(v[4], &Value::Float(1.5));
    assert_eq!(v[5], &Value::Str("500m".into()));
    assert_eq!(v[6], &Value::Str("2".into()));
    let Value::Map(p) = one("m: 0640\nd: 0\nn: 089\n").value else {
        panic!()
    };
    assert_eq!(p[0].1.value, Value::Int(0o640));
    assert_eq!(p[1].1.value, Value::Int(0));
    assert_eq!(p[2].1.value, Value::Int(89));
}

#[test]
fn offsets_are_bytes_and_documents_are_split() {
    let src = "a: é\n---\nb: [x, y]\n";
    let docs = parse(src).unwrap();
    assert_eq!(docs.len(), 2);
    let Value::Map(p) = &docs[1].value else {
        panic!()
    };
    let Value::Seq(items) = &p[0].1.value else {
        panic!()
    };
    assert_eq!(items[1].offset, src.find('y').unwrap());
}

#[test]
fn duplicate_keys_bad_syntax_and_alias_bombs_are_errors() {
    assert!(
        parse("a: 1\na: 2\n")
            .unwrap_err()
            .message
            .contains("duplicate")
    );
    let e = parse("a: [1\n").unwrap_err();
    assert!(e.message.starts_with("invalid YAML"), "{e:?}");
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..8 {
        bomb.push_str(&format!(
            "b{i}: &b{i} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
            p = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            }
        ));
    }
    assert!(parse(&bomb).unwrap_err().message.contains("nodes"));
    // Few nodes, many bytes: a long string aliased many times.
    let mut bomb = format!("a: &a \"{}\"\nb: [", "x".repeat(100_000));
    bomb.push_str(&vec!["*a"; 200].join(", "));
    bomb.push_str("]\n");
    let e = parse(&bomb).unwrap_err().message;
    assert!(e.contains(&format!("{MAX_EXPANDED_BYTES} bytes")), "{e}");
    let big = "#".repeat(MAX_FILE_BYTES + 1);
    let e = parse(&big).unwrap_err().message;
    assert!(e.contains(&MAX_FILE_BYTES.to_string()), "{e}");
    let Value::Map(p) = one("x: &v 3\ny: *v\n").value else {
        panic!()
    };
    assert_eq!(p[1].1.value, Value::Int(3));
}
