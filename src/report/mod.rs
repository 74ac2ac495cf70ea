//! Output for people (text) and programs (NDJSON), card data masked unless the caller asks to
//! reveal it: parsed messages (a table a field, or one object a message) as the `inspect`
//! example writes them over hex dumps ([`inspect_hex`]) and captures ([`inspect_capture`],
//! [`inspect_legs`]), and an audit's report ([`write_audit_text`], [`write_audit_ndjson`], and
//! with the feature `html` one HTML page with charts, `write_audit_html`).
//! Reading input is [`crate::input`]'s business.
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

use crate::audit::{Audit, MerchantStats};
use crate::capture::{CaptureConfig, CaptureError, CaptureEvent};
use crate::error::ParseError;
use crate::input::read_legs;
pub use crate::input::{Context, Input, Item, decode_hex_line, open_input, read_input};
use crate::leg::LegConfig;
use crate::message::Message;
use crate::parse::parse;
use crate::spec::Spec;
use std::collections::BTreeMap;
use std::io::{self, BufRead, Read, Write};

#[cfg(feature = "html")]
mod charts;
#[cfg(feature = "html")]
pub mod html;
mod ndjson;

#[cfg(feature = "html")]
pub use html::{HtmlOptions, write_audit_html};

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

/// Counts of a run: messages by MTI, errors, and what the capture reader reported.
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
    /// Capture events other than messages, by kind (`gap`, `resync`, `frame-error`,
    /// `incomplete`, `damaged`, `framing`).
    pub events: BTreeMap<&'static str, usize>,
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
                    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
                    events: &'s BTreeMap<&'static str, usize>,
                }
                let record = Record {
                    summary: Body {
                        messages: self.messages,
                        errors: self.errors,
                        bytes: self.bytes,
                        by_mti: &self.by_mti,
                        events: &self.events,
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
                for (kind, count) in &self.events {
                    writeln!(out, "  {kind}: {count}")?;
                }
                Ok(())
            }
        }
    }
}

/// A field's value as `inspect` shows it: card data masked (unless `reveal`), Chinese text in
/// the fields the spec marks as GBK ([`crate::spec::Spec::is_gbk`]) decoded, or shown as hex (`0x...`) when it is not GBK, never as
/// mojibake.
fn shown(spec: &crate::spec::Spec, f: &crate::message::Field<'_>, reveal: bool) -> String {
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = write_shown(spec, f, reveal, &mut text);
    text
}

/// Writes a field's value as [`shown`] gives it (without a `String`, but for GBK text).
fn write_shown(
    spec: &crate::spec::Spec,
    f: &crate::message::Field<'_>,
    reveal: bool,
    w: &mut impl std::fmt::Write,
) -> std::fmt::Result {
    match shown_gbk(spec, f) {
        Some(text) => w.write_str(&text),
        None => f.write_display(w, reveal),
    }
}

/// Writes a subfield's value as people see it: a TLV value as its own display (EMV card data
/// masked), a positional one as its parent field's values are shown.
fn write_subfield(
    spec: &crate::spec::Spec,
    s: &crate::Subfield<'_>,
    reveal: bool,
    w: &mut impl std::fmt::Write,
) -> std::fmt::Result {
    if s.tag().is_some() {
        s.write_display(w, reveal)
    } else {
        write_shown(spec, &s.value(), reveal, w)
    }
}

/// A GBK field holding text beyond ASCII, as [`shown`] shows it (decoded, or `0x...`); `None`
/// for every other field.
fn shown_gbk(spec: &crate::spec::Spec, f: &crate::message::Field<'_>) -> Option<String> {
    let text_field = !f.is_binary()
        && f.spec().encoding == crate::spec::Encoding::Ascii
        && spec.is_gbk(f.number());
    if !text_field || f.data().is_ascii() {
        return None;
    }
    Some(match crate::text::decode_gbk_strict(f.data()) {
        Some(text) => text,
        None => f.data().iter().fold(String::from("0x"), |mut s, b| {
            s.push_str(&format!("{b:02X}"));
            s
        }),
    })
}

