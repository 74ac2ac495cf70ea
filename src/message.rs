//! The parsed message: [`Message`] borrows its input, each [`Field`] is a slice plus its spec.
//!
//! Values are decoded on demand, without allocation: [`Field::chars`] iterates the characters
//! of any field (BCD digits, EBCDIC text, hex of binary data), and the typed accessors of
//! [`Message`] return small stack values ([`Text`], [`Pan`], `u64` amounts).

use crate::codec::{
    CP037_TO_LATIN1, CP500_TO_LATIN1, HEX_UPPER, hex_val, pad_nibble_at, translate,
};
use crate::mask::{Sensitivity, sensitivity, write_hidden, write_masked_pan};
use crate::parse::field::prefix_value;
use crate::spec::{Content, Encoding, FieldSpec, Header, Length, MAX_FIELD, Spec};
use std::fmt;

/// Where the elements of a message start, in wire order: one entry per set bitmap bit (the
/// secondary bitmap for bit 1, the tertiary bitmap for bit 65 where the spec has one, else the
/// field), then the end of the last. Element `r` spans `starts[r]..starts[r + 1]`; a field's
/// `r` is the number of set bits before its own, so lookup stays O(1) with no per-field slot.
pub(crate) type Starts = [u32; MAX_FIELD + 2];

/// An offset as stored in [`Starts`] (inputs beyond 4 GiB are clamped; no frame is that long).
pub(crate) fn offset(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A message type indicator, e.g. `0200`: version, class, function and origin digits.
///
/// An open code set: any four digits parse and print; the constants name the common ones.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mti(u16);

impl Mti {
    /// Authorisation request.
    pub const AUTH_REQUEST: Mti = Mti(100);
    /// Authorisation response.
    pub const AUTH_RESPONSE: Mti = Mti(110);
    /// Financial request (sale).
    pub const FINANCIAL_REQUEST: Mti = Mti(200);
    /// Financial response.
    pub const FINANCIAL_RESPONSE: Mti = Mti(210);
    /// Financial advice.
    pub const FINANCIAL_ADVICE: Mti = Mti(220);
    /// Reversal request.
    pub const REVERSAL_REQUEST: Mti = Mti(400);
    /// Reversal response.
    pub const REVERSAL_RESPONSE: Mti = Mti(410);
    /// Reversal advice.
    pub const REVERSAL_ADVICE: Mti = Mti(420);
    /// Network management request (echo, sign-on).
    pub const NETWORK_REQUEST: Mti = Mti(800);
    /// Network management response.
    pub const NETWORK_RESPONSE: Mti = Mti(810);

    /// An MTI from its four-digit value (`200` for `0200`); values over 9999 are clamped.
    #[must_use]
    pub const fn new(value: u16) -> Mti {
        Mti(if value > 9999 { 9999 } else { value })
    }

    /// The four-digit value.
    #[must_use]
    pub const fn value(self) -> u16 {
        self.0
    }

    /// Digit 1: 0 = ISO 8583:1987, 1 = 1993, 2 = 2003, 8 = national, 9 = private.
    #[must_use]
    pub const fn version(self) -> u8 {
        (self.0 / 1000) as u8
    }

    /// Digit 2: 1 authorisation, 2 financial, 3 file action, 4 reversal, 5 reconciliation,
    /// 6 administrative, 8 network management.
    #[must_use]
    pub const fn class(self) -> u8 {
        (self.0 / 100 % 10) as u8
    }

    /// Digit 3: 0 request, 1 request response, 2 advice, 3 advice response, 4 notification.
    #[must_use]
    pub const fn function(self) -> u8 {
        (self.0 / 10 % 10) as u8
    }

    /// Digit 4: 0 acquirer, 1 acquirer repeat, 2 issuer, 3 issuer repeat.
    #[must_use]
    pub const fn origin(self) -> u8 {
        (self.0 % 10) as u8
    }

    /// Whether this answers a request or an advice (function digit 1 or 3).
    #[must_use]
    pub const fn is_response(self) -> bool {
        matches!(self.function(), 1 | 3)
    }

    /// The MTI of the response to this request or advice (`0200` -> `0210`), if it has one.
    #[must_use]
    pub const fn response(self) -> Option<Mti> {
        match self.function() {
            0 | 2 => Some(Mti(self.0 - self.origin() as u16 + 10)),
            _ => None,
        }
    }

    /// The four ASCII digits.
    #[must_use]
    pub const fn to_digits(self) -> [u8; 4] {
        let v = self.0;
        [
            b'0' + (v / 1000) as u8,
            b'0' + (v / 100 % 10) as u8,
            b'0' + (v / 10 % 10) as u8,
            b'0' + (v % 10) as u8,
        ]
    }
}

impl fmt::Display for Mti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

impl fmt::Debug for Mti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mti({:04})", self.0)
    }
}

/// Why a field's value could not be read as the accessor's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The value is not all digits (the spec gives the field another content class).
    #[error("field {field}: not numeric")]
    NotNumeric {
        /// The field.
        field: u8,
    },
    /// The value does not have the length the accessor needs.
    #[error("field {field}: expected {expected} characters, found {found}")]
    Length {
        /// The field.
        field: u8,
        /// The length expected (or the most the accessor holds).
        expected: usize,
        /// The value's length.
        found: usize,
    },
    /// Digits that do not make a valid date or time.
    #[error("field {field}: not a valid date or time")]
    OutOfRange {
        /// The field.
        field: u8,
    },
}

/// One field of a parsed message: its number, its spec and its bytes.
#[derive(Clone, Copy)]
pub struct Field<'a> {
    number: u8,
    /// Nibbles of `wire` before the value: 0, or 1 for a BCD subfield that starts in the
    /// middle of a byte.
    lead: u8,
    spec: &'a FieldSpec,
    wire: &'a [u8],
}

