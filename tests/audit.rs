//! The audit of the bundled sample finds every injected case and nothing else, from the capture
//! and from the hex dump alike; and the `audit` example says so in text and NDJSON.

use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::CaptureConfig;
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

/// Every case `examples/common/traffic.rs` injects: (rule, STAN, merchant, fields); the last is
/// the sale that timed out at the terminal (reversed, never answered), reported when the input
/// ends.
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

fn audit(input: Input<BufReader<std::fs::File>>) -> Vec<(Rule, String, String, Vec<u8>)> {
    let book = ProfileBook::load(data("merchants.toml")).unwrap();
    let fees = FeeTable::default();
    let mut audit = Audit::new(&ISO87_ASCII, &book, &fees);
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

fn expected() -> Vec<(Rule, String, String, Vec<u8>)> {
    EXPECTED
        .iter()
        .map(|(r, s, m, f)| (*r, s.to_string(), m.to_string(), f.to_vec()))
        .collect()
}

fn open(name: &str) -> BufReader<std::fs::File> {
    BufReader::new(std::fs::File::open(data(name)).unwrap())
}

#[test]
fn the_sample_capture_holds_exactly_the_injected_cases() {
    assert_eq!(
        audit(Input::Capture(
            open("sample.pcap"),
            CaptureConfig::default()
        )),
        expected()
    );
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
        text.starts_with("Audit: 27 messages (0 unreadable), 9 findings."),
        "{text}"
    );
    assert!(text.contains("Merchant 822440158120001 Golden Dragon Restaurant (registered MCC 5812)\n  transactions: 6\n  findings: mcc-mismatch 1, currency-mismatch 1, malformed-field 1, no-response 1\n  estimated fee impact: 2.23 yuan at the pre-2016 rates, 0.57 yuan at the 2016 rates"), "{text}");
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
    assert_eq!(lines.len(), 9);
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
