//! What each rule is about and what to do about a finding: the text of the README's rule table,
//! which a test regenerates from [`Rule::ALL`] so that the two cannot drift.

use super::Rule;

/// A rule's documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleDoc {
    /// The abuse it detects (跳码, 跳点, 二清, 吞钱), or `-`.
    pub abuse: &'static str,
    /// The fields it looks at.
    pub fields: &'static str,
    /// What a finding means and what to do.
    pub advice: &'static str,
}

impl Rule {
    /// What the rule is about.
    #[must_use]
    pub const fn doc(self) -> RuleDoc {
        let (abuse, fields, advice) = match self {
            Rule::MccMismatch => (
                "跳码",
                "18",
                "The sale was cleared under another category than the merchant registered: ask the acquirer for the clearing record and the fee class applied; the `fee_impact` says what the difference is worth.",
            ),
            Rule::MerchantCodeMccMismatch => (
                "跳码",
                "42 (characters 8-11)",
                "The merchant code itself carries another MCC: the merchant was onboarded under a cheaper category (套码). Ask the acquirer to re-code the merchant; check the slips' merchant numbers.",
            ),
            Rule::UnknownMerchant => (
                "二清",
                "42",
                "The money goes to a merchant you do not know: a new merchant missing from the book, or a sub-merchant of an unlicensed clearer. Identify it before settlement.",
            ),
            Rule::TerminalMerchantMismatch => (
                "二清, 跳码",
                "41, 42",
                "One merchant's terminal sells as another merchant (or an unregistered terminal sells as this one): the proceeds land elsewhere. Check the terminal's binding with the acquirer.",
            ),
            Rule::AcquirerMismatch => (
                "二清",
                "32, 42 (characters 1-3)",
                "The transaction went through an acquirer you have no contract with: the route was changed, or an agent re-acquires the traffic. Ask who acquired it (field 44 on the response).",
            ),
            Rule::AmountOutOfRange => (
                "跳点",
                "4",
                "An amount above or below the merchant's limits: a keying error, a split or inflated sale, or cash-out. Check the sale against the till.",
            ),
            Rule::CurrencyMismatch => (
                "跳点",
                "49",
                "The sale was not in the merchant's currency: disguised cross-border clearing or tampering (real DCC carries fields 5/6/50/51).",
            ),
            Rule::MalformedField => (
                "any",
                "4, 18, 32, 41, 42, 49",
                "A field without its format (18 not 4 digits, 4 not 12 digits, 42 not 15 characters, 49 not 3 digits...): a broken terminal or an altered message; the field is not checked further.",
            ),
            Rule::ResponseAmountChanged => (
                "跳点",
                "4",
                "The response approved another amount than was asked, without a partial approval (39 = 10): compare the slip, the bank statement and the settlement.",
            ),
            Rule::ResponseMccChanged => (
                "跳码",
                "18",
                "The category changed between request and response: the switch rewrote the transaction in transit.",
            ),
            Rule::ResponseMerchantChanged => (
                "跳码, 二清",
                "42",
                "The response names another merchant than the request: substitution in transit.",
            ),
            Rule::ResponseTerminalChanged => ("二清", "41", "The response names another terminal."),
            Rule::ResponseAcquirerChanged => (
                "二清",
                "32",
                "The response names another acquirer: the route changed in transit.",
            ),
            Rule::EchoMismatch => (
                "substitution",
                "2, 3 (first two digits), 7, 11, 12, 13, 37, 49",
                "Another field the response must echo changed (the PAN is shown masked): tampering or a broken host.",
            ),
            Rule::UnexpectedResponseMti => (
                "substitution",
                "MTI",
                "A response of the wrong type (a 0210 answering a 0100).",
            ),
            Rule::NoResponse => (
                "吞钱",
                "11",
                "A 0100/0200 got no answer within the timeout (`--timeout`, 30 s of capture time), or none before the input ended: the card may be debited while the merchant saw a failure. Check for a reversal and the issuer's record.",
            ),
            Rule::NoReversalAfterTimeout => (
                "吞钱",
                "11",
                "The unanswered request was not reversed (nor voided by the merchant) within a further 60 s: the debit probably stands. Claim it back with the RRN and STAN.",
            ),
            Rule::OrphanResponse => (
                "-",
                "11",
                "A response to no request seen: a capture gap, or a response for another leg.",
            ),
            Rule::DuplicateResponse => (
                "-",
                "11",
                "A second response to one request: a retransmission or a double settlement risk.",
            ),
            Rule::LateResponse => (
                "吞钱",
                "11",
                "A response after the timeout: the terminal may already have reversed. Check that the reversal was honoured.",
            ),
            Rule::ApprovedThenReversed => (
                "-",
                "90",
                "An approved transaction was reversed afterwards, for the record.",
            ),
            Rule::Evicted => (
                "-",
                "11",
                "The pairing table was full (`max_pending`, 1,000,000 by default) and dropped this request before its lifecycle ended: raise the bound or split the capture.",
            ),
            Rule::HopMccSubstituted => (
                "跳码",
                "18, 42 (characters 8-11) on the network leg",
                "The acquirer forwarded the sale under another category than the terminal merchant registered: the fee class was changed in the switch; `fee_impact` prices it.",
            ),
            Rule::HopMerchantSubstituted => (
                "跳码, 二清",
                "42",
                "The network leg names another merchant than the terminal leg, and not one the profile declares (`network_ids`): a pooled merchant, or proceeds cleared elsewhere.",
            ),
            Rule::HopAmountAltered => (
                "跳点",
                "4",
                "The amount changed between the legs (found through the RRN the acquirer returns to the terminal): a markup in the switch.",
            ),
            Rule::HopRoutingChanged => (
                "二清",
                "32",
                "The network leg's acquirer is not the merchant's contracted one: the traffic was re-routed.",
            ),
            Rule::HopNameChanged => (
                "跳码",
                "43",
                "The name and location on the network leg (what the cardholder's statement shows) differ from the terminal leg's.",
            ),
            Rule::MccClassDowngrade => (
                "跳码",
                "18, 42 (characters 8-11)",
                "The category used is in a cheaper fee class than the registered one (餐娱→一般/民生, 标准→优惠/减免): someone keeps the spread; `fee_impact` gives the difference. The class table approximates UnionPay's (which is not public): override it with `--fees`.",
            ),
            Rule::MccReservedOrUnknown => (
                "跳码",
                "18",
                "The MCC is in no ISO 18245 range, or is a 减免 code (charities, public hospitals and schools) for a merchant not registered as non-profit (`non_profit`): a made-up or misused category. UnionPay's national codes fall in ISO ranges and are not reported.",
            ),
            Rule::ChannelMerchantFanIn => (
                "跳码, 二清",
                "42 on the network leg",
                "One network merchant clears for several terminal merchants within the window (`--fan-in N`, 3 within 24 h by default): a pooled \"life circle\" merchant or a 二清 master merchant. Chains and franchises with one contract: declare the mapping in `network_ids`, it is never reported.",
            ),
            Rule::ChannelMerchantRotation => (
                "跳码",
                "42 on both legs",
                "One terminal merchant is cleared under several network merchants within the window (`--rotation N`, 3 within 24 h by default): its sales rotate through a pool to spread them under usage caps.",
            ),
            Rule::RegionJump => (
                "跳码",
                "42 (characters 4-7), 32 (characters 5-8) on the network leg",
                "The network leg places the sale in another region than the merchant's (`region` in the profile, else its merchant code): 异地跳码. Head-office acquirer IDs (region 0000) and merchant codes that do not follow UnionPay coding are not compared.",
            ),
            Rule::NameMismatch => (
                "跳码, 二清",
                "43 on the network leg",
                "The name the cardholder's statement will show (GBK decoded) is not the merchant's registered `name` or one of its `names`, after spaces, case, punctuation and branch suffixes are set aside: the sale was cleared as someone else.",
            ),
            Rule::FeeFieldPresent => (
                "跳点",
                "28-31 on the network leg",
                "A purchase carries a fee amount: a surcharge on the cardholder. Transfers, card repayments and cross-border sales (5 or 6 present) carry fees legitimately and are not reported.",
            ),
            Rule::ApprovedOnNetworkFailedOnTerminal => (
                "吞钱",
                "39 on both legs",
                "The network approved the sale, the terminal got a failure or no answer, and no network reversal (0420 naming it in 90) followed within the window: the cardholder is debited, the merchant believes the sale failed. Claim it with the RRN.",
            ),
            Rule::ReversalNotForwarded => (
                "吞钱",
                "39 (reason), 90",
                "The terminal reversed a sale the network saw (0400), but no 0420 reached the network within the window: the debit stands. Reversals of sales the network declined need none and are not reported.",
            ),
            Rule::ReversalFailed => (
                "吞钱",
                "39, 42, 90 on the network leg",
                "The network refused the reversal (0430 with 12, 22 or 25), or the 0420 names another merchant than the forwarded sale (a reversal must reuse the sale's channel merchant): the debit stands.",
            ),
            Rule::DuplicateOrReplay => (
                "-",
                "2, 4, 41, 42, 11; 39",
                "The same card, amount, terminal and merchant were debited again under another STAN within the window (`replay_window`, 60 s by default), or the network answered 94 (duplicate): a double debit or a replayed message. Repeats (0401, 0421) and retries with the same STAN are expected and not reported.",
            ),
            Rule::TransferDisguisedAsSale => (
                "二清",
                "3, 60.1, 102, 103",
                "A transfer (processing code 40, or accounts in 102/103) travels in a merchant's POS flow: money moved to another account. Card-repayment products declare `transfers = true` in the profile.",
            ),
            Rule::RoutingChanged => (
                "二清",
                "CUPS header destination and source, 100",
                "The network message left for, came from or was answered by another institution than the merchant's expected route (`route_destinations`, `route_sources`, `receivers`): the traffic was re-routed through another channel.",
            ),
            Rule::EmvAmountMismatch => (
                "跳点",
                "4, 55.9F02",
                "The amount the card signed (EMV tag 9F02 in field 55, covered by its cryptogram) is not the amount in field 4: field 4 was altered after the terminal read the card, the ICC data passed on as it was. Completions and offline adjustments (whose final amount legitimately differs) are not compared.",
            ),
            Rule::EmvCurrencyMismatch => (
                "跳点",
                "49, 55.5F2A",
                "The currency the card signed (5F2A) is not field 49: the currency was changed after the card read, or the ICC data belongs to another transaction.",
            ),
            Rule::EmvDateMismatch => (
                "-",
                "13, 55.9A",
                "The date the card signed (9A, YYMMDD) is not the local date in field 13 (MMDD): the ICC data was replayed from another day, or the date altered. Messages without field 13 (terminal requests) are not compared.",
            ),
        };
        RuleDoc {
            abuse,
            fields,
            advice,
        }
    }
}

/// The README's rule table: id, abuse, fields, severity, what to do; one row a rule of
/// [`Rule::ALL`].
#[must_use]
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| rule id | abuse | fields | severity | what to do |\n|---|---|---|---|---|\n",
    );
    for rule in Rule::ALL {
        let d = rule.doc();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            rule.id(),
            d.abuse,
            d.fields,
            rule.severity(),
            d.advice
        ));
    }
    out
}