impl<'a> Field<'a> {
    /// A field from its number, layout and wire image (prefix and data).
    pub(crate) const fn new(number: usize, spec: &'a FieldSpec, wire: &'a [u8]) -> Field<'a> {
        Field {
            number: number as u8,
            lead: 0,
            spec,
            wire,
        }
    }

    /// A subfield's value: `wire` read with `spec`, after `lead` nibbles (BCD digits that
    /// start in the middle of a byte).
    pub(crate) const fn sub(
        number: u8,
        lead: u8,
        spec: &'a FieldSpec,
        wire: &'a [u8],
    ) -> Field<'a> {
        Field {
            number,
            lead,
            spec,
            wire,
        }
    }

    /// The field number.
    #[must_use]
    pub const fn number(&self) -> usize {
        self.number as usize
    }

    /// The field's layout.
    #[must_use]
    pub const fn spec(&self) -> &'a FieldSpec {
        self.spec
    }

    /// The wire image: length prefix and data.
    #[must_use]
    pub const fn wire(&self) -> &'a [u8] {
        self.wire
    }

    /// The length prefix bytes (empty for fixed fields).
    #[must_use]
    pub fn prefix(&self) -> &'a [u8] {
        self.wire
            .get(..self.spec.prefix_width())
            .unwrap_or_default()
    }

    /// The data bytes as on the wire, prefix excluded.
    #[must_use]
    pub fn data(&self) -> &'a [u8] {
        self.wire
            .get(self.spec.prefix_width()..)
            .unwrap_or_default()
    }

    /// The length in the spec's units (digits, characters or bytes): the fixed length or the
    /// prefix's value.
    #[must_use]
    pub fn len(&self) -> usize {
        match self.spec.length {
            Length::Fixed(n) => usize::from(n),
            _ => prefix_value(self.spec.prefix, self.prefix()).unwrap_or(0),
        }
    }

    /// Whether the value is empty (a variable field with a zero prefix).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the value is binary (its text form is upper-case hex).
    #[must_use]
    pub const fn is_binary(&self) -> bool {
        self.spec.content.is_binary()
    }

    /// The characters of the value's text form, one byte each: digits of BCD fields (track
    /// separators as `=`), EBCDIC text as Latin-1, binary data as upper-case hex.
    #[must_use]
    pub fn chars(&self) -> Chars<'a> {
        let data = self.data();
        let inner = match self.spec.encoding {
            Encoding::Ascii => CharsInner::Plain(data.iter()),
            Encoding::Ebcdic => CharsInner::Table(data.iter(), &CP037_TO_LATIN1),
            Encoding::Ebcdic500 => CharsInner::Table(data.iter(), &CP500_TO_LATIN1),
            Encoding::Binary => CharsInner::Hex { data, pos: 0 },
            Encoding::Hex | Encoding::HexChars => CharsInner::UpperHex(data.iter()),
            Encoding::Bcd => {
                let signed = self.spec.content == Content::XN;
                let (sign, digits, packed) = if signed {
                    let units = self.len().saturating_sub(1);
                    (
                        data.first().copied(),
                        units,
                        data.get(1..).unwrap_or_default(),
                    )
                } else {
                    (None, self.len(), data)
                };
                let start = usize::from(pad_nibble_at(digits, self.spec.align) == Some(0))
                    + usize::from(self.lead);
                CharsInner::Bcd {
                    sign,
                    packed,
                    pos: start,
                    end: start + digits,
                    track: self.spec.content == Content::Z,
                }
            }
        };
        Chars { inner }
    }

    /// The bytes of a binary value (hex decoded where the wire has hex), or the characters of a
    /// text value.
    #[must_use]
    pub fn bytes(&self) -> ValueBytes<'a> {
        match (self.spec.content, self.spec.encoding) {
            (Content::B, Encoding::Hex | Encoding::HexChars) => {
                ValueBytes(BytesInner::Unhex(self.data().chunks_exact(2)))
            }
            (Content::B, _) => ValueBytes(BytesInner::Raw(self.data().iter())),
            _ => ValueBytes(BytesInner::Chars(self.chars())),
        }
    }

    /// Whether the text form equals `text` (no allocation).
    #[must_use]
    pub fn text_eq(&self, text: impl AsRef<[u8]>) -> bool {
        // ASCII characters are the bytes themselves.
        if let Some(data) = self.plain() {
            return data == text.as_ref();
        }
        self.chars().eq(text.as_ref().iter().copied())
    }

    /// Whether two fields carry the same value, whatever their encodings.
    #[must_use]
    pub fn value_eq(&self, other: &Field<'_>) -> bool {
        // The same layout and the same wire image: the same value, without decoding.
        let same_spec = std::ptr::eq(self.spec, other.spec) || self.spec == other.spec;
        if same_spec && self.lead == other.lead && self.wire == other.wire {
            return true;
        }
        self.is_binary() == other.is_binary() && self.bytes().eq(other.bytes())
    }

    /// The text form as a `String` (allocates: for reports, not the hot path). Bytes that are
    /// not UTF-8 (GBK text, EBCDIC Latin-1) are shown as Latin-1 characters.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.data().len() * 2);
        let ascii_like = matches!(self.spec.encoding, Encoding::Ascii);
        if ascii_like {
            if let Ok(s) = std::str::from_utf8(self.data()) {
                out.push_str(s);
                return out;
            }
        }
        out.extend(self.chars().map(char::from));
        out
    }

    /// The digits of the value as a number (the sign of `x+n` is skipped: see
    /// [`Field::to_i64`]).
    pub fn to_u64(&self) -> Result<u64, ValueError> {
        let field = self.number;
        let mut chars = self.chars();
        if self.spec.content == Content::XN {
            chars.next();
        }
        let mut value: u64 = 0;
        let mut count = 0;
        for c in chars {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return Err(ValueError::NotNumeric { field });
            }
            count += 1;
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d)))
                .ok_or(ValueError::Length {
                    field,
                    expected: 19,
                    found: count,
                })?;
        }
        if count == 0 {
            return Err(ValueError::NotNumeric { field });
        }
        Ok(value)
    }

    /// An `x+n` amount with its sign: `C` (credit) positive, `D` (debit) negative.
    pub fn to_i64(&self) -> Result<i64, ValueError> {
        let field = self.number;
        let magnitude = i64::try_from(self.to_u64()?).map_err(|_| ValueError::Length {
            field,
            expected: 18,
            found: self.len(),
        })?;
        match self.chars().next() {
            Some(b'D') if self.spec.content == Content::XN => Ok(-magnitude),
            _ => Ok(magnitude),
        }
    }

    /// The data bytes where they are the characters themselves (ASCII): the fast path of
    /// readers that would otherwise take [`Field::chars`] a character at a time.
    #[inline]
    pub(crate) fn plain(&self) -> Option<&'a [u8]> {
        (self.spec.encoding == Encoding::Ascii).then(|| self.data())
    }

    /// The value as a [`Text`] (at most [`Text::CAPACITY`] characters).
    pub fn to_small_text(&self) -> Result<Text, ValueError> {
        if let Some(data) = self.plain() {
            let mut buf = [0u8; Text::CAPACITY];
            if let Some(slot) = buf.get_mut(..data.len()) {
                slot.copy_from_slice(data);
                return Ok(Text {
                    len: data.len() as u8,
                    buf,
                });
            }
        }
        Text::from_chars(self.number, self.chars())
    }

    /// The text form as the crate shows it to people (see [`Field::write_display`]).
    #[must_use]
    pub fn to_display_text(&self, reveal: bool) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_display(&mut s, reveal);
        s
    }

    /// Writes the text form as the crate shows it to people: card numbers masked, secrets
    /// hidden (see [`crate::mask`]) unless `reveal` is set.
    pub fn write_display(&self, f: &mut impl fmt::Write, reveal: bool) -> fmt::Result {
        match sensitivity(self.number()) {
            Sensitivity::Pan if !reveal => {
                let text = self.to_small_text();
                match text {
                    Ok(t) => write_masked_pan(f, t.as_bytes()),
                    Err(_) => write_hidden(f, self.len()),
                }
            }
            Sensitivity::Secret if !reveal => write_hidden(f, self.len()),
            _ => self.write_text(f),
        }
    }

    /// Writes the text form, as [`Field::to_text`] gives it, without allocating.
    pub fn write_text(&self, f: &mut impl fmt::Write) -> fmt::Result {
        if self.spec.encoding == Encoding::Ascii {
            if let Ok(s) = std::str::from_utf8(self.data()) {
                return f.write_str(s);
            }
        }
        for c in self.chars() {
            f.write_char(char::from(c))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Field({}, {}, ", self.number, self.spec.describe())?;
        self.write_display(f, false)?;
        f.write_str(")")
    }
}

/// The characters of a field's text form; see [`Field::chars`].
#[derive(Clone, Debug)]
pub struct Chars<'a> {
    inner: CharsInner<'a>,
}

