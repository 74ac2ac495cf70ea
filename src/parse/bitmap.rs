//! Primary, secondary and tertiary bitmaps: 8 raw bytes or 16 hex characters, either case.

use super::{PResult, fail, take_exact};
use crate::codec::hex_val;
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
            let mut word = 0u64;
            for (i, &c) in raw.iter().enumerate() {
                let Some(v) = hex_val(c) else {
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
    }
}
