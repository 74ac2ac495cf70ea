//! Reads ISO 8583 messages and prints every field, card data masked.
//!
//! ```text
//! cargo run --release --example inspect -- --spec iso87-ascii --input pcap examples/data/sample.pcap
//! cargo run --release --example inspect -- --spec iso87-ascii --input hex examples/data/sample.hex
//! ```

use clap::{Parser, ValueEnum};
use iso8583_inspect::capture::CaptureConfig;
use iso8583_inspect::frame::Framing;
use iso8583_inspect::report::{Format, Options, inspect_capture, inspect_hex, open_input};
use iso8583_inspect::spec::Spec;
use std::io::{self, Write};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
enum Input {
    /// One message a line in hex; whitespace ignored.
    Hex,
    /// A pcap or pcapng capture (told apart by the file's magic).
    Pcap,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutFormat {
    /// A table a message: number, name, value.
    Text,
    /// One JSON object a message.
    Ndjson,
}

/// Decode ISO 8583 messages and print every field (card data masked).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// A built-in spec (iso87-ascii, iso87-ascii-binary-bitmap, iso87-bcd, iso93-ascii, cup-pos)
    /// or the path of a TOML/JSON spec file.
    #[arg(long, default_value = "iso87-ascii")]
    spec: String,
    /// How FILE holds the messages.
    #[arg(long, value_enum, default_value = "hex")]
    input: Input,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: OutFormat,
    /// Framing of captured TCP streams: auto, len2, len2-le, len4-ascii, len2-bcd, none, tpdu.
    #[arg(long, default_value = "auto")]
    framing: String,
    /// A server port (repeatable): which side is the client where the SYN was not captured.
    #[arg(long = "port")]
    ports: Vec<u16>,
    /// Show card numbers, track data, PIN blocks and ICC data in clear.
    #[arg(long)]
    reveal: bool,
    /// Print only counts by MTI and of errors.
    #[arg(long)]
    summary: bool,
    /// The input file, or - for standard input.
    file: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let spec = match Spec::named(&args.spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("inspect: {e}");
            return ExitCode::from(2);
        }
    };
    let framing = match Framing::from_arg(&args.framing) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("inspect: {e}");
            return ExitCode::from(2);
        }
    };
    let reader = match open_input(&args.file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("inspect: {e}");
            return ExitCode::from(2);
        }
    };
    let format = match args.format {
        OutFormat::Text => Format::Text,
        OutFormat::Ndjson => Format::Ndjson,
    };
    let opts = Options {
        format,
        reveal: args.reveal,
        summary_only: args.summary,
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    let result = match args.input {
        Input::Hex => inspect_hex(reader, &spec, &opts, &mut out),
        Input::Pcap => {
            let config = CaptureConfig {
                framing,
                server_ports: args.ports,
                ..CaptureConfig::default()
            };
            inspect_capture(reader, &spec, config, &opts, &mut out).map_err(|e| match e {
                iso8583_inspect::capture::CaptureError::Io(m) => io::Error::other(m),
                other => io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {other}", args.file),
                ),
            })
        }
    };
    let result = result.and_then(|summary| {
        if args.summary {
            summary.write(&mut out, format)?;
        }
        out.flush()
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("inspect: {e}");
            ExitCode::from(1)
        }
    }
}
