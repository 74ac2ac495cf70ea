//! The bundled sample (`examples/data/sample.hex`): generated here from realistic traffic, and
//! its inspection compared with the checked-in output (`examples/data/sample.ndjson`).
//! Run with `REGENERATE=1` to rewrite both after a deliberate change, and review the diff.

use iso8583_inspect::report::{Format, Options, inspect_hex};
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti};
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/data")
        .join(name)
}

/// A terminal's sale on the ISO 1987 ASCII leg.
struct Sale {
    pan: &'static str,
    amount: u64,
    stan: u32,
    time: &'static str,
    mcc: &'static str,
    terminal: &'static str,
    merchant: &'static str,
    name: &'static str,
}

fn request(mti: Mti, s: &Sale, processing: &str) -> MessageBuilder<'static> {
    let mut b = MessageBuilder::new(&ISO87_ASCII, mti);
    b.set_text(2, s.pan).unwrap();
    b.set_text(3, processing).unwrap();
    b.set_text(4, &format!("{:012}", s.amount)).unwrap();
    b.set_text(7, &format!("1123{}", s.time)).unwrap();
    b.set_text(11, &format!("{:06}", s.stan)).unwrap();
    b.set_text(12, s.time).unwrap();
    b.set_text(13, "1123").unwrap();
    b.set_text(18, s.mcc).unwrap();
    b.set_text(22, "051").unwrap();
    b.set_text(25, "00").unwrap();
    b.set_text(32, "48220000").unwrap();
    b.set_text(35, &format!("{}=2912101", s.pan)).unwrap();
    b.set_text(41, s.terminal).unwrap();
    b.set_text(42, s.merchant).unwrap();
    b.set_text(43, &format!("{:<40}", s.name)).unwrap();
    b.set_text(49, "156").unwrap();
    b.set_text(52, "4F2A9C11D03B7E58").unwrap();
    b.set_text(55, "9F02060000000123459F1A0201565F2A020156")
        .unwrap();
    b
}

fn response(
    req: &MessageBuilder<'static>,
    mti: Mti,
    rrn: &str,
    code: &str,
) -> MessageBuilder<'static> {
    let mut b = req.clone();
    b.set_mti(mti);
    for n in [22, 35, 52, 55] {
        b.remove(n);
    }
    b.set_text(37, rrn).unwrap();
    if code == "00" {
        b.set_text(38, "A1B2C3").unwrap();
    }
    b.set_text(39, code).unwrap();
    b
}

fn sample_messages() -> Vec<Vec<u8>> {
    let sales = [
        Sale {
            pan: "6222021234567890123",
            amount: 12800,
            stan: 1,
            time: "093015",
            mcc: "5812",
            terminal: "10000001",
            merchant: "822440158120001",
            name: "GOLDEN DRAGON RESTAURANT GUANGZHOU",
        },
        Sale {
            pan: "6259650000000000016",
            amount: 399900,
            stan: 2,
            time: "094210",
            mcc: "5411",
            terminal: "20000001",
            merchant: "898310054110007",
            name: "XINHUA SUPERMARKET SHANGHAI",
        },
        Sale {
            pan: "4761739001010010",
            amount: 5600,
            stan: 3,
            time: "101502",
            mcc: "5812",
            terminal: "10000002",
            merchant: "822440158120001",
            name: "GOLDEN DRAGON RESTAURANT GUANGZHOU",
        },
        Sale {
            pan: "6212340000000000019",
            amount: 880000,
            stan: 4,
            time: "112733",
            mcc: "7011",
            terminal: "30000001",
            merchant: "836110070110003",
            name: "BEIJING GARDEN HOTEL",
        },
    ];
    let mut out = Vec::new();
    let mut push = |b: &MessageBuilder<'static>| out.push(b.to_vec().unwrap());

    // Echo test at sign-on.
    let mut echo = MessageBuilder::new(&ISO87_ASCII, Mti::NETWORK_REQUEST);
    echo.set_text(7, "1123090000")
        .unwrap()
        .set_text(11, "000100")
        .unwrap()
        .set_text(70, "301")
        .unwrap();
    push(&echo);
    let mut echo_rsp = echo.clone();
    echo_rsp
        .set_mti(Mti::NETWORK_RESPONSE)
        .set_text(39, "00")
        .unwrap();
    push(&echo_rsp);

    // Sales and their responses.
    for (i, s) in sales.iter().enumerate().take(2) {
        let req = request(Mti::FINANCIAL_REQUEST, s, "000000");
        push(&req);
        push(&response(
            &req,
            Mti::FINANCIAL_RESPONSE,
            &format!("33270000{:04}", i + 1),
            "00",
        ));
    }
    // An authorisation (hotel pre-authorisation) and its response.
    let auth = request(Mti::AUTH_REQUEST, &sales[3], "030000");
    push(&auth);
    push(&response(&auth, Mti::AUTH_RESPONSE, "332700000004", "00"));
    // A sale that timed out at the terminal, then its reversal and the reversal's response.
    let timed_out = request(Mti::FINANCIAL_REQUEST, &sales[2], "000000");
    push(&timed_out);
    let mut reversal = request(Mti::REVERSAL_REQUEST, &sales[2], "000000");
    reversal.remove(52).remove(55).set_text(39, "98").unwrap();
    reversal
        .set_text(
            90,
            &format!("0200{:06}1123{}0004822000000000000000", 3, sales[2].time),
        )
        .unwrap();
    push(&reversal);
    push(&response(
        &reversal,
        Mti::REVERSAL_RESPONSE,
        "332700000003",
        "00",
    ));

    // Damaged traffic: a sale cut short, and one whose amount carries a letter.
    let mut cut = request(Mti::FINANCIAL_REQUEST, &sales[0], "000000")
        .to_vec()
        .unwrap();
    cut.truncate(cut.len() - 30);
    out.push(cut);
    let mut bad = request(Mti::FINANCIAL_REQUEST, &sales[1], "000000")
        .to_vec()
        .unwrap();
    let at = bad.windows(12).position(|w| w == b"000000399900").unwrap();
    bad[at + 7] = b'O';
    out.push(bad);
    out
}

