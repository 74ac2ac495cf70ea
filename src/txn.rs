//! What a message is for: the UnionPay POS subfields of field 60 and the transaction type
//! derived from the MTI, the processing code (3), the condition code (25) and 60.1.
//!
//! On the terminal leg the MTI alone does not say what a transaction is: a sale, a void and a
//! balance inquiry are all 0200s. The UnionPay terminal dialect says it in field 60 (`n..17`:
//! 60.1 message type code n2, 60.2 batch number n6, 60.3 network management code n3, then
//! flags), together with 3 and 25. Where 60 is not numeric (the CUPS network leg puts a reason
//! code there) or absent, the type comes from the MTI and the processing code alone.
//!
//! | type | MTI | 3 | 25 | 60.1 |
//! |---|---|---|---|---|
//! | sale | 0200 | 00xxxx | 00 | 22 |
//! | void | 0200 | 20xxxx | 00 | 23 |
//! | refund | 0220 | 20xxxx | 00 | 25 |
//! | pre-authorisation | 0100 | 03xxxx | 06 | 10 |
//! | pre-authorisation void | 0100 | 20xxxx | 06 | 11 |
//! | completion | 0200 / 0220 | 00xxxx | 06 | 20 / 24 |
//! | completion void | 0200 | 20xxxx | 06 | 21 |
//! | balance inquiry | 0100 / 0200 | 31xxxx | 00 | 01 |
//! | offline sale, adjustment | 0220 | 00xxxx | 00 | 30 / 32 / 34 |
//! | reversal | 0400 / 0420 | | | |
//! | sign-in | 0800 | | | 00 (60.3 001, 003, 004) |
//! | settlement | 0500 | | | 00 |
//! | batch upload | 0320 | | | 00 |
//!
//! ```
//! use iso8583_inspect::txn::{TransactionType, transaction_type};
//! use iso8583_inspect::{MessageBuilder, Mti, parse, spec::CUP_POS};
//! let mut void = MessageBuilder::new(&CUP_POS, Mti::FINANCIAL_REQUEST);
//! void.set_header(&[0x60, 0, 6, 0, 0, 0x60, 0x31, 0, 0x31, 0x10, 0x03])?
//!     .set_text(3, "200000")?
//!     .set_text(25, "00")?
//!     .set_text(60, "23000001000")?;
//! let bytes = void.to_vec()?;
//! let msg = parse(&CUP_POS, &bytes)?;
//! assert_eq!(transaction_type(&msg), TransactionType::Void);
//! let f60 = iso8583_inspect::txn::Field60::of(&msg).unwrap();
//! assert_eq!((f60.type_code, f60.batch, f60.network_code), (Some(23), Some(1), Some(0)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::message::{Field, Message};
use crate::spec::Content;
use std::fmt;

/// The UnionPay POS subfields of field 60 that identify a transaction, read from the field's
/// digits without allocation. A subfield the field is too short for is `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Field60 {
    /// 60.1, the message type code (n2).
    pub type_code: Option<u8>,
    /// 60.2, the batch number (n6).
    pub batch: Option<u32>,
    /// 60.3, the network management information code (n3).
    pub network_code: Option<u16>,
}

impl Field60 {
    /// Field 60 of `msg` in the UnionPay POS layout; `None` when the field is absent or the
    /// spec does not make it numeric (the CUPS network dialect's 60 is another layout), or
    /// when it holds a non-digit.
    #[must_use]
    pub fn of(msg: &Message<'_>) -> Option<Field60> {
        let f = msg.field(60)?;
        if f.spec().content != Content::N {
            return None;
        }
        match f.plain() {
            Some(data) => Field60::read(data.iter().copied()),
            None => Field60::read(f.chars()),
        }
    }

    /// Reads the subfields from the field's characters.
    fn read(chars: impl Iterator<Item = u8>) -> Option<Field60> {
        let mut out = Field60::default();
        let (mut value, mut count) = (0u32, 0usize);
        for c in chars {
            if !c.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(c - b'0');
            count += 1;
            match count {
                2 => {
                    out.type_code = u8::try_from(value).ok();
                    value = 0;
                }
                8 => {
                    out.batch = Some(value);
                    value = 0;
                }
                11 => {
                    out.network_code = u16::try_from(value).ok();
                    break;
                }
                _ => {}
            }
        }
        Some(out)
    }
}

/// What a transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TransactionType {
    /// A purchase (消费).
    Sale,
    /// The cancellation of a sale the same day (消费撤销).
    Void,
    /// A refund (退货), usually as an advice (0220).
    Refund,
    /// A pre-authorisation (预授权).
    PreAuth,
    /// The cancellation of a pre-authorisation.
    PreAuthVoid,
    /// The completion of a pre-authorisation (预授权完成).
    Completion,
    /// The cancellation of a completion.
    CompletionVoid,
    /// A balance inquiry (余额查询): no amount moves.
    BalanceInquiry,
    /// An offline sale or an adjustment reported afterwards (0220).
    Offline,
    /// A reversal (冲正), request or advice.
    Reversal,
    /// A transfer or payment to an account (processing code 40, or 102/103 present).
    Transfer,
    /// A terminal sign-in (签到).
    SignIn,
    /// Batch settlement (结算).
    Settlement,
    /// Batch upload.
    BatchUpload,
    /// Other network management (echo tests, key and parameter downloads).
    NetworkManagement,
    /// Anything else.
    Other,
}

