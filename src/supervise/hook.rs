//! A lifecycle hook that runs ([`HookRun`]): its helper started as a
//! probe's is (`exec` through `podctl __enter`, moved into the container's
//! scope before the runtime runs the command; `http` through `podctl
//! __probe` in the pod's network namespace), or a `sleep`, which is only a
//! deadline. The supervisor looks at it without blocking ([`HookRun::poll`]:
//! its helper's exit wakes the supervisor through SIGCHLD); past its
//! deadline it is cut short, its whole process group killed with what the
//! runtime ran in the container, and that is a failure. Dropped while it
//! runs (cancelled), it is killed the same way.

use super::lifecycle::HookEnd;
use super::probe::{self, NetCheck};
use super::process::{Output, Process, Spawner};
use crate::layout::Layout;
use crate::model::{Handler, Hook};
use crate::systemd::Manager;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// What a hook runs against: the container and how to reach it.
pub struct Target<'a> {
    pub procs: &'a dyn Spawner,
    pub mgr: &'a dyn Manager,
    pub paths: &'a Layout,
    /// The container's scope.
    pub unit: &'a str,
    /// The pod's namespaces (the holder's PID).
    pub ns_pid: u32,
    /// The container's command.
    pub command_pid: u32,
}

/// One run of a hook.
pub struct HookRun {
    pub hook: Hook,
    /// Cut short (a failure) from then on; the stop moves a `pre_stop`
    /// hook's to its container's SIGKILL deadline.
    pub deadline: Instant,
    started: Instant,
    state: State,
}

enum State {
    /// `exec` (`command_pid` set: what the runtime ran is ended with it)
    /// or `http`.
    Helper {
        child: Box<dyn Process>,
        exec: Option<(crate::oci::Dirs, u32)>,
    },
    /// `sleep`: passes at `until`.
    Sleep {
        until: Instant,
    },
    /// Its helper could not be started: fails at the first look.
    Unstarted(String),
    Ended,
}

impl HookRun {
    /// Starts `handler` as `hook` of the container `to`; it fails if it has
    /// not passed by `deadline`.
    pub fn start(hook: Hook, handler: &Handler, to: &Target<'_>, deadline: Instant) -> HookRun {
        let now = Instant::now();
        let state = match handler {
            Handler::Sleep(ms) => State::Sleep {
                until: now + Duration::from_millis(*ms),
            },
            Handler::Exec(argv) => {
                let mut helper = super::enter::helper(&to.paths.podctl, to.command_pid, argv);
                // Its output goes to the supervisor's journal stream (journald
                // files it under the container's scope, where the writer is).
                helper.stdout = Output::To(Stdio::inherit());
                match probe::spawn_exec(to.procs, to.mgr, to.paths, to.unit, to.command_pid, helper)
                {
                    Some(child) => State::Helper {
                        child,
                        exec: Some((to.paths.oci(), to.command_pid)),
                    },
                    None => State::Unstarted("could not be started in the container".into()),
                }
            }
            Handler::Http { url, headers } => {
                let ms = deadline.saturating_duration_since(now).as_millis().max(1) as u64;
                let target = probe::http_target(url, headers);
                match probe::spawn_net(
                    to.procs,
                    &to.paths.podctl,
                    to.ns_pid,
                    NetCheck::Http,
                    &target,
                    ms,
                ) {
                    Some(child) => State::Helper { child, exec: None },
                    None => State::Unstarted("could not be started".into()),
                }
            }
        };
        HookRun {
            hook,
            deadline,
            started: now,
            state,
        }
    }

