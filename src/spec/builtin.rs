//! The built-in dialects, as constants.
//!
//! Sources (facts only; no text or code was taken from them):
//! - ISO 8583:1987 field formats as laid out by pyiso8583's `default` and `default_ascii` specs
//!   (`iso8583/specs.py`, MIT) and by jPOS `ISO87APackager` / `ISO87BPackager`.
//! - ISO 8583:1993 field formats as laid out by jPOS `ISO93APackager`.
//! - The China UnionPay POS terminal dialect from public descriptions of the UnionPay terminal
//!   message fields: 中国银联 POS 终端消息域说明 (2002), the open-source POSP `chinaljp/posp`
//!   (`posd` terminal side) and `teddy-lee/AIAUnionPay` (`CUPPackager`), and the field tables
//!   published at csdndocs.com/article/7712474 (银联常用8583报文域说明).
//!
//! ## Where the layouts differ from their sources
//! - [`ISO87_ASCII`] follows pyiso8583 `default_ascii`: binary fields (52, 55, 64, 65, 96, 128)
//!   are hex characters and their length (fixed, or the LLL prefix of 55) counts **characters**
//!   (55 holds at most 510). jPOS writes a fixed binary field as hex too (`IFA_BINARY`, 16
//!   characters for 8 bytes, the same bytes on the wire), but a variable one (`IFA_LLLBINARY`)
//!   as **raw bytes** after an ASCII prefix counting bytes, and its `ISO87APackager` makes 55 a
//!   text field. [`ISO93_ASCII`] follows jPOS; a custom spec chooses per field with
//!   `encoding = "hex"`, `"hex-chars"` or `"binary"`.
//! - In the ISO 1987 built-ins bit 65 is an 8-byte field, as pyiso8583 and jPOS `ISO87A` treat
//!   it, not a tertiary bitmap; [`ISO93_ASCII`] reads bit 65 as the tertiary bitmap.
//! - [`ISO87_BCD`] follows jPOS `ISO87BPackager`, including its quirks: 54 holds at most 120
//!   characters, 55 is text (`ans...999`), 65 is one byte, 93 six characters and 96 sixteen
//!   bytes.
//! - Track 3 (36) is `z..104` (digits and separators, checked like track 2) in every built-in,
//!   as ISO 8583 defines it; jPOS makes it a text field, and its own test data puts text there.
//!   [`ISO87_BCD`] writes it in ASCII as jPOS does.
//! - `x+n` fields (28-31, 97) count the sign in their length (`x+n 8` is 9 units), as both
//!   pyiso8583 and jPOS do; in BCD the sign is one ASCII byte followed by the packed digits.
//! - Text content classes (`a`, `an`, `ans`) are not checked character by character, so the
//!   built-ins accept what pyiso8583 accepts there; `n`, `z` and `x+n` are checked.

use super::composite::{Composite, Layout, SubfieldSpec, chars, digits};
use super::{
    Align, BitmapFormat, Content, Encoding, FieldSpec, Header, Length, MtiFormat, Names,
    PrefixEncoding, Spec,
};
use std::borrow::Cow;

use Content::{An, Ans, B, N, XN, Z};

/// A field of a base table: content, length and name; encodings are applied per dialect.
#[derive(Clone, Copy)]
struct Def {
    content: Content,
    length: Length,
    name: &'static str,
}

const fn f(content: Content, n: u16, name: &'static str) -> Def {
    Def {
        content,
        length: Length::Fixed(n),
        name,
    }
}
const fn ll(content: Content, n: u16, name: &'static str) -> Def {
    Def {
        content,
        length: Length::LlVar(n),
        name,
    }
}
const fn lll(content: Content, n: u16, name: &'static str) -> Def {
    Def {
        content,
        length: Length::LllVar(n),
        name,
    }
}
const UNUSED: Def = f(Ans, 0, "");

