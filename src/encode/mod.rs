//! The encoder, the exact inverse of [`crate::parse()`]: [`MessageBuilder`] sets fields by
//! number, checks each value against the spec when it is set (nothing is stored on failure),
//! computes the bitmaps and writes to a `Vec<u8>` or a `bytes::BytesMut`.
//!
//! ```
//! use iso8583_inspect::{MessageBuilder, Mti, parse, spec::ISO87_ASCII};
//! let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::NETWORK_REQUEST);
//! b.set_text(11, "123456")?.set_text(70, "301")?;
//! let bytes = b.to_vec()?;
//! assert_eq!(bytes, b"080080200000000000000400000000000000123456301");
//! let msg = parse(&ISO87_ASCII, &bytes)?;
//! assert_eq!(msg.stan(), Some(Ok(123456)));
//! assert_eq!(MessageBuilder::from_message(&msg).to_vec()?, bytes);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::codec::{
    LATIN1_TO_CP037, LATIN1_TO_CP500, hex_digit, hex_val, pad_nibble_at, translate,
};
use crate::error::{EncodeError, Found};
use crate::message::{Message, Mti};
use crate::spec::{
    BitmapFormat, Content, Encoding, FieldSpec, Length, MAX_FIELD, MtiFormat, PrefixEncoding, Spec,
};
use bytes::BufMut;
use std::fmt;

mod subfield;

/// A field's encoded data (prefix excluded) and its length in spec units.
#[derive(Clone, PartialEq, Eq)]
struct Slot {
    units: usize,
    data: Vec<u8>,
}

/// Builds a message field by field, then writes it.
#[derive(Clone)]
pub struct MessageBuilder<'s> {
    spec: &'s Spec,
    header: Vec<u8>,
    mti: Mti,
    fields: Vec<Option<Slot>>,
    force_secondary: bool,
    force_tertiary: bool,
    /// The bitmaps of the parsed message this builder copies, and their wire bytes, so that
    /// an unchanged message is written back byte for byte (hex bitmaps in any case).
    original_bitmaps: Option<([u64; 3], [Vec<u8>; 3])>,
}

impl fmt::Debug for MessageBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present: Vec<usize> = (0..self.fields.len()).filter(|&n| self.has(n)).collect();
        f.debug_struct("MessageBuilder")
            .field("spec", &self.spec.name)
            .field("mti", &self.mti)
            .field("fields", &present)
            .finish_non_exhaustive()
    }
}

