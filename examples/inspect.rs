//! Reads ISO 8583 messages and prints every field, card data masked.
//!
//! ```text
//! cargo run --release --example inspect -- --spec iso87-ascii --input hex examples/data/sample.hex
//! ```

use clap::{Parser, ValueEnum};
use iso8583_inspect::report::{Format, Options, inspect_hex};
use iso8583_inspect::spec::{self, Spec};
use std::io::{self, BufRead, BufReader, Write};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
enum Input {
    /// One message a line in hex; whitespace ignored.
    Hex,
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
    /// Show card numbers, track data, PIN blocks and ICC data in clear.
    #[arg(long)]
    reveal: bool,
    /// Print only counts by MTI and of errors.
    #[arg(long)]
    summary: bool,
    /// The input file, or - for standard input.
    file: String,
}

fn load_spec(name: &str) -> Result<Spec, String> {
    if let Some(s) = spec::builtin(name) {
        return Ok(s.clone());
    }
    if std::path::Path::new(name).exists() {
        return Spec::load(name).map_err(|e| e.to_string());
    }
    let names: Vec<&str> = spec::BUILTINS.iter().map(|s| s.name.as_ref()).collect();
    Err(format!(
        "unknown spec {name:?}: not a file, nor one of {}",
        names.join(", ")
    ))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let spec = match load_spec(&args.spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("inspect: {e}");
            return ExitCode::from(2);
        }
    };
    let reader: Box<dyn BufRead> = if args.file == "-" {
        Box::new(io::stdin().lock())
    } else {
        match std::fs::File::open(&args.file) {
            Ok(f) => Box::new(BufReader::new(f)),
            Err(e) => {
                eprintln!("inspect: {}: {e}", args.file);
                return ExitCode::from(2);
            }
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
