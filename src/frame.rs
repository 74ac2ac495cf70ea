//! Framing of messages on a byte stream: the length prefix (or TPDU) that tells where one
//! message ends and the next begins.
//!
//! A [`Deframer`] takes bytes as they arrive (`push`) and yields whole frames (`next_frame`);
//! "need more bytes" is `Ok(None)`, not an error. A length over the configured maximum (default
//! 8 KiB) is an error for that stream, never an allocation. [`detect`] picks the framing under
//! which the first frames of a stream parse with a spec (`--framing auto`).
//!
//! ```
//! use iso8583_inspect::frame::{Deframer, Framing, write_frame};
//! let mut wire = bytes::BytesMut::new();
//! write_frame(Framing::Len2, b"0800...", &mut wire)?;
//! write_frame(Framing::Len2, b"0810...", &mut wire)?;
//! let mut d = Deframer::new(Framing::Len2);
//! d.push(&wire[..5]);                        // a frame split across segments
//! assert_eq!(d.next_frame()?, None);         // needs more bytes
//! d.push(&wire[5..]);
//! assert_eq!(&d.next_frame()?.unwrap()[..], b"0800...");
//! assert_eq!(&d.next_frame()?.unwrap()[..], b"0810...");
//! # Ok::<(), iso8583_inspect::frame::FrameError>(())
//! ```

use crate::spec::Spec;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::fmt;
use std::str::FromStr;

/// The default largest frame accepted: 8 KiB.
pub const DEFAULT_MAX_FRAME: usize = 8 * 1024;

/// How messages are delimited on a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Framing {
    /// 2-byte big-endian binary length, excluding itself (the common one).
    Len2,
    /// 2-byte little-endian binary length.
    Len2Le,
    /// 4 ASCII digits of length.
    Len4Ascii,
    /// 2 bytes of packed BCD length (up to 9999).
    Len2Bcd,
    /// No framing: each segment's payload is one message.
    None,
    /// The UnionPay POS form: a 2-byte big-endian length, and the frame starts with a TPDU
    /// (id byte `0x60`).
    Tpdu,
    /// The CUPS network form: a 46-byte header (see [`crate::cups`]) then the message, the
    /// frame being header and message. Links differ: some put 4 ASCII digits of length before
    /// the header, others send the header first and let its total-length field (bytes 2-5)
    /// frame the message; this framing reads both, told apart by the first byte (an ASCII
    /// digit, or the header length 0x2E). It writes the header-first form; the prefixed one is
    /// [`Framing::Len4Ascii`] of the same bytes.
    Cups,
}

impl Framing {
    /// Every framing, in the order `auto` tries them.
    pub const ALL: [Framing; 7] = [
        Framing::Tpdu,
        Framing::Cups,
        Framing::Len2,
        Framing::Len2Le,
        Framing::Len4Ascii,
        Framing::Len2Bcd,
        Framing::None,
    ];

    /// The name used on command lines and in output.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Framing::Len2 => "len2",
            Framing::Len2Le => "len2-le",
            Framing::Len4Ascii => "len4-ascii",
            Framing::Len2Bcd => "len2-bcd",
            Framing::None => "none",
            Framing::Tpdu => "tpdu",
            Framing::Cups => "cups",
        }
    }

    /// The bytes of the length prefix (for [`Framing::Cups`], that of its prefixed form; the
    /// header-first form has none).
    #[must_use]
    pub const fn prefix_len(self) -> usize {
        match self {
            Framing::Len4Ascii | Framing::Cups => 4,
            Framing::None => 0,
            _ => 2,
        }
    }

    /// The frame length a prefix states, or why it is not one.
    fn length(self, prefix: &[u8]) -> Result<usize, FrameError> {
        let bad = |b: &[u8]| FrameError::BadPrefix {
            found: b.first().copied().unwrap_or(0),
        };
        match (self, prefix) {
            (Framing::Len2 | Framing::Tpdu, [a, b]) => {
                Ok(usize::from(u16::from_be_bytes([*a, *b])))
            }
            (Framing::Len2Le, [a, b]) => Ok(usize::from(u16::from_le_bytes([*a, *b]))),
            (Framing::Len4Ascii, digits) => digits.iter().try_fold(0usize, |v, &c| {
                if c.is_ascii_digit() {
                    Ok(v * 10 + usize::from(c - b'0'))
                } else {
                    Err(FrameError::BadPrefix { found: c })
                }
            }),
            (Framing::Len2Bcd, digits) => digits.iter().try_fold(0usize, |v, &c| {
                if c >> 4 <= 9 && c & 0x0F <= 9 {
                    Ok(v * 100 + usize::from(c >> 4) * 10 + usize::from(c & 0x0F))
                } else {
                    Err(FrameError::BadPrefix { found: c })
                }
            }),
            _ => Err(bad(prefix)),
        }
    }
}

