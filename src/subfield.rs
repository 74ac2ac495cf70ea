//! Subfields of composite fields, read in place from a parsed message.
//!
//! The spec says which fields are composite and how ([`crate::spec::composite`]); a
//! [`Subfield`] is a slice of its parent field's bytes with its own layout, so every accessor
//! of [`Field`] works on it through [`Subfield::value`]. Nothing here allocates.
//!
//! ```
//! use iso8583_inspect::{MessageBuilder, Mti, parse, spec::CUP_POS};
//! let mut b = MessageBuilder::new(&CUP_POS, Mti::FINANCIAL_REQUEST);
//! b.set_text(11, "000123")?.set_text(60, "22000001000")?;
//! let bytes = b.to_vec()?;
//! let msg = parse(&CUP_POS, &bytes)?;
//! let batch = msg.subfield("60.2")?.expect("60.2 is present");
//! assert_eq!((batch.name(), batch.value().to_u64()?), ("Batch Number", 1));
//! let paths: Vec<String> = msg.subfields(60).unwrap().map(|s| s.unwrap().path().to_string()).collect();
//! assert_eq!(paths, ["60.1", "60.2", "60.3"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::codec::hex_val;
use crate::emv::TlvErrorKind;
use crate::error::ErrorKind;
use crate::message::Field;
use crate::spec::composite::{Composite, Layout, SubfieldSpec, TlvFormat};
use crate::spec::{Align, Content, Encoding, FieldSpec, Length, PrefixEncoding};
use std::fmt;

/// The longest path kept (`55.` and four nested four-byte tags fit; a longer one is cut).
const PATH_CAPACITY: usize = 40;

/// A subfield's path as text (`60.1`, `55.9F02`, `55.70.5A`), held inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Path {
    buf: [u8; PATH_CAPACITY],
    len: u8,
}

impl Path {
    fn of_field(n: u8) -> Path {
        let mut p = Path {
            buf: [0; PATH_CAPACITY],
            len: 0,
        };
        p.push_number(usize::from(n));
        p
    }

    fn push_byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(usize::from(self.len)) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_number(&mut self, n: usize) {
        let mut digits = [0u8; 3];
        let mut count = 0;
        let mut v = n.min(999);
        loop {
            if let Some(slot) = digits.get_mut(count) {
                *slot = b'0' + (v % 10) as u8;
            }
            count += 1;
            v /= 10;
            if v == 0 || count == digits.len() {
                break;
            }
        }
        for i in (0..count).rev() {
            self.push_byte(digits.get(i).copied().unwrap_or(b'0'));
        }
    }

    fn push_hex(&mut self, b: u8) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        self.push_byte(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
        self.push_byte(HEX.get(usize::from(b & 0xF)).copied().unwrap_or(b'0'));
    }

    /// The path as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        let bytes = self.buf.get(..usize::from(self.len)).unwrap_or_default();
        // Only ASCII digits, letters, dots and the printable ASCII of fixed tags are pushed.
        std::str::from_utf8(bytes).unwrap_or("")
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({})", self.as_str())
    }
}

/// Why a subfield could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubfieldErrorKind {
    /// The path is not `FIELD.SUB[.SUB...]` (a field number 2-192, then subfield keys).
    BadPath,
    /// The spec gives the field no subfields.
    NotComposite,
    /// A positional subfield or a fixed-width TLV element is malformed.
    Element(ErrorKind),
    /// The BER-TLV is malformed.
    Tlv(TlvErrorKind),
}

impl fmt::Display for SubfieldErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubfieldErrorKind::BadPath => {
                f.write_str("not a subfield path (FIELD.SUB, e.g. 60.1 or 55.9F02)")
            }
            SubfieldErrorKind::NotComposite => {
                f.write_str("the spec gives this field no subfields")
            }
            SubfieldErrorKind::Element(k) => k.fmt(f),
            SubfieldErrorKind::Tlv(k) => k.fmt(f),
        }
    }
}

/// A subfield that could not be read: the path reached (the subfield at fault, or the path
/// asked for), the byte offset in the message, and what is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("subfield {path} at offset {offset}: {kind}")]
pub struct SubfieldError {
    /// Where.
    pub path: Path,
    /// Byte offset from the start of the message.
    pub offset: usize,
    /// What is wrong.
    pub kind: SubfieldErrorKind,
}

/// What kind of element a subfield is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Positional { id: u8 },
    Ber { constructed: bool, depth: u8 },
    Fixed,
}

