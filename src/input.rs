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
use crate::frame::{Framing, frame_at};
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
    // A large buffer: hex lines are read in place from it, and fewer are cut at its end.
    const BUFFER: usize = 1 << 17;
    if path == "-" {
        return Ok(Box::new(io::BufReader::with_capacity(BUFFER, io::stdin())));
    }
    let file =
        std::fs::File::open(path).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
    Ok(Box::new(io::BufReader::with_capacity(BUFFER, file)))
}

/// Decodes one line of hex, ignoring whitespace; `None` if it is not hex.
#[must_use]
pub fn decode_hex_line(line: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(line.len() / 2);
    decode_hex_into(line.as_bytes(), &mut out).then_some(out)
}

/// The value of each hex character, `0xFF` for anything else.
// Indexing in a constant is checked when it is evaluated: out of bounds is a compile error.
#[allow(clippy::indexing_slicing)]
static HEX: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut c = 0;
    while c < 256 {
        if let Some(v) = crate::codec::hex_val(c as u8) {
            t[c] = v;
        }
        c += 1;
    }
    t
};

/// A hex character's value, `0xFF` for anything else.
#[inline]
fn hex(c: u8) -> u8 {
    HEX.get(usize::from(c)).copied().unwrap_or(0xFF)
}

/// Every pair of characters (first character in the low byte) as the byte its hex digits
/// make, or `0xFF00` when either is not a hex digit: one load a byte of output.
// Indexing in a constant is checked when it is evaluated: out of bounds is a compile error.
#[allow(clippy::indexing_slicing)]
static PAIRS: [u16; 65536] = {
    let mut t = [0xFF00u16; 65536];
    let mut i = 0;
    while i < 65536 {
        let (first, second) = ((i & 0xFF) as u8, (i >> 8) as u8);
        if let (Some(hi), Some(lo)) = (crate::codec::hex_val(first), crate::codec::hex_val(second))
        {
            t[i] = (hi << 4 | lo) as u16;
        }
        i += 1;
    }
    t
};

/// Sixteen hex characters (either case) as eight bytes: `None` if one is not a hex digit.
#[inline]
fn hex16(chars: &[u8; 16]) -> Option<[u8; 8]> {
    let (a, b) = chars.split_at(8);
    let (Ok(a), Ok(b)) = (<[u8; 8]>::try_from(a), <[u8; 8]>::try_from(b)) else {
        return None;
    };
    let words = [u64::from_le_bytes(a), u64::from_le_bytes(b)];
    let mut out = 0u64;
    let mut bad = 0u16;
    for (w, word) in words.into_iter().enumerate() {
        for k in 0..4 {
            let pair = (word >> (16 * k)) as u16;
            let v = PAIRS.get(usize::from(pair)).copied().unwrap_or(0xFF00);
            bad |= v;
            out |= u64::from(v as u8) << (8 * (4 * w + k));
        }
    }
    (bad & 0xFF00 == 0).then_some(out.to_le_bytes())
}

/// Decodes a line of hex into `out` (cleared first; its capacity is reused), ignoring
/// whitespace: false if a character is neither hex nor whitespace, or the digits are odd in
/// number. Runs of hex are decoded sixteen characters at a time, a pair of characters with one
/// table lookup.
pub fn decode_hex_into(line: &[u8], out: &mut Vec<u8>) -> bool {
    decode_run(line, out, false).0
}

/// Decodes hex from the start of `input` into `out`, ignoring whitespace, up to the end or,
/// with `to_newline`, up to the first newline: whether it was all hex with an even number of
/// digits, and where it stopped (the newline's index, or `input.len()`). A line's end is found
/// by the decoding itself, with no pass of its own.
fn decode_run(input: &[u8], out: &mut Vec<u8>, to_newline: bool) -> (bool, usize) {
    // `out` keeps its capacity from line to line: appending rarely grows it.
    out.clear();
    let mut at = 0;
    let mut pending: Option<u8> = None;
    let ok = loop {
        // Whole runs of 16 hex characters, while no digit is left over.
        if pending.is_none() {
            for chunk in input.get(at..).unwrap_or_default().chunks_exact(16) {
                let Some(bytes) = chunk.try_into().ok().and_then(hex16) else {
                    break;
                };
                out.extend(bytes);
                at += 16;
            }
        }
        // One character at a time: whitespace, the end, or a run cut by whitespace.
        let Some(&c) = input.get(at) else {
            break pending.is_none();
        };
        if to_newline && c == b'\n' {
            break pending.is_none();
        }
        at += 1;
        let v = hex(c);
        if v == 0xFF {
            if c.is_ascii_whitespace() {
                continue;
            }
            break false;
        }
        match pending.take() {
            Some(hi) => out.push(hi << 4 | v),
            None => pending = Some(v),
        }
    };
    if !ok && to_newline {
        // Not hex: the line still ends at its newline.
        let end = input
            .get(at..)
            .and_then(find_newline)
            .map_or(input.len(), |i| at + i);
        return (false, end);
    }
    (ok, at)
}