/// ISO 8583:1987, as pyiso8583 lays it out (binary fields in bytes).
const ISO87: [Def; 129] = [
    UNUSED,
    UNUSED, // bit 1: secondary bitmap
    ll(N, 19, "Primary Account Number (PAN)"),
    f(N, 6, "Processing Code"),
    f(N, 12, "Amount, Transaction"),
    f(N, 12, "Amount, Settlement"),
    f(N, 12, "Amount, Cardholder Billing"),
    f(N, 10, "Transmission Date and Time"),
    f(N, 8, "Amount, Cardholder Billing Fee"),
    f(N, 8, "Conversion Rate, Settlement"),
    f(N, 8, "Conversion Rate, Cardholder Billing"),
    f(N, 6, "System Trace Audit Number"),
    f(N, 6, "Time, Local Transaction"),
    f(N, 4, "Date, Local Transaction"),
    f(N, 4, "Date, Expiration"),
    f(N, 4, "Date, Settlement"),
    f(N, 4, "Date, Conversion"),
    f(N, 4, "Date, Capture"),
    f(N, 4, "Merchant Type"),
    f(N, 3, "Acquiring Institution Country Code"),
    f(N, 3, "PAN Country Code"),
    f(N, 3, "Forwarding Institution Country Code"),
    f(N, 3, "Point-of-Service Entry Mode"),
    f(N, 3, "PAN Sequence Number"),
    f(N, 3, "Network International ID (NII)"),
    f(N, 2, "Point-of-Service Condition Code"),
    f(N, 2, "Point-of-Service Capture Code"),
    f(N, 1, "Authorizing ID Response Length"),
    f(XN, 9, "Amount, Transaction Fee"),
    f(XN, 9, "Amount, Settlement Fee"),
    f(XN, 9, "Amount, Transaction Processing Fee"),
    f(XN, 9, "Amount, Settlement Processing Fee"),
    ll(N, 11, "Acquiring Institution ID Code"),
    ll(N, 11, "Forwarding Institution ID Code"),
    ll(Ans, 28, "Primary Account Number, Extended"),
    ll(Z, 37, "Track 2 Data"),
    lll(Z, 104, "Track 3 Data"),
    f(An, 12, "Retrieval Reference Number"),
    f(An, 6, "Authorization ID Response"),
    f(An, 2, "Response Code"),
    f(An, 3, "Service Restriction Code"),
    f(Ans, 8, "Card Acceptor Terminal ID"),
    f(Ans, 15, "Card Acceptor ID Code"),
    f(Ans, 40, "Card Acceptor Name/Location"),
    ll(An, 25, "Additional Response Data"),
    ll(An, 76, "Track 1 Data"),
    lll(An, 999, "Additional Data - ISO"),
    lll(An, 999, "Additional Data - National"),
    lll(An, 999, "Additional Data - Private"),
    f(An, 3, "Currency Code, Transaction"),
    f(An, 3, "Currency Code, Settlement"),
    f(An, 3, "Currency Code, Cardholder Billing"),
    f(B, 8, "PIN"),
    f(N, 16, "Security-Related Control Information"),
    lll(An, 240, "Additional Amounts"),
    lll(B, 255, "ICC data"),
    lll(Ans, 999, "Reserved ISO"),
    lll(Ans, 999, "Reserved National"),
    lll(Ans, 999, "Reserved National"),
    lll(Ans, 999, "Reserved National"),
    lll(Ans, 999, "Reserved National"),
    lll(Ans, 999, "Reserved Private"),
    lll(Ans, 999, "Reserved Private"),
    lll(Ans, 999, "Reserved Private"),
    f(B, 8, "MAC"),
    f(B, 8, "Bitmap, Extended"),
    f(N, 1, "Settlement Code"),
    f(N, 2, "Extended Payment Code"),
    f(N, 3, "Receiving Institution Country Code"),
    f(N, 3, "Settlement Institution Country Code"),
    f(N, 3, "Network Management Information Code"),
    f(N, 4, "Message Number"),
    f(N, 4, "Message Number, Last"),
    f(N, 6, "Date, Action"),
    f(N, 10, "Credits, Number"),
    f(N, 10, "Credits, Reversal Number"),
    f(N, 10, "Debits, Number"),
    f(N, 10, "Debits, Reversal Number"),
    f(N, 10, "Transfer, Number"),
    f(N, 10, "Transfer, Reversal Number"),
    f(N, 10, "Inquiries, Number"),
    f(N, 10, "Authorizations, Number"),
    f(N, 12, "Credits, Processing Fee Amount"),
    f(N, 12, "Credits, Transaction Fee Amount"),
    f(N, 12, "Debits, Processing Fee Amount"),
    f(N, 12, "Debits, Transaction Fee Amount"),
    f(N, 16, "Credits, Amount"),
    f(N, 16, "Credits, Reversal Amount"),
    f(N, 16, "Debits, Amount"),
    f(N, 16, "Debits, Reversal Amount"),
    f(N, 42, "Original Data Elements"),
    f(An, 1, "File Update Code"),
    f(An, 2, "File Security Code"),
    f(An, 5, "Response Indicator"),
    f(An, 7, "Service Indicator"),
    f(An, 42, "Replacement Amounts"),
    f(B, 8, "Message Security Code"),
    f(XN, 17, "Amount, Net Settlement"),
    f(Ans, 25, "Payee"),
    ll(N, 11, "Settlement Institution ID Code"),
    ll(N, 11, "Receiving Institution ID Code"),
    ll(Ans, 17, "File Name"),
    ll(Ans, 28, "Account ID 1"),
    ll(Ans, 28, "Account ID 2"),
    lll(Ans, 100, "Transaction Description"),
    lll(Ans, 999, "Reserved for ISO Use"),
    lll(Ans, 999, "Reserved for ISO Use"),
    lll(Ans, 999, "Reserved for ISO Use"),
    lll(Ans, 999, "Reserved for ISO Use"),
    lll(Ans, 999, "Reserved for ISO Use"),
    lll(Ans, 999, "Reserved for ISO Use"),
    lll(Ans, 999, "Reserved for ISO Use"),
    lll(Ans, 999, "Reserved for National Use"),
    lll(Ans, 999, "Reserved for National Use"),
    lll(Ans, 999, "Reserved for National Use"),
    lll(Ans, 999, "Reserved for National Use"),
    lll(Ans, 999, "Reserved for National Use"),
    lll(Ans, 999, "Reserved for National Use"),
    lll(Ans, 999, "Reserved for National Use"),
    lll(Ans, 999, "Reserved for National Use"),
    lll(Ans, 999, "Reserved for Private Use"),
    lll(Ans, 999, "Reserved for Private Use"),
    lll(Ans, 999, "Reserved for Private Use"),
    lll(Ans, 999, "Reserved for Private Use"),
    lll(Ans, 999, "Reserved for Private Use"),
    lll(Ans, 999, "Reserved for Private Use"),
    lll(Ans, 999, "Reserved for Private Use"),
    lll(Ans, 999, "Reserved for Private Use"),
    f(B, 8, "MAC"),
];

