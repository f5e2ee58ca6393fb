//! zbus over systemd's private socket (`/run/systemd/private`).
//!
//! systemd marks every message it sends there with the sender
//! `org.freedesktop.systemd1`, a well-known name in the field where D-Bus
//! puts a unique name (`:1.42`); sd-bus accepts that, zbus 6 rejects the
//! whole message ("Invalid unique name"). So the socket is not handed to
//! zbus directly: the SASL handshake is done here, and two threads bridge
//! the socket and an in-process zbus channel, rewriting that one field to a
//! unique name of the same length (`:rg.freedesktop.systemd1`). The threads
//! live as long as the connection: both end when either side closes.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;
use zbus::connection::socket::{Channel, ReadHalf, Socket, WriteHalf};
use zbus::wire::Endian;
use zbus::wire::serialized::{Context, Data};

/// How long systemd may take to answer the authentication.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest message D-Bus allows (128 MiB); anything longer is garbage.
const MAX_MESSAGE: usize = 128 << 20;
/// The header field that holds the sender.
const FIELD_SENDER: u8 = 7;

fn io_err(e: io::Error) -> zbus::Error {
    zbus::Error::InputOutput(e.into())
}

/// Connects to systemd at `path`, peer to peer.
pub async fn connect(path: &Path) -> zbus::Result<zbus::Connection> {
    let mut stream = UnixStream::connect(path).map_err(io_err)?;
    let guid = handshake(&mut stream)?;
    let (ours, bridge) = Channel::pair();
    let (mut from_zbus, mut to_zbus) = bridge.split().take();
    let mut inbound = stream.try_clone().map_err(io_err)?;
    let mut outbound = stream;
    // systemd -> zbus. Ends at EOF (systemd or the other thread closed the
    // socket); dropping `to_zbus` then ends the connection's reader.
    std::thread::Builder::new()
        .name("podctl-sd-in".into())
        .spawn(move || {
            while let Ok(Some(msg)) = read_message(&mut inbound) {
                if park_on(to_zbus.send_message(&msg)).is_err() {
                    break;
                }
            }
            let _ = inbound.shutdown(Shutdown::Both);
        })
        .map_err(io_err)?;
    // zbus -> systemd. Ends when the connection is dropped (its channel
    // closes); shutting the socket down ends the other thread too.
    std::thread::Builder::new()
        .name("podctl-sd-out".into())
        .spawn(move || {
            loop {
                let next = park_on(from_zbus.receive_message(0, &mut Vec::new(), &mut Vec::new()));
                let Ok(msg) = next else { break };
                if outbound.write_all(msg.data()).is_err() {
                    break;
                }
            }
            let _ = outbound.shutdown(Shutdown::Both);
        })
        .map_err(io_err)?;
    zbus::connection::Builder::authenticated_socket(ours, guid.as_str())
        .p2p()
        .build()
        .await
}

/// Runs a future on this thread, parking it until woken: the bridge threads
/// only wait on the channel's events and need no runtime of their own.
fn park_on<F: std::future::Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let mut f = std::pin::pin!(f);
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// SASL EXTERNAL as our uid, pipelined; returns the server's GUID. systemd closes a
/// connection it will not take (too many) before answering.
fn handshake(stream: &mut UnixStream) -> zbus::Result<String> {
    let uid = nix::unistd::geteuid().as_raw().to_string();
    let hex: String = uid.bytes().map(|b| format!("{b:02x}")).collect();
    stream
        .set_read_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(io_err)?;
    // BEGIN goes with AUTH, before the OK, as sd-bus (systemctl) sends it:
    // systemd 252 leaves a message that arrives in the same read as a late
    // BEGIN unprocessed until more data comes (seen: 1 call in 4 hung).
    stream
        .write_all(format!("\0AUTH EXTERNAL {hex}\r\nBEGIN\r\n").as_bytes())
        .map_err(io_err)?;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        match stream.read(&mut byte) {
            Ok(0) => {
                return Err(zbus::Error::Handshake(
                    "systemd closed the connection during authentication".into(),
                ));
            }
            Ok(_) => line.push(byte[0]),
            Err(e) => return Err(io_err(e)),
        }
        if line.len() > 512 {
            return Err(zbus::Error::Handshake(
                "authentication reply too long".into(),
            ));
        }
    }
    let reply = String::from_utf8_lossy(&line).trim_end().to_string();
    let Some(guid) = reply.strip_prefix("OK ") else {
        return Err(zbus::Error::Handshake(format!(
            "systemd answered {reply:?}"
        )));
    };
    stream.set_read_timeout(None).map_err(io_err)?;
    Ok(guid.to_string())
}

