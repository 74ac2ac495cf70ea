//! The zero-copy parser: `parse(spec, bytes)` gives a [`Message`] that borrows its input.
//!
//! Built from small nom parsers, one per structure (`mti`, `bitmap`, `length_prefix`,
//! `field`), composed bottom-up. nom stays inside: the public function returns a plain
//! `Result<Message, ParseError>`. Parsing allocates nothing and never panics: every length is
//! checked against the spec's maximum and against the bytes left before anything is taken.

mod bitmap;
pub(crate) mod field;

use crate::error::{ErrorKind, Location, ParseError};
use crate::message::{Field, Message, Mti};
use crate::spec::{Length, MAX_FIELD, Spec};
use nom::IResult;

/// A failure inside a nom parser: what, and how many input bytes were left at the offending
/// byte (the caller turns that into an offset).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fail {
    kind: ErrorKind,
    rest: usize,
}

impl<I: nom::Input> nom::error::ParseError<I> for Fail {
    fn from_error_kind(input: I, _kind: nom::error::ErrorKind) -> Self {
        let available = input.input_len();
        Fail {
            kind: ErrorKind::Truncated {
                needed: available + 1,
                available,
            },
            rest: available,
        }
    }

    fn append(_input: I, _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = IResult<&'a [u8], T, Fail>;

fn fail<T>(rest: usize, kind: ErrorKind) -> PResult<'static, T> {
    Err(nom::Err::Error(Fail { kind, rest }))
}

/// Takes exactly `n` bytes, or fails as truncated at the current position.
#[inline]
fn take_exact(input: &[u8], n: usize) -> PResult<'_, &[u8]> {
    match input.split_at_checked(n) {
        Some((taken, rest)) => Ok((rest, taken)),
        None => fail(
            input.len(),
            ErrorKind::Truncated {
                needed: n,
                available: input.len(),
            },
        ),
    }
}

/// Parses one whole message: header, MTI, bitmaps and every field the bitmaps name, with no
/// byte left over.
///
/// ```
/// use iso8583_inspect::{parse, spec::ISO87_ASCII};
/// let bytes = b"08000020000000000000123456";
/// let msg = parse(&ISO87_ASCII, bytes).unwrap();
/// assert_eq!(msg.mti().to_string(), "0800");
/// assert_eq!(msg.stan(), Some(Ok(123456)));
///
/// let err = parse(&ISO87_ASCII, b"0800002000000000000012345A").unwrap_err();
/// assert_eq!(err.to_string(), "field 11 at offset 25: expected 6 digits, found 'A'");
/// ```
pub fn parse<'a>(spec: &'a Spec, input: &'a [u8]) -> Result<Message<'a>, ParseError> {
    parse_with::<true>(spec, input, |_, _| {})
}

/// The MTI as [`parse()`] reads it, or `None` where it reads none.
pub(crate) fn peek_mti(spec: &Spec, input: &[u8]) -> Option<Mti> {
    let rest = input.get(spec.header.len()..)?;
    mti(spec, rest).ok().map(|(_, m)| m)
}

