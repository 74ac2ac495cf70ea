//! What a value means, as a payments engineer reads it: the notes `inspect` writes beside a
//! field in its text output. An MCC (18) with its ISO 18245 description and China fee classes,
//! a UnionPay merchant code (42) split into acquirer, region, MCC and serial, the transaction
//! type behind the processing code (3), the response code (39) in words, the POS entry mode
//! (22), and the UnionPay subfields of 60.
//!
//! ```
//! use iso8583_inspect::describe::response_code;
//! assert_eq!(response_code("51"), Some("insufficient funds"));
//! assert_eq!(response_code("A0"), Some("MAC error"));
//! ```

use crate::mcc::{FeeTable, lookup};
use crate::merchant::MerchantCode;
use crate::message::{Field, Message};
use crate::txn::{Field60, transaction_type};

/// Response codes (field 39) as ISO 8583 and China UnionPay use them.
static RESPONSE_CODES: [(&str, &str); 36] = [
    ("00", "approved"),
    ("01", "refer to card issuer"),
    ("03", "invalid merchant (or MCC not allowed for this card)"),
    ("04", "pick up card"),
    ("05", "do not honour"),
    ("06", "error"),
    ("10", "partial approval"),
    ("11", "approved (VIP)"),
    (
        "12",
        "invalid transaction (or related transaction in error)",
    ),
    ("13", "invalid amount"),
    ("14", "invalid card number"),
    ("15", "no such issuer"),
    ("22", "suspected malfunction (related transaction mismatch)"),
    ("25", "unable to locate the original transaction"),
    ("30", "format error"),
    ("33", "expired card, pick up"),
    ("34", "suspected fraud"),
    ("40", "function not supported"),
    ("41", "lost card"),
    ("43", "stolen card"),
    ("51", "insufficient funds"),
    ("54", "expired card"),
    ("55", "incorrect PIN"),
    ("57", "transaction not permitted to cardholder"),
    ("58", "transaction not permitted to terminal"),
    ("59", "suspected fraud"),
    ("61", "exceeds withdrawal amount limit"),
    ("64", "original amount incorrect"),
    ("65", "exceeds withdrawal frequency limit"),
    ("68", "response received too late"),
    ("75", "allowable number of PIN tries exceeded"),
    ("91", "issuer or switch inoperative"),
    ("94", "duplicate transmission"),
    ("96", "system malfunction"),
    ("98", "no response from the issuer (timeout)"),
    ("A0", "MAC error"),
];

/// What a response code means, if it is a common one.
#[must_use]
pub fn response_code(code: &str) -> Option<&'static str> {
    RESPONSE_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, t)| *t)
}

/// The PAN entry modes (the first two digits of field 22).
static ENTRY_MODES: [(&str, &str); 9] = [
    ("00", "unknown"),
    ("01", "keyed"),
    ("02", "magnetic stripe"),
    ("05", "chip"),
    ("07", "contactless chip"),
    ("80", "fallback to magnetic stripe"),
    ("90", "full magnetic stripe"),
    ("91", "contactless magnetic stripe"),
    ("95", "chip, unreliable CVV"),
];

/// A note on field `f` of `msg`, if there is one to make.
#[must_use]
pub fn note(msg: &Message<'_>, f: &Field<'_>, fees: &FeeTable) -> Option<String> {
    let text = || f.to_text();
    match f.number() {
        3 => Some(transaction_type(msg).name().to_string()),
        n if n == usize::from(msg.spec().mcc_field) => {
            let code: u16 = text().parse().ok()?;
            let info = lookup(code)?;
            let c = fees.classes(code);
            Some(format!(
                "{}; {} / {}",
                info.description.unwrap_or(info.group),
                c.pre2016,
                c.post2016
            ))
        }
        22 => {
            let t = text();
            let mode = ENTRY_MODES
                .iter()
                .find(|(m, _)| t.get(..2) == Some(*m))
                .map(|(_, n)| *n)?;
            let pin = match t.get(2..3) {
                Some("1") => ", PIN entered",
                Some("2") => ", no PIN",
                _ => "",
            };
            Some(format!("{mode}{pin}"))
        }
        39 => response_code(text().trim()).map(str::to_string),
        42 => {
            let raw = text();
            let code = MerchantCode::decode(raw.as_bytes()).ok()?;
            let acquirer = String::from_utf8_lossy(code.acquirer()).into_owned();
            let name = code
                .acquirer_name()
                .map_or_else(String::new, |n| format!(" {n}"));
            Some(format!(
                "acquirer {acquirer}{name}, region {}, MCC {:04}, serial {}",
                String::from_utf8_lossy(code.region()),
                code.mcc(),
                String::from_utf8_lossy(code.serial())
            ))
        }
        60 => {
            let f60 = Field60::of(msg)?;
            let mut parts = Vec::new();
            if let Some(t) = f60.type_code {
                parts.push(format!("type {t:02} ({})", transaction_type(msg)));
            }
            if let Some(b) = f60.batch {
                parts.push(format!("batch {b:06}"));
            }
            if let Some(n) = f60.network_code {
                parts.push(format!("network code {n:03}"));
            }
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ISO87_ASCII;
    use crate::{MessageBuilder, Mti, parse};

    #[test]
    fn notes_as_an_engineer_reads_them() {
        let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_RESPONSE);
        b.set_text(3, "000000").unwrap();
        b.set_text(18, "5812").unwrap();
        b.set_text(22, "051").unwrap();
        b.set_text(39, "51").unwrap();
        b.set_text(42, "822440158120001").unwrap();
        let bytes = b.to_vec().unwrap();
        let msg = parse(&ISO87_ASCII, &bytes).unwrap();
        let fees = FeeTable::default();
        let notes: Vec<(usize, String)> = msg
            .fields()
            .filter_map(|f| note(&msg, &f, &fees).map(|n| (f.number(), n)))
            .collect();
        assert_eq!(notes[0], (3, "sale".to_string()));
        assert!(notes[1].1.contains("餐娱类 / 标准类"), "{notes:?}");
        assert_eq!(notes[2].1, "chip, PIN entered");
        assert_eq!(notes[3].1, "insufficient funds");
        assert!(notes[4].1.starts_with("acquirer 822"), "{notes:?}");
        assert!(
            notes[4].1.ends_with("region 4401, MCC 5812, serial 0001"),
            "{notes:?}"
        );
    }
}