#[derive(Clone, Debug)]
enum CharsInner<'a> {
    Plain(std::slice::Iter<'a, u8>),
    Table(std::slice::Iter<'a, u8>, &'static [u8; 256]),
    UpperHex(std::slice::Iter<'a, u8>),
    Hex {
        data: &'a [u8],
        pos: usize,
    },
    Bcd {
        sign: Option<u8>,
        packed: &'a [u8],
        pos: usize,
        end: usize,
        track: bool,
    },
}

impl Iterator for Chars<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        match &mut self.inner {
            CharsInner::Plain(it) => it.next().copied(),
            CharsInner::Table(it, table) => it.next().map(|&b| translate(table, b)),
            CharsInner::UpperHex(it) => it.next().map(u8::to_ascii_uppercase),
            CharsInner::Hex { data, pos } => {
                let byte = data.get(*pos / 2)?;
                let nibble = if *pos % 2 == 0 {
                    byte >> 4
                } else {
                    byte & 0x0F
                };
                *pos += 1;
                HEX_UPPER.get(usize::from(nibble)).copied()
            }
            CharsInner::Bcd {
                sign,
                packed,
                pos,
                end,
                track,
            } => {
                if let Some(s) = sign.take() {
                    return Some(s);
                }
                if *pos >= *end {
                    return None;
                }
                let byte = packed.get(*pos / 2)?;
                let nibble = if *pos % 2 == 0 {
                    byte >> 4
                } else {
                    byte & 0x0F
                };
                *pos += 1;
                Some(match nibble {
                    0x0D if *track => b'=',
                    n => HEX_UPPER.get(usize::from(n)).copied().unwrap_or(b'?'),
                })
            }
        }
    }
}

/// The bytes of a field's value; see [`Field::bytes`].
#[derive(Clone, Debug)]
pub struct ValueBytes<'a>(BytesInner<'a>);

