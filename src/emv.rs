//! EMV data in field 55: BER-TLV read without allocation, the names of the tags an acquirer
//! sees, and which of them hold card data.
//!
//! [`tlvs`] walks a TLV string (EMV Book 3, Annex B): tags of one or more bytes (the low five
//! bits of the first byte all set say another byte follows, and so on while bit 8 is set),
//! lengths in short form or long form (`0x81`-`0x84`... then that many length bytes), and
//! constructed tags (bit 6 of the first byte) whose value is itself TLV, read with
//! [`Tlv::children`] within a depth budget of [`MAX_DEPTH`]. Every element borrows the input.
//! A fault stops the walk with a [`TlvError`] naming the byte offset (from the start of the TLV
//! string) and what was missing; the elements before it have been yielded.
//!
//! The decoding agrees with pyemv's `tlv.decode` (a test holds them to the same values and the
//! same error offsets on generated and damaged TLV): a long-form length byte of `0x80` means a
//! length of zero, and a length may take any number of bytes that the data holds.
//!
//! ```
//! use iso8583_inspect::emv::{tag_name, tlvs};
//! let icc = [0x9F, 0x02, 0x06, 0x00, 0x00, 0x00, 0x01, 0x23, 0x45, 0x5F, 0x2A, 0x02, 0x01, 0x56];
//! let mut it = tlvs(&icc);
//! let amount = it.next().unwrap()?;
//! assert_eq!((amount.tag_hex().as_str(), amount.value), ("9F02", &icc[3..9]));
//! assert_eq!(tag_name(amount.tag), Some("Amount, Authorised (Numeric)"));
//! assert_eq!(it.next().unwrap()?.tag, [0x5F, 0x2A]);
//! assert!(it.next().is_none());
//! # Ok::<(), iso8583_inspect::emv::TlvError>(())
//! ```

use std::fmt;

/// How deep constructed tags may nest.
pub const MAX_DEPTH: u8 = 16;

/// One data object: its tag, value and place.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag's bytes (`[0x9F, 0x02]`).
    pub tag: &'a [u8],
    /// The value.
    pub value: &'a [u8],
    /// Offset of the tag from the start of the TLV string.
    pub offset: usize,
    /// Offset of the value.
    pub value_offset: usize,
    depth: u8,
}

impl<'a> Tlv<'a> {
    /// Whether the value is itself TLV (bit 6 of the tag's first byte).
    #[must_use]
    pub fn is_constructed(&self) -> bool {
        self.tag.first().is_some_and(|b| b & 0x20 != 0)
    }

    /// The tag in upper-case hex (`9F02`).
    #[must_use]
    pub fn tag_hex(&self) -> String {
        self.tag.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// The data objects inside a constructed one (nothing for a primitive one).
    #[must_use]
    pub fn children(&self) -> Tlvs<'a> {
        Tlvs {
            data: if self.is_constructed() {
                self.value
            } else {
                &[]
            },
            base: self.value_offset,
            at: 0,
            depth: self.depth.saturating_add(1),
            failed: false,
        }
    }

    /// Whether the tag holds card data: shown masked (5A, the PAN: first 6 and last 4 digits) or
    /// hidden (track data 56, 57, 9F1F; the cardholder's name 5F20).
    #[must_use]
    pub fn is_sensitive(&self) -> bool {
        is_sensitive(self.tag)
    }

    /// The value for people: upper-case hex; card data masked (5A) or hidden unless `reveal`.
    #[must_use]
    pub fn to_display_text(&self, reveal: bool) -> String {
        let hex: String = self.value.iter().map(|b| format!("{b:02X}")).collect();
        shown(self.tag, hex, self.value.len(), reveal)
    }
}

/// Whether a tag holds card data (see [`Tlv::is_sensitive`]).
pub(crate) fn is_sensitive(tag: &[u8]) -> bool {
    SENSITIVE.contains(&tag)
}

/// A value of `tag` for people, from its upper-case hex (`len` bytes): card data masked (5A:
/// the PAN's first 6 and last 4 digits, as field 2) or hidden unless `reveal`.
pub(crate) fn shown(tag: &[u8], hex: String, len: usize, reveal: bool) -> String {
    if reveal || !is_sensitive(tag) {
        return hex;
    }
    if tag == [0x5A] {
        // The PAN in BCD, padded with F: as field 2 is shown.
        let digits: String = hex.chars().filter(char::is_ascii_digit).collect();
        let n = digits.len();
        if n >= 12 {
            let head = digits.get(..6).unwrap_or("");
            let tail = digits.get(n - 4..).unwrap_or("");
            return format!("{head}{}{tail}", "*".repeat(n - 10));
        }
    }
    format!("[hidden, {len} bytes]")
}

