//! One message against the profile book: was this sale cleared as the merchant, under its
//! category, for an amount it could have keyed?
//!
//! Requests and advices of the authorisation, financial and reversal classes are validated
//! (responses echo their request, and are the differ's business). A clean message yields no
//! finding and allocates nothing; findings are the only allocation.
//!
//! ```
//! use iso8583_inspect::{MessageBuilder, Mti, parse, spec::ISO87_ASCII};
//! use iso8583_inspect::{mcc::FeeTable, profile::ProfileBook, validate::{Validator, Where}};
//! let book = ProfileBook::from_toml_str(r#"
//!     [[merchant]]
//!     id = "822440158120001"
//!     name = "Golden Dragon Restaurant"
//!     mcc = "5812"
//!     terminals = ["10000001"]
//!     currency = "156"
//! "#)?;
//! let fees = FeeTable::default();
//! let mut sale = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_REQUEST);
//! sale.set_text(4, "000000100000")?.set_text(18, "5411")?.set_text(41, "10000001")?
//!     .set_text(42, "822440158120001")?.set_text(49, "156")?;
//! let bytes = sale.to_vec()?;
//! let mut findings = Vec::new();
//! Validator::new(&book, &fees).validate(&parse(&ISO87_ASCII, &bytes)?, &Where::index(0), &mut findings);
//! let rules: Vec<&str> = findings.iter().map(|f| f.rule.id()).collect();
//! assert_eq!(rules, ["mcc-mismatch", "mcc-class-downgrade"]);
//! // 1,000 yuan cleared as a supermarket (0.38%) instead of a restaurant (1.25%): 8.70 yuan.
//! assert_eq!(findings[0].fee_impact.as_ref().unwrap().pre2016.difference_fen, Some(870));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::finding::{FeeImpact, Finding, MessageRef, Rule};
use crate::mcc::{FeeTable, Post2016};
use crate::merchant::MerchantCode;
use crate::message::{Field, Message, Text};
use crate::profile::{MerchantProfile, ProfileBook};
use crate::txn::{TransactionType, transaction_type};

/// Where a message was seen, for the findings' references.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Where<'c> {
    /// Its index in the input.
    pub index: usize,
    /// Capture time (RFC 3339), if from a capture.
    pub time: Option<&'c str>,
    /// `src -> dst`, if from a capture.
    pub flow: Option<&'c str>,
}

impl Where<'_> {
    /// A message known only by its index.
    #[must_use]
    pub const fn index(index: usize) -> Where<'static> {
        Where {
            index,
            time: None,
            flow: None,
        }
    }
}

/// Checks messages against a profile book and a fee table.
#[derive(Clone, Copy, Debug)]
pub struct Validator<'b> {
    book: &'b ProfileBook,
    fees: &'b FeeTable,
}

/// A field's characters: an ASCII field's bytes where they lie, another's as decoded into a
/// buffer of the caller's ([`text`]). A slice either way, cheap to hand around.
#[derive(Clone, Copy)]
struct Chars<'s>(&'s [u8]);

impl Chars<'_> {
    fn as_bytes(&self) -> &[u8] {
        self.0
    }

    /// Whether the characters are text (UTF-8): at once for ASCII, the usual case.
    fn is_text(&self) -> bool {
        self.0.is_ascii() || std::str::from_utf8(self.0).is_ok()
    }
}

impl std::fmt::Display for Chars<'_> {
    /// As [`Text`] shows itself: UTF-8 as it is, other bytes as Latin-1 characters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::message::write_chars(f, self.0)
    }
}

/// A field's characters, if it is present and short (all the fields checked here are: at
/// most [`Text::CAPACITY`]): an ASCII field's bytes where they lie, another's decoded into
/// `buf`.
fn text<'a: 's, 's>(msg: &Message<'a>, n: usize, buf: &'s mut Option<Text>) -> Option<Chars<'s>> {
    chars(msg.field(n), buf)
}