/// The wire bytes of field 11 (the STAN) as [`parse()`] finds them, by walking the lengths of
/// the fields before it and checking nothing else: for routing a message by its STAN at a
/// fraction of a parse's cost (a response is 4-5 length reads here, a whole parse of it some
/// ten times that).
///
/// Where [`parse()`] accepts `input`, this is `Some` of its field 11's wire bytes, or `None`
/// if it has no field 11. Where [`parse()`] rejects `input`, the answer means nothing (a
/// fault in the content of fields 2-11 or after field 11 goes unseen). Never panics.
///
/// ```
/// use iso8583_inspect::parse::{parse, stan_wire};
/// use iso8583_inspect::spec::ISO87_ASCII;
/// // An 0810 with fields 3, 11 and 39.
/// let bytes = b"0810202000000200000099000012345600";
/// assert_eq!(stan_wire(&ISO87_ASCII, bytes), Some(&b"123456"[..]));
/// assert_eq!(parse(&ISO87_ASCII, bytes).unwrap().field(11).unwrap().wire(), b"123456");
/// ```
#[must_use]
pub fn stan_wire<'a>(spec: &Spec, input: &'a [u8]) -> Option<&'a [u8]> {
    const STAN: u64 = bitmap::TOP >> 10;
    let at = input.get(spec.header.len() + mti_width(spec)..)?;
    let (primary, width) = bitmap::high_bits(spec.bitmap, at)?;
    if primary & STAN == 0 {
        return None;
    }
    // After the secondary bitmap, if any.
    let skip = if primary & bitmap::TOP != 0 { 2 } else { 1 };
    let mut rest = at.get(skip * width..)?;
    // Fields 2 to 11 in the high bits after field 1's.
    let mut bits = (primary << 1) >> 1;
    loop {
        let n = bits.leading_zeros() as usize + 1;
        bits &= !(bitmap::TOP >> (n - 1));
        let fs = spec.fields.get(n)?.as_ref()?;
        let (prefix, units) = match fs.length {
            Length::Fixed(units) => (0, usize::from(units)),
            _ => {
                let prefix = fs.prefix_width();
                (prefix, field::prefix_value(fs.prefix, rest.get(..prefix)?)?)
            }
        };
        let end = prefix + fs.data_width(units)?;
        if n == 11 {
            return rest.get(..end);
        }
        rest = rest.get(end..)?;
    }
}

/// The fields read before [`parse()`] stopped at a fault (every field, if it did not), in wire
/// order: for an error report that shows what came before the fault (mask card data as
/// [`Field::to_display_text`] does). A [`ParseError`] holds no input bytes; this borrows them.
/// Allocates: an error path.
///
/// ```
/// use iso8583_inspect::parse::fields_before_error;
/// use iso8583_inspect::spec::ISO87_ASCII;
/// // Field 11, then field 41 cut short.
/// let bytes = b"08000020000000800000000042TERM";
/// let (fields, error) = fields_before_error(&ISO87_ASCII, bytes);
/// assert_eq!(fields.iter().map(|f| f.number()).collect::<Vec<_>>(), [11]);
/// assert_eq!(error.unwrap().field(), Some(41));
/// ```
#[must_use]
pub fn fields_before_error<'a>(
    spec: &'a Spec,
    input: &'a [u8],
) -> (Vec<Field<'a>>, Option<ParseError>) {
    let mut fields = Vec::new();
    let result = parse_with::<true>(spec, input, |n, wire| {
        if let Some(fs) = spec.field(n) {
            fields.push(Field::new(n, fs, wire));
        }
    });
    (fields, result.err())
}

/// [`parse()`] with every field read by the careful path alone, never the straight-line ASCII
/// one. Both must give the same message or the same error (field and offset): property tests
/// and the `parse_paths` fuzz target hold them to it. Not for production use: it is slower.
#[doc(hidden)]
pub fn parse_careful<'a>(spec: &'a Spec, input: &'a [u8]) -> Result<Message<'a>, ParseError> {
    parse_with::<false>(spec, input, |_, _| {})
}

