//! Specs from jPOS GenericPackager XML, the files switch teams keep their dialects in.
//!
//! Each `<isofield id= length= name= class= pad=>` becomes a [`FieldSpec`] by its class: `IFA_`
//! (ASCII data and prefixes), `IFB_` (BCD numerics and prefixes, ASCII text, raw binary; `LLH`
//! a binary length prefix), `IFE_` (EBCDIC), `IF_CHAR`, and the `NUMERIC`, `CHAR`, `BINARY`,
//! `AMOUNT` and `BITMAP` kinds; field 0's class gives the MTI's format, field 1's the bitmap's,
//! and a bitmap class at 65 makes it the tertiary bitmap. `pad="true"` on a BCD numeric pads
//! odd digit counts on the left. An `<isofieldpackager>` (a composite field) is read by its own
//! class; a `GenericSubFieldPackager` that writes no bitmap (`emitBitmap="false"`) gives its
//! `<isofield>`s as positional subfields ([`super::composite`]); one with a subfield bitmap
//! stays a whole field (its subfields are not modelled). Track data (35, 36) in a numeric class
//! is read as track content (digits and the separator jPOS writes there). `IF_NOP` fields are
//! left out. The field whose name says it is the merchant category code (`Merchant category
//! code`, `Merchant type`) becomes the spec's [`Spec::mcc_field`] (26 in `iso2003binary.xml`).
//! A class
//! that has no equivalent here is an error that names the class and the field.
//!
//! ```
//! use iso8583_inspect::spec::Spec;
//! let spec = Spec::from_jpos_xml(r#"<isopackager>
//!   <isofield id="0" length="4" name="MTI" class="org.jpos.iso.IFA_NUMERIC"/>
//!   <isofield id="1" length="16" name="Bitmap" class="org.jpos.iso.IFA_BITMAP"/>
//!   <isofield id="2" length="19" name="PAN" class="org.jpos.iso.IFA_LLNUM"/>
//!   <isofield id="11" length="6" name="STAN" class="org.jpos.iso.IFA_NUMERIC"/>
//! </isopackager>"#, "mini")?;
//! assert_eq!(spec.field(2).unwrap().describe(), "n..19 ascii");
//! let err = Spec::from_jpos_xml(r#"<isopackager>
//!   <isofield id="0" length="4" name="MTI" class="org.jpos.iso.IFA_NUMERIC"/>
//!   <isofield id="1" length="16" name="Bitmap" class="org.jpos.iso.IFA_BITMAP"/>
//!   <isofield id="7" length="4" name="x" class="org.jpos.iso.IFX_MAGIC"/>
//! </isopackager>"#, "bad").unwrap_err();
//! assert_eq!(err.to_string(), "spec field 7: jPOS class org.jpos.iso.IFX_MAGIC is not supported");
//! # Ok::<(), iso8583_inspect::spec::SpecError>(())
//! ```

use super::composite::{Composite, Layout, SubfieldSpec};
use super::{
    Align, BitmapFormat, Content, Encoding, FieldSpec, Header, Length, MAX_FIELD, MtiFormat, Names,
    PrefixEncoding, Spec, SpecError,
};
use std::borrow::Cow;

/// What a jPOS field class says: the data's kind and encoding, and the prefix.
struct Class {
    content: Content,
    encoding: Encoding,
    /// Prefix digits (0: fixed) and their encoding.
    digits: u8,
    prefix: PrefixEncoding,
}

/// What a class is: a field layout, a bitmap, or nothing on the wire.
enum Kind {
    Field(Class),
    Bitmap(BitmapFormat),
    Nop,
}

