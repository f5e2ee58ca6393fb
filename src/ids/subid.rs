//! The `containers` entries of /etc/subuid and /etc/subgid (subuid(5)):
//! the host IDs podctl may give pods, by Podman's convention. Each line is
//! `name:start:count`; a name may have several lines; `#` starts a comment.
//! Lines of other users (by name or numeric UID) are left alone, whatever
//! their shape: they are not podctl's to judge.

use super::IdsError;
use crate::model::MIN_HOST_ID;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The user whose subordinate IDs pods get (Podman's convention).
pub const USER: &str = "containers";

/// The line to add when there is none: the upper half of the 32-bit ID
/// space, room for 32,768 pods of 65,536 IDs (Podman's suggestion).
pub const SUGGESTED_ENTRY: &str = "containers:2147483647:2147483648";

/// One past the largest ID: 4294967295 is `(uid_t) -1`, never an ID.
const ID_END: u64 = u32::MAX as u64;

/// The host IDs one file gives `containers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubIdEntry {
    /// The file, for messages.
    pub path: PathBuf,
    /// Sorted, disjoint, not adjacent (lines that touch are joined), none
    /// below [`MIN_HOST_ID`] nor past 4294967294; never empty.
    pub ranges: Vec<Range<u64>>,
}

/// Both files' `containers` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubIds {
    pub uid: SubIdEntry,
    pub gid: SubIdEntry,
}

impl SubIds {
    /// Parses the two files' text (a missing file is empty text).
    pub fn parse(
        subuid: &Path,
        subuid_text: &str,
        subgid: &Path,
        subgid_text: &str,
    ) -> Result<SubIds, IdsError> {
        Ok(SubIds {
            uid: SubIdEntry::parse(subuid, subuid_text)?,
            gid: SubIdEntry::parse(subgid, subgid_text)?,
        })
    }
}

impl SubIdEntry {
    /// The `containers` lines of one file's text, parts below
    /// [`MIN_HOST_ID`] cut ("a range never covers host users").
    pub fn parse(path: &Path, text: &str) -> Result<SubIdEntry, IdsError> {
        let mut ranges = Vec::new();
        let mut lines_seen = false;
        for (i, line) in text.lines().enumerate() {
            let Some(fields) = containers_line(line) else {
                continue;
            };
            lines_seen = true;
            let corrupt = |reason: &str| IdsError::SubIdLine {
                path: path.to_path_buf(),
                line: i + 1,
                text: line.trim().to_string(),
                reason: reason.to_string(),
            };
            let [start, count] = fields[..] else {
                return Err(corrupt("expected containers:START:COUNT"));
            };
            let start: u32 = start
                .parse()
                .map_err(|_| corrupt("START is not an ID (0 to 4294967294)"))?;
            let count: u32 = count
                .parse()
                .map_err(|_| corrupt("COUNT is not a number (1 to 4294967295)"))?;
            if count == 0 {
                return Err(corrupt("COUNT is 0"));
            }
            let end = (u64::from(start) + u64::from(count)).min(ID_END);
            let start = u64::from(start).max(u64::from(MIN_HOST_ID));
            if start < end {
                ranges.push(start..end);
            }
        }
        if ranges.is_empty() {
            let path = path.to_path_buf();
            return Err(if lines_seen {
                IdsError::OnlyHostIds { path }
            } else {
                IdsError::NoEntry { path }
            });
        }
        Ok(SubIdEntry {
            path: path.to_path_buf(),
            ranges: join(ranges),
        })
    }

    /// Whether `ids` IDs from `start` lie within the entry.
    pub fn covers(&self, start: u32, ids: u32) -> bool {
        let want = u64::from(start)..u64::from(start) + u64::from(ids);
        self.ranges
            .iter()
            .any(|r| r.start <= want.start && want.end <= r.end)
    }
}

/// Whether the text of a subuid or subgid file has a `containers` line.
pub fn has_entry(text: &str) -> bool {
    text.lines().any(|l| containers_line(l).is_some())
}

