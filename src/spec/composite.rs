//! Composite fields: a field whose value is made of subfields, declared in the spec.
//!
//! Two layouts:
//! - **positional** ([`Layout::Positional`]): subfields one after another, each with its own
//!   layout. In a BCD-packed numeric field (the UnionPay terminal's 60) a subfield is a run of
//!   digits (`n`, fixed length, `bcd`), which may start in the middle of a byte; in any other
//!   field (ASCII, EBCDIC or raw binary data) a subfield is a whole element with its own
//!   content, length (fixed or with its own length prefix) and encoding, as jPOS's
//!   `GenericSubFieldPackager` lays them out. Trailing subfields may be absent (a field shorter
//!   than its full layout simply ends early); a subfield the data ends inside is an error.
//! - **TLV** ([`Layout::Tlv`]): BER-TLV as EMV field 55 ([`TlvFormat::Ber`]), or tags and
//!   lengths of a fixed number of ASCII characters ([`TlvFormat::Fixed`], the private fields 48,
//!   62 and 63 of several dialects: `01` `005` `HELLO`).
//!
//! Subfields are read from the parsed message on demand ([`crate::Message::subfield`],
//! [`crate::Message::subfields`]): parsing a message never looks at them, and reading them
//! allocates nothing. A subfield is addressed by a path: `60.1` (the first positional
//! subfield; jPOS files number theirs from 0 or 1 as they say), `55.9F02` (a BER tag in hex),
//! `55.70.5A` (a tag inside a constructed one), `48.01` (a fixed-width tag as its text).
//!
//! Field 55 holding binary data is read as BER-TLV unless the spec declares another layout
//! for it.

use super::{Content, Encoding, FieldSpec, Length};
use std::borrow::Cow;

/// One positional subfield: its number in paths, its name and its layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubfieldSpec {
    /// The number in paths (`60.1` is number 1).
    pub id: u8,
    /// What it is called.
    pub name: Cow<'static, str>,
    /// Its layout: content, length, encoding, prefix (as a field's).
    pub field: FieldSpec,
}

/// How tags and lengths of a TLV field are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlvFormat {
    /// BER-TLV (EMV Book 3): multi-byte tags, short and long lengths, constructed tags.
    Ber,
    /// A tag of `tag` ASCII characters, a length of `len` ASCII digits counting the value's
    /// characters, then the value as text.
    Fixed {
        /// Characters of the tag (1-4).
        tag: u8,
        /// Digits of the length (1-4).
        len: u8,
    },
}

/// How a composite field's value is divided.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// Subfields one after another, in this order.
    Positional(Cow<'static, [SubfieldSpec]>),
    /// Tag-length-value elements.
    Tlv(TlvFormat),
}

/// A composite field of a spec: which field and how its value is divided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composite {
    /// The field number.
    pub field: u8,
    /// The layout of its value.
    pub layout: Layout,
}

/// Field 55's default layout (binary data is EMV TLV).
pub(crate) static EMV: Composite = Composite {
    field: 55,
    layout: Layout::Tlv(TlvFormat::Ber),
};

/// A positional subfield of `n` digits in a BCD-packed field, built-in tables.
pub(crate) const fn digits(id: u8, n: u16, name: &'static str) -> SubfieldSpec {
    SubfieldSpec {
        id,
        name: Cow::Borrowed(name),
        field: FieldSpec {
            content: Content::N,
            length: Length::Fixed(n),
            encoding: Encoding::Bcd,
            prefix: super::PrefixEncoding::Ascii,
            align: super::Align::Left,
        },
    }
}

/// A fixed positional subfield in the parent's character encoding, built-in tables.
pub(crate) const fn chars(
    id: u8,
    content: Content,
    n: u16,
    encoding: Encoding,
    name: &'static str,
) -> SubfieldSpec {
    SubfieldSpec {
        id,
        name: Cow::Borrowed(name),
        field: FieldSpec {
            content,
            length: Length::Fixed(n),
            encoding,
            prefix: super::PrefixEncoding::Ascii,
            align: super::Align::Right,
        },
    }
}

/// Whether a composite of this layout can divide `parent`; the reason if not.
pub(crate) fn check(parent: &FieldSpec, layout: &Layout) -> Result<(), String> {
    let bcd_parent = parent.encoding == Encoding::Bcd;
    match layout {
        Layout::Positional(subs) => {
            if subs.is_empty() {
                return Err("a positional composite needs at least one subfield".into());
            }
            if !bcd_parent
                && !matches!(
                    parent.encoding,
                    Encoding::Ascii | Encoding::Ebcdic | Encoding::Ebcdic500 | Encoding::Binary
                )
            {
                return Err(format!(
                    "subfields of a {} field cannot be read in place; the parent must be \
                     bcd, ascii, ebcdic or binary",
                    parent.encoding.as_str()
                ));
            }
            for (i, s) in subs.iter().enumerate() {
                if subs.iter().take(i).any(|t| t.id == s.id) {
                    return Err(format!("subfield {} is declared twice", s.id));
                }
                let f = &s.field;
                if f.length.max() == 0 {
                    return Err(format!("subfield {}: a length of 0", s.id));
                }
                if bcd_parent {
                    let ok = matches!(f.length, Length::Fixed(_))
                        && f.encoding == Encoding::Bcd
                        && matches!(f.content, Content::N | Content::Z);
                    if !ok {
                        return Err(format!(
                            "subfield {}: a subfield of a BCD field is a fixed run of digits \
                             (`n`, fixed length, bcd)",
                            s.id
                        ));
                    }
                } else if f.encoding == Encoding::Bcd
                    && !matches!(f.content, Content::N | Content::Z | Content::XN)
                {
                    return Err(format!("subfield {}: only numbers can be BCD", s.id));
                } else if matches!(f.encoding, Encoding::Hex | Encoding::HexChars) {
                    return Err(format!(
                        "subfield {}: hex-encoded subfields are not supported",
                        s.id
                    ));
                }
                if f.prefix_width() > 0 && f.length.max() > f.prefix_capacity() {
                    return Err(format!(
                        "subfield {}: maximum {} does not fit its length prefix",
                        s.id,
                        f.length.max()
                    ));
                }
            }
            Ok(())
        }
        Layout::Tlv(TlvFormat::Ber) => {
            if parent.content == Content::B {
                Ok(())
            } else {
                Err("BER-TLV subfields need a binary (`b`) field".into())
            }
        }
        Layout::Tlv(TlvFormat::Fixed { tag, len }) => {
            if !(1..=4).contains(tag) || !(1..=4).contains(len) {
                return Err("a fixed TLV tag and length take 1-4 characters each".into());
            }
            if parent.encoding != Encoding::Ascii || parent.content == Content::B {
                return Err("fixed-width TLV subfields need an ASCII text field".into());
            }
            Ok(())
        }
    }
}
