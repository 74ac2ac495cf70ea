//! Errors of parsing and encoding. They never hold input bytes beyond the one offending
//! character, which is never a digit of a card number (a digit would not be an error).

use std::fmt;

/// Where in a message something went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Location {
    /// The header before the MTI (TPDU, text header).
    Header,
    /// The message type indicator.
    Mti,
    /// A bitmap (primary, secondary or tertiary).
    Bitmap,
    /// A data field, by number.
    Field(u8),
    /// The message as a whole (bytes after the last field).
    Message,
}

impl Location {
    /// The field number, where the location is a field.
    #[must_use]
    pub const fn field(self) -> Option<u8> {
        match self {
            Location::Field(n) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Header => f.write_str("header"),
            Location::Mti => f.write_str("MTI"),
            Location::Bitmap => f.write_str("bitmap"),
            Location::Field(n) => write!(f, "field {n}"),
            Location::Message => f.write_str("message"),
        }
    }
}

/// An offending character: a whole byte, or one nibble of packed BCD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Found {
    /// A byte (shown as a character when printable ASCII).
    Byte(u8),
    /// A BCD nibble.
    Nibble(u8),
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Found::Byte(b) if b.is_ascii_graphic() || b == b' ' => write!(f, "'{}'", b as char),
            Found::Byte(b) => write!(f, "byte 0x{b:02X}"),
            Found::Nibble(n) => write!(f, "nibble 0x{n:X}"),
        }
    }
}

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ends before the element does.
    Truncated {
        /// Bytes the element needs from the offset.
        needed: usize,
        /// Bytes left from the offset.
        available: usize,
    },
    /// A length prefix that is not a number in its encoding.
    BadLengthPrefix {
        /// The offending character.
        found: Found,
    },
    /// A length prefix above the field's maximum.
    LengthOverMax {
        /// The length the prefix states.
        length: usize,
        /// The spec's maximum.
        max: usize,
    },
    /// A length the encoding cannot hold (an odd character count for hex characters, an
    /// `x+n` amount with no digit).
    BadLength {
        /// The length the prefix states.
        length: usize,
    },
    /// A non-digit where digits are expected.
    NonDigit {
        /// Digits expected (the field's length).
        expected: usize,
        /// The offending character.
        found: Found,
    },
    /// An `x+n` amount whose sign is not `C` or `D`.
    BadSign {
        /// The offending character.
        found: Found,
    },
    /// A character that is not hex where hex is expected.
    NotHex {
        /// The offending character.
        found: Found,
    },
    /// A track-data character that is neither a digit nor a separator.
    BadTrackChar {
        /// The offending character.
        found: Found,
    },
    /// The bitmap announces a field the spec does not define.
    UndefinedField {
        /// The field number.
        field: u8,
    },
    /// Bytes left over after the last field.
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::Truncated { needed, available } => {
                write!(f, "truncated: needs {needed} bytes, {available} left")
            }
            ErrorKind::BadLengthPrefix { found } => {
                write!(f, "bad length prefix: {found} is not a digit")
            }
            ErrorKind::LengthOverMax { length, max } => {
                write!(f, "length {length} is over the maximum {max}")
            }
            ErrorKind::BadLength { length } => {
                write!(f, "length {length} is impossible for this encoding")
            }
            ErrorKind::NonDigit { expected, found } => {
                write!(f, "expected {expected} digits, found {found}")
            }
            ErrorKind::BadSign { found } => write!(f, "expected sign C or D, found {found}"),
            ErrorKind::NotHex { found } => write!(f, "expected hex, found {found}"),
            ErrorKind::BadTrackChar { found } => {
                write!(f, "expected track digits and separators, found {found}")
            }
            ErrorKind::UndefinedField { field } => {
                write!(f, "names field {field}, which the spec does not define")
            }
            ErrorKind::TrailingBytes { count } => {
                write!(f, "{count} trailing bytes after the last field")
            }
        }
    }
}

/// A message that could not be parsed: where, at which byte offset of the input, and what.
///
/// Reads like `field 4 at offset 23: expected 12 digits, found 'A'`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{location} at offset {offset}: {kind}")]
pub struct ParseError {
    /// Header, MTI, bitmap, field number, or the message as a whole.
    pub location: Location,
    /// Byte offset from the start of the input (header included) of the offending byte, or of
    /// the element that is cut short.
    pub offset: usize,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl ParseError {
    /// The field number, where the error is in a field (or the bitmap names an undefined one).
    #[must_use]
    pub const fn field(&self) -> Option<u8> {
        match (self.location, self.kind) {
            (Location::Field(n), _) => Some(n),
            (_, ErrorKind::UndefinedField { field }) => Some(field),
            _ => None,
        }
    }
}

/// Why the encoder refused a value. Nothing is written when it does.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The spec has no such field (or the number is a bitmap bit).
    #[error("field {0}: the spec does not define it")]
    UndefinedField(usize),
    /// The MTI is not four digits.
    #[error("MTI: expected 4 digits")]
    BadMti,
    /// The header's length differs from the spec's.
    #[error("header: expected {expected} bytes, got {got}")]
    BadHeader {
        /// The spec's header length.
        expected: usize,
        /// The given length.
        got: usize,
    },
    /// A value of the wrong length for a fixed field.
    #[error("field {field}: expected exactly {expected} units, got {got}")]
    WrongLength {
        /// The field.
        field: usize,
        /// The fixed length.
        expected: usize,
        /// The value's length.
        got: usize,
    },
    /// A value longer than the field's maximum.
    #[error("field {field}: length {got} is over the maximum {max}")]
    TooLong {
        /// The field.
        field: usize,
        /// The maximum.
        max: usize,
        /// The value's length.
        got: usize,
    },
    /// A value that is empty or has a length the encoding cannot hold.
    #[error("field {field}: length {got} is impossible for this encoding")]
    BadLength {
        /// The field.
        field: usize,
        /// The value's length.
        got: usize,
    },
    /// A character the field's content does not allow.
    #[error(
        "field {field}: character {position} is {found}, which `{content}` content does not allow"
    )]
    BadChar {
        /// The field.
        field: usize,
        /// Zero-based position in the value.
        position: usize,
        /// The character.
        found: Found,
        /// The content class (`n`, `z`, `x+n`, `b` as hex).
        content: &'static str,
    },
    /// A subfield path or value the spec cannot take.
    #[error("subfield {path}: {reason}")]
    Subfield {
        /// The path asked for (`60.2`).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A text character EBCDIC cannot carry (outside Latin-1).
    #[error("field {field}: character {position} has no EBCDIC code")]
    NotEncodable {
        /// The field.
        field: usize,
        /// Zero-based position in the value.
        position: usize,
    },
}