/// Where messages come from.
#[derive(Debug)]
pub enum Input<R> {
    /// One message a line in hex (whitespace ignored; blank lines and `#` comments skipped).
    Hex(R),
    /// The same, each line a whole frame under a framing that is stripped (`len2`,
    /// `len2-bcd`, `len4-ascii`, `tpdu`, `cups`: a log line holding a whole frame), or, with
    /// `None` (auto), a 2-byte length that equals the rest of the line is stripped when the rest
    /// parses and the whole line does not.
    HexFramed(R, Option<Framing>),
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
    /// A hex line that is not one whole frame under the framing asked for.
    NotAFrame(String),
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
    // The callback's errors are its output's: keep their kind.
    let out_err = |e: io::Error| CaptureError::Output {
        kind: e.kind(),
        message: e.to_string(),
    };
    let (lines, framing) = match input {
        Input::Hex(lines) => (lines, Unframe::Keep),
        Input::HexFramed(lines, Some(framing)) => (lines, Unframe::Strip(framing)),
        Input::HexFramed(lines, None) => (lines, Unframe::Auto),
        Input::Capture(reader, config) => {
            for event in CaptureReader::with_legs(reader, spec, config, legs)? {
                match &event {
                    CaptureEvent::Message(m) => f(Item::Message {
                        bytes: &m.bytes,
                        context: Some(Context::of(m)),
                    }),
                    other => f(Item::Event(other)),
                }
                .map_err(out_err)?;
            }
            return Ok(());
        }
    };
    // Lines are read in place from the reader's buffer, and a line's end is found as its hex
    // is decoded; only a line cut by the buffer's end is copied (into `carry`). One message
    // buffer for the whole input: nothing is allocated a line.
    let mut lines = lines;
    let mut carry: Vec<u8> = Vec::new();
    let mut bytes = Vec::with_capacity(512);
    // One line from the start of `text`: where it ends (its newline's index, or `None` when
    // `text` ends first), the message handed on if it is one.
    let mut line = |text: &[u8], bytes: &mut Vec<u8>, last: bool| -> io::Result<Option<usize>> {
        let start = text
            .iter()
            .position(|&c| c == b'\n' || !c.is_ascii_whitespace())
            .unwrap_or(text.len());
        let end_of = |from: usize| text.get(from..).and_then(find_newline).map(|i| from + i);
        let (ok, end) = match text.get(start) {
            None if !last => return Ok(None),
            None => return Ok(Some(text.len())),
            Some(b'\n') => return Ok(Some(start)),
            Some(b'#') => match end_of(start) {
                Some(end) => return Ok(Some(end)),
                None if last => return Ok(Some(text.len())),
                None => return Ok(None),
            },
            Some(_) => decode_run(text.get(start..).unwrap_or_default(), bytes, true),
        };
        let end = start + end;
        if end == text.len() && !last {
            // Cut by the buffer: read again whole.
            return Ok(None);
        }
        if ok {
            match framing.message(spec, bytes) {
                Ok(message) => f(Item::Message {
                    bytes: message,
                    context: None,
                }),
                Err(e) => f(Item::NotAFrame(e)),
            }?;
        } else {
            f(Item::NotHex)?;
        }
        Ok(Some(end))
    };
    loop {
        let buf = lines.fill_buf().map_err(io_err)?;
        if buf.is_empty() {
            if !carry.is_empty() {
                line(&carry, &mut bytes, true).map_err(out_err)?;
            }
            break;
        }
        let taken = buf.len();
        let mut rest = buf;
        if !carry.is_empty() {
            // The end of the line the last buffer cut.
            match find_newline(rest) {
                Some(i) => {
                    carry.extend_from_slice(rest.get(..=i).unwrap_or_default());
                    line(&carry, &mut bytes, true).map_err(out_err)?;
                    carry.clear();
                    rest = rest.get(i + 1..).unwrap_or_default();
                }
                None => {
                    carry.extend_from_slice(rest);
                    rest = &[];
                }
            }
        }
        while !rest.is_empty() {
            match line(rest, &mut bytes, false).map_err(out_err)? {
                Some(end) => rest = rest.get(end + 1..).unwrap_or_default(),
                None => {
                    carry.extend_from_slice(rest);
                    break;
                }
            }
        }
        lines.consume(taken);
    }
    Ok(())
}