impl<'s> MessageBuilder<'s> {
    /// An empty message of type `mti`. A spec with a header starts with a zero-filled one.
    #[must_use]
    pub fn new(spec: &'s Spec, mti: Mti) -> MessageBuilder<'s> {
        MessageBuilder {
            spec,
            header: vec![0; spec.header.len()],
            mti,
            fields: vec![None; MAX_FIELD + 1],
            force_secondary: false,
            force_tertiary: false,
            original_bitmaps: None,
        }
    }

    /// A builder holding exactly what `msg` holds (header, MTI, the wire bytes of every field,
    /// a secondary bitmap even when empty, the case of hex bitmaps), so that it writes the
    /// message back byte for byte.
    #[must_use]
    pub fn from_message(msg: &Message<'s>) -> MessageBuilder<'s> {
        let spec: &'s Spec = msg.spec();
        let mut b = MessageBuilder {
            spec,
            header: msg.header().to_vec(),
            mti: msg.mti(),
            fields: vec![None; MAX_FIELD + 1],
            force_secondary: msg.bitmaps()[0] & (1 << 63) != 0,
            force_tertiary: spec.tertiary_bitmap && msg.bitmaps()[1] & (1 << 63) != 0,
            original_bitmaps: None,
        };
        let raw = |i: usize| msg.bitmap_bytes(i).map(<[u8]>::to_vec).unwrap_or_default();
        b.original_bitmaps = Some((msg.bitmaps(), [raw(0), raw(1), raw(2)]));
        for f in msg.fields() {
            if let Some(slot) = b.fields.get_mut(f.number()) {
                *slot = Some(Slot {
                    units: f.len(),
                    data: f.data().to_vec(),
                });
            }
        }
        b
    }

    /// The spec the builder writes.
    #[must_use]
    pub fn spec(&self) -> &'s Spec {
        self.spec
    }

    /// The MTI.
    #[must_use]
    pub fn mti(&self) -> Mti {
        self.mti
    }

    /// Sets the MTI.
    pub fn set_mti(&mut self, mti: Mti) -> &mut Self {
        self.mti = mti;
        self
    }

    /// Sets the header bytes (their length must be the spec's).
    pub fn set_header(&mut self, header: &[u8]) -> Result<&mut Self, EncodeError> {
        let expected = self.spec.header.len();
        if header.len() != expected {
            return Err(EncodeError::BadHeader {
                expected,
                got: header.len(),
            });
        }
        self.header = header.to_vec();
        Ok(self)
    }

    /// Writes a secondary bitmap even when no field above 64 is set.
    pub fn force_secondary_bitmap(&mut self, on: bool) -> &mut Self {
        self.force_secondary = on;
        self
    }

    /// Sets field `n` from text: digits for `n`, `C`/`D` and digits for `x+n`, digits and `=`
    /// (or `D`) for `z`, hex for `b`, any text for the rest (as UTF-8 bytes, or Latin-1 in an
    /// EBCDIC field).
    pub fn set_text(&mut self, n: usize, text: &str) -> Result<&mut Self, EncodeError> {
        let fs = self.field_spec(n)?;
        let slot = if fs.content == Content::B {
            let bytes = unhex(n, text.as_bytes())?;
            encode_binary(n, fs, &bytes)?
        } else if matches!(fs.encoding, Encoding::Ebcdic | Encoding::Ebcdic500) {
            let mut latin1 = Vec::with_capacity(text.len());
            for (position, c) in text.chars().enumerate() {
                let b = u8::try_from(u32::from(c))
                    .map_err(|_| EncodeError::NotEncodable { field: n, position })?;
                latin1.push(b);
            }
            encode_chars(n, fs, &latin1)?
        } else {
            encode_chars(n, fs, text.as_bytes())?
        };
        self.store(n, slot);
        Ok(self)
    }

    /// Sets field `n` from bytes: the raw value of a `b` field, or the characters of any other
    /// (e.g. GBK text, which `set_text` cannot carry).
    pub fn set_bytes(&mut self, n: usize, value: &[u8]) -> Result<&mut Self, EncodeError> {
        let fs = self.field_spec(n)?;
        let slot = if fs.content == Content::B {
            encode_binary(n, fs, value)?
        } else {
            encode_chars(n, fs, value)?
        };
        self.store(n, slot);
        Ok(self)
    }

    /// Removes field `n`.
    pub fn remove(&mut self, n: usize) -> &mut Self {
        if let Some(slot) = self.fields.get_mut(n) {
            *slot = None;
        }
        self
    }

    /// Whether field `n` is set.
    #[must_use]
    pub fn has(&self, n: usize) -> bool {
        matches!(self.fields.get(n), Some(Some(_)))
    }

    fn field_spec(&self, n: usize) -> Result<&'s FieldSpec, EncodeError> {
        if self.spec.is_bitmap_bit(n) {
            return Err(EncodeError::UndefinedField(n));
        }
        self.spec.field(n).ok_or(EncodeError::UndefinedField(n))
    }

    fn store(&mut self, n: usize, slot: Slot) {
        if let Some(s) = self.fields.get_mut(n) {
            *s = Some(slot);
        }
    }

    /// The bitmaps the message will carry.
    #[must_use]
    pub fn bitmaps(&self) -> [u64; 3] {
        let mut words = [0u64; 3];
        for n in 2..=MAX_FIELD {
            if self.has(n) {
                if let Some(w) = words.get_mut((n - 1) / 64) {
                    *w |= 1 << (63 - (n - 1) % 64);
                }
            }
        }
        let tertiary = self.spec.tertiary_bitmap && (words[2] != 0 || self.force_tertiary);
        if tertiary {
            words[1] |= 1 << 63;
        }
        if words[1] != 0 || self.force_secondary {
            words[0] |= 1 << 63;
        }
        words
    }

