//! Which fields hold card data, and how they are shown.
//!
//! Everything this crate prints, serialises or shows through `Debug` goes through here: the PAN
//! (fields 2 and 34) keeps at most its first 6 and last 4 digits, and track data (35, 36, 45),
//! the PIN block (52) and ICC data (55, which can carry track-equivalent data and cryptograms)
//! are hidden altogether unless the caller asks to reveal them.

use std::fmt;

/// How sensitive a field's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sensitivity {
    /// Shown as is.
    Plain,
    /// A card number: shown masked, at most the first 6 and last 4 digits.
    Pan,
    /// Track data, PIN block, ICC data: never shown, only its length.
    Secret,
}

/// The sensitivity of field `n` (the same in every ISO 8583 dialect).
#[must_use]
pub const fn sensitivity(n: usize) -> Sensitivity {
    match n {
        2 | 34 => Sensitivity::Pan,
        35 | 36 | 45 | 52 | 55 => Sensitivity::Secret,
        _ => Sensitivity::Plain,
    }
}

/// How many leading and trailing characters of a card number of `len` characters may be
/// shown: 6 and 4 from 13 characters up, fewer for shorter values so that most stays hidden.
#[must_use]
pub const fn pan_visible(len: usize) -> (usize, usize) {
    if len >= 13 {
        (6, 4)
    } else if len >= 8 {
        (0, 4)
    } else {
        (0, 0)
    }
}

/// Writes `value` masked as a card number: `622848******1234`.
pub fn write_masked_pan(f: &mut impl fmt::Write, value: &[u8]) -> fmt::Result {
    let (head, tail) = pan_visible(value.len());
    for (i, &c) in value.iter().enumerate() {
        let shown = i < head || i >= value.len() - tail;
        f.write_char(if shown { char::from(c) } else { '*' })?;
    }
    Ok(())
}

/// Masks a card number's digits in place, as [`write_masked_pan`] writes them: the digits that
/// may not be shown become `*`.
pub fn mask_pan_in_place(value: &mut [u8]) {
    let (head, tail) = pan_visible(value.len());
    let hidden = head..value.len() - tail;
    for c in value.get_mut(hidden).unwrap_or_default() {
        *c = b'*';
    }
}

/// The placeholder written for a secret field.
pub fn write_hidden(f: &mut impl fmt::Write, len: usize) -> fmt::Result {
    write!(f, "[hidden, {len} units]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(s: &str) -> String {
        let mut out = String::new();
        write_masked_pan(&mut out, s.as_bytes()).unwrap();
        out
    }

    #[test]
    fn masks_card_numbers() {
        for pan in [
            "6228480402564890018",
            "4761739001010010",
            "1234567890",
            "12345",
            "",
        ] {
            let mut in_place = pan.as_bytes().to_vec();
            mask_pan_in_place(&mut in_place);
            assert_eq!(String::from_utf8(in_place).unwrap(), masked(pan), "{pan}");
        }
        assert_eq!(masked("6228480402564890018"), "622848*********0018");
        assert_eq!(masked("4761739001010010"), "476173******0010");
        assert_eq!(masked("1234567890"), "******7890");
        assert_eq!(masked("12345"), "*****");
    }

    #[test]
    fn classifies_fields() {
        assert_eq!(sensitivity(2), Sensitivity::Pan);
        assert_eq!(sensitivity(35), Sensitivity::Secret);
        assert_eq!(sensitivity(52), Sensitivity::Secret);
        assert_eq!(sensitivity(4), Sensitivity::Plain);
    }
}
