use super::*;
use crate::plan::{Plan, assemble};

fn v(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

fn nginx() -> ImageFacts {
    ImageFacts {
        name: "docker.io/library/nginx:alpine".into(),
        digest: format!("sha256:{}", "ab".repeat(32)),
        layers: vec!["/s/layers/a".into(), "/s/layers/b".into()],
        defaults: ImageDefaults {
            entrypoint: v(&["/docker-entrypoint.sh"]),
            cmd: v(&["nginx", "-g", "daemon off;"]),
            env: v(&["PATH=/usr/local/sbin:/usr/bin", "NGINX_VERSION=1.25"]),
            working_dir: Some("/srv".into()),
            user: Some("101:101".into()),
            stop_signal: Some("SIGQUIT".into()),
        },
        exposed_ports: vec![ExposedPort {
            port: 80,
            protocol: Protocol::Tcp,
        }],
    }
}

fn with_nginx() -> Facts {
    Facts {
        images: [("nginx:alpine".to_string(), nginx())].into(),
        ids: None,
        user: None,
    }
}

fn assembled(src: &str, facts: &Facts) -> Plan {
    assemble(&crate::spec::parse_str(src, "t.toml", "t").unwrap(), facts)
}

#[test]
fn a_silent_pod_file_takes_everything_from_the_image() {
    let src = "[containers.web]\nimage = \"nginx:alpine\"\n";
    let bare = assembled(src, &Facts::default());
    assert_eq!(
        bare.containers[0].image,
        Some(ImagePlan::new("nginx:alpine"))
    );
    let plan = assembled(src, &with_nginx());
    let p = &plan.containers[0];
    assert_eq!(
        p.process.argv,
        v(&["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"])
    );
    assert_eq!(p.process.workdir, "/srv");
    assert_eq!(
        p.process.user,
        Some(User::Id {
            uid: 101,
            gid: Some(101)
        })
    );
    assert!(
        p.security.effective.is_empty(),
        "a non-root image user gets no capabilities"
    );
    assert_eq!(p.stop_signal, 3);
    assert_eq!(
        p.process.env[0],
        ("PATH".to_string(), "/usr/local/sbin:/usr/bin".to_string())
    );
    assert!(
        p.process
            .env
            .contains(&("container".into(), "podctl".into()))
    );
    let stored = p.image.as_ref().unwrap().stored.as_ref().unwrap();
    assert_eq!(stored.layers.len(), 2);
    assert_eq!(stored.digest, nginx().digest);
    assert_eq!(stored.exposed_ports, nginx().exposed_ports);
}

#[test]
fn dry_run_shows_exposed_ports_and_whether_the_pod_publishes_them() {
    let shown = |src: &str| crate::plan::render::human(&assembled(src, &with_nginx()));
    let image = "[containers.web]\nimage = \"nginx:alpine\"\n";
    let quiet = shown(image);
    assert!(
        quiet.contains(
            "\n    exposes: 80/tcp (not published); the image's ExposedPorts publish nothing by themselves: the pod's `ports` do\n"
        ),
        "{quiet}"
    );
    let published = shown(&format!("ports = [\"8080:80\"]\n{image}"));
    assert!(
        published.contains("\n    exposes: 80/tcp (published as 8080:80/tcp)\n"),
        "{published}"
    );
}

#[test]
fn the_pod_file_wins_where_it_speaks() {
    let plan = assembled(
        "[containers.web]\nimage = \"nginx:alpine\"\nargs = [\"-v\"]\nworkdir = \"/\"\n\
         user = 0\nstop_signal = \"TERM\"\nenv = { NGINX_VERSION = \"x\" }\n",
        &with_nginx(),
    );
    let p = &plan.containers[0];
    assert_eq!(p.process.argv, v(&["/docker-entrypoint.sh", "-v"]));
    assert_eq!(p.process.workdir, "/");
    assert_eq!(p.process.user, Some(User::Id { uid: 0, gid: None }));
    assert!(!p.security.effective.is_empty());
    assert_eq!(p.stop_signal, 15);
    assert!(
        p.process
            .env
            .contains(&("NGINX_VERSION".into(), "x".into()))
    );
}

#[test]
fn facts_survive_the_state_file() {
    let facts = with_nginx();
    let json = serde_json::to_string(&facts).unwrap();
    assert_eq!(serde_json::from_str::<Facts>(&json).unwrap(), facts);
    assert_eq!(
        serde_json::from_str::<Facts>("{}").unwrap(),
        Facts::default()
    );
}

#[test]
fn command_and_args_follow_kubernetes() {
    let img = nginx().defaults;
    let c = v(&["/bin/sh"]);
    let a = v(&["-c", "true"]);
    assert_eq!(
        effective_command(&img, None, None),
        v(&["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"])
    );
    assert_eq!(
        effective_command(&img, None, Some(&a)),
        v(&["/docker-entrypoint.sh", "-c", "true"])
    );
    assert_eq!(effective_command(&img, Some(&c), None), v(&["/bin/sh"]));
    assert_eq!(
        effective_command(&img, Some(&c), Some(&a)),
        v(&["/bin/sh", "-c", "true"])
    );
}

#[test]
fn pod_env_overrides_image_env_in_place() {
    let img = ImageDefaults {
        env: v(&["PATH=/usr/bin", "A=1", "EMPTY"]),
        ..Default::default()
    };
    let pod = vec![("A".to_string(), "2".to_string()), ("B".into(), "3".into())];
    let want: Vec<(String, String)> = [("PATH", "/usr/bin"), ("A", "2"), ("EMPTY", ""), ("B", "3")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(effective_env(&img, &pod), want);
}

#[test]
fn image_users_and_signals() {
    assert_eq!(image_user(Some("")), None);
    assert_eq!(image_user(Some("nginx")), Some(User::Name("nginx".into())));
    assert_eq!(
        image_user(Some("nginx:www")),
        Some(User::Name("nginx:www".into()))
    );
    assert_eq!(parse_signal("SIGQUIT"), Some(3));
    assert_eq!(parse_signal("winch"), Some(28));
    assert_eq!(parse_signal("9"), Some(9));
    assert_eq!(parse_signal("SIGNOPE"), None);
}

fn port(port: u16, protocol: Protocol) -> ExposedPort {
    ExposedPort { port, protocol }
}

#[test]
fn exposure_says_which_ports_the_pod_publishes() {
    let ports = |specs: &[&str]| -> Vec<PortMapping> {
        specs
            .iter()
            .map(|s| crate::model::ports::parse(s).unwrap())
            .collect()
    };
    let exposed = [port(80, Protocol::Tcp), port(443, Protocol::Tcp)];
    assert_eq!(exposure(&[], &ports(&["8080:80"])), None);
    assert_eq!(
        exposure(&exposed, &ports(&["8080:80", "53:53/udp"])).unwrap(),
        "exposes: 80/tcp (published as 8080:80/tcp), 443/tcp (not published); \
         the image's ExposedPorts publish nothing by themselves: the pod's `ports` do"
    );
    // A range covers it; the same number over udp does not.
    assert_eq!(
        exposure(&exposed, &ports(&["8000-8100:400-500", "80:80/udp"])).unwrap(),
        "exposes: 80/tcp (not published), 443/tcp (published as 8000-8100:400-500/tcp); \
         the image's ExposedPorts publish nothing by themselves: the pod's `ports` do"
    );
    assert_eq!(
        exposure(&exposed[..1], &ports(&["127.0.0.1:80:80"])).unwrap(),
        "exposes: 80/tcp (published as 127.0.0.1:80:80/tcp)"
    );
    assert_eq!(port(53, Protocol::Udp).to_string(), "53/udp");
}
