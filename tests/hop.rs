//! The hop rules: the same transaction on the terminal and the network leg, compared.

use iso8583_inspect::capture::Timestamp;
use iso8583_inspect::diff::{HopConfig, HopMatcher, Leg, Seen};
use iso8583_inspect::finding::{Finding, Rule};
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti, parse};

const BOOK: &str = r#"
[[merchant]]
id = "822440158120001"
name = "Golden Dragon Restaurant"
mcc = "5812"
acquirer_ids = ["48220000"]
network_ids = ["822440158121234"]
terminals = ["10000001"]
currency = "156"
"#;

/// A sale on a leg: defaults, then changes (an empty value removes the field).
fn sale(changes: &[(usize, &str)]) -> Vec<u8> {
    let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_REQUEST);
    for (n, v) in [
        (2, "6222021234567890123"),
        (4, "000000012800"),
        (11, "000001"),
        (12, "093015"),
        (13, "1123"),
        (32, "48220000"),
        (37, "332700000001"),
        (41, "10000001"),
        (42, "822440158120001"),
        (43, "GOLDEN DRAGON RESTAURANT GUANGZHOU      "),
        (49, "156"),
    ] {
        b.set_text(n, v).unwrap();
    }
    for (n, v) in changes {
        if v.is_empty() {
            b.remove(*n);
        } else {
            b.set_text(*n, v).unwrap();
        }
    }
    b.to_vec().unwrap()
}

fn hop(traffic: &[(Leg, i64, Vec<u8>)]) -> Vec<Finding> {
    let book = ProfileBook::from_toml_str(BOOK).unwrap();
    let fees = FeeTable::default();
    let mut m = HopMatcher::new(&ISO87_ASCII, &book, &fees, HopConfig::default());
    let mut out = Vec::new();
    for (i, (leg, t, bytes)) in traffic.iter().enumerate() {
        let msg = parse(&ISO87_ASCII, bytes).unwrap();
        m.push(
            *leg,
            &msg,
            bytes,
            Seen {
                index: i,
                time: Timestamp::new(1_795_397_400 + t, 0),
                flow: None,
            },
            &mut out,
        );
    }
    m.finish(&mut out);
    assert_eq!(m.pending(), 0);
    out
}

fn rules(network: &[(usize, &str)]) -> Vec<Rule> {
    hop(&[
        (Leg::Terminal, 0, sale(&[])),
        (Leg::Network, 1, sale(network)),
    ])
    .iter()
    .map(|f| f.rule)
    .collect()
}

#[test]
fn a_faithful_forward_is_clean() {
    assert_eq!(
        rules(&[(18, "5812"), (11, "734001"), (7, "1123013015")]),
        [],
        "STAN and time are leg-local"
    );
    assert_eq!(
        rules(&[(42, "822440158121234")]),
        [],
        "a declared network merchant ID"
    );
    assert_eq!(
        rules(&[(43, "golden  dragon restaurant guangzhou     ")]),
        [],
        "spaces and case aside"
    );
}

#[test]
fn each_substitution() {
    assert_eq!(rules(&[(18, "5411")]), [Rule::HopMccSubstituted]);
    assert_eq!(
        rules(&[(42, "822440158129999")]),
        [Rule::HopMerchantSubstituted]
    );
    // A pooled supermarket merchant: another merchant, and its code carries another MCC.
    assert_eq!(
        rules(&[(42, "898310054110099")]),
        [Rule::HopMerchantSubstituted, Rule::HopMccSubstituted]
    );
    assert_eq!(rules(&[(32, "48980000")]), [Rule::HopRoutingChanged]);
    assert_eq!(
        rules(&[(43, &format!("{:<40}", "XINHUA SUPERMARKET SHANGHAI"))]),
        [Rule::HopNameChanged]
    );
}

#[test]
fn amount_altered_is_found_by_rrn() {
    let f = hop(&[
        (Leg::Terminal, 0, sale(&[])),
        (Leg::Network, 1, sale(&[(4, "000000012900")])),
    ]);
    assert_eq!(
        f.iter()
            .map(|f| (f.rule, f.expected.as_str(), f.observed.as_str()))
            .collect::<Vec<_>>(),
        [(Rule::HopAmountAltered, "000000012800", "000000012900")]
    );
    assert_eq!(
        f[0].message.index, 1,
        "the finding names the network leg's message"
    );
}

#[test]
fn without_rrn_pan_amount_and_time_correlate() {
    let f = hop(&[
        (Leg::Terminal, 0, sale(&[(37, "")])),
        (Leg::Network, 1, sale(&[(37, ""), (18, "5411")])),
    ]);
    assert_eq!(
        f.iter().map(|f| f.rule).collect::<Vec<_>>(),
        [Rule::HopMccSubstituted]
    );
    // Another card: no twin, no finding.
    let f = hop(&[
        (Leg::Terminal, 0, sale(&[(37, "")])),
        (
            Leg::Network,
            1,
            sale(&[(37, ""), (2, "6222029999999990123"), (18, "5411")]),
        ),
    ]);
    assert!(f.is_empty());
}

#[test]
fn the_network_leg_may_come_first_but_not_too_late() {
    assert_eq!(
        hop(&[
            (Leg::Network, 0, sale(&[(18, "5411")])),
            (Leg::Terminal, 1, sale(&[]))
        ])
        .len(),
        1
    );
    assert!(
        hop(&[
            (Leg::Terminal, 0, sale(&[])),
            (Leg::Network, 61, sale(&[(18, "5411")]))
        ])
        .is_empty(),
        "outside the window"
    );
    // Responses are not correlated.
    let network = sale(&[(18, "5411")]);
    let mut rsp = MessageBuilder::from_message(&parse(&ISO87_ASCII, &network).unwrap());
    rsp.set_mti(Mti::FINANCIAL_RESPONSE);
    assert!(
        hop(&[
            (Leg::Terminal, 0, sale(&[])),
            (Leg::Network, 1, rsp.to_vec().unwrap())
        ])
        .is_empty()
    );
}

#[test]
fn mcc_substitution_carries_its_fee_impact() {
    let f = hop(&[
        (Leg::Terminal, 0, sale(&[])),
        (Leg::Network, 1, sale(&[(18, "5411")])),
    ]);
    let fi = f[0].fee_impact.as_ref().unwrap();
    assert_eq!(
        (
            fi.registered_mcc.as_str(),
            fi.used_mcc.as_str(),
            fi.pre2016.difference_fen
        ),
        ("5812", "5411", Some(111))
    );
}