    /// The encoded length in bytes.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let words = self.bitmaps();
        let bitmap_width = match self.spec.bitmap {
            BitmapFormat::Binary => 8,
            BitmapFormat::HexAscii | BitmapFormat::HexEbcdic => 16,
        };
        let bitmaps = 1
            + usize::from(words[0] >> 63 != 0)
            + usize::from(words[1] >> 63 != 0 && self.spec.tertiary_bitmap);
        let fields: usize = self
            .present()
            .map(|(fs, slot)| fs.prefix_width() + slot.data.len())
            .sum();
        self.spec.header.len() + mti_width(self.spec.mti) + bitmaps * bitmap_width + fields
    }

    fn present(&self) -> impl Iterator<Item = (&'s FieldSpec, &Slot)> + '_ {
        self.fields.iter().enumerate().filter_map(|(n, slot)| {
            let slot = slot.as_ref()?;
            Some((self.spec.field(n)?, slot))
        })
    }

    /// Writes the message to `out` (a `Vec<u8>`, a `BytesMut`, any `BufMut`). On error nothing
    /// is written.
    pub fn encode_into<B: BufMut>(&self, out: &mut B) -> Result<(), EncodeError> {
        let expected = self.spec.header.len();
        if self.header.len() != expected {
            return Err(EncodeError::BadHeader {
                expected,
                got: self.header.len(),
            });
        }
        if self.mti.value() > 9999 {
            return Err(EncodeError::BadMti);
        }
        let words = self.bitmaps();
        out.put_slice(&self.header);
        put_mti(out, self.spec.mti, self.mti);
        self.put_bitmap(out, &words, 0);
        if words[0] >> 63 != 0 {
            self.put_bitmap(out, &words, 1);
        }
        for n in 2..=MAX_FIELD {
            if n == 65 && self.spec.tertiary_bitmap {
                if words[1] >> 63 != 0 {
                    self.put_bitmap(out, &words, 2);
                }
                continue;
            }
            let (Some(Some(slot)), Some(fs)) = (self.fields.get(n), self.spec.field(n)) else {
                continue;
            };
            put_prefix(out, fs, slot.units);
            out.put_slice(&slot.data);
        }
        Ok(())
    }

    /// Writes the message to a new `Vec<u8>`.
    pub fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Writes the message to a new `BytesMut`.
    pub fn to_bytes(&self) -> Result<bytes::BytesMut, EncodeError> {
        let mut out = bytes::BytesMut::with_capacity(self.encoded_len());
        self.encode_into(&mut out)?;
        Ok(out)
    }

    fn put_bitmap<B: BufMut>(&self, out: &mut B, words: &[u64; 3], i: usize) {
        if let Some((original, raw)) = &self.original_bitmaps {
            if let (true, Some(bytes)) = (original == words, raw.get(i)) {
                out.put_slice(bytes);
                return;
            }
        }
        let word = words.get(i).copied().unwrap_or(0);
        match self.spec.bitmap {
            BitmapFormat::Binary => out.put_u64(word),
            BitmapFormat::HexAscii => {
                for shift in (0..16).rev() {
                    out.put_u8(hex_digit((word >> (shift * 4)) as u8));
                }
            }
            BitmapFormat::HexEbcdic => {
                for shift in (0..16).rev() {
                    let c = hex_digit((word >> (shift * 4)) as u8);
                    out.put_u8(crate::codec::translate(&crate::codec::LATIN1_TO_CP037, c));
                }
            }
        }
    }
}

const fn mti_width(format: MtiFormat) -> usize {
    match format {
        MtiFormat::Ascii | MtiFormat::Ebcdic => 4,
        MtiFormat::Bcd => 2,
    }
}

fn put_mti<B: BufMut>(out: &mut B, format: MtiFormat, mti: Mti) {
    let digits = mti.to_digits();
    match format {
        MtiFormat::Ascii => out.put_slice(&digits),
        MtiFormat::Ebcdic => digits.iter().for_each(|d| out.put_u8(d - b'0' + 0xF0)),
        MtiFormat::Bcd => {
            out.put_u8((digits[0] - b'0') << 4 | (digits[1] - b'0'));
            out.put_u8((digits[2] - b'0') << 4 | (digits[3] - b'0'));
        }
    }
}

