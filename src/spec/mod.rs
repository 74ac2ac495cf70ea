//! What a dialect looks like: [`Spec`] and [`FieldSpec`].
//!
//! A spec is data, never a code path: the parser and the encoder read it and nothing about a
//! dialect is hard-coded elsewhere. The built-in dialects are constants ([`ISO87_ASCII`],
//! [`ISO87_ASCII_BINARY_BITMAP`], [`ISO87_BCD`], [`ISO93_ASCII`], [`CUP_POS`], [`CUPS`]); users load
//! their own from TOML or JSON with [`Spec::from_toml_str`], [`Spec::from_json_str`] or
//! [`Spec::load`], and a spec that cannot describe a message (a fixed field of length 0, a
//! maximum its prefix cannot hold) is rejected there, not later while parsing.
//!
//! ## Units of length
//! A field's length (its fixed size, or the value of its length prefix) counts:
//! - digits for `n`, `z` and `x+n` content in BCD, which take `(len + 1) / 2` bytes (`x+n`: one
//!   ASCII sign byte, then the digits);
//! - characters (bytes) for ASCII and EBCDIC data;
//! - bytes for raw binary data;
//! - for binary data written as hex characters, bytes of the binary value with
//!   [`Encoding::Hex`] (jPOS `IFA_BINARY`, two characters a byte) or characters with
//!   [`Encoding::HexChars`] (pyiso8583's `default_ascii`).

mod builtin;
pub mod composite;
#[cfg(feature = "jpos")]
mod jpos;
mod load;

pub use builtin::{
    BUILTINS, CUP_POS, CUPS, ISO87_ASCII, ISO87_ASCII_BINARY_BITMAP, ISO87_BCD, ISO93_ASCII,
    builtin,
};
pub use load::SpecError;

use composite::Composite;
use std::borrow::Cow;
use std::fmt;

/// The highest field number a message can carry (three bitmaps).
pub const MAX_FIELD: usize = 192;

/// What a field may contain. Only `n`, `z` and `x+n` are checked character by character:
/// real traffic carries spaces, lower case and GBK text in `a`/`an`/`ans` fields, so those are
/// carried as bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Content {
    /// Digits only.
    N,
    /// Letters.
    A,
    /// Letters and digits.
    An,
    /// Letters, digits and special characters (any text).
    Ans,
    /// Binary data.
    B,
    /// Track 2/3 data: digits and the separator (`=` or `D` in text, nibble `D` in BCD).
    Z,
    /// An amount with its sign: `C` (credit) or `D` (debit) followed by digits.
    XN,
}

impl Content {
    /// The conventional short name (`n`, `an`, `ans`, `b`, `z`, `x+n`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Content::N => "n",
            Content::A => "a",
            Content::An => "an",
            Content::Ans => "ans",
            Content::B => "b",
            Content::Z => "z",
            Content::XN => "x+n",
        }
    }

    /// Whether the field's value is binary (shown as hex) rather than text.
    #[must_use]
    pub const fn is_binary(self) -> bool {
        matches!(self, Content::B)
    }
}

/// How a field's data is written on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// One ASCII byte a character.
    Ascii,
    /// One EBCDIC byte a character, code page 037.
    Ebcdic,
    /// One EBCDIC byte a character, code page 500 (differs from 037 in seven punctuation
    /// characters).
    Ebcdic500,
    /// Packed BCD, two digits a byte; odd digit counts are padded as the field's [`Align`] says.
    Bcd,
    /// Raw bytes.
    Binary,
    /// Binary value as hex characters; the length counts bytes of the value (jPOS).
    Hex,
    /// Binary value as hex characters; the length counts characters (pyiso8583).
    HexChars,
}

impl Encoding {
    /// The name used in spec files.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Encoding::Ascii => "ascii",
            Encoding::Ebcdic => "ebcdic",
            Encoding::Ebcdic500 => "ebcdic500",
            Encoding::Bcd => "bcd",
            Encoding::Binary => "binary",
            Encoding::Hex => "hex",
            Encoding::HexChars => "hex-chars",
        }
    }
}

/// Where the digits of an odd-length BCD field sit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Align {
    /// Right-aligned: the pad nibble comes first (`123` is `01 23`).
    #[default]
    Right,
    /// Left-aligned: the pad nibble comes last (`123` is `12 30`).
    Left,
}

/// How a variable length prefix is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrefixEncoding {
    /// ASCII digits, one byte each (`LL` = 2 bytes).
    Ascii,
    /// EBCDIC digits, one byte each.
    Ebcdic,
    /// Packed BCD (`LL` = 1 byte, `LLL` and `LLLL` = 2 bytes).
    Bcd,
    /// Big-endian binary (`LL` = 1 byte, `LLL` and `LLLL` = 2 bytes).
    Binary,
}

