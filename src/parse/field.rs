//! One field: its length prefix, its data, and the check of its content.

use super::{PResult, fail, take_exact};
use crate::codec::{
    all_ascii_digits, all_track_chars, ascii_digits_in_window, hex_val, is_track_char,
    pad_nibble_at,
};
use crate::error::{ErrorKind, Found};
use crate::spec::{Content, Encoding, FieldSpec, Length, PrefixEncoding};

/// The common case, ASCII data with an ASCII or no prefix, in straight-line code: where the
/// field that starts at `input[pos]` ends if it is valid, or `None` to let [`field_checked`]
/// decide (and name the fault, if there is one). The content is checked as there: digits in
/// `n`, track characters in `z`.
#[inline(always)]
pub(super) fn ascii_fast(fs: &FieldSpec, input: &[u8], pos: usize) -> Option<usize> {
    if fs.encoding != Encoding::Ascii {
        return None;
    }
    let (at, units) = match fs.length {
        Length::Fixed(n) => (pos, usize::from(n)),
        // `LL` and `LLL` unrolled rather than through `prefix_value`: its loop costs some 80
        // instructions a message more (callgrind, the 20-field 0200).
        Length::LlVar(max) if fs.prefix == PrefixEncoding::Ascii => {
            let &[a, b] = input.get(pos..pos + 2)?.first_chunk::<2>()?;
            let (a, b) = (a.wrapping_sub(b'0'), b.wrapping_sub(b'0'));
            let units = usize::from(a) * 10 + usize::from(b);
            if a > 9 || b > 9 || units > usize::from(max) {
                return None;
            }
            (pos + 2, units)
        }
        Length::LllVar(max) if fs.prefix == PrefixEncoding::Ascii => {
            let &[a, b, c] = input.get(pos..pos + 3)?.first_chunk::<3>()?;
            let (a, b, c) = (
                a.wrapping_sub(b'0'),
                b.wrapping_sub(b'0'),
                c.wrapping_sub(b'0'),
            );
            let units = usize::from(a) * 100 + usize::from(b) * 10 + usize::from(c);
            if a > 9 || b > 9 || c > 9 || units > usize::from(max) {
                return None;
            }
            (pos + 3, units)
        }
        _ => return None,
    };
    let end = at + units;
    let data = input.get(at..end)?;
    let valid = match fs.content {
        Content::N if units < 8 => match input.get(at..at + 8) {
            // Short fields: one word read past the field's end, the bytes beyond masked off.
            Some(window) => window
                .first_chunk::<8>()
                .is_some_and(|w| ascii_digits_in_window(*w, units)),
            None => all_ascii_digits(data),
        },
        Content::N => all_ascii_digits(data),
        Content::Z => all_track_chars(data),
        Content::XN => return None,
        _ => true,
    };
    valid.then_some(end)
}

/// One element (a field's or a positional subfield's wire image) at the start of `input`,
/// checked like a field: its wire bytes, or the offset in `input` and the kind of the fault.
pub(crate) fn element<'a>(fs: &FieldSpec, input: &'a [u8]) -> Result<&'a [u8], (usize, ErrorKind)> {
    match field_checked(fs, input) {
        Ok((_, wire)) => Ok(wire),
        Err(nom::Err::Error(f) | nom::Err::Failure(f)) => Err((input.len() - f.rest, f.kind)),
        Err(nom::Err::Incomplete(_)) => Err((
            input.len(),
            ErrorKind::Truncated {
                needed: input.len() + 1,
                available: input.len(),
            },
        )),
    }
}

/// Any field, every fault reported with the offending byte.
pub(super) fn field_checked<'a>(fs: &FieldSpec, input: &'a [u8]) -> PResult<'a, &'a [u8]> {
    let (after_prefix, units) = length_prefix(fs, input)?;
    let Some(width) = fs.data_width(units) else {
        return fail(input.len(), ErrorKind::BadLength { length: units });
    };
    let (rest, data) = take_exact(after_prefix, width)?;
    check_content(fs, data, units, after_prefix.len())?;
    let wire_len = input.len() - rest.len();
    Ok((rest, input.get(..wire_len).unwrap_or_default()))
}

/// The field's length in units: fixed by the spec, or read from the prefix and checked
/// against the maximum.
pub(super) fn length_prefix<'a>(fs: &FieldSpec, input: &'a [u8]) -> PResult<'a, usize> {
    if let Length::Fixed(n) = fs.length {
        return Ok((input, usize::from(n)));
    }
    let (rest, raw) = take_exact(input, fs.prefix_width())?;
    let Some(units) = prefix_value(fs.prefix, raw) else {
        let (i, found) = bad_prefix_char(fs.prefix, raw);
        return fail(input.len() - i, ErrorKind::BadLengthPrefix { found });
    };
    let max = fs.length.max();
    if units > max {
        return fail(input.len(), ErrorKind::LengthOverMax { length: units, max });
    }
    Ok((rest, units))
}

/// The number a prefix states, or `None` if a character is not a digit.
pub(crate) fn prefix_value(encoding: PrefixEncoding, raw: &[u8]) -> Option<usize> {
    let mut value = 0usize;
    match encoding {
        PrefixEncoding::Ascii | PrefixEncoding::Ebcdic => {
            let zero = if encoding == PrefixEncoding::Ascii {
                b'0'
            } else {
                0xF0
            };
            for &b in raw {
                let d = b.wrapping_sub(zero);
                if d > 9 {
                    return None;
                }
                value = value * 10 + usize::from(d);
            }
        }
        PrefixEncoding::Bcd => {
            for &b in raw {
                let (hi, lo) = (b >> 4, b & 0x0F);
                if hi > 9 || lo > 9 {
                    return None;
                }
                value = value * 100 + usize::from(hi) * 10 + usize::from(lo);
            }
        }
        PrefixEncoding::Binary => {
            for &b in raw {
                value = (value << 8) | usize::from(b);
            }
        }
    }
    Some(value)
}

