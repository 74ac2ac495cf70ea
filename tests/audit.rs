//! The audit of the bundled sample finds every injected case and nothing else, from the capture
//! and from the hex dump alike; and the `audit` example says so in text and NDJSON.

use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::CaptureConfig;
use iso8583_inspect::diff::Leg;
use iso8583_inspect::finding::Rule;
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::report::Input;
use iso8583_inspect::spec::ISO87_ASCII;
use std::io::BufReader;
use std::process::Command;

fn data(name: &str) -> String {
    format!("{}/examples/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Every case `examples/common/traffic.rs` injects on the terminal leg: (rule, STAN, merchant,
/// fields); the last is the sale that timed out at the terminal (reversed, never answered),
/// reported when the input ends.
const EXPECTED: [(Rule, &str, &str, &[u8]); 9] = [
    (Rule::MccMismatch, "000005", "822440158120001", &[18]),
    (
        Rule::MerchantCodeMccMismatch,
        "000006",
        "898310053310002",
        &[42],
    ),
    (Rule::UnknownMerchant, "000007", "836440159990009", &[42]),
    (
        Rule::TerminalMerchantMismatch,
        "000008",
        "898310054110007",
        &[41, 42],
    ),
    (Rule::AcquirerMismatch, "000009", "836110070110003", &[32]),
    (Rule::AmountOutOfRange, "000010", "898310054110007", &[4]),
    (Rule::CurrencyMismatch, "000011", "822440158120001", &[49]),
    (Rule::MalformedField, "000012", "822440158120001", &[49]),
    (Rule::NoResponse, "000003", "822440158120001", &[11]),
];

/// The validator's findings on the network leg's altered forwards (STAN 700000 + the terminal's).
const NETWORK_VALIDATOR: [(Rule, &str, &str, &[u8]); 4] = [
    (Rule::MccMismatch, "700001", "822440158120001", &[18]),
    (Rule::UnknownMerchant, "700002", "898310054110099", &[42]),
    (
        Rule::TerminalMerchantMismatch,
        "700002",
        "898310054110099",
        &[41, 42],
    ),
    (Rule::AcquirerMismatch, "700013", "822440158120001", &[32]),
];

/// The hop cases, found when the audit knows the legs.
const HOP: [(Rule, &str, &str, &[u8]); 5] = [
    (Rule::HopMccSubstituted, "700001", "822440158120001", &[18]),
    (
        Rule::HopMerchantSubstituted,
        "700002",
        "898310054110099",
        &[42],
    ),
    (Rule::HopAmountAltered, "700004", "836110070110003", &[4]),
    (Rule::HopRoutingChanged, "700013", "822440158120001", &[32]),
    (Rule::HopNameChanged, "700014", "836110070110003", &[43]),
];

type Row = (Rule, String, String, Vec<u8>);

fn audit_with(input: Input<BufReader<std::fs::File>>, legs: &[(Leg, u16)]) -> Vec<Row> {
    let book = ProfileBook::load(data("merchants.toml")).unwrap();
    let fees = FeeTable::default();
    let mut audit = Audit::new(&ISO87_ASCII, &book, &fees);
    audit.set_legs(legs);
    audit.run(input).unwrap();
    audit
        .findings()
        .iter()
        .map(|f| {
            (
                f.rule,
                f.message.stan.clone().unwrap(),
                f.message.merchant.clone().unwrap(),
                f.fields.clone(),
            )
        })
        .collect()
}

fn audit(input: Input<BufReader<std::fs::File>>) -> Vec<Row> {
    audit_with(input, &[])
}

fn rows(cases: &[(Rule, &str, &str, &[u8])]) -> Vec<Row> {
    cases
        .iter()
        .map(|(r, s, m, f)| (*r, s.to_string(), m.to_string(), f.to_vec()))
        .collect()
}

fn expected() -> Vec<Row> {
    rows(&EXPECTED)
}

/// Findings in a canonical order, for comparison.
fn sorted(mut v: Vec<Row>) -> Vec<Row> {
    v.sort();
    v
}

fn open(name: &str) -> BufReader<std::fs::File> {
    BufReader::new(std::fs::File::open(data(name)).unwrap())
}

#[test]
fn the_sample_capture_holds_exactly_the_injected_cases() {
    let mut want = expected();
    want.extend(rows(&NETWORK_VALIDATOR));
    let got = audit(Input::Capture(
        open("sample.pcap"),
        CaptureConfig::default(),
    ));
    assert_eq!(sorted(got), sorted(want));
}

#[test]
fn with_its_legs_the_sample_capture_shows_every_hop_case() {
    let mut want = expected();
    want.extend(rows(&NETWORK_VALIDATOR));
    want.extend(rows(&HOP));
    let legs = [(Leg::Terminal, 8583), (Leg::Network, 9000)];
    let got = audit_with(
        Input::Capture(open("sample.pcap"), CaptureConfig::default()),
        &legs,
    );
    assert_eq!(sorted(got), sorted(want));
}

#[test]
fn the_sample_hex_dump_holds_exactly_the_injected_cases() {
    assert_eq!(audit(Input::Hex(open("sample.hex"))), expected());
}

#[test]
fn every_rule_is_in_the_sample() {
    for rule in Rule::VALIDATOR {
        assert!(
            EXPECTED.iter().any(|(r, ..)| *r == rule),
            "{rule} has no case in the sample"
        );
    }
    for rule in Rule::HOP {
        assert!(
            HOP.iter().any(|(r, ..)| *r == rule),
            "{rule} has no case in the sample"
        );
    }
}

fn audit_example() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("examples")
        .join(format!("audit{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn the_audit_example_reports_by_merchant_and_as_ndjson() {
    let profiles = data("merchants.toml");
    let out = Command::new(audit_example())
        .args([
            "--profiles",
            &profiles,
            "--input",
            "pcap",
            "--leg",
            "terminal=8583",
            "--leg",
            "network=9000",
            &data("sample.pcap"),
        ])
        .output()
        .expect("the audit example is built");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Audit: 45 messages (0 unreadable), 18 findings."),
        "{text}"
    );
    assert!(
        text.contains("[high] hop-amount-altered message 11 MTI 0100"),
        "{text}"
    );
    assert!(text.contains("Merchant 822440158120001 Golden Dragon Restaurant (registered MCC 5812)\n  transactions: 9\n  findings: mcc-mismatch 2, acquirer-mismatch 1, currency-mismatch 1, malformed-field 1, no-response 1, hop-mcc-substituted 1, hop-routing-changed 1\n  estimated fee impact: 3.34 yuan at the pre-2016 rates, 0.85 yuan at the 2016 rates"), "{text}");
    assert!(
        text.contains("Merchant 836440159990009 (not in the profile book)"),
        "{text}"
    );
    assert!(!text.contains("6222021234567890123"), "no card data");

    let out = Command::new(audit_example())
        .args([
            "--profiles",
            &profiles,
            "--input",
            "hex",
            "--format",
            "ndjson",
            &data("sample.hex"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 9, "the hex dump is the terminal leg");
    let first = &lines[0];
    for key in [
        "rule",
        "severity",
        "index",
        "time",
        "mti",
        "merchant",
        "terminal",
        "stan",
        "rrn",
        "fields",
        "expected",
        "observed",
        "fee_impact",
    ] {
        assert!(first.get(key).is_some(), "{key} missing: {first}");
    }
    assert_eq!(first["rule"], "mcc-mismatch");
    assert_eq!(first["fee_impact"]["pre2016"]["difference_fen"], 223);
    assert!(lines[1..].iter().all(|l| l["rule"] != "mcc-mismatch"));

    let out = Command::new(audit_example())
        .args(["--profiles", "/nonexistent.toml", &data("sample.pcap")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("cannot read profiles /nonexistent.toml")
    );
}