fn u32_at(b: &[u8], at: usize, little: bool) -> usize {
    let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    (if little {
        u32::from_le_bytes(w)
    } else {
        u32::from_be_bytes(w)
    }) as usize
}

/// Reads one whole message; None at end of stream.
fn read_message(stream: &mut UnixStream) -> io::Result<Option<zbus::Message>> {
    let mut head = [0u8; 16];
    let mut got = 0;
    while got < head.len() {
        match stream.read(&mut head[got..])? {
            0 if got == 0 => return Ok(None),
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    let little = match head[0] {
        b'l' => true,
        b'B' => false,
        _ => return Err(io::Error::other("not a D-Bus message")),
    };
    let fields = u32_at(&head, 12, little);
    let total = (16 + fields).next_multiple_of(8) + u32_at(&head, 4, little);
    if total > MAX_MESSAGE {
        return Err(io::Error::other("D-Bus message too long"));
    }
    let mut bytes = vec![0u8; total];
    bytes[..16].copy_from_slice(&head);
    stream.read_exact(&mut bytes[16..])?;
    patch_sender(&mut bytes);
    let endian = if little { Endian::Little } else { Endian::Big };
    // SAFETY: `from_bytes` is unsafe because the bytes may be malformed;
    // zbus still parses and checks the header, and the body is only read
    // through zbus's checked deserializers.
    unsafe { zbus::Message::from_bytes(Data::new(bytes, Context::new(endian, 0))) }
        .map(Some)
        .map_err(|e| io::Error::other(e.to_string()))
}

/// Makes the sender field of a message a unique name (`:` first) in place,
/// keeping its length; leaves anything it does not understand as it is.
pub fn patch_sender(msg: &mut [u8]) {
    if msg.len() < 16 {
        return;
    }
    let little = msg[0] == b'l';
    let end = (16 + u32_at(msg, 12, little)).min(msg.len());
    let mut off: usize = 16;
    loop {
        off = off.next_multiple_of(8);
        if off + 4 > end || msg[off + 1] != 1 {
            return;
        }
        let (code, sig) = (msg[off], msg[off + 2]);
        let at = off + 4;
        off = match sig {
            b's' | b'o' if at + 4 <= end => {
                let len = u32_at(msg, at, little);
                let start = at + 4;
                if start + len > end {
                    return;
                }
                if code == FIELD_SENDER && len > 1 && msg[start] != b':' {
                    msg[start] = b':';
                }
                start + len + 1
            }
            b'g' if at < end => at + 1 + msg[at] as usize + 1,
            b'u' => at + 4,
            _ => return,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signal as systemd sends it on the private socket.
    fn from_systemd() -> Vec<u8> {
        let msg = zbus::Message::signal(
            "/org/freedesktop/systemd1",
            "org.freedesktop.systemd1.Manager",
            "JobRemoved",
        )
        .sender(":rg.freedesktop.systemd1")
        .build(&(7u32, "done"))
        .unwrap();
        let mut bytes = msg.data().to_vec();
        let at = bytes
            .windows(24)
            .position(|w| w == b":rg.freedesktop.systemd1")
            .unwrap();
        bytes[at] = b'o';
        bytes
    }

    fn parse(bytes: Vec<u8>) -> zbus::Result<zbus::Message> {
        // SAFETY: test bytes made by zbus itself.
        unsafe { zbus::Message::from_bytes(Data::new(bytes, Context::new(Endian::Little, 0))) }
    }

    #[test]
    fn systemds_sender_is_made_a_unique_name() {
        let raw = from_systemd();
        assert!(
            parse(raw.clone()).is_err(),
            "zbus takes a well-known sender now"
        );
        let mut patched = raw;
        patch_sender(&mut patched);
        let msg = parse(patched).unwrap();
        let header = msg.header();
        assert_eq!(
            header.sender().unwrap().as_str(),
            ":rg.freedesktop.systemd1"
        );
        assert_eq!(header.member().unwrap().as_str(), "JobRemoved");
        let (id, result): (u32, String) = msg.body().deserialize().unwrap();
        assert_eq!((id, result.as_str()), (7, "done"));
    }

    #[test]
    fn garbage_is_left_alone() {
        let mut short = vec![b'l'; 10];
        patch_sender(&mut short);
        let mut odd = from_systemd();
        let len = odd.len();
        odd[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        patch_sender(&mut odd);
        assert_eq!(odd.len(), len);
    }
}
