//! Setting subfields by path: the parent field is rebuilt around the new value, so that what
//! [`crate::Message::subfield`] reads back is what was set.

use super::{MessageBuilder, Slot, encode_binary, encode_chars, put_prefix, unhex};
use crate::error::EncodeError;
use crate::message::Field;
use crate::spec::composite::{Layout, SubfieldSpec, TlvFormat};
use crate::spec::{Content, Encoding, FieldSpec, Length};

fn refuse(path: &str, reason: impl Into<String>) -> EncodeError {
    EncodeError::Subfield {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// The wire image (prefix and data) of one positional subfield holding `text` (hex for a
/// binary subfield).
fn element(path: &str, n: usize, sub: &SubfieldSpec, text: &[u8]) -> Result<Vec<u8>, EncodeError> {
    let fs = &sub.field;
    let slot = if fs.content == Content::B {
        encode_binary(n, fs, &unhex(n, text)?)
    } else {
        encode_chars(n, fs, text)
    }
    .map_err(|e| refuse(path, e.to_string()))?;
    let mut out = Vec::with_capacity(fs.prefix_width() + slot.data.len());
    put_prefix(&mut out, fs, slot.units);
    out.extend_from_slice(&slot.data);
    Ok(out)
}

/// What an absent positional subfield before the one set is filled with: zeros in a number,
/// spaces in text, zero bytes in binary, an empty value in a variable subfield.
fn filler(sub: &SubfieldSpec) -> Vec<u8> {
    let Length::Fixed(n) = sub.field.length else {
        return Vec::new();
    };
    let n = usize::from(n);
    match sub.field.content {
        Content::N | Content::Z => vec![b'0'; n],
        Content::XN => std::iter::once(b'C')
            .chain(std::iter::repeat_n(b'0', n - 1))
            .collect(),
        Content::B => vec![b'0'; n * 2],
        _ => vec![b' '; n],
    }
}

/// A BER length.
fn ber_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xFF {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

impl MessageBuilder<'_> {
    /// The current value of field `n` read through its spec, if set.
    fn current(&self, n: usize, fs: &FieldSpec) -> Option<(FieldSpec, Slot)> {
        let slot = self.fields.get(n)?.clone()?;
        let fixed = FieldSpec {
            length: Length::Fixed(u16::try_from(slot.units).unwrap_or(u16::MAX)),
            ..*fs
        };
        Some((fixed, slot))
    }

    /// Sets the subfield at `path` (`60.2`, `90.1`, `55.9F02`, `48.01`) from text: digits for
    /// a number, hex for binary and for a BER value, any text otherwise. The field is
    /// created if absent; positional subfields before the one set that are absent are filled
    /// (zeros in numbers, spaces in text, an empty variable subfield), and so are those after
    /// it in a fixed-length field; a TLV element replaces
    /// the one with its tag, or is appended. Nested BER paths (`55.70.5A`) are refused. On
    /// error nothing changes.
    pub fn set_subfield(&mut self, path: &str, text: &str) -> Result<&mut Self, EncodeError> {
        let (n, key) = path
            .split_once('.')
            .and_then(|(n, k)| Some((n.parse::<usize>().ok()?, k)))
            .filter(|(_, k)| !k.is_empty() && !k.contains('.'))
            .ok_or_else(|| refuse(path, "not FIELD.SUB (one level, e.g. 60.2 or 55.9F02)"))?;
        let fs = self.field_spec(n)?;
        let composite = self
            .spec
            .composite(n)
            .ok_or_else(|| refuse(path, format!("the spec gives field {n} no subfields")))?;
        let current = self.current(n, fs);
        let current = current
            .as_ref()
            .map(|(spec, slot)| Field::sub(n as u8, 0, spec, &slot.data));
        match &composite.layout {
            Layout::Positional(subs) => {
                let k = key
                    .parse::<u8>()
                    .ok()
                    .and_then(|id| subs.iter().position(|s| s.id == id))
                    .ok_or_else(|| refuse(path, "the spec has no such subfield"))?;
                let sub = subs
                    .get(k)
                    .ok_or_else(|| refuse(path, "no such subfield"))?;
                if fs.encoding == Encoding::Bcd {
                    let mut digits: Vec<u8> =
                        current.map(|f| f.chars().collect()).unwrap_or_default();
                    let start: usize = subs.iter().take(k).map(|s| s.field.length.max()).sum();
                    let len = sub.field.length.max();
                    if text.len() != len || !text.bytes().all(|c| c.is_ascii_digit()) {
                        return Err(refuse(path, format!("expected {len} digits")));
                    }
                    if digits.len() < start {
                        digits.resize(start, b'0');
                    }
                    let end = (start + len).min(digits.len());
                    digits.splice(start..end, text.bytes());
                    // A fixed field holds all its digits: the rest are zeros.
                    if let Length::Fixed(total) = fs.length {
                        digits.resize(usize::from(total), b'0');
                    }
                    return self.set_bytes(n, &digits);
                }
                // Elements end to end: split what is there, replace or add the one set.
                let mut parts: Vec<Vec<u8>> = Vec::new();
                if let Some(f) = current {
                    let mut rest = f.data();
                    for s in subs.iter() {
                        if rest.is_empty() {
                            break;
                        }
                        let wire =
                            crate::parse::field::element(&s.field, rest).map_err(|(at, e)| {
                                refuse(
                                    path,
                                    format!(
                                        "the field's subfield {} at byte {at} is malformed: {e}",
                                        s.id
                                    ),
                                )
                            })?;
                        parts.push(wire.to_vec());
                        rest = rest.get(wire.len()..).unwrap_or_default();
                    }
                }
                while parts.len() < k {
                    let s = subs
                        .get(parts.len())
                        .ok_or_else(|| refuse(path, "no such subfield"))?;
                    parts.push(element(path, n, s, &filler(s))?);
                }
                let new = element(path, n, sub, text.as_bytes())?;
                match parts.get_mut(k) {
                    Some(slot) => *slot = new,
                    None => parts.push(new),
                }
                // A fixed field holds all its subfields: the rest are filled.
                if matches!(fs.length, Length::Fixed(_)) {
                    while let Some(s) = subs.get(parts.len()) {
                        parts.push(element(path, n, s, &filler(s))?);
                    }
                }
                let data = parts.concat();
                // The parent's units are bytes (ASCII, EBCDIC or binary data).
                super::check_length(n, fs, data.len()).map_err(|e| refuse(path, e.to_string()))?;
                self.store(
                    n,
                    Slot {
                        units: data.len(),
                        data,
                    },
                );
                Ok(self)
            }
            Layout::Tlv(TlvFormat::Ber) => {
                let tag = unhex(n, key.as_bytes()).map_err(|_| refuse(path, "a BER tag is hex"))?;
                let value = unhex(n, text.as_bytes()).map_err(|e| refuse(path, e.to_string()))?;
                let bytes: Vec<u8> = current.map(|f| f.bytes().collect()).unwrap_or_default();
                let mut out = Vec::with_capacity(bytes.len() + value.len() + 8);
                let mut replaced = false;
                for item in crate::emv::tlvs(&bytes) {
                    let t = item
                        .map_err(|e| refuse(path, format!("the field's TLV is malformed: {e}")))?;
                    out.extend_from_slice(t.tag);
                    if t.tag == tag.as_slice() && !replaced {
                        replaced = true;
                        ber_length(&mut out, value.len());
                        out.extend_from_slice(&value);
                    } else {
                        ber_length(&mut out, t.value.len());
                        out.extend_from_slice(t.value);
                    }
                }
                if !replaced {
                    out.extend_from_slice(&tag);
                    ber_length(&mut out, value.len());
                    out.extend_from_slice(&value);
                }
                self.set_bytes(n, &out)
                    .map_err(|e| refuse(path, e.to_string()))
            }
            Layout::Tlv(TlvFormat::Fixed { tag, len }) => {
                let (tw, lw) = (usize::from(*tag), usize::from(*len));
                if key.len() != tw {
                    return Err(refuse(path, format!("a tag of {tw} characters")));
                }
                let max = 10usize.pow(u32::from(*len)) - 1;
                if text.len() > max {
                    return Err(refuse(path, format!("a value of at most {max} characters")));
                }
                let element = |t: &[u8], v: &[u8]| {
                    let mut e = t.to_vec();
                    e.extend_from_slice(format!("{:0lw$}", v.len()).as_bytes());
                    e.extend_from_slice(v);
                    e
                };
                let data: Vec<u8> = current.map(|f| f.data().to_vec()).unwrap_or_default();
                let mut out = Vec::with_capacity(data.len() + text.len() + tw + lw);
                let mut replaced = false;
                let mut rest = data.as_slice();
                while !rest.is_empty() {
                    let t = rest.get(..tw);
                    let l = rest.get(tw..tw + lw).and_then(|l| {
                        crate::parse::field::prefix_value(crate::spec::PrefixEncoding::Ascii, l)
                    });
                    let (Some(t), Some(l)) = (t, l) else {
                        return Err(refuse(path, "the field's TLV is malformed"));
                    };
                    let v = rest
                        .get(tw + lw..tw + lw + l)
                        .ok_or_else(|| refuse(path, "the field's TLV is malformed"))?;
                    if t == key.as_bytes() && !replaced {
                        replaced = true;
                        out.extend(element(t, text.as_bytes()));
                    } else {
                        out.extend(element(t, v));
                    }
                    rest = rest.get(tw + lw + l..).unwrap_or_default();
                }
                if !replaced {
                    out.extend(element(key.as_bytes(), text.as_bytes()));
                }
                self.set_bytes(n, &out)
                    .map_err(|e| refuse(path, e.to_string()))
            }
        }
    }
}
