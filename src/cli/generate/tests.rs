use super::*;
use std::collections::BTreeSet;

/// A fresh directory of generated pages, removed on drop.
struct Pages {
    dir: PathBuf,
    files: Vec<PathBuf>,
}

impl Pages {
    fn new(tag: &str) -> Pages {
        let dir = std::env::temp_dir().join(format!("podctl-man-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let files = write_man_pages(&dir).unwrap();
        Pages { dir, files }
    }

    fn names(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    /// `podctl-exec(8)` for `podctl-exec.8`.
    fn references(&self) -> BTreeSet<String> {
        self.names()
            .iter()
            .map(|n| {
                let (page, section) = n.rsplit_once('.').unwrap();
                format!("{page}({section})")
            })
            .collect()
    }

    fn text(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap()
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn one_page_per_visible_command_at_every_depth_with_its_options() {
    let pages = Pages::new("names");
    let names = pages.names();
    for want in [
        "podctl.8",
        "podctl-exec.8",
        "podctl-logs.8",
        "podctl-events.8",
        "podctl-network.8",
        "podctl-network-create.8",
        "podctl-volume-rm.8",
        "podctl-kube-generate.8",
        "podctl-image-prune.8",
        "podctl.pod.5",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    for hidden in ["__", "help", "-up."] {
        assert!(
            !names.iter().any(|n| n.contains(hidden)),
            "{hidden}: {names:?}"
        );
    }
    let exec = pages.text("podctl-exec.8");
    assert!(exec.contains(".TH podctl-exec 8"), "{exec}");
    assert!(
        exec.contains("interactive") && exec.contains("workdir"),
        "{exec}"
    );
    for (page, option) in [
        ("podctl-network-create.8", "\\-\\-subnet"),
        ("podctl-volume-rm.8", "\\-\\-force"),
        ("podctl-kube-generate.8", "\\-\\-service"),
    ] {
        assert!(pages.text(page).contains(option), "{option} not in {page}");
    }
    // The synopsis is the command as typed.
    assert!(
        pages
            .text("podctl-network-create.8")
            .contains("podctl network create")
    );
}

/// The text of one `.SH` section (up to the next one).
fn section<'a>(page: &'a str, title: &str) -> Option<&'a str> {
    let start = page
        .find(&format!(".SH {title}\n"))
        .or_else(|| page.find(&format!(".SH \"{title}\"\n")))?;
    let rest = &page[start + 4..];
    Some(&rest[..rest.find("\n.SH ").map_or(rest.len(), |e| e + 1)])
}

#[test]
fn every_command_page_has_examples_exit_status_and_see_also_that_resolve() {
    let pages = Pages::new("sections");
    let mut known = pages.references();
    known.extend(pages::HAND_WRITTEN.iter().map(|s| s.to_string()));
    known.extend(pages::SYSTEM_PAGES.iter().map(|s| s.to_string()));
    let reference = regex_lite_refs;
    for name in pages.names() {
        let text = pages.text(&name);
        if name.ends_with(".8") {
            let examples =
                section(&text, "EXAMPLES").unwrap_or_else(|| panic!("{name}: no EXAMPLES"));
            let command = command_of(name.trim_end_matches(".8"));
            assert!(
                examples.contains(&format!("\\fB{}", command.replace('-', "\\-"))),
                "{name}: no example runs `{command}`:\n{examples}"
            );
            let exit =
                section(&text, "EXIT STATUS").unwrap_or_else(|| panic!("{name}: no EXIT STATUS"));
            assert!(
                exit.contains(".B 0") || exit.contains(".B N"),
                "{name}: {exit}"
            );
        }
        let see = section(&text, "SEE ALSO").unwrap_or_else(|| panic!("{name}: no SEE ALSO"));
        assert!(!reference(see).is_empty(), "{name}: {see}");
        // Every reference anywhere in the page, SUBCOMMANDS' included.
        for r in reference(&text) {
            assert!(
                known.contains(&r),
                "{name} names {r}, which is not a page of the package"
            );
        }
    }
}

/// `page(N)` references in roff text (`\-` read as `-`, fonts dropped).
fn regex_lite_refs(roff: &str) -> BTreeSet<String> {
    let plain = roff
        .replace("\\-", "-")
        .replace("\\fB", "")
        .replace("\\fR", "")
        .replace("\\fI", "")
        .replace(".BR ", "")
        .replace(" (", "(");
    let mut out = BTreeSet::new();
    let bytes = plain.as_bytes();
    for (i, _) in plain.match_indices('(') {
        let after = &plain[i + 1..];
        let Some(close) = after.find(')') else {
            continue;
        };
        let section = &after[..close];
        if section.len() != 1 || !section.as_bytes()[0].is_ascii_digit() {
            continue;
        }
        let start = plain[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || "._-@".contains(c)))
            .map_or(0, |s| s + 1);
        if start < i && bytes[start].is_ascii_lowercase() {
            out.insert(format!("{}({section})", &plain[start..i]));
        }
    }
    out
}

#[test]
fn the_pod_file_page_has_every_heading_and_key_of_its_source() {
    let page = pod_file_page();
    for line in POD_FILE_DOC.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            let want = markdown::escape(&h.to_uppercase());
            assert!(page.contains(&format!(".SH \"{want}\"")), "no section {h}");
        } else if let Some(h) = line.strip_prefix("### ") {
            assert!(
                page.contains(&format!(".SS \"{}\"", markdown::escape(h))),
                "no {h}"
            );
        } else if let Some(key) = line.strip_prefix("| `")
            && let Some(end) = key.find('`')
        {
            let tag = format!(".TP\n\\fB{}\\fR", markdown::escape(&key[..end]));
            assert!(page.contains(&tag), "no entry for the key {}", &key[..end]);
        }
    }
    // Nothing of the Markdown syntax is left.
    for md in ["```", "](", "**", "| ---"] {
        assert!(!page.contains(md), "{md} left in podctl.pod(5)");
    }
}

/// Each page through `man --warnings -l`: renders, and groff says nothing.
/// Without man-db the test passes only if PODCTL_BENCH is not `required`.
#[test]
fn every_page_renders_without_warnings() {
    if std::process::Command::new("man")
        .arg("--version")
        .output()
        .is_err()
    {
        assert_ne!(
            std::env::var("PODCTL_BENCH").as_deref(),
            Ok("required"),
            "man (man-db) is not installed"
        );
        eprintln!("skipped: no man");
        return;
    }
    let pages = Pages::new("render");
    for page in &pages.files {
        let o = std::process::Command::new("man")
            .args(["--warnings", "-l"])
            .arg(page)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        let warnings = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success() && text.contains("NAME") && warnings.trim().is_empty(),
            "man -l {}: {}\n{warnings}\n{text}",
            page.display(),
            o.status
        );
    }
}