fn render_hex(messages: &[Vec<u8>]) -> String {
    let mut s = String::from(
        "# iso8583-inspect sample: ISO 8583:1987 ASCII (--spec iso87-ascii), one message a line.\n",
    );
    s.push_str("# Test card numbers only. Generated by tests/sample.rs; the last two lines are damaged on purpose.\n");
    for m in messages {
        s.extend(m.iter().map(|b| format!("{b:02X}")));
        s.push('\n');
    }
    s
}

fn inspect(hex: &str, format: Format) -> String {
    let mut out = Vec::new();
    let opts = Options {
        format,
        ..Options::default()
    };
    inspect_hex(hex.as_bytes(), &ISO87_ASCII, &opts, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn check_file(name: &str, expected: &str) {
    let path = data(name);
    if std::env::var_os("REGENERATE").is_some() {
        std::fs::write(&path, expected).unwrap();
    }
    let found = std::fs::read_to_string(&path).unwrap();
    assert!(
        found == expected,
        "{} differs from what the code produces; run with REGENERATE=1 and review",
        path.display()
    );
}

#[test]
fn sample_hex_is_what_the_generator_writes() {
    check_file("sample.hex", &render_hex(&sample_messages()));
}

#[test]
fn sample_inspection_matches_the_golden_output() {
    let hex = std::fs::read_to_string(data("sample.hex")).unwrap();
    check_file("sample.ndjson", &inspect(&hex, Format::Ndjson));
}

#[test]
fn sample_output_never_shows_card_data() {
    let hex = render_hex(&sample_messages());
    for format in [Format::Text, Format::Ndjson] {
        let out = inspect(&hex, format);
        for pan in [
            "6222021234567890123",
            "6259650000000000016",
            "4761739001010010",
            "2912101",
            "4F2A9C11D03B7E58",
            "9F0206",
        ] {
            assert!(!out.contains(pan), "{pan} shown in {format:?} output");
        }
        assert!(out.contains("622202*********0123"));
    }
}

#[test]
fn sample_has_the_expected_traffic_and_errors() {
    let hex = render_hex(&sample_messages());
    let mut out = Vec::new();
    let summary = inspect_hex(
        hex.as_bytes(),
        &ISO87_ASCII,
        &Options {
            summary_only: true,
            ..Options::default()
        },
        &mut out,
    )
    .unwrap();
    assert!(out.is_empty());
    assert_eq!(summary.messages, 13);
    assert_eq!(summary.errors, 2);
    let counts: Vec<(&str, usize)> = summary
        .by_mti
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        counts,
        [
            ("0100", 1),
            ("0110", 1),
            ("0200", 3),
            ("0210", 2),
            ("0400", 1),
            ("0410", 1),
            ("0800", 1),
            ("0810", 1)
        ]
    );
}