fn bad_prefix_char(encoding: PrefixEncoding, raw: &[u8]) -> (usize, Found) {
    for (i, &b) in raw.iter().enumerate() {
        match encoding {
            PrefixEncoding::Ascii if !b.is_ascii_digit() => return (i, Found::Byte(b)),
            PrefixEncoding::Ebcdic if !(0xF0..=0xF9).contains(&b) => return (i, Found::Byte(b)),
            PrefixEncoding::Bcd if b >> 4 > 9 => return (i, Found::Nibble(b >> 4)),
            PrefixEncoding::Bcd if b & 0x0F > 9 => return (i, Found::Nibble(b & 0x0F)),
            _ => {}
        }
    }
    (0, Found::Byte(raw.first().copied().unwrap_or(0)))
}

/// Checks the data of a field; `left` is the input length at the data's first byte, so the
/// failing byte `i` sits `left - i` bytes from the end.
fn check_content(
    fs: &FieldSpec,
    data: &[u8],
    units: usize,
    left: usize,
) -> Result<(), nom::Err<super::Fail>> {
    let err = |i: usize, kind: ErrorKind| {
        Err(nom::Err::Error(super::Fail {
            kind,
            rest: left - i,
        }))
    };
    match (fs.content, fs.encoding) {
        (Content::N, Encoding::Ascii) => {
            if all_ascii_digits(data) {
                return Ok(());
            }
            if let Some(i) = data.iter().position(|b| !b.is_ascii_digit()) {
                let found = Found::Byte(data.get(i).copied().unwrap_or(0));
                return err(
                    i,
                    ErrorKind::NonDigit {
                        expected: units,
                        found,
                    },
                );
            }
        }
        (Content::N | Content::Z | Content::XN, Encoding::Ebcdic | Encoding::Ebcdic500) => {
            for (i, &b) in data.iter().enumerate() {
                let ok = match fs.content {
                    Content::XN if i == 0 => b == 0xC3 || b == 0xC4,
                    Content::Z => (0xF0..=0xF9).contains(&b) || b == 0x7E || b == 0xC4,
                    _ => (0xF0..=0xF9).contains(&b),
                };
                if !ok {
                    return err(i, kind_for(fs.content, i, units, Found::Byte(b)));
                }
            }
        }
        (Content::XN, Encoding::Ascii) => {
            for (i, &b) in data.iter().enumerate() {
                let ok = if i == 0 {
                    b == b'C' || b == b'D'
                } else {
                    b.is_ascii_digit()
                };
                if !ok {
                    return err(i, kind_for(Content::XN, i, units, Found::Byte(b)));
                }
            }
        }
        (Content::Z, Encoding::Ascii) => {
            if let Some(i) = data.iter().position(|&b| !is_track_char(b)) {
                let found = Found::Byte(data.get(i).copied().unwrap_or(0));
                return err(i, ErrorKind::BadTrackChar { found });
            }
        }
        (Content::N | Content::Z | Content::XN, Encoding::Bcd) => {
            let (digits, skip) = if fs.content == Content::XN {
                let sign = data.first().copied().unwrap_or(0);
                if sign != b'C' && sign != b'D' {
                    return err(
                        0,
                        ErrorKind::BadSign {
                            found: Found::Byte(sign),
                        },
                    );
                }
                (data.get(1..).unwrap_or_default(), 1)
            } else {
                (data, 0)
            };
            let count = if fs.content == Content::XN {
                units - 1
            } else {
                units
            };
            let pad = pad_nibble_at(count, fs.align);
            for (i, &b) in digits.iter().enumerate() {
                for (k, nibble) in [(0, b >> 4), (1, b & 0x0F)] {
                    let pos = 2 * i + k;
                    let ok = if Some(pos) == pad {
                        nibble == 0 || nibble == 0x0F
                    } else if fs.content == Content::Z {
                        nibble <= 9 || nibble == 0x0D
                    } else {
                        nibble <= 9
                    };
                    if !ok {
                        let kind = if fs.content == Content::Z {
                            ErrorKind::BadTrackChar {
                                found: Found::Nibble(nibble),
                            }
                        } else {
                            ErrorKind::NonDigit {
                                expected: count,
                                found: Found::Nibble(nibble),
                            }
                        };
                        return err(i + skip, kind);
                    }
                }
            }
        }
        (Content::B, Encoding::Hex | Encoding::HexChars) => {
            if let Some(i) = data.iter().position(|&b| hex_val(b).is_none()) {
                let found = Found::Byte(data.get(i).copied().unwrap_or(0));
                return err(i, ErrorKind::NotHex { found });
            }
        }
        _ => {}
    }
    Ok(())
}

fn kind_for(content: Content, i: usize, units: usize, found: Found) -> ErrorKind {
    match content {
        Content::XN if i == 0 => ErrorKind::BadSign { found },
        Content::XN => ErrorKind::NonDigit {
            expected: units - 1,
            found,
        },
        Content::Z => ErrorKind::BadTrackChar { found },
        _ => ErrorKind::NonDigit {
            expected: units,
            found,
        },
    }
}