/// The fields after the name of a `containers` line; None for other
/// users' lines, blank lines and comments (whose first field starts with
/// `#`, so never is `containers`).
fn containers_line(line: &str) -> Option<Vec<&str>> {
    let mut fields = line.trim().split(':').map(str::trim);
    (fields.next() == Some(USER)).then(|| fields.collect())
}

/// Sorted, overlapping and touching ranges joined.
fn join(mut ranges: Vec<Range<u64>>) -> Vec<Range<u64>> {
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Range<u64>>, IdsError> {
        SubIdEntry::parse(Path::new("/etc/subuid"), text).map(|e| e.ranges)
    }

    #[test]
    fn containers_lines_only_comments_and_other_users_skipped() {
        let text = "# podman\n\nalice:100000:65536\n1000:300000:65536\n  containers:2147483647:2147483648  \nbob:oops\n";
        assert_eq!(parse(text).unwrap(), vec![2_147_483_647..4_294_967_295]);
        assert!(has_entry(text));
        assert!(!has_entry(
            "# containers:1:2\n#containers:1:2\nalice:100000:65536\ncontainersx:1:2\n"
        ));
    }

    #[test]
    fn several_lines_are_sorted_and_joined() {
        let text = "containers:400000:1000\ncontainers:200000:100000\ncontainers:300000:50000\ncontainers:250000:10\n";
        assert_eq!(
            parse(text).unwrap(),
            vec![200_000..350_000, 400_000..401_000]
        );
    }

    #[test]
    fn parts_below_the_host_users_are_cut() {
        assert_eq!(
            parse("containers:65536:100000\n").unwrap(),
            vec![100_000..165_536]
        );
        let e = parse("containers:1000:5000\n").unwrap_err();
        assert!(matches!(e, IdsError::OnlyHostIds { .. }), "{e}");
        assert!(e.to_string().contains(SUGGESTED_ENTRY), "{e}");
    }

    #[test]
    fn no_entry_names_the_file_and_the_line_to_add() {
        let e = parse("alice:100000:65536\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/etc/subuid has no `containers` entry, where pods' user namespaces get their IDs: \
             add the line `containers:2147483647:2147483648` (`podctl install` and the podctl \
             package add it)"
        );
        assert!(matches!(parse(""), Err(IdsError::NoEntry { .. })));
    }

    #[test]
    fn bad_lines_are_named_by_number() {
        let cases = [
            ("containers:100000\n", "expected containers:START:COUNT"),
            ("containers:1:2:3\n", "expected containers:START:COUNT"),
            ("containers:x:2\n", "START is not an ID"),
            ("containers:-1:2\n", "START is not an ID"),
            ("containers:100000:4294967296\n", "COUNT is not a number"),
            ("containers:100000:0\n", "COUNT is 0"),
        ];
        for (line, reason) in cases {
            let text = format!("# first\nalice:1:2\n{line}");
            let e = parse(&text).unwrap_err().to_string();
            let want = format!("/etc/subuid:3: `{}`: {reason}", line.trim());
            assert!(e.starts_with(&want), "{e}\nwanted {want}");
        }
    }

    #[test]
    fn both_files_and_coverage() {
        let ids = SubIds::parse(
            Path::new("/u"),
            "containers:200000:65536\n",
            Path::new("/g"),
            "containers:300000:65536\n",
        )
        .unwrap();
        assert_eq!(ids.uid.ranges, vec![200_000..265_536]);
        assert_eq!(ids.gid.path, Path::new("/g"));
        assert!(ids.uid.covers(200_000, 65_536));
        assert!(!ids.uid.covers(200_001, 65_536));
        assert!(!ids.gid.covers(200_000, 1));
        let e = SubIds::parse(
            Path::new("/u"),
            "containers:200000:1\n",
            Path::new("/g"),
            "",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("/g has no"), "{e}");
    }
}
