//! Specs from TOML or JSON files, and the consistency checks every spec passes.
//!
//! ```toml
//! name = "acme-pos"
//! mti = "ascii"            # ascii | bcd | ebcdic
//! bitmap = "hex"           # hex | binary | hex-ebcdic
//! tertiary_bitmap = false  # optional
//! header = { tpdu = 6 }    # optional: { fixed = N } or { tpdu = N }
//!
//! [fields.2]
//! name = "Primary Account Number"
//! type = "n"               # n | a | an | ans | b | z | x+n
//! length = 19              # fixed length, or the maximum of a variable one
//! var = "ll"               # optional: ll | lll | llll (absent: fixed)
//! encoding = "ascii"       # ascii | ebcdic | ebcdic500 | bcd | binary | hex | hex-chars
//! prefix = "ascii"         # optional: ascii | ebcdic | bcd | binary (default ascii)
//! align = "right"          # optional, odd BCD digit counts: right | left
//! ```
//!
//! A composite field also says how its value divides ([`super::composite`]): `subfields =
//! [{ name = "batch", type = "n", length = 6, encoding = "bcd" }, ...]` (positional, each with
//! the keys of a field and an optional `id`, numbered from 1 by default), or `tlv = "ber"`, or
//! `tlv = { tag = 2, length = 3 }` (fixed-width ASCII tags and lengths). `charset = "gbk"`
//! marks a text field that carries Chinese text (43, 62 and 63 are marked unless a field says
//! `charset = "latin1"`). `mcc_field = 26` at
//! the top names the field that carries the merchant category code (default 18).
//! JSON takes the same keys (`{"name": ..., "fields": {"2": {...}}}`).
//!
//! A spec may start from another, a built-in or a file, and say only how it differs: its
//! fields are added or replace the base's, `remove` drops the base's, and `mti`, `bitmap`,
//! `header` and `tertiary_bitmap` default to the base's. A UnionPay sign-in whose terminal
//! sends field 47 (an acquirer's private field the built-in lacks) reads with:
//!
//! ```
//! use iso8583_inspect::spec::Spec;
//! let spec = Spec::from_toml_str(r#"
//!     name = "cup-pos-47"
//!     base = "cup-pos"
//!     remove = [59]
//!     [fields.47]
//!     name = "Additional Data - National (operator)"
//!     type = "ans"
//!     length = 999
//!     var = "lll"
//!     encoding = "ascii"
//!     prefix = "bcd"
//! "#)?;
//! assert!(spec.field(47).is_some() && spec.field(59).is_none());
//! assert_eq!(spec.field(2), iso8583_inspect::spec::CUP_POS.field(2));
//! assert_eq!(spec.header, iso8583_inspect::spec::CUP_POS.header);
//! # Ok::<(), iso8583_inspect::spec::SpecError>(())
//! ```

use super::composite::{Composite, Layout, SubfieldSpec, TlvFormat};
use super::{
    Align, BitmapFormat, Content, Encoding, FieldSpec, Header, Length, MAX_FIELD, MtiFormat, Names,
    PrefixEncoding, Spec,
};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

/// Why a spec could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read spec {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The TOML or JSON is malformed or has an unknown key or value (the message names the
    /// line and the key).
    #[error("spec syntax: {0}")]
    Syntax(String),
    /// The spec is readable but cannot describe messages.
    #[error("spec field {field}: {reason}")]
    Field {
        /// The field number.
        field: usize,
        /// What is wrong.
        reason: String,
    },
    /// Something outside the fields is wrong.
    #[error("spec: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    name: String,
    /// A spec to start from (a built-in name or a spec file): what this file says is added to
    /// it or replaces it.
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    mti: Option<MtiDef>,
    #[serde(default)]
    bitmap: Option<BitmapDef>,
    #[serde(default)]
    tertiary_bitmap: Option<bool>,
    #[serde(default)]
    header: Option<HeaderDef>,
    #[serde(default)]
    fields: BTreeMap<String, FieldDef>,
    /// Fields of the base that this dialect does not have.
    #[serde(default)]
    remove: Vec<usize>,
    /// The field carrying the merchant category code (default: the base's, else 18).
    #[serde(default)]
    mcc_field: Option<u8>,
}