/// The longest tag kept with a subfield (longer BER tags are named by their path only).
const TAG_CAPACITY: usize = 4;

/// One subfield: its path, name and value, and where it is in the message.
#[derive(Clone, Copy)]
pub struct Subfield<'a> {
    path: Path,
    name: &'a str,
    field: u8,
    lead: u8,
    spec: FieldSpec,
    wire: &'a [u8],
    /// Message offset of the element (a TLV element's tag, a positional subfield's prefix).
    offset: usize,
    /// Message offset of the value.
    value_offset: usize,
    kind: Kind,
    /// BER data written as hex characters (two a byte) rather than raw.
    hex: bool,
    tag: [u8; TAG_CAPACITY],
    tag_len: u8,
}

/// The layout of a TLV value of `len` units.
const fn value_spec(len: usize, encoding: Encoding, content: Content) -> FieldSpec {
    FieldSpec {
        content,
        length: Length::Fixed(if len > u16::MAX as usize {
            u16::MAX
        } else {
            len as u16
        }),
        encoding,
        prefix: PrefixEncoding::Ascii,
        align: Align::Right,
    }
}

impl<'a> Subfield<'a> {
    /// The path (`60.1`, `55.9F02`).
    #[must_use]
    pub fn path(&self) -> &str {
        self.path.as_str()
    }

    /// The name the spec gives it (for EMV tags, the EMV name; empty if unknown).
    #[must_use]
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The parent field's number.
    #[must_use]
    pub fn field_number(&self) -> usize {
        usize::from(self.field)
    }

    /// The value, with every accessor of a field (`chars`, `to_u64`, `text_eq`, ...). A
    /// positional subfield is read with its own layout; a TLV value is binary (BER, shown as
    /// upper-case hex) or text (fixed-width tags). For a subfield of a BCD field, `data()` is
    /// the bytes that hold its digits, which may include a nibble of its neighbours.
    #[must_use]
    pub fn value(&self) -> Field<'_> {
        Field::sub(self.field, self.lead, &self.spec, self.wire)
    }

    /// The tag of a TLV element (BER bytes, or the characters of a fixed-width tag; at most
    /// four bytes kept), or `None` for a positional subfield.
    #[must_use]
    pub fn tag(&self) -> Option<&[u8]> {
        match self.kind {
            Kind::Positional { .. } => None,
            _ => self.tag.get(..usize::from(self.tag_len)),
        }
    }

    /// Byte offset of the element (a TLV element's tag, a positional subfield's length prefix
    /// or data) from the start of the message.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether this is a constructed BER object (its value holds more TLV).
    #[must_use]
    pub fn is_constructed(&self) -> bool {
        matches!(
            self.kind,
            Kind::Ber {
                constructed: true,
                ..
            }
        )
    }

    /// The objects inside a constructed BER object (nothing for any other subfield), at most
    /// [`crate::emv::MAX_DEPTH`] levels down.
    #[must_use]
    pub fn children(&self) -> Subfields<'a> {
        let (data, depth) = match self.kind {
            Kind::Ber {
                constructed: true,
                depth,
            } => (self.wire, depth.saturating_add(1)),
            _ => (&[][..], 0),
        };
        Subfields {
            field: self.field,
            prefix: self.path,
            data,
            base: self.value_offset,
            walk: Walk::Ber {
                hex: self.hex,
                depth,
            },
            at: 0,
            index: 0,
            done: false,
        }
    }

    /// Writes the value as [`Subfield::to_display_text`] gives it; allocates only for card
    /// data that is masked.
    pub fn write_display(&self, f: &mut impl fmt::Write, reveal: bool) -> fmt::Result {
        match self.kind {
            Kind::Ber { .. } => {
                let tag = self.tag().unwrap_or_default();
                if reveal || !crate::emv::is_sensitive(tag) {
                    return self.value().write_text(f);
                }
                f.write_str(&self.to_display_text(reveal))
            }
            _ => self.value().write_display(f, reveal),
        }
    }

    /// The value as people see it: EMV card data masked (5A) or hidden (56, 57, 5F20, 9F1F)
    /// unless `reveal`; other subfields masked as their parent field would be.
    #[must_use]
    pub fn to_display_text(&self, reveal: bool) -> String {
        match self.kind {
            Kind::Ber { .. } => {
                let value = self.value();
                let hex: String = value.chars().map(char::from).collect();
                let tag = self.tag().unwrap_or_default();
                crate::emv::shown(tag, hex, value.bytes().count(), reveal)
            }
            _ => self.value().to_display_text(reveal),
        }
    }
}

