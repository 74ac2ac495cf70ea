//! What the validator (and later the differ) reports: a [`Finding`] names its rule, the fields
//! and both values, the keys to look the transaction up, and for MCC findings the fee classes
//! on each side and the fee difference. Findings never carry card data.

mod doc;

pub use doc::{RuleDoc, markdown_table};

use crate::mcc::{Classes, FeeTable};
use serde::Serialize;
use std::fmt;

/// A detection rule. Its id is a stable kebab-case string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Rule {
    /// 跳码: field 18 is neither the registered MCC nor an allowed one.
    MccMismatch,
    /// 跳码: the MCC inside field 42 differs from the registered one.
    MerchantCodeMccMismatch,
    /// Field 42 is not in the profile book.
    UnknownMerchant,
    /// 二清, 跳码: field 41 belongs to another merchant than field 42 (or to none of its
    /// terminals).
    TerminalMerchantMismatch,
    /// 二清: field 32, or field 42's acquirer code, is not the contracted acquirer.
    AcquirerMismatch,
    /// Field 4 outside the merchant's limits.
    AmountOutOfRange,
    /// Field 49 is not the merchant's currency.
    CurrencyMismatch,
    /// A field that does not have its format (18 not 4 digits, 4 not 12 digits, 42 not 15
    /// characters...).
    MalformedField,
    /// A field the response must echo changed (2, 3's first two digits, 7, 11, 12, 13, 37, 49).
    EchoMismatch,
    /// 跳点: the response's amount (4) differs from the request's without a partial approval.
    ResponseAmountChanged,
    /// 跳码: the response's MCC (18) differs from the request's.
    ResponseMccChanged,
    /// 跳码: the response's merchant (42) differs from the request's.
    ResponseMerchantChanged,
    /// The response's terminal (41) differs from the request's.
    ResponseTerminalChanged,
    /// 二清: the response's acquirer (32) differs from the request's.
    ResponseAcquirerChanged,
    /// A response of the wrong type (a 0210 answering a 0100).
    UnexpectedResponseMti,
    /// 吞钱: a request asking for approval got no response within the timeout.
    NoResponse,
    /// 吞钱: an unanswered request was not reversed within the window after its timeout.
    NoReversalAfterTimeout,
    /// A response to no request seen.
    OrphanResponse,
    /// A second response to the same request.
    DuplicateResponse,
    /// A response after the request had timed out.
    LateResponse,
    /// An approved transaction was reversed afterwards (informational).
    ApprovedThenReversed,
    /// A request dropped unanswered because the pairing table was full.
    Evicted,
    /// 跳码: the network leg's MCC (18, or in its 42) is not the terminal merchant's.
    HopMccSubstituted,
    /// 跳码, 二清: the network leg's merchant (42) is not the terminal leg's, nor a declared
    /// mapping of it.
    HopMerchantSubstituted,
    /// 跳点: the amount (4) differs between the legs.
    HopAmountAltered,
    /// 二清: the network leg's acquirer (32) is not the merchant's.
    HopRoutingChanged,
    /// The name and location (43) differ between the legs.
    HopNameChanged,
    /// 跳码: the MCC used is in a cheaper fee class than the registered one.
    MccClassDowngrade,
    /// Field 18 is outside the ISO 18245 ranges, or a 减免 (non-profit) code for a merchant not
    /// registered as non-profit.
    MccReservedOrUnknown,
    /// 跳码, 二清: one network merchant serves several terminal merchants in a window.
    ChannelMerchantFanIn,
    /// 跳码: one terminal merchant is cleared under several network merchants in a window.
    ChannelMerchantRotation,
    /// 跳码: the network leg places the merchant in another region.
    RegionJump,
    /// 跳码, 二清: the network leg's name (43) is not the registered name.
    NameMismatch,
    /// 跳点: a purchase on the network leg carries a fee amount (28-31).
    FeeFieldPresent,
    /// 吞钱: the network approved, the terminal got a failure or nothing, and no reversal
    /// followed on the network.
    ApprovedOnNetworkFailedOnTerminal,
    /// 吞钱: a terminal reversal was not forwarded to the network.
    ReversalNotForwarded,
    /// 吞钱: the network refused the reversal, or it names another merchant than the sale.
    ReversalFailed,
    /// A second debit of the same card, amount, terminal and merchant under another STAN, or a
    /// duplicate the network refused (39 = 94).
    DuplicateOrReplay,
    /// 二清: a transfer (3 = 40xxxx, or 102/103) in a merchant's POS flow.
    TransferDisguisedAsSale,
    /// 二清: the network route (CUPS header destination or source, field 100) is not the
    /// merchant's expected one.
    RoutingChanged,
    /// 跳点: the amount the card signed (55.9F02) is not field 4.
    EmvAmountMismatch,
    /// The currency the card signed (55.5F2A) is not field 49.
    EmvCurrencyMismatch,
    /// The date the card signed (55.9A) is not field 13.
    EmvDateMismatch,
}