/// The largest spec file read.
const MAX_SPEC_FILE: u64 = 1 << 20;

/// How many specs deep `base` may chain (a file naming itself is an error, not a loop).
const MAX_BASES: usize = 8;

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum MtiDef {
    Ascii,
    Bcd,
    Ebcdic,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum BitmapDef {
    Hex,
    Binary,
    #[serde(rename = "hex-ebcdic")]
    HexEbcdic,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
enum HeaderDef {
    Fixed(u16),
    Tpdu(u16),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldDef {
    #[serde(default)]
    name: String,
    #[serde(rename = "type")]
    content: ContentDef,
    length: u16,
    #[serde(default)]
    var: Option<VarDef>,
    encoding: EncodingDef,
    #[serde(default)]
    prefix: Option<PrefixDef>,
    #[serde(default)]
    align: Option<AlignDef>,
    /// Positional subfields, in order.
    #[serde(default)]
    subfields: Option<Vec<SubfieldDef>>,
    /// TLV subfields: `"ber"`, or `{ tag = 2, length = 3 }`.
    #[serde(default)]
    tlv: Option<TlvDef>,
    /// The character set of a text field's bytes: `"gbk"` (Chinese text) or `"latin1"`.
    #[serde(default)]
    charset: Option<CharsetDef>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum CharsetDef {
    Gbk,
    Latin1,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubfieldDef {
    /// The number in paths; by default one more than the subfield before (the first is 1).
    #[serde(default)]
    id: Option<u8>,
    #[serde(default)]
    name: String,
    #[serde(rename = "type")]
    content: ContentDef,
    length: u16,
    #[serde(default)]
    var: Option<VarDef>,
    encoding: EncodingDef,
    #[serde(default)]
    prefix: Option<PrefixDef>,
    #[serde(default)]
    align: Option<AlignDef>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TlvDef {
    Named(TlvName),
    Fixed { tag: u8, length: u8 },
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum TlvName {
    Ber,
}

#[derive(Deserialize)]
enum ContentDef {
    #[serde(rename = "n")]
    N,
    #[serde(rename = "a")]
    A,
    #[serde(rename = "an")]
    An,
    #[serde(rename = "ans")]
    Ans,
    #[serde(rename = "b")]
    B,
    #[serde(rename = "z")]
    Z,
    #[serde(rename = "x+n")]
    XN,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum VarDef {
    Ll,
    Lll,
    Llll,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum EncodingDef {
    Ascii,
    Ebcdic,
    Ebcdic500,
    Bcd,
    Binary,
    Hex,
    HexChars,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum PrefixDef {
    Ascii,
    Ebcdic,
    Bcd,
    Binary,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum AlignDef {
    Right,
    Left,
}

impl Spec {
    /// Loads a spec from TOML text; the error names the line and the key at fault.
    pub fn from_toml_str(text: &str) -> Result<Spec, SpecError> {
        let file: SpecFile = toml::from_str(text).map_err(|e| SpecError::Syntax(e.to_string()))?;
        from_file(file, 0)
    }

    /// Loads a spec from JSON text.
    pub fn from_json_str(text: &str) -> Result<Spec, SpecError> {
        let file: SpecFile =
            serde_json::from_str(text).map_err(|e| SpecError::Syntax(e.to_string()))?;
        from_file(file, 0)
    }

    /// Loads a spec file: JSON if its name ends in `.json`, jPOS GenericPackager XML if in
    /// `.xml` (with the `jpos` feature, on by default), TOML otherwise.
    pub fn load(path: impl AsRef<Path>) -> Result<Spec, SpecError> {
        load_at_depth(path.as_ref(), 0)
    }
}

fn from_file(file: SpecFile, depth: usize) -> Result<Spec, SpecError> {
    let base = match &file.base {
        None => None,
        Some(_) if depth >= MAX_BASES => {
            return Err(SpecError::Invalid(format!(
                "base: specs chain more than {MAX_BASES} deep (a spec that is its own base?)"
            )));
        }
        Some(name) => Some(match super::builtin(name) {
            Some(b) => b.clone(),
            None => load_at_depth(Path::new(name), depth + 1)
                .map_err(|e| SpecError::Invalid(format!("base {name:?}: {e}")))?,
        }),
    };
    let mut numbers = Vec::with_capacity(file.fields.len());
    for (key, def) in file.fields {
        let n: usize = key
            .parse()
            .ok()
            .filter(|n| (1..=MAX_FIELD).contains(n))
            .ok_or_else(|| {
                SpecError::Invalid(format!("field key {key:?} is not a number 2-192"))
            })?;
        numbers.push((n, def));
    }
    // The base's fields and names, then this file's.
    let mut fields: Vec<Option<FieldSpec>> =
        base.as_ref().map_or_else(Vec::new, |b| b.fields.to_vec());
    let mut names: Vec<String> = base.as_ref().map_or_else(Vec::new, |b| {
        (0..b.fields.len())
            .map(|n| b.field_name(n).to_string())
            .collect()
    });
    let top = numbers
        .iter()
        .map(|(n, _)| *n + 1)
        .chain([fields.len(), 2])
        .max()
        .unwrap_or(2);
    fields.resize(top, None);
    names.resize(top, String::new());
    // The base's composites, but for the fields this file redefines (their layout is what the
    // file says now) or removes.
    let mut composites: Vec<Composite> = base.as_ref().map_or_else(Vec::new, |b| {
        b.composites
            .iter()
            .filter(|c| {
                let n = usize::from(c.field);
                !numbers.iter().any(|(m, _)| *m == n) && !file.remove.contains(&n)
            })
            .cloned()
            .collect()
    });
    // GBK text: the base's fields (or 43, 62, 63 without a base), as this file's fields say.
    let mut gbk: Vec<u8> = base
        .as_ref()
        .map_or_else(|| vec![43, 62, 63], |b| b.gbk_fields.to_vec());
    gbk.retain(|g| !file.remove.contains(&usize::from(*g)));
    for (n, def) in &numbers {
        let n = u8::try_from(*n).unwrap_or(u8::MAX);
        match def.charset {
            Some(CharsetDef::Gbk) if !gbk.contains(&n) => gbk.push(n),
            Some(CharsetDef::Latin1) => gbk.retain(|g| *g != n),
            _ => {}
        }
    }
    for (n, def) in numbers {
        if let Some(c) = composite_from(n, &def)? {
            composites.push(c);
        }
        if let (Some(slot), Some(name)) = (fields.get_mut(n), names.get_mut(n)) {
            *slot = Some(field_from(&def));
            *name = def.name;
        }
    }
    for n in file.remove {
        match fields.get_mut(n) {
            Some(slot @ Some(_)) => *slot = None,
            _ => {
                return Err(SpecError::Field {
                    field: n,
                    reason: "remove names a field the spec does not have".into(),
                });
            }
        }
    }
    let required = |what: &str| {
        SpecError::Invalid(format!("`{what}` is required (or a `base` that gives it)"))
    };
    let spec = Spec {
        name: Cow::Owned(file.name),
        header: match (file.header, &base) {
            (Some(HeaderDef::Fixed(n)), _) => Header::Fixed(n),
            (Some(HeaderDef::Tpdu(n)), _) => Header::Tpdu(n),
            (None, Some(b)) => b.header,
            (None, None) => Header::None,
        },
        mti: match (file.mti, &base) {
            (Some(MtiDef::Ascii), _) => MtiFormat::Ascii,
            (Some(MtiDef::Bcd), _) => MtiFormat::Bcd,
            (Some(MtiDef::Ebcdic), _) => MtiFormat::Ebcdic,
            (None, Some(b)) => b.mti,
            (None, None) => return Err(required("mti")),
        },
        bitmap: match (file.bitmap, &base) {
            (Some(BitmapDef::Hex), _) => BitmapFormat::HexAscii,
            (Some(BitmapDef::Binary), _) => BitmapFormat::Binary,
            (Some(BitmapDef::HexEbcdic), _) => BitmapFormat::HexEbcdic,
            (None, Some(b)) => b.bitmap,
            (None, None) => return Err(required("bitmap")),
        },
        tertiary_bitmap: file
            .tertiary_bitmap
            .unwrap_or(base.as_ref().is_some_and(|b| b.tertiary_bitmap)),
        fields: Cow::Owned(fields),
        names: Names::Owned(names),
        composites: Cow::Owned(composites),
        mcc_field: file
            .mcc_field
            .unwrap_or(base.as_ref().map_or(18, |b| b.mcc_field)),
        gbk_fields: Cow::Owned(gbk),
    };
    spec.check()?;
    Ok(spec)
}

/// [`Spec::load`], `depth` specs down a chain of bases.
fn load_at_depth(path: &Path, depth: usize) -> Result<Spec, SpecError> {
    let io = |source| SpecError::Io {
        path: path.display().to_string(),
        source,
    };
    // A spec is a small regular file: never read a device or a huge file into memory.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() || meta.len() > MAX_SPEC_FILE {
        return Err(SpecError::Invalid(format!(
            "{}: not a regular file of at most {MAX_SPEC_FILE} bytes",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let extension = path.extension().map(|e| e.to_ascii_lowercase());
    if extension.as_deref() == Some(std::ffi::OsStr::new("xml")) {
        #[cfg(feature = "jpos")]
        {
            let name = path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            return Spec::from_jpos_xml(&text, &name);
        }
        #[cfg(not(feature = "jpos"))]
        return Err(SpecError::Invalid(format!(
            "{}: jPOS XML specs need the `jpos` feature",
            path.display()
        )));
    }
    let file: SpecFile = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        serde_json::from_str(&text).map_err(|e| SpecError::Syntax(e.to_string()))?
    } else {
        toml::from_str(&text).map_err(|e| SpecError::Syntax(e.to_string()))?
    };
    from_file(file, depth)
}

fn field_from(def: &FieldDef) -> FieldSpec {
    layout_from(
        &def.content,
        def.length,
        def.var.as_ref(),
        &def.encoding,
        def.prefix.as_ref(),
        def.align.as_ref(),
    )
}

/// A field's or subfield's layout from its keys.
fn layout_from(
    content: &ContentDef,
    length: u16,
    var: Option<&VarDef>,
    encoding: &EncodingDef,
    prefix: Option<&PrefixDef>,
    align: Option<&AlignDef>,
) -> FieldSpec {
    let content = match content {
        ContentDef::N => Content::N,
        ContentDef::A => Content::A,
        ContentDef::An => Content::An,
        ContentDef::Ans => Content::Ans,
        ContentDef::B => Content::B,
        ContentDef::Z => Content::Z,
        ContentDef::XN => Content::XN,
    };
    let length = match var {
        None => Length::Fixed(length),
        Some(VarDef::Ll) => Length::LlVar(length),
        Some(VarDef::Lll) => Length::LllVar(length),
        Some(VarDef::Llll) => Length::LlllVar(length),
    };
    let encoding = match encoding {
        EncodingDef::Ascii => Encoding::Ascii,
        EncodingDef::Ebcdic => Encoding::Ebcdic,
        EncodingDef::Ebcdic500 => Encoding::Ebcdic500,
        EncodingDef::Bcd => Encoding::Bcd,
        EncodingDef::Binary => Encoding::Binary,
        EncodingDef::Hex => Encoding::Hex,
        EncodingDef::HexChars => Encoding::HexChars,
    };
    let prefix = match prefix {
        None | Some(PrefixDef::Ascii) => PrefixEncoding::Ascii,
        Some(PrefixDef::Ebcdic) => PrefixEncoding::Ebcdic,
        Some(PrefixDef::Bcd) => PrefixEncoding::Bcd,
        Some(PrefixDef::Binary) => PrefixEncoding::Binary,
    };
    let align = match align {
        None | Some(AlignDef::Right) => Align::Right,
        Some(AlignDef::Left) => Align::Left,
    };
    FieldSpec {
        content,
        length,
        encoding,
        prefix,
        align,
    }
}

/// The composite a field definition declares, if any.
fn composite_from(n: usize, def: &FieldDef) -> Result<Option<Composite>, SpecError> {
    let field = u8::try_from(n).unwrap_or(u8::MAX);
    let layout = match (&def.subfields, &def.tlv) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(SpecError::Field {
                field: n,
                reason: "`subfields` and `tlv` are two layouts: give one".into(),
            });
        }
        (None, Some(TlvDef::Named(TlvName::Ber))) => Layout::Tlv(TlvFormat::Ber),
        (None, Some(TlvDef::Fixed { tag, length })) => Layout::Tlv(TlvFormat::Fixed {
            tag: *tag,
            len: *length,
        }),
        (Some(subs), None) => {
            let mut out = Vec::with_capacity(subs.len());
            let mut next: u16 = 1;
            for s in subs {
                let id = match s.id {
                    Some(id) => id,
                    None => u8::try_from(next).map_err(|_| SpecError::Field {
                        field: n,
                        reason: "more than 255 subfields".into(),
                    })?,
                };
                next = u16::from(id) + 1;
                out.push(SubfieldSpec {
                    id,
                    name: Cow::Owned(s.name.clone()),
                    field: layout_from(
                        &s.content,
                        s.length,
                        s.var.as_ref(),
                        &s.encoding,
                        s.prefix.as_ref(),
                        s.align.as_ref(),
                    ),
                });
            }
            Layout::Positional(Cow::Owned(out))
        }
    };
    Ok(Some(Composite { field, layout }))
}

/// The consistency checks of [`Spec::check`].
pub(super) fn check(spec: &Spec) -> Result<(), SpecError> {
    if spec.fields.len() > MAX_FIELD + 1 {
        return Err(SpecError::Invalid(format!(
            "{} field slots: a message holds at most fields 2-{MAX_FIELD}",
            spec.fields.len() - 1
        )));
    }
    for (n, field) in spec.fields.iter().enumerate() {
        let Some(field) = field else { continue };
        let bad = |reason: String| Err(SpecError::Field { field: n, reason });
        if n < 2 {
            return bad("bit 1 announces the secondary bitmap; fields start at 2".into());
        }
        if n == 65 && spec.tertiary_bitmap {
            return bad("bit 65 announces the tertiary bitmap in this spec".into());
        }
        if n > 128 && !spec.tertiary_bitmap {
            return bad("fields above 128 need `tertiary_bitmap = true`".into());
        }
        let max = field.length.max();
        if max == 0 {
            return bad("a length of 0 cannot carry a value".into());
        }
        if field.prefix_width() > 0 && max > field.prefix_capacity() {
            return bad(format!(
                "maximum {max} does not fit its {}-digit {:?} length prefix (at most {})",
                field.length.prefix_digits(),
                field.prefix,
                field.prefix_capacity()
            ));
        }
        let numeric = matches!(field.content, Content::N | Content::Z | Content::XN);
        match field.encoding {
            Encoding::Bcd if !numeric => {
                return bad(format!(
                    "`{}` content cannot be BCD; only n, z and x+n can",
                    field.content.as_str()
                ));
            }
            Encoding::Binary | Encoding::Hex | Encoding::HexChars
                if field.content != Content::B =>
            {
                return bad(format!(
                    "`{}` content cannot use {} encoding; only b can",
                    field.content.as_str(),
                    field.encoding.as_str()
                ));
            }
            Encoding::Ascii | Encoding::Ebcdic | Encoding::Ebcdic500 | Encoding::Bcd
                if field.content == Content::B =>
            {
                return bad("`b` content needs binary, hex or hex-chars encoding".into());
            }
            _ => {}
        }
        if field.content == Content::XN && max < 2 {
            return bad("`x+n` needs a sign and at least one digit".into());
        }
        if field.encoding == Encoding::HexChars
            && matches!(field.length, Length::Fixed(n) if n % 2 == 1)
        {
            return bad("a fixed hex-chars field needs an even number of characters".into());
        }
    }
    if !(2..=MAX_FIELD).contains(&usize::from(spec.mcc_field)) {
        return Err(SpecError::Invalid(format!(
            "mcc_field {} is not a field number 2-{MAX_FIELD}",
            spec.mcc_field
        )));
    }
    for (i, c) in spec.composites.iter().enumerate() {
        let n = usize::from(c.field);
        let bad = |reason: String| Err(SpecError::Field { field: n, reason });
        if spec.composites.iter().take(i).any(|d| d.field == c.field) {
            return bad("two subfield layouts for one field".into());
        }
        let Some(parent) = spec.field(n) else {
            return bad("subfields declared for a field the spec does not have".into());
        };
        if let Err(reason) = super::composite::check(parent, &c.layout) {
            return bad(reason);
        }
    }
    if let Header::Fixed(0) = spec.header {
        return Err(SpecError::Invalid(
            "a fixed header of 0 bytes: omit the header instead".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "acme"
mti = "ascii"
bitmap = "hex"
header = { fixed = 4 }

[fields.2]
name = "PAN"
type = "n"
length = 19
var = "ll"
encoding = "ascii"

[fields.4]
type = "n"
length = 12
encoding = "bcd"

[fields.52]
type = "b"
length = 8
encoding = "binary"
"#;

    #[test]
    fn loads_toml() {
        let spec = Spec::from_toml_str(GOOD).unwrap();
        assert_eq!(spec.name, "acme");
        assert_eq!(spec.header, Header::Fixed(4));
        assert_eq!(spec.field(2).unwrap().length, Length::LlVar(19));
        assert_eq!(spec.field(4).unwrap().encoding, Encoding::Bcd);
        assert_eq!(spec.field_name(2), "PAN");
        assert!(spec.field(3).is_none());
    }

    #[test]
    fn loads_json() {
        let json = r#"{"name":"j","mti":"bcd","bitmap":"binary",
            "fields":{"3":{"type":"n","length":6,"encoding":"bcd"},
                      "35":{"type":"z","length":37,"var":"ll","encoding":"bcd","prefix":"bcd","align":"left"}}}"#;
        let spec = Spec::from_json_str(json).unwrap();
        assert_eq!(spec.mti, MtiFormat::Bcd);
        assert_eq!(spec.field(35).unwrap().align, Align::Left);
        assert_eq!(spec.field(35).unwrap().prefix_width(), 1);
    }

    fn err(text: &str) -> String {
        Spec::from_toml_str(text).unwrap_err().to_string()
    }

    #[test]
    fn rejects_inconsistent_specs_at_load() {
        let head = "name='x'\nmti='ascii'\nbitmap='hex'\n";
        let e = err(&format!(
            "{head}[fields.3]\ntype='n'\nlength=0\nencoding='ascii'\n"
        ));
        assert!(e.contains("field 3") && e.contains("length of 0"), "{e}");
        let e = err(&format!(
            "{head}[fields.2]\ntype='n'\nlength=120\nvar='ll'\nencoding='ascii'\n"
        ));
        assert!(e.contains("field 2") && e.contains("does not fit"), "{e}");
        let e = err(&format!(
            "{head}[fields.2]\ntype='ans'\nlength=12\nencoding='bcd'\n"
        ));
        assert!(e.contains("cannot be BCD"), "{e}");
        let e = err(&format!(
            "{head}[fields.130]\ntype='n'\nlength=2\nencoding='ascii'\n"
        ));
        assert!(e.contains("tertiary_bitmap"), "{e}");
        let e = err(&format!(
            "{head}[fields.1]\ntype='n'\nlength=2\nencoding='ascii'\n"
        ));
        assert!(e.contains("secondary bitmap"), "{e}");
        let e = err(&format!(
            "{head}[fields.x]\ntype='n'\nlength=2\nencoding='ascii'\n"
        ));
        assert!(e.contains("not a number"), "{e}");
    }

    #[test]
    fn syntax_errors_name_the_line_and_key() {
        let e = err(
            "name='x'\nmti='ascii'\nbitmap='hex'\n[fields.2]\ntype='n'\nlength=2\nencodin='ascii'\n",
        );
        assert!(e.contains("line 7") || e.contains("7 |"), "{e}");
        assert!(e.contains("encodin"), "{e}");
        let e = err("name='x'\nmti='octal'\nbitmap='hex'\n[fields]\n");
        assert!(
            e.contains("octal") && (e.contains("line 2") || e.contains("2 |")),
            "{e}"
        );
    }

    #[test]
    fn a_spec_says_how_it_differs_from_its_base() {
        use crate::spec::CUP_POS;
        use crate::{MessageBuilder, Mti};
        let spec = Spec::from_toml_str(
            "name = 'cup-pos-47'\nbase = 'cup-pos'\nremove = [59]\n[fields.47]\nname = 'Operator'\ntype = 'ans'\nlength = 999\nvar = 'lll'\nencoding = 'ascii'\nprefix = 'bcd'\n[fields.4]\ntype = 'n'\nlength = 10\nencoding = 'bcd'\n",
        )
        .unwrap();
        assert_eq!(spec.field_name(47), "Operator");
        assert_eq!(spec.field_name(41), CUP_POS.field_name(41));
        assert_eq!(spec.field(4).unwrap().length, Length::Fixed(10));
        assert!(spec.field(59).is_none());
        assert_eq!((spec.mti, spec.header), (CUP_POS.mti, CUP_POS.header));
        // A sign-in carrying 47 reads with it, and not with the base.
        let mut b = MessageBuilder::new(&spec, Mti::NETWORK_REQUEST);
        b.set_header(&[0x60, 0, 6, 0, 0, 0x60, 0x31, 0, 0x31, 0x10, 0x03])
            .unwrap();
        b.set_text(11, "000001")
            .unwrap()
            .set_text(47, "OPERATOR 01")
            .unwrap();
        let bytes = b.to_vec().unwrap();
        assert!(crate::parse(&spec, &bytes).is_ok());
        let e = crate::parse(&CUP_POS, &bytes).unwrap_err();
        assert!(e.to_string().contains("names field 47"), "{e}");
    }

    #[test]
    fn a_base_that_cannot_be_found_or_loops_is_an_error() {
        let err = |t: &str| Spec::from_toml_str(t).unwrap_err().to_string();
        assert!(err("name = 'x'\nbase = 'nope.toml'\n").contains("base \"nope.toml\""));
        assert!(err("name = 'x'\nbitmap = 'hex'\n").contains("`mti` is required"));
        assert!(err("name = 'x'\nbase = 'cup-pos'\nremove = [18]\n").contains("field 18: remove"));
        let dir = std::env::temp_dir().join(format!("iso8583-spec-loop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("self.toml");
        std::fs::write(&path, format!("name = 'x'\nbase = '{}'\n", path.display())).unwrap();
        let e = Spec::load(&path).unwrap_err().to_string();
        assert!(e.contains("more than 8 deep"), "{e}");
        assert!(err("name = 'x'\nbase = '/dev/zero'\n").contains("not a regular file"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
