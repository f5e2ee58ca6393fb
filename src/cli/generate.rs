//! `podctl __generate man|completions DIR`: what the package ships, written
//! from the same clap definition the binary parses with (run at package
//! build time, see packaging/build-deb, not in build.rs: CI builds stay fast).

use super::args::{Generated, command};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Section of podctl's pages: system administration commands.
const SECTION: &str = "8";

/// Where the packaged binary is: what the completion scripts run.
const INSTALLED_BINARY: &str = "/usr/bin/podctl";

pub fn generate(what: Generated, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    match what {
        Generated::Man => {
            for path in write_man_pages(dir)? {
                println!("{}", path.display());
            }
            Ok(())
        }
        Generated::Completions => super::complete::write_scripts(dir, INSTALLED_BINARY)
            .with_context(|| format!("cannot write completions into {}", dir.display())),
    }
}

/// podctl.8 and podctl-SUBCOMMAND.8 for every visible subcommand; returns the files.
pub fn write_man_pages(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut cmd = command();
    cmd.build();
    let mut pages = vec![(format!("podctl.{SECTION}"), cmd.clone())];
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let name = format!("podctl-{}", sub.get_name());
        let page = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("podctl {}", sub.get_name()))
            .version(super::args::VERSION);
        pages.push((format!("{name}.{SECTION}"), page));
    }
    let mut written = Vec::new();
    for (file, page) in pages {
        let path = dir.join(file);
        let mut buf = Vec::new();
        clap_mangen::Man::new(page)
            .section(SECTION)
            .manual("podctl")
            .render(&mut buf)
            .with_context(|| format!("cannot render {}", path.display()))?;
        std::fs::write(&path, buf).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_per_visible_command_with_its_options() {
        let dir = std::env::temp_dir().join(format!("podctl-man-{}", std::process::id()));
        let pages = write_man_pages(&dir).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for want in [
            "podctl.8",
            "podctl-exec.8",
            "podctl-logs.8",
            "podctl-events.8",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("__")), "{names:?}");
        let exec = std::fs::read_to_string(dir.join("podctl-exec.8")).unwrap();
        assert!(
            exec.starts_with(".ie") || exec.contains(".TH podctl\\-exec 8"),
            "{exec}"
        );
        assert!(
            exec.contains("interactive") && exec.contains("workdir"),
            "{exec}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