/// Hands `leaf` each subfield of `items` in order, those inside constructed objects in place
/// of them (`55.70.5A`); the first fault stops the walk and is returned.
fn each_subfield<'a>(
    items: crate::subfield::Subfields<'a>,
    leaf: &mut impl FnMut(&crate::Subfield<'a>) -> io::Result<()>,
) -> io::Result<Option<crate::SubfieldError>> {
    for item in items {
        let s = match item {
            Ok(s) => s,
            Err(e) => return Ok(Some(e)),
        };
        if s.is_constructed() {
            if let Some(e) = each_subfield(s.children(), leaf)? {
                return Ok(Some(e));
            }
        } else {
            leaf(&s)?;
        }
    }
    Ok(None)
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

/// `{"index":N,[context,]"error":{"field":4,"offset":23,"message":"..."}}`.
#[derive(serde::Serialize)]
struct ErrorRecord<'c> {
    index: usize,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    context: Option<&'c Context>,
    error: ErrorBody,
    /// The fields read before the fault, shown as in a message record.
    #[serde(skip_serializing_if = "Option::is_none")]
    decoded_fields: Option<InOrder>,
}

#[derive(serde::Serialize)]
struct ErrorBody {
    field: Option<u8>,
    offset: Option<usize>,
    message: String,
}

impl ErrorBody {
    /// The field, offset and words of a parse error.
    fn of(error: &ParseError) -> ErrorBody {
        ErrorBody {
            field: error.field(),
            offset: Some(error.offset),
            message: error.to_string(),
        }
    }
}

fn context_text(context: Option<&Context>) -> String {
    context.map_or_else(String::new, |c| {
        let leg = c.leg.map_or_else(String::new, |l| format!(" on {l}"));
        format!(" {} {} -> {} {}{leg}", c.time, c.src, c.dst, c.dir)
    })
}