/// The layout of a jPOS class, by its short name (`IFB_LLNUM`).
fn class(short: &str) -> Option<Kind> {
    use Content::{Ans, B, N, XN};
    use Encoding::{Ascii, Bcd, Binary, Ebcdic, Hex};
    let f = |content, encoding, digits, prefix| {
        Some(Kind::Field(Class {
            content,
            encoding,
            digits,
            prefix,
        }))
    };
    let (a, b, e, h) = (
        PrefixEncoding::Ascii,
        PrefixEncoding::Bcd,
        PrefixEncoding::Ebcdic,
        PrefixEncoding::Binary,
    );
    match short {
        "IF_NOP" => Some(Kind::Nop),
        "IFA_BITMAP" => Some(Kind::Bitmap(BitmapFormat::HexAscii)),
        "IFB_BITMAP" => Some(Kind::Bitmap(BitmapFormat::Binary)),
        "IFE_BITMAP" => Some(Kind::Bitmap(BitmapFormat::HexEbcdic)),
        "IF_CHAR" => f(Ans, Ascii, 0, a),
        "IFA_NUMERIC" => f(N, Ascii, 0, a),
        "IFA_LLNUM" => f(N, Ascii, 2, a),
        "IFA_LLLNUM" => f(N, Ascii, 3, a),
        "IFA_LLCHAR" => f(Ans, Ascii, 2, a),
        "IFA_LLLCHAR" => f(Ans, Ascii, 3, a),
        "IFA_LLLLCHAR" => f(Ans, Ascii, 4, a),
        "IFA_AMOUNT" => f(XN, Ascii, 0, a),
        "IFA_BINARY" => f(B, Hex, 0, a),
        "IFA_LLBINARY" => f(B, Binary, 2, a),
        "IFA_LLLBINARY" => f(B, Binary, 3, a),
        "IFB_NUMERIC" => f(N, Bcd, 0, b),
        // An ISO 8583:2003 amount (currency, minor unit, value) is a BCD number on the wire.
        "IFB_AMOUNT2003" => f(N, Bcd, 0, b),
        "IFB_LLNUM" => f(N, Bcd, 2, b),
        "IFB_LLLNUM" => f(N, Bcd, 3, b),
        "IFB_LLHNUM" => f(N, Bcd, 2, h),
        "IFB_LLCHAR" => f(Ans, Ascii, 2, b),
        "IFB_LLLCHAR" => f(Ans, Ascii, 3, b),
        "IFB_LLLLCHAR" => f(Ans, Ascii, 4, b),
        "IFB_LLHCHAR" => f(Ans, Ascii, 2, h),
        "IFB_LLHECHAR" => f(Ans, Ebcdic, 2, h),
        "IFB_BINARY" => f(B, Binary, 0, b),
        "IFB_LLBINARY" => f(B, Binary, 2, b),
        "IFB_LLLBINARY" => f(B, Binary, 3, b),
        "IFB_LLLLBINARY" => f(B, Binary, 4, b),
        "IFB_LLHBINARY" => f(B, Binary, 2, h),
        "IFB_AMOUNT" => f(XN, Bcd, 0, b),
        "IFE_NUMERIC" => f(N, Ebcdic, 0, e),
        "IFE_LLNUM" => f(N, Ebcdic, 2, e),
        "IFE_CHAR" => f(Ans, Ebcdic, 0, e),
        "IFE_LLCHAR" => f(Ans, Ebcdic, 2, e),
        "IFE_LLLCHAR" => f(Ans, Ebcdic, 3, e),
        "IFE_AMOUNT" => f(XN, Ebcdic, 0, e),
        "IFE_BINARY" => f(B, Binary, 0, e),
        "IFE_LLBINARY" => f(B, Binary, 2, e),
        "IFE_LLLBINARY" => f(B, Binary, 3, e),
        _ => None,
    }
}

/// A field's layout from its class, `length` attribute and `pad` attribute.
fn layout(c: &Class, length: u16, pad_left: bool) -> FieldSpec {
    let length = match c.digits {
        0 => Length::Fixed(length),
        2 => Length::LlVar(length),
        3 => Length::LllVar(length),
        _ => Length::LlllVar(length),
    };
    // jPOS pads an odd BCD digit count on the left when asked (pad="true"), else on the right
    // (the digits left-aligned).
    let align = match c.encoding {
        Encoding::Bcd if !pad_left => Align::Left,
        _ => Align::Right,
    };
    FieldSpec {
        content: c.content,
        length,
        encoding: c.encoding,
        prefix: c.prefix,
        align,
    }
}

/// The positional subfields of an `<isofieldpackager>` whose packager writes no bitmap, or
/// `None` for one that does (a subfield bitmap is not modelled: the field stays whole).
fn subfields(
    node: &roxmltree::Node<'_, '_>,
    n: usize,
) -> Result<Option<Vec<SubfieldSpec>>, SpecError> {
    let packager = node.attribute("packager").unwrap_or("");
    let generic = packager.rsplit('.').next() == Some("GenericSubFieldPackager");
    if !generic || node.attribute("emitBitmap").map(str::trim) != Some("false") {
        return Ok(None);
    }
    let mut out = Vec::new();
    for child in node.children().filter(roxmltree::Node::is_element) {
        if child.tag_name().name() != "isofield" {
            return Err(field_error(
                n,
                format!(
                    "a nested <{}> inside a subfield packager is not supported",
                    child.tag_name().name()
                ),
            ));
        }
        let attr = |k: &str| child.attribute(k).map(str::trim);
        let id: u8 = attr("id")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| field_error(n, "a subfield without an id 0-255".into()))?;
        let full = attr("class").unwrap_or("");
        let short = full.rsplit('.').next().unwrap_or(full);
        let Some(Kind::Field(c)) = class(short) else {
            return Err(field_error(
                n,
                format!("subfield {id}: jPOS class {full} is not supported"),
            ));
        };
        let length: u16 = attr("length").and_then(|v| v.parse().ok()).ok_or_else(|| {
            field_error(
                n,
                format!("subfield {id}: no length, or not a number 0-65535"),
            )
        })?;
        out.push(SubfieldSpec {
            id,
            name: Cow::Owned(attr("name").unwrap_or("").to_string()),
            field: layout(&c, length, attr("pad") == Some("true")),
        });
    }
    Ok(Some(out))
}

fn field_error(field: usize, reason: String) -> SpecError {
    SpecError::Field { field, reason }
}

