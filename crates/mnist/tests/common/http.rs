//! A minimal HTTP/1.1 server on 127.0.0.1 for the download tests: one thread per connection,
//! hand-written responses, every connection closed after one reply.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What the server does for one path.
#[derive(Clone)]
pub enum Reply {
    /// 200 with this body and its true Content-Length.
    Body(Vec<u8>),
    /// This status, empty body.
    Status(u16),
    /// 200 announcing `claimed` bytes, sending `body`, then closing.
    Truncated { body: Vec<u8>, claimed: usize },
    /// Accepts the request and never answers (until the server is dropped).
    Stall,
    /// Sends the headers and `prefix` of the body, then never sends more.
    StallMidBody { prefix: Vec<u8>, claimed: usize },
    /// 200 announcing `body.len()` bytes, then one byte of it every `every` (a drip that never
    /// trips a per-read timeout).
    Drip { body: Vec<u8>, every: Duration },
    /// 200 without Content-Length, then zeros until the client hangs up (or 60 s pass).
    Endless,
    /// 302 to this Location.
    Redirect(String),
}

pub struct Server {
    /// `http://127.0.0.1:PORT/`
    pub base: String,
    hits: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl Server {
    /// Serves `routes` (path without the leading `/` -> reply); other paths get 404.
    pub fn start(routes: HashMap<String, Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let routes = Arc::new(routes);
        {
            let (hits, stop) = (hits.clone(), stop.clone());
            thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (hits, stop, routes) = (hits.clone(), stop.clone(), routes.clone());
                    thread::spawn(move || serve(conn, &routes, &hits, &stop));
                }
            });
        }
        Server {
            base: format!("http://{addr}/"),
            hits,
            stop,
            addr,
        }
    }

    /// Paths requested so far, in order.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    mut conn: TcpStream,
    routes: &HashMap<String, Reply>,
    hits: &Mutex<Vec<String>>,
    stop: &AtomicBool,
) {
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&req);
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/')
        .to_string();
    hits.lock().unwrap().push(path.clone());
    let head = |status: &str, len: usize| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Length: {len}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
        )
    };
    let stall = || {
        let t = Instant::now();
        while !stop.load(Ordering::SeqCst) && t.elapsed() < Duration::from_secs(60) {
            thread::sleep(Duration::from_millis(20));
        }
    };
    match routes.get(&path).cloned().unwrap_or(Reply::Status(404)) {
        Reply::Body(b) => {
            let _ = conn.write_all(head("200 OK", b.len()).as_bytes());
            let _ = conn.write_all(&b);
        }
        Reply::Status(code) => {
            let reason = match code {
                404 => "Not Found",
                403 => "Forbidden",
                500 => "Internal Server Error",
                _ => "Status",
            };
            let _ = conn.write_all(head(&format!("{code} {reason}"), 0).as_bytes());
        }
        Reply::Truncated { body, claimed } => {
            let _ = conn.write_all(head("200 OK", claimed).as_bytes());
            let _ = conn.write_all(&body);
        }
        Reply::Stall => stall(),
        Reply::Drip { body, every } => {
            let _ = conn.write_all(head("200 OK", body.len()).as_bytes());
            let t = Instant::now();
            for b in body {
                if stop.load(Ordering::SeqCst) || t.elapsed() > Duration::from_secs(60) {
                    break;
                }
                if conn.write_all(&[b]).and_then(|()| conn.flush()).is_err() {
                    break;
                }
                thread::sleep(every);
            }
        }
        Reply::Endless => {
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
            );
            let chunk = vec![0u8; 1 << 16];
            let t = Instant::now();
            while !stop.load(Ordering::SeqCst) && t.elapsed() < Duration::from_secs(60) {
                if conn.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
        Reply::Redirect(to) => {
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            );
        }
        Reply::StallMidBody { prefix, claimed } => {
            let _ = conn.write_all(head("200 OK", claimed).as_bytes());
            let _ = conn.write_all(&prefix);
            let _ = conn.flush();
            stall();
        }
    }
    let _ = conn.flush();
}