impl TransactionType {
    /// A short kebab-case name (`sale`, `void`, `balance-inquiry` ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            TransactionType::Sale => "sale",
            TransactionType::Void => "void",
            TransactionType::Refund => "refund",
            TransactionType::PreAuth => "pre-auth",
            TransactionType::PreAuthVoid => "pre-auth-void",
            TransactionType::Completion => "completion",
            TransactionType::CompletionVoid => "completion-void",
            TransactionType::BalanceInquiry => "balance-inquiry",
            TransactionType::Offline => "offline",
            TransactionType::Reversal => "reversal",
            TransactionType::Transfer => "transfer",
            TransactionType::SignIn => "sign-in",
            TransactionType::Settlement => "settlement",
            TransactionType::BatchUpload => "batch-upload",
            TransactionType::NetworkManagement => "network-management",
            TransactionType::Other => "other",
        }
    }

    /// Whether money moves to the merchant (a sale, a completion, an offline sale).
    #[must_use]
    pub const fn is_purchase(self) -> bool {
        matches!(
            self,
            TransactionType::Sale | TransactionType::Completion | TransactionType::Offline
        )
    }

    /// Whether it undoes an earlier transaction that its request names (void, refund, the
    /// voids of pre-authorisations and completions): its request carries the original's RRN
    /// in 37, its response the new transaction's own.
    #[must_use]
    pub const fn points_back(self) -> bool {
        matches!(
            self,
            TransactionType::Void
                | TransactionType::Refund
                | TransactionType::PreAuthVoid
                | TransactionType::CompletionVoid
        )
    }
}

impl fmt::Display for TransactionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The first two digits of the processing code, if present and digits.
fn processing_prefix(msg: &Message<'_>) -> Option<u8> {
    two_digits(&msg.field(3)?)
}

/// Field 25's value, if two digits.
fn condition(msg: &Message<'_>) -> Option<u8> {
    two_digits(&msg.field(25)?)
}

/// The number the first two characters of `f` make, if both are digits.
fn two_digits(f: &Field<'_>) -> Option<u8> {
    let (a, b) = match f.plain() {
        Some(data) => (*data.first()?, *data.get(1)?),
        None => {
            let mut c = f.chars();
            (c.next()?, c.next()?)
        }
    };
    (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (a - b'0') * 10 + (b - b'0'))
}

