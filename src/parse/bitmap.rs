//! Primary, secondary and tertiary bitmaps: 8 raw bytes, or 16 hex characters (either case) in
//! ASCII or EBCDIC.

use super::{PResult, fail, take_exact};
use crate::codec::{CP037_TO_LATIN1, hex_val, hex8, translate};
use crate::error::{ErrorKind, Found};
use crate::spec::BitmapFormat;

/// The bit of field 1 (65, 129) in a bitmap word: the most significant one.
pub(super) const TOP: u64 = 1 << 63;

/// One 64-bit bitmap; field `k` of the word is bit `64 - k`.
pub(super) fn bitmap(format: BitmapFormat, input: &[u8]) -> PResult<'_, u64> {
    match format {
        BitmapFormat::Binary => {
            let (rest, raw) = take_exact(input, 8)?;
            let mut word = [0u8; 8];
            word.copy_from_slice(raw);
            Ok((rest, u64::from_be_bytes(word)))
        }
        BitmapFormat::HexAscii => {
            let (rest, raw) = take_exact(input, 16)?;
            if let [
                a0,
                a1,
                a2,
                a3,
                a4,
                a5,
                a6,
                a7,
                b0,
                b1,
                b2,
                b3,
                b4,
                b5,
                b6,
                b7,
            ] = *raw
            {
                let high = hex8([a0, a1, a2, a3, a4, a5, a6, a7]);
                let low = hex8([b0, b1, b2, b3, b4, b5, b6, b7]);
                if let (Some(h), Some(l)) = (high, low) {
                    return Ok((rest, (u64::from(h) << 32) | u64::from(l)));
                }
            }
            // A character that is not hex: find it, for the error.
            hex_word(input, rest, raw, |c| c)
        }
        BitmapFormat::HexEbcdic => {
            let (rest, raw) = take_exact(input, 16)?;
            hex_word(input, rest, raw, |c| translate(&CP037_TO_LATIN1, c))
        }
    }
}

/// Bits 1-12 of the bitmap at the start of `input`, in a word's high bits as [`bitmap`] gives
/// them (the rest zero), and the bitmap's width in bytes: what is needed to walk to field 11.
/// Equal to [`bitmap`]'s high bits where that reads one; the characters after the third are not
/// looked at.
pub(super) fn high_bits(format: BitmapFormat, input: &[u8]) -> Option<(u64, usize)> {
    match format {
        BitmapFormat::Binary => {
            let &[a, b] = input.get(..8)?.first_chunk::<2>()?;
            Some(((u64::from(a) << 56) | (u64::from(b) << 48), 8))
        }
        BitmapFormat::HexAscii | BitmapFormat::HexEbcdic => {
            let &[a, b, c] = input.get(..16)?.first_chunk::<3>()?;
            let mut word = 0u64;
            for ch in [a, b, c] {
                let ch = match format {
                    BitmapFormat::HexEbcdic => translate(&CP037_TO_LATIN1, ch),
                    _ => ch,
                };
                word = (word << 4) | u64::from(hex_val(ch)?);
            }
            Some((word << 52, 16))
        }
    }
}

/// The word that the hex characters `raw` (taken from `input`, `rest` following) spell once
/// `to_ascii` maps them to ASCII; the first that is not hex is an error at its offset.
fn hex_word<'a>(
    input: &'a [u8],
    rest: &'a [u8],
    raw: &[u8],
    to_ascii: impl Fn(u8) -> u8,
) -> PResult<'a, u64> {
    let mut word = 0u64;
    for (i, &c) in raw.iter().enumerate() {
        let Some(v) = hex_val(to_ascii(c)) else {
            return fail(
                input.len() - i,
                ErrorKind::NotHex {
                    found: Found::Byte(c),
                },
            );
        };
        word = (word << 4) | u64::from(v);
    }
    Ok((rest, word))
}
