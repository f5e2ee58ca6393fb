//! `podctl __generate man|completions|schema DIR`: what the package ships,
//! written from the same definitions the binary parses with (clap's for the
//! pages and completions, docs/pod-file.md for podctl.pod(5), the pod file
//! reader's keys for the schema); run at package build time (see
//! packaging/build-deb), not in build.rs: CI builds stay fast.

mod markdown;
mod pages;

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
        Generated::Schema => {
            let path = crate::spec::schema::write(dir)
                .with_context(|| format!("cannot write the schema into {}", dir.display()))?;
            println!("{}", path.display());
            Ok(())
        }
    }
}

/// The pod file's reference, the source of podctl.pod(5).
const POD_FILE_DOC: &str = include_str!("../../docs/pod-file.md");

/// podctl.8, podctl-COMMAND.8 for every visible command at every depth
/// (podctl-network-create.8), and podctl.pod.5; returns the files.
pub fn write_man_pages(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut root = without_help_command(command());
    root.build();
    let mut pages = vec![root.clone()];
    collect_pages(&root, &mut pages);
    let mut written = Vec::new();
    for page in pages {
        let name = page
            .get_display_name()
            .unwrap_or(page.get_name())
            .to_string();
        let path = dir.join(format!("{name}.{SECTION}"));
        let text = render_command(page, &name)
            .with_context(|| format!("cannot render {}", path.display()))?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    let path = dir.join("podctl.pod.5");
    std::fs::write(&path, pod_file_page())
        .with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    Ok(written)
}

/// clap's `help` subcommand has no page of its own: not listed, not referenced.
fn without_help_command(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names
        .into_iter()
        .fold(cmd.disable_help_subcommand(true), |cmd, n| {
            cmd.mut_subcommand(n, without_help_command)
        })
}

/// Every visible subcommand of a built command, depth first, named as its
/// page (`podctl-network-create`) and run as typed (`podctl network create`).
fn collect_pages(cmd: &clap::Command, out: &mut Vec<clap::Command>) {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_display_name().unwrap_or(sub.get_name()).to_string();
        out.push(sub.clone().name(name).version(super::args::VERSION));
        collect_pages(sub, out);
    }
}

/// clap's sections, then EXIT STATUS, EXAMPLES and SEE ALSO from [`pages`].
fn render_command(page: clap::Command, name: &str) -> anyhow::Result<Vec<u8>> {
    let extra = pages::extra(name)
        .with_context(|| format!("no EXAMPLES for {name} in src/cli/generate/pages.txt"))?;
    anyhow::ensure!(
        !extra.examples.is_empty() && !extra.see_also.is_empty(),
        "{name}: pages.txt needs examples and a see line"
    );
    let has_subcommands = page.get_subcommands().any(|s| !s.is_hide_set());
    let man = clap_mangen::Man::new(page)
        .section(SECTION)
        .source(format!("podctl {}", env!("CARGO_PKG_VERSION")))
        .manual("podctl");
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    man.render_options_section(&mut buf)?;
    if has_subcommands {
        man.render_subcommands_section(&mut buf)?;
    }
    let mut roff = String::from(".SH \"EXIT STATUS\"\n");
    for (code, when) in extra.exit {
        roff.push_str(&format!(".TP\n.B {code}\n{}\n", markdown::escape(when)));
    }
    roff.push_str(".SH EXAMPLES\n");
    for (what, line) in &extra.examples {
        if !what.is_empty() {
            roff.push_str(&format!(".PP\n{}\n", markdown::escape(what)));
        }
        roff.push_str(&format!(
            ".RS 4\n.nf\n\\fB{}\\fR\n.fi\n.RE\n",
            markdown::escape(line)
        ));
    }
    roff.push_str(&see_also(&extra.see_also));
    buf.extend_from_slice(roff.as_bytes());
    man.render_version_section(&mut buf)?;
    Ok(buf)
}

/// `.SH "SEE ALSO"` naming `page(section)` references, comma-separated.
fn see_also(refs: &[&str]) -> String {
    let mut out = String::from(".SH \"SEE ALSO\"\n");
    for (i, r) in refs.iter().enumerate() {
        let (page, section) = r.split_once('(').unwrap_or((r, ")"));
        let comma = if i + 1 < refs.len() { "," } else { "" };
        out.push_str(&format!(
            ".BR {} ({}{comma}\n",
            markdown::escape(page),
            section
        ));
    }
    out
}

/// podctl.pod(5): docs/pod-file.md as roff.
pub fn pod_file_page() -> String {
    format!(
        ".TH podctl.pod 5 \"\" \"podctl {}\" \"podctl\"\n.SH NAME\npodctl.pod \\- the pod file of podctl(8): one pod described in TOML\n{}{}",
        env!("CARGO_PKG_VERSION"),
        markdown::to_roff(POD_FILE_DOC),
        see_also(&[
            "podctl(8)",
            "podctl-apply(8)",
            "podctl-validate(8)",
            "podctl-network-create(8)",
            "systemd.resource-control(5)",
            "capabilities(7)"
        ])
    )
}

#[cfg(test)]
mod tests;