/// A field's length: fixed, or variable with a prefix of 2, 3 or 4 digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Length {
    /// Always this many units.
    Fixed(u16),
    /// `LLVAR`: at most this many units, a 2-digit prefix.
    LlVar(u16),
    /// `LLLVAR`: a 3-digit prefix.
    LllVar(u16),
    /// `LLLLVAR`: a 4-digit prefix.
    LlllVar(u16),
}

impl Length {
    /// The number of decimal digits of the prefix (0 for fixed fields).
    #[must_use]
    pub const fn prefix_digits(self) -> usize {
        match self {
            Length::Fixed(_) => 0,
            Length::LlVar(_) => 2,
            Length::LllVar(_) => 3,
            Length::LlllVar(_) => 4,
        }
    }

    /// The fixed length, or the maximum of a variable one.
    #[must_use]
    pub const fn max(self) -> usize {
        match self {
            Length::Fixed(n) | Length::LlVar(n) | Length::LllVar(n) | Length::LlllVar(n) => {
                n as usize
            }
        }
    }
}

/// One field of a dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldSpec {
    /// What the field may contain.
    pub content: Content,
    /// Fixed or variable length, in the units described in the module docs.
    pub length: Length,
    /// How the data is written.
    pub encoding: Encoding,
    /// How a variable length prefix is written (ignored for fixed fields).
    pub prefix: PrefixEncoding,
    /// Where odd BCD digit counts are padded.
    pub align: Align,
}

impl FieldSpec {
    /// The bytes of the length prefix on the wire.
    #[must_use]
    pub const fn prefix_width(&self) -> usize {
        let digits = self.length.prefix_digits();
        match self.prefix {
            _ if digits == 0 => 0,
            PrefixEncoding::Ascii | PrefixEncoding::Ebcdic => digits,
            PrefixEncoding::Bcd => digits.div_ceil(2),
            PrefixEncoding::Binary => {
                if digits == 2 {
                    1
                } else {
                    2
                }
            }
        }
    }

    /// The largest length value the prefix can express.
    #[must_use]
    pub const fn prefix_capacity(&self) -> usize {
        match self.prefix {
            PrefixEncoding::Binary => {
                if self.prefix_width() == 1 {
                    0xFF
                } else {
                    0xFFFF
                }
            }
            _ => match self.length.prefix_digits() {
                2 => 99,
                3 => 999,
                4 => 9999,
                _ => 0,
            },
        }
    }

    /// The bytes on the wire of a value of `units` units (prefix excluded), or `None` where the
    /// unit count is impossible for this encoding (an odd character count for `hex-chars`).
    #[must_use]
    pub const fn data_width(&self, units: usize) -> Option<usize> {
        match self.encoding {
            Encoding::Ascii | Encoding::Ebcdic | Encoding::Ebcdic500 | Encoding::Binary => {
                Some(units)
            }
            Encoding::Bcd => {
                if matches!(self.content, Content::XN) {
                    if units == 0 {
                        None
                    } else {
                        Some(1 + (units - 1).div_ceil(2))
                    }
                } else {
                    Some(units.div_ceil(2))
                }
            }
            Encoding::Hex => Some(units * 2),
            Encoding::HexChars => {
                if units % 2 == 0 {
                    Some(units)
                } else {
                    None
                }
            }
        }
    }

    /// A short description such as `n..19 LLVAR bcd` (for tables and errors).
    #[must_use]
    pub fn describe(&self) -> String {
        let dots = match self.length {
            Length::Fixed(_) => "",
            Length::LlVar(_) => "..",
            Length::LllVar(_) => "...",
            Length::LlllVar(_) => "....",
        };
        format!(
            "{}{}{} {}",
            self.content.as_str(),
            dots,
            self.length.max(),
            self.encoding.as_str()
        )
    }
}

/// How the message type indicator is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MtiFormat {
    /// Four ASCII digits.
    Ascii,
    /// Two bytes of packed BCD.
    Bcd,
    /// Four EBCDIC digits.
    Ebcdic,
}

/// How bitmaps are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BitmapFormat {
    /// Eight raw bytes a bitmap.
    Binary,
    /// Sixteen hex characters a bitmap, either case.
    HexAscii,
    /// Sixteen hex characters a bitmap in EBCDIC (jPOS `IFE_BITMAP`).
    HexEbcdic,
}

/// What comes before the MTI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Header {
    /// Nothing: the message starts with the MTI.
    None,
    /// A fixed number of opaque bytes (e.g. a 12-character text header).
    Fixed(u16),
    /// A 5-byte TPDU (id, destination, source) followed by this many bytes of header (the
    /// UnionPay POS form is TPDU + 6 bytes).
    Tpdu(u16),
}

