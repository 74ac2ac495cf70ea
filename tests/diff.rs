//! The pairer's rules, each where it should fire and where it should not.

use iso8583_inspect::capture::{Flow, Timestamp};
use iso8583_inspect::diff::{DiffConfig, Pairer, Seen};
use iso8583_inspect::finding::{Finding, Rule};
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti, parse};

/// A message: MTI, then (field, value) pairs over a sale's defaults (an empty value removes).
fn msg(mti: u16, changes: &[(usize, &str)]) -> Vec<u8> {
    let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::new(mti));
    for (n, v) in [
        (2, "6222021234567890123"),
        (3, "000000"),
        (4, "000000012800"),
        (11, "000001"),
        (18, "5812"),
        (32, "48220000"),
        (41, "10000001"),
        (42, "822440158120001"),
        (49, "156"),
    ] {
        b.set_text(n, v).unwrap();
    }
    if Mti::new(mti).is_response() {
        b.set_text(37, "332700000001")
            .unwrap()
            .set_text(39, "00")
            .unwrap();
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

fn flow() -> Option<Flow> {
    Some(Flow {
        client: "192.168.1.21:40001".parse().unwrap(),
        server: "10.10.0.1:8583".parse().unwrap(),
    })
}

/// Feeds (seconds, message) in order, then finishes; returns the findings.
fn run_with(config: DiffConfig, traffic: &[(i64, Vec<u8>)]) -> Vec<Finding> {
    let mut p = Pairer::new(&ISO87_ASCII, config);
    let mut out = Vec::new();
    for (i, (t, bytes)) in traffic.iter().enumerate() {
        let m = parse(&ISO87_ASCII, bytes).unwrap();
        p.push(
            &m,
            bytes,
            Seen {
                index: i,
                time: Timestamp::new(1_795_397_400 + t, 0),
                flow: flow(),
            },
            &mut out,
        );
    }
    p.finish(&mut out);
    assert_eq!(p.pending(), 0, "finish empties the table");
    out
}

fn rules(traffic: &[(i64, Vec<u8>)]) -> Vec<Rule> {
    run_with(DiffConfig::default(), traffic)
        .iter()
        .map(|f| f.rule)
        .collect()
}

#[test]
fn a_request_and_its_echoing_response_are_clean() {
    assert_eq!(rules(&[(0, msg(200, &[])), (1, msg(210, &[]))]), []);
    assert_eq!(rules(&[(0, msg(100, &[])), (1, msg(110, &[]))]), []);
    // The responder may change the account types of the processing code, and add 37/38.
    assert_eq!(
        rules(&[
            (0, msg(200, &[])),
            (1, msg(210, &[(3, "001000"), (38, "A1B2C3")]))
        ]),
        []
    );
}

#[test]
fn response_field_changes() {
    let cases: [(usize, &str, Rule); 6] = [
        (4, "000000013800", Rule::ResponseAmountChanged),
        (18, "5411", Rule::ResponseMccChanged),
        (42, "898310054110007", Rule::ResponseMerchantChanged),
        (41, "10000009", Rule::ResponseTerminalChanged),
        (32, "48980000", Rule::ResponseAcquirerChanged),
        (49, "840", Rule::EchoMismatch),
    ];
    for (n, v, rule) in cases {
        let f = run_with(
            DiffConfig::default(),
            &[(0, msg(200, &[])), (1, msg(210, &[(n, v)]))],
        );
        assert_eq!(
            f.iter().map(|f| f.rule).collect::<Vec<_>>(),
            [rule],
            "field {n}"
        );
        assert_eq!(
            (f[0].fields.as_slice(), f[0].observed.as_str()),
            (&[n as u8][..], v)
        );
    }
    // A changed PAN is reported masked.
    let f = run_with(
        DiffConfig::default(),
        &[
            (0, msg(200, &[])),
            (1, msg(210, &[(2, "6222029999999990123")])),
        ],
    );
    assert_eq!(f[0].rule, Rule::EchoMismatch);
    assert_eq!(
        (f[0].expected.as_str(), f[0].observed.as_str()),
        ("622202*********0123", "622202*********0123")
    );
}

#[test]
fn every_changed_echo_is_reported_once_whatever_lies_between() {
    // Two changes in one stretch of echoed fields (2-4), one in another (41-42, with 38 and
    // 39 added before it), and 49 after a field only the request carries (43): each reported.
    let name = format!("{:<40}", "GOLDEN DRAGON");
    let request = msg(200, &[(12, "120000"), (13, "1204"), (43, &name)]);
    let response = msg(
        210,
        &[
            (3, "300000"),
            (4, "000000013800"),
            (12, "120000"),
            (13, "1204"),
            (38, "A1B2C3"),
            (41, "10000009"),
            (49, "840"),
        ],
    );
    let f = run_with(
        DiffConfig::default(),
        &[(0, request.clone()), (1, response)],
    );
    let got: Vec<(Rule, Vec<u8>)> = f.iter().map(|f| (f.rule, f.fields.clone())).collect();
    assert_eq!(
        got,
        [
            (Rule::EchoMismatch, vec![3]),
            (Rule::ResponseAmountChanged, vec![4]),
            (Rule::ResponseTerminalChanged, vec![41]),
            (Rule::EchoMismatch, vec![49]),
        ]
    );
    // The same fields unchanged, whatever the response adds between them: clean.
    let echoed = msg(
        210,
        &[(12, "120000"), (13, "1204"), (38, "A1B2C3"), (44, "1")],
    );
    assert_eq!(rules(&[(0, request), (1, echoed)]), []);
}

#[test]
fn a_partial_approval_may_change_the_amount() {
    assert_eq!(
        rules(&[
            (0, msg(200, &[])),
            (1, msg(210, &[(4, "000000006400"), (39, "10")]))
        ]),
        []
    );
}

#[test]
fn unexpected_response_mti() {
    assert_eq!(
        rules(&[(0, msg(100, &[])), (1, msg(210, &[]))]),
        [Rule::UnexpectedResponseMti]
    );
}

#[test]
fn no_response_and_no_reversal() {
    // Unanswered for 31 s: no response; 91 s: not reversed either.
    assert_eq!(
        rules(&[(0, msg(200, &[])), (31, msg(800, &[])), (91, msg(800, &[]))]),
        [Rule::NoResponse, Rule::NoReversalAfterTimeout]
    );
    // Reversed in time: no response only.
    let reversed = rules(&[
        (0, msg(200, &[])),
        (35, msg(400, &[(39, "98")])),
        (36, msg(410, &[])),
        (200, msg(800, &[])),
    ]);
    assert_eq!(reversed, [Rule::NoResponse]);
    // Answered in time: nothing.
    assert_eq!(
        rules(&[
            (0, msg(200, &[])),
            (29, msg(210, &[])),
            (200, msg(800, &[]))
        ]),
        []
    );
    // Still waiting when the input ends.
    let f = run_with(DiffConfig::default(), &[(0, msg(200, &[]))]);
    assert_eq!(
        (f[0].rule, f[0].observed.as_str()),
        (Rule::NoResponse, "none by the end of the input")
    );
    // A reversal request that goes unanswered is not an approval request.
    assert_eq!(rules(&[(0, msg(400, &[]))]), []);
}

#[test]
fn orphan_duplicate_and_late_responses() {
    assert_eq!(rules(&[(0, msg(210, &[]))]), [Rule::OrphanResponse]);
    assert_eq!(
        rules(&[(0, msg(200, &[])), (1, msg(210, &[])), (2, msg(210, &[]))]),
        [Rule::DuplicateResponse]
    );
    assert_eq!(
        rules(&[(0, msg(200, &[])), (31, msg(210, &[]))]),
        [Rule::NoResponse, Rule::LateResponse]
    );
}

#[test]
fn approved_then_reversed() {
    // Field 90: original MTI, STAN, transmission time, acquirer, forwarder.
    let original = format!("0200{:06}{}{:0>11}{:0>11}", 1, "1123093015", "48220000", "");
    let by_90 = rules(&[
        (0, msg(200, &[(7, "1123093015")])),
        (1, msg(210, &[(7, "1123093015")])),
        (
            5,
            msg(420, &[(7, "1123093020"), (11, "000002"), (90, &original)]),
        ),
        (6, msg(430, &[(7, "1123093020"), (11, "000002")])),
    ]);
    assert_eq!(by_90, [Rule::ApprovedThenReversed]);
    // The terminal leg: no field 90, the reversal carries the original's STAN.
    assert_eq!(
        rules(&[
            (0, msg(200, &[])),
            (1, msg(210, &[])),
            (5, msg(400, &[])),
            (6, msg(410, &[]))
        ]),
        [Rule::ApprovedThenReversed]
    );
    // A declined sale's reversal is no finding.
    assert_eq!(
        rules(&[
            (0, msg(200, &[])),
            (1, msg(210, &[(39, "51")])),
            (5, msg(400, &[])),
            (6, msg(410, &[]))
        ]),
        []
    );
}

#[test]
fn the_table_is_bounded_and_reports_what_it_drops() {
    let config = DiffConfig {
        max_pending: 2,
        ..DiffConfig::default()
    };
    // Three sales of different amounts (the same amount thrice would be a replay).
    let traffic: Vec<(i64, Vec<u8>)> = (1..=3)
        .map(|i| {
            let amount = format!("{:012}", 12800 + i);
            (0, msg(200, &[(11, &format!("{i:06}")), (4, &amount)]))
        })
        .collect();
    let f = run_with(config, &traffic);
    let got: Vec<(Rule, Option<String>)> =
        f.iter().map(|f| (f.rule, f.message.stan.clone())).collect();
    assert_eq!(
        got,
        [
            (Rule::Evicted, Some("000001".into())),
            (Rule::NoResponse, Some("000002".into())),
            (Rule::NoResponse, Some("000003".into()))
        ]
    );
}

#[test]
fn a_second_debit_under_another_stan_is_a_replay() {
    let second = msg(200, &[(11, "000002")]);
    let answered = |stan: &str| msg(210, &[(11, stan)]);
    // The same card, amount, terminal and merchant, 20 s later, under another STAN.
    assert_eq!(
        rules(&[
            (0, msg(200, &[])),
            (1, answered("000001")),
            (20, second.clone()),
            (21, answered("000002")),
        ]),
        [Rule::DuplicateOrReplay]
    );
    // Silent: a retry with the same STAN; a repeat MTI; another amount; outside the window.
    for traffic in [
        vec![
            (0, msg(200, &[])),
            (5, msg(200, &[])),
            (6, answered("000001")),
        ],
        vec![
            (0, msg(220, &[])),
            (5, msg(221, &[(11, "000002")])),
            (6, msg(230, &[])),
            (7, msg(231, &[(11, "000002")])),
        ],
        vec![
            (0, msg(200, &[])),
            (1, answered("000001")),
            (20, msg(200, &[(11, "000002"), (4, "000000012900")])),
            (21, msg(210, &[(11, "000002"), (4, "000000012900")])),
        ],
        vec![
            (0, msg(200, &[])),
            (1, answered("000001")),
            (90, second.clone()),
            (91, answered("000002")),
        ],
    ] {
        assert_eq!(rules(&traffic), [], "{traffic:?}");
    }
}

#[test]
fn a_void_undoes_its_sale() {
    // A sale never answered; 40 s on the merchant voids it (field 90 names it); later traffic
    // moves the clock past the reversal window.
    let void = msg(
        200,
        &[
            (3, "200000"),
            (11, "000002"),
            (90, "020000000100000000000000000000000000000000"),
        ],
    );
    let later = || (200, msg(200, &[(11, "000009"), (4, "000000000900")]));
    let later_answer = || (201, msg(210, &[(11, "000009"), (4, "000000000900")]));
    assert_eq!(
        rules(&[
            (0, msg(200, &[])),
            (40, void.clone()),
            (
                41,
                msg(210, &[(3, "200000"), (11, "000002"), (37, "332700000002")])
            ),
            later(),
            later_answer(),
        ]),
        [Rule::NoResponse]
    );
    // Without the void, the debit stands.
    assert_eq!(
        rules(&[(0, msg(200, &[])), later(), later_answer()]),
        [Rule::NoResponse, Rule::NoReversalAfterTimeout]
    );
}

#[test]
fn a_terminal_void_names_its_sale_in_field_61() {
    use iso8583_inspect::spec::CUP_POS;
    let cup = |mti: u16, pc: &str, trace: &str, f60: &str, f61: Option<&str>| {
        let mut b = MessageBuilder::new(&CUP_POS, Mti::new(mti));
        b.set_header(&[0x60, 0, 6, 0, 0, 0x60, 0x31, 0, 0x31, 0x10, 0x03])
            .unwrap();
        for (n, v) in [
            (2, "6222021234567890123"),
            (3, pc),
            (4, "000000012800"),
            (11, trace),
            (25, "00"),
            (41, "10000001"),
            (42, "822440158120001"),
            (49, "156"),
            (60, f60),
        ] {
            b.set_text(n, v).unwrap();
        }
        if let Some(v) = f61 {
            b.set_text(61, v).unwrap();
        }
        if Mti::new(mti).is_response() {
            b.set_text(39, "00").unwrap();
        }
        b.to_vec().unwrap()
    };
    let run = |traffic: &[(i64, Vec<u8>)]| {
        let mut p = Pairer::new(&CUP_POS, DiffConfig::default());
        let mut out = Vec::new();
        for (i, (t, bytes)) in traffic.iter().enumerate() {
            let m = parse(&CUP_POS, bytes).unwrap();
            let seen = Seen {
                index: i,
                time: Timestamp::new(1_795_397_400 + t, 0),
                flow: flow(),
            };
            p.push(&m, bytes, seen, &mut out);
        }
        p.finish(&mut out);
        out.iter().map(|f| f.rule).collect::<Vec<_>>()
    };
    let sale = cup(200, "000000", "000001", "22000001000", None);
    let void = cup(
        200,
        "200000",
        "000002",
        "23000001000",
        Some("0000010000011123"),
    );
    let void_answer = cup(
        210,
        "200000",
        "000002",
        "23000001000",
        Some("0000010000011123"),
    );
    let later = cup(200, "000000", "000009", "22000001000", None);
    let later_answer = cup(210, "000000", "000009", "22000001000", None);
    let mut traffic = vec![(0, sale.clone()), (40, void), (41, void_answer)];
    traffic.extend([(200, later.clone()), (201, later_answer.clone())]);
    assert_eq!(run(&traffic), [Rule::NoResponse]);
    let without = [(0, sale), (200, later), (201, later_answer)];
    assert_eq!(
        run(&without),
        [Rule::NoResponse, Rule::NoReversalAfterTimeout]
    );
}

#[test]
fn the_caller_s_clock_ends_waits_with_no_message() {
    let mut p = Pairer::new(&ISO87_ASCII, DiffConfig::default());
    let mut out = Vec::new();
    let sale = msg(200, &[]);
    let m = parse(&ISO87_ASCII, &sale).unwrap();
    let t0 = 1_795_397_400;
    let seen = Seen {
        index: 0,
        time: Timestamp::new(t0, 0),
        flow: flow(),
    };
    p.push(&m, &sale, seen, &mut out);
    // Before the 30 s timeout: nothing; a clock going back: nothing.
    p.tick(Timestamp::new(t0 + 29, 0), &mut out);
    p.tick(Timestamp::new(t0 + 5, 0), &mut out);
    assert!(out.is_empty(), "{out:?}");
    // After it, the unanswered sale is reported with no further message.
    p.tick(Timestamp::new(t0 + 31, 0), &mut out);
    assert_eq!(
        out.iter().map(|f| f.rule).collect::<Vec<_>>(),
        [Rule::NoResponse]
    );
    assert_eq!(out[0].message.index, 0);
    // And, the reversal window past too, that it was never reversed.
    p.tick(Timestamp::new(t0 + 95, 0), &mut out);
    assert_eq!(
        out.iter().map(|f| f.rule).collect::<Vec<_>>(),
        [Rule::NoResponse, Rule::NoReversalAfterTimeout]
    );
    assert_eq!(p.pending(), 0);
}