impl Framing {
    /// A framing from a command-line value: a framing's name, or `auto` (`None`: detect it).
    pub fn from_arg(value: &str) -> Result<Option<Framing>, String> {
        match value {
            "auto" => Ok(None),
            name => name.parse().map(Some).map_err(|e| format!("{e}, or auto")),
        }
    }
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Framing {
    type Err = String;

    fn from_str(s: &str) -> Result<Framing, String> {
        Framing::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Framing::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown framing {s:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Why a stream cannot be deframed any further.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The prefix states a length over the maximum.
    #[error("frame length {length} is over the maximum {max}")]
    TooLong {
        /// The stated length.
        length: usize,
        /// The maximum.
        max: usize,
    },
    /// The prefix is not a length in this framing.
    #[error("bad frame length prefix: byte 0x{found:02X}")]
    BadPrefix {
        /// The first offending byte.
        found: u8,
    },
    /// A zero-length frame.
    #[error("empty frame")]
    Empty,
    /// A TPDU frame that does not start with the TPDU id 0x60.
    #[error("frame does not start with a TPDU (0x60), found 0x{found:02X}")]
    NotTpdu {
        /// The first byte of the frame.
        found: u8,
    },
    /// A CUPS header byte that is not what the header's layout demands: the length byte
    /// (offset 0 of the header) is not 46, or the total length (offsets 2-5) is not 4 digits,
    /// is shorter than the header, or differs from the length prefix.
    #[error("CUPS header at offset {offset}: expected {expected}, found 0x{found:02X}")]
    CupsHeader {
        /// Offset of the offending byte from the start of the frame (its prefix included).
        offset: usize,
        /// What belongs there.
        expected: &'static str,
        /// The byte found.
        found: u8,
    },
    /// The message does not fit the framing's length prefix.
    #[error("a message of {length} bytes does not fit this framing")]
    Unframeable {
        /// The message length.
        length: usize,
    },
}

/// Yields whole frames from a byte stream.
#[derive(Debug)]
pub struct Deframer {
    framing: Framing,
    max: usize,
    buf: BytesMut,
}

impl Deframer {
    /// A deframer with the default maximum frame length.
    #[must_use]
    pub fn new(framing: Framing) -> Deframer {
        Deframer::with_max(framing, DEFAULT_MAX_FRAME)
    }

    /// A deframer accepting frames of at most `max` bytes.
    #[must_use]
    pub fn with_max(framing: Framing, max: usize) -> Deframer {
        Deframer {
            framing,
            max,
            buf: BytesMut::new(),
        }
    }

    /// The framing.
    #[must_use]
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Appends stream bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes received but not yet yielded as a frame.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Drops the buffered bytes (after a gap in the stream).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Drops the first `n` buffered bytes (when resynchronising).
    pub fn skip(&mut self, n: usize) {
        self.buf.advance(n.min(self.buf.len()));
    }

    /// The buffered bytes.
    #[must_use]
    pub fn peek(&self) -> &[u8] {
        &self.buf
    }

    /// The next whole frame (prefix removed), `Ok(None)` if more bytes are needed. After an
    /// error the stream cannot be trusted; [`Deframer::clear`] and resynchronise.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, FrameError> {
        match frame_at(self.framing, &self.buf, self.max)? {
            None => Ok(None),
            Some((prefix, len)) => {
                self.buf.advance(prefix);
                Ok(Some(self.buf.split_to(len).freeze()))
            }
        }
    }
}

/// Where the frame at the start of `data` is: `(prefix length, frame length)`, `None` if
/// `data` does not hold it all yet.
pub fn frame_at(
    framing: Framing,
    data: &[u8],
    max: usize,
) -> Result<Option<(usize, usize)>, FrameError> {
    Ok(frame_stated(framing, data, max)?.filter(|&(p, len)| data.len() >= p + len))
}

/// [`frame_at`] before the frame is whole: its prefix and length once the bytes so far state
/// them (`None`: not yet), and any fault those bytes already show. More bytes never change a
/// length stated or a fault found; they can show a fault in what was not there before (a
/// TPDU's first byte, the rest of a CUPS header), which [`frame_at`] on the whole frame finds.
pub(crate) fn frame_stated(
    framing: Framing,
    data: &[u8],
    max: usize,
) -> Result<Option<(usize, usize)>, FrameError> {
    if framing == Framing::None {
        return Ok((!data.is_empty()).then_some((0, data.len())));
    }
    if framing == Framing::Cups {
        return cups_frame_stated(data, max);
    }
    let p = framing.prefix_len();
    let Some(prefix) = data.get(..p) else {
        return Ok(None);
    };
    let len = framing.length(prefix)?;
    if len > max {
        return Err(FrameError::TooLong { length: len, max });
    }
    if len == 0 {
        return Err(FrameError::Empty);
    }
    if framing == Framing::Tpdu {
        if let Some(&first) = data.get(p) {
            if first != 0x60 {
                return Err(FrameError::NotTpdu { found: first });
            }
        }
    }
    Ok(Some((p, len)))
}

/// [`frame_stated`] for [`Framing::Cups`]: either form, the header checked as far as it has
/// come.
fn cups_frame_stated(data: &[u8], max: usize) -> Result<Option<(usize, usize)>, FrameError> {
    use crate::cups::HEADER_LEN;
    let Some(&first) = data.first() else {
        return Ok(None);
    };
    let prefix = if first.is_ascii_digit() {
        4
    } else if usize::from(first) == HEADER_LEN {
        0
    } else {
        return Err(FrameError::CupsHeader {
            offset: 0,
            expected: "the header length 46 (0x2E), or a length digit before it",
            found: first,
        });
    };
    let stated = match data.get(..prefix) {
        None => return Ok(None),
        Some([]) => None,
        Some(digits) => Some(Framing::Len4Ascii.length(digits)?),
    };
    let header = data.get(prefix..).unwrap_or_default();
    if let Some(&b) = header.first() {
        if usize::from(b) != HEADER_LEN {
            return Err(FrameError::CupsHeader {
                offset: prefix,
                expected: "the header length 46 (0x2E)",
                found: b,
            });
        }
    }
    let Some(digits) = header.get(2..6) else {
        return Ok(None);
    };
    let mut total = 0usize;
    for (i, &c) in digits.iter().enumerate() {
        if !c.is_ascii_digit() {
            return Err(FrameError::CupsHeader {
                offset: prefix + 2 + i,
                expected: "a digit of the total length",
                found: c,
            });
        }
        total = total * 10 + usize::from(c - b'0');
    }
    let bad_total = |expected| FrameError::CupsHeader {
        offset: prefix + 2,
        expected,
        found: digits.first().copied().unwrap_or(0),
    };
    if total < HEADER_LEN {
        return Err(bad_total(
            "a total length of at least the header's 46 bytes",
        ));
    }
    if stated.is_some_and(|s| s != total) {
        return Err(bad_total("the total length the prefix states"));
    }
    if total > max {
        return Err(FrameError::TooLong { length: total, max });
    }
    Ok(Some((prefix, total)))
}

/// Writes `msg` with its framing prefix.
pub fn write_frame<B: BufMut>(framing: Framing, msg: &[u8], out: &mut B) -> Result<(), FrameError> {
    let len = msg.len();
    let unframeable = FrameError::Unframeable { length: len };
    match framing {
        Framing::Len2 | Framing::Tpdu => out.put_u16(u16::try_from(len).map_err(|_| unframeable)?),
        Framing::Len2Le => out.put_u16_le(u16::try_from(len).map_err(|_| unframeable)?),
        Framing::Len4Ascii => {
            if len > 9999 {
                return Err(unframeable);
            }
            out.put_slice(format!("{len:04}").as_bytes());
        }
        Framing::Len2Bcd => {
            if len > 9999 {
                return Err(unframeable);
            }
            let (hi, lo) = (len / 100, len % 100);
            out.put_u8((((hi / 10) << 4) | (hi % 10)) as u8);
            out.put_u8((((lo / 10) << 4) | (lo % 10)) as u8);
        }
        Framing::Cups => {
            // The header-first form: the message is the frame, its header must say so.
            if cups_frame_stated(msg, usize::MAX) != Ok(Some((0, len))) {
                return Err(unframeable);
            }
        }
        Framing::None => {}
    }
    out.put_slice(msg);
    Ok(())
}

/// The framing under which the first frames of `data` (the start of a stream) parse with
/// `spec`: every whole frame in `data` (at least one) must parse. `None` if no framing fits.
#[must_use]
pub fn detect(spec: &Spec, data: &[u8]) -> Option<Framing> {
    Framing::ALL
        .into_iter()
        .find(|&framing| frames_parse(framing, spec, data))
}

/// Whether `data` starts with at least one whole frame under `framing` and the whole frames
/// in it parse with `spec` (a partial last frame is allowed, and a length prefix the framing
/// rejects after the first frame is left for the deframer to report).
#[must_use]
pub fn frames_parse(framing: Framing, spec: &Spec, data: &[u8]) -> bool {
    frames(framing, spec, data).is_some_and(|(whole, _)| whole > 0)
}

/// Whether the first frame of `data` under `framing` is whole and does not parse, or states a
/// length it cannot have: `data` does not start at a frame boundary of that framing, whatever
/// follows. Never so under [`Framing::None`], whose one frame is whatever has come.
pub(crate) fn first_frame_fails(framing: Framing, spec: &Spec, data: &[u8]) -> bool {
    framing != Framing::None && frames(framing, spec, data).is_none()
}

/// Whether `data` is exactly a sequence of one or more whole frames under `framing` that all
/// parse with `spec`: the proof of a frame boundary in the middle of a stream.
#[must_use]
pub fn frames_tile(framing: Framing, spec: &Spec, data: &[u8]) -> bool {
    // Where the frames would lie, from their lengths alone: only a walk that ends exactly at
    // the end of `data` is worth parsing.
    let mut at = 0;
    while at < data.len() {
        match data.get(at..).and_then(|rest| frame_end(framing, rest)) {
            Some(len) => at += len,
            None => return false,
        }
    }
    tiled_frames_parse(framing, spec, data)
}

/// [`frames_tile`] for `data` whose frame lengths are known to walk exactly to its end: the
/// frames are parsed, not walked again.
pub(crate) fn tiled_frames_parse(framing: Framing, spec: &Spec, data: &[u8]) -> bool {
    framing != Framing::None && frames(framing, spec, data) == Some((usize::MAX, data.len()))
}

/// Where the frame at the start of `rest` ends under `framing`, from its length alone: `None`
/// if its length is rejected or the frame is not whole.
fn frame_end(framing: Framing, rest: &[u8]) -> Option<usize> {
    match frame_at(framing, rest, DEFAULT_MAX_FRAME) {
        Ok(Some((p, len))) => Some(p + len),
        _ => None,
    }
}

/// Walks whole frames from the start of `data`: `None` if one does not parse, else how many
/// parsed (`usize::MAX` if they end exactly at the end of `data`) and where they end.
fn frames(framing: Framing, spec: &Spec, data: &[u8]) -> Option<(usize, usize)> {
    let mut at = 0;
    let mut whole = 0;
    while let Some(rest) = data.get(at..).filter(|r| !r.is_empty()) {
        match frame_at(framing, rest, DEFAULT_MAX_FRAME) {
            Ok(Some((p, len))) => {
                let frame = rest.get(p..p + len)?;
                crate::parse(spec, frame).ok()?;
                whole += 1;
                at += p + len;
            }
            Ok(None) => return Some((whole, at)),
            Err(_) if whole > 0 => return Some((whole, at)),
            Err(_) => return None,
        }
        if framing == Framing::None {
            break;
        }
    }
    Some((
        if whole > 0 && at == data.len() {
            usize::MAX
        } else {
            whole
        },
        at,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CUP_POS, ISO87_ASCII};

    #[test]
    fn every_framing_roundtrips_split_and_packed() {
        let msgs: [&[u8]; 3] = [b"\x60first", b"\x60second message", b"\x60x"];
        let unprefixed = [Framing::None, Framing::Cups];
        for framing in Framing::ALL.into_iter().filter(|f| !unprefixed.contains(f)) {
            let mut wire = BytesMut::new();
            for m in msgs {
                write_frame(framing, m, &mut wire).unwrap();
            }
            // Byte by byte, then all at once.
            let mut d = Deframer::new(framing);
            let mut got = Vec::new();
            for b in wire.iter() {
                d.push(&[*b]);
                while let Some(f) = d.next_frame().unwrap() {
                    got.push(f);
                }
            }
            assert_eq!(got, msgs, "{framing}");
            assert_eq!(d.buffered(), 0);
        }
    }

    #[test]
    fn lengths_over_the_maximum_are_errors() {
        let mut d = Deframer::with_max(Framing::Len2, 100);
        d.push(&[0xFF, 0xFF, 1, 2, 3]);
        assert_eq!(
            d.next_frame(),
            Err(FrameError::TooLong {
                length: 0xFFFF,
                max: 100
            })
        );
        let mut d = Deframer::new(Framing::Len4Ascii);
        d.push(b"01a0xxxx");
        assert_eq!(d.next_frame(), Err(FrameError::BadPrefix { found: b'a' }));
        let mut d = Deframer::new(Framing::Tpdu);
        d.push(&[0, 3, 0x61, 0, 0]);
        assert_eq!(d.next_frame(), Err(FrameError::NotTpdu { found: 0x61 }));
    }

    /// A CUPS message: header (total length `46 + body`) then a 0800 with field 11.
    fn cups_message() -> Vec<u8> {
        let mut body = b"0800".to_vec();
        body.extend_from_slice(&[0x00, 0x20, 0, 0, 0, 0, 0, 0]);
        body.extend_from_slice(b"000042");
        let fields = crate::cups::HeaderFields::default();
        let mut m = fields.to_bytes(body.len()).unwrap().to_vec();
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn cups_reads_both_forms_and_checks_the_header() {
        let msg = cups_message();
        assert!(crate::parse(&crate::spec::CUPS, &msg).is_ok());
        // Header first, and with 4 ASCII digits before it, split anywhere.
        for prefixed in [false, true] {
            let mut wire = BytesMut::new();
            for _ in 0..3 {
                let f = if prefixed {
                    Framing::Len4Ascii
                } else {
                    Framing::Cups
                };
                write_frame(f, &msg, &mut wire).unwrap();
            }
            let mut d = Deframer::new(Framing::Cups);
            let mut got = Vec::new();
            for b in wire.iter() {
                d.push(&[*b]);
                while let Some(f) = d.next_frame().unwrap() {
                    got.push(f);
                }
            }
            assert_eq!(got, vec![msg.clone(); 3], "prefixed {prefixed}");
            assert_eq!(detect(&crate::spec::CUPS, &wire), Some(Framing::Cups));
        }
        // A bad length byte, a total length that is not digits, one that disagrees with the
        // prefix: errors naming the offset.
        let error = |wire: &[u8]| {
            let mut d = Deframer::new(Framing::Cups);
            d.push(wire);
            d.next_frame().unwrap_err()
        };
        let mut bad = msg.clone();
        bad[3] = b'x';
        assert_eq!(
            error(&bad),
            FrameError::CupsHeader {
                offset: 3,
                expected: "a digit of the total length",
                found: b'x'
            }
        );
        let mut prefixed = b"0060".to_vec();
        prefixed.extend_from_slice(&msg);
        prefixed[4] = 45;
        assert!(matches!(
            error(&prefixed),
            FrameError::CupsHeader {
                offset: 4,
                found: 45,
                ..
            }
        ));
        let mut prefixed = b"0061".to_vec();
        prefixed.extend_from_slice(&msg);
        assert!(matches!(
            error(&prefixed),
            FrameError::CupsHeader { offset: 6, .. }
        ));
        assert!(matches!(
            error(b"\x61"),
            FrameError::CupsHeader {
                offset: 0,
                found: 0x61,
                ..
            }
        ));
        assert_eq!(
            error(b"\x2E\x02\x00020"),
            FrameError::CupsHeader {
                offset: 2,
                expected: "a digit of the total length",
                found: 0
            }
        );
        // The writer refuses a message whose header does not frame it.
        let mut short = msg.clone();
        short.pop();
        assert!(write_frame(Framing::Cups, &short, &mut BytesMut::new()).is_err());
        assert_eq!(
            error(&[0x2E, 2, b'0', b'0', b'1', b'0']),
            FrameError::CupsHeader {
                offset: 2,
                expected: "a total length of at least the header's 46 bytes",
                found: b'0'
            }
        );
    }

    #[test]
    fn detects_the_framing_that_parses() {
        let msg = b"08000020000000000000000042";
        let mut wire = BytesMut::new();
        write_frame(Framing::Len4Ascii, msg, &mut wire).unwrap();
        write_frame(Framing::Len4Ascii, msg, &mut wire).unwrap();
        assert_eq!(detect(&ISO87_ASCII, &wire), Some(Framing::Len4Ascii));
        let mut wire = BytesMut::new();
        write_frame(Framing::Len2, msg, &mut wire).unwrap();
        assert_eq!(detect(&ISO87_ASCII, &wire), Some(Framing::Len2));
        assert_eq!(detect(&ISO87_ASCII, msg), Some(Framing::None));
        assert_eq!(detect(&CUP_POS, msg), None);
        assert_eq!("len2-bcd".parse::<Framing>(), Ok(Framing::Len2Bcd));
        assert!(
            "len3"
                .parse::<Framing>()
                .unwrap_err()
                .contains("len2, len2-le")
        );
    }
}
