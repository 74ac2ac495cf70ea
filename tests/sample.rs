//! The bundled sample: `examples/data/sample.hex` and `sample.pcap` are what
//! `examples/common/traffic.rs` generates (`cargo run --example make_sample` rewrites them), and
//! the inspection of the hex dump matches the checked-in `examples/data/sample.ndjson` (run with
//! `REGENERATE=1` to rewrite it after a deliberate change, and review the diff).

use iso8583_inspect::capture::CaptureConfig;
use iso8583_inspect::report::{Format, Options, inspect_capture, inspect_hex};
use iso8583_inspect::spec::ISO87_ASCII;

#[path = "../examples/common/acquiring.rs"]
mod acquiring;
#[path = "../examples/common/traffic.rs"]
mod traffic;
use std::path::PathBuf;
use traffic::{sample_hex, sample_pcap};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/data")
        .join(name)
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
fn sample_files_are_what_the_generator_writes() {
    let hex = std::fs::read_to_string(data("sample.hex")).unwrap();
    assert!(
        hex == sample_hex(),
        "sample.hex is stale: run `cargo run --example make_sample`"
    );
    let pcap = std::fs::read(data("sample.pcap")).unwrap();
    assert!(
        pcap == sample_pcap(),
        "sample.pcap is stale: run `cargo run --example make_sample`"
    );
    let g = acquiring::generate(1, acquiring::SAMPLE_TRANSACTIONS, acquiring::SAMPLE_LINK);
    assert!(
        std::fs::read(data("acquiring.pcap")).unwrap() == g.pcap
            && std::fs::read_to_string(data("acquiring.toml")).unwrap() == g.profiles,
        "acquiring.pcap or acquiring.toml is stale: run `cargo run --example make_sample`"
    );
}

#[test]
fn sample_inspection_matches_the_golden_output() {
    let hex = std::fs::read_to_string(data("sample.hex")).unwrap();
    check_file("sample.ndjson", &inspect(&hex, Format::Ndjson));
}

#[test]
fn sample_capture_inspection_matches_the_golden_output() {
    let pcap = std::fs::read(data("sample.pcap")).unwrap();
    let mut out = Vec::new();
    let opts = Options {
        format: Format::Ndjson,
        ..Options::default()
    };
    let summary = inspect_capture(
        &pcap[..],
        &ISO87_ASCII,
        CaptureConfig::default(),
        &opts,
        &mut out,
    )
    .unwrap();
    assert_eq!((summary.messages, summary.errors), (72, 0));
    assert_eq!(
        summary.events.get("framing"),
        Some(&8),
        "one auto framing choice per connection"
    );
    check_file("sample.pcap.ndjson", &String::from_utf8(out).unwrap());
}

#[test]
fn sample_output_never_shows_card_data() {
    let hex = sample_hex();
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
    let hex = sample_hex();
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
    assert_eq!(summary.messages, 62);
    assert_eq!(summary.errors, 2);
    let counts: Vec<(&str, usize)> = summary
        .by_mti
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        counts,
        [
            ("0100", 2),
            ("0110", 1),
            ("0200", 24),
            ("0210", 25),
            ("0400", 2),
            ("0410", 2),
            ("0800", 2),
            ("0810", 2)
        ]
    );
}