#[derive(Clone, Debug)]
enum BytesInner<'a> {
    Raw(std::slice::Iter<'a, u8>),
    Unhex(std::slice::ChunksExact<'a, u8>),
    Chars(Chars<'a>),
}

impl Iterator for ValueBytes<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        match &mut self.0 {
            BytesInner::Raw(it) => it.next().copied(),
            BytesInner::Unhex(it) => it.next().map(|pair| match pair {
                [hi, lo] => hex_val(*hi).unwrap_or(0) << 4 | hex_val(*lo).unwrap_or(0),
                _ => 0,
            }),
            BytesInner::Chars(it) => it.next(),
        }
    }
}

/// A short text value on the stack (terminal, merchant, RRN, name/location...).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Text {
    len: u8,
    buf: [u8; Text::CAPACITY],
}

impl Text {
    /// The most characters a `Text` holds.
    pub const CAPACITY: usize = 104;

    fn from_chars(field: u8, chars: impl Iterator<Item = u8>) -> Result<Text, ValueError> {
        let mut buf = [0u8; Text::CAPACITY];
        let mut len = 0usize;
        for c in chars {
            match buf.get_mut(len) {
                Some(slot) => *slot = c,
                None => {
                    return Err(ValueError::Length {
                        field,
                        expected: Text::CAPACITY,
                        found: len + 1,
                    });
                }
            }
            len += 1;
        }
        Ok(Text {
            len: len as u8,
            buf,
        })
    }

    /// The characters.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The characters as `str`, if they are UTF-8.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()).ok()
    }

    /// The number of characters.
    #[must_use]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there is no character.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Characters `range` (e.g. the MCC digits of a merchant code), if in bounds.
    #[must_use]
    pub fn get(&self, range: std::ops::Range<usize>) -> Option<&[u8]> {
        self.as_bytes().get(range)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_chars(f, self.as_bytes())
    }
}

/// Writes characters as [`Text`] shows them: UTF-8 as it is, other bytes as Latin-1
/// characters.
pub(crate) fn write_chars(f: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    match std::str::from_utf8(bytes) {
        Ok(s) => f.write_str(s),
        Err(_) => bytes.iter().try_for_each(|&b| f.write_char(char::from(b))),
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Text({:?})", self.to_string())
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

/// A primary account number. `Display` and `Debug` mask it (first 6 and last 4 digits at
/// most); [`Pan::reveal`] gives the digits to a caller who asks for them explicitly.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pan(Text);

impl Pan {
    /// The full digits. Handle with care: this is card data.
    #[must_use]
    pub fn reveal(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The number of digits.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the PAN is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The issuer identification number (first 6 digits), which may be shown.
    #[must_use]
    pub fn bin(&self) -> Option<&[u8]> {
        self.0.get(0..6)
    }
}

impl fmt::Display for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_masked_pan(f, self.0.as_bytes())
    }
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pan(")?;
        write_masked_pan(f, self.0.as_bytes())?;
        f.write_str(")")
    }
}

/// Processing code (field 3): transaction type and account types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProcessingCode {
    /// Digits 1-2: 00 purchase, 20 refund/void, 30 balance inquiry...
    pub transaction_type: u8,
    /// Digits 3-4: account debited.
    pub from_account: u8,
    /// Digits 5-6: account credited.
    pub to_account: u8,
}

impl fmt::Display for ProcessingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}{:02}{:02}",
            self.transaction_type, self.from_account, self.to_account
        )
    }
}

/// Transmission date and time (field 7, `MMDDhhmmss`, GMT or scheme time; no year).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransmissionTime {
    /// 1-12.
    pub month: u8,
    /// 1-31.
    pub day: u8,
    /// 0-23.
    pub hour: u8,
    /// 0-59.
    pub minute: u8,
    /// 0-59.
    pub second: u8,
}

/// Local transaction time (field 12, `hhmmss`; the last six digits of the 1993 form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalTime {
    /// 0-23.
    pub hour: u8,
    /// 0-59.
    pub minute: u8,
    /// 0-59.
    pub second: u8,
}

/// Local transaction date (field 13, `MMDD`; no year).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonthDay {
    /// 1-12.
    pub month: u8,
    /// 1-31.
    pub day: u8,
}

/// Merchant category code (field 18, ISO 18245): an open code set, any four digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mcc(pub u16);

impl fmt::Display for Mcc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

/// Original data elements (field 90): what a reversal or advice points back to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OriginalData {
    /// The original message's MTI.
    pub mti: Mti,
    /// The original STAN (field 11).
    pub stan: u32,
    /// The original transmission date and time (field 7), as digits (may be zero-filled).
    pub transmission: Text,
    /// The original acquiring institution (field 32), 11 digits right-justified.
    pub acquirer: Text,
    /// The original forwarding institution (field 33), 11 digits right-justified.
    pub forwarder: Text,
}

/// The TPDU of a UnionPay POS header: id, destination and source addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tpdu {
    /// The id byte (0x60 for a TPDU).
    pub id: u8,
    /// Destination address (4 BCD digits as two bytes; swapped in the response).
    pub destination: [u8; 2],
    /// Source address.
    pub source: [u8; 2],
}

/// A parsed message. It borrows the input: each field is a slice of it plus its spec, found in
/// O(1) by number.
#[derive(Clone)]
pub struct Message<'a> {
    spec: &'a Spec,
    input: &'a [u8],
    mti: Mti,
    bitmap: [u64; 3],
    starts: Starts,
    /// How many bitmap bits are set before each byte of the bitmaps (bits 1-8, 9-16, ...):
    /// with [`POP8`], a field's place in [`Starts`] in two loads, no popcount.
    ranks: [u8; 24],
}

/// What [`Message::from_layout`] needs besides the bytes and element starts: the MTI, the
/// bitmaps and their per-byte bit counts (given, not counted again).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    mti: Mti,
    bitmap: [u64; 3],
    ranks: [u8; 24],
}

