//! Expected-output tests for OCI runtime configs: for every example pod and
//! every pod file in `tests/data/oci/`, each container's `config.json` (built
//! with a fixed host context) is `tests/data/oci/POD.CONTAINER.json`, and the
//! plans of the files in `tests/data/oci/` are `POD.plan` there.
//!
//! `UPDATE_EXPECT=1 cargo test --test oci` rewrites the expected files;
//! review the diff before committing it.

use podctl::model::User;
use podctl::oci::{self, Context, HostUser};
use podctl::plan::{self, render};
use podctl::spec;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn expect(path: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1") {
        fs::write(path, actual).unwrap();
        return;
    }
    match fs::read_to_string(path) {
        Ok(e) if e == actual => {}
        Ok(e) => failures.push(format!(
            "{} differs\n--- expected\n{e}\n--- actual\n{actual}",
            path.display()
        )),
        Err(e) => failures.push(format!(
            "{}: {e} (run with UPDATE_EXPECT=1)",
            path.display()
        )),
    }
}

/// The host as the expected files assume it.
const HOST_ROOT: [&str; 7] = ["etc", "home", "opt", "root", "srv", "usr", "var"];

fn host_user(user: &Option<User>) -> HostUser {
    let (uid, gid) = match user {
        None => (0, 0),
        Some(User::Id { uid, gid }) => (*uid, gid.unwrap_or(*uid)),
        // Names resolve on the host; the expected files use nobody.
        Some(User::Name(_)) => (65534, 65534),
    };
    HostUser {
        uid,
        gid,
        additional_gids: vec![],
    }
}

/// What the expected files assume the store holds for any reference: a
/// two-layer busybox image that runs `httpd` in the foreground.
fn fake_image(reference: &str) -> podctl::image::resolve::Resolved {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let hex = |c: char| c.to_string().repeat(64);
    podctl::image::resolve::Resolved {
        name: format!(
            "stored/{}",
            reference.rsplit('/').next().unwrap_or(reference)
        ),
        digest: podctl::image::Digest::parse(&format!("sha256:{}", hex('d'))).unwrap(),
        config: podctl::image::ImageConfig {
            process: podctl::plan::image::ImageDefaults {
                entrypoint: s(&["/bin/busybox"]),
                cmd: s(&["httpd", "-f", "-p", "80", "-h", "/www"]),
                env: s(&["PATH=/bin", "GREETING=image"]),
                working_dir: Some("/www".into()),
                user: None,
                stop_signal: Some("SIGQUIT".into()),
            },
            ..Default::default()
        },
        layers: vec![
            PathBuf::from(format!("/var/lib/podctl/storage/layers/{}", hex('a'))),
            PathBuf::from(format!("/var/lib/podctl/storage/layers/{}", hex('b'))),
        ],
    }
}

#[test]
fn configs_match_their_expected_files() {
    let data = root().join("tests/data/oci");
    let mut files = toml_files(&root().join("examples"));
    files.extend(toml_files(&data));
    let host_root: Vec<String> = HOST_ROOT.iter().map(|s| s.to_string()).collect();
    let mut failures = Vec::new();
    let mut written = 0;
    for path in &files {
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let src = fs::read_to_string(path).unwrap();
        let pod = spec::parse_str(&src, stem, stem)
            .unwrap_or_else(|d| panic!("{} is rejected:\n{d}", path.display()));
        let mut facts =
            podctl::image::facts::gather(&pod, &mut |r| Ok(Some(fake_image(r)))).unwrap();
        // The range `userns = "auto"` would be given.
        facts.ids = Some(podctl::model::IdMap {
            uid: 2_147_483_648,
            gid: 2_147_483_648,
            size: 65_536,
        });
        let plan = plan::assemble(&pod, &facts);
        if path.starts_with(&data) {
            expect(
                &data.join(format!("{}.plan", pod.name)),
                &render::human(&plan),
                &mut failures,
            );
        }
        for c in &plan.containers {
            let rootfs = PathBuf::from(format!("/run/podctl/pods/{}/{}/rootfs", pod.name, c.name));
            let shm = PathBuf::from(format!("/run/podctl/pods/{}/shm", pod.name));
            let scratch = PathBuf::from(format!("/var/lib/podctl/pods/{}/scratch", pod.name));
            let net_files = PathBuf::from(format!("/run/podctl/net/{}", pod.name));
            let notify =
                podctl::supervise::notify_socket(Path::new("/run/podctl"), &pod.name, &c.name);
            let cgroups = format!("/pod.slice/{}/payload", c.unit.name);
            let ctx = Context {
                holder_pid: 4242,
                init: Path::new("/usr/local/bin/podctl-pause"),
                rootfs: &rootfs,
                host_root: &host_root,
                shm: &shm,
                volumes: Path::new("/var/lib/podctl/volumes"),
                scratch: &scratch,
                net_files: &net_files,
                notify_socket: Some(&notify),
                cgroups_path: Some(&cgroups),
                user: host_user(&c.process.user),
                custom_seccomp: None,
                host_caps: None,
                secrets: None,
            };
            let spec = oci::build(&oci::Container::from_plan(&plan, c), &ctx);
            let json = oci::config::to_json(&spec);
            // What crun and runc read back: the document is a valid spec.
            let back: oci_spec::runtime::Spec = serde_json::from_str(&json).unwrap();
            assert_eq!(back, spec);
            expect(
                &data.join(format!("{}.{}.json", pod.name, c.name)),
                &json,
                &mut failures,
            );
            written += 1;
        }
    }
    assert!(written > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