    /// How it ended, if it has: passed, failed, or cut short at its deadline.
    pub fn poll(&mut self, now: Instant) -> Option<HookEnd> {
        let (deadline, started) = (self.deadline, self.started);
        let timed_out = || {
            let ms = deadline.saturating_duration_since(started).as_millis();
            HookEnd::Failed(format!("timed out after {ms} ms"))
        };
        let end = match &mut self.state {
            State::Ended => return None,
            State::Unstarted(why) => HookEnd::Failed(std::mem::take(why)),
            State::Sleep { until } if now >= *until => HookEnd::Passed,
            State::Sleep { .. } if now < deadline => return None,
            State::Sleep { .. } => timed_out(),
            State::Helper { child, exec } => match child.try_wait() {
                Ok(Some(st)) if st.success() => HookEnd::Passed,
                Ok(Some(st)) if exec.is_some() => {
                    HookEnd::Failed(super::supervisor::describe_exit(st))
                }
                Ok(Some(_)) => HookEnd::Failed("got no 2xx or 3xx answer".into()),
                Ok(None) if now < deadline => return None,
                Ok(None) => timed_out(),
                Err(e) => HookEnd::Failed(format!("cannot be waited for: {e}")),
            },
        };
        self.end();
        Some(end)
    }

    /// When to look at it again at the latest (its helper's exit wakes the
    /// supervisor sooner).
    pub fn due(&self) -> Instant {
        match self.state {
            State::Sleep { until } => until.min(self.deadline),
            _ => self.deadline,
        }
    }

    /// Ends it: a helper still running is killed with its process group
    /// and, for `exec`, what the runtime ran in the container.
    fn end(&mut self) {
        if let State::Helper { mut child, exec } = std::mem::replace(&mut self.state, State::Ended)
        {
            let running = matches!(child.try_wait(), Ok(None));
            if running {
                child.kill_group();
            }
            if let Some((dirs, command_pid)) = exec {
                crate::oci::launch::end_exec(&dirs, command_pid, child.pid(), running);
            }
        }
    }
}

impl Drop for HookRun {
    /// Cancelled: killed if it runs.
    fn drop(&mut self) {
        self.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervise::process::fake::Processes;
    use crate::systemd::fake::Recorder;

    /// How each kind of hook ends, and what a failure says.
    #[test]
    fn a_hooks_end_says_why() {
        let procs = Processes::new();
        let mgr = Recorder::new();
        let dir = std::env::temp_dir().join(format!("podctl-hook-{}", std::process::id()));
        let paths = Layout {
            podctl: "podctl".into(),
            ..Layout::under(&dir)
        };
        let to = Target {
            procs: &procs,
            mgr: &mgr,
            paths: &paths,
            unit: "pod-t.app.scope",
            ns_pid: 1,
            command_pid: 2,
        };
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let run = |h: &Handler, deadline| HookRun::start(Hook::PreStop, h, &to, deadline);
        procs.exit_at_release("__probe", 1);
        let http = Handler::Http {
            url: "http://127.0.0.1:8080/drain".into(),
            headers: Default::default(),
        };
        let mut h = run(&http, later);
        let why = HookEnd::Failed("got no 2xx or 3xx answer".into());
        assert_eq!(h.poll(now), Some(why));
        assert_eq!(h.poll(now), None, "ended once");
        procs.exit_at_release("exit 3", 3);
        let mut h = run(&Handler::Exec(vec!["exit 3".into()]), later);
        assert_eq!(h.poll(now), Some(HookEnd::Failed("exited 3".into())));
        procs.exit_at_release("true", 0);
        let mut h = run(&Handler::Exec(vec!["true".into()]), later);
        assert_eq!(h.poll(now), Some(HookEnd::Passed));
        // One that outlasts its deadline is cut short: its group killed.
        let mut h = run(&Handler::Exec(vec!["hang".into()]), now);
        let pid = procs.pids("hang")[0];
        let Some(HookEnd::Failed(why)) = h.poll(Instant::now()) else {
            panic!("not cut short")
        };
        assert!(why.starts_with("timed out after"), "{why}");
        assert!(procs.log().contains(&format!("killpg {pid}")));
        // Cancelled (dropped) while it runs: killed too.
        drop(run(&Handler::Exec(vec!["linger".into()]), later));
        let pid = procs.pids("linger")[0];
        assert!(procs.log().contains(&format!("killpg {pid}")));
        // A sleep passes at its end, unless its deadline comes first.
        let mut h = run(&Handler::Sleep(0), later);
        assert_eq!(h.poll(Instant::now()), Some(HookEnd::Passed));
        let mut h = run(&Handler::Sleep(60_000), now);
        assert!(matches!(h.poll(Instant::now()), Some(HookEnd::Failed(_))));
        assert_eq!(h.due(), now);
    }
}
