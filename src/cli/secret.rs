//! `podctl secret create|ls|inspect|rm`: secrets kept encrypted by
//! systemd ([`crate::secret`]). Values are read, encrypted and forgotten;
//! nothing here prints one.

use super::args::SecretCommand;
use super::output;
use crate::layout::Layout;
use crate::secret::{Entry, Store, SystemdCreds, VALUE_MAX};
use std::io::Read;

pub fn run(paths: &Layout, cmd: SecretCommand) -> anyhow::Result<()> {
    super::check_owner("secret")?;
    let store = Store {
        paths,
        enc: &SystemdCreds,
    };
    match cmd {
        SecretCommand::Create { name, file } => {
            crate::secret::check_name(&name)?;
            let value = read_value(file.as_deref())?;
            store.create(&name, &value)?;
            println!("secret {name}: created");
            Ok(())
        }
        SecretCommand::Ls { output } => {
            let list = store.list()?;
            if output::print(output.format(), &list)? {
                return Ok(());
            }
            println!("{:<32} {:>8}  {:<20} USED BY", "NAME", "SIZE", "CREATED");
            for e in &list {
                println!(
                    "{:<32} {:>8}  {:<20} {}",
                    e.name,
                    e.size,
                    created(e),
                    used_by(e, "-")
                );
            }
            Ok(())
        }
        SecretCommand::Inspect { name, output } => {
            let e = store.inspect(&name)?;
            if output::print(output.format(), &e)? {
                return Ok(());
            }
            show(&store, &e);
            Ok(())
        }
        SecretCommand::Rm { names } => {
            for name in &names {
                store.remove(name)?;
                println!("secret {name}: removed");
            }
            Ok(())
        }
    }
}

fn show(store: &Store<'_>, e: &Entry) {
    println!("secret {}  {}", e.name, store.path(&e.name).display());
    println!("  size: {} bytes (encrypted)", e.size);
    println!("  created: {}", created(e));
    println!("  used by: {}", used_by(e, "no stored pod"));
}

fn used_by(e: &Entry, none: &str) -> String {
    if e.used_by.is_empty() {
        none.into()
    } else {
        e.used_by.join(",")
    }
}

/// `YYYY-MM-DD HH:MM:SS` UTC.
fn created(e: &Entry) -> String {
    let t = super::output::rfc3339(e.created.saturating_mul(1_000_000));
    t[..19].replacen('T', " ", 1)
}

/// The value, from `file` or standard input, bounded; kept in memory only.
fn read_value(file: Option<&std::path::Path>) -> anyhow::Result<Vec<u8>> {
    let mut value = Vec::new();
    let limit = VALUE_MAX as u64 + 1;
    match file {
        None => std::io::stdin().take(limit).read_to_end(&mut value),
        Some(p) if p.as_os_str() == "-" => std::io::stdin().take(limit).read_to_end(&mut value),
        Some(p) => std::fs::File::open(p)
            .and_then(|f| f.take(limit).read_to_end(&mut value))
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))
            .map_err(std::io::Error::other),
    }?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    #[test]
    fn created_is_a_utc_date() {
        let e = super::Entry {
            name: "x".into(),
            size: 0,
            created: 1_700_000_000,
            used_by: vec![],
        };
        assert_eq!(super::created(&e), "2023-11-14 22:13:20");
    }
}
