//! Output of parsed messages for people (a table a field) and programs (NDJSON), with card data
//! masked unless the caller asks to reveal it, and the hex-dump reader the `inspect` example
//! runs.
//!
//! ```
//! use iso8583_inspect::report::{Format, Options, inspect_hex};
//! use iso8583_inspect::spec::ISO87_ASCII;
//! let input = "30383030 30303230303030303030303030303030 303030303432\n";
//! let opts = Options { format: Format::Ndjson, ..Options::default() };
//! let mut out = Vec::new();
//! let summary = inspect_hex(input.as_bytes(), &ISO87_ASCII, &opts, &mut out)?;
//! assert_eq!(String::from_utf8(out)?, "{\"index\":0,\"mti\":\"0800\",\"fields\":{\"11\":\"000042\"}}\n");
//! assert_eq!(summary.messages, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::ParseError;
use crate::message::Message;
use crate::parse::parse;
use crate::spec::Spec;
use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

/// How messages are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A readable table: a row per field (number, name, value).
    #[default]
    Text,
    /// One JSON object a message.
    Ndjson,
}

/// What to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Text or NDJSON.
    pub format: Format,
    /// Show card numbers, track data, PIN blocks and ICC data in clear.
    pub reveal: bool,
    /// Write only the closing counts (for throughput runs).
    pub summary_only: bool,
}

/// Counts of a run: messages by MTI, and errors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Messages read (parsed or not).
    pub messages: usize,
    /// Messages parsed, by MTI.
    pub by_mti: BTreeMap<String, usize>,
    /// Messages that failed to parse (or were not hex).
    pub errors: usize,
    /// Bytes of message data read.
    pub bytes: usize,
}

impl Summary {
    /// Writes the counts as text, or as one JSON object with `--format ndjson`.
    pub fn write(&self, out: &mut impl Write, format: Format) -> io::Result<()> {
        match format {
            Format::Ndjson => {
                #[derive(serde::Serialize)]
                struct Record<'s> {
                    summary: Body<'s>,
                }
                #[derive(serde::Serialize)]
                struct Body<'s> {
                    messages: usize,
                    errors: usize,
                    bytes: usize,
                    by_mti: &'s BTreeMap<String, usize>,
                }
                let record = Record {
                    summary: Body {
                        messages: self.messages,
                        errors: self.errors,
                        bytes: self.bytes,
                        by_mti: &self.by_mti,
                    },
                };
                serde_json::to_writer(&mut *out, &record)?;
                writeln!(out)
            }
            Format::Text => {
                writeln!(
                    out,
                    "messages: {}  errors: {}  bytes: {}",
                    self.messages, self.errors, self.bytes
                )?;
                for (mti, count) in &self.by_mti {
                    writeln!(out, "  {mti}: {count}")?;
                }
                Ok(())
            }
        }
    }
}

/// `{"index":N,"mti":"0200","fields":{...}}`, keys in this order.
#[derive(serde::Serialize)]
struct MessageRecord {
    index: usize,
    mti: String,
    fields: InOrder,
}

/// Field values keyed by number as a string, in field order.
struct InOrder(Vec<(String, String)>);

impl serde::Serialize for InOrder {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// `{"index":N,"error":{"field":4,"offset":23,"message":"..."}}`.
#[derive(serde::Serialize)]
struct ErrorRecord {
    index: usize,
    error: ErrorBody,
}

#[derive(serde::Serialize)]
struct ErrorBody {
    field: Option<u8>,
    offset: Option<usize>,
    message: String,
}

/// A field's value as shown: masked or hidden per [`crate::mask`] unless `reveal`.
fn shown(field: &crate::message::Field<'_>, reveal: bool) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = field.write_display(&mut s, reveal);
    s
}

/// Writes one parsed message.
pub fn write_message(
    out: &mut impl Write,
    index: usize,
    msg: &Message<'_>,
    opts: &Options,
) -> io::Result<()> {
    match opts.format {
        Format::Ndjson => {
            let fields = msg
                .fields()
                .map(|f| (f.number().to_string(), shown(&f, opts.reveal)))
                .collect();
            let record = MessageRecord {
                index,
                mti: msg.mti().to_string(),
                fields: InOrder(fields),
            };
            serde_json::to_writer(&mut *out, &record)?;
            writeln!(out)
        }
        Format::Text => {
            writeln!(
                out,
                "message {index}: MTI {} ({})",
                msg.mti(),
                msg.spec().name
            )?;
            if !msg.header().is_empty() {
                let hex: String = msg.header().iter().map(|b| format!("{b:02X}")).collect();
                writeln!(out, "  hdr  {:<40} {hex}", "header")?;
            }
            for f in msg.fields() {
                let name = msg.spec().field_name(f.number());
                writeln!(
                    out,
                    "  {:>3}  {:<40} {}",
                    f.number(),
                    name,
                    shown(&f, opts.reveal)
                )?;
            }
            Ok(())
        }
    }
}

/// Writes a message that failed, with the field, byte offset and reason.
pub fn write_error(
    out: &mut impl Write,
    index: usize,
    error: &ParseError,
    format: Format,
) -> io::Result<()> {
    match format {
        Format::Ndjson => {
            let record = ErrorRecord {
                index,
                error: ErrorBody {
                    field: error.field(),
                    offset: Some(error.offset),
                    message: error.to_string(),
                },
            };
            serde_json::to_writer(&mut *out, &record)?;
            writeln!(out)
        }
        Format::Text => writeln!(out, "message {index}: error: {error}"),
    }
}

/// Decodes one line of hex, ignoring whitespace; `None` if it is not hex.
#[must_use]
pub fn decode_hex_line(line: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = line.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => Some(crate::codec::hex_val(*hi)? << 4 | crate::codec::hex_val(*lo)?),
            _ => None,
        })
        .collect()
}

