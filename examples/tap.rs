//! A TCP relay that audits ISO 8583 traffic as it passes: it listens on a port, connects each
//! client to the upstream host, forwards the bytes both ways untouched and in order, and hands
//! a copy of each framed message to the in-line auditor (`inline::Inline`), writing findings
//! as NDJSON (one a line, flushed) as they are found.
//!
//! ```text
//! cargo run --release --features tap --example tap -- --listen 0.0.0.0:8583 \
//!     --upstream 10.1.2.3:8583 --profiles examples/data/merchants.toml --leg terminal
//! ```
//!
//! The audit never holds up the payment traffic: each connection's relay writes the bytes on
//! first, then cuts the copy into messages and offers them to the auditor's bounded queue
//! (`--queue`, 65,536 messages by default) without waiting; when the queue is full the audit's
//! copy is dropped and counted, never the bytes. The auditor runs on its own thread and moves
//! its clock with the wall clock, so an unanswered request is reported when its timeout passes.
//! Ctrl-C (or SIGTERM) stops accepting, audits what is queued, flushes the findings and prints
//! the counts on standard error. Transactions still in flight then are not reported: the tap
//! did not see how they ended.

use bytes::{Bytes, BytesMut};
use clap::Parser;
use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::{Direction, Flow, Timestamp};
use iso8583_inspect::frame::Framing;
use iso8583_inspect::inline::{Frame, Inline};
use iso8583_inspect::leg::{Leg, LegConfig};
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::report::write_findings_ndjson;
use iso8583_inspect::spec::Spec;
use iso8583_inspect::tokio_codec::FrameCodec;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Decoder;

/// Relay ISO 8583 traffic to an upstream host and audit it in line.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The address to listen on (port 0: any free port; the one taken is printed).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: String,
    /// Where to relay each connection.
    #[arg(long, value_name = "HOST:PORT")]
    upstream: String,
    /// The merchant profiles (TOML).
    #[arg(long)]
    profiles: String,
    /// Fee rates and MCC classes overriding the defaults (TOML).
    #[arg(long)]
    fees: Option<String>,
    /// A built-in spec (iso87-ascii, cup-pos, cups ...) or a TOML/JSON/jPOS XML spec file.
    #[arg(long, default_value = "iso87-ascii")]
    spec: String,
    /// How the stream is framed (len2, len2-le, len4-ascii, len2-bcd, tpdu, cups).
    #[arg(long, default_value = "len2")]
    framing: String,
    /// The leg this tap sits on (terminal or network): findings name it.
    #[arg(long)]
    leg: Option<String>,
    /// Write findings here (appended) instead of standard output.
    #[arg(long, value_name = "FILE")]
    findings: Option<String>,
    /// Messages the audit queue holds before it drops the audit's copy of new ones.
    #[arg(long, default_value_t = 65_536)]
    queue: usize,
}

/// What the relays hand the auditor.
enum Work {
    Frame {
        flow: Flow,
        direction: Direction,
        time: Timestamp,
        bytes: Bytes,
    },
    Stop,
}

/// Counts shared by the relays.
#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    messages: AtomicU64,
    dropped: AtomicU64,
    skipped_bytes: AtomicU64,
}

fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::new(d.as_secs() as i64, d.subsec_nanos())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tap: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    // The configuration lives as long as the process: the relays and the auditor share it.
    let spec: &'static Spec = Box::leak(Box::new(
        Spec::named(&args.spec).map_err(|e| format!("--spec {}: {e}", args.spec))?,
    ));
    let framing: Framing = match Framing::from_arg(&args.framing) {
        Ok(Some(f)) => f,
        Ok(None) => return Err("--framing auto: a live stream needs its framing named".into()),
        Err(e) => return Err(format!("--framing {}: {e}", args.framing)),
    };
    let book: &'static ProfileBook = Box::leak(Box::new(
        ProfileBook::load(&args.profiles).map_err(|e| e.to_string())?,
    ));
    let fees: &'static FeeTable = Box::leak(Box::new(match &args.fees {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| FeeTable::from_toml_str(&t).map_err(|e| e.to_string()))
            .map_err(|e| format!("--fees {path}: {e}"))?,
        None => FeeTable::default(),
    }));
    let leg: Option<Leg> = match &args.leg {
        Some(name) => Some(name.parse().map_err(|e| format!("--leg {name}: {e}"))?),
        None => None,
    };
    let out: Box<dyn Write + Send> = match &args.findings {
        Some(path) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("--findings {path}: {e}"))?,
        ),
        None => Box::new(io::stdout()),
    };
    if args.queue == 0 {
        return Err("--queue: at least 1".into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let listener = runtime
        .block_on(TcpListener::bind(&args.listen))
        .map_err(|e| format!("--listen {}: {e}", args.listen))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("tap: listening on {bound}, relaying to {}", args.upstream);

    let mut audit = Audit::new(spec, book, fees);
    if let Some(leg) = leg {
        audit.configure_legs(&[LegConfig {
            leg,
            ports: Vec::new(),
            spec,
            framing: Some(framing),
        }]);
    }
    let (tx, rx) = sync_channel::<Work>(args.queue);
    let auditor = std::thread::spawn(move || audit_loop(Inline::new(audit), leg, rx, out));

    let counters = Arc::new(Counters::default());
    let upstream = args.upstream.clone();
    let relay = Relay {
        framing,
        spec,
        tx: tx.clone(),
        counters: Arc::clone(&counters),
    };
    runtime.block_on(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((client, peer)) => {
                        relay.counters.connections.fetch_add(1, Ordering::Relaxed);
                        let relay = relay.clone();
                        let upstream = upstream.clone();
                        tokio::spawn(async move {
                            if let Err(e) = relay.connection(client, peer, &upstream).await {
                                eprintln!("tap: {peer}: {e}");
                            }
                        });
                    }
                    Err(e) => eprintln!("tap: accept: {e}"),
                },
                () = shutdown_signal() => break,
            }
        }
    });
    // What is queued before the stop is audited; the relays' later copies are not.
    let _ = tx.send(Work::Stop);
    let (audited, findings) = auditor
        .join()
        .map_err(|_| "the auditor thread failed".to_string())?
        .map_err(|e| format!("writing findings: {e}"))?;
    runtime.shutdown_timeout(Duration::from_millis(100));
    eprintln!(
        "tap: {} connections, {} messages relayed, {audited} audited, {} not audited (queue full), \
         {} bytes skipped to find frame boundaries, {findings} findings",
        counters.connections.load(Ordering::Relaxed),
        counters.messages.load(Ordering::Relaxed),
        counters.dropped.load(Ordering::Relaxed),
        counters.skipped_bytes.load(Ordering::Relaxed),
    );
    Ok(())
}