impl Rule {
    /// The validator's rules (one message against the profile book).
    pub const VALIDATOR: [Rule; 8] = [
        Rule::MccMismatch,
        Rule::MerchantCodeMccMismatch,
        Rule::UnknownMerchant,
        Rule::TerminalMerchantMismatch,
        Rule::AcquirerMismatch,
        Rule::AmountOutOfRange,
        Rule::CurrencyMismatch,
        Rule::MalformedField,
    ];

    /// The differ's request/response and lifecycle rules.
    pub const PAIRING: [Rule; 14] = [
        Rule::EchoMismatch,
        Rule::ResponseAmountChanged,
        Rule::ResponseMccChanged,
        Rule::ResponseMerchantChanged,
        Rule::ResponseTerminalChanged,
        Rule::ResponseAcquirerChanged,
        Rule::UnexpectedResponseMti,
        Rule::NoResponse,
        Rule::NoReversalAfterTimeout,
        Rule::OrphanResponse,
        Rule::DuplicateResponse,
        Rule::LateResponse,
        Rule::ApprovedThenReversed,
        Rule::Evicted,
    ];

    /// The differ's hop rules (the same transaction on two legs).
    pub const HOP: [Rule; 5] = [
        Rule::HopMccSubstituted,
        Rule::HopMerchantSubstituted,
        Rule::HopAmountAltered,
        Rule::HopRoutingChanged,
        Rule::HopNameChanged,
    ];

    /// The rules that compare one network message with the profile book beyond the validator's
    /// basics, and those that need both legs.
    pub const TWO_LEG: [Rule; 13] = [
        Rule::MccClassDowngrade,
        Rule::MccReservedOrUnknown,
        Rule::ChannelMerchantFanIn,
        Rule::ChannelMerchantRotation,
        Rule::RegionJump,
        Rule::NameMismatch,
        Rule::FeeFieldPresent,
        Rule::ApprovedOnNetworkFailedOnTerminal,
        Rule::ReversalNotForwarded,
        Rule::ReversalFailed,
        Rule::DuplicateOrReplay,
        Rule::TransferDisguisedAsSale,
        Rule::RoutingChanged,
    ];

    /// The rules that compare field 55's EMV data (which the card's cryptogram covers) with
    /// the message's own fields.
    pub const EMV: [Rule; 3] = [
        Rule::EmvAmountMismatch,
        Rule::EmvCurrencyMismatch,
        Rule::EmvDateMismatch,
    ];

    /// Every rule, in the order the README's table lists them: the validator's, the
    /// pairing's, the hop rules, the rules of the two-leg audit, then the EMV rules.
    pub const ALL: [Rule; 43] = all_rules();

    /// Every rule is in exactly one group, and [`Rule::ALL`] is their union.
    #[cfg(test)]
    fn groups() -> Vec<Rule> {
        [
            &Rule::VALIDATOR[..],
            &Rule::PAIRING,
            &Rule::HOP,
            &Rule::TWO_LEG,
            &Rule::EMV,
        ]
        .concat()
    }

