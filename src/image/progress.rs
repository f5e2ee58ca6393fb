//! Pull progress: a bar per layer (size, speed) on a terminal, one line per
//! layer otherwise (the journal), nothing in tests.

use super::digest::Digest;
use std::io::IsTerminal;
use std::time::Instant;

/// Receives a pull's events.
pub trait Progress {
    /// A blob of `size` bytes starts downloading.
    fn start(&self, digest: &Digest, size: u64) -> Box<dyn Bar>;
}

/// One blob's download.
pub trait Bar {
    fn inc(&mut self, n: u64);
    /// The blob is stored (`fetched` false: it was there already).
    fn finish(&mut self, fetched: bool);
}

/// Bars on a terminal, lines otherwise.
pub fn for_stderr() -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(Bars(indicatif::MultiProgress::new()))
    } else {
        Box::new(Lines)
    }
}

pub struct Silent;
struct NoBar;
impl Progress for Silent {
    fn start(&self, _: &Digest, _: u64) -> Box<dyn Bar> {
        Box::new(NoBar)
    }
}
impl Bar for NoBar {
    fn inc(&mut self, _: u64) {}
    fn finish(&mut self, _: bool) {}
}

/// `MiB` with one decimal.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

struct Lines;
struct LineBar {
    short: String,
    size: u64,
    got: u64,
    started: Instant,
}
impl Progress for Lines {
    fn start(&self, digest: &Digest, size: u64) -> Box<dyn Bar> {
        Box::new(LineBar {
            short: digest.short().to_string(),
            size,
            got: 0,
            started: Instant::now(),
        })
    }
}
impl Bar for LineBar {
    fn inc(&mut self, n: u64) {
        self.got += n;
    }
    fn finish(&mut self, fetched: bool) {
        if !fetched {
            eprintln!("{}: already stored ({})", self.short, mib(self.size));
            return;
        }
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        eprintln!(
            "{}: fetched {} in {secs:.2} s ({}/s)",
            self.short,
            mib(self.got),
            mib((self.got as f64 / secs) as u64)
        );
    }
}

struct Bars(indicatif::MultiProgress);
impl Progress for Bars {
    fn start(&self, digest: &Digest, size: u64) -> Box<dyn Bar> {
        let bar = self.0.add(indicatif::ProgressBar::new(size));
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(digest.short().to_string());
        Box::new(TermBar(bar))
    }
}
struct TermBar(indicatif::ProgressBar);
impl Bar for TermBar {
    fn inc(&mut self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&mut self, fetched: bool) {
        if fetched {
            self.0.finish();
        } else {
            self.0.finish_with_message("already stored");
        }
    }
}