/// ISO 8583:1993, as jPOS `ISO93APackager` lays it out (binary fields in bytes).
const ISO93: [Def; 129] = [
    UNUSED,
    UNUSED,
    ll(N, 19, "Primary account number"),
    f(N, 6, "Processing code"),
    f(N, 12, "Amount, transaction"),
    f(N, 12, "Amount, reconciliation"),
    f(N, 12, "Amount, cardholder billing"),
    f(N, 10, "Date and time, transmission"),
    f(N, 8, "Amount, cardholder billing fee"),
    f(N, 8, "Conversion rate, reconciliation"),
    f(N, 8, "Conversion rate, cardholder billing"),
    f(N, 6, "Systems trace audit number"),
    f(N, 12, "Date and time, local transaction"),
    f(N, 4, "Date, effective"),
    f(N, 4, "Date, expiration"),
    f(N, 6, "Date, settlement"),
    f(N, 4, "Date, conversion"),
    f(N, 4, "Date, capture"),
    f(N, 4, "Merchant type"),
    f(N, 3, "Country code, acquiring institution"),
    f(N, 3, "Country code, primary account number"),
    f(N, 3, "Country code, forwarding institution"),
    f(An, 12, "Point of service data code"),
    f(N, 3, "Card sequence number"),
    f(N, 3, "Function code"),
    f(N, 4, "Message reason code"),
    f(N, 4, "Card acceptor business code"),
    f(N, 1, "Approval code length"),
    f(N, 6, "Date, reconciliation"),
    f(N, 3, "Reconciliation indicator"),
    f(N, 24, "Amounts, original"),
    ll(Ans, 99, "Acquirer reference data"),
    ll(N, 11, "Acquiring institution identification code"),
    ll(N, 11, "Forwarding institution identification code"),
    ll(Ans, 28, "Primary account number, extended"),
    ll(Z, 37, "Track 2 data"),
    lll(Z, 104, "Track 3 data"),
    f(An, 12, "Retrieval reference number"),
    f(An, 6, "Approval code"),
    f(N, 3, "Action code"),
    f(N, 3, "Service code"),
    f(Ans, 8, "Card acceptor terminal identification"),
    f(Ans, 15, "Card acceptor identification code"),
    ll(Ans, 99, "Card acceptor name/location"),
    ll(Ans, 99, "Additional response data"),
    ll(Ans, 76, "Track 1 data"),
    lll(Ans, 204, "Amounts, fees"),
    lll(Ans, 999, "Additional data - national"),
    lll(Ans, 999, "Additional data - private"),
    f(An, 3, "Currency code, transaction"),
    f(An, 3, "Currency code, reconciliation"),
    f(An, 3, "Currency code, cardholder billing"),
    f(B, 8, "Personal identification number (PIN) data"),
    ll(B, 48, "Security related control information"),
    lll(Ans, 120, "Amounts, additional"),
    lll(B, 255, "Integrated circuit card system related data"),
    ll(N, 35, "Original data elements"),
    f(N, 3, "Authorization life cycle code"),
    ll(N, 11, "Authorizing agent institution identification code"),
    lll(Ans, 999, "Transport data"),
    lll(Ans, 999, "Reserved for national use"),
    lll(Ans, 999, "Reserved for national use"),
    lll(Ans, 999, "Reserved for private use"),
    lll(Ans, 999, "Reserved for private use"),
    f(B, 8, "Message authentication code"),
    UNUSED, // bit 65: tertiary bitmap
    lll(Ans, 204, "Amounts, original fees"),
    f(N, 2, "Extended payment data"),
    f(N, 3, "Country code, receiving institution"),
    f(N, 3, "Country code, settlement institution"),
    f(N, 3, "Country code, authorizing agent institution"),
    f(N, 8, "Message number"),
    lll(Ans, 999, "Data record"),
    f(N, 6, "Date, action"),
    f(N, 10, "Credits, number"),
    f(N, 10, "Credits, reversal number"),
    f(N, 10, "Debits, number"),
    f(N, 10, "Debits, reversal number"),
    f(N, 10, "Transfer, number"),
    f(N, 10, "Transfer, reversal number"),
    f(N, 10, "Inquiries, number"),
    f(N, 10, "Authorizations, number"),
    f(N, 10, "Inquiries, reversal number"),
    f(N, 10, "Payments, number"),
    f(N, 10, "Payments, reversal number"),
    f(N, 10, "Fee collections, number"),
    f(N, 16, "Credits, amount"),
    f(N, 16, "Credits, reversal amount"),
    f(N, 16, "Debits, amount"),
    f(N, 16, "Debits, reversal amount"),
    f(N, 10, "Authorizations, reversal number"),
    f(N, 3, "Country code, transaction destination institution"),
    f(N, 3, "Country code, transaction originator institution"),
    ll(
        N,
        11,
        "Transaction destination institution identification code",
    ),
    ll(
        N,
        11,
        "Transaction originator institution identification code",
    ),
    ll(Ans, 99, "Card issuer reference data"),
    lll(B, 999, "Key management data"),
    f(XN, 17, "Amount, net reconciliation"),
    f(Ans, 25, "Payee"),
    ll(An, 11, "Settlement institution identification code"),
    ll(N, 11, "Receiving institution identification code"),
    ll(Ans, 17, "File name"),
    ll(Ans, 28, "Account identification 1"),
    ll(Ans, 28, "Account identification 2"),
    lll(Ans, 100, "Transaction description"),
    f(N, 16, "Credits, chargeback amount"),
    f(N, 16, "Debits, chargeback amount"),
    f(N, 10, "Credits, chargeback number"),
    f(N, 10, "Debits, chargeback number"),
    ll(Ans, 84, "Credits, fee amounts"),
    ll(Ans, 84, "Debits, fee amounts"),
    lll(Ans, 999, "Reserved for ISO use"),
    lll(Ans, 999, "Reserved for ISO use"),
    lll(Ans, 999, "Reserved for ISO use"),
    lll(Ans, 999, "Reserved for ISO use"),
    lll(Ans, 999, "Reserved for ISO use"),
    lll(Ans, 999, "Reserved for national use"),
    lll(Ans, 999, "Reserved for national use"),
    lll(Ans, 999, "Reserved for national use"),
    lll(Ans, 999, "Reserved for national use"),
    lll(Ans, 999, "Reserved for national use"),
    lll(Ans, 999, "Reserved for national use"),
    lll(Ans, 999, "Reserved for national use"),
    lll(Ans, 999, "Reserved for private use"),
    lll(Ans, 999, "Reserved for private use"),
    lll(Ans, 999, "Reserved for private use"),
    lll(Ans, 999, "Reserved for private use"),
    lll(Ans, 999, "Reserved for private use"),
    f(B, 8, "Message authentication code"),
];