impl fmt::Debug for Tlv<'_> {
    /// The tag and the value's length, never the value (it may be card data).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tlv")
            .field("tag", &self.tag_hex())
            .field("len", &self.value.len())
            .field("offset", &self.offset)
            .finish()
    }
}

/// What stopped a TLV walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlvErrorKind {
    /// The tag's bytes run past the end of the data (or of the enclosing object).
    #[error("the tag runs past the end of the data")]
    TagTruncated,
    /// The length (or its long form's bytes) runs past the end.
    #[error("the length needs {needed} byte(s), {available} left")]
    LengthTruncated {
        /// Length bytes needed.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// The value runs past the end.
    #[error("the value needs {needed} byte(s), {available} left")]
    ValueTruncated {
        /// The stated length (saturated).
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// Constructed objects nested deeper than [`MAX_DEPTH`].
    #[error("constructed objects nested deeper than {MAX_DEPTH}")]
    TooDeep,
}

/// A TLV fault: where (offset from the start of the TLV string) and what.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("TLV at offset {offset}: {kind}")]
pub struct TlvError {
    /// Byte offset of the fault.
    pub offset: usize,
    /// What is wrong.
    pub kind: TlvErrorKind,
}

/// The data objects of a TLV string, in order; after an error, nothing more.
#[derive(Clone, Debug)]
pub struct Tlvs<'a> {
    data: &'a [u8],
    base: usize,
    at: usize,
    depth: u8,
    failed: bool,
}

/// The data objects of `data` (field 55's bytes), top level.
#[must_use]
pub fn tlvs(data: &[u8]) -> Tlvs<'_> {
    Tlvs {
        data,
        base: 0,
        at: 0,
        depth: 0,
        failed: false,
    }
}

impl<'a> Tlvs<'a> {
    fn fail(&mut self, offset: usize, kind: TlvErrorKind) -> Option<Result<Tlv<'a>, TlvError>> {
        self.failed = true;
        Some(Err(TlvError {
            offset: self.base + offset,
            kind,
        }))
    }
}

/// Where one BER element sits: its tag and its value, as byte ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) tag: std::ops::Range<usize>,
    pub(crate) value: std::ops::Range<usize>,
}

/// The BER element at `start` of a string of `len` bytes read through `byte`, or the offset
/// and kind of the fault. Reading through a function lets the same walk run on raw bytes and
/// on bytes written as hex characters.
pub(crate) fn element(
    byte: impl Fn(usize) -> Option<u8>,
    start: usize,
    len: usize,
) -> Result<Element, (usize, TlvErrorKind)> {
    let at_most = |i: usize| if i < len { byte(i) } else { None };
    // The tag: one byte, or more while the continuation bits say so.
    let first = at_most(start).ok_or((start, TlvErrorKind::TagTruncated))?;
    let mut tag_len = 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = at_most(start + tag_len).ok_or((start, TlvErrorKind::TagTruncated))?;
            tag_len += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let mut at = start + tag_len;
    let Some(len_byte) = at_most(at) else {
        let kind = TlvErrorKind::LengthTruncated {
            needed: 1,
            available: 0,
        };
        return Err((at, kind));
    };
    at += 1;
    let value_len = if len_byte & 0x80 != 0 {
        let n = usize::from(len_byte & 0x7F);
        if at + n > len {
            let kind = TlvErrorKind::LengthTruncated {
                needed: n,
                available: len - at,
            };
            return Err((at, kind));
        }
        let mut v = 0usize;
        for i in at..at + n {
            let b = at_most(i).unwrap_or(0);
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(usize::from(b)))
                .unwrap_or(usize::MAX);
        }
        at += n;
        v
    } else {
        usize::from(len_byte)
    };
    let available = len - at;
    if value_len > available {
        let kind = TlvErrorKind::ValueTruncated {
            needed: value_len,
            available,
        };
        return Err((at, kind));
    }
    Ok(Element {
        tag: start..start + tag_len,
        value: at..at + value_len,
    })
}

