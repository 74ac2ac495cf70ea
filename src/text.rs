//! Text as the network leg carries it: GBK-encoded names (field 43) decoded, and names
//! compared the way a person would, setting aside spaces, case, punctuation and branch
//! suffixes.
//!
//! ```
//! use iso8583_inspect::text::{decode_gbk, names_match};
//! // "金龙酒家（天河店）" in GBK, padded with spaces as field 43 is.
//! let f43 = b"\xbd\xf0\xc1\xfa\xbe\xc6\xbc\xd2\xa3\xa8\xcc\xec\xba\xd3\xb5\xea\xa3\xa9   ";
//! let name = decode_gbk(f43);
//! assert_eq!(name.trim_end(), "金龙酒家（天河店）");
//! assert!(names_match(&name, ["Golden Dragon", "金龙酒家"].iter()));
//! assert!(!names_match(&name, ["银龙酒家"].iter()));
//! ```

/// Decodes GBK (GB 18030) text; ASCII passes unchanged, a byte sequence that is not GBK
/// becomes U+FFFD.
#[must_use]
pub fn decode_gbk(bytes: &[u8]) -> String {
    let (text, _, _) = encoding_rs::GB18030.decode(bytes);
    text.into_owned()
}

/// GBK (GB 18030) text as UTF-8, or `None` if `bytes` are not GBK (no mojibake: the caller
/// shows such bytes as hex).
#[must_use]
pub fn decode_gbk_strict(bytes: &[u8]) -> Option<String> {
    encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(std::borrow::Cow::into_owned)
}

/// Decodes GBK `bytes` into `buf` without allocating, as far as `buf` holds; a byte sequence
/// that is not GBK becomes U+FFFD.
pub fn decode_gbk_into<'b>(bytes: &[u8], buf: &'b mut [u8]) -> &'b str {
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let (_, _, written, _) = decoder.decode_to_utf8(bytes, buf, true);
    let done = buf.get(..written).unwrap_or_default();
    match std::str::from_utf8(done) {
        Ok(s) => s,
        // Cut inside a character by a full buffer: up to the last whole one.
        Err(e) => {
            std::str::from_utf8(done.get(..e.valid_up_to()).unwrap_or_default()).unwrap_or("")
        }
    }
}

/// The characters of a name as [`normalise_name`] keeps them, without the branch suffixes'
/// removal, one at a time and without allocating.
fn kept_chars(name: &str) -> impl Iterator<Item = char> + '_ {
    let mut depth = 0usize;
    name.chars().flat_map(move |c| {
        let c = match u32::from(c) {
            0xFF01..=0xFF5E => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        let keep = match c {
            '(' | '[' | '【' | '〔' => {
                depth += 1;
                false
            }
            ')' | ']' | '】' | '〕' => {
                depth = depth.saturating_sub(1);
                false
            }
            _ => depth == 0 && c.is_alphanumeric(),
        };
        let upper = if keep { Some(c.to_uppercase()) } else { None };
        upper.into_iter().flatten()
    })
}

/// Whether `observed` (a field 43) names the merchant whose name has the normalised form `key`
/// ([`normalise_name`]): one starts with the other. Allocates nothing.
#[must_use]
pub fn matches_name_key(observed: &str, key: &str) -> bool {
    if observed.is_ascii() {
        return matches_name_key_ascii(observed.as_bytes(), key);
    }
    prefix_either(kept_chars(observed), key.chars())
}

/// [`matches_name_key`] of an ASCII `observed` (bytes below 0x80: GBK's single-byte range,
/// the same characters decoded or not), in one pass over its bytes. `key` may hold any
/// characters: the characters kept from ASCII text are ASCII, so comparing `key`'s bytes
/// stops at the same place as comparing its characters.
pub(crate) fn matches_name_key_ascii(observed: &[u8], key: &str) -> bool {
    let key = key.as_bytes();
    let mut depth = 0usize;
    let mut at = 0usize;
    for &b in observed {
        match NAME_CLASS.get(usize::from(b)).copied().unwrap_or(SKIP) {
            SKIP => {}
            OPEN => depth += 1,
            CLOSE => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            upper => {
                // An empty key matches only an empty name.
                if key.is_empty() {
                    return false;
                }
                match key.get(at) {
                    // The key ran out first: a prefix of the name.
                    None => return true,
                    Some(&k) if k == upper => at += 1,
                    Some(_) => return false,
                }
            }
        }
    }
    // The name ran out first (or kept nothing): a prefix of the key.
    true
}

/// [`NAME_CLASS`]: a byte set aside, an opening bracket, a closing one; any other value is the
/// upper-case letter or digit kept.
const SKIP: u8 = 0;
const OPEN: u8 = 1;
const CLOSE: u8 = 2;

/// What [`matches_name_key_ascii`] does with each byte.
// Indexing in a constant is checked when it is evaluated: out of bounds is a compile error.
#[allow(clippy::indexing_slicing)]
static NAME_CLASS: [u8; 256] = {
    let mut t = [SKIP; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = match c {
            b'(' | b'[' => OPEN,
            b')' | b']' => CLOSE,
            _ if c.is_ascii_alphanumeric() => c.to_ascii_uppercase(),
            _ => SKIP,
        };
        b += 1;
    }
    t
};