/// Every EXAMPLES line is one podctl parses (the shell's `> FILE` aside),
/// and runs the command of its page.
#[test]
fn every_example_parses() {
    use clap::Parser;
    let pages = Pages::new("examples");
    for name in pages.names() {
        let Some(page) = name.strip_suffix(".8") else {
            continue;
        };
        let extra = pages::extra(page).unwrap();
        for (_, line) in &extra.examples {
            let words: Vec<&str> = line.split_whitespace().take_while(|w| *w != ">").collect();
            if let Err(e) = crate::cli::args::Args::try_parse_from(&words) {
                panic!("{page}: `{line}` does not parse:\n{e}");
            }
            let command = command_of(page);
            assert!(
                page == "podctl" || line.starts_with(&command),
                "{page}: {line}"
            );
        }
    }
}

/// The command line a page is about: `podctl-secret-create` is `podctl
/// secret create`, `podctl-auto-update` is `podctl auto-update` (the
/// names are the command tree's, dashes and all).
fn command_of(page: &str) -> String {
    use clap::CommandFactory;
    let mut cmd = crate::cli::args::Args::command();
    let mut words = vec!["podctl".to_string()];
    let mut rest = page.strip_prefix("podctl").unwrap_or(page);
    while let Some(r) = rest.strip_prefix('-') {
        let Some(sub) = cmd
            .get_subcommands()
            .filter(|c| r == c.get_name() || r.starts_with(&format!("{}-", c.get_name())))
            .max_by_key(|c| c.get_name().len())
            .cloned()
        else {
            return page.replace('-', " ");
        };
        words.push(sub.get_name().to_string());
        rest = &r[sub.get_name().len()..];
        cmd = sub;
    }
    words.join(" ")
}