impl<'a> Iterator for Tlvs<'a> {
    type Item = Result<Tlv<'a>, TlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.at >= self.data.len() {
            return None;
        }
        if self.depth > MAX_DEPTH {
            return self.fail(self.at, TlvErrorKind::TooDeep);
        }
        let data = self.data;
        match element(|i| data.get(i).copied(), self.at, data.len()) {
            Err((offset, kind)) => self.fail(offset, kind),
            Ok(e) => {
                self.at = e.value.end;
                Some(Ok(Tlv {
                    tag: data.get(e.tag.clone()).unwrap_or_default(),
                    value: data.get(e.value.clone()).unwrap_or_default(),
                    offset: self.base + e.tag.start,
                    value_offset: self.base + e.value.start,
                    depth: self.depth,
                }))
            }
        }
    }
}

/// The first data object with `tag`, at any depth (depth first, in order): its value. `None`
/// if there is none; an error if the walk fails before it is found.
pub fn find<'a>(data: &'a [u8], tag: &[u8]) -> Option<Result<&'a [u8], TlvError>> {
    find_in(tlvs(data), tag)
}

fn find_in<'a>(items: Tlvs<'a>, tag: &[u8]) -> Option<Result<&'a [u8], TlvError>> {
    for item in items {
        match item {
            Err(e) => return Some(Err(e)),
            Ok(t) if t.tag == tag => return Some(Ok(t.value)),
            Ok(t) if t.is_constructed() => {
                if let Some(found) = find_in(t.children(), tag) {
                    return Some(found);
                }
            }
            Ok(_) => {}
        }
    }
    None
}

/// The digits of a BCD value (`n` data objects: 9F02, 5F2A, 9A ...) as a number, if every
/// nibble is a digit and it fits.
#[must_use]
pub fn bcd_value(value: &[u8]) -> Option<u64> {
    value.iter().try_fold(0u64, |v, &b| {
        let (hi, lo) = (b >> 4, b & 0x0F);
        if hi > 9 || lo > 9 {
            return None;
        }
        v.checked_mul(100)?.checked_add(u64::from(hi * 10 + lo))
    })
}

/// Tags whose value is card data.
const SENSITIVE: [&[u8]; 5] = [&[0x5A], &[0x57], &[0x56], &[0x5F, 0x20], &[0x9F, 0x1F]];

/// The EMV Book 3 (and scheme) tags an acquirer sees in field 55, with their names.
static NAMES: [(&[u8], &str); 44] = [
    (&[0x4F], "Application Identifier (AID)"),
    (&[0x50], "Application Label"),
    (&[0x56], "Track 1 Data"),
    (&[0x57], "Track 2 Equivalent Data"),
    (&[0x5A], "Application PAN"),
    (&[0x5F, 0x20], "Cardholder Name"),
    (&[0x5F, 0x24], "Application Expiration Date"),
    (&[0x5F, 0x25], "Application Effective Date"),
    (&[0x5F, 0x28], "Issuer Country Code"),
    (&[0x5F, 0x2A], "Transaction Currency Code"),
    (&[0x5F, 0x34], "PAN Sequence Number"),
    (&[0x71], "Issuer Script Template 1"),
    (&[0x72], "Issuer Script Template 2"),
    (&[0x82], "Application Interchange Profile"),
    (&[0x84], "Dedicated File Name"),
    (&[0x8A], "Authorisation Response Code"),
    (&[0x91], "Issuer Authentication Data"),
    (&[0x95], "Terminal Verification Results"),
    (&[0x9A], "Transaction Date"),
    (&[0x9B], "Transaction Status Information"),
    (&[0x9C], "Transaction Type"),
    (&[0x9F, 0x02], "Amount, Authorised (Numeric)"),
    (&[0x9F, 0x03], "Amount, Other (Numeric)"),
    (&[0x9F, 0x06], "Application Identifier (Terminal)"),
    (&[0x9F, 0x07], "Application Usage Control"),
    (&[0x9F, 0x08], "Application Version Number (Card)"),
    (&[0x9F, 0x09], "Application Version Number (Terminal)"),
    (&[0x9F, 0x10], "Issuer Application Data"),
    (&[0x9F, 0x1A], "Terminal Country Code"),
    (&[0x9F, 0x1E], "Interface Device Serial Number"),
    (&[0x9F, 0x1F], "Track 1 Discretionary Data"),
    (&[0x9F, 0x21], "Transaction Time"),
    (&[0x9F, 0x26], "Application Cryptogram"),
    (&[0x9F, 0x27], "Cryptogram Information Data"),
    (&[0x9F, 0x33], "Terminal Capabilities"),
    (&[0x9F, 0x34], "Cardholder Verification Method Results"),
    (&[0x9F, 0x35], "Terminal Type"),
    (&[0x9F, 0x36], "Application Transaction Counter"),
    (&[0x9F, 0x37], "Unpredictable Number"),
    (&[0x9F, 0x41], "Transaction Sequence Counter"),
    (&[0x9F, 0x53], "Transaction Category Code"),
    (&[0x9F, 0x63], "Product Identification Information"),
    (&[0x9F, 0x6E], "Form Factor Indicator"),
    (&[0xDF, 0x31], "Issuer Script Results"),
];