impl fmt::Debug for Subfield<'_> {
    /// The path, layout and value as shown (card data masked).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Subfield({}, {}, {})",
            self.path,
            self.spec.describe(),
            self.to_display_text(false)
        )
    }
}

/// How the walk divides the data.
#[derive(Clone, Copy, Debug)]
enum Walk<'a> {
    /// Digits of a BCD field, from nibble `first`.
    Digits {
        subs: &'a [SubfieldSpec],
        first: usize,
        digits: usize,
    },
    /// Elements of a byte field.
    Elements {
        subs: &'a [SubfieldSpec],
    },
    Ber {
        hex: bool,
        depth: u8,
    },
    Fixed {
        tag: u8,
        len: u8,
    },
}

/// The subfields of one field, in order; after an error, nothing more. See
/// [`crate::Message::subfields`].
#[derive(Clone, Debug)]
pub struct Subfields<'a> {
    field: u8,
    /// The path of the parent (`55`, or `55.70` inside a constructed object).
    prefix: Path,
    /// The parent's data as on the wire.
    data: &'a [u8],
    /// Message offset of `data`.
    base: usize,
    walk: Walk<'a>,
    /// Position: digits (BCD), bytes (elements, fixed TLV) or decoded bytes (BER).
    at: usize,
    /// The next positional subfield.
    index: usize,
    done: bool,
}

