//! Validates every message of a capture or hex dump against merchant profiles and reports what
//! was altered: by merchant (transactions, findings by rule, estimated fee impact), then the
//! findings; or one finding a line as NDJSON; or (feature `html`) one HTML page with charts.
//!
//! ```text
//! cargo run --release --example audit -- --profiles examples/data/merchants.toml --input pcap examples/data/sample.pcap
//! ```

use clap::{Parser, ValueEnum};
use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::{CaptureConfig, CaptureError};
use iso8583_inspect::diff::{DiffConfig, HopConfig};
use iso8583_inspect::input::{Input, open_input};
use iso8583_inspect::leg::Legs;
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::report::write_findings_ndjson;
use std::io::{self, Write};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
enum InputKind {
    /// One message a line in hex.
    Hex,
    /// A pcap or pcapng capture.
    Pcap,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutFormat {
    /// The readable report.
    Text,
    /// One finding a line.
    Ndjson,
    /// One self-contained HTML page with charts (needs the `html` feature).
    Html,
}

/// Audit ISO 8583 traffic against merchant profiles.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The merchant profiles (TOML).
    #[arg(long)]
    profiles: String,
    /// Fee rates and MCC classes overriding the defaults (TOML).
    #[arg(long)]
    fees: Option<String>,
    /// A built-in spec (iso87-ascii, iso87-ascii-binary-bitmap, iso87-bcd, iso93-ascii,
    /// cup-pos, cups) or the path of a TOML/JSON spec, for every leg; NAME=SPEC for one leg
    /// (repeatable). Default iso87-ascii.
    #[arg(long = "spec", value_name = "[NAME=]SPEC")]
    specs: Vec<String>,
    /// How FILE holds the messages.
    #[arg(long, value_enum, default_value = "pcap")]
    input: InputKind,
    /// Framing of captured TCP streams (auto, len2, len2-le, len4-ascii, len2-bcd, none, tpdu,
    /// cups), for every leg; NAME=F for one leg (repeatable). Default auto.
    #[arg(long = "framing", value_name = "[NAME=]F")]
    framings: Vec<String>,
    /// A server port (repeatable).
    #[arg(long = "port")]
    ports: Vec<u16>,
    /// Minutes of capture time after which a silent connection is let go (a flow-dropped
    /// event): memory then follows the traffic, not the length of the input.
    #[arg(long = "flow-idle", value_name = "MINUTES", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    flow_idle: u64,
    /// The most connections held at once; the least recently active is let go past it.
    #[arg(long = "max-flows", value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_flows: u64,
    /// Which traffic is which leg, by server port (repeatable): terminal=PORT[,PORT...],
    /// network=PORT[,PORT...].
    #[arg(long = "leg", value_name = "NAME=PORT[,PORT...]")]
    legs: Vec<String>,
    /// Seconds of capture time a request waits for its response.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// channel-merchant-fan-in: this many terminal merchants behind one network merchant
    /// within a day.
    #[arg(long = "fan-in", default_value_t = 3, value_parser = clap::value_parser!(u32).range(2..))]
    fan_in: u32,
    /// channel-merchant-rotation: this many network merchants for one terminal merchant within
    /// a day.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(2..))]
    rotation: u32,
    /// Threads that audit the traffic, each a shard of it cut by transaction key (one more
    /// reads the input). The findings are the same as on one thread; NDJSON lines come in the
    /// order the threads find them. For files: on a live pipe, use one thread (findings wait
    /// for a batch of 1,024 messages to fill).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    threads: u64,
    /// Write a transaction ledger of the input to DIR (Parquet: DIR/transactions/ and
    /// DIR/findings/, one file each an input; needs the `ledger` feature). Card numbers are
    /// hashed under the key of --ledger-key or ISO8583_LEDGER_KEY.
    #[arg(long, value_name = "DIR")]
    ledger: Option<String>,
    /// The ledger's key for hashing card numbers: 32 hex digits (128 bits). Default: the
    /// ISO8583_LEDGER_KEY environment variable.
    #[arg(long = "ledger-key", value_name = "HEX")]
    ledger_key: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: OutFormat,
    /// With --format html: the findings table's rows at most, the most serious first (the
    /// counts and charts cover every finding).
    #[arg(long = "html-findings", value_name = "N", default_value_t = 5_000)]
    html_findings: usize,
    /// With --format html: the page's title (default "ISO 8583 audit").
    #[arg(long = "title", value_name = "TEXT")]
    title: Option<String>,
    /// The input file, or - for standard input.
    file: String,
}