fn parse_with<'a, const FAST: bool>(
    spec: &'a Spec,
    input: &'a [u8],
    mut read: impl FnMut(usize, &'a [u8]),
) -> Result<Message<'a>, ParseError> {
    let total = input.len();
    let to_error = |location: Location| {
        move |e: nom::Err<Fail>| {
            let f = match e {
                nom::Err::Error(f) | nom::Err::Failure(f) => f,
                nom::Err::Incomplete(_) => Fail {
                    kind: ErrorKind::Truncated {
                        needed: 1,
                        available: 0,
                    },
                    rest: 0,
                },
            };
            ParseError {
                location,
                offset: total.saturating_sub(f.rest),
                kind: f.kind,
            }
        }
    };

    let header_len = spec.header.len();
    let (rest, _) = take_exact(input, header_len).map_err(to_error(Location::Header))?;
    let (rest, mti) = mti(spec, rest).map_err(to_error(Location::Mti))?;
    let mut bitmap_at = [total - rest.len(), 0, 0];
    let (mut rest, primary) =
        bitmap::bitmap(spec.bitmap, rest).map_err(to_error(Location::Bitmap))?;
    let mut bitmap = [primary, 0, 0];
    if primary & bitmap::TOP != 0 {
        bitmap_at[1] = total - rest.len();
        let (r, secondary) =
            bitmap::bitmap(spec.bitmap, rest).map_err(to_error(Location::Bitmap))?;
        bitmap[1] = secondary;
        rest = r;
    }

    // Element starts in wire order (see `Starts`), written into the message in place (a
    // local array moved into it at the end costs a copy of the whole array per message): the
    // secondary bitmap first, if any.
    let mut msg = Message::from_parts(spec, input, mti, bitmap, [0; MAX_FIELD + 2]);
    let mut rank = 0;
    if primary & bitmap::TOP != 0 {
        msg.set_start(0, bitmap_at[1]);
        rank = 1;
    }
    let fields: &[Option<crate::spec::FieldSpec>] = &spec.fields;
    let mut pos = total - rest.len();
    let mut word = 0;
    while word < 3 {
        let mut bits = bitmap.get(word).copied().unwrap_or(0);
        while bits != 0 {
            let lead = bits.leading_zeros() as usize;
            bits &= !(bitmap::TOP >> lead);
            let n = word * 64 + lead + 1;
            if n == 1 {
                continue;
            }
            msg.set_start(rank, pos);
            rank += 1;
            if n == 65 && spec.tertiary_bitmap {
                bitmap_at[2] = pos;
                let at = input.get(pos..).unwrap_or_default();
                let (r, tertiary) =
                    bitmap::bitmap(spec.bitmap, at).map_err(to_error(Location::Bitmap))?;
                bitmap[2] = tertiary;
                msg.set_bitmap(2, tertiary);
                pos = total - r.len();
                continue;
            }
            let Some(Some(fs)) = fields.get(n) else {
                return Err(ParseError {
                    location: Location::Bitmap,
                    offset: bitmap_at.get(word).copied().unwrap_or(0),
                    kind: ErrorKind::UndefinedField { field: n as u8 },
                });
            };
            if FAST {
                if let Some(end) = field::ascii_fast(fs, input, pos) {
                    read(n, input.get(pos..end).unwrap_or_default());
                    pos = end;
                    continue;
                }
            }
            let at = input.get(pos..).unwrap_or_default();
            let (r, wire) =
                field::field_checked(fs, at).map_err(to_error(Location::Field(n as u8)))?;
            read(n, wire);
            pos = total - r.len();
        }
        word += 1;
    }
    msg.set_start(rank, pos);
    if pos < total {
        return Err(ParseError {
            location: Location::Message,
            offset: pos,
            kind: ErrorKind::TrailingBytes { count: total - pos },
        });
    }
    Ok(msg)
}

/// The bytes of an MTI in the spec's format.
fn mti_width(spec: &Spec) -> usize {
    match spec.mti {
        crate::spec::MtiFormat::Ascii | crate::spec::MtiFormat::Ebcdic => 4,
        crate::spec::MtiFormat::Bcd => 2,
    }
}

/// The MTI in the spec's format.
fn mti<'a>(spec: &Spec, input: &'a [u8]) -> PResult<'a, Mti> {
    use crate::spec::MtiFormat;
    let (rest, raw) = take_exact(input, mti_width(spec))?;
    let mut value: u16 = 0;
    match spec.mti {
        MtiFormat::Ascii | MtiFormat::Ebcdic => {
            let zero = if spec.mti == MtiFormat::Ascii {
                b'0'
            } else {
                0xF0
            };
            for (i, &b) in raw.iter().enumerate() {
                let d = b.wrapping_sub(zero);
                if d > 9 {
                    let found = crate::error::Found::Byte(b);
                    return fail(input.len() - i, ErrorKind::NonDigit { expected: 4, found });
                }
                value = value * 10 + u16::from(d);
            }
        }
        MtiFormat::Bcd => {
            for (i, &b) in raw.iter().enumerate() {
                for nibble in [b >> 4, b & 0x0F] {
                    if nibble > 9 {
                        let found = crate::error::Found::Nibble(nibble);
                        return fail(input.len() - i, ErrorKind::NonDigit { expected: 4, found });
                    }
                    value = value * 10 + u16::from(nibble);
                }
            }
        }
    }
    Ok((rest, Mti::new(value)))
}
