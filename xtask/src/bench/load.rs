//! The load generator of the `cargo xtask bench` commands (`start`, `transport`): N threads,
//! each with one keep-alive HTTP/1.1 connection, sending the same request back to back for a
//! fixed time and recording every latency. The same generator drives every server compared.
//!
//! Blocking sockets and one thread per connection keep it simple and its cost equal for both
//! sides; on a 2-core machine it competes with the server for CPU, which is why the report
//! always compares the two servers measured the same way, alternating.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// What to send: the bytes of one request (HTTP/1.1, keep-alive), built per connection so
/// that each can carry its own session id.
pub type RequestFactory = Arc<dyn Fn(usize) -> Result<Vec<u8>> + Send + Sync>;

/// The outcome of one load run.
#[derive(Debug, Clone, Copy)]
pub struct LoadResult {
    /// Completed requests per second (2xx only).
    pub rps: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Requests that failed (non-2xx or I/O errors).
    pub errors: u64,
}

/// Runs `concurrency` connections for `warmup` (not counted) plus `duration`.
pub fn run(
    addr: SocketAddr,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    request: RequestFactory,
) -> Result<LoadResult> {
    let stop = Arc::new(AtomicBool::new(false));
    let measure_from = Instant::now() + warmup;
    let mut threads = Vec::with_capacity(concurrency);
    for index in 0..concurrency {
        // Set-up requests (a session per connection) may be refused by a loaded server: retry.
        let mut attempt = 0;
        let bytes = loop {
            match request(index) {
                Ok(bytes) => break bytes,
                Err(err) if attempt < 5 => {
                    attempt += 1;
                    eprintln!("preparing connection {index}: {err:#}; retrying");
                    std::thread::sleep(Duration::from_millis(200 * attempt));
                }
                Err(err) => return Err(err.context(format!("preparing connection {index}"))),
            }
        };
        let stop = stop.clone();
        threads.push(std::thread::spawn(move || {
            worker(addr, bytes, measure_from, stop)
        }));
    }
    std::thread::sleep(warmup + duration);
    stop.store(true, Ordering::Relaxed);
    let mut latencies: Vec<u32> = Vec::new();
    let mut errors = 0;
    for thread in threads {
        let (mut lat, err) = thread
            .join()
            .map_err(|_| anyhow::anyhow!("a load thread panicked"))?;
        latencies.append(&mut lat);
        errors += err;
    }
    if latencies.is_empty() {
        bail!("no request completed ({errors} errors)");
    }
    latencies.sort_unstable();
    let pick = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        Duration::from_micros(u64::from(latencies[i.min(latencies.len() - 1)]))
    };
    Ok(LoadResult {
        rps: latencies.len() as f64 / duration.as_secs_f64(),
        p50: pick(0.50),
        p99: pick(0.99),
        errors,
    })
}

/// One connection: returns the latencies (µs) measured after `measure_from`, and the errors.
fn worker(
    addr: SocketAddr,
    request: Vec<u8>,
    measure_from: Instant,
    stop: Arc<AtomicBool>,
) -> (Vec<u32>, u64) {
    let mut latencies = Vec::with_capacity(1 << 16);
    let mut errors = 0;
    let mut conn: Option<BufReader<TcpStream>> = None;
    while !stop.load(Ordering::Relaxed) {
        let reader = match &mut conn {
            Some(reader) => reader,
            None => match connect(addr) {
                Ok(reader) => conn.insert(reader),
                Err(_) => {
                    errors += 1;
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            },
        };
        let started = Instant::now();
        let outcome = exchange(reader, &request);
        let elapsed = started.elapsed();
        match outcome {
            Ok((status, keep_alive)) => {
                if (200..300).contains(&status) {
                    if started >= measure_from {
                        latencies.push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
                    }
                } else if started >= measure_from {
                    errors += 1;
                }
                if !keep_alive {
                    conn = None;
                }
            }
            Err(_) => {
                if started >= measure_from {
                    errors += 1;
                }
                conn = None;
            }
        }
    }
    (latencies, errors)
}

/// A keep-alive connection for [`exchange`] and [`request_on`].
pub fn connect(addr: SocketAddr) -> Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    Ok(BufReader::with_capacity(64 * 1024, stream))
}

/// Sends one request and reads the whole response; returns the status and whether the
/// connection may be reused.
pub fn exchange(reader: &mut BufReader<TcpStream>, request: &[u8]) -> Result<(u16, bool)> {
    reader.get_mut().write_all(request)?;
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        bail!("connection closed");
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("bad status line")?;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut keep_alive = true;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            bail!("connection closed in headers");
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                keep_alive = !value.eq_ignore_ascii_case("close");
            }
        }
    }
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim(), 16).context("bad chunk size")?;
            if size == 0 {
                line.clear();
                reader.read_line(&mut line)?;
                break;
            }
            skip(reader, size + 2)?;
        }
    } else if let Some(length) = length {
        skip(reader, length)?;
    } else if status != 204 && status != 304 {
        // Body until close.
        std::io::copy(reader, &mut std::io::sink())?;
        keep_alive = false;
    }
    Ok((status, keep_alive))
}

fn skip(reader: &mut BufReader<TcpStream>, mut n: usize) -> Result<()> {
    while n > 0 {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            bail!("connection closed in body");
        }
        let take = buf.len().min(n);
        reader.consume(take);
        n -= take;
    }
    Ok(())
}

/// Status, headers (lower-case names) and body of a reply.
pub type Reply = (u16, Vec<(String, String)>, Vec<u8>);

/// Sends one request on a fresh connection and returns status, headers and body (for set-up
/// steps such as `initialize`).
pub fn request_once(addr: SocketAddr, request: &[u8]) -> Result<Reply> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    request_on(&mut BufReader::new(stream), request)
}

/// Sends one request on an open keep-alive connection (see [`connect`]) and returns status,
/// headers and body; for set-up steps that open many sessions without a connection each.
pub fn request_on(reader: &mut BufReader<TcpStream>, request: &[u8]) -> Result<Reply> {
    reader.get_mut().write_all(request)?;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("bad status line")?;
    let mut headers = Vec::new();
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
            if name == "content-length" {
                length = value.parse().ok();
            }
            if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
            headers.push((name, value));
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim(), 16).context("bad chunk size")?;
            if size == 0 {
                // The empty line after the last chunk (no trailers are sent).
                line.clear();
                reader.read_line(&mut line)?;
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if let Some(length) = length {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else if status != 202 && status != 204 && status != 304 {
        reader.read_to_end(&mut body)?;
    }
    Ok((status, headers, body))
}

/// The bytes of a keep-alive request.
pub fn http_request(
    method: &str,
    path: &str,
    addr: SocketAddr,
    headers: &[(&str, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}