impl<'a> Subfields<'a> {
    /// The subfields of `field` (its number, layout and wire image) whose wire starts at
    /// message offset `wire_offset`, divided by `composite`.
    pub(crate) fn new(
        field: Field<'a>,
        composite: &'a Composite,
        wire_offset: usize,
    ) -> Subfields<'a> {
        let fs = field.spec();
        let number = u8::try_from(field.number()).unwrap_or(u8::MAX);
        let data = field.data();
        let walk = match &composite.layout {
            Layout::Positional(subs) if fs.encoding == Encoding::Bcd => {
                let digits = field.len();
                let pad_first = crate::codec::pad_nibble_at(digits, fs.align) == Some(0);
                Walk::Digits {
                    subs,
                    first: usize::from(pad_first),
                    digits,
                }
            }
            Layout::Positional(subs) => Walk::Elements { subs },
            Layout::Tlv(TlvFormat::Ber) => Walk::Ber {
                hex: matches!(fs.encoding, Encoding::Hex | Encoding::HexChars),
                depth: 0,
            },
            Layout::Tlv(TlvFormat::Fixed { tag, len }) => Walk::Fixed {
                tag: *tag,
                len: *len,
            },
        };
        Subfields {
            field: number,
            prefix: Path::of_field(number),
            data,
            base: wire_offset + fs.prefix_width(),
            walk,
            at: 0,
            index: 0,
            done: false,
        }
    }

    fn path_with(&self, push: impl FnOnce(&mut Path)) -> Path {
        let mut p = self.prefix;
        p.push_byte(b'.');
        push(&mut p);
        p
    }

    fn fail(
        &mut self,
        path: Path,
        offset: usize,
        kind: SubfieldErrorKind,
    ) -> Option<Result<Subfield<'a>, SubfieldError>> {
        self.done = true;
        Some(Err(SubfieldError { path, offset, kind }))
    }

    fn blank(&self, path: Path, name: &'a str, spec: FieldSpec, kind: Kind) -> Subfield<'a> {
        Subfield {
            path,
            name,
            field: self.field,
            lead: 0,
            spec,
            wire: &[],
            offset: self.base,
            value_offset: self.base,
            kind,
            hex: false,
            tag: [0; TAG_CAPACITY],
            tag_len: 0,
        }
    }

    fn next_digits(
        &mut self,
        subs: &'a [SubfieldSpec],
        first: usize,
        digits: usize,
    ) -> Option<Result<Subfield<'a>, SubfieldError>> {
        let sub = subs.get(self.index)?;
        if self.at >= digits {
            return None;
        }
        self.index += 1;
        let path = self.path_with(|p| p.push_number(usize::from(sub.id)));
        let n = sub.field.length.max();
        let start = first + self.at;
        let byte = start / 2;
        if self.at + n > digits {
            let kind = ErrorKind::Truncated {
                needed: n.div_ceil(2),
                available: (digits - self.at).div_ceil(2),
            };
            return self.fail(path, self.base + byte, SubfieldErrorKind::Element(kind));
        }
        self.at += n;
        let end_byte = (start + n).div_ceil(2);
        let mut out = self.blank(path, &sub.name, sub.field, Kind::Positional { id: sub.id });
        out.spec.align = Align::Left;
        out.lead = (start % 2) as u8;
        out.wire = self.data.get(byte..end_byte).unwrap_or_default();
        out.offset = self.base + byte;
        out.value_offset = out.offset;
        Some(Ok(out))
    }

    fn next_element(
        &mut self,
        subs: &'a [SubfieldSpec],
    ) -> Option<Result<Subfield<'a>, SubfieldError>> {
        let sub = subs.get(self.index)?;
        let rest = self.data.get(self.at..)?;
        if rest.is_empty() {
            return None;
        }
        self.index += 1;
        let path = self.path_with(|p| p.push_number(usize::from(sub.id)));
        match crate::parse::field::element(&sub.field, rest) {
            Ok(wire) => {
                let mut out =
                    self.blank(path, &sub.name, sub.field, Kind::Positional { id: sub.id });
                out.wire = wire;
                out.offset = self.base + self.at;
                out.value_offset = out.offset + sub.field.prefix_width();
                self.at += wire.len();
                Some(Ok(out))
            }
            Err((within, kind)) => {
                let offset = self.base + self.at + within;
                self.fail(path, offset, SubfieldErrorKind::Element(kind))
            }
        }
    }

    fn next_ber(&mut self, hex: bool, depth: u8) -> Option<Result<Subfield<'a>, SubfieldError>> {
        let data = self.data;
        let width = if hex { 2 } else { 1 };
        let len = data.len() / width;
        if self.at >= len {
            return None;
        }
        let prefix = self.prefix;
        if depth > crate::emv::MAX_DEPTH {
            let offset = self.base + self.at * width;
            return self.fail(
                prefix,
                offset,
                SubfieldErrorKind::Tlv(TlvErrorKind::TooDeep),
            );
        }
        let byte = |i: usize| -> Option<u8> {
            if hex {
                let pair = data.get(i * 2..i * 2 + 2)?;
                let (hi, lo) = (hex_val(*pair.first()?)?, hex_val(*pair.get(1)?)?);
                Some(hi << 4 | lo)
            } else {
                data.get(i).copied()
            }
        };
        match crate::emv::element(byte, self.at, len) {
            Err((at, kind)) => {
                self.fail(prefix, self.base + at * width, SubfieldErrorKind::Tlv(kind))
            }
            Ok(e) => {
                let mut tag = [0u8; TAG_CAPACITY];
                let mut path = self.path_with(|_| {});
                for (slot, i) in tag.iter_mut().zip(e.tag.clone()) {
                    *slot = byte(i).unwrap_or(0);
                }
                for i in e.tag.clone() {
                    path.push_hex(byte(i).unwrap_or(0));
                }
                let constructed = tag.first().is_some_and(|b| b & 0x20 != 0);
                let name = crate::emv::tag_name(
                    tag.get(..e.tag.len().min(TAG_CAPACITY)).unwrap_or_default(),
                )
                .unwrap_or("");
                let (encoding, wire) = if hex {
                    (Encoding::Hex, data.get(e.value.start * 2..e.value.end * 2))
                } else {
                    (Encoding::Binary, data.get(e.value.clone()))
                };
                let spec = value_spec(e.value.len(), encoding, Content::B);
                let mut out = self.blank(path, name, spec, Kind::Ber { constructed, depth });
                out.wire = wire.unwrap_or_default();
                out.offset = self.base + e.tag.start * width;
                out.value_offset = self.base + e.value.start * width;
                out.hex = hex;
                out.tag = tag;
                out.tag_len = e.tag.len().min(TAG_CAPACITY) as u8;
                self.at = e.value.end;
                Some(Ok(out))
            }
        }
    }

    fn next_fixed(
        &mut self,
        tag_width: u8,
        len_width: u8,
    ) -> Option<Result<Subfield<'a>, SubfieldError>> {
        let rest = self.data.get(self.at..)?;
        if rest.is_empty() {
            return None;
        }
        let (tw, lw) = (usize::from(tag_width), usize::from(len_width));
        let start = self.base + self.at;
        let prefix = self.prefix;
        let Some(tag) = rest.get(..tw) else {
            let kind = ErrorKind::Truncated {
                needed: tw,
                available: rest.len(),
            };
            return self.fail(prefix, start, SubfieldErrorKind::Element(kind));
        };
        let mut path = self.path_with(|_| {});
        for &c in tag {
            path.push_byte(if c.is_ascii_graphic() { c } else { b'?' });
        }
        let Some(raw_len) = rest.get(tw..tw + lw) else {
            let kind = ErrorKind::Truncated {
                needed: lw,
                available: rest.len() - tw,
            };
            return self.fail(path, start + tw, SubfieldErrorKind::Element(kind));
        };
        let Some(len) = crate::parse::field::prefix_value(PrefixEncoding::Ascii, raw_len) else {
            let i = raw_len
                .iter()
                .position(|c| !c.is_ascii_digit())
                .unwrap_or(0);
            let found = crate::error::Found::Byte(raw_len.get(i).copied().unwrap_or(0));
            return self.fail(
                path,
                start + tw + i,
                SubfieldErrorKind::Element(ErrorKind::BadLengthPrefix { found }),
            );
        };
        let Some(value) = rest.get(tw + lw..tw + lw + len) else {
            let kind = ErrorKind::Truncated {
                needed: len,
                available: rest.len() - tw - lw,
            };
            return self.fail(path, start + tw + lw, SubfieldErrorKind::Element(kind));
        };
        let mut t = [0u8; TAG_CAPACITY];
        for (slot, &c) in t.iter_mut().zip(tag) {
            *slot = c;
        }
        let spec = value_spec(len, Encoding::Ascii, Content::Ans);
        let mut out = self.blank(path, "", spec, Kind::Fixed);
        out.wire = value;
        out.offset = start;
        out.value_offset = start + tw + lw;
        out.tag = t;
        out.tag_len = tag_width.min(TAG_CAPACITY as u8);
        self.at += tw + lw + len;
        Some(Ok(out))
    }
}