impl Layout {
    /// The layout of a message of `mti` with `bitmap`.
    pub(crate) fn new(mti: Mti, bitmap: [u64; 3]) -> Layout {
        Layout {
            mti,
            bitmap,
            ranks: ranks_of(&bitmap),
        }
    }
}

/// The number of bits set in each byte value.
// Indexing in a constant is checked when it is evaluated: out of bounds is a compile error.
#[allow(clippy::indexing_slicing)]
static POP8: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).count_ones() as u8;
        i += 1;
    }
    t
};

/// [`Message`]'s `ranks` of `bitmap`, a word at a time: each byte's bit count (SWAR), summed
/// over the bytes before it by one multiplication (a byte's count is at most 8, a prefix at most
/// 192: no carries between bytes).
#[inline]
fn ranks_of(bitmap: &[u64; 3]) -> [u8; 24] {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut ranks = [0u8; 24];
    let mut total = 0u64;
    for (chunk, &word) in ranks.chunks_exact_mut(8).zip(bitmap) {
        let mut x = word - ((word >> 1) & 0x5555_5555_5555_5555);
        x = (x & 0x3333_3333_3333_3333) + ((x >> 2) & 0x3333_3333_3333_3333);
        x = (x + (x >> 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        // Bits 1-8 are the word's top byte: the first in memory once swapped.
        let counts = x.swap_bytes();
        let sums = counts.wrapping_mul(ONES);
        let before = (sums << 8).wrapping_add(total.wrapping_mul(ONES));
        chunk.copy_from_slice(&before.to_le_bytes());
        // The last byte of the sums holds the word's whole count.
        total += sums >> 56;
    }
    ranks
}

/// The fields a message carries, in order; see [`Message::fields`].
#[derive(Clone, Debug)]
pub struct Fields<'m, 'a> {
    msg: &'m Message<'a>,
    /// The bits not yet visited, word by word.
    bits: [u64; 3],
    word: usize,
}

impl<'a> Iterator for Fields<'_, 'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        loop {
            let bits = self.bits.get_mut(self.word)?;
            if *bits == 0 {
                self.word += 1;
                continue;
            }
            let lead = bits.leading_zeros() as usize;
            *bits &= !(1u64 << 63 >> lead);
            if let Some(f) = self.msg.field(self.word * 64 + lead + 1) {
                return Some(f);
            }
        }
    }
}

fn two(d: &[u8]) -> u8 {
    match d {
        [a, b] => a.wrapping_sub(b'0') * 10 + b.wrapping_sub(b'0'),
        _ => 0,
    }
}