/// Reads messages in hex, one a line (whitespace ignored; blank lines and lines starting with
/// `#` skipped), parses each with `spec` and writes it. A message that fails is reported and
/// the run goes on.
pub fn inspect_hex(
    input: impl BufRead,
    spec: &Spec,
    opts: &Options,
    out: &mut impl Write,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    for line in input.lines() {
        let line = line?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let index = summary.messages;
        summary.messages += 1;
        let Some(bytes) = decode_hex_line(trimmed) else {
            summary.errors += 1;
            if !opts.summary_only {
                write_not_hex(out, index, opts.format)?;
            }
            continue;
        };
        summary.bytes += bytes.len();
        match parse(spec, &bytes) {
            Ok(msg) => {
                *summary.by_mti.entry(msg.mti().to_string()).or_default() += 1;
                if !opts.summary_only {
                    write_message(out, index, &msg, opts)?;
                }
            }
            Err(e) => {
                summary.errors += 1;
                if !opts.summary_only {
                    write_error(out, index, &e, opts.format)?;
                }
            }
        }
    }
    Ok(summary)
}

fn write_not_hex(out: &mut impl Write, index: usize, format: Format) -> io::Result<()> {
    let message = "the line is not an even number of hex digits";
    match format {
        Format::Ndjson => {
            let record = ErrorRecord {
                index,
                error: ErrorBody {
                    field: None,
                    offset: None,
                    message: message.into(),
                },
            };
            serde_json::to_writer(&mut *out, &record)?;
            writeln!(out)
        }
        Format::Text => writeln!(out, "message {index}: error: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ISO87_ASCII;
    use crate::{MessageBuilder, Mti};

    fn sale() -> Vec<u8> {
        let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_REQUEST);
        b.set_text(2, "6228480402564890018").unwrap();
        b.set_text(4, "000000001000").unwrap();
        b.set_text(35, "6228480402564890018=2512101").unwrap();
        b.set_text(52, "0123456789ABCDEF").unwrap();
        b.to_vec().unwrap()
    }

    #[test]
    fn ndjson_masks_card_data_unless_revealed() {
        let bytes = sale();
        let msg = parse(&ISO87_ASCII, &bytes).unwrap();
        let mut out = Vec::new();
        write_message(
            &mut out,
            3,
            &msg,
            &Options {
                format: Format::Ndjson,
                ..Options::default()
            },
        )
        .unwrap();
        let line = String::from_utf8(out).unwrap();
        assert_eq!(
            line,
            "{\"index\":3,\"mti\":\"0200\",\"fields\":{\"2\":\"622848*********0018\",\"4\":\"000000001000\",\"35\":\"[hidden, 27 units]\",\"52\":\"[hidden, 16 units]\"}}\n"
        );
        let mut out = Vec::new();
        let opts = Options {
            format: Format::Ndjson,
            reveal: true,
            ..Options::default()
        };
        write_message(&mut out, 3, &msg, &opts).unwrap();
        let line = String::from_utf8(out).unwrap();
        assert!(line.contains("\"2\":\"6228480402564890018\""));
        assert!(line.contains("\"52\":\"0123456789ABCDEF\""));
    }

    #[test]
    fn errors_name_field_and_offset() {
        let mut bad = sale();
        bad[30] = b'X';
        let input = format!(
            "{}\nzz\n",
            bad.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let mut out = Vec::new();
        let opts = Options {
            format: Format::Ndjson,
            ..Options::default()
        };
        let summary = inspect_hex(input.as_bytes(), &ISO87_ASCII, &opts, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "{\"index\":0,\"error\":{\"field\":2,\"offset\":30,\"message\":\"field 2 at offset 30: expected 19 digits, found 'X'\"}}"
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("{\"index\":1,\"error\":{\"field\":null")
        );
        assert_eq!((summary.messages, summary.errors), (2, 2));
    }
}
