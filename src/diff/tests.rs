//! Forced collisions: every pairing key given the same 64-bit value, so that the tables can
//! tell transactions apart only by the keys' bytes. Nothing may be paired or correlated with
//! another transaction's message. And the slots entries are held in: a retransmission takes its
//! first sending's, a slot taken again answers to none of its former entry's deadlines.

use super::key::with_forced_collisions;
use super::{DiffConfig, HopConfig, HopMatcher, Leg, Pairer, Seen};
use crate::capture::Timestamp;
use crate::finding::{Finding, Rule};
use crate::mcc::FeeTable;
use crate::profile::ProfileBook;
use crate::spec::ISO87_ASCII;
use crate::{MessageBuilder, Mti, parse};

/// A message: MTI, a sale's defaults, then (field, value) changes.
fn msg(mti: u16, changes: &[(usize, &str)]) -> Vec<u8> {
    let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::new(mti));
    let defaults = [
        (2, "6222021234567890123"),
        (3, "000000"),
        (4, "000000012800"),
        (11, "000001"),
        (12, "093015"),
        (13, "1123"),
        (32, "48220000"),
        (41, "10000001"),
        (42, "822440158120001"),
        (49, "156"),
    ];
    for (n, v) in defaults.iter().chain(changes) {
        b.set_text(*n, v).unwrap();
    }
    if Mti::new(mti).is_response() {
        b.set_text(39, "00").unwrap();
    }
    b.to_vec().unwrap()
}

fn seen(i: usize, t: i64) -> Seen {
    Seen {
        index: i,
        time: Timestamp::new(1_795_397_400 + t, 0),
        flow: None,
    }
}

fn pair(traffic: &[(i64, Vec<u8>)]) -> Vec<Finding> {
    let mut p = Pairer::new(&ISO87_ASCII, DiffConfig::default());
    let mut out = Vec::new();
    for (i, (t, bytes)) in traffic.iter().enumerate() {
        let m = parse(&ISO87_ASCII, bytes).unwrap();
        p.push(&m, bytes, seen(i, *t), &mut out);
    }
    p.finish(&mut out);
    out
}

fn rules(findings: &[Finding]) -> Vec<Rule> {
    findings.iter().map(|f| f.rule).collect()
}

#[test]
fn colliding_keys_never_pair_one_transaction_with_another() {
    // Two sales in flight on one terminal, answered in reverse order.
    let traffic = [
        (0, msg(200, &[])),
        (1, msg(200, &[(11, "000002"), (4, "000000009900")])),
        (2, msg(210, &[(11, "000002"), (4, "000000009900")])),
        (3, msg(210, &[])),
    ];
    assert_eq!(rules(&pair(&traffic)), [], "clean with real keys");
    let collided = with_forced_collisions(|| pair(&traffic));
    // The second sale takes the first's value: the first is dropped and says so, its answer
    // is an orphan. No echo or amount finding: nothing was compared with the wrong request.
    assert_eq!(
        rules(&collided),
        [Rule::Evicted, Rule::OrphanResponse],
        "{collided:#?}"
    );
    assert_eq!(collided[0].message.index, 0);
    assert_eq!(collided[1].message.index, 3);
}

#[test]
fn colliding_keys_are_not_a_replay() {
    // Two cards, the same amount, terminal and merchant: no replay, collided or not.
    let other_card = [(2, "6259650000000016"), (11, "000002")];
    let traffic = [
        (0, msg(200, &[])),
        (1, msg(210, &[])),
        (20, msg(200, &other_card)),
        (21, msg(210, &other_card)),
    ];
    assert_eq!(rules(&pair(&traffic)), []);
    let collided = with_forced_collisions(|| pair(&traffic));
    assert!(
        !rules(&collided).contains(&Rule::DuplicateOrReplay),
        "{collided:#?}"
    );
    // And a real replay is still one under collisions.
    let replay = [
        (0, msg(200, &[])),
        (1, msg(210, &[])),
        (20, msg(200, &[(11, "000002")])),
        (21, msg(210, &[(11, "000002")])),
    ];
    let found = with_forced_collisions(|| pair(&replay));
    assert!(
        rules(&found).contains(&Rule::DuplicateOrReplay),
        "{found:#?}"
    );
}