fn put_prefix<B: BufMut>(out: &mut B, fs: &FieldSpec, units: usize) {
    let digits = fs.length.prefix_digits();
    if digits == 0 {
        return;
    }
    match fs.prefix {
        PrefixEncoding::Ascii | PrefixEncoding::Ebcdic => {
            let zero = if fs.prefix == PrefixEncoding::Ascii {
                b'0'
            } else {
                0xF0
            };
            for i in (0..digits).rev() {
                out.put_u8(zero + (units / 10usize.pow(i as u32) % 10) as u8);
            }
        }
        PrefixEncoding::Bcd => {
            for i in (0..fs.prefix_width()).rev() {
                let pair = units / 100usize.pow(i as u32) % 100;
                out.put_u8((((pair / 10) << 4) | (pair % 10)) as u8);
            }
        }
        PrefixEncoding::Binary => {
            if fs.prefix_width() == 1 {
                out.put_u8(units as u8);
            } else {
                out.put_u16(units as u16);
            }
        }
    }
}

fn check_length(n: usize, fs: &FieldSpec, units: usize) -> Result<(), EncodeError> {
    match fs.length {
        Length::Fixed(len) if units != usize::from(len) => Err(EncodeError::WrongLength {
            field: n,
            expected: usize::from(len),
            got: units,
        }),
        Length::LlVar(max) | Length::LllVar(max) | Length::LlllVar(max)
            if units > usize::from(max) =>
        {
            Err(EncodeError::TooLong {
                field: n,
                max: usize::from(max),
                got: units,
            })
        }
        _ if fs.data_width(units).is_none() => Err(EncodeError::BadLength {
            field: n,
            got: units,
        }),
        _ => Ok(()),
    }
}

fn unhex(n: usize, text: &[u8]) -> Result<Vec<u8>, EncodeError> {
    if text.len() % 2 != 0 {
        return Err(EncodeError::BadLength {
            field: n,
            got: text.len(),
        });
    }
    text.chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| {
            let bad = |k: usize| EncodeError::BadChar {
                field: n,
                position: 2 * i + k,
                found: Found::Byte(pair.get(k).copied().unwrap_or(0)),
                content: "b (hex)",
            };
            let hi = pair
                .first()
                .and_then(|&c| hex_val(c))
                .ok_or_else(|| bad(0))?;
            let lo = pair
                .get(1)
                .and_then(|&c| hex_val(c))
                .ok_or_else(|| bad(1))?;
            Ok(hi << 4 | lo)
        })
        .collect()
}

fn encode_binary(n: usize, fs: &FieldSpec, value: &[u8]) -> Result<Slot, EncodeError> {
    let units = match fs.encoding {
        Encoding::HexChars => value.len() * 2,
        _ => value.len(),
    };
    check_length(n, fs, units)?;
    let data = match fs.encoding {
        Encoding::Hex | Encoding::HexChars => value
            .iter()
            .flat_map(|b| [hex_digit(b >> 4), hex_digit(*b)])
            .collect(),
        _ => value.to_vec(),
    };
    Ok(Slot { units, data })
}

fn encode_chars(n: usize, fs: &FieldSpec, chars: &[u8]) -> Result<Slot, EncodeError> {
    let units = chars.len();
    check_length(n, fs, units)?;
    for (position, &c) in chars.iter().enumerate() {
        let ok = match fs.content {
            Content::N => c.is_ascii_digit(),
            Content::Z => c.is_ascii_digit() || c == b'=' || c == b'D',
            Content::XN if position == 0 => c == b'C' || c == b'D',
            Content::XN => c.is_ascii_digit(),
            _ => true,
        };
        if !ok {
            let found = Found::Byte(c);
            return Err(EncodeError::BadChar {
                field: n,
                position,
                found,
                content: fs.content.as_str(),
            });
        }
    }
    let data = match fs.encoding {
        Encoding::Ebcdic => chars
            .iter()
            .map(|&c| translate(&LATIN1_TO_CP037, c))
            .collect(),
        Encoding::Ebcdic500 => chars
            .iter()
            .map(|&c| translate(&LATIN1_TO_CP500, c))
            .collect(),
        Encoding::Bcd => {
            let (sign, digits) = match (fs.content, chars.split_first()) {
                (Content::XN, Some((&s, rest))) => (Some(s), rest),
                _ => (None, chars),
            };
            let mut data = Vec::with_capacity(1 + digits.len() / 2 + 1);
            data.extend(sign);
            pack_bcd(&mut data, digits, fs.align);
            data
        }
        _ => chars.to_vec(),
    };
    Ok(Slot { units, data })
}

