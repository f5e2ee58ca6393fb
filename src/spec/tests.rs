//! Whole-file tests of the spec walk; the rejected-input catalogue with
//! exact messages lives in `tests/spec.rs`.

use super::*;
use crate::model::{Namespace, Restart, User};

fn ok(src: &str) -> Pod {
    parse_str(src, "t.toml", "t").unwrap_or_else(|d| panic!("{d}"))
}

fn errors(src: &str) -> Vec<String> {
    parse_str(src, "t.toml", "t")
        .expect_err("should be rejected")
        .0
        .iter()
        .map(|d| d.to_string())
        .collect()
}

#[test]
fn defaults_are_filled_in() {
    let pod = ok("[containers.app]\ncommand = [\"sleep\", \"1\"]\n");
    assert_eq!(pod.name, "t");
    assert_eq!(pod.hostname, "t");
    assert_eq!(
        pod.share,
        vec![Namespace::Net, Namespace::Ipc, Namespace::Uts]
    );
    assert!(pod.host.is_empty());
    assert!(pod.autostart);
    assert!(pod.resources.is_empty());
    let c = &pod.containers[0];
    assert_eq!(
        (c.workdir.as_deref(), c.restart, &c.user, c.stop_signal),
        (None, Restart::Always, &None, None)
    );
}

#[test]
fn full_file_is_read() {
    let pod = ok(r#"
name = "web"
hostname = "www.example.com"
share = ["pid", "net"]
host = ["uts"]
autostart = false
resources = { memory = 1073741824, cpu = 1.5, tasks = 100 }
[containers.b]
command = ["/bin/true"]
env = { A = "1", _b = "x y" }
workdir = "/srv"
user = "1000:100"
restart = "on-failure"
resources = { memory = "1Gi", cpu = "150%" }
[containers.a]
command = ["true"]
user = 0
"#);
    assert_eq!(pod.hostname, "www.example.com");
    assert_eq!(pod.share, vec![Namespace::Net, Namespace::Pid]);
    assert_eq!(pod.host, vec![Namespace::Uts]);
    assert!(!pod.autostart);
    assert_eq!(pod.resources.cpu_percent, Some(150));
    let names: Vec<&str> = pod.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["b", "a"], "file order is start order");
    let b = &pod.containers[0];
    assert_eq!(b.env.get("_b").map(String::as_str), Some("x y"));
    assert_eq!(
        b.user,
        Some(User::Id {
            uid: 1000,
            gid: Some(100)
        })
    );
    assert_eq!(b.restart, Restart::OnFailure);
    assert_eq!(b.resources.memory, Some(1 << 30));
    assert_eq!(pod.containers[1].user, Some(User::Id { uid: 0, gid: None }));
}

#[test]
fn host_namespaces_leave_the_default_share() {
    let pod = ok("host = [\"net\"]\n[containers.a]\ncommand = [\"true\"]\n");
    assert_eq!(pod.share, vec![Namespace::Ipc, Namespace::Uts]);
    assert_eq!(pod.host, vec![Namespace::Net]);
}

#[test]
fn errors_are_located_and_all_reported() {
    let src = "nmae = \"x\"\n[containers.app]\ncommand = []\nrestart = \"sometimes\"\n";
    assert_eq!(
        errors(src),
        [
            "t.toml:1:1: nmae: unknown key, did you mean `name`?",
            "t.toml:3:11: containers.app.command: must not be empty: give at least the program to run",
            "t.toml:4:11: containers.app.restart: \"sometimes\" is not a restart policy (allowed: always, on-failure, never)",
        ]
    );
}