impl Spec {
    /// A spec from a jPOS GenericPackager XML document (see the module docs of
    /// `spec::jpos`), named `name`.
    pub fn from_jpos_xml(xml: &str, name: &str) -> Result<Spec, SpecError> {
        let doc = roxmltree::Document::parse_with_options(
            xml,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..roxmltree::ParsingOptions::default()
            },
        )
        .map_err(|e| SpecError::Syntax(format!("jPOS XML: {e}")))?;
        let root = doc.root_element();
        if root.tag_name().name() != "isopackager" {
            return Err(SpecError::Syntax(format!(
                "jPOS XML: the root element is <{}>, not <isopackager>",
                root.tag_name().name()
            )));
        }
        let mut fields: Vec<Option<FieldSpec>> = vec![None; 2];
        let mut names: Vec<String> = vec![String::new(); 2];
        let mut composites: Vec<Composite> = Vec::new();
        // The field named as the merchant category code (26 in ISO 8583:2003 files).
        let mut mcc_field: Option<u8> = None;
        let (mut mti, mut bitmap, mut tertiary) = (None, None, false);
        for node in root.children().filter(roxmltree::Node::is_element) {
            let tag = node.tag_name().name();
            if tag != "isofield" && tag != "isofieldpackager" {
                continue;
            }
            let attr = |k: &str| node.attribute(k).map(str::trim);
            let id: usize = attr("id")
                .and_then(|v| v.parse().ok())
                .filter(|n| *n <= MAX_FIELD)
                .ok_or_else(|| {
                    SpecError::Syntax(format!(
                        "jPOS XML line {}: <{tag}> without an id 0-{MAX_FIELD}",
                        doc.text_pos_at(node.range().start).row
                    ))
                })?;
            let full = attr("class").unwrap_or("");
            let short = full.rsplit('.').next().unwrap_or(full);
            let kind = class(short)
                .ok_or_else(|| field_error(id, format!("jPOS class {full} is not supported")))?;
            let length: u16 = attr("length")
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| field_error(id, "no length, or not a number 0-65535".into()))?;
            match (id, kind) {
                (_, Kind::Nop) => continue,
                (0, Kind::Field(c)) => {
                    mti = Some(match (c.content, c.encoding) {
                        (Content::N, Encoding::Ascii) => MtiFormat::Ascii,
                        (Content::N, Encoding::Bcd) => MtiFormat::Bcd,
                        (Content::N, Encoding::Ebcdic) => MtiFormat::Ebcdic,
                        _ => {
                            return Err(field_error(
                                0,
                                format!("jPOS class {full} is not supported for the MTI"),
                            ));
                        }
                    });
                    continue;
                }
                (1, Kind::Bitmap(b)) => {
                    bitmap = Some(b);
                    continue;
                }
                (65, Kind::Bitmap(_)) => {
                    tertiary = true;
                    continue;
                }
                (n, Kind::Bitmap(_)) => {
                    return Err(field_error(
                        n,
                        format!("a bitmap class ({full}) is supported at 1 and 65 only"),
                    ));
                }
                (1, Kind::Field(_)) => {
                    return Err(field_error(
                        1,
                        format!("jPOS class {full} cannot be the bitmap"),
                    ));
                }
                (n, Kind::Field(c)) => {
                    let field = layout(&c, length, attr("pad") == Some("true"));
                    // Track data (35, 36) in a numeric class holds its separator ('=' in ASCII,
                    // nibble D in BCD), as jPOS writes it: the track content class.
                    let content = if matches!(n, 35 | 36) && c.content == Content::N {
                        Content::Z
                    } else {
                        c.content
                    };
                    if tag == "isofieldpackager" {
                        if let Some(subs) = subfields(&node, n)? {
                            composites.push(Composite {
                                field: u8::try_from(n).unwrap_or(u8::MAX),
                                layout: Layout::Positional(Cow::Owned(subs)),
                            });
                        }
                    }
                    if fields.len() <= n {
                        fields.resize(n + 1, None);
                        names.resize(n + 1, String::new());
                    }
                    if let (Some(slot), Some(name)) = (fields.get_mut(n), names.get_mut(n)) {
                        *slot = Some(FieldSpec { content, ..field });
                        *name = attr("name").unwrap_or("").to_string();
                        let lower = name.to_ascii_lowercase();
                        let names_mcc = lower.contains("merchant category code")
                            || lower.contains("merchant type")
                            || lower.contains("merchants type");
                        if names_mcc && mcc_field.is_none() {
                            mcc_field = u8::try_from(n).ok();
                        }
                    }
                }
            }
        }
        let spec = Spec {
            name: Cow::Owned(name.to_string()),
            header: Header::None,
            mti: mti.ok_or_else(|| field_error(0, "no MTI (field 0) defined".into()))?,
            bitmap: bitmap.ok_or_else(|| field_error(1, "no bitmap (field 1) defined".into()))?,
            tertiary_bitmap: tertiary,
            fields: Cow::Owned(fields),
            names: Names::Owned(names),
            composites: Cow::Owned(composites),
            mcc_field: mcc_field.unwrap_or(18),
            // A packager file says nothing of character sets: the fields that carry Chinese
            // text where it occurs (43, 62, 63).
            gbk_fields: Cow::Owned(vec![43, 62, 63]),
        };
        spec.check()?;
        Ok(spec)
    }
}