impl Header {
    /// The header's length in bytes.
    #[must_use]
    pub const fn len(self) -> usize {
        match self {
            Header::None => 0,
            Header::Fixed(n) => n as usize,
            Header::Tpdu(n) => 5 + n as usize,
        }
    }

    /// Whether there is no header.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// Field names, borrowed for the built-ins, owned for loaded specs.
#[derive(Clone, PartialEq, Eq)]
pub enum Names {
    /// Static names, indexed by field number.
    Static(&'static [&'static str]),
    /// Owned names, indexed by field number.
    Owned(Vec<String>),
}

impl Names {
    fn get(&self, n: usize) -> &str {
        let name = match self {
            Names::Static(s) => s.get(n).copied(),
            Names::Owned(v) => v.get(n).map(String::as_str),
        };
        name.unwrap_or("")
    }
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Names(..)")
    }
}

/// A dialect: header, MTI, bitmap and field layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// A short name (`iso87-ascii`, or a loaded spec's own).
    pub name: Cow<'static, str>,
    /// What comes before the MTI.
    pub header: Header,
    /// How the MTI is written.
    pub mti: MtiFormat,
    /// How the bitmaps are written.
    pub bitmap: BitmapFormat,
    /// Whether bit 65 announces a tertiary bitmap (fields 129-192) rather than a field.
    pub tertiary_bitmap: bool,
    /// Field layouts, indexed by field number (index 0 and 1 unused).
    pub fields: Cow<'static, [Option<FieldSpec>]>,
    /// Field names, indexed by field number.
    pub names: Names,
    /// The composite fields and how their values divide into subfields
    /// ([`composite`]).
    pub composites: Cow<'static, [Composite]>,
    /// The field that carries the merchant category code: 18 in ISO 8583:1987 and 1993, 26
    /// in ISO 8583:2003. The validator and [`crate::Message::mcc`] read the MCC there.
    pub mcc_field: u8,
    /// The text fields that carry Chinese text in GBK (shown decoded by `inspect`): 43, 62 and
    /// 63 in the built-ins, as a spec file says otherwise (`charset = "gbk"` on a field).
    pub gbk_fields: Cow<'static, [u8]>,
}

impl Spec {
    /// The layout of field `n`, if the spec defines it.
    #[inline]
    #[must_use]
    pub fn field(&self, n: usize) -> Option<&FieldSpec> {
        self.fields.get(n).and_then(Option::as_ref)
    }

    /// How field `n` divides into subfields: as the spec declares, or BER-TLV for a binary
    /// field 55 the spec says nothing about.
    #[must_use]
    pub fn composite(&self, n: usize) -> Option<&Composite> {
        if let Some(c) = self.composites.iter().find(|c| usize::from(c.field) == n) {
            return Some(c);
        }
        let emv = n == 55 && self.field(55).is_some_and(|f| f.content == Content::B);
        emv.then_some(&composite::EMV)
    }

    /// Whether field `n` carries GBK text.
    #[must_use]
    pub fn is_gbk(&self, n: usize) -> bool {
        self.gbk_fields.iter().any(|&g| usize::from(g) == n)
    }

    /// The name of field `n` (empty if the spec gives none).
    #[must_use]
    pub fn field_name(&self, n: usize) -> &str {
        self.names.get(n)
    }

    /// The numbers of the fields this spec defines, in order.
    pub fn defined_fields(&self) -> impl Iterator<Item = usize> + '_ {
        self.fields
            .iter()
            .enumerate()
            .filter_map(|(n, f)| f.as_ref().map(|_| n))
    }

    /// Whether bit `n` of a bitmap announces another bitmap rather than a field.
    #[inline]
    #[must_use]
    pub const fn is_bitmap_bit(&self, n: usize) -> bool {
        n == 1 || (n == 65 && self.tertiary_bitmap)
    }

    /// A built-in spec by name (`iso87-ascii` ...), else the spec file at that path.
    pub fn named(name: &str) -> Result<Spec, SpecError> {
        if let Some(s) = builtin(name) {
            return Ok(s.clone());
        }
        if std::path::Path::new(name).exists() {
            return Spec::load(name);
        }
        let names: Vec<&str> = BUILTINS.iter().map(|s| s.name.as_ref()).collect();
        Err(SpecError::Invalid(format!(
            "unknown spec {name:?}: not a file, nor one of {}",
            names.join(", ")
        )))
    }

    /// Checks that the spec can describe messages; the loaders call this, and so can users who
    /// build a `Spec` by hand.
    pub fn check(&self) -> Result<(), SpecError> {
        load::check(self)
    }
}