/// The transaction type of a request or response (a response is typed as its request: 60 and
/// 3 are echoed).
#[must_use]
pub fn transaction_type(msg: &Message<'_>) -> TransactionType {
    use TransactionType as T;
    let mti = msg.mti();
    let pc = processing_prefix(msg);
    let f60 = Field60::of(msg);
    let type_code = f60.and_then(|f| f.type_code);
    match mti.class() {
        4 => return T::Reversal,
        8 => {
            return match f60.and_then(|f| f.network_code) {
                Some(1 | 3 | 4) => T::SignIn,
                _ => T::NetworkManagement,
            };
        }
        5 => return T::Settlement,
        3 if mti.function() == 2 => return T::BatchUpload,
        1 | 2 => {}
        _ => return T::Other,
    }
    if pc == Some(40) || msg.has(102) && msg.has(103) {
        return T::Transfer;
    }
    if pc == Some(31) || type_code == Some(1) {
        return T::BalanceInquiry;
    }
    let advice = mti.function() == 2;
    let preauth_condition = condition(msg) == Some(6);
    match (type_code, mti.class()) {
        (Some(10), 1) => T::PreAuth,
        (Some(11), 1) => T::PreAuthVoid,
        (Some(20 | 24), 2) => T::Completion,
        (Some(21), 2) => T::CompletionVoid,
        (Some(22), 2) => T::Sale,
        (Some(23), 2) => T::Void,
        (Some(25), 2) => T::Refund,
        (Some(30 | 32 | 34), 2) => T::Offline,
        // Without 60 (another dialect): the MTI, the processing code and 25.
        (None, 1) if pc == Some(20) => T::PreAuthVoid,
        (None, 1) => T::PreAuth,
        (None, 2) if pc == Some(20) && advice => T::Refund,
        (None, 2) if pc == Some(20) && preauth_condition => T::CompletionVoid,
        (None, 2) if pc == Some(20) => T::Void,
        (None, 2) if preauth_condition => T::Completion,
        (None, 2) if advice => T::Offline,
        (None, 2) => T::Sale,
        _ => T::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CUP_POS, ISO87_ASCII};
    use crate::{MessageBuilder, Mti, parse};

    const HEADER: [u8; 11] = [0x60, 0, 6, 0, 0, 0x60, 0x31, 0, 0x31, 0x10, 0x03];

    fn cup(mti: u16, pc: &str, cond: &str, f60: &str) -> Vec<u8> {
        let mut b = MessageBuilder::new(&CUP_POS, Mti::new(mti));
        b.set_header(&HEADER).unwrap();
        if !pc.is_empty() {
            b.set_text(3, pc).unwrap();
        }
        if !cond.is_empty() {
            b.set_text(25, cond).unwrap();
        }
        b.set_text(60, f60).unwrap();
        b.to_vec().unwrap()
    }

    use TransactionType as T;

    /// (MTI, 3, 25, 60, the type).
    const TABLE: [(u16, &str, &str, &str, TransactionType); 16] = [
        (200, "000000", "00", "22000001000", T::Sale),
        (200, "200000", "00", "23000001000", T::Void),
        (220, "200000", "00", "25000001000", T::Refund),
        (100, "030000", "06", "10000001000", T::PreAuth),
        (100, "200000", "06", "11000001000", T::PreAuthVoid),
        (200, "000000", "06", "20000001000", T::Completion),
        (200, "200000", "06", "21000001000", T::CompletionVoid),
        (200, "310000", "00", "01000001000", T::BalanceInquiry),
        (220, "000000", "00", "30000001000", T::Offline),
        (400, "000000", "00", "22000001000", T::Reversal),
        (800, "", "", "00000001003", T::SignIn),
        (800, "", "", "00000001301", T::NetworkManagement),
        (500, "", "", "00000001201", T::Settlement),
        (320, "", "", "00000001201", T::BatchUpload),
        (200, "400000", "00", "22000001000", T::Transfer),
        (210, "000000", "00", "22000001000", T::Sale),
    ];

    #[test]
    fn the_unionpay_table() {
        for (mti, pc, cond, f60, want) in TABLE {
            let bytes = cup(mti, pc, cond, f60);
            let msg = parse(&CUP_POS, &bytes).unwrap();
            assert_eq!(transaction_type(&msg), want, "{mti} {pc} {f60}");
        }
    }

    #[test]
    fn the_unionpay_table_in_ascii() {
        // Fields 3, 25 and 60 in ASCII are read on their bytes (in BCD, digit by digit): the
        // same types, and the same subfields of 60.
        let spec: &'static crate::spec::Spec = Box::leak(Box::new(
            crate::spec::Spec::from_toml_str(
                "name='t'\nmti='ascii'\nbitmap='hex'\n\
                 [fields.3]\ntype='n'\nlength=6\nencoding='ascii'\n\
                 [fields.25]\ntype='n'\nlength=2\nencoding='ascii'\n\
                 [fields.60]\ntype='n'\nlength=17\nvar='lll'\nencoding='ascii'\n",
            )
            .unwrap(),
        ));
        for (mti, pc, cond, f60, want) in TABLE {
            let mut b = MessageBuilder::new(spec, Mti::new(mti));
            for (n, v) in [(3, pc), (25, cond), (60, f60)] {
                if !v.is_empty() {
                    b.set_text(n, v).unwrap();
                }
            }
            let bytes = b.to_vec().unwrap();
            let msg = parse(spec, &bytes).unwrap();
            assert_eq!(transaction_type(&msg), want, "{mti} {pc} {f60}");
            let cup_bytes = cup(mti, pc, cond, f60);
            let cup_msg = parse(&CUP_POS, &cup_bytes).unwrap();
            assert_eq!(Field60::of(&msg), Field60::of(&cup_msg), "{f60}");
        }
        // A 60 of one digit has no type code.
        let mut b = MessageBuilder::new(spec, Mti::new(200));
        b.set_text(60, "1").unwrap();
        let bytes = b.to_vec().unwrap();
        assert_eq!(
            Field60::of(&parse(spec, &bytes).unwrap())
                .unwrap()
                .type_code,
            None
        );
    }

    #[test]
    fn field_60_subfields_and_short_fields() {
        let bytes = cup(200, "000000", "00", "22000123000");
        let msg = parse(&CUP_POS, &bytes).unwrap();
        let f = Field60::of(&msg).unwrap();
        assert_eq!(
            (f.type_code, f.batch, f.network_code),
            (Some(22), Some(123), Some(0))
        );
        let bytes = cup(200, "000000", "00", "2200");
        let msg = parse(&CUP_POS, &bytes).unwrap();
        let f = Field60::of(&msg).unwrap();
        assert_eq!(
            (f.type_code, f.batch, f.network_code),
            (Some(22), None, None)
        );
    }

    #[test]
    fn without_field_60_the_processing_code_decides() {
        let typed = |mti: u16, pc: &str| {
            let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::new(mti));
            b.set_text(3, pc).unwrap();
            b.set_text(60, "4351").unwrap();
            let bytes = b.to_vec().unwrap();
            transaction_type(&parse(&ISO87_ASCII, &bytes).unwrap())
        };
        assert_eq!(typed(200, "000000"), TransactionType::Sale);
        assert_eq!(typed(200, "200000"), TransactionType::Void);
        assert_eq!(typed(220, "200000"), TransactionType::Refund);
        assert_eq!(typed(100, "000000"), TransactionType::PreAuth);
        assert_eq!(typed(200, "310000"), TransactionType::BalanceInquiry);
        assert_eq!(typed(420, "000000"), TransactionType::Reversal);
    }
}
