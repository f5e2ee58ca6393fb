//! A whole pod's life through the supervisor with every effect faked:
//! systemd ([`Recorder`]), processes ([`fake::Processes`]), mounts
//! ([`Mounts`]), the network ([`FakeNetwork`]) and the image store.

use super::*;
use crate::image::facts::ImageSource;
use crate::mount::Mounter;
use crate::mount::fake::{Mount, Mounts};
use crate::net::session::fake::FakeNetwork;
use crate::plan::{Facts, ImageFacts};
use crate::supervise::launch::LaunchSpec;
use std::cell::RefCell;

const POD: &str = "fakelife";

/// An image container and a host-root one.
const TEXT: &str = "[containers.app]\nimage = \"app:1\"\ncommand = [\"serve\"]\n\
    [containers.side]\ncommand = [\"sleep\", \"100\"]\n";

/// The store as far as the pod's one image goes: `app:1` at `digest`.
struct Images(RefCell<Facts>);

impl Images {
    fn at(digest: &str) -> Images {
        Images(RefCell::new(facts(digest)))
    }
}

impl ImageSource for Images {
    fn facts(&self, _pod: &crate::model::Pod) -> Result<Facts, crate::image::resolve::ImageError> {
        Ok(self.0.borrow().clone())
    }
}

fn facts(digest: &str) -> Facts {
    let image = ImageFacts {
        name: "stored/app:1".into(),
        digest: format!("sha256:{}", digest.repeat(32)),
        layers: vec![format!("/s/layers/{digest}").into()],
        ..Default::default()
    };
    Facts {
        images: [("app:1".to_string(), image)].into(),
        ids: None,
        user: None,
    }
}

/// The PID of container `name`'s helper.
fn pid_of(sup: &Supervisor<'_>, name: &str) -> u32 {
    let s = sup.slots.iter().find(|s| s.plan.name == name).unwrap();
    s.child.as_ref().map(|c| c.pid()).expect("running")
}

/// Each container helper's launch spec, by PID, from what it got on stdin.
fn launch_specs(procs: &fake::Processes) -> Vec<(u32, LaunchSpec)> {
    procs
        .log()
        .iter()
        .filter(|l| l.starts_with("held ") && l.contains(" __spawn "))
        .map(|l| {
            let pid = l.split(' ').nth(1).unwrap().parse().unwrap();
            let json = &l[l.find('{').unwrap()..];
            (pid, serde_json::from_str(json).unwrap())
        })
        .collect()
}

/// What a container helper mounts before its runtime starts (in its own
/// process, never the supervisor's): the pod's /dev/shm, and an image
/// container's overlay root of the layers its spec names.
fn helper_mounts(spec: &LaunchSpec, dirs: &crate::oci::Dirs, m: &Mounts) {
    let c = &spec.container;
    crate::oci::pod::ensure(c, dirs, m).unwrap();
    if let Some(stored) = c.image.as_ref().and_then(|i| i.stored.as_ref()) {
        let rootfs = dirs.bundle(&c.id()).join("rootfs");
        std::fs::create_dir_all(&rootfs).unwrap();
        let lower: Vec<String> = stored
            .layers
            .iter()
            .map(|l| l.display().to_string())
            .collect();
        let flags = crate::mount::Flags::of(&c.security);
        m.overlay(&rootfs, &format!("lowerdir={}", lower.join(":")), flags)
            .unwrap();
    }
}