#[test]
fn syntax_errors_use_the_same_form() {
    let e = errors("name = \"web\"\nx = = 1\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("t.toml:2:5: invalid TOML: "), "{}", e[0]);
}

#[test]
fn a_hundred_containers() {
    let mut src = String::from("name = \"big\"\n[resources]\nmemory = \"100G\"\n");
    for i in 0..100 {
        src.push_str(&format!(
            "[containers.c{i}]\ncommand = [\"/bin/sleep\", \"{i}\"]\nenv = {{ N = \"{i}\" }}\nresources = {{ memory = \"{}M\" }}\n",
            i + 1
        ));
    }
    let pod = ok(&src);
    assert_eq!(pod.containers.len(), 100);
    for (i, c) in pod.containers.iter().enumerate() {
        assert_eq!(c.name, format!("c{i}"));
        assert_eq!(c.written_argv()[1], i.to_string());
        assert_eq!(c.env["N"], i.to_string());
        assert_eq!(c.resources.memory, Some((i as u64 + 1) << 20));
    }
    let plan = crate::plan::build(&pod);
    assert_eq!(plan.containers.len(), 100);
}

#[test]
fn unreadable_files_are_named_without_a_position() {
    let d = load(std::path::Path::new("/nonexistent/pod.toml")).unwrap_err();
    assert_eq!(
        d.to_string(),
        "/nonexistent/pod.toml: cannot read: No such file or directory (os error 2)"
    );
}

#[test]
fn image_makes_command_optional_and_args_follow_kubernetes() {
    let pod = ok(r#"
[containers.web]
image = "nginx:alpine"
[containers.job]
image = "oci:/srv/images/app:1"
args = ["-c", "true"]
[containers.host]
command = ["/bin/echo"]
args = ["a", "b"]
[containers.none]
image = "registry.local:5000/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
args = []
"#);
    let [web, job, host, none] = &pod.containers[..] else {
        panic!("four containers")
    };
    assert_eq!(web.image.as_deref(), Some("nginx:alpine"));
    assert_eq!((&web.command, &web.args), (&None, &None));
    assert_eq!(job.args, Some(vec!["-c".to_string(), "true".into()]));
    assert_eq!(host.image, None);
    assert_eq!(host.written_argv(), ["/bin/echo", "a", "b"]);
    assert_eq!(none.args, Some(vec![]));
}

#[test]
fn bad_images_and_args_without_a_program_are_located() {
    let src = "[containers.a]\nimage = \"Nginx\"\n[containers.b]\nargs = [\"x\"]\n[containers.c]\nimage = \"oci:rel/dir\"\n[containers.d]\nimage = 5\n[containers.e]\nenv = {}\n";
    assert_eq!(
        errors(src),
        [
            "t.toml:2:9: containers.a.image: invalid image reference \"Nginx\": repository component \"Nginx\" must be lowercase letters, digits and . _ - between them",
            "t.toml:4:8: containers.b.args: args without a command or an image: args replace an image's Cmd and follow a command; put the program in command = [...] (or set image)",
            "t.toml:6:9: containers.c.image: \"oci:rel/dir\": the layout path rel/dir is relative; use an absolute path",
            "t.toml:8:9: containers.d.image: expected a string",
            "t.toml:9:1: containers.e.command: missing; give the program and its arguments, e.g. command = [\"/bin/sleep\", \"infinity\"], or an image = \"...\"",
        ]
    );
}

/// `start_timeout`: 80 s unless written; from a second to an hour.
#[test]
fn start_timeout_is_read_and_bounded() {
    const APP: &str = "[containers.app]\ncommand = [\"sleep\", \"1\"]\n";
    assert_eq!(
        ok(APP).start_timeout_ms,
        crate::model::DEFAULT_START_TIMEOUT_MS
    );
    assert_eq!(
        ok(&format!("start_timeout = \"2m\"\n{APP}")).start_timeout_ms,
        120_000
    );
    assert_eq!(
        ok(&format!("start_timeout = 5\n{APP}")).start_timeout_ms,
        5_000
    );
    assert_eq!(
        ok(&format!("start_timeout = \"1h\"\n{APP}")).start_timeout_ms,
        3_600_000
    );
    for bad in ["\"999ms\"", "\"61m\"", "0"] {
        let e = errors(&format!("start_timeout = {bad}\n{APP}"));
        assert!(
            e.len() == 1
                && e[0].starts_with("t.toml:1:17: start_timeout: ")
                && e[0].contains("out of range"),
            "{bad}: {e:?}"
        );
    }
}

/// A share of CPU time and a memory protection, as systemd has them
/// (`CPUWeight`, `MemoryLow`): Kubernetes' requests.
#[test]
fn cpu_weight_and_memory_low_are_read_and_bounded() {
    let pod = ok("resources = { cpu_weight = 40, memory_low = \"64M\" }\n\
                  [containers.a]\ncommand = [\"true\"]\n\
                  resources = { memory = \"128M\", memory_low = \"32M\", cpu_weight = 10000 }\n");
    assert_eq!(pod.resources.cpu_weight, Some(40));
    assert_eq!(pod.resources.memory_low, Some(64 << 20));
    assert_eq!(pod.containers[0].resources.cpu_weight, Some(10_000));
    assert_eq!(pod.containers[0].resources.memory_low, Some(32 << 20));
    let e = errors(
        "[containers.a]\ncommand = [\"true\"]\n\
         resources = { memory = \"128M\", memory_low = \"256M\", cpu_weight = 0 }\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[1].contains("containers.a.resources.cpu_weight: expected a weight from 1 to 10000"),
        "{e:?}"
    );
    assert!(
        e[0].contains(
            "containers.a.resources.memory_low: 256M is more than the memory limit (memory = 128M)"
        ),
        "{e:?}"
    );
}

/// An http probe's headers are read as written; on another check, or
/// with a name that is not a token or given twice, they are refused.
#[test]
fn probe_headers_are_http_tokens_once_each() {
    let pod = ok("[containers.a]\ncommand = [\"true\"]\n\
                  ready = { http = \"http://127.0.0.1:80/\", headers = { X-Probe = \"yes\" } }\n");
    let ready = pod.containers[0].ready.as_ref().unwrap();
    assert_eq!(
        ready.headers.get("X-Probe").map(String::as_str),
        Some("yes")
    );
    let e = errors(
        "[containers.a]\ncommand = [\"true\"]\n\
         ready = { tcp = 80, headers = { X = \"1\" } }\n\
         live = { http = \"http://127.0.0.1:80/\", headers = { \"a b\" = \"1\", x-y = \"1\", X-Y = \"2\" } }\n",
    );
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(
        e[0].contains("containers.a.ready.headers: only an http check sends headers"),
        "{e:?}"
    );
    assert!(
        e[1].contains("containers.a.live.headers.\"a b\": \"a b\" is not a header name"),
        "{e:?}"
    );
    assert!(
        e[2].contains("containers.a.live.headers.X-Y: a header given twice"),
        "{e:?}"
    );
}
