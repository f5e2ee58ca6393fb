//! `podctl diff FILE|DIR`: what apply would do, doing nothing. The exit
//! status is kubectl diff's, for scripts: 0 when apply would change
//! nothing that runs, 1 when it would (create or recreate a pod, change a
//! container or a limit), 2 when the diff itself failed.

use super::output::Format;
use crate::layout::Layout;
use crate::plan::decide::Changes;
use crate::supervise::state::{PodState, changes_against};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Exit status: apply would change something that runs.
pub const EXIT_DIFFERENCES: u8 = 1;
/// Exit status: the diff failed (a file that does not load, ...).
pub const EXIT_ERROR: u8 = 2;

/// `podctl diff FILE|DIR [-o json|yaml]`.
pub fn diff(
    paths: &Layout,
    target: &Path,
    format: Format,
    policy: crate::kube::Unsupported,
) -> ExitCode {
    match diff_with(paths, target, format, policy, &mut std::io::stdout().lock()) {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(EXIT_DIFFERENCES),
        Err(e) => {
            eprintln!("podctl: {}", crate::error_chain(e.as_ref()));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Writes what apply would do with each pod file of `target` to `out`;
/// returns whether apply would change anything.
pub fn diff_with(
    paths: &Layout,
    target: &Path,
    format: Format,
    policy: crate::kube::Unsupported,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let mut reports = Vec::new();
    let mut differs = false;
    for (_, read) in super::read::each(target, policy, paths)? {
        let crate::apply::Definition { pod, text, .. } = read?;
        let running = PodState::load(&paths.run, &pod.name).is_some();
        // The images as stored now: apply pulls those that are not.
        let facts = crate::apply::facts_as_they_are(paths, &pod);
        let wanted = crate::plan::assemble(&pod, &facts);
        let changes = changes_against(&paths.run, running, (&wanted, &facts), &text);
        // Another text of the same plan (a comment, a manifest for a pod
        // file) changes nothing that runs: no difference, as printed.
        differs |= match &changes {
            Changes::Unchanged(_) => false,
            Changes::Reload(d) => !d.is_unchanged(),
            Changes::Create { .. } | Changes::Recreate(_) => true,
        };
        // A tag that `pull = "always"` would move is a change too.
        let pulls = super::pulls::lines(&pod, &facts, false);
        differs |= pulls.iter().any(|l| l.contains(": apply would pull"));
        let d = changes.diff();
        if format != Format::Human {
            reports.push(super::diff_json::report(&pod.name, d));
            continue;
        }
        match d {
            None => writeln!(out, "{}: created", pod.name)?,
            Some(d) => writeln!(out, "{d}")?,
        }
        for l in &pulls {
            writeln!(out, "  {l}")?;
        }
    }
    if let Some(doc) = super::output::render(format, &reports)? {
        write!(out, "{doc}")?;
    }
    Ok(differs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::Unsupported;

    const POD: &str = "name = \"dw\"\n[containers.app]\ncommand = [\"sleep\", \"1\"]\n";

    /// Differences or not, as apply would see them; an error is an error.
    #[test]
    fn diff_says_whether_apply_would_change_anything() {
        let dir = std::env::temp_dir().join(format!("podctl-diff-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("run")).unwrap();
        let paths = Layout::under(&dir);
        let file = dir.join("dw.toml");
        std::fs::write(&file, POD).unwrap();
        let run = |json: bool| {
            let format = if json { Format::Json } else { Format::Human };
            let mut out = Vec::new();
            let r = diff_with(&paths, &file, format, Unsupported::Error, &mut out);
            (
                r.map_err(|e| e.to_string()),
                String::from_utf8(out).unwrap(),
            )
        };
        // Not running: apply would create it.
        assert_eq!(run(false), (Ok(true), "dw: created\n".to_string()));
        // Running exactly this file: nothing to do, in either output.
        let state = PodState {
            pod: "dw".into(),
            definition: POD.into(),
            ..Default::default()
        };
        state.save(&paths.run).unwrap();
        let (r, text) = run(false);
        assert_eq!(r, Ok(false), "{text}");
        let (r, json) = run(true);
        assert_eq!(r, Ok(false), "{json}");
        assert!(json.contains("\"unchanged\""), "{json}");
        // Another text, the same plan: nothing that runs changes.
        std::fs::write(&file, format!("# a comment\n{POD}")).unwrap();
        let (r, text) = run(false);
        assert_eq!(r, Ok(false), "{text}");
        // A changed command: a difference.
        std::fs::write(&file, POD.replace("\"1\"", "\"2\"")).unwrap();
        assert_eq!(run(false).0, Ok(true));
        // A file that is not there: an error, not "no differences".
        std::fs::remove_file(&file).unwrap();
        assert!(run(false).0.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