/// Writes one parsed message, with where it was captured if known.
pub fn write_message(
    out: &mut impl Write,
    index: usize,
    msg: &Message<'_>,
    context: Option<&Context>,
    opts: &Options,
) -> io::Result<()> {
    match opts.format {
        Format::Ndjson => ndjson::write_message(out, index, msg, context, opts.reveal),
        Format::Text => {
            writeln!(
                out,
                "message {index}: MTI {} ({}){}",
                msg.mti(),
                msg.spec().name,
                context_text(context)
            )?;
            if !msg.header().is_empty() {
                let hex: String = msg.header().iter().map(|b| format!("{b:02X}")).collect();
                writeln!(out, "  hdr  {:<40} {hex}", "header")?;
            }
            let fees = crate::mcc::FeeTable::default();
            for f in msg.fields() {
                let name = msg.spec().field_name(f.number());
                let note = crate::describe::note(msg, &f, &fees)
                    .map_or_else(String::new, |n| format!("  ({n})"));
                writeln!(
                    out,
                    "  {:>3}  {:<40} {}{note}",
                    f.number(),
                    name,
                    shown(msg.spec(), &f, opts.reveal)
                )?;
                let Some(items) = msg.subfields(f.number()) else {
                    continue;
                };
                let error = each_subfield(items, &mut |s| {
                    let mut value = String::new();
                    // Writing to a String cannot fail.
                    let _ = write_subfield(msg.spec(), s, opts.reveal, &mut value);
                    writeln!(out, "       {:<12} {:<40} {value}", s.path(), s.name())
                })?;
                if let Some(e) = error {
                    writeln!(out, "       {e}")?;
                }
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
    context: Option<&Context>,
    format: Format,
) -> io::Result<()> {
    write_error_body(out, index, ErrorBody::of(error), context, format, None)
}

/// [`write_error`] with the fields read before the fault (`inspect` shows them, card data
/// masked unless `reveal`).
fn write_error_decoded(
    out: &mut impl Write,
    index: usize,
    error: &ParseError,
    spec: &crate::spec::Spec,
    before: &[crate::message::Field<'_>],
    context: Option<&Context>,
    opts: &Options,
) -> io::Result<()> {
    let body = ErrorBody::of(error);
    let decoded: Vec<(String, String)> = before
        .iter()
        .map(|f| (f.number().to_string(), shown(spec, f, opts.reveal)))
        .collect();
    write_error_body(out, index, body, context, opts.format, Some(decoded))
}

fn write_error_body(
    out: &mut impl Write,
    index: usize,
    error: ErrorBody,
    context: Option<&Context>,
    format: Format,
    decoded: Option<Vec<(String, String)>>,
) -> io::Result<()> {
    let decoded = decoded.filter(|d| !d.is_empty());
    match format {
        Format::Ndjson => {
            serde_json::to_writer(
                &mut *out,
                &ErrorRecord {
                    index,
                    context,
                    error,
                    decoded_fields: decoded.map(InOrder),
                },
            )?;
            writeln!(out)
        }
        Format::Text => {
            writeln!(
                out,
                "message {index}:{} error: {}",
                context_text(context),
                error.message
            )?;
            for (n, v) in decoded.unwrap_or_default() {
                writeln!(out, "  {n:>3}  {v}")?;
            }
            Ok(())
        }
    }
}

/// Parses one message and writes it (or its error), counting it in `summary`.
fn inspect_one(
    bytes: &[u8],
    spec: &Spec,
    context: Option<&Context>,
    opts: &Options,
    summary: &mut Summary,
    out: &mut impl Write,
) -> io::Result<()> {
    let index = summary.messages;
    summary.messages += 1;
    summary.bytes += bytes.len();
    match parse(spec, bytes) {
        Ok(msg) => {
            // Counted under its four digits, formatted on the stack: a String only for an MTI
            // not seen before.
            let digits = msg.mti().to_digits();
            let mti = std::str::from_utf8(&digits).unwrap_or("????");
            match summary.by_mti.get_mut(mti) {
                Some(count) => *count += 1,
                None => {
                    summary.by_mti.insert(mti.to_string(), 1);
                }
            }
            if !opts.summary_only {
                write_message(out, index, &msg, context, opts)?;
            }
        }
        Err(e) => {
            summary.errors += 1;
            if !opts.summary_only {
                let (before, _) = crate::parse::fields_before_error(spec, bytes);
                write_error_decoded(out, index, &e, spec, &before, context, opts)?;
            }
        }
    }
    Ok(())
}

/// Reads messages in hex, one a line (whitespace ignored; blank lines and lines starting with
/// `#` skipped), parses each with `spec` and writes it. A message that fails is reported and
/// the run goes on.
pub fn inspect_hex(
    input: impl BufRead + Send,
    spec: &Spec,
    opts: &Options,
    out: &mut impl Write,
) -> io::Result<Summary> {
    inspect(Input::Hex(input), spec, opts, out).map_err(io::Error::from)
}

/// Reads `input` (hex or capture), parses each message with `spec` and writes it, with its
/// time, addresses and direction when captured; a message that fails, and capture events
/// (gaps, frame errors, damage), are written too and the run goes on.
pub fn inspect<R: BufRead + Send>(
    input: Input<R>,
    spec: &Spec,
    opts: &Options,
    out: &mut impl Write,
) -> Result<Summary, CaptureError> {
    inspect_legs(input, spec, &[], opts, out)
}

/// [`inspect`] with legs: each captured message is parsed with its leg's spec (its flow framed
/// with the leg's framing), and its record names the leg (`"leg"` in NDJSON).
pub fn inspect_legs<'s, R: BufRead + Send + 's>(
    input: Input<R>,
    spec: &'s Spec,
    legs: &[LegConfig<'s>],
    opts: &Options,
    out: &mut impl Write,
) -> Result<Summary, CaptureError> {
    let mut summary = Summary::default();
    read_legs(input, spec, legs, |item| match item {
        Item::Message { bytes, context } => {
            let leg = context.as_ref().and_then(|c| c.leg);
            let spec = legs
                .iter()
                .find(|l| Some(l.leg) == leg)
                .map_or(spec, |l| l.spec);
            inspect_one(bytes, spec, context.as_ref(), opts, &mut summary, out)
        }
        Item::NotHex | Item::NotAFrame(_) => {
            let index = summary.messages;
            summary.messages += 1;
            summary.errors += 1;
            if opts.summary_only {
                return Ok(());
            }
            let message = match item {
                Item::NotAFrame(why) => why,
                _ => "the line is not an even number of hex digits".to_string(),
            };
            write_error_body(
                out,
                index,
                ErrorBody {
                    field: None,
                    offset: None,
                    message,
                },
                None,
                opts.format,
                None,
            )
        }
        Item::Event(event) => {
            let Some(record) = event_record(event) else {
                return Ok(());
            };
            *summary.events.entry(record.event).or_default() += 1;
            if opts.summary_only {
                return Ok(());
            }
            write_event(out, &record, opts.format)
        }
    })?;
    Ok(summary)
}

/// Writes an audit's findings, one JSON object a line (the keys `rule`, `severity`, `index`,
/// `time`, `flow`, `leg` where legs are configured, `mti`, `stan`, `terminal`, `merchant`,
/// `rrn`, `pan` (masked), `fields`, `expected`, `observed`, `fee_impact`).
pub fn write_audit_ndjson(audit: &Audit<'_>, out: &mut impl Write) -> io::Result<()> {
    write_findings_ndjson(audit.findings(), out)
}

/// Writes findings one JSON object a line, as [`write_audit_ndjson`] does (for findings handed
/// on as they are found: [`Audit::run_with`]).
pub fn write_findings_ndjson(
    findings: &[crate::finding::Finding],
    out: &mut impl Write,
) -> io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut *out, f)?;
        writeln!(out)?;
    }
    Ok(())
}

/// What a capture event counter counts, in words.
fn event_words(kind: &str, n: usize) -> String {
    let s = if n == 1 { "" } else { "s" };
    match kind {
        "framing" => format!("{n} connection{s} whose framing was detected from its first frames"),
        "gap" => format!("{n} gap{s}: bytes the capture never saw"),
        "resync" => format!("{n} resynchronisation{s}: bytes skipped to reach a frame boundary"),
        "frame-error" => format!(
            "{n} length prefix{} the framing rejects",
            if n == 1 { "" } else { "es" }
        ),
        "incomplete" => format!("{n} connection{s} that ended inside a frame"),
        "damaged" => format!("{n} damaged capture file{s}: reading stopped there"),
        "flow-dropped" => format!(
            "{n} connection{s} let go (idle too long, or too many open): what they held dropped"
        ),
        other => format!("{n} {other}"),
    }
}

fn yuan(fen: i64) -> String {
    format!(
        "{}{}.{:02}",
        if fen < 0 { "-" } else { "" },
        fen.abs() / 100,
        fen.abs() % 100
    )
}

/// The merchants with findings, in the reports' order: estimated fee impact (pre-2016 rates),
/// then number of findings, then ID.
fn flagged_merchants<'a>(audit: &'a Audit<'_>) -> Vec<(&'a String, &'a MerchantStats)> {
    let mut flagged: Vec<(&String, &MerchantStats)> = audit
        .merchants()
        .iter()
        .filter(|(_, s)| !s.by_rule.is_empty())
        .collect();
    flagged.sort_by_key(|(id, s)| {
        (
            std::cmp::Reverse(s.fee_pre2016_fen),
            std::cmp::Reverse(s.by_rule.values().sum::<usize>()),
            (*id).clone(),
        )
    });
    flagged
}

/// Writes an audit's readable report: the counts, the merchants with findings (ordered by
/// estimated fee impact, then by number of findings), one line for the clean merchants, then
/// the findings.
pub fn write_audit_text(audit: &Audit<'_>, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "Audit: {} messages ({} unreadable), {} findings.",
        audit.messages(),
        audit.unreadable(),
        audit.findings().len()
    )?;
    for (kind, n) in audit.events() {
        writeln!(out, "  capture: {}", event_words(kind, *n))?;
    }
    let book = audit.book();
    for (id, stats) in &flagged_merchants(audit) {
        writeln!(out)?;
        match book.merchant(id.as_bytes()) {
            Some(p) => writeln!(
                out,
                "Merchant {id} {} (registered MCC {:04})",
                p.name, p.mcc
            )?,
            None => writeln!(out, "Merchant {id} (not in the profile book)")?,
        }
        writeln!(out, "  transactions: {}", stats.transactions)?;
        let rules: Vec<String> = stats
            .by_rule
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        writeln!(out, "  findings: {}", rules.join(", "))?;
        if stats.fee_pre2016_fen != 0 || stats.fee_post2016_fen != 0 {
            writeln!(
                out,
                "  estimated fee impact: {} yuan at the pre-2016 rates, {} yuan at the 2016 rates",
                yuan(stats.fee_pre2016_fen),
                yuan(stats.fee_post2016_fen)
            )?;
        }
    }
    let clean: Vec<String> = audit
        .merchants()
        .iter()
        .filter(|(_, s)| s.by_rule.is_empty())
        .map(|(id, s)| format!("{id} ({})", s.transactions))
        .collect();
    if !clean.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "No findings at {} merchant{} (transactions): {}",
            clean.len(),
            if clean.len() == 1 { "" } else { "s" },
            clean.join(", ")
        )?;
    }
    if !audit.findings().is_empty() {
        writeln!(out, "\nFindings")?;
        for f in audit.findings() {
            writeln!(out, "  {f}")?;
        }
    }
    Ok(())
}

