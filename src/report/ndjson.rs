//! A message as one NDJSON line, written as it is read: every value goes straight from the
//! message to the output, escaped on the way, with no `String` a field.
//!
//! The line is what serde would write for the record (`{"index":N,[context,]"mti":"0200",
//! "fields":{...}[,"subfields":{...}][,"subfield_errors":[...]]}`), escapes included; the
//! golden files of the bundled samples hold it to that.

use super::{Context, each_subfield, write_shown, write_subfield};
use crate::message::Message;
use std::fmt;
use std::io::{self, Write};

/// Writes text into a JSON string's body, escaped as serde_json escapes it (`"`, `\`, and
/// control characters; everything else as UTF-8).
struct Escaped<'w, W: Write> {
    out: &'w mut W,
    error: Option<io::Error>,
}

impl<W: Write> Escaped<'_, W> {
    fn escape(&mut self, s: &str) -> io::Result<()> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let short: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0C => b"\\f",
                0..=0x1F => b"",
                _ => continue,
            };
            self.out
                .write_all(bytes.get(start..i).unwrap_or_default())?;
            if short.is_empty() {
                let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                let lo = HEX.get(usize::from(b & 0xF)).copied().unwrap_or(b'0');
                self.out.write_all(&[b'\\', b'u', b'0', b'0', hi, lo])?;
            } else {
                self.out.write_all(short)?;
            }
            start = i + 1;
        }
        self.out.write_all(bytes.get(start..).unwrap_or_default())
    }
}

impl<W: Write> fmt::Write for Escaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.escape(s).map_err(|e| {
            self.error = Some(e);
            fmt::Error
        })
    }
}

/// Writes `"` + what `write` writes, escaped, + `"`.
fn string<W: Write>(
    out: &mut W,
    write: impl FnOnce(&mut Escaped<'_, W>) -> fmt::Result,
) -> io::Result<()> {
    out.write_all(b"\"")?;
    let mut e = Escaped { out, error: None };
    if write(&mut e).is_err() {
        return Err(e
            .error
            .unwrap_or_else(|| io::Error::other("a value could not be written")));
    }
    out.write_all(b"\"")
}

/// Writes `msg` as one NDJSON line.
pub(super) fn write_message(
    out: &mut impl Write,
    index: usize,
    msg: &Message<'_>,
    context: Option<&Context>,
    reveal: bool,
) -> io::Result<()> {
    write!(out, "{{\"index\":{index}")?;
    if let Some(c) = context {
        for (key, text) in [("time", &c.time), ("src", &c.src), ("dst", &c.dst)] {
            write!(out, ",\"{key}\":")?;
            string(out, |w| fmt::Write::write_str(w, text))?;
        }
        out.write_all(b",\"dir\":")?;
        string(out, |w| fmt::Write::write_str(w, c.dir))?;
        if let Some(leg) = c.leg {
            out.write_all(b",\"leg\":")?;
            string(out, |w| fmt::Write::write_str(w, leg.name()))?;
        }
    }
    out.write_all(b",\"mti\":\"")?;
    out.write_all(&msg.mti().to_digits())?;
    out.write_all(b"\",\"fields\":{")?;
    let spec = msg.spec();
    for (i, f) in msg.fields().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(out, "\"{}\":", f.number())?;
        string(out, |w| write_shown(spec, &f, reveal, w))?;
    }
    out.write_all(b"}")?;
    // The subfields of every composite as `"path":"value"` pairs, the object opened before the
    // first.
    let mut opened = false;
    let mut errors = Vec::new();
    for f in msg.fields() {
        let Some(items) = msg.subfields(f.number()) else {
            continue;
        };
        let error = each_subfield(items, &mut |s| {
            out.write_all(if opened { b"," } else { b",\"subfields\":{" })?;
            opened = true;
            string(out, |w| fmt::Write::write_str(w, s.path()))?;
            out.write_all(b":")?;
            string(out, |w| write_subfield(spec, s, reveal, w))
        })?;
        errors.extend(error);
    }
    if opened {
        out.write_all(b"}")?;
    }
    if !errors.is_empty() {
        out.write_all(b",\"subfield_errors\":[")?;
        for (i, e) in errors.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            string(out, |w| fmt::Write::write_fmt(w, format_args!("{e}")))?;
        }
        out.write_all(b"]")?;
    }
    out.write_all(b"}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, |w| fmt::Write::write_str(w, s)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in [
            "plain",
            "quote \" and backslash \\",
            "\n\r\t\u{8}\u{c}",
            "\u{0}\u{1}\u{1f}\u{7f}",
            "金龙酒家 广州",
            "",
        ] {
            assert_eq!(escaped(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
        // Every byte value from 0 to 127, and a character from above.
        let all: String = (0u8..128).map(char::from).chain(['é', '€']).collect();
        assert_eq!(escaped(&all), serde_json::to_string(&all).unwrap());
    }
}
