//! Where messages come from: hex dumps (one message a line) and captures (pcap/pcapng, TCP
//! reassembly, framing), each message with where it was seen and, where legs are configured
//! ([`crate::leg`]), on which leg. Output lives in [`crate::report`], the checks in
//! [`crate::audit`].
//!
//! ```
//! use iso8583_inspect::input::{Input, Item, read_input};
//! use iso8583_inspect::spec::ISO87_ASCII;
//! let hex = "30383030 30303230303030303030303030303030 303030303432\n# a comment\n";
//! let mut lengths = Vec::new();
//! read_input(Input::Hex(hex.as_bytes()), &ISO87_ASCII, |item| {
//!     if let Item::Message { bytes, .. } = item {
//!         lengths.push(bytes.len());
//!     }
//!     Ok(())
//! })?;
//! assert_eq!(lengths, [26]);
//! # Ok::<(), iso8583_inspect::capture::CaptureError>(())
//! ```

use crate::capture::{CaptureConfig, CaptureError, CaptureEvent, CaptureReader, CapturedMessage};
use crate::leg::{Leg, LegConfig};
use crate::spec::Spec;
use std::io::{self, BufRead};

/// Where a captured message was seen.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Context {
    /// The capture time and flow as values (the strings below are their printed forms).
    #[serde(skip)]
    pub at: Option<(crate::capture::Timestamp, crate::capture::Flow)>,
    /// Capture time, RFC 3339 with microseconds.
    pub time: String,
    /// Sender, `ip:port`.
    pub src: String,
    /// Receiver, `ip:port`.
    pub dst: String,
    /// `request` (from the client side) or `response` (from the server side).
    pub dir: &'static str,
    /// The leg of the flow, where legs are configured.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "leg_name")]
    pub leg: Option<Leg>,
}

#[allow(clippy::ref_option, clippy::trivially_copy_pass_by_ref)]
fn leg_name<S: serde::Serializer>(leg: &Option<Leg>, s: S) -> Result<S::Ok, S::Error> {
    match leg {
        Some(l) => s.serialize_str(l.name()),
        None => s.serialize_none(),
    }
}

impl Context {
    /// The context of a captured message.
    #[must_use]
    pub fn of(m: &CapturedMessage) -> Context {
        Context {
            at: Some((m.time, m.flow)),
            time: m.time.to_string(),
            src: m.src().to_string(),
            dst: m.dst().to_string(),
            dir: m.direction.as_str(),
            leg: m.leg,
        }
    }
}

/// Opens an input file for reading, or standard input for `-`.
pub fn open_input(path: &str) -> io::Result<Box<dyn BufRead + Send>> {
    if path == "-" {
        return Ok(Box::new(io::BufReader::new(io::stdin())));
    }
    let file =
        std::fs::File::open(path).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
    Ok(Box::new(io::BufReader::new(file)))
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

/// Where messages come from.
#[derive(Debug)]
pub enum Input<R> {
    /// One message a line in hex (whitespace ignored; blank lines and `#` comments skipped).
    Hex(R),
    /// A pcap or pcapng capture, framed as configured.
    Capture(R, CaptureConfig),
}

/// What an input yields, one at a time.
#[derive(Debug)]
pub enum Item<'a> {
    /// A message's bytes, with where it was captured (for a capture).
    Message {
        /// The message (framing removed).
        bytes: &'a [u8],
        /// Time, addresses and direction.
        context: Option<Context>,
    },
    /// A hex line that is not an even number of hex digits.
    NotHex,
    /// A capture event other than a message.
    Event(&'a CaptureEvent),
}

/// Reads `input` and hands each message and event to `f`, in order.
pub fn read_input<R: BufRead + Send>(
    input: Input<R>,
    spec: &Spec,
    f: impl FnMut(Item<'_>) -> io::Result<()>,
) -> Result<(), CaptureError> {
    read_legs(input, spec, &[], f)
}

/// [`read_input`] with legs: a capture's flows are framed by their leg's framing and spec, and
/// each message's context names its leg (hex dumps have no flows: every line is read as
/// `spec`'s).
pub fn read_legs<'s, R: BufRead + Send + 's>(
    input: Input<R>,
    spec: &'s Spec,
    legs: &[LegConfig<'s>],
    mut f: impl FnMut(Item<'_>) -> io::Result<()>,
) -> Result<(), CaptureError> {
    let io_err = |e: io::Error| CaptureError::Io(e.to_string());
    match input {
        Input::Hex(lines) => {
            for line in lines.lines() {
                let line = line.map_err(io_err)?;
                let trimmed = line.trim();
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    continue;
                }
                match decode_hex_line(trimmed) {
                    Some(bytes) => f(Item::Message {
                        bytes: &bytes,
                        context: None,
                    }),
                    None => f(Item::NotHex),
                }
                .map_err(io_err)?;
            }
        }
        Input::Capture(reader, config) => {
            for event in CaptureReader::with_legs(reader, spec, config, legs)? {
                match &event {
                    CaptureEvent::Message(m) => f(Item::Message {
                        bytes: &m.bytes,
                        context: Some(Context::of(m)),
                    }),
                    other => f(Item::Event(other)),
                }
                .map_err(io_err)?;
            }
        }
    }
    Ok(())
}
