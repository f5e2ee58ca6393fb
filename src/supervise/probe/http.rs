//! An http check's request: the URL and headers travel to the probe
//! helper in one argument ([`target`]), which sends a plain HTTP/1.0 GET
//! and reads the status ([`get`]).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// An http check's one argument: the URL, then a `Name: value` line per
/// header. Names and values were checked ([`crate::spec::headers`]): no
/// line break is in either, nor in the URL.
pub fn target(url: &str, headers: &std::collections::BTreeMap<String, String>) -> String {
    let mut t = url.to_string();
    for (name, value) in headers {
        t.push_str(&format!("\n{name}: {value}"));
    }
    t
}

/// [`target`] read back: the URL and the headers, or None if a line is
/// not a checked header (nothing unchecked reaches the request).
fn split_target(target: &str) -> Option<(&str, Vec<(&str, &str)>)> {
    let mut lines = target.split('\n');
    let url = lines.next()?;
    let headers = lines
        .map(|l| {
            let (name, value) = l.split_once(": ")?;
            (crate::spec::headers::name_ok(name) && crate::spec::headers::value_ok(value))
                .then_some((name, value))
        })
        .collect::<Option<Vec<_>>>()?;
    Some((url, headers))
}

/// The request of an http check: the probe's own `Host` and `User-Agent`
/// unless its headers name them (as Kubernetes lets them).
fn request(host: &str, path: &str, headers: &[(&str, &str)]) -> String {
    let given = |n: &str| headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
    let mut r = format!("GET {path} HTTP/1.0\r\n");
    if !given("Host") {
        r.push_str(&format!("Host: {host}\r\n"));
    }
    if !given("User-Agent") {
        r.push_str("User-Agent: podctl-probe\r\n");
    }
    for (name, value) in headers {
        r.push_str(&format!("{name}: {value}\r\n"));
    }
    r.push_str("\r\n");
    r
}

/// Splits `http://host[:port]/path` into (host:port, path).
pub fn split_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return None;
    }
    let hostport = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Some((hostport, path.to_string()))
}

/// The status code of a GET, or None.
pub fn get(target: &str, timeout: Duration) -> Option<u16> {
    let (url, headers) = split_target(target)?;
    let (hostport, path) = split_url(url)?;
    let addr = hostport.to_socket_addrs().ok()?.next()?;
    let mut s = TcpStream::connect_timeout(&addr, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    s.set_write_timeout(Some(timeout)).ok()?;
    let host = hostport.split(':').next().unwrap_or("localhost");
    // One write: a request split over several segments can be answered (and
    // the connection reset) before its end arrives.
    let request = request(host, &path, &headers);
    s.write_all(request.as_bytes()).ok()?;
    let mut head = Vec::with_capacity(64);
    let mut buf = [0u8; 64];
    while !head.contains(&b'\n') && head.len() < 1024 {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = std::str::from_utf8(&head).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/healthz"),
            Some(("127.0.0.1:8080".into(), "/healthz".into()))
        );
        assert_eq!(
            split_url("http://localhost"),
            Some(("localhost:80".into(), "/".into()))
        );
        assert_eq!(split_url("https://x"), None);
    }

    #[test]
    fn http_get_reads_the_status() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut c, _) = listener.accept().unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 256];
            while !req.ends_with(b"\r\n\r\n") {
                let n = c.read(&mut buf).unwrap();
                assert!(n > 0, "request ended early");
                req.extend_from_slice(&buf[..n]);
            }
            c.write_all(b"HTTP/1.0 204 No Content\r\n\r\n").unwrap();
        });
        let code = get(
            &format!("http://127.0.0.1:{port}/x"),
            Duration::from_secs(2),
        );
        server.join().unwrap();
        assert_eq!(code, Some(204));
    }

    /// Headers travel in the helper's one argument and come back as they
    /// were; a line that is not a checked header refuses the whole target.
    #[test]
    fn headers_reach_the_request_and_nothing_else_does() {
        let headers = std::collections::BTreeMap::from([
            ("X-Custom-Header".to_string(), "Awesome".to_string()),
            ("Host".to_string(), "example.test".to_string()),
        ]);
        let target = target("http://127.0.0.1:8080/healthz", &headers);
        let (url, got) = split_target(&target).unwrap();
        assert_eq!(url, "http://127.0.0.1:8080/healthz");
        let sent = request("127.0.0.1", "/healthz", &got);
        assert_eq!(
            sent,
            "GET /healthz HTTP/1.0\r\nUser-Agent: podctl-probe\r\nHost: example.test\r\nX-Custom-Header: Awesome\r\n\r\n"
        );
        assert_eq!(
            request("127.0.0.1", "/", &[]),
            "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: podctl-probe\r\n\r\n"
        );
        assert!(split_target("http://x/\nEvil\r: 1").is_none());
        assert!(split_target("http://x/\nno colon").is_none());
    }
}
