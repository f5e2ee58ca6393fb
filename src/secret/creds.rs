//! Encrypting a value for systemd: `systemd-creds encrypt`, behind a trait.

use super::SecretError;
use std::io::Write;
use std::process::{Command, Stdio};

/// Encrypts a credential so that systemd decrypts it for a service
/// (`LoadCredentialEncrypted=NAME:PATH`, the same NAME); decrypts one to
/// compare it with a new value (in memory: never written).
pub trait Encrypter {
    fn encrypt(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, SecretError>;
    fn decrypt(&self, name: &str, sealed: &[u8]) -> Result<Vec<u8>, SecretError>;
}

/// `systemd-creds encrypt --name=NAME - -`: the value on its stdin, the
/// encrypted credential on its stdout (`decrypt`: the other way round) (a TPM2 when the host has one and
/// the host's key otherwise: systemd's `--with-key=auto`).
pub struct SystemdCreds;

impl Encrypter for SystemdCreds {
    fn encrypt(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, SecretError> {
        creds("encrypt", name, value)
    }

    fn decrypt(&self, name: &str, sealed: &[u8]) -> Result<Vec<u8>, SecretError> {
        creds("decrypt", name, sealed)
    }
}

/// `systemd-creds VERB --name=NAME - -`, `input` on its stdin, its stdout
/// returned (a pipe both ways: nothing on disk).
fn creds(verb: &str, name: &str, input: &[u8]) -> Result<Vec<u8>, SecretError> {
    let fail = |message: String| SecretError::Encrypt {
        name: name.to_string(),
        message: format!("systemd-creds {verb}: {message}"),
    };
    let mut child = Command::new("systemd-creds")
        .arg(verb)
        .arg(format!("--name={name}"))
        .args(["-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run systemd-creds: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped");
    // Written on a thread of its own: a value larger than a pipe while
    // systemd-creds already writes its output would block both.
    let value = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&value));
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot wait for systemd-creds: {e}")))?;
    let written = writer
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p));
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(fail(format!("{} ({})", err.trim(), out.status)));
    }
    written.map_err(|e| fail(format!("cannot write the value to systemd-creds: {e}")))?;
    Ok(out.stdout)
}

pub mod fake {
    //! An encrypter for tests: records the names, "encrypts" by reversing.
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct Reverse {
        pub names: Mutex<Vec<String>>,
    }

    impl Encrypter for Reverse {
        fn encrypt(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, SecretError> {
            self.names.lock().unwrap().push(name.to_string());
            let mut v = b"enc:".to_vec();
            v.extend(value.iter().rev());
            Ok(v)
        }

        fn decrypt(&self, name: &str, sealed: &[u8]) -> Result<Vec<u8>, SecretError> {
            match sealed.strip_prefix(b"enc:") {
                Some(v) => Ok(v.iter().rev().copied().collect()),
                None => Err(SecretError::Encrypt {
                    name: name.into(),
                    message: "not sealed by the fake".into(),
                }),
            }
        }
    }
}