/// The UnionPay POS terminal fields; the alignment is that of odd BCD digit counts.
const CUP: [(usize, Def, Align); 34] = [
    (2, ll(N, 19, "Primary Account Number"), Align::Left),
    (3, f(N, 6, "Processing Code"), Align::Right),
    (4, f(N, 12, "Amount, Transaction"), Align::Right),
    (11, f(N, 6, "System Trace Audit Number"), Align::Right),
    (12, f(N, 6, "Time, Local Transaction"), Align::Right),
    (13, f(N, 4, "Date, Local Transaction"), Align::Right),
    (14, f(N, 4, "Date, Expiration"), Align::Right),
    (15, f(N, 4, "Date, Settlement"), Align::Right),
    (22, f(N, 3, "Point-of-Service Entry Mode"), Align::Left),
    (23, f(N, 3, "Card Sequence Number"), Align::Right),
    (25, f(N, 2, "Point-of-Service Condition Code"), Align::Right),
    (
        26,
        f(N, 2, "Point-of-Service PIN Capture Code"),
        Align::Right,
    ),
    (32, ll(N, 11, "Acquiring Institution ID Code"), Align::Left),
    (35, ll(Z, 37, "Track 2 Data"), Align::Left),
    (36, lll(Z, 104, "Track 3 Data"), Align::Left),
    (37, f(An, 12, "Retrieval Reference Number"), Align::Right),
    (38, f(An, 6, "Authorization ID Response"), Align::Right),
    (39, f(An, 2, "Response Code"), Align::Right),
    (41, f(Ans, 8, "Card Acceptor Terminal ID"), Align::Right),
    (42, f(Ans, 15, "Card Acceptor ID Code"), Align::Right),
    (44, ll(Ans, 25, "Additional Response Data"), Align::Right),
    (48, lll(N, 322, "Additional Data - Private"), Align::Left),
    (49, f(An, 3, "Currency Code, Transaction"), Align::Right),
    (52, f(B, 8, "PIN Data"), Align::Right),
    (
        53,
        f(N, 16, "Security Related Control Information"),
        Align::Right,
    ),
    // The 2002 terminal spec says ..20; posd accepts ..40 (two balances): take the larger.
    (54, lll(Ans, 40, "Additional Amounts"), Align::Right),
    (55, lll(B, 255, "ICC System Related Data"), Align::Right),
    (59, lll(Ans, 999, "Reserved Private"), Align::Right),
    (
        60,
        lll(N, 17, "Reserved Private (type, batch, NMI)"),
        Align::Left,
    ),
    (
        61,
        lll(N, 29, "Original Message (batch, trace, date)"),
        Align::Left,
    ),
    (62, lll(Ans, 512, "Reserved Private"), Align::Right),
    (
        63,
        lll(Ans, 163, "Reserved Private (operator / card organisation)"),
        Align::Right,
    ),
    (64, f(B, 8, "MAC"), Align::Right),
    (1, UNUSED, Align::Right),
];