/// Ctrl-C, or SIGTERM where there is one.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The auditor's thread: frames in, findings out (flushed a line at a time); the wall clock
/// moves its time when no frame comes. Returns the messages audited and the findings written.
fn audit_loop(
    mut auditor: Inline<'static>,
    leg: Option<Leg>,
    rx: Receiver<Work>,
    out: Box<dyn Write + Send>,
) -> io::Result<(u64, u64)> {
    let mut out = BufWriter::new(out);
    let (mut audited, mut written) = (0u64, 0u64);
    loop {
        let found = match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(Work::Frame {
                flow,
                direction,
                time,
                bytes,
            }) => {
                audited += 1;
                let frame = Frame {
                    leg,
                    flow,
                    direction,
                    time,
                    bytes: &bytes,
                };
                auditor.observe(frame)
            }
            Ok(Work::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => auditor.tick(now()),
        };
        if !found.is_empty() {
            written += found.len() as u64;
            write_findings_ndjson(found, &mut out)?;
            out.flush()?;
        }
    }
    out.flush()?;
    Ok((audited, written))
}

/// What each connection's relays share.
#[derive(Clone)]
struct Relay {
    framing: Framing,
    spec: &'static Spec,
    tx: SyncSender<Work>,
    counters: Arc<Counters>,
}

impl Relay {
    /// Connects `client` to the upstream host and relays both ways until both sides close.
    async fn connection(
        &self,
        client: TcpStream,
        peer: SocketAddr,
        upstream: &str,
    ) -> io::Result<()> {
        let server = TcpStream::connect(upstream).await?;
        client.set_nodelay(true)?;
        server.set_nodelay(true)?;
        let flow = Flow {
            client: peer,
            server: server.peer_addr()?,
        };
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        let up = self.pipe(client_read, server_write, flow, Direction::Request);
        let down = self.pipe(server_read, client_write, flow, Direction::Response);
        let (up, down) = tokio::join!(up, down);
        up.and(down)
    }

    /// Copies `from` to `to` as it comes (the write first), and offers each whole message to
    /// the auditor without waiting.
    async fn pipe(
        &self,
        mut from: OwnedReadHalf,
        mut to: OwnedWriteHalf,
        flow: Flow,
        direction: Direction,
    ) -> io::Result<()> {
        let mut codec = FrameCodec::new(self.framing).resync_with(self.spec);
        let mut pending = BytesMut::with_capacity(16 * 1024);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = from.read(&mut buf).await?;
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                // The sender closed its side: close ours towards the receiver.
                return to.shutdown().await;
            };
            to.write_all(chunk).await?;
            pending.extend_from_slice(chunk);
            let time = now();
            let skipped = codec.skipped();
            while let Ok(Some(bytes)) = codec.decode(&mut pending) {
                self.counters.messages.fetch_add(1, Ordering::Relaxed);
                let work = Work::Frame {
                    flow,
                    direction,
                    time,
                    bytes,
                };
                match self.tx.try_send(work) {
                    Ok(()) | Err(TrySendError::Disconnected(_)) => {}
                    Err(TrySendError::Full(_)) => {
                        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            self.counters
                .skipped_bytes
                .fetch_add(codec.skipped() - skipped, Ordering::Relaxed);
        }
    }
}
