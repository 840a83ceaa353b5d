//! A fault-injecting HTTP/1.1 proxy in front of the sandbox: every request goes upstream on a fresh
//! connection (`Connection: close`), and a chosen share of PUTs either lose their answer (the server
//! applied the write; the client's connection is closed without a reply) or never reach the server
//! at all. Stops when dropped.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// What the proxy does with one PUT (every other request is forwarded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Forwarded, and the answer is passed back.
    Forward,
    /// Forwarded and answered by the server, but the client's connection is closed unanswered.
    DropAnswer,
    /// The client's connection is closed before anything goes upstream: the server never sees it.
    DropRequest,
    /// Forwarded and answered by the server, and the answer is passed back only after this long
    /// (so a client killed meanwhile never learns that its write landed).
    HoldAnswer(Duration),
}

/// Decides each PUT's fate from its 0-based number among the PUTs the proxy has seen.
pub type Rule = Box<dyn Fn(usize) -> Fate + Send + Sync>;

struct Shared {
    upstream: SocketAddr,
    rule: Mutex<Rule>,
    puts: AtomicUsize,
    dropped_answers: AtomicUsize,
    dropped_requests: AtomicUsize,
    held_answers: AtomicUsize,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

/// Longest a proxied exchange may take; bounds every read so no task outlives a test for long.
const EXCHANGE_LIMIT: Duration = Duration::from_secs(30);
/// Largest request or response head accepted.
const HEAD_LIMIT: usize = 64 * 1024;

impl FaultProxy {
    /// A proxy on 127.0.0.1:0 in front of `upstream_base` (`http://127.0.0.1:PORT/...`).
    pub async fn start(
        upstream_base: &str,
        rule: impl Fn(usize) -> Fate + Send + Sync + 'static,
    ) -> FaultProxy {
        let host = upstream_base
            .strip_prefix("http://")
            .expect("an http:// base url")
            .split('/')
            .next()
            .unwrap();
        let upstream: SocketAddr = host.parse().expect("a 127.0.0.1:PORT upstream");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream,
            rule: Mutex::new(Box::new(rule)),
            puts: AtomicUsize::new(0),
            dropped_answers: AtomicUsize::new(0),
            dropped_requests: AtomicUsize::new(0),
            held_answers: AtomicUsize::new(0),
        });
        let accepting = shared.clone();
        let task = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts every connection task.
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((client, _)) => {
                            connections.spawn(serve(client, accepting.clone()));
                        }
                        Err(_) => return,
                    },
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        FaultProxy { addr, shared, task }
    }

    /// The proxy's address with `upstream_base`'s path: `http://127.0.0.1:PROXY/api/v1`.
    pub fn base_url(&self, upstream_base: &str) -> String {
        let path = upstream_base
            .strip_prefix("http://")
            .and_then(|rest| rest.find('/').map(|at| &rest[at..]))
            .unwrap_or("");
        format!("http://{}{path}", self.addr)
    }

    /// Replaces the rule; PUT numbering goes on from where it was.
    pub fn set_rule(&self, rule: impl Fn(usize) -> Fate + Send + Sync + 'static) {
        *self.shared.rule.lock().unwrap() = Box::new(rule);
    }

    /// PUTs seen so far.
    pub fn puts(&self) -> usize {
        self.shared.puts.load(Ordering::SeqCst)
    }

    /// PUTs the server answered whose answer was not passed on.
    pub fn dropped_answers(&self) -> usize {
        self.shared.dropped_answers.load(Ordering::SeqCst)
    }

    /// PUTs whose answers were (or are being) held back.
    pub fn held_answers(&self) -> usize {
        self.shared.held_answers.load(Ordering::SeqCst)
    }

    /// PUTs that were never forwarded.
    pub fn dropped_requests(&self) -> usize {
        self.shared.dropped_requests.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One parsed request or response head: the start line and the header lines, without CRLFs.
struct Head {
    start: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn parse(bytes: &[u8]) -> Option<Head> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut lines = text.split("\r\n");
        let start = lines.next()?.to_string();
        let headers = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (name, value) = l.split_once(':')?;
                Some((name.trim().to_string(), value.trim().to_string()))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Head { start, headers })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The head as bytes, without hop-by-hop connection headers, plus `extra` header lines.
    fn encode(&self, extra: &[(&str, &str)]) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.start);
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("keep-alive") {
                continue;
            }
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        for (name, value) in extra {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        out.into_bytes()
    }
}