/// The first newline in `s`, eight bytes at a time.
fn find_newline(s: &[u8]) -> Option<usize> {
    const L: u64 = 0x0101_0101_0101_0101;
    const H: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    let mut words = s.chunks_exact(8);
    for chunk in words.by_ref() {
        let w = u64::from_le_bytes(chunk.try_into().ok()?) ^ (b'\n' as u64 * L);
        // A zero byte (a newline) sets its high bit here; the lowest such byte is exact.
        let zero = w.wrapping_sub(L) & !w & H;
        if zero != 0 {
            return Some(at + zero.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| at + i)
}

/// What to do with the frame around a hex line's message.
#[derive(Clone, Copy)]
enum Unframe {
    Keep,
    Strip(Framing),
    Auto,
}

impl Unframe {
    /// The message inside `line`.
    fn message<'l>(self, spec: &Spec, line: &'l [u8]) -> Result<&'l [u8], String> {
        match self {
            Unframe::Keep => Ok(line),
            Unframe::Strip(framing) => match frame_at(framing, line, usize::MAX) {
                Ok(Some((prefix, len))) if prefix + len == line.len() => {
                    Ok(line.get(prefix..).unwrap_or_default())
                }
                Ok(Some((prefix, len))) => Err(format!(
                    "the line is not one {framing} frame: the frame is {} bytes, the line {}",
                    prefix + len,
                    line.len()
                )),
                Ok(None) => Err(format!(
                    "the line is not one {framing} frame: it ends inside the frame"
                )),
                Err(e) => Err(format!("the line is not one {framing} frame: {e}")),
            },
            Unframe::Auto => {
                let rest = line.get(2..).unwrap_or_default();
                let stated = match line {
                    [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
                    _ => usize::MAX,
                };
                let framed = stated == rest.len()
                    && crate::parse(spec, line).is_err()
                    && crate::parse(spec, rest).is_ok();
                Ok(if framed { rest } else { line })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain reading: whitespace dropped, then two digits a byte.
    fn naive(line: &[u8]) -> Option<Vec<u8>> {
        let digits: Vec<u8> = line
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        if digits.len() % 2 != 0 {
            return None;
        }
        digits
            .chunks(2)
            .map(|p| Some(crate::codec::hex_val(p[0])? << 4 | crate::codec::hex_val(p[1])?))
            .collect()
    }

    /// Every item of a hex input read through a buffer of `capacity` bytes.
    fn items(input: &[u8], capacity: usize) -> Vec<Result<Vec<u8>, ()>> {
        let mut out = Vec::new();
        let reader = io::BufReader::with_capacity(capacity, input);
        read_input(Input::Hex(reader), &CUP_POS, |item| {
            out.push(match item {
                Item::Message { bytes, .. } => Ok(bytes.to_vec()),
                _ => Err(()),
            });
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn lines_cut_by_the_reader_s_buffer_read_as_whole_ones() {
        let input =
            b"# comment\r\n0102 0304\r\n\n   \nzz\n  AbCdEf0123456789aBcDeF0123456789\n# x\nff";
        let want = vec![
            Ok(vec![1, 2, 3, 4]),
            Err(()),
            Ok(vec![
                0xAB, 0xCD, 0xEF, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x01, 0x23, 0x45,
                0x67, 0x89,
            ]),
            Ok(vec![0xFF]),
        ];
        for capacity in [1, 2, 3, 7, 8, 16, 64, 1 << 17] {
            assert_eq!(items(input, capacity), want, "buffer of {capacity}");
        }
        // Not UTF-8: a line that is not hex, and the run goes on.
        assert_eq!(items(b"\xFF\xFE\n00\n", 4), [Err(()), Ok(vec![0])]);
    }

    proptest::proptest! {
        #[test]
        fn the_newline_finder_agrees_with_a_plain_search(
            s in proptest::collection::vec(proptest::prop_oneof![
                proptest::prelude::Just(b'\n'),
                proptest::prelude::any::<u8>(),
            ], 0..100),
        ) {
            proptest::prop_assert_eq!(find_newline(&s), s.iter().position(|&b| b == b'\n'));
        }
    }

    #[test]
    fn the_run_decoder_takes_every_hex_character_and_refuses_every_other_byte() {
        for c in 0..=255u8 {
            for at in 0..16 {
                let mut chars = *b"09afAF5e12345678";
                chars[at] = c;
                let want = naive(&chars).map(|v| <[u8; 8]>::try_from(v).unwrap());
                let want = want.filter(|_| !c.is_ascii_whitespace());
                assert_eq!(hex16(&chars), want, "byte 0x{c:02X} at {at}");
            }
        }
        assert_eq!(
            hex16(b"0123aBcD00ff7F80"),
            Some([0x01, 0x23, 0xAB, 0xCD, 0x00, 0xFF, 0x7F, 0x80])
        );
    }

    proptest::proptest! {
        #[test]
        fn the_hex_decoder_agrees_with_the_plain_reading(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            upper in proptest::prelude::any::<bool>(),
            spaces in proptest::collection::vec(0usize..400, 0..4),
            damage in proptest::option::of((0usize..400, proptest::prelude::any::<u8>())),
        ) {
            let mut line: Vec<u8> = bytes
                .iter()
                .flat_map(|b| {
                    let s = if upper { format!("{b:02X}") } else { format!("{b:02x}") };
                    s.into_bytes()
                })
                .collect();
            for at in spaces {
                let at = at.min(line.len());
                line.insert(at, if at % 2 == 0 { b' ' } else { b'\t' });
            }
            if let Some((at, c)) = damage {
                if let Some(slot) = line.get_mut(at) {
                    *slot = c;
                }
            }
            let mut out = vec![0xAA; 3];
            let ok = decode_hex_into(&line, &mut out);
            match naive(&line) {
                Some(want) => {
                    proptest::prop_assert!(ok);
                    proptest::prop_assert_eq!(out, want);
                }
                None => proptest::prop_assert!(!ok),
            }
        }
    }
    use crate::spec::CUP_POS;

    fn messages(input: &str, framing: Option<Framing>) -> Vec<Result<Vec<u8>, String>> {
        let mut out = Vec::new();
        read_input(
            Input::HexFramed(input.as_bytes(), framing),
            &CUP_POS,
            |item| {
                match item {
                    Item::Message { bytes, .. } => out.push(Ok(bytes.to_vec())),
                    Item::NotAFrame(e) => out.push(Err(e)),
                    _ => out.push(Err("other".into())),
                }
                Ok(())
            },
        )
        .unwrap();
        out
    }

    #[test]
    fn hex_lines_holding_whole_frames() {
        // A UnionPay sign-in: TPDU, header, MTI 0800, bitmap with 11 and 41.
        let msg = "6000060000603100311003080000200000008000000000013130303030303031";
        let len = format!("{:04x}", msg.len() / 2);
        let framed = format!("{len}{msg}");
        let bytes = decode_hex_line(msg).unwrap();
        for framing in [Some(Framing::Len2), Some(Framing::Tpdu), None] {
            assert_eq!(
                messages(&framed, framing),
                [Ok(bytes.clone())],
                "{framing:?}"
            );
        }
        // Auto leaves a bare message alone; a stated framing refuses it, saying why.
        assert_eq!(messages(msg, None), [Ok(bytes.clone())]);
        let refused = messages(msg, Some(Framing::Len2));
        assert!(
            refused[0]
                .as_ref()
                .unwrap_err()
                .contains("not one len2 frame"),
            "{refused:?}"
        );
        let bcd = format!("{:04}{msg}", msg.len() / 2);
        assert_eq!(messages(&bcd, Some(Framing::Len2Bcd)), [Ok(bytes)]);
    }
}
