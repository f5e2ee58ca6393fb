//! podctl.pod(5) from docs/pod-file.md, the one reference of the pod file:
//! a Markdown-to-roff converter for the subset that page uses (headings,
//! paragraphs, `-` lists, fenced code blocks, tables, and inline code,
//! bold, italics and links).

/// Where the package installs docs/*.md (gzipped), for links between pages.
const DOC_DIR: &str = "/usr/share/doc/podctl";

/// roff for plain text: backslashes and hyphens escaped, and a leading `.`
/// or `'` kept from being read as a request.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    if s.starts_with(['.', '\'']) {
        out.push_str("\\&");
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            _ => out.push(c),
        }
    }
    out
}

/// Inline Markdown to roff: `code` and **bold** in bold, *emphasis* in
/// italics, links as their text (and the installed file for other pages).
pub fn inline(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('`')
            && let Some(end) = r.find('`')
        {
            out.push_str(&format!("\\fB{}\\fR", escape_mid(&r[..end])));
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix("**")
            && let Some(end) = r.find("**")
        {
            out.push_str(&format!("\\fB{}\\fR", inline(&r[..end])));
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('*')
            && !r.starts_with(' ')
            && let Some(end) = r.find('*')
        {
            out.push_str(&format!("\\fI{}\\fR", inline(&r[..end])));
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix('[')
            && let Some(mid) = r.find("](")
            && let Some(end) = r[mid..].find(')')
        {
            out.push_str(&inline(&r[..mid]));
            if let Some(file) = installed(&r[mid + 2..mid + end]) {
                out.push_str(&format!(" ({})", escape_mid(&file)));
            }
            rest = &r[mid + end + 1..];
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push_str(&escape_mid(&c.to_string()));
            rest = &rest[c.len_utf8()..];
        }
    }
    if out.starts_with(['.', '\'']) {
        out.insert_str(0, "\\&");
    }
    out
}

/// [`escape`] for text inside a line.
fn escape_mid(s: &str) -> String {
    s.replace('\\', "\\e").replace('-', "\\-")
}

/// Where a link to another page of the documentation is installed; `None`
/// for anchors in this page.
fn installed(url: &str) -> Option<String> {
    let file = url.split('#').next().unwrap_or("");
    if file.is_empty() {
        None
    } else if file.ends_with("README.md") {
        Some(format!("{DOC_DIR}/README.md.gz"))
    } else {
        Some(format!("{DOC_DIR}/docs/{file}.gz"))
    }
}

/// The body of a man page (everything after `.TH` and NAME) from Markdown:
/// the title (`# ...`) is dropped, the text before the first `##` is the
/// DESCRIPTION.
pub fn to_roff(md: &str) -> String {
    let mut out = String::from(".SH DESCRIPTION\n");
    let mut para: Vec<&str> = Vec::new();
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut code = false;
    for line in md.lines() {
        if code {
            if line.starts_with("```") {
                out.push_str(".fi\n.RE\n");
                code = false;
            } else {
                out.push_str(&escape(line));
                out.push('\n');
            }
            continue;
        }
        let t = line.trim_start();
        if !t.starts_with('|') && !table.is_empty() {
            render_table(&mut out, &std::mem::take(&mut table));
        }
        if t.starts_with('|') {
            flush(&mut out, &mut para);
            table.push(cells(t));
        } else if line.starts_with("```") {
            flush(&mut out, &mut para);
            out.push_str(".PP\n.RS 4\n.nf\n");
            code = true;
        } else if line.starts_with("# ") {
            flush(&mut out, &mut para);
        } else if let Some(h) = line.strip_prefix("## ") {
            flush(&mut out, &mut para);
            out.push_str(&format!(".SH \"{}\"\n", escape(&h.to_uppercase())));
        } else if let Some(h) = line.strip_prefix("### ") {
            flush(&mut out, &mut para);
            out.push_str(&format!(".SS \"{}\"\n", escape(h)));
        } else if let Some(item) = line.strip_prefix("- ") {
            flush(&mut out, &mut para);
            out.push_str(".IP \\(bu 2\n");
            para.push(item);
        } else if line.trim().is_empty() {
            flush(&mut out, &mut para);
        } else {
            if para.is_empty() {
                out.push_str(".PP\n");
            }
            para.push(line.trim());
        }
    }
    flush(&mut out, &mut para);
    if !table.is_empty() {
        render_table(&mut out, &table);
    }
    out
}

/// One paragraph's lines, as one line of text.
fn flush(out: &mut String, para: &mut Vec<&str>) {
    if !para.is_empty() {
        out.push_str(&inline(&para.join(" ")));
        out.push('\n');
        para.clear();
    }
}

/// A table row's cells; `\|` is a `|` inside a cell.
fn cells(row: &str) -> Vec<String> {
    let row = row.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = vec![String::new()];
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                if let Some(s) = out.last_mut() {
                    s.push('|');
                }
            }
            '|' => out.push(String::new()),
            _ => {
                if let Some(s) = out.last_mut() {
                    s.push(c);
                }
            }
        }
    }
    out.into_iter().map(|s| s.trim().to_string()).collect()
}

/// A table as an indented list (it reads at any width, unlike columns):
/// the first cell is the tag, each other cell a line `header: cell`.
fn render_table(out: &mut String, rows: &[Vec<String>]) {
    let Some((header, body)) = rows.split_first() else {
        return;
    };
    let body = body
        .iter()
        .filter(|r| !r.iter().all(|c| c.chars().all(|c| c == '-' || c == ':')));
    for row in body {
        out.push_str(".TP\n");
        out.push_str(&inline(row.first().map_or("", String::as_str)));
        out.push('\n');
        let mut first = true;
        for (h, cell) in header.iter().zip(row).skip(1) {
            if cell.is_empty() {
                continue;
            }
            if !first {
                out.push_str(".br\n");
            }
            first = false;
            out.push_str(&format!("\\fI{}\\fR: {}\n", escape_mid(h), inline(cell)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_syntax_becomes_fonts_and_text_is_escaped() {
        assert_eq!(
            inline("`a-b` **c** *d*"),
            "\\fBa\\-b\\fR \\fBc\\fR \\fId\\fR"
        );
        assert_eq!(inline(".hidden 'x"), "\\&.hidden 'x");
        assert_eq!(inline("a\\b"), "a\\eb");
        assert_eq!(inline("see [Units](#units)"), "see Units");
        assert_eq!(
            inline("[Networks](networks.md#dns)"),
            "Networks (/usr/share/doc/podctl/docs/networks.md.gz)"
        );
        // Not emphasis: a lone star.
        assert_eq!(inline("2 * 3"), "2 * 3");
    }

    #[test]
    fn blocks_become_sections_lists_code_and_tagged_rows() {
        let roff = to_roff(
            "# T\n\nintro\ntext\n\n## Keys\n\n| key | type |\n| --- | --- |\n| `a` | x \\| y |\n\n\
             ### Sub\n\n- one\n  more\n- two\n\n```toml\n.dot = 1\n```\n",
        );
        assert_eq!(
            roff,
            ".SH DESCRIPTION\n.PP\nintro text\n.SH \"KEYS\"\n.TP\n\\fBa\\fR\n\\fItype\\fR: x | y\n\
             .SS \"Sub\"\n.IP \\(bu 2\none more\n.IP \\(bu 2\ntwo\n.PP\n.RS 4\n.nf\n\\&.dot = 1\n.fi\n.RE\n"
        );
    }
}
