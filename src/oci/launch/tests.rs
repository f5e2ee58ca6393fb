use super::*;
use crate::oci::failure::Fault;
use crate::oci::runtime::{Fake, NewContainer, Runtime, RuntimeError};
use std::time::Duration;

#[test]
fn exec_finds_the_runtime_from_the_cgroup() {
    let tmp = std::env::temp_dir().join(format!("podctl-execinfo-{}", std::process::id()));
    let dirs = Dirs {
        run: tmp.clone(),
        lib: tmp.clone(),
        net: tmp.join("net"),
    };
    let info = ExecInfo {
        id: "web.app".into(),
        program: "/usr/bin/crun".into(),
        state_root: "/r".into(),
        log: "/l".into(),
        cgroupfs: true,
        is_crun: true,
    };
    std::fs::create_dir_all(dirs.bundle("web.app")).unwrap();
    std::fs::write(
        dirs.bundle("web.app").join("runtime.json"),
        serde_json::to_vec(&info).unwrap(),
    )
    .unwrap();
    let v2 = "0::/pod.slice/pod-web.slice/pod-web.app.scope/payload\n";
    assert_eq!(ExecInfo::for_cgroup(&dirs, v2), Some(info.clone()));
    let hybrid = "12:pids:/\n1:name=systemd:/pod.slice/pod-web.slice/pod-web.app.scope\n0::/\n";
    assert_eq!(ExecInfo::for_cgroup(&dirs, hybrid), Some(info));
    assert_eq!(
        ExecInfo::for_cgroup(&dirs, "0::/pod.slice/pod-web.slice/pod-web.db.scope\n"),
        None
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn create_start_and_pid() {
    let dir = std::env::temp_dir().join(format!("podctl-ocilaunch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Left by an earlier run: not this one's.
    std::fs::write(dir.join("init.pid"), "1").unwrap();
    let rt = Fake {
        init_pid: Some(4321),
        ..Default::default()
    };
    let proc = Path::new("/nonexistent");
    let pid = run(&rt, "web.app", &dir, proc, Io::null()).unwrap().init;
    assert_eq!(pid, 4321);
    assert_eq!(
        *rt.calls.borrow(),
        ["delete web.app", "create web.app", "start web.app"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_start_leaves_nothing_and_says_why() {
    let rt = Fake {
        fail: vec!["start"],
        ..Default::default()
    };
    let e = run(
        &rt,
        "web.app",
        Path::new("/nonexistent"),
        Path::new("/nonexistent"),
        Io::null(),
    )
    .unwrap_err();
    assert_eq!(e.fault, Fault::Definition);
    assert_eq!(
        e.message,
        "fake start web.app failed (exit status: 1): start refused"
    );
    assert_eq!(
        *rt.calls.borrow(),
        [
            "delete web.app",
            "create web.app",
            "start web.app",
            "delete web.app"
        ]
    );
}

/// A runtime whose process never exits; it writes the init's PID (77) at
/// its third poll.
#[derive(Default)]
struct Lingering {
    polls: std::sync::atomic::AtomicU32,
    pid_file: std::sync::Mutex<Option<PathBuf>>,
}

impl crate::oci::runtime::Detaching for &Lingering {
    fn try_wait(&mut self) -> Option<Result<(), RuntimeError>> {
        let n = self.polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert!(n < 500, "the runtime's exit was waited for");
        if n == 3 {
            let f = self.pid_file.lock().unwrap();
            std::fs::write(f.as_ref().unwrap(), "77\n").unwrap();
        }
        None
    }
}

/// A fake procfs entry: `pid`'s command name and children.
fn fake_proc(proc: &Path, pid: u32, comm: &str, children: &str) {
    let task = proc.join(format!("{pid}/task/{pid}"));
    std::fs::create_dir_all(&task).unwrap();
    std::fs::write(proc.join(format!("{pid}/comm")), format!("{comm}\n")).unwrap();
    std::fs::write(task.join("children"), children).unwrap();
}

impl Runtime for Lingering {
    fn create(&self, _: &str, _: NewContainer<'_>) -> Result<(), RuntimeError> {
        unreachable!()
    }
    fn start(&self, _: &str) -> Result<(), RuntimeError> {
        unreachable!()
    }
    fn run_detached<'a>(
        &'a self,
        _: &str,
        new: NewContainer<'_>,
    ) -> Result<Box<dyn crate::oci::runtime::Detaching + 'a>, RuntimeError> {
        *self.pid_file.lock().unwrap() = Some(new.pid_file.to_path_buf());
        Ok(Box::new(self))
    }
    fn kill(&self, _: &str, _: i32) -> Result<(), RuntimeError> {
        unreachable!()
    }
    fn delete(&self, _: &str, _: bool) -> Result<(), RuntimeError> {
        Ok(())
    }
    fn exec_command(&self, _: &str, _: &[String]) -> std::process::Command {
        unreachable!()
    }
    fn state(&self, _: &str) -> Result<String, RuntimeError> {
        unreachable!()
    }
}

/// The container counts as started once its init (podctl-pause, executed)
/// has forked the command, while the runtime's process is still finishing;
/// not before.
#[test]
fn started_once_the_init_forked_the_command_without_the_runtime_exit() {
    let dir = std::env::temp_dir().join(format!("podctl-ocilinger-{}", std::process::id()));
    let proc = dir.join("proc");
    // The runtime's process, not yet executed as the init: not started.
    fake_proc(&proc, 77, "crun", "78 ");
    let rt = Lingering::default();
    let waited = std::thread::scope(|s| {
        let h = s.spawn(|| {
            let pid = run(&rt, "web.app", &dir, &proc, Io::null()).unwrap().init;
            assert_eq!(pid, 77);
        });
        std::thread::sleep(Duration::from_millis(100));
        let polls = rt.polls.load(std::sync::atomic::Ordering::SeqCst);
        std::fs::write(proc.join("77/comm"), "podctl-pause\n").unwrap();
        h.join().unwrap();
        polls
    });
    assert!(
        waited > 5,
        "started before the init was executed ({waited} polls)"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A pid file left by an earlier run of the container is not taken for
/// this run's, even when that PID is now another container's init.
#[test]
fn a_stale_pid_file_is_not_this_runs() {
    let dir = std::env::temp_dir().join(format!("podctl-ocistale-{}", std::process::id()));
    let proc = dir.join("proc");
    fake_proc(&proc, 55, "podctl-pause", "56 ");
    fake_proc(&proc, 77, "podctl-pause", "78 ");
    std::fs::write(dir.join("init.pid"), "55").unwrap();
    let rt = Lingering::default();
    let pid = run(&rt, "web.app", &dir, &proc, Io::null()).unwrap().init;
    assert_eq!(pid, 77);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A volume the host cannot idmap fails the start as the definition's
/// fault, naming the volume, its filesystem, what is missing and the way
/// out; other volume failures may pass.
#[test]
fn a_volume_that_cannot_be_idmapped_is_the_definitions_fault() {
    let tmp = std::env::temp_dir().join(format!("podctl-noidmap-{}", std::process::id()));
    let www = tmp.join("www");
    std::fs::create_dir_all(&www).unwrap();
    let dirs = Dirs {
        run: tmp.join("run"),
        lib: tmp.join("lib"),
        net: tmp.join("run").join("net"),
    };
    let toml = format!(
        "userns = {{ uid = 200000, gid = 200000, size = 65536 }}\n\
         [containers.app]\nimage = \"x:1\"\nvolumes = [\"{}:/www\"]\n",
        www.display()
    );
    let pod = crate::spec::parse_str(&toml, "t.toml", "p").unwrap();
    let plan = crate::plan::build(&pod);
    let c = Container::from_plan(&plan, &plan.containers[0]);
    let map = c.userns.unwrap();
    let bundle_dir = dirs.bundle(&c.id());
    let m = crate::mount::fake::Mounts::without_idmap();
    bundle::prepare(&bundle_dir, &Default::default(), &m).unwrap();
    let e = bundle::attach_volumes(&c, &bundle_dir, &dirs, map, &m).unwrap_err();
    let f = volume_failure(e);
    assert_eq!(f.fault, Fault::Definition);
    assert!(
        f.message
            .starts_with(&format!("cannot mount {} idmapped (", www.display())),
        "{}",
        f.message
    );
    for want in [
        "Invalid argument",
        "idmapped mounts need Linux 5.12",
        "`userns = \"host\"` in the pod file",
    ] {
        assert!(f.message.contains(want), "{want}: {}", f.message);
    }
    let io = bundle::BundleError::Io {
        path: www.clone(),
        source: std::io::Error::from_raw_os_error(libc::ENOSPC),
    };
    assert_eq!(volume_failure(io).fault, Fault::Transient);
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// A runtime that makes a "terminal" (here a pipe) and, when `sends`,
/// passes its read end over the console socket, as crun and runc do with a
/// terminal's master.
struct Consoled {
    sends: bool,
    write_end: std::cell::RefCell<Option<std::os::fd::OwnedFd>>,
}

impl Runtime for Consoled {
    fn create(&self, _: &str, new: NewContainer<'_>) -> Result<(), RuntimeError> {
        use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
        use std::os::fd::AsRawFd;
        let socket = new.console_socket.expect("a console socket for a terminal");
        if self.sends {
            let stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
            let (r, w) = nix::unistd::pipe().unwrap();
            let fds = [r.as_raw_fd()];
            let iov = [std::io::IoSlice::new(b"t")];
            let cmsg = [ControlMessage::ScmRights(&fds)];
            sendmsg::<()>(stream.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None).unwrap();
            *self.write_end.borrow_mut() = Some(w);
        }
        std::fs::write(new.pid_file, "4321").unwrap();
        Ok(())
    }
    fn start(&self, _: &str) -> Result<(), RuntimeError> {
        Ok(())
    }
    fn kill(&self, _: &str, _: i32) -> Result<(), RuntimeError> {
        unreachable!()
    }
    fn delete(&self, _: &str, _: bool) -> Result<(), RuntimeError> {
        Ok(())
    }
    fn exec_command(&self, _: &str, _: &[String]) -> std::process::Command {
        unreachable!()
    }
    fn state(&self, _: &str) -> Result<String, RuntimeError> {
        unreachable!()
    }
}

/// A container with a terminal: the runtime is told the console socket,
/// and the master it sends there is what the start returns (for the
/// relay); a runtime that sends none fails the start, saying so.
#[test]
fn a_terminal_is_taken_from_the_console_socket() {
    use std::io::{Read, Write};
    for sends in [true, false] {
        let dir =
            std::env::temp_dir().join(format!("podctl-ocitty-{}-{sends}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("console.sock");
        let listener = crate::oci::console::listen(&socket).unwrap();
        let rt = Consoled {
            sends,
            write_end: Default::default(),
        };
        let io = Io {
            console: Some((&socket, &listener)),
            ..Io::null()
        };
        let started = run(&rt, "web.app", &dir, Path::new("/nonexistent"), io);
        if sends {
            let started = started.unwrap();
            assert_eq!(started.init, 4321);
            let master = started.console.expect("the terminal's master");
            let mut w = std::fs::File::from(rt.write_end.borrow_mut().take().unwrap());
            w.write_all(b"hello\r\n").unwrap();
            drop(w);
            let mut seen = String::new();
            std::fs::File::from(master)
                .read_to_string(&mut seen)
                .unwrap();
            assert_eq!(seen, "hello\r\n");
        } else {
            let e = started.unwrap_err();
            assert_eq!(
                e.message,
                "the runtime sent no terminal to the console socket"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