/// Whether the characters `seen` (as kept) name what `key` holds: `seen` empty, or one a
/// prefix of the other (`key` empty matches nothing but an empty `seen`).
fn prefix_either<T: PartialEq>(
    seen: impl Iterator<Item = T>,
    key: impl Iterator<Item = T>,
) -> bool {
    let mut seen = seen.peekable();
    if seen.peek().is_none() {
        return true;
    }
    let mut key = key.peekable();
    if key.peek().is_none() {
        return false;
    }
    loop {
        match (seen.next(), key.next()) {
            (Some(a), Some(b)) if a == b => {}
            (Some(_), Some(_)) => return false,
            // One ran out first: a prefix of the other.
            _ => return true,
        }
    }
}

/// Suffixes that name a branch, not the merchant (compared after normalising).
const BRANCH_SUFFIXES: [&str; 6] = ["分公司", "分店", "门店", "BRANCH", "SHOP", "STORE"];

/// A name reduced to what identifies the merchant: letters and digits only (full-width forms
/// folded to ASCII, ASCII upper-cased), with bracketed parts (`(天河店)`, `（二店）`) and
/// branch suffixes removed.
#[must_use]
pub fn normalise_name(name: &str) -> String {
    let mut out: String = kept_chars(name).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for s in BRANCH_SUFFIXES {
            if out.len() > s.len() && out.ends_with(s) {
                out.truncate(out.len() - s.len());
                changed = true;
            }
        }
    }
    out
}

/// Whether `observed` (a field 43: a name, perhaps followed by a city and country) names the
/// same merchant as one of `registered`: after normalising, one starts with the other.
pub fn names_match<'n, S: AsRef<str> + 'n>(
    observed: &str,
    registered: impl Iterator<Item = &'n S>,
) -> bool {
    let seen = normalise_name(observed);
    if seen.is_empty() {
        return true;
    }
    registered
        .map(|r| normalise_name(r.as_ref()))
        .any(|r| !r.is_empty() && (seen.starts_with(&r) || r.starts_with(&seen)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_names_keep_the_same_characters_byte_by_byte() {
        for name in [
            "GOLDEN  DRAGON RESTAURANT   GUANGZHOU    CN",
            "Golden Dragon (Tianhe) [2] Restaurant",
            "a)b(c]d[e",
            "  -- 7-Eleven #42 ((nested) x) y",
            "",
        ] {
            // The characters kept match themselves, and their every prefix, byte by byte.
            let general: String = kept_chars(name).collect();
            for end in 0..=general.len() {
                let key = general.get(..end).unwrap();
                let expected = !key.is_empty() || general.is_empty();
                assert_eq!(
                    matches_name_key_ascii(name.as_bytes(), key),
                    expected,
                    "{name:?} {key:?}"
                );
            }
        }
        // The two paths agree on a match, and on a mismatch.
        assert!(matches_name_key(
            "GOLDEN DRAGON RESTAURANT GZ",
            "GOLDENDRAGONRESTAURANT"
        ));
        assert!(!matches_name_key(
            "GOLDEN PHOENIX",
            "GOLDENDRAGONRESTAURANT"
        ));
        assert!(!matches_name_key("GOLDEN PHOENIX", ""));
        assert!(matches_name_key("  ", "GOLDENDRAGON"));
    }

    proptest::proptest! {
        /// The one-pass ASCII match gives what the character-level one gives, for names
        /// built from the characters that matter (brackets, letters of both cases, digits,
        /// spaces, punctuation) and keys with and without non-ASCII characters.
        #[test]
        fn the_ascii_match_agrees_with_the_general_one(
            observed in "[()\\[\\]a-cA-C0-2 .#-]{0,24}",
            key in "[A-C0-2]{0,8}|[A-C]{0,3}金[A-C]{0,3}",
        ) {
            let general = prefix_either(kept_chars(&observed), key.chars());
            proptest::prop_assert_eq!(matches_name_key_ascii(observed.as_bytes(), &key), general);
            proptest::prop_assert_eq!(matches_name_key(&observed, &key), general);
        }
    }

    #[test]
    fn spaces_case_punctuation_and_branches_are_set_aside() {
        let reg = ["Golden Dragon Restaurant".to_string()];
        assert!(names_match(
            "GOLDEN  DRAGON RESTAURANT   GUANGZHOU    CN",
            reg.iter()
        ));
        assert!(names_match(
            "golden-dragon restaurant (tianhe branch)",
            reg.iter()
        ));
        assert!(names_match(
            "ＧＯＬＤＥＮ ＤＲＡＧＯＮ ＲＥＳＴＡＵＲＡＮＴ",
            reg.iter()
        ));
        assert!(!names_match("HAPPY MART SUPERMARKET", reg.iter()));
        assert_eq!(normalise_name("金龙酒家分店"), "金龙酒家");
        assert_eq!(normalise_name("金龙酒家（天河店）"), "金龙酒家");
        let mut buf = [0u8; 8];
        // A buffer too small cuts at a whole character.
        assert_eq!(
            decode_gbk_into(b"\xbd\xf0\xc1\xfa\xbe\xc6", &mut buf),
            "金龙"
        );
    }
}
