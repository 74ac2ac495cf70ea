//! The CUPS network dialect's 46-byte message header: what the acquirer and China UnionPay's
//! switch put before each message on the network leg.
//!
//! | bytes | content |
//! |---|---|
//! | 0 | header length, binary (46) |
//! | 1 | header flag and version, binary |
//! | 2-5 | total length of header and message, 4 ASCII digits |
//! | 6-16 | destination station ID, 11 ASCII |
//! | 17-27 | source station ID, 11 ASCII |
//! | 28-30 | reserved |
//! | 31 | batch number, binary |
//! | 32-39 | transaction information, 8 ASCII |
//! | 40 | user information, binary |
//! | 41-45 | reject code, 5 ASCII (`00000` when not rejected) |
//!
//! The built-in spec [`crate::spec::CUPS`] declares the header as 46 opaque bytes; the framing
//! [`crate::frame::Framing::Cups`] checks its length byte and total length, and
//! [`crate::Message::cups_header`] reads it, borrowing the message's bytes.
//!
//! ```
//! use iso8583_inspect::cups::{CupsHeader, HeaderFields};
//! let header = HeaderFields {
//!     destination: *b"00010000   ",
//!     source: *b"48220000   ",
//!     ..HeaderFields::default()
//! }
//! .to_bytes(100)?;
//! let h = CupsHeader::new(&header).unwrap();
//! assert_eq!(h.destination(), "00010000");
//! assert_eq!(h.total_length(), Some(146));
//! assert!(!h.is_rejected());
//! # Ok::<(), iso8583_inspect::cups::HeaderError>(())
//! ```

use std::fmt;

/// The header's length in bytes.
pub const HEADER_LEN: usize = 46;

/// A CUPS header, borrowed from a message's bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CupsHeader<'a>(&'a [u8; HEADER_LEN]);

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("").trim_end()
}

impl<'a> CupsHeader<'a> {
    /// The header at the start of `bytes`, if they hold 46 bytes starting with the length
    /// byte 46.
    #[must_use]
    pub fn new(bytes: &'a [u8]) -> Option<CupsHeader<'a>> {
        let h: &[u8; HEADER_LEN] = bytes.first_chunk()?;
        (usize::from(h[0]) == HEADER_LEN).then_some(CupsHeader(h))
    }

    /// The 46 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// Byte 1: the header flag and version.
    #[must_use]
    pub fn flag_version(&self) -> u8 {
        self.0[1]
    }

    /// Bytes 2-5: the total length of header and message, if they are 4 digits.
    #[must_use]
    pub fn total_length(&self) -> Option<usize> {
        self.0[2..6].iter().try_fold(0usize, |v, &c| {
            c.is_ascii_digit().then(|| v * 10 + usize::from(c - b'0'))
        })
    }

    /// Bytes 6-16: the destination station ID, trailing spaces removed (empty if not text).
    #[must_use]
    pub fn destination(&self) -> &'a str {
        text(&self.0[6..17])
    }

    /// Bytes 17-27: the source station ID, trailing spaces removed.
    #[must_use]
    pub fn source(&self) -> &'a str {
        text(&self.0[17..28])
    }

    /// Byte 31: the batch number.
    #[must_use]
    pub fn batch(&self) -> u8 {
        self.0[31]
    }

    /// Bytes 32-39: the transaction information.
    #[must_use]
    pub fn transaction_info(&self) -> &'a [u8] {
        &self.0[32..40]
    }

    /// Byte 40: the user information.
    #[must_use]
    pub fn user_info(&self) -> u8 {
        self.0[40]
    }

    /// Bytes 41-45: the reject code (`00000` when the message was not rejected).
    #[must_use]
    pub fn reject_code(&self) -> &'a str {
        text(&self.0[41..46])
    }

    /// Whether the reject code names a rejection (anything but zeros or spaces).
    #[must_use]
    pub fn is_rejected(&self) -> bool {
        self.0[41..46].iter().any(|&c| c != b'0' && c != b' ')
    }
}

impl fmt::Debug for CupsHeader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CupsHeader")
            .field("total_length", &self.total_length())
            .field("destination", &self.destination())
            .field("source", &self.source())
            .field("reject_code", &self.reject_code())
            .finish_non_exhaustive()
    }
}

/// The fields of a header to write (the length byte and total length are computed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderFields {
    /// Byte 1.
    pub flag_version: u8,
    /// Destination station ID, 11 characters (pad with spaces).
    pub destination: [u8; 11],
    /// Source station ID, 11 characters.
    pub source: [u8; 11],
    /// Byte 31.
    pub batch: u8,
    /// Transaction information, 8 characters.
    pub transaction_info: [u8; 8],
    /// Byte 40.
    pub user_info: u8,
    /// Reject code, 5 characters.
    pub reject_code: [u8; 5],
}

impl Default for HeaderFields {
    fn default() -> HeaderFields {
        HeaderFields {
            flag_version: 0x02,
            destination: [b' '; 11],
            source: [b' '; 11],
            batch: 0,
            transaction_info: *b"00000000",
            user_info: 0,
            reject_code: *b"00000",
        }
    }
}

/// A header that cannot be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a CUPS message of {length} bytes does not fit the header's 4-digit total length")]
pub struct HeaderError {
    /// The message length (without the header).
    pub length: usize,
}

impl HeaderFields {
    /// The 46 header bytes for a message of `message_len` bytes after it.
    pub fn to_bytes(&self, message_len: usize) -> Result<[u8; HEADER_LEN], HeaderError> {
        let total = message_len + HEADER_LEN;
        if total > 9999 {
            return Err(HeaderError {
                length: message_len,
            });
        }
        let mut h = [0u8; HEADER_LEN];
        h[0] = HEADER_LEN as u8;
        h[1] = self.flag_version;
        let digits = format!("{total:04}");
        h[2..6].copy_from_slice(digits.as_bytes());
        h[6..17].copy_from_slice(&self.destination);
        h[17..28].copy_from_slice(&self.source);
        h[28..31].copy_from_slice(b"000");
        h[31] = self.batch;
        h[32..40].copy_from_slice(&self.transaction_info);
        h[40] = self.user_info;
        h[41..46].copy_from_slice(&self.reject_code);
        Ok(h)
    }
}

/// An 11-character station ID from text, padded with spaces (longer text is cut).
#[must_use]
pub fn station_id(id: &str) -> [u8; 11] {
    let mut out = [b' '; 11];
    for (o, b) in out.iter_mut().zip(id.bytes()) {
        *o = b;
    }
    out
}
