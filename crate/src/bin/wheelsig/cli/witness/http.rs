//! A small HTTP/1.1 server for the witness: a fixed pool of worker threads, each serving one
//! connection at a time, with every resource a client controls bounded (head size, header
//! count, body size, time per request, idle time, requests per connection, queued
//! connections). Request heads are parsed by httparse. Bodies need a Content-Length (no
//! chunked uploads: witness clients send small fixed bodies).
//!
//! Why not a server crate: tiny_http 0.12 bounds neither header lines nor socket time and
//! spawns a thread per connection (an endless header line grows memory without limit, a slow
//! body pins a thread forever), and hyper/axum bring an async runtime and ~40 crates for a
//! service that answers one small POST per checkpoint. Parsing stays in a library (httparse).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wheelsig::display::escape;

/// What a client may make the server hold.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Request line plus headers.
    pub max_head: usize,
    /// Header lines.
    pub max_headers: usize,
    /// Request body.
    pub max_body: usize,
    /// From a request's first byte to its last (a slowloris gets this long, then 408).
    pub request_time: Duration,
    /// Waiting for the next request on a kept-alive connection.
    pub idle_time: Duration,
    /// Writing a response.
    pub write_time: Duration,
    /// Requests served on one connection before it is closed.
    pub requests_per_connection: usize,
    /// Worker threads: connections served at once.
    pub workers: usize,
    /// Accepted connections waiting for a worker; beyond this, new ones get 503.
    pub queue: usize,
}

/// A complete request.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path, without any query string.
    pub path: &'a str,
    pub body: &'a [u8],
}

/// A response, and what to log about it.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// For the request log line (escaped when written).
    pub log: String,
}

impl Response {
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into().into_bytes(),
            headers: Vec::new(),
            log: String::new(),
        }
    }
}

pub type Handler = dyn Fn(&Request<'_>) -> Response + Send + Sync;

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        417 => "Expectation Failed",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Serve forever (until the listener fails).
pub fn serve(listener: TcpListener, limits: Limits, handler: Arc<Handler>) -> std::io::Result<()> {
    let (tx, rx) = sync_channel::<(TcpStream, SocketAddr)>(limits.queue.max(1));
    let rx = Arc::new(Mutex::new(rx));
    let waiting = Arc::new(AtomicUsize::new(0));
    for i in 0..limits.workers.max(1) {
        let (rx, waiting, limits, handler) =
            (rx.clone(), waiting.clone(), limits.clone(), handler.clone());
        std::thread::Builder::new()
            .name(format!("witness-{i}"))
            .spawn(move || worker(&rx, &waiting, &limits, &*handler))?;
    }
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(c) => c,
            // A client gone before it was accepted.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionAborted | ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            // Out of file descriptors, most likely: let connections finish, then go on.
            Err(e) => {
                eprintln!("wheelsig witness: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        waiting.fetch_add(1, Ordering::SeqCst);
        match tx.try_send((stream, peer)) {
            Ok(()) => {}
            Err(TrySendError::Full((mut stream, peer))) => {
                waiting.fetch_sub(1, Ordering::SeqCst);
                // A short write to a fresh socket lands in its send buffer: this does not block
                // the accept loop (and the timeout bounds it if it would).
                let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
                let _ = write_response(
                    &mut stream,
                    &Response::text(503, "busy: too many connections\n"),
                    true,
                    false,
                );
                log_line(peer, "-", "-", 503, Duration::ZERO, "connection queue full");
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(std::io::Error::other("every worker thread exited"))
            }
        }
    }
}

fn worker(
    rx: &Mutex<Receiver<(TcpStream, SocketAddr)>>,
    waiting: &AtomicUsize,
    limits: &Limits,
    handler: &Handler,
) {
    loop {
        let next = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok((stream, peer)) = next else { return };
        waiting.fetch_sub(1, Ordering::SeqCst);
        let conn = Connection {
            stream,
            peer,
            buf: Vec::new(),
            limits,
            waiting,
            started: Instant::now(),
        };
        // A bug that panics on one connection must not shrink the pool.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| conn.serve(handler))).is_err() {
            eprintln!("wheelsig witness: {peer}: internal error (panic); connection dropped");
        }
    }
}

struct Connection<'a> {
    stream: TcpStream,
    peer: SocketAddr,
    /// Bytes read but not yet consumed (a pipelined next request).
    buf: Vec<u8>,
    limits: &'a Limits,
    waiting: &'a AtomicUsize,
    /// When the current request's first byte arrived.
    started: Instant,
}