    /// The stable id (`mcc-mismatch` ...).
    #[must_use]
    pub const fn id(self) -> &'static str {
        match self {
            Rule::MccMismatch => "mcc-mismatch",
            Rule::MerchantCodeMccMismatch => "merchant-code-mcc-mismatch",
            Rule::UnknownMerchant => "unknown-merchant",
            Rule::TerminalMerchantMismatch => "terminal-merchant-mismatch",
            Rule::AcquirerMismatch => "acquirer-mismatch",
            Rule::AmountOutOfRange => "amount-out-of-range",
            Rule::CurrencyMismatch => "currency-mismatch",
            Rule::MalformedField => "malformed-field",
            Rule::EchoMismatch => "echo-mismatch",
            Rule::ResponseAmountChanged => "response-amount-changed",
            Rule::ResponseMccChanged => "response-mcc-changed",
            Rule::ResponseMerchantChanged => "response-merchant-changed",
            Rule::ResponseTerminalChanged => "response-terminal-changed",
            Rule::ResponseAcquirerChanged => "response-acquirer-changed",
            Rule::UnexpectedResponseMti => "unexpected-response-mti",
            Rule::NoResponse => "no-response",
            Rule::NoReversalAfterTimeout => "no-reversal-after-timeout",
            Rule::OrphanResponse => "orphan-response",
            Rule::DuplicateResponse => "duplicate-response",
            Rule::LateResponse => "late-response",
            Rule::ApprovedThenReversed => "approved-then-reversed",
            Rule::Evicted => "evicted",
            Rule::HopMccSubstituted => "hop-mcc-substituted",
            Rule::HopMerchantSubstituted => "hop-merchant-substituted",
            Rule::HopAmountAltered => "hop-amount-altered",
            Rule::HopRoutingChanged => "hop-routing-changed",
            Rule::HopNameChanged => "hop-name-changed",
            Rule::MccClassDowngrade => "mcc-class-downgrade",
            Rule::MccReservedOrUnknown => "mcc-reserved-or-unknown",
            Rule::ChannelMerchantFanIn => "channel-merchant-fan-in",
            Rule::ChannelMerchantRotation => "channel-merchant-rotation",
            Rule::RegionJump => "region-jump",
            Rule::NameMismatch => "name-mismatch",
            Rule::FeeFieldPresent => "fee-field-present",
            Rule::ApprovedOnNetworkFailedOnTerminal => "approved-on-network-failed-on-terminal",
            Rule::ReversalNotForwarded => "reversal-not-forwarded",
            Rule::ReversalFailed => "reversal-failed",
            Rule::DuplicateOrReplay => "duplicate-or-replay",
            Rule::TransferDisguisedAsSale => "transfer-disguised-as-sale",
            Rule::RoutingChanged => "routing-changed",
            Rule::EmvAmountMismatch => "emv-amount-mismatch",
            Rule::EmvCurrencyMismatch => "emv-currency-mismatch",
            Rule::EmvDateMismatch => "emv-date-mismatch",
        }
    }

    /// How serious a finding of this rule is.
    #[must_use]
    pub const fn severity(self) -> Severity {
        match self {
            Rule::MccMismatch
            | Rule::TerminalMerchantMismatch
            | Rule::AcquirerMismatch
            | Rule::ResponseAmountChanged
            | Rule::ResponseMccChanged
            | Rule::ResponseMerchantChanged
            | Rule::ResponseAcquirerChanged
            | Rule::NoReversalAfterTimeout
            | Rule::HopMccSubstituted
            | Rule::HopMerchantSubstituted
            | Rule::HopAmountAltered
            | Rule::HopRoutingChanged
            | Rule::MccClassDowngrade
            | Rule::ChannelMerchantFanIn
            | Rule::ChannelMerchantRotation
            | Rule::ApprovedOnNetworkFailedOnTerminal
            | Rule::ReversalNotForwarded
            | Rule::ReversalFailed
            | Rule::DuplicateOrReplay
            | Rule::TransferDisguisedAsSale
            | Rule::RoutingChanged
            | Rule::EmvAmountMismatch => Severity::High,
            Rule::MerchantCodeMccMismatch
            | Rule::UnknownMerchant
            | Rule::AmountOutOfRange
            | Rule::CurrencyMismatch
            | Rule::EchoMismatch
            | Rule::ResponseTerminalChanged
            | Rule::UnexpectedResponseMti
            | Rule::NoResponse
            | Rule::Evicted
            | Rule::HopNameChanged
            | Rule::MccReservedOrUnknown
            | Rule::RegionJump
            | Rule::NameMismatch
            | Rule::FeeFieldPresent
            | Rule::EmvCurrencyMismatch
            | Rule::EmvDateMismatch => Severity::Medium,
            Rule::MalformedField
            | Rule::OrphanResponse
            | Rule::DuplicateResponse
            | Rule::LateResponse => Severity::Low,
            Rule::ApprovedThenReversed => Severity::Info,
        }
    }
}