/// [`text`] of a field already looked up.
fn chars<'a: 's, 's>(f: Option<Field<'a>>, buf: &'s mut Option<Text>) -> Option<Chars<'s>> {
    let f = f?;
    match f.plain() {
        Some(bytes) => (bytes.len() <= Text::CAPACITY).then_some(Chars(bytes)),
        None => Some(Chars(buf.insert(f.to_small_text().ok()?).as_bytes())),
    }
}

fn is_digits(t: &Chars<'_>, len: Option<usize>) -> bool {
    let t = t.as_bytes();
    !t.is_empty() && t.iter().all(u8::is_ascii_digit) && len.is_none_or(|l| t.len() == l)
}

fn digits_value(t: &Chars<'_>) -> Option<u64> {
    t.as_bytes().iter().try_fold(0u64, |v, d| {
        v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// Whether the used MCC's class is cheaper than the registered one's, in either regime.
fn is_cheaper(i: &FeeImpact) -> bool {
    i.pre2016.used_rate_ppm < i.pre2016.registered_rate_ppm
        || i.post2016.used_rate_ppm < i.post2016.registered_rate_ppm
}

/// The format each checked field must have, and its description.
static FORMATS: [(usize, Option<usize>, bool, &str); 6] = [
    (4, Some(12), true, "12 digits"),
    (18, Some(4), true, "4 digits"),
    (32, None, true, "digits"),
    (41, Some(8), false, "8 characters"),
    (42, Some(15), false, "15 characters"),
    (49, Some(3), true, "3 digits"),
];

fn well_formed(field: &Field<'_>, len: Option<usize>, digits: bool) -> bool {
    if let Some(data) = field.plain() {
        // The characters are the bytes themselves: digits checked a word at a time.
        return len.is_none_or(|l| data.len() == l)
            && !data.is_empty()
            && (!digits || crate::codec::all_ascii_digits(data));
    }
    let chars = field.chars();
    let n = field.chars().count();
    len.is_none_or(|l| n == l) && n > 0 && (!digits || chars.clone().all(|c| c.is_ascii_digit()))
}

impl<'b> Validator<'b> {
    /// A validator over `book` and `fees`.
    #[must_use]
    pub const fn new(book: &'b ProfileBook, fees: &'b FeeTable) -> Validator<'b> {
        Validator { book, fees }
    }

    /// Whether the validator looks at this message at all.
    #[must_use]
    pub fn applies(msg: &Message<'_>) -> bool {
        matches!(msg.mti().class(), 1 | 2 | 4) && !msg.mti().is_response()
    }

    /// Appends the findings of `msg` to `out`.
    pub fn validate(&self, msg: &Message<'_>, at: &Where<'_>, out: &mut Vec<Finding>) {
        if Self::applies(msg) {
            self.validate_as(msg, transaction_type(msg), at, out);
        }
    }

    /// [`Validator::validate`] of a message that [`Validator::applies`] to, of type `kind`
    /// ([`transaction_type`]). Returns the merchant's profile where field 42 was well formed
    /// and looked up (`Some(None)`: not in the book), `None` where it was not looked up.
    pub(crate) fn validate_as(
        &self,
        msg: &Message<'_>,
        kind: TransactionType,
        at: &Where<'_>,
        out: &mut Vec<Finding>,
    ) -> Option<Option<&'b MerchantProfile>> {
        // The fields of FORMATS, looked up once; bit `i` of `bad`: `FORMATS[i]`'s is malformed.
        let mut seen: [Option<Field<'_>>; 6] = [None; 6];
        let mut bad = 0u8;
        let mcc = usize::from(msg.spec().mcc_field);
        for (i, (&(n, len, digits, what), slot)) in FORMATS.iter().zip(&mut seen).enumerate() {
            // The MCC is where the spec says (18, or 26 in ISO 8583:2003).
            let n = if n == 18 { mcc } else { n };
            let Some(f) = msg.field(n) else { continue };
            *slot = Some(f);
            if !well_formed(&f, len, digits) {
                bad |= 1 << i;
                out.push(self.finding(
                    msg,
                    at,
                    Rule::MalformedField,
                    &[n as u8],
                    what.to_string(),
                    f.to_text(),
                    None,
                ));
            }
        }
        // Well formed, or absent.
        let ok = |i: u8| bad & (1 << i) == 0;
        let [f4, f18, f32, f41, f42, f49] = seen;
        let (ok4, ok18, ok32, ok41, ok42, ok49) = (ok(0), ok(1), ok(2), ok(3), ok(4), ok(5));
        self.check_emv(msg, at, kind, ok4, ok49, out);
        let mut bufs: [Option<Text>; 3] = [None, None, None];
        let [b42, b41, b4] = &mut bufs;
        let merchant = chars(f42, b42).filter(|_| ok42);
        let terminal = chars(f41, b41).filter(|_| ok41);
        let amount = chars(f4, b4)
            .filter(|_| ok4)
            .as_ref()
            .and_then(digits_value);
        let profile = merchant
            .as_ref()
            .and_then(|m| self.book.merchant(m.as_bytes()));
        // What the caller would look up itself: field 42 as text.
        let looked = merchant.as_ref().filter(|m| m.is_text()).map(|_| profile);

        if let (Some(m), None) = (&merchant, profile) {
            out.push(self.finding(
                msg,
                at,
                Rule::UnknownMerchant,
                &[42],
                "a merchant in the profile book".into(),
                m.to_string(),
                None,
            ));
        }
        if let (Some(t), Some(m)) = (&terminal, &merchant) {
            match self.book.terminal_owner(t.as_bytes()) {
                Some(owner) if owner.id.as_bytes() != m.as_bytes() && Some(owner) != profile => {
                    let observed = format!("terminal {t} with merchant {m}");
                    let expected = format!("terminal {t} with its merchant {}", owner.id);
                    out.push(self.finding(
                        msg,
                        at,
                        Rule::TerminalMerchantMismatch,
                        &[41, 42],
                        expected,
                        observed,
                        None,
                    ));
                }
                None if profile.is_some_and(|p| !p.terminals.is_empty()) => {
                    let p = profile.map(|p| p.terminals.join(", ")).unwrap_or_default();
                    let expected = format!("one of the merchant's terminals {p}");
                    out.push(self.finding(
                        msg,
                        at,
                        Rule::TerminalMerchantMismatch,
                        &[41, 42],
                        expected,
                        t.to_string(),
                        None,
                    ));
                }
                _ => {}
            }
        }
        let Some(p) = profile else { return looked };
        self.check_mcc(msg, at, p, amount, f18.filter(|_| ok18), f42, out);
        self.check_network(msg, at, p, kind, out);
        self.check_acquirer(msg, at, p, merchant.as_ref(), f32.filter(|_| ok32), out);
        if let Some(a) = amount {
            let low = p.min_amount.is_some_and(|min| a < min);
            let high = p.max_amount.is_some_and(|max| a > max);
            if low || high {
                let expected = format!(
                    "{} to {}",
                    p.min_amount.unwrap_or(0),
                    p.max_amount.map_or("any".into(), |m| m.to_string())
                );
                out.push(self.finding(
                    msg,
                    at,
                    Rule::AmountOutOfRange,
                    &[4],
                    expected,
                    a.to_string(),
                    None,
                ));
            }
        }
        if let Some(c) = chars(f49, &mut None).filter(|_| ok49) {
            if c.as_bytes() != p.currency.as_bytes() {
                out.push(self.finding(
                    msg,
                    at,
                    Rule::CurrencyMismatch,
                    &[49],
                    p.currency.clone(),
                    c.to_string(),
                    None,
                ));
            }
        }
        looked
    }

    /// The MCC used (the spec's MCC field `f18`, given only if well formed, and characters
    /// 8-11 of field 42) against the profile's.
    #[allow(clippy::too_many_arguments)]
    fn check_mcc(
        &self,
        msg: &Message<'_>,
        at: &Where<'_>,
        p: &MerchantProfile,
        amount: Option<u64>,
        f18: Option<Field<'_>>,
        f42: Option<Field<'_>>,
        out: &mut Vec<Finding>,
    ) {
        let mcc_field = msg.spec().mcc_field;
        let used18 = chars(f18, &mut None)
            .filter(|t| is_digits(t, Some(4)))
            .and_then(|t| digits_value(&t));
        let used18 = used18.and_then(|u| u16::try_from(u).ok());
        if let Some(used) = used18 {
            self.check_mcc_code(msg, at, p, used, out);
        }
        let mut downgrade = None;
        if let Some(used) = used18.filter(|u| !p.allows_mcc(*u)) {
            let impact = FeeImpact::of(self.fees, p.mcc, used, amount);
            downgrade = Some((mcc_field, format!("{used:04}"), impact.clone()));
            out.push(self.finding(
                msg,
                at,
                Rule::MccMismatch,
                &[mcc_field],
                format!("{:04}", p.mcc),
                format!("{used:04}"),
                Some(impact),
            ));
        }
        if let Some(f42) = chars(f42, &mut None) {
            if let Ok(code) = MerchantCode::decode(f42.as_bytes()) {
                let used = code.mcc();
                if !p.allows_mcc(used) {
                    let impact = FeeImpact::of(self.fees, p.mcc, used, amount);
                    let observed = format!("{used:04} (characters 8-11 of {f42})");
                    if downgrade.is_none() {
                        downgrade = Some((42, observed.clone(), impact.clone()));
                    }
                    out.push(self.finding(
                        msg,
                        at,
                        Rule::MerchantCodeMccMismatch,
                        &[42],
                        format!("{:04}", p.mcc),
                        observed,
                        Some(impact),
                    ));
                }
            }
        }
        // The category used is cheaper than the registered one: someone keeps the spread.
        if let Some((field, observed, impact)) = downgrade.filter(|(_, _, i)| is_cheaper(i)) {
            let expected = format!(
                "{:04} ({} / {})",
                p.mcc, impact.pre2016.registered_class, impact.post2016.registered_class
            );
            let observed = format!(
                "{observed} ({} / {})",
                impact.pre2016.used_class, impact.post2016.used_class
            );
            out.push(self.finding(
                msg,
                at,
                Rule::MccClassDowngrade,
                &[field],
                expected,
                observed,
                Some(impact),
            ));
        }
    }

    /// `mcc-reserved-or-unknown`: a code in a range ISO 18245 reserves (1000-1499, 9000-9199,
    /// and 0000), or a 减免 (non-profit) code at a merchant not registered as non-profit whose
    /// own MCC is not one. UnionPay's national codes (0001-0699) are accepted.
    fn check_mcc_code(
        &self,
        msg: &Message<'_>,
        at: &Where<'_>,
        p: &MerchantProfile,
        used: u16,
        out: &mut Vec<Finding>,
    ) {
        let reserved = used == 0 || (1000..=1499).contains(&used) || (9000..=9199).contains(&used);
        let exempt = |m: u16| self.fees.classes(m).post2016 == Post2016::Exempt;
        let misused = exempt(used) && !p.non_profit && !exempt(p.mcc) && !p.allows_mcc(used);
        if reserved || misused {
            let (expected, why) = if reserved {
                ("a code in an ISO 18245 range", "reserved by ISO 18245")
            } else {
                (
                    "a code for a for-profit merchant",
                    "a 减免 (non-profit) code; the merchant is not registered as non-profit",
                )
            };
            out.push(self.finding(
                msg,
                at,
                Rule::MccReservedOrUnknown,
                &[msg.spec().mcc_field],
                expected.into(),
                format!("{used:04}: {why}"),
                None,
            ));
        }
    }

    /// The EMV data the card signed (field 55) against the message's own fields: 9F02 against
    /// 4, 5F2A against 49, 9A against 13. Completions and offline adjustments are not compared on
    /// amount (their final amount may differ from what the card saw). No allocation unless a
    /// finding is made.
    fn check_emv(
        &self,
        msg: &Message<'_>,
        at: &Where<'_>,
        kind: TransactionType,
        ok4: bool,
        ok49: bool,
        out: &mut Vec<Finding>,
    ) {
        // Most requests carry no chip data: no buffer to clear for them.
        if !msg.has(55) {
            return;
        }
        let mut buf = [0u8; 512];
        let Some(items) = msg.emv(&mut buf) else {
            return;
        };
        let (mut amount, mut currency, mut date) = (None, None, None);
        for item in items {
            let Ok(t) = item else { break };
            match t.tag {
                [0x9F, 0x02] => amount = crate::emv::bcd_value(t.value),
                [0x5F, 0x2A] => currency = crate::emv::bcd_value(t.value),
                [0x9A] => date = crate::emv::bcd_value(t.value),
                _ => {}
            }
        }
        let number = |n: usize| msg.field(n).and_then(|f| f.to_u64().ok());
        let adjusts = matches!(kind, TransactionType::Completion | TransactionType::Offline);
        if let (Some(signed), Some(f4), true, false) = (amount, number(4), ok4, adjusts) {
            if signed != f4 {
                out.push(self.finding(
                    msg,
                    at,
                    Rule::EmvAmountMismatch,
                    &[4, 55],
                    format!("{signed:012} (the amount in 55.9F02)"),
                    format!("{f4:012}"),
                    None,
                ));
            }
        }
        if let (Some(signed), Some(f49), true) = (currency, number(49), ok49) {
            if signed != f49 {
                out.push(self.finding(
                    msg,
                    at,
                    Rule::EmvCurrencyMismatch,
                    &[49, 55],
                    format!("{signed:03} (the currency in 55.5F2A)"),
                    format!("{f49:03}"),
                    None,
                ));
            }
        }
        if let (Some(signed), Some(f13)) = (date, number(13)) {
            if signed % 10_000 != f13 {
                out.push(self.finding(
                    msg,
                    at,
                    Rule::EmvDateMismatch,
                    &[13, 55],
                    format!(
                        "{:04} (the month and day in 55.9A, {signed:06})",
                        signed % 10_000
                    ),
                    format!("{f13:04}"),
                    None,
                ));
            }
        }
    }

    /// The network leg's other checks against the profile: the name on the statement (43),
    /// fees on a purchase (28-31), a transfer in a POS flow, and the CUPS route.
    fn check_network(
        &self,
        msg: &Message<'_>,
        at: &Where<'_>,
        p: &MerchantProfile,
        kind: TransactionType,
        out: &mut Vec<Finding>,
    ) {
        if let Some(f43) = msg.field(43) {
            // On the stack: a clean name allocates nothing. ASCII fields' bytes are their
            // characters, read where they lie; others are decoded into `raw` first.
            let mut raw = [0u8; 128];
            let chars: &[u8] = match f43.plain() {
                Some(data) => data.get(..raw.len()).unwrap_or(data),
                None => {
                    let mut len = 0;
                    for (slot, c) in raw.iter_mut().zip(f43.chars()) {
                        *slot = c;
                        len += 1;
                    }
                    raw.get(..len).unwrap_or_default()
                }
            };
            // ASCII is its own GBK: matched as it lies; another name is decoded, once.
            let mut buf: [u8; 512];
            let decoded = if chars.is_ascii() {
                None
            } else {
                buf = [0u8; 512];
                Some(crate::text::decode_gbk_into(chars, &mut buf))
            };
            let mut keys = p.name_keys.iter();
            let matches = match decoded {
                None => keys.any(|k| crate::text::matches_name_key_ascii(chars, k)),
                Some(name) => keys.any(|k| crate::text::matches_name_key(name, k)),
            };
            if !matches {
                let name =
                    decoded.unwrap_or_else(|| std::str::from_utf8(chars).unwrap_or_default());
                let mut expected = p.name.clone();
                for n in &p.names {
                    expected.push_str(" or ");
                    expected.push_str(n);
                }
                out.push(self.finding(
                    msg,
                    at,
                    Rule::NameMismatch,
                    &[43],
                    expected,
                    name.trim_end().to_string(),
                    None,
                ));
            }
        }
        let cross_border = msg.has(5) || msg.has(6);
        if kind.is_purchase() && !cross_border {
            for n in 28..=31u8 {
                if let Some(f) = msg.field(usize::from(n)) {
                    out.push(self.finding(
                        msg,
                        at,
                        Rule::FeeFieldPresent,
                        &[n],
                        "no fee on a purchase".into(),
                        f.to_text(),
                        None,
                    ));
                }
            }
        }
        if kind == TransactionType::Transfer && !p.transfers {
            let observed = match msg.field(3) {
                Some(pc) => format!("processing code {}", pc.to_text()),
                None => "accounts in 102/103".into(),
            };
            out.push(self.finding(
                msg,
                at,
                Rule::TransferDisguisedAsSale,
                &[3],
                "a purchase at a merchant that sells no transfers".into(),
                observed,
                None,
            ));
        }
        if let Some(h) = msg.cups_header() {
            let checks = [
                ("destination", h.destination(), &p.route_destinations),
                ("source", h.source(), &p.route_sources),
            ];
            for (what, id, expected) in checks {
                if !expected.is_empty() && !expected.iter().any(|e| e.trim_end() == id) {
                    out.push(self.finding(
                        msg,
                        at,
                        Rule::RoutingChanged,
                        &[],
                        format!("CUPS header {what} {}", expected.join(" or ")),
                        format!("{what} {id}"),
                        None,
                    ));
                }
            }
        }
    }

    /// Checks a response: the institution that answered (100) against the merchant's route,
    /// and a duplicate the network refused (39 = 94).
    pub fn validate_response(&self, msg: &Message<'_>, at: &Where<'_>, out: &mut Vec<Finding>) {
        if !matches!(msg.mti().class(), 1 | 2) || !msg.mti().is_response() {
            return;
        }
        if msg.field(39).is_some_and(|f| f.text_eq("94")) {
            out.push(self.finding(
                msg,
                at,
                Rule::DuplicateOrReplay,
                &[39],
                "a transaction the network has not seen".into(),
                "39 = 94: a duplicate".into(),
                None,
            ));
        }
        // Only a response naming its receiver (100) has anything to check against the profile.
        let Some(f100) = msg.field(100) else {
            return;
        };
        if let Some(p) = text(msg, 42, &mut None).and_then(|m| self.book.merchant(m.as_bytes())) {
            if !p.receivers.is_empty() && !p.receivers.iter().any(|r| f100.text_eq(r)) {
                out.push(self.finding(
                    msg,
                    at,
                    Rule::RoutingChanged,
                    &[100],
                    p.receivers.join(" or "),
                    f100.to_text(),
                    None,
                ));
            }
        }
    }

    fn check_acquirer(
        &self,
        msg: &Message<'_>,
        at: &Where<'_>,
        p: &MerchantProfile,
        merchant: Option<&Chars<'_>>,
        f32: Option<Field<'_>>,
        out: &mut Vec<Finding>,
    ) {
        if let (Some(contracted), Some(m)) = (&p.acquirer, merchant) {
            if let Ok(code) = MerchantCode::decode(m.as_bytes()) {
                if code.acquirer() != contracted.as_bytes() {
                    let observed = format!(
                        "{} (characters 1-3 of {m})",
                        String::from_utf8_lossy(code.acquirer())
                    );
                    out.push(self.finding(
                        msg,
                        at,
                        Rule::AcquirerMismatch,
                        &[42],
                        contracted.clone(),
                        observed,
                        None,
                    ));
                }
            }
        }
        if p.acquirer_ids.is_empty() {
            return;
        }
        if let Some(f32) = chars(f32, &mut None) {
            if !p
                .acquirer_ids
                .iter()
                .any(|id| id.as_bytes() == f32.as_bytes())
            {
                out.push(self.finding(
                    msg,
                    at,
                    Rule::AcquirerMismatch,
                    &[32],
                    p.acquirer_ids.join(" or "),
                    f32.to_string(),
                    None,
                ));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        msg: &Message<'_>,
        at: &Where<'_>,
        rule: Rule,
        fields: &[u8],
        expected: String,
        observed: String,
        fee_impact: Option<FeeImpact>,
    ) -> Finding {
        Finding::new(
            rule,
            message_ref(msg, at),
            fields,
            expected,
            observed,
            fee_impact,
        )
    }
}

/// The references of a message (allocates: called only for a finding).
#[must_use]
pub fn message_ref(msg: &Message<'_>, at: &Where<'_>) -> MessageRef {
    let s = |n: usize| msg.field(n).map(|f| f.to_text());
    MessageRef {
        index: at.index,
        time: at.time.map(str::to_string),
        flow: at.flow.map(str::to_string),
        leg: None,
        mti: msg.mti().to_string(),
        stan: s(11),
        terminal: s(41),
        merchant: s(42),
        rrn: s(37),
        pan: masked_pan(msg),
    }
}

/// The message's card number masked as everywhere else ([`crate::mask::write_masked_pan`]).
#[must_use]
pub fn masked_pan(msg: &Message<'_>) -> Option<String> {
    let (digits, len) = crate::diff::pan_digits_of(msg)?;
    let mut text = String::with_capacity(len);
    crate::mask::write_masked_pan(&mut text, digits.get(..len)?).ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CUP_POS, ISO87_ASCII};
    use crate::{MessageBuilder, Mti, parse};

    /// A field read where it lies (ASCII) and one decoded (BCD) show and compare alike, and
    /// bytes that are not UTF-8 show as Latin-1 characters either way.
    #[test]
    fn characters_read_in_place_are_those_decoded() {
        let build = |spec| {
            let mut m = MessageBuilder::new(spec, Mti::new(200));
            m.set_text(11, "000123").unwrap();
            m.set_text(4, "000000012800").unwrap();
            m.to_vec().unwrap()
        };
        let (a, b) = (build(&ISO87_ASCII), build(&CUP_POS));
        let (a, b) = (
            parse(&ISO87_ASCII, &a).unwrap(),
            parse(&CUP_POS, &b).unwrap(),
        );
        let within = |c: &Chars<'_>, m: &Message<'_>| {
            m.as_bytes().as_ptr_range().contains(&c.as_bytes().as_ptr())
        };
        for n in [4, 11] {
            let (mut bx, mut by) = (None, None);
            let (x, y) = (text(&a, n, &mut bx).unwrap(), text(&b, n, &mut by).unwrap());
            // ASCII read where it lies, BCD decoded into the buffer.
            assert!(within(&x, &a) && !within(&y, &b));
            assert_eq!((x.as_bytes(), x.to_string()), (y.as_bytes(), y.to_string()));
            assert_eq!(digits_value(&x), digits_value(&y));
            assert!(bx.is_none() && by.is_some());
        }
        let raw = Chars(b"\xbd\xf0A");
        assert_eq!(raw.to_string(), "\u{bd}\u{f0}A");
        assert!(!raw.is_text());
        assert!(Chars("商户A".as_bytes()).is_text() && Chars(b"A1").is_text());
        assert_eq!(text(&a, 42, &mut None).map(|t| t.to_string()), None);
    }
}