/// Start, reload after the image moved, stop, and the supervisor gone:
/// - the start clears what a previous run left mounted, mounts nothing
///   itself, creates the slice, the sandbox and both scopes in one batch
///   and sets the network up on the holder's namespace; only the image
///   container's helper is told of the image's layers;
/// - a reload with the image at a new digest restarts that container only
///   (a new helper in a new scope), the host-root one runs on untouched;
/// - a stop signals the containers in reverse order, then the holder, and
///   detaches the pod's /dev/shm and image root; the network goes with
///   the supervisor, after all that.
#[test]
fn a_pods_life_through_fakes_of_every_effect() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let mounts = Mounts::new();
    let net = FakeNetwork::new();
    let images = Images::at("ab");
    let dir = temp_dir("fake-life");
    let paths = Layout {
        podctl: "podctl".into(),
        pause: "podctl-pause".into(),
        ..Layout::under(&dir)
    };
    let dirs = paths.oci();
    let stored = paths.definition(POD);
    std::fs::create_dir_all(stored.parent().unwrap()).unwrap();
    std::fs::write(&stored, TEXT).unwrap();
    let pod = crate::spec::parse_str(TEXT, "t.toml", POD).unwrap();
    let running = images.facts(&pod).unwrap();
    let plan = crate::plan::assemble(&pod, &running);
    let mut sup = Supervisor::new(&mgr, paths, plan, TEXT.into())
        .unwrap()
        .with_facts(running)
        .with_processes(&procs)
        .with_mounts(&mounts)
        .with_images(&images)
        .with_network(net.session());

    // A previous run's /dev/shm and image root, still mounted.
    let shm = dirs.shm(POD);
    let app_root = dirs.bundle(&format!("{POD}.app")).join("rootfs");
    std::fs::create_dir_all(&app_root).unwrap();
    mounts.tmpfs(&shm, 1 << 20, true).unwrap();
    mounts.overlay(&app_root, "lowerdir=/old", RW).unwrap();

    assert_eq!(sup.start().unwrap(), Started::Running);
    let detach = |p: &std::path::Path| format!("detach {}", p.display());
    assert_eq!(mounts.log()[2..], [detach(&shm), detach(&app_root)]);
    assert!(mounts.mounted().is_empty(), "{:?}", mounts.mounted());
    let holder = procs.pids(" hold ")[0];
    let specs = launch_specs(&procs);
    let (app, side) = (specs[0].0, specs[1].0);
    let batch: Vec<String> = mgr
        .calls
        .borrow()
        .iter()
        .filter(|c| c.starts_with("start_transient"))
        .cloned()
        .collect();
    assert_eq!(
        batch,
        [
            format!("start_transient pod-{POD}.slice pids=[]"),
            format!("start_transient pod-{POD}.sandbox.scope pids=[{holder}]"),
            format!("start_transient pod-{POD}.app.scope pids=[{app}]"),
            format!("start_transient pod-{POD}.side.scope pids=[{side}]"),
        ]
    );
    assert_eq!(net.log(), ["begin".to_string(), format!("attach {holder}")]);
    let layers = |s: &LaunchSpec| {
        let image = s.container.image.as_ref();
        image
            .and_then(|i| i.stored.as_ref())
            .map(|i| i.layers.clone())
    };
    assert_eq!(layers(&specs[0].1), Some(vec!["/s/layers/ab".into()]));
    assert_eq!(layers(&specs[1].1), None);
    // The helpers mount as they prepare: one /dev/shm, one image root.
    for (_, s) in &specs {
        helper_mounts(s, &dirs, &mounts);
    }
    let kinds: Vec<(std::path::PathBuf, &str)> = mounts
        .mounted()
        .into_iter()
        .map(|(at, m)| match m {
            Mount::Tmpfs { .. } => (at, "tmpfs"),
            Mount::Overlay { .. } => (at, "overlay"),
        })
        .collect();
    assert_eq!(
        kinds,
        [(shm.clone(), "tmpfs"), (app_root.clone(), "overlay")]
    );

    // The image moved: app restarts, side runs on.
    *images.0.borrow_mut() = facts("cd");
    // The fake's units do not follow processes: app's scope is taken as
    // gone with its helper, which the reload stops.
    mgr.units
        .borrow_mut()
        .remove(&format!("pod-{POD}.app.scope"));
    mgr.calls.borrow_mut().clear();
    let before = procs.log().len();
    sup.reload().unwrap();
    let r = sup.last_reload.clone().expect("recorded");
    assert_eq!(r.error, None, "{}", r.summary);
    let specs = launch_specs(&procs);
    assert_eq!(specs.len(), 3, "{:?}", procs.log());
    let app2 = specs[2].0;
    assert_eq!(layers(&specs[2].1), Some(vec!["/s/layers/cd".into()]));
    let log = procs.log()[before..].to_vec();
    let at = |line: String| log.iter().position(|l| *l == line);
    let (stopped, released) = (
        at(format!("signal {app} SIGTERM")),
        at(format!("go {app2}")),
    );
    assert!(stopped.is_some() && released > stopped, "{log:?}");
    let pid = |l: &String| l.split(' ').nth(1).map(str::to_string);
    assert!(
        !log.iter().any(|l| pid(l) == Some(side.to_string())),
        "side untouched: {log:?}"
    );
    assert_eq!(
        *mgr.calls.borrow(),
        [format!("start_transient pod-{POD}.app.scope pids=[{app2}]")]
    );
    assert_eq!(pid_of(&sup, "app"), app2);
    assert_eq!(pid_of(&sup, "side"), side);

    // Stop: side and app, then the holder; the pod's mounts go.
    let before = procs.log().len();
    sup.stop().unwrap();
    let signals: Vec<String> = procs.log()[before..]
        .iter()
        .filter(|l| l.starts_with("signal "))
        .cloned()
        .collect();
    assert_eq!(
        signals,
        [
            format!("signal {side} SIGTERM"),
            format!("signal {app2} SIGTERM"),
            format!("signal {holder} SIGTERM"),
        ]
    );
    assert!(mounts.mounted().is_empty(), "{:?}", mounts.mounted());
    assert!(!app_root.exists() && !dirs.pod(POD).exists());
    assert!(!net.log().contains(&"end".to_string()), "{:?}", net.log());
    drop(sup);
    assert_eq!(net.log().last().map(String::as_str), Some("end"));
    let _ = std::fs::remove_dir_all(&dir);
}

const RW: crate::mount::Flags = crate::mount::Flags {
    read_only: false,
    nosuid: true,
};
