//! The `tap` example on the loopback interface (feature `tap`): test terminals and a test
//! acquirer, both in this test, exchange 10,000 messages through it over several connections.
//! Every byte must arrive unaltered and in order on both sides, and the tap must report the
//! abuses injected (and nothing else). `cargo test --features tap` builds the example first;
//! run `cargo build --features tap --example tap` before `cargo test --features tap --test tap`
//! alone.

use iso8583_inspect::frame::{Framing, write_frame};
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti, parse};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

const CONNECTIONS: usize = 8;
/// Sales a connection: 8 x 625 = 5,000 sales and 5,000 responses.
const SALES: usize = 625;
/// Every 50th sale is cleared under a supermarket's MCC (the merchant is a restaurant).
const JUMP_EVERY: usize = 50;
/// Every 125th response states another amount than its sale.
const ALTER_EVERY: usize = 125;
/// Nothing in this test waits longer than this for a byte.
const PATIENCE: Duration = Duration::from_secs(20);

fn tap_binary() -> PathBuf {
    common::example("tap")
}

/// The tap process, stopped (SIGINT) when dropped if the test fails before it stops it.
struct Tap(Child);

impl Drop for Tap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads one length-prefixed (len2) frame, or `None` at a clean end of stream.
fn read_frame(stream: &mut impl Read) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    match stream.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return None,
        Err(e) => panic!("reading a frame: {e}"),
    }
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut body).expect("a whole frame");
    Some(body)
}

fn framed(message: &[u8]) -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    write_frame(Framing::Len2, message, &mut out).unwrap();
    out.to_vec()
}

/// The sale number `seq` of connection `conn`: its own STAN, RRN and amount (the same card
/// and amount again would be a replay).
fn sale(conn: usize, seq: usize) -> Vec<u8> {
    let n = conn * SALES + seq;
    let mut b = common::typical_0200(&ISO87_ASCII);
    b.set_text(11, &format!("{:06}", n + 1))
        .unwrap()
        .set_text(37, &format!("{:012}", n + 1))
        .unwrap()
        .set_text(4, &format!("{:012}", 1000 + n))
        .unwrap();
    if n % JUMP_EVERY == 7 {
        b.set_text(18, "5411").unwrap();
    }
    b.to_vec().unwrap()
}

/// The test acquirer: answers each sale with an approval echoing it (another amount for
/// every `ALTER_EVERY`th), recording what each connection received and sent.
/// Each connection's bytes: those its far side sent, and those it received (the order differs
/// by side; the pair is compared as a whole).
type Streams = Vec<(Vec<u8>, Vec<u8>)>;

fn acquirer(listener: TcpListener, log: Arc<Mutex<Streams>>) {
    let mut handlers = Vec::new();
    for _ in 0..CONNECTIONS {
        let (mut stream, _) = listener.accept().expect("the tap connects");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let log = Arc::clone(&log);
        handlers.push(std::thread::spawn(move || {
            let (mut received, mut sent) = (Vec::new(), Vec::new());
            while let Some(request) = read_frame(&mut stream) {
                received.extend_from_slice(&framed(&request));
                let msg = parse(&ISO87_ASCII, &request).expect("the tap relays whole sales");
                let stan: usize = msg.field(11).unwrap().to_text().parse().unwrap();
                let mut b = MessageBuilder::from_message(&msg);
                b.set_mti(Mti::FINANCIAL_RESPONSE);
                b.set_text(39, "00").unwrap();
                if (stan - 1) % ALTER_EVERY == 3 {
                    b.set_text(4, "000000000001").unwrap();
                }
                let response = framed(&b.to_vec().unwrap());
                stream.write_all(&response).unwrap();
                sent.extend_from_slice(&response);
            }
            log.lock().unwrap().push((received, sent));
        }));
    }
    for h in handlers {
        h.join().unwrap();
    }
}

