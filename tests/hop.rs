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
    // A pooled supermarket merchant in another city: another merchant, its code carries
    // another MCC and another region.
    assert_eq!(
        rules(&[(42, "898310054110099")]),
        [
            Rule::RegionJump,
            Rule::HopMerchantSubstituted,
            Rule::HopMccSubstituted
        ]
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

/// A response to `request` with response code `code` (and its changes).
fn answer(request: &[u8], code: &str) -> Vec<u8> {
    let msg = parse(&ISO87_ASCII, request).unwrap();
    let mut b = MessageBuilder::from_message(&msg);
    b.set_mti(msg.mti().response().unwrap());
    b.set_text(39, code).unwrap();
    b.to_vec().unwrap()
}

/// The network's reversal advice of `sale` (a network message), naming it in field 90.
fn network_reversal(sale: &[u8], merchant: &str) -> Vec<u8> {
    let msg = parse(&ISO87_ASCII, sale).unwrap();
    let mut b = MessageBuilder::from_message(&msg);
    b.set_mti(Mti::new(420));
    let f90 = format!(
        "0200{}{}{:0>11}{:0>11}",
        msg.field(11).unwrap().to_text(),
        msg.field(7).unwrap().to_text(),
        msg.field(32).unwrap().to_text(),
        "0"
    );
    b.set_text(90, &f90).unwrap();
    b.set_text(11, "734999").unwrap();
    b.set_text(42, merchant).unwrap();
    b.to_vec().unwrap()
}

/// The terminal's reversal of `sale` (same 11, 41, 42) with reason `reason`.
fn terminal_reversal(sale: &[u8], reason: &str) -> Vec<u8> {
    let msg = parse(&ISO87_ASCII, sale).unwrap();
    let mut b = MessageBuilder::from_message(&msg);
    b.set_mti(Mti::new(400));
    b.set_text(39, reason).unwrap();
    b.to_vec().unwrap()
}

fn ids(f: &[Finding]) -> Vec<Rule> {
    f.iter().map(|f| f.rule).collect()
}

#[test]
fn approved_on_the_network_and_failed_on_the_terminal() {
    let t = sale(&[(37, "")]);
    let n = sale(&[(37, ""), (11, "734001"), (7, "1123013015")]);
    // The network approves, the terminal is told 96: the cardholder is debited.
    let f = hop(&[
        (Leg::Terminal, 0, t.clone()),
        (Leg::Network, 1, n.clone()),
        (Leg::Network, 2, answer(&n, "00")),
        (Leg::Terminal, 3, answer(&t, "96")),
    ]);
    assert_eq!(ids(&f), [Rule::ApprovedOnNetworkFailedOnTerminal]);
    assert_eq!(f[0].message.stan.as_deref(), Some("734001"));
    // The card, masked as in every finding.
    assert_eq!(f[0].message.pan.as_deref(), Some("622202*********0123"));
    // The same with no answer to the terminal at all, judged when the window passes.
    let f = hop(&[
        (Leg::Terminal, 0, t.clone()),
        (Leg::Network, 1, n.clone()),
        (Leg::Network, 2, answer(&n, "00")),
        (Leg::Terminal, 200, sale(&[(2, "6222029999999990123")])),
    ]);
    assert_eq!(ids(&f), [Rule::ApprovedOnNetworkFailedOnTerminal]);
    // Silent: both approved; both declined; approved on the network and reversed there.
    for tail in [
        vec![
            (Leg::Network, 2, answer(&n, "00")),
            (Leg::Terminal, 3, answer(&t, "00")),
        ],
        vec![
            (Leg::Network, 2, answer(&n, "51")),
            (Leg::Terminal, 3, answer(&t, "51")),
        ],
        vec![
            (Leg::Network, 2, answer(&n, "00")),
            (Leg::Terminal, 3, answer(&t, "96")),
            (Leg::Network, 4, network_reversal(&n, "822440158120001")),
        ],
    ] {
        let mut traffic = vec![(Leg::Terminal, 0, t.clone()), (Leg::Network, 1, n.clone())];
        traffic.extend(tail);
        assert_eq!(ids(&hop(&traffic)), [], "{traffic:?}");
    }
}

#[test]
fn reversals_not_forwarded_or_failed() {
    let t = sale(&[(37, "")]);
    let n = sale(&[(37, ""), (11, "734001"), (7, "1123013015")]);
    let start = || vec![(Leg::Terminal, 0, t.clone()), (Leg::Network, 1, n.clone())];
    // The terminal timed out and reversed (98); the network approved and saw no reversal.
    let mut traffic = start();
    traffic.push((Leg::Network, 2, answer(&n, "00")));
    traffic.push((Leg::Terminal, 40, terminal_reversal(&t, "98")));
    assert_eq!(ids(&hop(&traffic)), [Rule::ReversalNotForwarded]);
    // Forwarded as a 0420 naming the sale: silent.
    traffic.push((Leg::Network, 41, network_reversal(&n, "822440158120001")));
    assert_eq!(ids(&hop(&traffic)), []);
    // The network declined the sale: no reversal is needed.
    let mut traffic = start();
    traffic.push((Leg::Network, 2, answer(&n, "51")));
    traffic.push((Leg::Terminal, 40, terminal_reversal(&t, "98")));
    assert_eq!(ids(&hop(&traffic)), []);
    // A 0420 under another merchant than the forwarded sale's, and one the network refuses.
    let mut traffic = start();
    traffic.push((Leg::Network, 2, answer(&n, "00")));
    traffic.push((Leg::Terminal, 3, answer(&t, "00")));
    let bad = network_reversal(&n, "898310054110099");
    traffic.push((Leg::Network, 4, bad.clone()));
    traffic.push((Leg::Network, 5, answer(&bad, "25")));
    assert_eq!(
        ids(&hop(&traffic)),
        [Rule::ReversalFailed, Rule::ReversalFailed]
    );
    let mut traffic = start();
    let good = network_reversal(&n, "822440158120001");
    traffic.push((Leg::Network, 4, good.clone()));
    traffic.push((Leg::Network, 5, answer(&good, "00")));
    assert_eq!(ids(&hop(&traffic)), []);
}

#[test]
fn region_jumps_and_their_exceptions() {
    // The network merchant in another city (4401 -> 3100), and an acquirer ID of another
    // region under the right merchant.
    assert!(rules(&[(42, "822310058120001")]).contains(&Rule::RegionJump));
    assert_eq!(
        rules(&[(32, "48223100")]),
        [Rule::RegionJump, Rule::HopRoutingChanged]
    );
    // A head-office acquirer ID (region 0000) and a declared same-region ID are not jumps.
    assert!(!rules(&[(32, "48220000")]).contains(&Rule::RegionJump));
    assert_eq!(rules(&[(42, "822440158121234")]), []);
}

/// Sales of `merchants` (terminal leg) each cleared on the network as `network[i]`, a minute
/// apart, different cards.
fn channel_traffic(pairs: &[(&str, &str, &str)]) -> Vec<(Leg, i64, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, (terminal, merchant, network)) in pairs.iter().enumerate() {
        let pan = format!("62220212345678{:05}", i);
        let t = i as i64 * 60;
        out.push((
            Leg::Terminal,
            t,
            sale(&[(2, &pan), (41, terminal), (42, merchant), (37, "")]),
        ));
        out.push((
            Leg::Network,
            t + 1,
            sale(&[(2, &pan), (41, terminal), (42, network), (37, "")]),
        ));
    }
    out
}