#[derive(Clone, Copy, PartialEq)]
enum Style {
    /// pyiso8583 `default_ascii`: text and hex characters (counting characters) throughout.
    Ascii,
    /// pyiso8583 `default`: text, raw binary fields.
    AsciiBinary,
    /// jPOS `ISO87BPackager`: BCD numerics and prefixes, ASCII text, raw binary.
    Bcd,
    /// jPOS `ISO93APackager`: text, fixed binary as hex, variable binary raw.
    Ascii93,
}

const fn field_of(d: Def, style: Style, align: Align) -> FieldSpec {
    let numeric = matches!(d.content, N | Z | XN);
    let encoding = match (style, d.content) {
        (Style::Ascii, B) => Encoding::HexChars,
        // jPOS IFA_BINARY is hex characters; IFA_LLBINARY / IFA_LLLBINARY are raw bytes.
        (Style::Ascii93, B) => match d.length {
            Length::Fixed(_) => Encoding::Hex,
            _ => Encoding::Binary,
        },
        (Style::AsciiBinary | Style::Bcd, B) => Encoding::Binary,
        (Style::Bcd, _) if numeric => Encoding::Bcd,
        _ => Encoding::Ascii,
    };
    let prefix = match style {
        Style::Bcd => PrefixEncoding::Bcd,
        _ => PrefixEncoding::Ascii,
    };
    let length = match (style, d.content, d.length) {
        // pyiso8583 default_ascii counts the characters of a hex binary field.
        (Style::Ascii, B, Length::Fixed(n)) => Length::Fixed(n * 2),
        (Style::Ascii, B, Length::LllVar(n)) => Length::LllVar(n * 2),
        (Style::Ascii, B, Length::LlVar(n)) => Length::LlVar(n * 2),
        (_, _, l) => l,
    };
    FieldSpec {
        content: d.content,
        length,
        encoding,
        prefix,
        align,
    }
}

// Indexing in a const fn is checked when the constant is evaluated: out of bounds is a
// compile error, never a panic at run time.
#[allow(clippy::indexing_slicing)]
const fn table(defs: &[Def; 129], style: Style, first_tertiary: bool) -> [Option<FieldSpec>; 129] {
    let mut out = [None; 129];
    let mut i = 2;
    while i < 129 {
        if !(first_tertiary && i == 65) {
            // jPOS ISO87B pads LLNUM fields on the right, fixed numerics on the left.
            let align = match defs[i].length {
                Length::Fixed(_) => Align::Right,
                _ => Align::Left,
            };
            out[i] = Some(field_of(defs[i], style, align));
        }
        i += 1;
    }
    out
}

// Indexing in a const fn is checked when the constant is evaluated: out of bounds is a
// compile error, never a panic at run time.
#[allow(clippy::indexing_slicing)]
const fn names_of(defs: &[Def; 129]) -> [&'static str; 129] {
    let mut out = [""; 129];
    let mut i = 0;
    while i < 129 {
        out[i] = defs[i].name;
        i += 1;
    }
    out
}

// Indexing in a const fn is checked when the constant is evaluated: out of bounds is a
// compile error, never a panic at run time.
#[allow(clippy::indexing_slicing)]
const fn iso87_bcd_table() -> [Option<FieldSpec>; 129] {
    let mut t = table(&ISO87, Style::Bcd, false);
    // jPOS writes track 3 as text (IFB_LLLCHAR): the digits and separators in ASCII.
    t[36] = Some(FieldSpec {
        encoding: Encoding::Ascii,
        ..field_of(lll(Z, 104, ""), Style::Bcd, Align::Right)
    });
    t[54] = Some(field_of(lll(An, 120, ""), Style::Bcd, Align::Right));
    t[55] = Some(field_of(lll(Ans, 999, ""), Style::Bcd, Align::Right));
    t[65] = Some(field_of(f(B, 1, ""), Style::Bcd, Align::Right));
    t[93] = Some(field_of(f(An, 6, ""), Style::Bcd, Align::Right));
    t[96] = Some(field_of(f(B, 16, ""), Style::Bcd, Align::Right));
    t
}

