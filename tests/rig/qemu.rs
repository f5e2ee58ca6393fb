//! The per-run VM disk and QEMU boots. The cached base image is copied,
//! the staged files are written into the copy with `debugfs` (the cloud
//! kernel has no 9p, and this needs no host mounts), QEMU (TCG) boots it
//! until the test unit powers it off, and results are read back with
//! `debugfs -R 'cat FILE'`. Booting the same disk again is a reboot.

use super::procs;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A file to put into the image.
pub struct Stage {
    pub host: PathBuf,
    pub guest: String,
}

/// A symlink to put into the image.
pub struct Link {
    pub guest: String,
    pub target: String,
}

/// A VM disk for one run, in its own temporary directory (removed on drop
/// unless [`RunImage::keep`] was called).
pub struct RunImage {
    dir: PathBuf,
    img: PathBuf,
    kernel: PathBuf,
    initrd: PathBuf,
    keep: bool,
}

impl RunImage {
    /// Copies `base/base.img` and writes `dirs`, `files` and `links` into it.
    pub fn create(
        base: &Path,
        dirs: &[String],
        files: &[Stage],
        links: &[Link],
    ) -> Result<RunImage, String> {
        let dir = std::env::temp_dir().join(format!("podctl-bench-vm-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let run = RunImage {
            img: dir.join("run.img"),
            kernel: base.join("vmlinuz"),
            initrd: base.join("initrd.img"),
            dir,
            keep: false,
        };
        let mut cp = Command::new("cp");
        cp.arg("--sparse=always")
            .arg(base.join("base.img"))
            .arg(&run.img);
        run_quiet(&mut cp)?;
        let mut cmds = String::new();
        for d in dirs {
            cmds.push_str(&format!("mkdir {}\n", debugfs_arg(d)?));
        }
        for f in files {
            let host = f.host.display().to_string();
            let (host, guest) = (debugfs_arg(&host)?, debugfs_arg(&f.guest)?);
            cmds.push_str(&format!("write {host} {guest}\n"));
        }
        for l in links {
            cmds.push_str(&format!(
                "symlink {} {}\n",
                debugfs_arg(&l.guest)?,
                debugfs_arg(&l.target)?
            ));
        }
        run.debugfs(&["-w", "-f", "-"], Some(&cmds))?;
        Ok(run)
    }

    /// The run's directory (for files to stage, and the serial logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keep the run directory after drop (for inspection after a failure).
    pub fn keep(&mut self) {
        self.keep = true;
    }

    /// The serial console log of boot `n`.
    pub fn serial_log(&self, n: u32) -> PathBuf {
        self.dir.join(format!("serial-{n}.log"))
    }

    /// Boots the image until the guest powers off; fails after `limit`.
    pub fn boot(&self, n: u32, limit: Duration) -> Result<(), String> {
        let log = self.serial_log(n);
        let mut cmd = Command::new("qemu-system-x86_64");
        cmd.args(["-accel", "tcg", "-smp", "2", "-m", "2G"])
            .args(["-nographic", "-nodefaults", "-no-reboot"])
            .arg("-serial")
            .arg(format!("file:{}", log.display()))
            .arg("-kernel")
            .arg(&self.kernel)
            .arg("-initrd")
            .arg(&self.initrd)
            .args(["-append", "console=ttyS0 root=/dev/vda rw quiet panic=1"])
            .arg("-drive")
            .arg(format!("file={},format=raw,if=virtio", self.img.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        procs::die_with_parent(&mut cmd, nix::sys::signal::Signal::SIGKILL);
        let start = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))?;
        if !procs::wait_child(&mut child, limit) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(self.failure(
                n,
                &format!("VM boot {n} did not power off within {limit:?}"),
            ));
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("waiting for qemu: {e}"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(self.failure(n, &format!("qemu exited with {}: {stderr}", out.status)));
        }
        eprintln!("bench: VM boot {n} finished in {:.1?}", start.elapsed());
        Ok(())
    }

    /// A message for a failed boot, with the tail of its serial log.
    pub fn failure(&self, n: u32, what: &str) -> String {
        let log = self.serial_log(n);
        format!(
            "{what}; last lines of the serial console {}:\n{}",
            log.display(),
            super::cache::tail(&log, 60)
        )
    }

    /// A file's contents in the image; `None` if it does not exist.
    pub fn read(&self, guest_path: &str) -> Result<Option<String>, String> {
        let cat = format!("cat {}", debugfs_arg(guest_path)?);
        match self.debugfs(&["-R", &cat], None) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.contains("File not found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Runs debugfs on the image; stdout, or an error with its complaints.
    fn debugfs(&self, args: &[&str], input: Option<&str>) -> Result<String, String> {
        use std::io::Write;
        let mut child = Command::new("debugfs")
            .args(args)
            .arg(&self.img)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start debugfs: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(input.unwrap_or("").as_bytes())
                .map_err(|e| format!("writing debugfs commands: {e}"))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("debugfs: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        // debugfs exits 0 even when commands fail: its complaints are on stderr.
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("debugfs ") && !l.trim().is_empty())
            .collect();
        if !out.status.success() || !errors.is_empty() {
            return Err(format!(
                "debugfs {} {}: {}\ncommands:\n{}",
                args.join(" "),
                self.img.display(),
                errors.join("\n"),
                input.unwrap_or("")
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for RunImage {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("bench: kept VM run directory {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// `s` if debugfs can take it as one argument (it splits on whitespace).
fn debugfs_arg(s: &str) -> Result<&str, String> {
    if s.is_empty() || s.contains(|c: char| c.is_whitespace() || c == '"') {
        return Err(format!(
            "path {s:?} cannot be passed to debugfs (whitespace or quote)"
        ));
    }
    Ok(s)
}

fn run_quiet(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{cmd:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    ))
}
