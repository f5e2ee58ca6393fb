//! A booted systemd to run commands in: the nspawn container (through
//! `nsenter`) or, inside the VM, the machine the test binary runs on.

use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long one guest command may run before `timeout` kills it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The PATH commands get in the guest (the host's PATH means nothing there).
const GUEST_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What a guest command did.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit code; -1 when the command was killed by a signal or could not start.
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == 0
    }
}

/// Where a guest's commands run.
#[derive(Debug, Clone)]
enum Exec {
    /// In all namespaces of the container's PID 1.
    Nsenter { pid: u32 },
    /// On this machine (the test binary runs inside the VM).
    Local,
}

/// A running systemd that trials talk to.
#[derive(Debug, Clone)]
pub struct Guest {
    exec: Exec,
    /// Short description for messages ("container podctl-bench-123", "vm").
    pub name: String,
}

impl Guest {
    /// The container whose PID 1 (as seen from the host) is `pid`.
    pub fn nsenter(pid: u32, name: &str) -> Guest {
        Guest {
            exec: Exec::Nsenter { pid },
            name: name.to_string(),
        }
    }

    /// This machine: used by the test binary when it runs inside the VM.
    pub fn local() -> Guest {
        Guest {
            exec: Exec::Local,
            name: "vm".to_string(),
        }
    }

    /// Runs `sh -c cmd` in the guest, killed after [`DEFAULT_TIMEOUT`].
    pub fn sh(&self, cmd: &str) -> Output {
        self.sh_timeout(cmd, DEFAULT_TIMEOUT)
    }

    /// Runs `sh -c cmd` in the guest, killed (exit 124) after `limit`.
    pub fn sh_timeout(&self, cmd: &str, limit: Duration) -> Output {
        let secs = limit.as_secs().max(1).to_string();
        let mut command = match self.exec {
            Exec::Nsenter { pid } => {
                let mut c = Command::new("nsenter");
                c.args(["-t", &pid.to_string(), "-a", "--", "timeout"]);
                c
            }
            Exec::Local => Command::new("timeout"),
        };
        command
            .args(["-k", "5", &secs, "sh", "-c", cmd])
            .env_clear()
            .env("PATH", GUEST_PATH)
            .env("LANG", "C.UTF-8")
            .env("SYSTEMD_COLORS", "0")
            .stdin(Stdio::null());
        match command.output() {
            Ok(out) => Output {
                status: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
            Err(e) => Output {
                status: -1,
                stdout: String::new(),
                stderr: format!("cannot start {:?}: {e}", command.get_program()),
            },
        }
    }

    /// Runs `cmd`; its stdout (trimmed) if it exits 0, otherwise an error
    /// naming the command, its status, stderr and stdout.
    pub fn ok(&self, cmd: &str) -> Result<String, String> {
        let out = self.sh(cmd);
        if out.success() {
            return Ok(out.stdout.trim().to_string());
        }
        let why = match out.status {
            124 => "timed out".to_string(),
            s => format!("exit status {s}"),
        };
        Err(format!(
            "in {}: `{cmd}` failed ({why})\n--- stderr:\n{}--- stdout:\n{}",
            self.name,
            with_newline(&out.stderr),
            with_newline(&out.stdout)
        ))
    }

    /// `systemctl show -P PROP UNIT`, trimmed.
    pub fn unit_property(&self, unit: &str, prop: &str) -> Result<String, String> {
        self.ok(&format!("systemctl show -P {prop} -- '{unit}'"))
    }

    /// Fails unless `systemctl show -P PROP UNIT` is `want`.
    pub fn expect_property(&self, unit: &str, prop: &str, want: &str) -> Result<(), String> {
        let got = self.unit_property(unit, prop)?;
        if got == want {
            return Ok(());
        }
        Err(format!("{unit}: {prop} is {got:?}, expected {want:?}"))
    }

    /// Waits until `systemctl show -P PROP UNIT` is `want`.
    pub fn wait_property(
        &self,
        unit: &str,
        prop: &str,
        want: &str,
        limit: Duration,
    ) -> Result<(), String> {
        let what = format!("{unit} {prop}={want}");
        wait_for(limit, &what, || Ok(self.unit_property(unit, prop)? == want)).map_err(|e| {
            match self.unit_property(unit, prop) {
                Ok(last) => format!("{e} (last value: {last:?})"),
                Err(_) => e,
            }
        })
    }

    /// The guest's state for a failure message: `pod*` units, the status of
    /// `units`, and the journal of `units` (or the whole tail if none).
    pub fn evidence(&self, units: &[&str]) -> String {
        let quoted: Vec<String> = units.iter().map(|u| format!("'{u}'")).collect();
        let mut cmds = vec!["systemctl list-units --all --no-pager 'pod*'".to_string()];
        if units.is_empty() {
            cmds.push("journalctl --no-pager -n 200".to_string());
        } else {
            let list = quoted.join(" ");
            cmds.push(format!("systemctl status --no-pager -n 0 -- {list}"));
            let us: Vec<String> = quoted.iter().map(|u| format!("-u {u}")).collect();
            cmds.push(format!("journalctl --no-pager -n 200 {}", us.join(" ")));
        }
        let mut text = format!("===== evidence from {} =====\n", self.name);
        for cmd in cmds {
            let out = self.sh_timeout(&cmd, Duration::from_secs(30));
            text.push_str(&format!("----- $ {cmd}\n{}", with_newline(&out.stdout)));
            if !out.stderr.trim().is_empty() {
                text.push_str(&with_newline(&out.stderr));
            }
        }
        text
    }

    /// Evidence for the units named in a failure message (whole journal tail
    /// when it names none).
    pub fn evidence_for(&self, message: &str) -> String {
        let units = unit_names_in(message);
        let refs: Vec<&str> = units.iter().map(String::as_str).collect();
        self.evidence(&refs)
    }
}

/// Polls `check` every 200 ms until it returns `Ok(true)`; an `Err` ends the
/// wait early. The error names `what` and how long was waited.
pub fn wait_for<F>(limit: Duration, what: &str, mut check: F) -> Result<(), String>
where
    F: FnMut() -> Result<bool, String>,
{
    let start = Instant::now();
    loop {
        if check()? {
            return Ok(());
        }
        if start.elapsed() >= limit {
            return Err(format!("timed out after {limit:?} waiting for {what}"));
        }
        sleep(Duration::from_millis(200));
    }
}

/// Unit names (`x.service`, `y.scope`, ...) mentioned in `text`, deduplicated.
pub fn unit_names_in(text: &str) -> Vec<String> {
    const SUFFIXES: &[&str] = &[
        ".service", ".scope", ".slice", ".socket", ".timer", ".target", ".mount",
    ];
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || "@._:-\\".contains(c);
    let mut found: Vec<String> = Vec::new();
    for word in text.split(|c: char| !is_name_char(c)) {
        let word = word.trim_end_matches(['.', ':']);
        let is_unit = SUFFIXES
            .iter()
            .any(|s| word.len() > s.len() && word.ends_with(s));
        if is_unit && !found.iter().any(|f| f == word) {
            found.push(word.to_string());
        }
    }
    found
}

fn with_newline(s: &str) -> String {
    if s.is_empty() || s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}