// Indexing in a const fn is checked when the constant is evaluated: out of bounds is a
// compile error, never a panic at run time.
#[allow(clippy::indexing_slicing)]
const fn cup_table() -> ([Option<FieldSpec>; 65], [&'static str; 65]) {
    let mut t = [None; 65];
    let mut names = [""; 65];
    let mut i = 0;
    while i < CUP.len() {
        let (n, d, align) = CUP[i];
        if n != 1 {
            t[n] = Some(field_of(d, Style::Bcd, align));
            names[n] = d.name;
        }
        i += 1;
    }
    (t, names)
}

static ISO87_NAMES: [&str; 129] = names_of(&ISO87);
static ISO93_NAMES: [&str; 129] = names_of(&ISO93);
static ISO87_ASCII_FIELDS: [Option<FieldSpec>; 129] = table(&ISO87, Style::Ascii, false);
static ISO87_BINARY_FIELDS: [Option<FieldSpec>; 129] = table(&ISO87, Style::AsciiBinary, false);
static ISO87_BCD_FIELDS: [Option<FieldSpec>; 129] = iso87_bcd_table();
static ISO93_FIELDS: [Option<FieldSpec>; 129] = table(&ISO93, Style::Ascii93, true);
static CUP_TABLES: ([Option<FieldSpec>; 65], [&str; 65]) = cup_table();

/// ISO 8583:1987 field 43, name and location: name ans25, city ans13, country a2.
const fn location_43(encoding: Encoding) -> [SubfieldSpec; 3] {
    [
        chars(1, Ans, 25, encoding, "Card Acceptor Name"),
        chars(2, Ans, 13, encoding, "Card Acceptor City"),
        chars(3, Content::A, 2, encoding, "Card Acceptor Country"),
    ]
}

/// ISO 8583:1987 field 90, original data elements, in ASCII digits.
const ORIGINAL_90_ASCII: [SubfieldSpec; 5] = [
    chars(1, N, 4, Encoding::Ascii, "Original MTI"),
    chars(2, N, 6, Encoding::Ascii, "Original STAN"),
    chars(
        3,
        N,
        10,
        Encoding::Ascii,
        "Original Transmission Date and Time",
    ),
    chars(
        4,
        N,
        11,
        Encoding::Ascii,
        "Original Acquiring Institution ID",
    ),
    chars(
        5,
        N,
        11,
        Encoding::Ascii,
        "Original Forwarding Institution ID",
    ),
];

/// ISO 8583:1987 field 90 in packed BCD.
const ORIGINAL_90_BCD: [SubfieldSpec; 5] = [
    digits(1, 4, "Original MTI"),
    digits(2, 6, "Original STAN"),
    digits(3, 10, "Original Transmission Date and Time"),
    digits(4, 11, "Original Acquiring Institution ID"),
    digits(5, 11, "Original Forwarding Institution ID"),
];

/// The UnionPay terminal's field 60 (BCD digits).
const CUP_60: [SubfieldSpec; 7] = [
    digits(1, 2, "Message Type Code"),
    digits(2, 6, "Batch Number"),
    digits(3, 3, "Network Management Information Code"),
    digits(4, 1, "Terminal Read Capability"),
    digits(5, 1, "IC Card Condition Code"),
    digits(6, 1, "Partial Approval Flag"),
    digits(7, 3, "Account Type"),
];

static LOCATION_43_ASCII: [SubfieldSpec; 3] = location_43(Encoding::Ascii);

/// The fields that carry Chinese text in the dialects users meet: name and location, and the
/// private fields of the UnionPay terminal dialect.
static GBK_FIELDS: [u8; 3] = [43, 62, 63];

/// The composites of the ISO 1987 built-ins with ASCII numerics (43 and 90).
static ISO87_ASCII_COMPOSITES: [Composite; 2] = [
    Composite {
        field: 43,
        layout: Layout::Positional(Cow::Borrowed(&LOCATION_43_ASCII)),
    },
    Composite {
        field: 90,
        layout: Layout::Positional(Cow::Borrowed(&ORIGINAL_90_ASCII)),
    },
];

/// The composites of [`ISO87_BCD`]: 43 in ASCII, 90 in BCD digits.
static ISO87_BCD_COMPOSITES: [Composite; 2] = [
    Composite {
        field: 43,
        layout: Layout::Positional(Cow::Borrowed(&LOCATION_43_ASCII)),
    },
    Composite {
        field: 90,
        layout: Layout::Positional(Cow::Borrowed(&ORIGINAL_90_BCD)),
    },
];

/// The composites of [`CUP_POS`]: 60 (55 is EMV TLV by default).
static CUP_COMPOSITES: [Composite; 1] = [Composite {
    field: 60,
    layout: Layout::Positional(Cow::Borrowed(&CUP_60)),
}];

/// The composites of [`CUPS`]: 90 (43 carries the acquirer's 40-character name whole; 55 is
/// EMV TLV by default).
static CUPS_COMPOSITES: [Composite; 1] = [Composite {
    field: 90,
    layout: Layout::Positional(Cow::Borrowed(&ORIGINAL_90_ASCII)),
}];

/// ISO 8583:1987 in ASCII with hex-character bitmaps, laid out exactly as pyiso8583's
/// `default_ascii` spec (binary fields as hex characters, their length counting characters).
pub static ISO87_ASCII: Spec = Spec {
    name: Cow::Borrowed("iso87-ascii"),
    header: Header::None,
    mti: MtiFormat::Ascii,
    bitmap: BitmapFormat::HexAscii,
    tertiary_bitmap: false,
    fields: Cow::Borrowed(&ISO87_ASCII_FIELDS),
    names: Names::Static(&ISO87_NAMES),
    composites: Cow::Borrowed(&ISO87_ASCII_COMPOSITES),
    mcc_field: 18,
    gbk_fields: Cow::Borrowed(&GBK_FIELDS),
};

/// ISO 8583:1987 in ASCII with 8-byte binary bitmaps and raw binary fields, laid out exactly as
/// pyiso8583's `default` spec.
pub static ISO87_ASCII_BINARY_BITMAP: Spec = Spec {
    name: Cow::Borrowed("iso87-ascii-binary-bitmap"),
    header: Header::None,
    mti: MtiFormat::Ascii,
    bitmap: BitmapFormat::Binary,
    tertiary_bitmap: false,
    fields: Cow::Borrowed(&ISO87_BINARY_FIELDS),
    names: Names::Static(&ISO87_NAMES),
    composites: Cow::Borrowed(&ISO87_ASCII_COMPOSITES),
    mcc_field: 18,
    gbk_fields: Cow::Borrowed(&GBK_FIELDS),
};

/// ISO 8583:1987 with a BCD MTI, binary bitmaps, BCD numerics and BCD length prefixes, text in
/// ASCII and raw binary fields: the layout of jPOS `ISO87BPackager` (`iso87binary.xml`).
pub static ISO87_BCD: Spec = Spec {
    name: Cow::Borrowed("iso87-bcd"),
    header: Header::None,
    mti: MtiFormat::Bcd,
    bitmap: BitmapFormat::Binary,
    tertiary_bitmap: false,
    fields: Cow::Borrowed(&ISO87_BCD_FIELDS),
    names: Names::Static(&ISO87_NAMES),
    composites: Cow::Borrowed(&ISO87_BCD_COMPOSITES),
    mcc_field: 18,
    gbk_fields: Cow::Borrowed(&GBK_FIELDS),
};

/// ISO 8583:1993 in ASCII with hex-character bitmaps (bit 65 announces a tertiary bitmap),
/// fixed binary fields as hex characters, variable ones as raw bytes after an ASCII prefix
/// counting bytes: jPOS `ISO93APackager`.
pub static ISO93_ASCII: Spec = Spec {
    name: Cow::Borrowed("iso93-ascii"),
    header: Header::None,
    mti: MtiFormat::Ascii,
    bitmap: BitmapFormat::HexAscii,
    tertiary_bitmap: true,
    fields: Cow::Borrowed(&ISO93_FIELDS),
    names: Names::Static(&ISO93_NAMES),
    composites: Cow::Borrowed(&[]),
    mcc_field: 18,
    gbk_fields: Cow::Borrowed(&GBK_FIELDS),
};

/// The China UnionPay POS terminal dialect: a 5-byte TPDU and a 6-byte BCD header, BCD MTI,
/// one binary bitmap (fields 2-64), BCD numerics with BCD length prefixes (a length counts
/// digits for `n`/`z` and bytes for `b`/`ans`), text in ASCII. Fields 60-63 follow the
/// UnionPay terminal specification: 60 `n..17` (60.1 message type n2, 60.2 batch n6, 60.3
/// network management code n3, 60.4-60.7 flags), 61 `n..29` (original batch, trace and date),
/// 62 `ans..512`, 63 `ans..163` (operator code in requests, card organisation in responses).
/// Fields 18 and 43 are not part of the terminal dialect.
pub static CUP_POS: Spec = Spec {
    name: Cow::Borrowed("cup-pos"),
    header: Header::Tpdu(6),
    mti: MtiFormat::Bcd,
    bitmap: BitmapFormat::Binary,
    tertiary_bitmap: false,
    fields: Cow::Borrowed(&CUP_TABLES.0),
    names: Names::Static(&CUP_TABLES.1),
    composites: Cow::Borrowed(&CUP_COMPOSITES),
    mcc_field: 18,
    gbk_fields: Cow::Borrowed(&GBK_FIELDS),
};

/// The China UnionPay network (CUPS) dialect an acquirer speaks to UnionPay's switch: the
/// 46-byte CUPS header ([`crate::cups`]), an ASCII MTI, binary bitmaps (primary and secondary,
/// 16 bytes), ASCII fields with ASCII LL/LLL prefixes on the ISO 1987 table, binary fields raw
/// (52 and 128 `b8`, 55 `b..255` LLL). 43 is `ans40` and carries GBK text; 60 and 121-123 are
/// `ans..999`; 90 is `n42` (original MTI, STAN, transmission time, acquirer, forwarder); 100 is
/// `n..11`. The framing is [`crate::frame::Framing::Cups`].
pub static CUPS: Spec = Spec {
    name: Cow::Borrowed("cups"),
    header: Header::Fixed(crate::cups::HEADER_LEN as u16),
    mti: MtiFormat::Ascii,
    bitmap: BitmapFormat::Binary,
    tertiary_bitmap: false,
    fields: Cow::Borrowed(&ISO87_BINARY_FIELDS),
    names: Names::Static(&ISO87_NAMES),
    composites: Cow::Borrowed(&CUPS_COMPOSITES),
    mcc_field: 18,
    gbk_fields: Cow::Borrowed(&GBK_FIELDS),
};

/// The built-in spec of that name (`iso87-ascii`, `iso87-ascii-binary-bitmap`, `iso87-bcd`,
/// `iso93-ascii`, `cup-pos`, `cups`).
#[must_use]
pub fn builtin(name: &str) -> Option<&'static Spec> {
    BUILTINS.iter().copied().find(|s| s.name == name)
}