/// How reading a request ended, short of a complete one.
enum Failed {
    /// Closed or idle before a request began: close silently.
    Quiet,
    /// A bad or too slow request: answer this, then close.
    Answer(u16, &'static str),
}

struct Head {
    method: String,
    path: String,
    keep_alive: bool,
    content_length: usize,
    expect_continue: bool,
}

impl Connection<'_> {
    fn serve(mut self, handler: &Handler) {
        let _ = self.stream.set_nodelay(true);
        let _ = self.stream.set_write_timeout(Some(self.limits.write_time));
        for served in 1..=self.limits.requests_per_connection.max(1) {
            let (head, body) = match self.read_request() {
                Ok(r) => r,
                Err(Failed::Quiet) => break,
                Err(Failed::Answer(status, why)) => {
                    let _ = write_response(
                        &mut self.stream,
                        &Response::text(status, format!("{why}\n")),
                        true,
                        false,
                    );
                    log_line(self.peer, "-", "-", status, self.started.elapsed(), why);
                    // A client that is merely slow gets no more time.
                    if status != 408 {
                        self.linger();
                    }
                    return;
                }
            };
            let req = Request {
                method: &head.method,
                path: &head.path,
                body: &body,
            };
            let resp = handler(&req);
            // Close kept-alive connections when others wait for a worker, so a few idle
            // clients cannot starve new ones.
            let close = !head.keep_alive
                || served == self.limits.requests_per_connection
                || self.waiting.load(Ordering::SeqCst) > 0;
            let written = write_response(&mut self.stream, &resp, close, head.method == "HEAD");
            log_line(
                self.peer,
                &head.method,
                &head.path,
                resp.status,
                self.started.elapsed(),
                &resp.log,
            );
            if close || written.is_err() {
                break;
            }
        }
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Close after an error answer without resetting the connection: a client still sending
    /// (a body over the limit) would otherwise get a reset instead of the answer. Bounded:
    /// at most 1 MiB or 1 second is read and dropped.
    fn linger(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut dropped = 0usize;
        let mut chunk = [0u8; 8192];
        while dropped < 1 << 20 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                break;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => dropped += n,
            }
        }
    }

    /// Read more bytes, waiting at most until `deadline`. Ok(0) at end of stream.
    fn fill(&mut self, deadline: Instant) -> std::io::Result<usize> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn read_request(&mut self) -> Result<(Head, Vec<u8>), Failed> {
        let limits = self.limits;
        // Wait (idle) for a request's first byte, then give the whole request a deadline.
        if self.buf.is_empty() {
            match self.fill(Instant::now() + limits.idle_time) {
                Ok(0) | Err(_) => return Err(Failed::Quiet),
                Ok(_) => {}
            }
        }
        self.started = Instant::now();
        let deadline = self.started + limits.request_time;
        let (head, head_len) = loop {
            match parse_head(&self.buf, limits) {
                Ok(Some(parsed)) => break parsed,
                Ok(None) if self.buf.len() >= limits.max_head => {
                    return Err(Failed::Answer(431, "request head too large"))
                }
                Ok(None) => {}
                Err(f) => return Err(f),
            }
            match self.fill(deadline) {
                Ok(0) => return Err(Failed::Quiet),
                Ok(_) => {}
                Err(e) if is_timeout(&e) => return Err(Failed::Answer(408, "request too slow")),
                Err(_) => return Err(Failed::Quiet),
            }
        };
        self.buf.drain(..head_len);
        if head.content_length > limits.max_body {
            return Err(Failed::Answer(413, "request body too large"));
        }
        if head.expect_continue && self.buf.is_empty() && head.content_length > 0 {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        while self.buf.len() < head.content_length {
            match self.fill(deadline) {
                Ok(0) => return Err(Failed::Quiet),
                Ok(_) => {}
                Err(e) if is_timeout(&e) => {
                    return Err(Failed::Answer(408, "request body too slow"))
                }
                Err(_) => return Err(Failed::Quiet),
            }
        }
        let body: Vec<u8> = self.buf.drain(..head.content_length).collect();
        Ok((head, body))
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Parse a complete head at the start of `buf`: Ok(None) while incomplete.
fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(Head, usize)>, Failed> {
    let mut headers = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(&buf[..buf.len().min(limits.max_head)]) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Failed::Answer(431, "too many header lines"))
        }
        Err(_) => return Err(Failed::Answer(400, "malformed request head")),
    };
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Err(Failed::Answer(400, "malformed request line"));
    };
    // httparse reads HTTP/1.0 and 1.1 only; a 1.0 client's connection is closed after one.
    if version > 1 {
        return Err(Failed::Answer(505, "only HTTP/1.1"));
    }
    let mut content_length: Option<usize> = None;
    let mut keep_alive = version == 1;
    let mut expect_continue = false;
    let mut host = false;
    for h in req.headers.iter() {
        let value = std::str::from_utf8(h.value)
            .map_err(|_| Failed::Answer(400, "a header value is not UTF-8"))?
            .trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = (!value.is_empty()
                && value.len() <= 12
                && value.bytes().all(|b| b.is_ascii_digit()))
            .then(|| value.parse::<usize>().ok())
            .flatten()
            .ok_or(Failed::Answer(400, "bad Content-Length"))?;
            if content_length.is_some_and(|c| c != n) {
                return Err(Failed::Answer(400, "conflicting Content-Length headers"));
            }
            content_length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Failed::Answer(
                411,
                "send a Content-Length (chunked bodies are not accepted)",
            ));
        } else if h.name.eq_ignore_ascii_case("connection") {
            if value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"))
            {
                keep_alive = false;
            }
        } else if h.name.eq_ignore_ascii_case("expect") {
            if !value.eq_ignore_ascii_case("100-continue") {
                return Err(Failed::Answer(417, "unsupported Expect"));
            }
            expect_continue = true;
        } else if h.name.eq_ignore_ascii_case("host") {
            host = true;
        }
    }
    if version == 1 && !host {
        return Err(Failed::Answer(400, "no Host header"));
    }
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    Ok(Some((
        Head {
            method: method.to_string(),
            path: path.to_string(),
            keep_alive,
            content_length: content_length.unwrap_or(0),
            expect_continue,
        },
        head_len,
    )))
}

/// Write `resp`; for a HEAD request (`head_only`) the body's length is announced but the body
/// is not sent.
fn write_response(
    stream: &mut TcpStream,
    resp: &Response,
    close: bool,
    head_only: bool,
) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n",
        resp.status,
        reason(resp.status),
        resp.content_type,
        resp.body.len()
    );
    for (name, value) in &resp.headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    if close {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(&resp.body);
    }
    stream.write_all(&bytes)?;
    stream.flush()
}

/// One line per request on stderr; everything that came from the request is escaped.
pub fn log_line(
    peer: SocketAddr,
    method: &str,
    path: &str,
    status: u16,
    took: Duration,
    detail: &str,
) {
    let path: Cow<'_, str> = match (0..=200).rev().find(|&i| path.is_char_boundary(i)) {
        Some(cut) if path.len() > 200 => Cow::Owned(format!("{}…", &path[..cut])),
        _ => Cow::Borrowed(path),
    };
    eprintln!(
        "wheelsig witness: {peer} {} {} {status} {}ms {}",
        escape(method),
        escape(&path),
        took.as_millis(),
        escape(detail)
    );
}
