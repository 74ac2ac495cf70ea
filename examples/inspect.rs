//! Reads ISO 8583 messages and prints every field, card data masked.
//!
//! ```text
//! cargo run --release --example inspect -- --spec iso87-ascii --input pcap examples/data/sample.pcap
//! cargo run --release --example inspect -- --spec iso87-ascii --input hex examples/data/sample.hex
//! ```

use clap::{Parser, ValueEnum};
use iso8583_inspect::capture::CaptureConfig;
use iso8583_inspect::input::{self as input, open_input};
use iso8583_inspect::leg::Legs;
use iso8583_inspect::report::{Format, Options, inspect_legs};
use std::io::{self, Write};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
enum Input {
    /// One message a line in hex, whitespace ignored; with --framing, one whole frame a line.
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
    /// A built-in spec (iso87-ascii, iso87-ascii-binary-bitmap, iso87-bcd, iso93-ascii,
    /// cup-pos, cups) or the path of a TOML/JSON spec file, for every leg; NAME=SPEC for one
    /// leg (repeatable). Default iso87-ascii.
    #[arg(long = "spec", value_name = "[NAME=]SPEC")]
    specs: Vec<String>,
    /// How FILE holds the messages.
    #[arg(long, value_enum, default_value = "hex")]
    input: Input,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: OutFormat,
    /// Framing of captured TCP streams: auto, len2, len2-le, len4-ascii, len2-bcd, none, tpdu,
    /// cups; NAME=F for one leg (repeatable). Default auto.
    #[arg(long = "framing", value_name = "[NAME=]F")]
    framings: Vec<String>,
    /// Which traffic is which leg, by server port (repeatable): terminal=PORT[,PORT...],
    /// network=PORT[,PORT...].
    #[arg(long = "leg", value_name = "NAME=PORT[,PORT...]")]
    legs: Vec<String>,
    /// A server port (repeatable): which side is the client where the SYN was not captured.
    #[arg(long = "port")]
    ports: Vec<u16>,
    /// Minutes of capture time after which a silent connection is let go (a flow-dropped
    /// event): memory then follows the traffic, not the length of the input.
    #[arg(long = "flow-idle", value_name = "MINUTES", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    flow_idle: u64,
    /// The most connections held at once; the least recently active is let go past it.
    #[arg(long = "max-flows", value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_flows: u64,
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
    let legs = match Legs::from_args(&args.specs, &args.framings, &args.legs) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("inspect: {e}");
            return ExitCode::from(2);
        }
    };
    let spec = legs.default_spec();
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
    // Reading a pipe (`-`), each line is written as soon as it is complete, so that a live
    // capture shows its messages as they come; a file is written in large blocks.
    let mut out: Box<dyn Write> = if args.file == "-" {
        Box::new(io::LineWriter::new(io::stdout().lock()))
    } else {
        Box::new(io::BufWriter::new(io::stdout().lock()))
    };
    let result = match args.input {
        Input::Hex => {
            // Each line one message, or one whole frame under --framing.
            let input = input::Input::HexFramed(reader, legs.default_framing());
            inspect_legs(input, spec, &[], &opts, &mut out).map_err(io::Error::from)
        }
        Input::Pcap => {
            let config = CaptureConfig {
                framing: legs.default_framing(),
                server_ports: args.ports,
                flow_idle_ms: args.flow_idle.saturating_mul(60_000),
                max_flows: usize::try_from(args.max_flows).unwrap_or(usize::MAX),
                ..CaptureConfig::default()
            };
            let input = input::Input::Capture(reader, config);
            let configs = legs.configs();
            inspect_legs(input, spec, &configs, &opts, &mut out).map_err(|e| match e {
                e @ iso8583_inspect::capture::CaptureError::Output { .. } => io::Error::from(e),
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