impl<'a> Iterator for Subfields<'a> {
    type Item = Result<Subfield<'a>, SubfieldError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.walk {
            Walk::Digits {
                subs,
                first,
                digits,
            } => self.next_digits(subs, first, digits),
            Walk::Elements { subs } => self.next_element(subs),
            Walk::Ber { hex, depth } => self.next_ber(hex, depth),
            Walk::Fixed { tag, len } => self.next_fixed(tag, len),
        }
    }
}

/// Whether `key` (one part of a path) names `sub`.
fn key_matches(sub: &Subfield<'_>, key: &str) -> bool {
    match sub.kind {
        Kind::Positional { id } => key.parse::<u8>().ok() == Some(id),
        Kind::Ber { .. } => sub
            .path()
            .rsplit('.')
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case(key)),
        Kind::Fixed => sub.path().rsplit('.').next() == Some(key),
    }
}

/// The subfield at `path` among the subfields of its field (`walk`), descending into
/// constructed objects for longer paths.
pub(crate) fn find<'a>(
    mut walk: Subfields<'a>,
    full: &str,
    mut keys: std::str::Split<'_, char>,
) -> Result<Option<Subfield<'a>>, SubfieldError> {
    let Some(key) = keys.next() else {
        return Err(bad_path(full, walk.base));
    };
    if key.is_empty() {
        return Err(bad_path(full, walk.base));
    }
    for item in walk.by_ref() {
        let sub = item?;
        if key_matches(&sub, key) {
            let rest = keys.clone();
            return if rest.clone().next().is_none() {
                Ok(Some(sub))
            } else if sub.is_constructed() {
                find(sub.children(), full, keys)
            } else {
                Ok(None)
            };
        }
    }
    Ok(None)
}

/// A path error for `full`, cut to the path's capacity.
pub(crate) fn bad_path(full: &str, offset: usize) -> SubfieldError {
    let mut path = Path {
        buf: [0; PATH_CAPACITY],
        len: 0,
    };
    for b in full.bytes().filter(u8::is_ascii_graphic) {
        path.push_byte(b);
    }
    SubfieldError {
        path,
        offset,
        kind: SubfieldErrorKind::BadPath,
    }
}

/// The error for a field the spec gives no subfields.
pub(crate) fn not_composite(field: u8, offset: usize) -> SubfieldError {
    SubfieldError {
        path: Path::of_field(field),
        offset,
        kind: SubfieldErrorKind::NotComposite,
    }
}