/// Records the audit in a ledger in `dir`, named after the input.
#[cfg(feature = "ledger")]
fn set_ledger(
    audit: &mut Audit<'_>,
    dir: &str,
    key: Option<&str>,
    input: &str,
) -> Result<(), String> {
    use iso8583_inspect::ledger::{KEY_VARIABLE, Ledger, LedgerKey};
    let key = match key {
        Some(hex) => LedgerKey::from_hex(hex).map_err(|e| format!("--ledger-key: {e}"))?,
        None => LedgerKey::from_env().unwrap_or_else(|| {
            Err(format!(
                "--ledger: the ledger hashes card numbers under your key: give --ledger-key HEX \
                 or set {KEY_VARIABLE} (32 hex digits)"
            ))
        })?,
    };
    let name = if input == "-" {
        "stdin".to_string()
    } else {
        std::path::Path::new(input)
            .file_name()
            .map_or_else(|| input.to_string(), |n| n.to_string_lossy().into_owned())
    };
    let ledger = Ledger::create(std::path::Path::new(dir), &name, key)
        .map_err(|e| format!("--ledger {dir}: {e}"))?;
    audit.set_recorder(Box::new(ledger));
    Ok(())
}

/// What `--format html` says in a build without the HTML report.
const NO_HTML: &str = "--format html: this build has no HTML report (build with --features html)";

/// Writes the audit as one HTML page.
#[cfg(feature = "html")]
fn write_html(
    audit: &Audit<'_>,
    out: &mut impl Write,
    title: Option<&str>,
    rows: usize,
) -> io::Result<()> {
    use iso8583_inspect::report::{HtmlOptions, write_audit_html};
    let defaults = HtmlOptions::default();
    let options = HtmlOptions {
        title: title.map_or(defaults.title, str::to_string),
        max_findings: rows,
    };
    write_audit_html(audit, out, &options)
}

#[cfg(not(feature = "html"))]
fn write_html(_: &Audit<'_>, _: &mut impl Write, _: Option<&str>, _: usize) -> io::Result<()> {
    Err(io::Error::other(NO_HTML))
}

#[cfg(not(feature = "ledger"))]
fn set_ledger(_: &mut Audit<'_>, _: &str, _: Option<&str>, _: &str) -> Result<(), String> {
    Err("--ledger: this build has no ledger (build with --features ledger)".into())
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("audit: {message}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if matches!(args.format, OutFormat::Html) && !cfg!(feature = "html") {
        return fail(NO_HTML);
    }
    let legs = match Legs::from_args(&args.specs, &args.framings, &args.legs) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let book = match ProfileBook::load(&args.profiles) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let fees = match &args.fees {
        None => FeeTable::default(),
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| FeeTable::from_toml_str(&t).map_err(|e| e.to_string()))
        {
            Ok(f) => f,
            Err(e) => return fail(format!("--fees {path}: {e}")),
        },
    };
    let reader = match open_input(&args.file) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let input = match args.input {
        InputKind::Hex => Input::HexFramed(reader, legs.default_framing()),
        InputKind::Pcap => Input::Capture(
            reader,
            CaptureConfig {
                framing: legs.default_framing(),
                server_ports: args.ports,
                flow_idle_ms: args.flow_idle.saturating_mul(60_000),
                max_flows: usize::try_from(args.max_flows).unwrap_or(usize::MAX),
                ..CaptureConfig::default()
            },
        ),
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return fail(format!(
            "--timeout {}: expected a positive number of seconds",
            args.timeout
        ));
    }
    let pairing = DiffConfig {
        timeout_ms: (args.timeout * 1000.0) as u64,
        ..DiffConfig::default()
    };
    let hop = HopConfig {
        fan_in: args.fan_in as usize,
        rotation: args.rotation as usize,
        ..HopConfig::default()
    };
    let mut audit = Audit::with_config(legs.default_spec(), &book, &fees, pairing, hop);
    audit.configure_legs(&legs.configs());
    if let Some(dir) = &args.ledger {
        if let Err(e) = set_ledger(&mut audit, dir, args.ledger_key.as_deref(), &args.file) {
            return fail(e);
        }
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let closed = |e: &io::Error| e.kind() == io::ErrorKind::BrokenPipe;
    // NDJSON: each finding as it is found, flushed with its message (a live capture on stdin
    // reports as it goes), none kept. Text: the report at the end of the input.
    let run = match args.format {
        OutFormat::Ndjson => {
            audit.keep_findings(false);
            audit.run_threads(input, args.threads as usize, |found| {
                write_findings_ndjson(found, &mut out)?;
                out.flush()
            })
        }
        OutFormat::Text | OutFormat::Html => {
            audit.run_threads(input, args.threads as usize, |_| Ok(()))
        }
    };
    match run {
        Err(CaptureError::Output {
            kind: io::ErrorKind::BrokenPipe,
            ..
        }) => {
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("audit: {}: {e}", args.file);
            return ExitCode::from(1);
        }
        Ok(()) => {}
    }
    let written = match args.format {
        OutFormat::Text => audit.write_text(&mut out),
        OutFormat::Html => write_html(&audit, &mut out, args.title.as_deref(), args.html_findings),
        OutFormat::Ndjson => Ok(()),
    }
    .and_then(|()| out.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("audit: {e}");
            ExitCode::from(1)
        }
    }
}