#[test]
fn colliding_keys_never_correlate_two_transactions_across_legs() {
    let book = ProfileBook::from_toml_str(
        "[[merchant]]\nid = \"822440158120001\"\nname = \"Golden Dragon\"\nmcc = \"5812\"\nacquirer_ids = [\"48220000\"]\nterminals = [\"10000001\"]\ncurrency = \"156\"\n",
    )
    .unwrap();
    let fees = FeeTable::default();
    let run = |traffic: &[(Leg, i64, Vec<u8>)]| {
        let mut m = HopMatcher::new(&ISO87_ASCII, &book, &fees, HopConfig::default());
        let mut out = Vec::new();
        for (i, (leg, t, bytes)) in traffic.iter().enumerate() {
            let msg = parse(&ISO87_ASCII, bytes).unwrap();
            m.push(*leg, &msg, bytes, seen(i, *t), &mut out);
        }
        m.finish(&mut out);
        out
    };
    // A terminal sale, then another card's network sale under another merchant and amount:
    // not the same transaction, whatever the keys' values.
    let traffic = [
        (Leg::Terminal, 0, msg(200, &[(37, "332700000001")])),
        (
            Leg::Network,
            1,
            msg(
                200,
                &[
                    (2, "6259650000000016"),
                    (4, "000000099900"),
                    (37, "332700000002"),
                    (42, "898310054110007"),
                ],
            ),
        ),
    ];
    let clean = run(&traffic);
    let collided = with_forced_collisions(|| run(&traffic));
    assert_eq!(rules(&collided), rules(&clean), "{collided:#?}");
    assert!(
        !rules(&collided)
            .iter()
            .any(|r| matches!(r, Rule::HopAmountAltered | Rule::HopMerchantSubstituted)),
        "{collided:#?}"
    );
    // The same transaction on both legs still correlates under collisions.
    let same = [
        (Leg::Terminal, 0, msg(200, &[(37, "332700000001")])),
        (
            Leg::Network,
            1,
            msg(200, &[(37, "332700000001"), (4, "000000012900")]),
        ),
    ];
    let found = with_forced_collisions(|| run(&same));
    assert_eq!(rules(&found), rules(&run(&same)));
    assert!(!found.is_empty(), "the altered amount is found");
}

#[test]
fn a_retransmission_takes_its_first_sendings_place() {
    let mut p = Pairer::new(&ISO87_ASCII, DiffConfig::default());
    let mut out = Vec::new();
    let sale = msg(200, &[]);
    for (i, (t, bytes)) in [(0, &sale), (1, &sale)].into_iter().enumerate() {
        p.push(
            &parse(&ISO87_ASCII, bytes).unwrap(),
            bytes,
            seen(i, t),
            &mut out,
        );
    }
    assert_eq!(p.pending(), 1, "one transaction, one entry");
    let answer = msg(210, &[]);
    p.push(
        &parse(&ISO87_ASCII, &answer).unwrap(),
        &answer,
        seen(2, 2),
        &mut out,
    );
    // Past the first sending's timeout and the answer's reversal window.
    p.tick(seen(3, 200).time, &mut out);
    assert_eq!(p.pending(), 0);
    assert_eq!(rules(&out), [], "{out:#?}");
}

#[test]
fn a_slot_taken_again_answers_to_none_of_its_former_entrys_deadlines() {
    // One request held at most: each new sale evicts the one before and frees its slot.
    let config = DiffConfig {
        max_pending: 1,
        ..DiffConfig::default()
    };
    let mut p = Pairer::new(&ISO87_ASCII, config);
    let mut out = Vec::new();
    let sales = [
        (0, msg(200, &[(11, "000001"), (4, "000000000100")])),
        (1, msg(200, &[(11, "000002"), (4, "000000000200")])),
        // Takes the slot the first sale left, whose timeout deadline (at 30 s) still waits.
        (2, msg(200, &[(11, "000003"), (4, "000000000300")])),
    ];
    for (i, (t, bytes)) in sales.iter().enumerate() {
        p.push(
            &parse(&ISO87_ASCII, bytes).unwrap(),
            bytes,
            seen(i, *t),
            &mut out,
        );
    }
    p.tick(seen(3, 31).time, &mut out);
    assert_eq!(rules(&out), [Rule::Evicted, Rule::Evicted], "{out:#?}");
    assert_eq!(p.pending(), 1, "the third sale still waits for its answer");
    let answer = msg(210, &[(11, "000003"), (4, "000000000300")]);
    p.push(
        &parse(&ISO87_ASCII, &answer).unwrap(),
        &answer,
        seen(4, 31),
        &mut out,
    );
    p.finish(&mut out);
    assert_eq!(rules(&out), [Rule::Evicted, Rule::Evicted], "{out:#?}");
    assert_eq!((out[0].message.index, out[1].message.index), (0, 1));
}

