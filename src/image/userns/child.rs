//! The helper's side (`podctl __store-userns`, freshly exec'd, so
//! single-threaded as `unshare(CLONE_NEWUSER)` requires): it makes a user
//! namespace of its own, says so with one byte on stdout, and reads its
//! request on stdin, which podctl writes only once it has mapped the
//! namespace (`newuidmap`, `newgidmap`). Then it is root there, holding
//! the namespace's capabilities over the user's and the subordinate IDs'
//! files and no others, and does the work: an unpack with the layer's
//! owners as the namespace maps them, or a removal.

use super::wire::{Answer, Failure, IoFailure, MAX_REQUEST, Request};
use crate::image::unpack::{self, Owners};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The byte the helper writes once its namespace exists.
pub const UNSHARED: u8 = b'u';

/// The helper's main: its answer on stdout, success whatever it says (a
/// failure exit means it could not answer).
pub fn main() -> ExitCode {
    if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER) {
        eprintln!("podctl: cannot make a user namespace for the image store: {e}");
        return ExitCode::FAILURE;
    }
    let mut out = io::stdout().lock();
    if out
        .write_all(&[UNSHARED])
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    let mut input = BufReader::with_capacity(1 << 20, io::stdin().lock());
    let answer = match request(&mut input) {
        Ok(req) => serve(req, &mut input),
        Err(why) => Answer::Failed(Failure::Helper(why)),
    };
    let mut line = serde_json::to_vec(&answer).unwrap_or_default();
    line.push(b'\n');
    match out.write_all(&line).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// The request line; by then podctl has written the maps, or gone.
fn request(input: &mut impl BufRead) -> Result<Request, String> {
    let mut line = Vec::new();
    input
        .take(MAX_REQUEST)
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("reading the request: {e}"))?;
    if line.last() != Some(&b'\n') {
        return Err("no request (podctl went away, or it was too long)".into());
    }
    // Unmapped, this process would be the overflow ID: nothing it wrote
    // would get the owners it should.
    if !nix::unistd::geteuid().is_root() || nix::unistd::getegid().as_raw() != 0 {
        return Err("the user namespace was not mapped".into());
    }
    serde_json::from_slice(&line).map_err(|e| format!("bad request: {e}"))
}

fn serve(req: Request, input: &mut impl BufRead) -> Answer {
    match req {
        Request::Unpack {
            dest,
            budget,
            count,
        } => match unpack::unpack_as(input, &dest, &budget, Owners::Mapped { count }) {
            Ok(stats) => Answer::Unpacked(stats),
            Err(e) => Answer::Failed(Failure::from(&e)),
        },
        Request::Remove { paths } => match remove(&paths) {
            Ok(()) => Answer::Removed,
            Err((path, e)) => Answer::Failed(Failure::Remove {
                path,
                error: IoFailure::from(&e),
            }),
        },
    }
}

/// Removes each of `paths`, never following a symlink (a symlink is
/// removed itself; `remove_dir_all` opens each directory relative to its
/// parent, without following links).
pub fn remove(paths: &[PathBuf]) -> Result<(), (PathBuf, io::Error)> {
    for p in paths {
        let done = match p.symlink_metadata() {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
            Ok(_) => std::fs::remove_file(p),
            Err(e) => Err(e),
        };
        match done {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err((p.clone(), e)),
            _ => {}
        }
    }
    Ok(())
}
