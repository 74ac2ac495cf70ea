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

/// Suffixes that name a branch, not the merchant (compared after normalising).
const BRANCH_SUFFIXES: [&str; 6] = ["分公司", "分店", "门店", "BRANCH", "SHOP", "STORE"];

/// A name reduced to what identifies the merchant: letters and digits only (full-width forms
/// folded to ASCII, ASCII upper-cased), with bracketed parts (`(天河店)`, `（二店）`) and
/// branch suffixes removed.
#[must_use]
pub fn normalise_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut depth = 0usize;
    for c in name.chars() {
        // Full-width ASCII (U+FF01-U+FF5E) to its ASCII form.
        let c = match u32::from(c) {
            0xFF01..=0xFF5E => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        match c {
            '(' | '[' | '【' | '〔' => depth += 1,
            ')' | ']' | '】' | '〕' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            c if c.is_alphanumeric() => out.extend(c.to_uppercase()),
            _ => {}
        }
    }
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
    }
}