#[test]
fn one_network_merchant_for_many_and_many_for_one() {
    let pool = "822440153110001";
    // Three terminal merchants behind one network merchant: fan-in, once.
    let f = hop(&channel_traffic(&[
        ("10000001", "822440158120001", pool),
        ("20000001", "822440158120002", pool),
        ("30000001", "822440158120003", pool),
        ("30000001", "822440158120003", pool),
    ]));
    let fan: Vec<&Finding> = f
        .iter()
        .filter(|f| f.rule == Rule::ChannelMerchantFanIn)
        .collect();
    assert_eq!(fan.len(), 1);
    assert!(
        fan[0].observed.contains("3 terminal merchants"),
        "{}",
        fan[0].observed
    );
    // Two are not enough.
    let f = hop(&channel_traffic(&[
        ("10000001", "822440158120001", pool),
        ("20000001", "822440158120002", pool),
    ]));
    assert!(!ids(&f).contains(&Rule::ChannelMerchantFanIn));
    // One terminal merchant rotating through three network merchants: rotation.
    let f = hop(&channel_traffic(&[
        ("10000001", "822440158120001", "822440153110001"),
        ("10000001", "822440158120001", "822440153110002"),
        ("10000001", "822440158120001", "822440153110003"),
    ]));
    assert_eq!(
        ids(&f)
            .iter()
            .filter(|r| **r == Rule::ChannelMerchantRotation)
            .count(),
        1
    );
    // The declared mapping, however often: nothing.
    let f = hop(&channel_traffic(&[
        ("10000001", "822440158120001", "822440158121234"),
        ("10000001", "822440158120001", "822440158121234"),
        ("10000001", "822440158120001", "822440158121234"),
    ]));
    assert_eq!(ids(&f), []);
}