/// Packs digits (and track separators) two to a byte, padding an odd count with a 0 nibble on
/// the side the alignment leaves free.
fn pack_bcd(out: &mut Vec<u8>, digits: &[u8], align: crate::spec::Align) {
    let nibble = |c: u8| match c {
        b'=' | b'D' => 0x0D,
        c => c.wrapping_sub(b'0') & 0x0F,
    };
    let pad = pad_nibble_at(digits.len(), align);
    let total = digits.len() + usize::from(pad.is_some());
    let mut chars = digits.iter();
    let mut byte = 0u8;
    for pos in 0..total {
        let v = if Some(pos) == pad {
            0
        } else {
            chars.next().map_or(0, |&c| nibble(c))
        };
        if pos % 2 == 0 {
            byte = v << 4;
        } else {
            out.push(byte | v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;
    use crate::spec::{CUP_POS, ISO87_ASCII, ISO87_BCD};

    #[test]
    fn packs_odd_bcd_on_the_aligned_side() {
        let mut out = Vec::new();
        pack_bcd(&mut out, b"021", crate::spec::Align::Left);
        assert_eq!(out, [0x02, 0x10]);
        out.clear();
        pack_bcd(&mut out, b"021", crate::spec::Align::Right);
        assert_eq!(out, [0x00, 0x21]);
    }

    #[test]
    fn rejects_bad_values_and_keeps_the_old_one() {
        let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_REQUEST);
        b.set_text(4, "000000001000").unwrap();
        let e = b.set_text(4, "00000000100A").unwrap_err();
        assert_eq!(
            e.to_string(),
            "field 4: character 11 is 'A', which `n` content does not allow"
        );
        assert_eq!(
            b.set_text(4, "1").unwrap_err(),
            EncodeError::WrongLength {
                field: 4,
                expected: 12,
                got: 1
            }
        );
        assert_eq!(
            b.set_text(2, &"1".repeat(20)).unwrap_err(),
            EncodeError::TooLong {
                field: 2,
                max: 19,
                got: 20
            }
        );
        assert_eq!(
            b.set_text(1, "x").unwrap_err(),
            EncodeError::UndefinedField(1)
        );
        let bytes = b.to_vec().unwrap();
        assert_eq!(
            parse(&ISO87_ASCII, &bytes).unwrap().amount(),
            Some(Ok(1000))
        );
    }

    #[test]
    fn writes_bcd_prefixes_and_amount_signs() {
        let mut b = MessageBuilder::new(&ISO87_BCD, Mti::FINANCIAL_REQUEST);
        b.set_text(2, "6228480402564890018").unwrap();
        b.set_text(28, "D00000150").unwrap();
        b.set_text(36, "123=456").unwrap();
        let bytes = b.to_vec().unwrap();
        let msg = parse(&ISO87_BCD, &bytes).unwrap();
        let f2 = msg.field(2).unwrap();
        assert_eq!(f2.prefix(), [0x19]);
        assert_eq!(
            f2.data(),
            [0x62, 0x28, 0x48, 0x04, 0x02, 0x56, 0x48, 0x90, 0x01, 0x80]
        );
        let f28 = msg.field(28).unwrap();
        assert_eq!(f28.data(), [b'D', 0x00, 0x00, 0x01, 0x50]);
        assert_eq!(f28.to_i64(), Ok(-150));
        assert_eq!(msg.field(36).unwrap().prefix(), [0x00, 0x07]);
    }

    #[test]
    fn cup_header_round_trips() {
        let mut b = MessageBuilder::new(&CUP_POS, Mti::FINANCIAL_REQUEST);
        assert!(b.set_header(&[0x60, 0, 3]).is_err());
        b.set_header(&[
            0x60, 0x00, 0x03, 0x00, 0x00, 0x60, 0x31, 0x00, 0x31, 0x10, 0x03,
        ])
        .unwrap();
        b.set_text(3, "000000")
            .unwrap()
            .set_text(11, "000123")
            .unwrap();
        let bytes = b.to_bytes().unwrap();
        let msg = parse(&CUP_POS, &bytes).unwrap();
        assert_eq!(msg.tpdu().unwrap().destination, [0x00, 0x03]);
        assert_eq!(msg.stan(), Some(Ok(123)));
        assert_eq!(
            MessageBuilder::from_message(&msg).to_bytes().unwrap(),
            bytes
        );
    }
}