impl<'a> Message<'a> {
    #[inline(always)]
    pub(crate) fn from_parts(
        spec: &'a Spec,
        input: &'a [u8],
        mti: Mti,
        bitmap: [u64; 3],
        starts: Starts,
    ) -> Message<'a> {
        Message {
            spec,
            input,
            mti,
            bitmap,
            starts,
            ranks: ranks_of(&bitmap),
        }
    }

    /// The layout the parser found, to rebuild the message over the same bytes elsewhere
    /// without parsing it again ([`Message::from_layout`]): the MTI, bitmaps and their bit
    /// counts, and the starts of the elements in use appended to `starts`.
    pub(crate) fn layout(&self, starts: &mut Vec<u32>) -> Layout {
        starts.extend_from_slice(self.used_starts());
        Layout {
            mti: self.mti,
            bitmap: self.bitmap,
            ranks: self.ranks,
        }
    }

    /// The element starts in use (one more than the fields present).
    pub(crate) fn used_starts(&self) -> &[u32] {
        // The bits set before the last byte, those in it, and the end.
        let last = usize::from(self.bitmap[2] as u8);
        let in_last = POP8.get(last).copied().unwrap_or(0);
        let used = usize::from(self.ranks[23]) + usize::from(in_last) + 1;
        self.starts.get(..used).unwrap_or(&self.starts)
    }

    /// The message a [`Message::layout`] describes over `input`: the bytes it was taken from
    /// (or an identical copy), parsed with `spec`.
    pub(crate) fn from_layout(
        spec: &'a Spec,
        input: &'a [u8],
        layout: Layout,
        used: impl IntoIterator<Item = u32>,
    ) -> Message<'a> {
        let mut starts: Starts = [0; MAX_FIELD + 2];
        for (slot, v) in starts.iter_mut().zip(used) {
            *slot = v;
        }
        Message {
            spec,
            input,
            mti: layout.mti,
            bitmap: layout.bitmap,
            starts,
            ranks: layout.ranks,
        }
    }

    /// Records where element `rank` starts (see [`Starts`]); the parser writes them in place.
    #[inline(always)]
    pub(crate) fn set_start(&mut self, rank: usize, at: usize) {
        if let Some(slot) = self.starts.get_mut(rank) {
            *slot = offset(at);
        }
    }

    /// Sets bitmap word `word` (the tertiary bitmap is read after the message is begun).
    pub(crate) fn set_bitmap(&mut self, word: usize, bits: u64) {
        if let Some(slot) = self.bitmap.get_mut(word) {
            *slot = bits;
            self.ranks = ranks_of(&self.bitmap);
        }
    }

    /// How many bitmap bits are set before bit `n` (1-192): its element's place in [`Starts`].
    #[inline]
    fn rank(&self, n: usize) -> Option<usize> {
        // Those before its byte, and those above it in its byte.
        let (byte, bit) = (n.checked_sub(1)? / 8, (n - 1) % 8);
        let word = self.bitmap.get(byte / 8)?;
        let above = (u32::from((word >> (56 - 8 * (byte % 8))) as u8) >> (8 - bit)) as usize;
        Some(usize::from(*self.ranks.get(byte)?) + usize::from(*POP8.get(above)?))
    }

    /// The wire bytes from the start of field `a` to the end of field `b`, both of which the
    /// caller has seen in the bitmap (for another `a` or `b`, the bytes of a neighbouring
    /// element or `None`; never a panic).
    #[inline]
    pub(crate) fn span(&self, a: usize, b: usize) -> Option<&'a [u8]> {
        self.elements(self.rank(a)?, self.rank(b)?)
    }

    /// The wire bytes of elements `first..=last` (by their place in [`Starts`]).
    #[inline]
    fn elements(&self, first: usize, last: usize) -> Option<&'a [u8]> {
        let start = *self.starts.get(first)? as usize;
        let end = *self.starts.get(last + 1)? as usize;
        self.input.get(start..end)
    }

    /// The wire bytes of the element of bitmap bit `n` (1-192), which must be set.
    #[inline]
    fn element(&self, n: usize) -> Option<&'a [u8]> {
        let rank = self.rank(n)?;
        self.elements(rank, rank)
    }

    /// The spec the message was parsed with.
    #[must_use]
    pub fn spec(&self) -> &'a Spec {
        self.spec
    }

    /// The whole input the message was parsed from.
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.input
    }

    /// The header bytes before the MTI (empty if the spec has none).
    #[must_use]
    pub fn header(&self) -> &'a [u8] {
        self.input.get(..self.spec.header.len()).unwrap_or_default()
    }

    /// The TPDU, where the spec's header starts with one.
    #[must_use]
    pub fn tpdu(&self) -> Option<Tpdu> {
        match (self.spec.header, self.header()) {
            (Header::Tpdu(_), [id, d0, d1, s0, s1, ..]) => Some(Tpdu {
                id: *id,
                destination: [*d0, *d1],
                source: [*s0, *s1],
            }),
            _ => None,
        }
    }

    /// Field 55's EMV data objects ([`crate::emv`]). Raw binary is read in place; a spec that
    /// writes 55 as hex characters (`iso87-ascii`) has it decoded into `buf` (no allocation; a
    /// value longer than `buf` is cut, and the walk then reports the truncation).
    #[must_use]
    pub fn emv<'s>(&'s self, buf: &'s mut [u8; 512]) -> Option<crate::emv::Tlvs<'s>> {
        let f = self.field(55)?;
        let bytes: &'s [u8] = match f.spec().encoding {
            Encoding::Hex | Encoding::HexChars => {
                let mut n = 0;
                for (slot, b) in buf.iter_mut().zip(f.bytes()) {
                    *slot = b;
                    n += 1;
                }
                buf.get(..n).unwrap_or_default()
            }
            _ => f.data(),
        };
        Some(crate::emv::tlvs(bytes))
    }

    /// The CUPS header (network leg), when the spec's header is 46 bytes starting with the
    /// header length 46: destination and source station IDs, reject code.
    #[must_use]
    pub fn cups_header(&self) -> Option<crate::cups::CupsHeader<'a>> {
        match self.spec.header {
            Header::Fixed(n) if usize::from(n) == crate::cups::HEADER_LEN => {
                crate::cups::CupsHeader::new(self.header())
            }
            _ => None,
        }
    }

    /// The message type indicator.
    #[must_use]
    pub fn mti(&self) -> Mti {
        self.mti
    }

    /// The bitmaps as read: primary, secondary (0 if absent), tertiary (0 if absent).
    #[must_use]
    pub fn bitmaps(&self) -> [u64; 3] {
        self.bitmap
    }

    /// The wire bytes of bitmap `i` (0 primary, 1 secondary, 2 tertiary), if present.
    #[must_use]
    pub fn bitmap_bytes(&self, i: usize) -> Option<&'a [u8]> {
        let width = match self.spec.bitmap {
            crate::spec::BitmapFormat::Binary => 8,
            crate::spec::BitmapFormat::HexAscii | crate::spec::BitmapFormat::HexEbcdic => 16,
        };
        let primary = self.spec.header.len()
            + match self.spec.mti {
                crate::spec::MtiFormat::Bcd => 2,
                _ => 4,
            };
        match i {
            0 => self.input.get(primary..primary + width),
            1 if self.bitmap[0] >> 63 != 0 => self.element(1),
            2 if self.spec.tertiary_bitmap && self.bitmap[1] >> 63 != 0 => self.element(65),
            _ => None,
        }
    }

    /// Whether the message carries field `n` (bitmap bits themselves are not fields).
    #[inline]
    #[must_use]
    pub fn has(&self, n: usize) -> bool {
        if !(2..=MAX_FIELD).contains(&n) || self.spec.is_bitmap_bit(n) {
            return false;
        }
        let word = self.bitmap.get((n - 1) / 64).copied().unwrap_or(0);
        word & (1u64 << (63 - (n - 1) % 64)) != 0
    }

    /// Field `n`, if present.
    #[inline]
    #[must_use]
    pub fn field(&self, n: usize) -> Option<Field<'a>> {
        if !self.has(n) {
            return None;
        }
        let wire = self.element(n)?;
        let spec = self.spec.field(n)?;
        Some(Field {
            number: n as u8,
            lead: 0,
            spec,
            wire,
        })
    }

    /// The subfields of field `n` as its spec divides it ([`crate::spec::composite`]), in
    /// order; `None` if the field is absent or not composite. Reading them allocates nothing.
    #[must_use]
    pub fn subfields(&self, n: usize) -> Option<crate::subfield::Subfields<'a>> {
        let f = self.field(n)?;
        let composite = self.spec.composite(n)?;
        Some(crate::subfield::Subfields::new(
            f,
            composite,
            self.offset_of(f.wire()),
        ))
    }

    /// The subfield at `path`: `60.1` (positional), `55.9F02` (a BER tag, either case),
    /// `55.70.5A` (inside a constructed object), `48.01` (a fixed-width tag). `Ok(None)` when
    /// the field or the subfield is absent; an error for a malformed path, a field the spec
    /// gives no subfields (present or not; offset 0 when absent), or a fault in the subfields
    /// up to the one asked for.
    pub fn subfield(
        &self,
        path: &str,
    ) -> Result<Option<crate::subfield::Subfield<'a>>, crate::SubfieldError> {
        let mut keys = path.split('.');
        let n = keys
            .next()
            .and_then(|k| k.parse::<usize>().ok())
            .filter(|n| (2..=MAX_FIELD).contains(n))
            .ok_or_else(|| crate::subfield::bad_path(path, 0))?;
        let Some(composite) = self.spec.composite(n) else {
            let offset = self.field(n).map_or(0, |f| self.offset_of(f.wire()));
            return Err(crate::subfield::not_composite(n as u8, offset));
        };
        let Some(f) = self.field(n) else {
            return Ok(None);
        };
        let offset = self.offset_of(f.wire());
        let walk = crate::subfield::Subfields::new(f, composite, offset);
        crate::subfield::find(walk, path, keys)
    }

    /// The offset of `part` (a slice of the input) from the start of the input.
    fn offset_of(&self, part: &[u8]) -> usize {
        (part.as_ptr() as usize).saturating_sub(self.input.as_ptr() as usize)
    }

    /// The fields present, in field-number order.
    #[must_use]
    pub fn fields(&self) -> Fields<'_, 'a> {
        Fields {
            msg: self,
            bits: self.bitmap,
            word: 0,
        }
    }

    /// How many fields the message carries.
    #[must_use]
    pub fn field_count(&self) -> usize {
        self.fields().count()
    }

    fn numeric(&self, n: usize) -> Option<Result<u64, ValueError>> {
        self.field(n).map(|f| f.to_u64())
    }

    fn digits<const N: usize>(&self, n: usize) -> Option<Result<[u8; N], ValueError>> {
        let f = self.field(n)?;
        let field = f.number;
        let mut out = [0u8; N];
        let mut len = 0;
        for c in f.chars() {
            if !c.is_ascii_digit() {
                return Some(Err(ValueError::NotNumeric { field }));
            }
            if let Some(slot) = out.get_mut(len) {
                *slot = c;
            }
            len += 1;
        }
        if len != N {
            return Some(Err(ValueError::Length {
                field,
                expected: N,
                found: len,
            }));
        }
        Some(Ok(out))
    }

    fn text(&self, n: usize) -> Option<Result<Text, ValueError>> {
        self.field(n).map(|f| f.to_small_text())
    }

    /// Field 2, the card number (masked when shown).
    #[must_use]
    pub fn pan(&self) -> Option<Result<Pan, ValueError>> {
        self.text(2).map(|t| t.map(Pan))
    }

    /// Field 3, the processing code.
    #[must_use]
    pub fn processing_code(&self) -> Option<Result<ProcessingCode, ValueError>> {
        self.digits::<6>(3).map(|r| {
            r.map(|d| ProcessingCode {
                transaction_type: two(&d[0..2]),
                from_account: two(&d[2..4]),
                to_account: two(&d[4..6]),
            })
        })
    }

    /// Field 4, the transaction amount in minor units (fen for CNY).
    #[must_use]
    pub fn amount(&self) -> Option<Result<u64, ValueError>> {
        self.numeric(4)
    }

    /// Field 5, the settlement amount in minor units.
    #[must_use]
    pub fn settlement_amount(&self) -> Option<Result<u64, ValueError>> {
        self.numeric(5)
    }

    /// Field 6, the cardholder billing amount in minor units.
    #[must_use]
    pub fn billing_amount(&self) -> Option<Result<u64, ValueError>> {
        self.numeric(6)
    }

    /// Field 7, the transmission date and time.
    #[must_use]
    pub fn transmission_time(&self) -> Option<Result<TransmissionTime, ValueError>> {
        self.digits::<10>(7).map(|r| {
            r.and_then(|d| {
                let t = TransmissionTime {
                    month: two(&d[0..2]),
                    day: two(&d[2..4]),
                    hour: two(&d[4..6]),
                    minute: two(&d[6..8]),
                    second: two(&d[8..10]),
                };
                let ok = (1..=12).contains(&t.month)
                    && (1..=31).contains(&t.day)
                    && t.hour < 24
                    && t.minute < 60
                    && t.second < 60;
                if ok {
                    Ok(t)
                } else {
                    Err(ValueError::OutOfRange { field: 7 })
                }
            })
        })
    }

    /// Field 11, the system trace audit number.
    #[must_use]
    pub fn stan(&self) -> Option<Result<u32, ValueError>> {
        self.digits::<6>(11)
            .map(|r| r.map(|d| d.iter().fold(0u32, |v, c| v * 10 + u32::from(c - b'0'))))
    }

    /// Field 12, the local transaction time (`hhmmss`, or the time part of the 1993
    /// `YYMMDDhhmmss`).
    #[must_use]
    pub fn local_time(&self) -> Option<Result<LocalTime, ValueError>> {
        let f = self.field(12)?;
        let d = match f.len() {
            12 => self
                .digits::<12>(12)?
                .map(|d| [d[6], d[7], d[8], d[9], d[10], d[11]]),
            _ => self.digits::<6>(12)?,
        };
        Some(d.and_then(|d| {
            let t = LocalTime {
                hour: two(&d[0..2]),
                minute: two(&d[2..4]),
                second: two(&d[4..6]),
            };
            if t.hour < 24 && t.minute < 60 && t.second < 60 {
                Ok(t)
            } else {
                Err(ValueError::OutOfRange { field: 12 })
            }
        }))
    }

    /// Field 13, the local transaction date (`MMDD`).
    #[must_use]
    pub fn local_date(&self) -> Option<Result<MonthDay, ValueError>> {
        self.digits::<4>(13).map(|r| {
            r.and_then(|d| {
                let md = MonthDay {
                    month: two(&d[0..2]),
                    day: two(&d[2..4]),
                };
                if (1..=12).contains(&md.month) && (1..=31).contains(&md.day) {
                    Ok(md)
                } else {
                    Err(ValueError::OutOfRange { field: 13 })
                }
            })
        })
    }

    /// The merchant category code, from the field the spec names ([`Spec::mcc_field`]: 18,
    /// or 26 in ISO 8583:2003).
    #[must_use]
    pub fn mcc(&self) -> Option<Result<Mcc, ValueError>> {
        self.digits::<4>(usize::from(self.spec.mcc_field))
            .map(|r| r.map(|d| Mcc(d.iter().fold(0u16, |v, c| v * 10 + u16::from(c - b'0')))))
    }

    /// Field 32, the acquiring institution identification code.
    #[must_use]
    pub fn acquirer(&self) -> Option<Result<Text, ValueError>> {
        self.text(32)
    }

    /// Field 33, the forwarding institution identification code.
    #[must_use]
    pub fn forwarder(&self) -> Option<Result<Text, ValueError>> {
        self.text(33)
    }

    /// Field 37, the retrieval reference number.
    #[must_use]
    pub fn rrn(&self) -> Option<Result<Text, ValueError>> {
        self.text(37)
    }

    /// Field 38, the authorisation identification response.
    #[must_use]
    pub fn auth_code(&self) -> Option<Result<Text, ValueError>> {
        self.text(38)
    }

    /// Field 39, the response code (the action code in 1993).
    #[must_use]
    pub fn response_code(&self) -> Option<Result<Text, ValueError>> {
        self.text(39)
    }

    /// Field 41, the card acceptor terminal identification.
    #[must_use]
    pub fn terminal(&self) -> Option<Result<Text, ValueError>> {
        self.text(41)
    }

    /// Field 42, the card acceptor (merchant) identification code.
    #[must_use]
    pub fn merchant(&self) -> Option<Result<Text, ValueError>> {
        self.text(42)
    }

    /// Field 43, the card acceptor name and location (often GBK in China: see
    /// [`Text::as_bytes`]).
    #[must_use]
    pub fn name_location(&self) -> Option<Result<Text, ValueError>> {
        self.text(43)
    }

    /// Field 49, the transaction currency code (`156` for CNY).
    #[must_use]
    pub fn currency(&self) -> Option<Result<Text, ValueError>> {
        self.text(49)
    }

    /// Field 90, the original data elements: MTI 4, STAN 6, transmission time 10, acquirer
    /// 11, forwarder 11.
    #[must_use]
    pub fn original_data(&self) -> Option<Result<OriginalData, ValueError>> {
        self.digits::<42>(90).map(|r| {
            r.and_then(|d| {
                let num = |s: &[u8]| s.iter().fold(0u32, |v, c| v * 10 + u32::from(c - b'0'));
                let text = |s: &[u8]| Text::from_chars(90, s.iter().copied());
                Ok(OriginalData {
                    mti: Mti::new(num(&d[0..4]) as u16),
                    stan: num(&d[4..10]),
                    transmission: text(&d[10..20])?,
                    acquirer: text(&d[20..31])?,
                    forwarder: text(&d[31..42])?,
                })
            })
        })
    }
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("spec", &self.spec.name)
            .field("mti", &self.mti)
            .field("fields", &self.fields().collect::<Vec<_>>())
            .finish()
    }
}

