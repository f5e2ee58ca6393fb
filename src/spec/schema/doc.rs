//! Each key's description, from the pod file's reference (docs/pod-file.md).

/// The pod file's reference: the `meaning` of each key.
pub(super) const POD_FILE_DOC: &str = include_str!("../../../docs/pod-file.md");

/// The last cell of the row of `key` in the first table under `heading`
/// (a `##` or `###` heading), as plain text.
pub(super) fn meaning(heading: &str, key: &str) -> Option<String> {
    let mut lines = POD_FILE_DOC.lines();
    lines.find(|l| l.trim_start_matches('#').trim() == heading && l.starts_with('#'))?;
    let row_start = format!("| `{key}` |");
    let row = lines
        .take_while(|l| !l.starts_with('#'))
        .find(|l| l.starts_with(&row_start))?;
    let cell = plain(
        row.trim_end()
            .trim_end_matches('|')
            .rsplit(" | ")
            .next()?
            .trim(),
    );
    // "see Security": that section's table says more, when it has the key.
    match cell.strip_prefix("see ") {
        Some(other) if other != heading => meaning(other, key).or(Some(cell)),
        _ => Some(cell),
    }
}

/// Markdown inline syntax dropped: links become their text, no backticks.
fn plain(md: &str) -> String {
    let mut out = String::new();
    let mut rest = md;
    while let Some(open) = rest.find('[') {
        let Some(mid) = rest[open..].find("](") else {
            break;
        };
        let Some(close) = rest[open + mid..].find(')') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..open + mid]);
        rest = &rest[open + mid + close + 1..];
    }
    out.push_str(rest);
    out.replace('`', "").replace("\\|", "|")
}