/// The name of a tag, if it is one an acquirer commonly sees.
#[must_use]
pub fn tag_name(tag: &[u8]) -> Option<&'static str> {
    NAMES.iter().find(|(t, _)| *t == tag).map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8]) -> Vec<Result<(String, Vec<u8>), TlvError>> {
        tlvs(data)
            .map(|r| r.map(|t| (t.tag_hex(), t.value.to_vec())))
            .collect()
    }

    #[test]
    fn multi_byte_tags_long_lengths_and_nesting() {
        let mut data = vec![0x9F, 0x02, 0x06, 0, 0, 0, 0, 0x10, 0];
        data.extend([0xDF, 0x81, 0x01, 0x81, 0x02, 0xAA, 0xBB]);
        data.extend([0x70, 0x05, 0x5F, 0x2A, 0x02, 0x01, 0x56]);
        let got = all(&data);
        assert_eq!(got.len(), 3);
        assert_eq!(got[1], Ok(("DF8101".into(), vec![0xAA, 0xBB])));
        let outer = tlvs(&data).nth(2).unwrap().unwrap();
        assert!(outer.is_constructed());
        let inner: Vec<_> = outer.children().map(Result::unwrap).collect();
        assert_eq!(inner[0].tag, [0x5F, 0x2A]);
        assert_eq!(
            inner[0].offset, 18,
            "offsets count from the start of the string"
        );
        assert_eq!(find(&data, &[0x5F, 0x2A]), Some(Ok(&[0x01, 0x56][..])));
        assert_eq!(bcd_value(&[0, 0, 0, 0, 0x10, 0]), Some(1000));
        assert_eq!(bcd_value(&[0x1A]), None);
    }

    #[test]
    fn faults_name_their_offset_and_stop_the_walk() {
        // A value longer than the data.
        let got = all(&[0x9C, 0x01, 0x00, 0x9F, 0x02, 0x06, 0x00]);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1],
            Err(TlvError {
                offset: 6,
                kind: TlvErrorKind::ValueTruncated {
                    needed: 6,
                    available: 1
                }
            })
        );
        // A tag cut short, a missing length, long-form length bytes missing.
        assert_eq!(
            all(&[0x9F])[0].clone().unwrap_err().kind,
            TlvErrorKind::TagTruncated
        );
        assert_eq!(all(&[0x9F, 0x02])[0].clone().unwrap_err().offset, 2);
        assert_eq!(all(&[0x9C, 0x82, 0x01])[0].clone().unwrap_err().offset, 2);
        // 0x80: a long form of no bytes, length zero (as pyemv reads it).
        assert_eq!(all(&[0x9C, 0x80]), [Ok(("9C".into(), vec![]))]);
        // Nesting beyond the budget.
        let mut deep = Vec::new();
        for _ in 0..=MAX_DEPTH + 1 {
            deep = [vec![0x70, deep.len() as u8], deep].concat();
        }
        let mut t = tlvs(&deep).next().unwrap().unwrap();
        let mut err = None;
        for _ in 0..=MAX_DEPTH + 1 {
            match t.children().next() {
                Some(Ok(c)) => t = c,
                Some(Err(e)) => {
                    err = Some(e);
                    break;
                }
                None => break,
            }
        }
        assert_eq!(err.map(|e| e.kind), Some(TlvErrorKind::TooDeep));
    }

    #[test]
    fn card_data_is_masked() {
        let data = [0x5A, 0x08, 0x62, 0x22, 0x02, 0x12, 0x34, 0x56, 0x78, 0x90];
        let t = tlvs(&data).next().unwrap().unwrap();
        assert_eq!(t.to_display_text(false), "622202******7890");
        assert_eq!(t.to_display_text(true), "6222021234567890");
        let track = [0x57, 0x03, 0x62, 0x22, 0xD2];
        let t = tlvs(&track).next().unwrap().unwrap();
        assert_eq!(t.to_display_text(false), "[hidden, 3 bytes]");
        assert!(!format!("{t:?}").contains("6222"));
    }
}
