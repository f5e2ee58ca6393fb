//! `podctl top NAME [--once] [--interval S]`: per container CPU, memory,
//! tasks and I/O, read from the scopes' cgroups (cgroupfs, no D-Bus), one
//! screen, refreshed every interval. CPU is the share of one CPU between two
//! samples. A figure the host does not account (no controller) shows `-`.

use super::output::human_bytes;
use crate::layout::Layout;
use crate::supervise::state::PodState;
use anyhow::bail;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// What one cgroup says at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    /// cpu.stat usage_usec.
    pub cpu_usec: Option<u64>,
    /// memory.current.
    pub memory: Option<u64>,
    /// pids.current, else the number of threads in cgroup.threads.
    pub tasks: Option<u64>,
    /// io.stat rbytes and wbytes summed over devices.
    pub io_read: Option<u64>,
    pub io_write: Option<u64>,
}

/// Reads a cgroup directory.
pub fn sample(dir: &Path) -> Sample {
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
    let number = |f: &str| read(f).and_then(|s| s.trim().parse().ok());
    let cpu_usec = read("cpu.stat").and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("usage_usec "))
            .and_then(|n| n.trim().parse().ok())
    });
    let tasks = number("pids.current").or_else(|| {
        read("cgroup.threads").map(|t| t.lines().filter(|l| !l.is_empty()).count() as u64)
    });
    let (io_read, io_write) = match read("io.stat") {
        Some(s) => {
            let sum = |key: &str| -> u64 {
                s.split_whitespace()
                    .filter_map(|w| w.strip_prefix(key))
                    .filter_map(|n| n.parse::<u64>().ok())
                    .sum()
            };
            (Some(sum("rbytes=")), Some(sum("wbytes=")))
        }
        None => (None, None),
    };
    Sample {
        cpu_usec,
        memory: number("memory.current"),
        tasks,
        io_read,
        io_write,
    }
}

/// One container's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub container: String,
    pub state: String,
    /// Percent of one CPU over the interval.
    pub cpu_percent: Option<f64>,
    pub now: Sample,
}

/// CPU share between two samples taken `elapsed` apart.
pub fn cpu_percent(before: &Sample, after: &Sample, elapsed: Duration) -> Option<f64> {
    let used = after.cpu_usec?.checked_sub(before.cpu_usec?)?;
    let wall = elapsed.as_micros() as f64;
    (wall > 0.0).then(|| used as f64 * 100.0 / wall)
}

/// The screen: a header line and one row per container.
pub fn render(pod: &str, rows: &[Row]) -> String {
    let dash = || "-".to_string();
    let mut out = format!("pod {pod}\n");
    let _ = writeln!(
        out,
        "{:<16} {:<11} {:>7} {:>9} {:>6} {:>9} {:>9}",
        "CONTAINER", "STATE", "CPU%", "MEMORY", "TASKS", "READ", "WRITE"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<16} {:<11} {:>7} {:>9} {:>6} {:>9} {:>9}",
            r.container,
            r.state,
            r.cpu_percent.map_or_else(dash, |c| format!("{c:.1}")),
            r.now.memory.map_or_else(dash, human_bytes),
            r.now.tasks.map_or_else(dash, |t| t.to_string()),
            r.now.io_read.map_or_else(dash, human_bytes),
            r.now.io_write.map_or_else(dash, human_bytes),
        );
    }
    out
}

/// Clear the screen and home the cursor (ANSI), between refreshes.
const CLEAR: &str = "\x1b[H\x1b[2J";
/// The longest wait for the second CPU sample of the first screen (CPU use
/// is a difference of two samples; a long interval need not delay it).
const FIRST_SAMPLE_MAX: Duration = Duration::from_secs(1);

pub fn top(paths: &Layout, name: &str, once: bool, interval_secs: u64) -> anyhow::Result<()> {
    let root = paths.host.cgroup.clone();
    let interval = Duration::from_secs(interval_secs.max(1));
    let mut before: Vec<(String, Sample)> = Vec::new();
    let mut taken = Instant::now();
    loop {
        let Some(state) = PodState::load(&paths.run, name) else {
            bail!("pod {name:?} is not running");
        };
        let elapsed = taken.elapsed();
        taken = Instant::now();
        let rows: Vec<Row> = state
            .containers
            .iter()
            .map(|c| {
                let now = sample(&crate::supervise::cgroup::unit_dir(&root, name, &c.unit));
                let cpu = before
                    .iter()
                    .find(|(n, _)| *n == c.name)
                    .and_then(|(_, b)| cpu_percent(b, &now, elapsed));
                Row {
                    container: c.name.clone(),
                    state: c.state.clone(),
                    cpu_percent: cpu,
                    now,
                }
            })
            .collect();
        let first = before.is_empty();
        before = rows
            .iter()
            .map(|r| (r.container.clone(), r.now.clone()))
            .collect();
        if first {
            // CPU needs two samples: the first screen comes one interval in.
            std::thread::sleep(interval.min(FIRST_SAMPLE_MAX));
            continue;
        }
        if once {
            print!("{}", render(name, &rows));
            return Ok(());
        }
        print!("{CLEAR}{}", render(name, &rows));
        std::thread::sleep(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_cgroup_and_renders() {
        let dir = std::env::temp_dir().join(format!("podctl-top-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("cpu.stat"),
            "usage_usec 1500000\nuser_usec 1000000\n",
        )
        .unwrap();
        std::fs::write(dir.join("memory.current"), "3145728\n").unwrap();
        std::fs::write(dir.join("cgroup.threads"), "10\n11\n12\n").unwrap();
        std::fs::write(
            dir.join("io.stat"),
            "8:0 rbytes=1024 wbytes=2048 rios=1 wios=2\n8:16 rbytes=1024 wbytes=0\n",
        )
        .unwrap();
        let now = sample(&dir);
        assert_eq!(
            now,
            Sample {
                cpu_usec: Some(1_500_000),
                memory: Some(3 << 20),
                tasks: Some(3),
                io_read: Some(2048),
                io_write: Some(2048),
            }
        );
        std::fs::write(dir.join("pids.current"), "7\n").unwrap();
        assert_eq!(sample(&dir).tasks, Some(7));
        let before = Sample {
            cpu_usec: Some(1_000_000),
            ..Default::default()
        };
        let cpu = cpu_percent(&before, &now, Duration::from_secs(2));
        assert_eq!(cpu, Some(25.0));
        let rows = [
            Row {
                container: "app".into(),
                state: "running".into(),
                cpu_percent: cpu,
                now,
            },
            Row {
                container: "gone".into(),
                state: "exited".into(),
                cpu_percent: None,
                now: sample(&dir.join("nope")),
            },
        ];
        assert_eq!(
            render("web", &rows),
            "pod web\n\
             CONTAINER        STATE          CPU%    MEMORY  TASKS      READ     WRITE\n\
             app              running        25.0      3.0M      3      2.0K      2.0K\n\
             gone             exited            -         -      -         -         -\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