#[test]
fn a_response_is_checked_against_its_request_however_the_request_was_held() {
    // Held with the layout its parse found (the bytes it was parsed from), or without (a copy
    // of them: parsed again when the response comes): the same findings either way.
    for copied in [false, true] {
        let mut p = Pairer::new(&ISO87_ASCII, DiffConfig::default());
        let mut out = Vec::new();
        let sale = msg(200, &[]);
        let copy = sale.clone();
        let m = parse(&ISO87_ASCII, &sale).unwrap();
        p.push(&m, if copied { &copy } else { &sale }, seen(0, 0), &mut out);
        let answer = msg(210, &[(4, "000000099900"), (41, "10000009")]);
        p.push(
            &parse(&ISO87_ASCII, &answer).unwrap(),
            &answer,
            seen(1, 1),
            &mut out,
        );
        p.finish(&mut out);
        assert_eq!(
            rules(&out),
            [Rule::ResponseAmountChanged, Rule::ResponseTerminalChanged],
            "copied: {copied}"
        );
        assert_eq!(out[0].expected, "000000012800");
    }
}

#[test]
fn the_keys_of_well_formed_messages_are_kept_whole() {
    // The longest the crate builds: 11-digit institution IDs, a 19-digit card, IPv6 addresses.
    // Kept whole, a key is confirmed on its bytes and hashed once (the bytes beyond the
    // capacity go through a second hasher).
    use super::key::IDENT_CAPACITY;
    use crate::capture::{Flow, Packed};
    use crate::txn::TransactionType;
    let bytes = msg(
        200,
        &[(32, "48220000001"), (33, "48229999999"), (7, "1123093015")],
    );
    let m = parse(&ISO87_ASCII, &bytes).unwrap();
    // Without a transmission time, the relaxed key takes the connection.
    let untimed = msg(200, &[]);
    let u = parse(&ISO87_ASCII, &untimed).unwrap();
    let v6 = |port| std::net::SocketAddr::new("2001:db8::8583:1".parse().unwrap(), port);
    let flow = Flow {
        client: v6(51_000),
        server: v6(8583),
    };
    let mut server = Packed::default();
    server.addr(&flow.server);
    let lens = [
        Pairer::full_key(m.mti().class(), &m, None).ident.len(),
        Pairer::relaxed_key(Some(flow), u.mti().class(), &u, None, None)
            .ident
            .len(),
        Pairer::relaxed_key(None, m.mti().class(), &m, None, None)
            .ident
            .len(),
        Pairer::debit_key(&m, &server, TransactionType::Sale, b"6222021234567890123")
            .ident
            .len(),
    ];
    assert!(lens.iter().all(|&l| l <= IDENT_CAPACITY), "{lens:?}");
    // And the debit key is the longest of them, close to the capacity: a new part would spill.
    assert_eq!(lens.iter().max(), Some(&lens[3]));
    assert!(lens[3] > IDENT_CAPACITY - 12, "{lens:?}");
}

#[test]
fn card_digits_are_read_alike_from_every_encoding() {
    // ASCII fields are read on their bytes, the others character by character: the same
    // digits, up to the first that is not one, 12 to 19 of them or none.
    use super::pan_digits_of;
    use crate::spec::ISO87_BCD;
    let expected = |v: &str| {
        let digits: Vec<u8> = v.bytes().take_while(u8::is_ascii_digit).collect();
        (12..=19).contains(&digits.len()).then_some(digits)
    };
    let cases: [(usize, &str); 8] = [
        (2, "6222021234567890123"),
        (2, "622202123456"),
        (2, "62220212345"),
        (35, "6222021234567890=2912101"),
        (35, "62220212345678901234=2912"),
        (35, "622202123=45678901234"),
        (2, "6222021234567890"),
        (35, "6222021234567890123"),
    ];
    for spec in [&ISO87_ASCII, &ISO87_BCD] {
        for (n, v) in cases {
            let mut b = MessageBuilder::new(spec, Mti::new(200));
            b.set_text(n, v).unwrap();
            let bytes = b.to_vec().unwrap();
            let m = parse(spec, &bytes).unwrap();
            let got = pan_digits_of(&m).map(|(d, len)| d[..len].to_vec());
            assert_eq!(got, expected(v), "{} {n} {v}", spec.name);
        }
    }
    // In ASCII track 2, the separator may be a `D`: it ends the digits as `=` does.
    let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::new(200));
    b.set_text(35, "62220212345678D2912").unwrap();
    let bytes = b.to_vec().unwrap();
    let m = parse(&ISO87_ASCII, &bytes).unwrap();
    assert_eq!(
        pan_digits_of(&m).map(|(d, len)| d[..len].to_vec()),
        Some(b"62220212345678".to_vec())
    );
}