#[test]
fn the_tap_relays_every_byte_and_reports_the_injected_abuses() {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_addr = upstream.local_addr().unwrap();
    let acquirer_log = Arc::new(Mutex::new(Vec::new()));
    let acquirer_thread = {
        let log = Arc::clone(&acquirer_log);
        std::thread::spawn(move || acquirer(upstream, log))
    };
    let dir = std::env::temp_dir().join(format!("tap-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let findings_path = dir.join("findings.ndjson");
    let _ = std::fs::remove_file(&findings_path);
    let profiles = format!(
        "{}/examples/data/merchants.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut tap = Tap(Command::new(tap_binary())
        .args(["--listen", "127.0.0.1:0", "--upstream"])
        .arg(upstream_addr.to_string())
        .args(["--profiles", &profiles, "--leg", "terminal", "--findings"])
        .arg(&findings_path)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tap example is built (cargo build --features tap --example tap)"));
    let mut stderr = BufReader::new(tap.0.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let listen = first
        .strip_prefix("tap: listening on ")
        .and_then(|r| r.split(',').next())
        .unwrap_or_else(|| panic!("the tap's first line names its address: {first:?}"))
        .to_string();

    // The terminals: one sale at a time a connection, each answered before the next.
    let terminals: Vec<_> = (0..CONNECTIONS)
        .map(|conn| {
            let listen = listen.clone();
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(&listen).unwrap();
                stream.set_read_timeout(Some(PATIENCE)).unwrap();
                stream.set_nodelay(true).unwrap();
                let (mut sent, mut received) = (Vec::new(), Vec::new());
                for seq in 0..SALES {
                    let request = framed(&sale(conn, seq));
                    stream.write_all(&request).unwrap();
                    sent.extend_from_slice(&request);
                    let response = read_frame(&mut stream).expect("every sale is answered");
                    received.extend_from_slice(&framed(&response));
                }
                stream.shutdown(std::net::Shutdown::Write).unwrap();
                // The tap closes towards the terminal once the acquirer has closed.
                assert!(
                    read_frame(&mut stream).is_none(),
                    "nothing after the last response"
                );
                (sent, received)
            })
        })
        .collect();
    let mut terminal_log: Streams = terminals.into_iter().map(|t| t.join().unwrap()).collect();
    acquirer_thread.join().unwrap();

    // Every byte, in order, on both sides: each terminal connection's stream is one acquirer
    // connection's, both ways.
    let mut acquirer_log = std::mem::take(&mut *acquirer_log.lock().unwrap());
    terminal_log.sort();
    acquirer_log.sort();
    assert_eq!(terminal_log.len(), CONNECTIONS);
    for (t, a) in terminal_log.iter().zip(&acquirer_log) {
        assert!(t.0 == a.0, "the requests arrived altered or out of order");
        assert!(t.1 == a.1, "the responses arrived altered or out of order");
    }

    // Stop the tap as an operator would (Ctrl-C): it audits what is queued and flushes.
    let status = Command::new("kill")
        .args(["-INT", &tap.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(tap.0.wait().unwrap().success(), "{rest}");
    assert!(
        rest.contains(&format!(
            "{CONNECTIONS} connections, 10000 messages relayed, 10000 audited, 0 not audited"
        )),
        "{rest}"
    );

    let text = std::fs::read_to_string(&findings_path).unwrap();
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["leg"], "terminal", "{line}");
        *by_rule
            .entry(v["rule"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let jumped = CONNECTIONS * SALES / JUMP_EVERY;
    let altered = CONNECTIONS * SALES / ALTER_EVERY;
    let expected: BTreeMap<String, usize> = [
        ("mcc-mismatch".to_string(), jumped),
        // A supermarket's MCC is a cheaper class than a restaurant's.
        ("mcc-class-downgrade".to_string(), jumped),
        ("response-amount-changed".to_string(), altered),
    ]
    .into_iter()
    .collect();
    assert_eq!(by_rule, expected, "{text}");
    // No card number in the clear.
    assert!(!text.contains("6222021234567890123"));
    let _ = std::fs::remove_dir_all(&dir);
}