/// A capture event other than a message, as one NDJSON object or one line of text.
#[derive(Debug, serde::Serialize)]
pub(crate) struct EventRecord {
    pub(crate) event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dir: Option<&'static str>,
    detail: String,
}

pub(crate) fn event_record(event: &CaptureEvent) -> Option<EventRecord> {
    let flow_parts = |flow: &crate::capture::Flow| {
        (Some(flow.client.to_string()), Some(flow.server.to_string()))
    };
    let (event, time, (client, server), dir, detail) = match event {
        CaptureEvent::Message(_) => return None,
        CaptureEvent::Framing { flow, framing } => (
            "framing",
            None,
            flow_parts(flow),
            None,
            format!("chose framing {framing}"),
        ),
        CaptureEvent::Gap {
            time,
            flow,
            direction,
            expected_seq,
            resumed_seq,
        } => (
            "gap",
            Some(time.to_string()),
            flow_parts(flow),
            Some(direction.as_str()),
            format!("bytes missing from sequence {expected_seq} to {resumed_seq}"),
        ),
        CaptureEvent::FlowDropped {
            time,
            flow,
            reason,
            bytes,
        } => (
            "flow-dropped",
            Some(time.to_string()),
            flow_parts(flow),
            None,
            format!("let go, {reason}: {bytes} bytes it held dropped"),
        ),
        CaptureEvent::Resync {
            time,
            flow,
            direction,
            skipped,
        } => (
            "resync",
            Some(time.to_string()),
            flow_parts(flow),
            Some(direction.as_str()),
            format!("skipped {skipped} bytes to the next frame boundary"),
        ),
        CaptureEvent::FrameError {
            time,
            flow,
            direction,
            error,
        } => (
            "frame-error",
            Some(time.to_string()),
            flow_parts(flow),
            Some(direction.as_str()),
            error.to_string(),
        ),
        CaptureEvent::Incomplete {
            time,
            flow,
            direction,
            bytes,
        } => (
            "incomplete",
            Some(time.to_string()),
            flow_parts(flow),
            Some(direction.as_str()),
            format!("the flow ended {bytes} bytes into a frame"),
        ),
        CaptureEvent::Damaged { offset, reason } => (
            "damaged",
            None,
            (None, None),
            None,
            format!("capture damaged at byte {offset}: {reason}"),
        ),
    };
    Some(EventRecord {
        event,
        time,
        client,
        server,
        dir,
        detail,
    })
}