/// The groups one after the other. Indexing in a const fn is checked when the constant is
/// evaluated: out of bounds is a compile error, never a panic at run time.
#[allow(clippy::indexing_slicing)]
const fn all_rules() -> [Rule; 43] {
    let groups: [&[Rule]; 5] = [
        &Rule::VALIDATOR,
        &Rule::PAIRING,
        &Rule::HOP,
        &Rule::TWO_LEG,
        &Rule::EMV,
    ];
    let mut all = [Rule::MccMismatch; 43];
    let (mut g, mut at) = (0, 0);
    while g < groups.len() {
        let mut i = 0;
        while i < groups[g].len() {
            all[at] = groups[g][i];
            at += 1;
            i += 1;
        }
        g += 1;
    }
    assert!(at == 43, "Rule::ALL holds every group");
    all
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For the record.
    Info,
    /// Worth a look.
    Low,
    /// Likely wrong.
    Medium,
    /// Money is probably at stake.
    High,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        })
    }
}

/// The keys to look a transaction up: where in the input, when, which flow, MTI, STAN,
/// terminal, merchant, RRN.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MessageRef {
    /// The message's index in the input.
    pub index: usize,
    /// Capture time, where the input is a capture.
    pub time: Option<String>,
    /// `src -> dst`, where the input is a capture.
    pub flow: Option<String>,
    /// The leg it was seen on (`terminal`, `network`; `terminal+network` for a rule that
    /// compares both), where legs are configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leg: Option<&'static str>,
    /// The MTI.
    pub mti: String,
    /// Field 11.
    pub stan: Option<String>,
    /// Field 41.
    pub terminal: Option<String>,
    /// Field 42.
    pub merchant: Option<String>,
    /// Field 37.
    pub rrn: Option<String>,
    /// The card number (field 2, or track 2's), masked: at most its first 6 and last 4 digits
    /// (`622202*********0123`). Where the message names a card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pan: Option<String>,
}

/// The fee of one regime on both sides of an MCC change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegimeImpact {
    /// The registered MCC's class.
    pub registered_class: String,
    /// Its rate, parts per million.
    pub registered_rate_ppm: u32,
    /// The used MCC's class.
    pub used_class: String,
    /// Its rate.
    pub used_rate_ppm: u32,
    /// What the merchant pays minus what the acquirer is charged at the used class's rate, in
    /// fen (positive: the jump saves fees someone pockets). `None` without an amount.
    pub difference_fen: Option<i64>,
}

/// What an MCC change is worth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeeImpact {
    /// The registered MCC.
    pub registered_mcc: String,
    /// The MCC used on the wire.
    pub used_mcc: String,
    /// The amount (field 4), fen.
    pub amount_fen: Option<u64>,
    /// Before 2016-09-06 (餐娱/一般/民生/公益/批发).
    pub pre2016: RegimeImpact,
    /// From 2016-09-06 (标准/优惠/减免).
    pub post2016: RegimeImpact,
}

