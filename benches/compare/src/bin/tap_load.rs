//! Load through the `tap` example: messages a second and the latency a round trip, through the
//! tap beside a direct connection to the same test acquirer in the same run, with 1, 16 and
//! 256 connections (each a terminal sending a sale and waiting for its answer, again and
//! again).
//!
//! ```text
//! cargo build --release --features tap --example tap
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin tap_load [ROUND_TRIPS]
//! ```

use iso8583_inspect::frame::{Framing, write_frame};
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The sale a terminal sends, number `n`: its own STAN, RRN and amount (clean traffic).
fn sale(n: usize) -> Vec<u8> {
    let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_REQUEST);
    for (f, v) in [
        (2, "6222021234567890123"),
        (3, "000000"),
        (7, "1123093015"),
        (12, "093015"),
        (13, "1123"),
        (18, "5812"),
        (22, "051"),
        (25, "00"),
        (32, "48220000"),
        (41, "10000001"),
        (42, "822440158120001"),
        (49, "156"),
    ] {
        b.set_text(f, v).expect("a valid field");
    }
    b.set_text(4, &format!("{:012}", 1000 + n % 1_000_000))
        .and_then(|b| b.set_text(11, &format!("{:06}", n % 1_000_000)))
        .and_then(|b| b.set_text(37, &format!("{:012}", n)))
        .expect("valid fields");
    let mut out = bytes::BytesMut::new();
    write_frame(Framing::Len2, &b.to_vec().expect("encodes"), &mut out).expect("frames");
    out.to_vec()
}

/// The test acquirer: answers each frame at once with the same frame as a response (the MTI's
/// function digit set to 1), on as many connections as come.
fn acquirer() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let mut len = [0u8; 2];
                let mut frame = Vec::new();
                while stream.read_exact(&mut len).is_ok() {
                    frame.resize(usize::from(u16::from_be_bytes(len)), 0);
                    if stream.read_exact(&mut frame).is_err() {
                        return;
                    }
                    if let Some(function) = frame.get_mut(2) {
                        *function = b'1';
                    }
                    if stream.write_all(&len).is_err() || stream.write_all(&frame).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// Runs `connections` terminals against `addr`, `per` round trips each: (messages a second,
/// p50 and p99 round-trip latency in microseconds).
fn load(addr: SocketAddr, connections: usize, per: usize, base: usize) -> (f64, f64, f64) {
    let start = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|c| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).expect("connect");
                s.set_nodelay(true).expect("nodelay");
                s.set_read_timeout(Some(Duration::from_secs(30)))
                    .expect("timeout");
                let mut latencies = Vec::with_capacity(per);
                let mut reply = vec![0u8; 512];
                for i in 0..per {
                    let frame = sale(base + c * per + i);
                    let t = Instant::now();
                    s.write_all(&frame).expect("write");
                    let reply = reply.get_mut(..frame.len()).expect("room");
                    s.read_exact(reply).expect("an answer");
                    latencies.push(t.elapsed().as_secs_f64() * 1e6);
                }
                latencies
            })
        })
        .collect();
    let mut all: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("terminal"))
        .collect();
    let seconds = start.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let at = |q: f64| all[((all.len() - 1) as f64 * q) as usize];
    ((2 * all.len()) as f64 / seconds, at(0.50), at(0.99))
}

fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .map_or(40_000, |a| a.parse().expect("round trips"));
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let tap_bin = format!("{root}/target/release/examples/tap");
    let upstream = acquirer();
    let mut tap = Command::new(&tap_bin)
        .args(["--listen", "127.0.0.1:0", "--upstream"])
        .arg(upstream.to_string())
        .args([
            "--profiles",
            &format!("{root}/examples/data/merchants.toml"),
        ])
        .args(["--leg", "terminal", "--findings", "/dev/null"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{tap_bin}: {e} (cargo build --release --features tap --example tap)")
        });
    let mut stderr = BufReader::new(tap.stderr.take().expect("piped"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("the tap's address");
    let through: SocketAddr = first
        .strip_prefix("tap: listening on ")
        .and_then(|r| r.split(',').next())
        .and_then(|a| a.parse().ok())
        .expect("the tap names its address");

    println!(
        "Round trips (a sale and its answer, two messages) through the tap and directly, {total} a row; the test acquirer answers at once.\n"
    );
    println!(
        "| connections | direct msg/s | tap msg/s | tap / direct | direct p50 µs | tap p50 µs | tap / direct | direct p99 µs | tap p99 µs | tap / direct |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut base = 0;
    for connections in [1, 16, 256] {
        let per = (total / connections).max(20);
        // Warm both paths, then measure them in turn.
        load(upstream, connections, per / 10 + 1, base);
        load(through, connections, per / 10 + 1, base + 10_000_000);
        base += 20_000_000;
        let (dm, d50, d99) = load(upstream, connections, per, base);
        let (tm, t50, t99) = load(through, connections, per, base + 10_000_000);
        base += 20_000_000;
        println!(
            "| {connections} | {dm:.0} | {tm:.0} | {:.2}x | {d50:.0} | {t50:.0} | {:.2}x | {d99:.0} | {t99:.0} | {:.2}x |",
            tm / dm,
            t50 / d50,
            t99 / d99
        );
    }
    let _ = Command::new("kill")
        .args(["-INT", &tap.id().to_string()])
        .status();
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    let _ = tap.wait();
    println!("\n{}", rest.trim());
}