/// Every built-in spec.
pub static BUILTINS: [&Spec; 6] = [
    &ISO87_ASCII,
    &ISO87_ASCII_BINARY_BITMAP,
    &ISO87_BCD,
    &ISO93_ASCII,
    &CUP_POS,
    &CUPS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_passes_its_own_checks() {
        for spec in BUILTINS {
            spec.check()
                .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            assert_eq!(builtin(&spec.name), Some(spec));
        }
    }

    #[test]
    fn ascii_binary_fields_count_characters() {
        let f55 = ISO87_ASCII.field(55).unwrap();
        assert_eq!(f55.length, Length::LllVar(510));
        assert_eq!(f55.encoding, Encoding::HexChars);
        assert_eq!(
            ISO87_ASCII_BINARY_BITMAP.field(55).unwrap().length,
            Length::LllVar(255)
        );
        assert_eq!(ISO87_ASCII.field(52).unwrap().length, Length::Fixed(16));
    }

    #[test]
    fn cup_fields_follow_the_terminal_spec() {
        assert!(CUP_POS.field(18).is_none());
        assert!(CUP_POS.field(43).is_none());
        let f22 = CUP_POS.field(22).unwrap();
        assert_eq!((f22.encoding, f22.align), (Encoding::Bcd, Align::Left));
        assert_eq!(CUP_POS.field(23).unwrap().align, Align::Right);
        assert_eq!(CUP_POS.field(2).unwrap().prefix_width(), 1);
        assert_eq!(CUP_POS.field(62).unwrap().prefix_width(), 2);
        assert_eq!(CUP_POS.field_name(41), "Card Acceptor Terminal ID");
    }

    #[test]
    fn cups_fields_follow_the_network_spec() {
        assert_eq!(CUPS.header.len(), 46);
        let is = |n: usize, content, length, encoding| {
            let f = CUPS.field(n).unwrap();
            assert_eq!(
                (f.content, f.length, f.encoding),
                (content, length, encoding),
                "{n}"
            );
        };
        is(43, Ans, Length::Fixed(40), Encoding::Ascii);
        is(52, B, Length::Fixed(8), Encoding::Binary);
        is(55, B, Length::LllVar(255), Encoding::Binary);
        is(60, Ans, Length::LllVar(999), Encoding::Ascii);
        is(90, N, Length::Fixed(42), Encoding::Ascii);
        is(100, N, Length::LlVar(11), Encoding::Ascii);
        is(121, Ans, Length::LllVar(999), Encoding::Ascii);
        is(128, B, Length::Fixed(8), Encoding::Binary);
        assert_eq!(CUPS.field(32).unwrap().prefix, PrefixEncoding::Ascii);
    }

    #[test]
    fn iso93_reads_bit_65_as_a_bitmap() {
        assert!(ISO93_ASCII.tertiary_bitmap);
        assert!(ISO93_ASCII.field(65).is_none());
        assert!(ISO87_ASCII.field(65).is_some());
    }
}