impl FeeImpact {
    /// The impact of clearing `amount` under `used` instead of `registered`.
    #[must_use]
    pub fn of(fees: &FeeTable, registered: u16, used: u16, amount: Option<u64>) -> FeeImpact {
        let (r, u): (Classes, Classes) = (fees.classes(registered), fees.classes(used));
        let diff = |a: crate::mcc::Rate, b: crate::mcc::Rate| {
            amount.map(|amt| {
                i64::try_from(a.fee(amt)).unwrap_or(i64::MAX)
                    - i64::try_from(b.fee(amt)).unwrap_or(i64::MAX)
            })
        };
        FeeImpact {
            registered_mcc: format!("{registered:04}"),
            used_mcc: format!("{used:04}"),
            amount_fen: amount,
            pre2016: RegimeImpact {
                registered_class: r.pre2016.to_string(),
                registered_rate_ppm: r.pre2016_rate.ppm,
                used_class: u.pre2016.to_string(),
                used_rate_ppm: u.pre2016_rate.ppm,
                difference_fen: diff(r.pre2016_rate, u.pre2016_rate),
            },
            post2016: RegimeImpact {
                registered_class: r.post2016.to_string(),
                registered_rate_ppm: r.post2016_rate.ppm,
                used_class: u.post2016.to_string(),
                used_rate_ppm: u.post2016_rate.ppm,
                difference_fen: diff(r.post2016_rate, u.post2016_rate),
            },
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// How serious.
    pub severity: Severity,
    /// The message it is about.
    #[serde(flatten)]
    pub message: MessageRef,
    /// The fields involved.
    pub fields: Vec<u8>,
    /// What the profile (or the format) expects.
    pub expected: String,
    /// What the message carries.
    pub observed: String,
    /// For MCC findings: classes, rates and fee difference.
    pub fee_impact: Option<FeeImpact>,
}

impl Finding {
    /// A finding of `rule`, with the rule's severity, about the message `message`.
    #[must_use]
    pub fn new(
        rule: Rule,
        message: MessageRef,
        fields: &[u8],
        expected: String,
        observed: String,
        fee_impact: Option<FeeImpact>,
    ) -> Finding {
        Finding {
            rule,
            severity: rule.severity(),
            message,
            fields: fields.to_vec(),
            expected,
            observed,
            fee_impact,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.message;
        write!(
            f,
            "[{}] {} message {} MTI {}",
            self.severity, self.rule, m.index, m.mti
        )?;
        if let Some(leg) = m.leg {
            write!(f, " on {leg}")?;
        }
        if let Some(t) = &m.time {
            write!(f, " at {t}")?;
        }
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        write!(
            f,
            " merchant {} terminal {} stan {} rrn {}",
            opt(&m.merchant),
            opt(&m.terminal),
            opt(&m.stan),
            opt(&m.rrn)
        )?;
        let fields: Vec<String> = self.fields.iter().map(u8::to_string).collect();
        write!(
            f,
            ": field {} expected {:?}, observed {:?}",
            fields.join("+"),
            self.expected,
            self.observed
        )?;
        if let Some(fi) = &self.fee_impact {
            if let Some(d) = fi.pre2016.difference_fen {
                write!(
                    f,
                    "; fee {}→{} ({d:+} fen before 2016",
                    fi.pre2016.registered_class, fi.pre2016.used_class
                )?;
                if let Some(p) = fi.post2016.difference_fen {
                    write!(
                        f,
                        ", {}→{} {p:+} fen since",
                        fi.post2016.registered_class, fi.post2016.used_class
                    )?;
                }
                f.write_str(")")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Rule;

    #[test]
    fn all_is_the_union_of_the_groups() {
        assert_eq!(Rule::groups(), Rule::ALL.to_vec());
    }
}