fn head_end(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// Reads one request (head and `Content-Length` body) from `client`, keeping what follows in
/// `buffer`. None at EOF, on a malformed request or after `EXCHANGE_LIMIT`.
async fn read_request(client: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(Head, Vec<u8>)> {
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(end) = head_end(buffer) {
            break end;
        }
        if buffer.len() > HEAD_LIMIT {
            return None;
        }
        let n = tokio::time::timeout(EXCHANGE_LIMIT, client.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = Head::parse(&buffer[..end - 4])?;
    assert!(
        head.header("transfer-encoding").is_none(),
        "the proxy only handles requests with a Content-Length body"
    );
    let length: usize = head
        .header("content-length")
        .map(|v| v.parse().ok())
        .unwrap_or(Some(0))?;
    while buffer.len() < end + length {
        let n = tokio::time::timeout(EXCHANGE_LIMIT, client.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[end..end + length].to_vec();
    buffer.drain(..end + length);
    Some((head, body))
}

/// Sends one request upstream on a fresh connection and reads the whole answer until EOF.
async fn exchange(upstream: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let work = async {
        let mut server = TcpStream::connect(upstream).await.ok()?;
        server.write_all(request).await.ok()?;
        let mut answer = Vec::new();
        server.read_to_end(&mut answer).await.ok()?;
        Some(answer)
    };
    tokio::time::timeout(EXCHANGE_LIMIT, work).await.ok()?
}

/// Serves one client connection: any number of requests, each on its own upstream connection.
async fn serve(mut client: TcpStream, shared: Arc<Shared>) {
    let mut buffer = Vec::new();
    while let Some((head, body)) = read_request(&mut client, &mut buffer).await {
        let fate = if head.start.starts_with("PUT ") {
            let number = shared.puts.fetch_add(1, Ordering::SeqCst);
            (shared.rule.lock().unwrap())(number)
        } else {
            Fate::Forward
        };
        if fate == Fate::DropRequest {
            shared.dropped_requests.fetch_add(1, Ordering::SeqCst);
            return; // closes the client's connection: nothing went upstream
        }
        let mut request = head.encode(&[("Connection", "close")]);
        request.extend_from_slice(&body);
        let Some(answer) = exchange(shared.upstream, &request).await else {
            return;
        };
        match fate {
            Fate::DropAnswer => {
                shared.dropped_answers.fetch_add(1, Ordering::SeqCst);
                return; // the server has answered; the client never hears it
            }
            Fate::HoldAnswer(wait) => {
                shared.held_answers.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(wait).await;
            }
            Fate::Forward | Fate::DropRequest => {}
        }
        // Keep the client's connection open when the answer's length is framed; otherwise the
        // answer ends at EOF and the connection must close after it.
        let Some(end) = head_end(&answer) else {
            let _ = client.write_all(&answer).await;
            return;
        };
        let Some(response) = Head::parse(&answer[..end - 4]) else {
            let _ = client.write_all(&answer).await;
            return;
        };
        let framed = response.header("content-length").is_some()
            || response
                .header("transfer-encoding")
                .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        let mut out = if framed {
            response.encode(&[])
        } else {
            answer[..end].to_vec()
        };
        out.extend_from_slice(&answer[end..]);
        if client.write_all(&out).await.is_err() || !framed {
            return;
        }
    }
}
