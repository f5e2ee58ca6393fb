//! A manifest's `tty` and `stdin` on a real systemd: a container with
//! `tty: true` has a terminal as its stdin, stdout and stderr (made by the
//! runtime in its own devpts), and what it writes there reaches the
//! journal through its relay, as plain lines; one with `stdin: true` (and
//! no terminal) reads from a pipe that stays open, so a read waits rather
//! than ending at once as on /dev/null. `kube generate` writes both back.

use super::common::{assert_gone, wait_pid};
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[(
    "kube_stdio::a_tty_container_has_a_terminal_and_its_output_reaches_the_journal",
    a_tty_container_has_a_terminal_and_its_output_reaches_the_journal,
)];

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

const MANIFEST: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: ktty
  annotations:
    podctl.io/host-binaries: term, input
    podctl.io/network: none
spec:
  containers:
  - name: term
    command:
    - sh
    - -c
    - 'test -t 0 && echo "stdin-terminal $(tty)"; test -t 1 && echo stdout-terminal; echo line-end-5521; exec sleep 1851'
    stdin: true
    tty: true
  - name: input
    command:
    - sh
    - -c
    - 'echo "stdin-is $(readlink /proc/self/fd/0)"; timeout 2 cat; echo "cat-ended-$?"; exec sleep 1852'
    stdin: true
"#;

fn a_tty_container_has_a_terminal_and_its_output_reaches_the_journal(
    g: &Guest,
) -> Result<(), String> {
    let _ = g.sh("podctl down --purge ktty");
    g.ok(&format!(
        "mkdir -p /root/pods && cat > /root/pods/ktty.yaml <<'PODCTL_EOF'\n{MANIFEST}PODCTL_EOF"
    ))?;
    let out = g.ok("podctl apply /root/pods/ktty.yaml")?;
    expect(out.contains("ktty: created"), || {
        format!("apply said:\n{out}")
    })?;
    wait_pid(g, "sleep 1851")?;
    wait_pid(g, "sleep 1852")?;
    let mut term = String::new();
    wait_for(
        Duration::from_secs(10),
        "the terminal's lines in the journal",
        || {
            term = g.sh("podctl logs ktty term").stdout;
            Ok(term.contains("line-end-5521"))
        },
    )?;
    // A terminal as stdin and stdout, one of the container's own devpts,
    // and plain lines (journald drops the `\r` ending a terminal's lines).
    let lines: Vec<&str> = term.split('\n').filter(|l| !l.is_empty()).collect();
    expect(
        lines
            == [
                "stdin-terminal /dev/pts/0",
                "stdout-terminal",
                "line-end-5521",
            ],
        || format!("podctl logs ktty term:\n{term:?}"),
    )?;
    // stdin: a pipe nothing writes to and nothing closes: `cat` waits on
    // it until `timeout` ends it (124), where /dev/null would end it at once (0).
    let input = g.ok("podctl logs ktty input")?;
    let lines: Vec<&str> = input.lines().collect();
    expect(
        lines.len() == 2 && lines[0].starts_with("stdin-is pipe:[") && lines[1] == "cat-ended-124",
        || format!("podctl logs ktty input:\n{input}"),
    )?;
    // The terminal is the container's; `podctl exec` has none.
    let exec = g.sh("podctl exec ktty term -- sh -c 'test -t 0 || echo no-terminal'");
    expect(exec.stdout.trim() == "no-terminal", || {
        format!("podctl exec ktty term: {:?}", exec.stdout)
    })?;
    // `kube generate` writes both fields back: the same plan.
    let yaml = g.ok("podctl kube generate ktty | tee /root/pods/ktty-generated.yaml")?;
    expect(yaml.contains("    stdin: true\n    tty: true\n"), || {
        format!("kube generate ktty:\n{yaml}")
    })?;
    let diff = g.ok("podctl diff /root/pods/ktty-generated.yaml")?;
    expect(diff.contains("unchanged"), || {
        format!("the generated manifest differs:\n{diff}")
    })?;
    g.ok("podctl down --purge ktty")?;
    assert_gone(g, "ktty", &["sleep 1851", "sleep 1852"])
}