/// Reads a pcap or pcapng capture, frames each TCP stream (`config`), parses each message with
/// `spec` and writes it with its time, addresses and direction; gaps, frame errors and damage
/// are written as events and the run goes on.
pub fn inspect_capture<R: Read + Send>(
    input: R,
    spec: &Spec,
    config: CaptureConfig,
    opts: &Options,
    out: &mut impl Write,
) -> Result<Summary, CaptureError> {
    inspect(
        Input::Capture(io::BufReader::new(input), config),
        spec,
        opts,
        out,
    )
}

/// Writes a capture event as one NDJSON object or one line of text.
pub(crate) fn write_event(
    out: &mut impl Write,
    record: &EventRecord,
    format: Format,
) -> io::Result<()> {
    match format {
        Format::Ndjson => {
            serde_json::to_writer(&mut *out, record)?;
            writeln!(out)
        }
        Format::Text => {
            let flow = match (&record.client, &record.server) {
                (Some(c), Some(s)) => format!(" {c} <-> {s}"),
                _ => String::new(),
            };
            let dir = record.dir.map_or_else(String::new, |d| format!(" {d}"));
            writeln!(out, "{}:{flow}{dir} {}", record.event, record.detail)
        }
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
            None,
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
        write_message(&mut out, 3, &msg, None, &opts).unwrap();
        let line = String::from_utf8(out).unwrap();
        assert!(line.contains("\"2\":\"6228480402564890018\""));
        assert!(line.contains("\"52\":\"0123456789ABCDEF\""));
    }

    #[test]
    fn chinese_text_is_decoded_or_shown_as_hex() {
        let mut b = MessageBuilder::new(&crate::spec::CUPS, Mti::FINANCIAL_REQUEST);
        let (gbk, _, _) = encoding_rs::GB18030.encode("金龙酒家 广州");
        let mut f43 = gbk.into_owned();
        f43.resize(40, b' ');
        b.set_bytes(43, &f43).unwrap();
        b.set_bytes(63, &[0xFF, 0xFF, 0x41]).unwrap();
        let bytes = b.to_vec().unwrap();
        let msg = parse(&crate::spec::CUPS, &bytes).unwrap();
        let mut out = Vec::new();
        let opts = Options {
            format: Format::Ndjson,
            ..Options::default()
        };
        write_message(&mut out, 0, &msg, None, &opts).unwrap();
        let line = String::from_utf8(out).unwrap();
        assert!(line.contains("\"43\":\"金龙酒家 广州"), "{line}");
        assert!(line.contains("\"63\":\"0xFFFF41\""), "{line}");
    }

    #[test]
    fn a_field_the_spec_marks_as_gbk_is_decoded_and_a_latin1_one_is_not() {
        let spec = crate::spec::Spec::from_toml_str(
            "name = \"x\"\nbase = \"iso87-ascii\"\n[fields.48]\ntype = \"ans\"\nlength = 99\nvar = \"ll\"\nencoding = \"ascii\"\ncharset = \"gbk\"\n[fields.63]\ntype = \"ans\"\nlength = 99\nvar = \"ll\"\nencoding = \"ascii\"\ncharset = \"latin1\"\n",
        )
        .unwrap();
        assert!(spec.is_gbk(48) && spec.is_gbk(43) && spec.is_gbk(62) && !spec.is_gbk(63));
        let (gbk, _, _) = encoding_rs::GB18030.encode("备注");
        let mut b = MessageBuilder::new(&spec, Mti::FINANCIAL_REQUEST);
        b.set_bytes(48, &gbk).unwrap().set_bytes(63, &gbk).unwrap();
        let bytes = b.to_vec().unwrap();
        let msg = parse(&spec, &bytes).unwrap();
        let mut out = Vec::new();
        let opts = Options {
            format: Format::Ndjson,
            ..Options::default()
        };
        write_message(&mut out, 0, &msg, None, &opts).unwrap();
        let line = String::from_utf8(out).unwrap();
        assert!(line.contains("\"48\":\"备注\""), "{line}");
        assert!(!line.contains("\"63\":\"备注\""), "{line}");
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