/// Two messages are equal when they have the same header, MTI and fields with equal values,
/// whatever the bytes of their encodings (so a message equals itself re-encoded).
impl PartialEq for Message<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.header() == other.header()
            && self.mti == other.mti
            && self
                .fields()
                .map(|f| f.number)
                .eq(other.fields().map(|f| f.number))
            && self
                .fields()
                .zip(other.fields())
                .all(|(a, b)| a.value_eq(&b))
    }
}

impl Eq for Message<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A bit's rank read from the per-byte counts is the number of bits set before it,
        /// for every bit of every bitmap, the tertiary one set after the others too.
        #[test]
        fn a_bits_rank_is_the_bits_set_before_it(bitmap in proptest::array::uniform3(proptest::prelude::any::<u64>())) {
            let mut msg = Message::from_parts(
                &crate::spec::ISO87_ASCII,
                b"",
                Mti::new(200),
                [bitmap[0], bitmap[1], 0],
                [0; MAX_FIELD + 2],
            );
            msg.set_bitmap(2, bitmap[2]);
            for n in 1..=MAX_FIELD {
                let (word, bit) = ((n - 1) / 64, (n - 1) % 64);
                let before: u32 = bitmap.iter().take(word).map(|w| w.count_ones()).sum::<u32>()
                    + bitmap[word].checked_shr(64 - bit as u32).unwrap_or(0).count_ones();
                proptest::prop_assert_eq!(msg.rank(n), Some(before as usize), "bit {}", n);
            }
            proptest::prop_assert_eq!(msg.rank(0), None);
            let all: u32 = bitmap.iter().map(|w| w.count_ones()).sum();
            proptest::prop_assert_eq!(msg.used_starts().len(), all as usize + 1);
        }
    }
}
