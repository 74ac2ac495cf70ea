//! The audit as one HTML page (feature `html`): the bundled samples' reports, made by the
//! `audit` example, open in headless Chromium with nothing on the console, and the figures read
//! from the rendered page equal the NDJSON's (`tests/html/check.py`); the page hides card
//! numbers, escapes what the traffic carries, and caps a long findings table with a note.
//!
//! `cargo build --features html --example audit && cargo test --features html --test html`
//! (needs Chromium; scripts/test installs Debian's).

mod common;

use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::CaptureConfig;
use iso8583_inspect::input::Input;
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::report::{HtmlOptions, write_audit_html};
use iso8583_inspect::spec::ISO87_ASCII;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data(name: &str) -> String {
    format!("{}/examples/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the audit example with `args` and `--format FORMAT`; its standard output.
fn audit(args: &[&str], format: &str) -> Vec<u8> {
    let out = Command::new(common::example("audit"))
        .args(args)
        .args(["--format", format])
        .output()
        .expect("the audit example (cargo build --features html --example audit)");
    assert!(
        out.status.success(),
        "audit {args:?} --format {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Makes the sample's report and NDJSON, and checks the report in the browser.
fn check_in_browser(name: &str, profiles: &str, args: &[&str]) -> serde_json::Value {
    let dir = out_dir();
    let mut all = vec!["--profiles", profiles];
    all.extend_from_slice(args);
    let html = audit(&all, "html");
    let ndjson = audit(&all, "ndjson");
    let (page, findings) = (
        dir.join(format!("{name}.html")),
        dir.join(format!("{name}.ndjson")),
    );
    std::fs::write(&page, &html).unwrap();
    std::fs::write(&findings, &ndjson).unwrap();
    let screenshot = dir.join(format!("{name}.png"));
    let out = Command::new("python3")
        .arg(format!(
            "{}/tests/html/check.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .args([&page, &findings])
        .arg(profiles)
        .arg(&screenshot)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_two_dialect_sample_report_renders_and_agrees_with_the_ndjson() {
    let profiles = data("acquiring.toml");
    let checked = check_in_browser(
        "acquiring",
        &profiles,
        &[
            &["--input", "pcap"][..],
            &common::ACQUIRING_LEGS[..],
            &[data("acquiring.pcap").as_str()][..],
        ]
        .concat(),
    );
    // The sample's figures (the README's report): 42 findings, the top merchant the one the
    // network leg substituted.
    assert_eq!(checked["findings"], 42, "{checked}");
    assert_eq!(checked["top_merchant"], "822581054110088", "{checked}");
    assert!(checked["filtered"].as_u64().unwrap() > 0, "{checked}");
}

#[test]
fn the_iso87_sample_reports_render_and_agree_with_the_ndjson() {
    let profiles = data("merchants.toml");
    let pcap = check_in_browser(
        "sample-pcap",
        &profiles,
        &[
            "--input",
            "pcap",
            "--leg",
            "terminal=8583",
            "--leg",
            "network=9000",
            &data("sample.pcap"),
        ],
    );
    assert!(pcap["findings"].as_u64().unwrap() > 10, "{pcap}");
    // A hex dump has no capture times: the timeline counts by message index.
    let hex = check_in_browser(
        "sample-hex",
        &profiles,
        &["--input", "hex", &data("sample.hex")],
    );
    assert!(hex["findings"].as_u64().unwrap() > 5, "{hex}");
}

#[test]
fn a_report_with_nothing_to_report_renders_too() {
    // One echo test, as hex: no transaction, no finding, no capture time.
    let dump = out_dir().join("quiet.hex");
    std::fs::write(
        &dump,
        "30383030383232303030303030303030303030303034303030303030303030303030303031313233303933303135303030303031333031\n",
    )
    .unwrap();
    let checked = check_in_browser(
        "quiet",
        &data("merchants.toml"),
        &["--input", "hex", dump.to_str().unwrap()],
    );
    assert_eq!(checked["findings"], 0, "{checked}");
    assert_eq!(checked["rows"], 0, "{checked}");
    let page = std::fs::read_to_string(out_dir().join("quiet.html")).unwrap();
    assert!(page.contains("id=\"messages\" data-value=\"1\""));
    // Read, not unreadable.
    assert!(page.contains("messages (0 unreadable)"));
}

/// The page of the sample capture, made by the library.
fn sample_page(options: &HtmlOptions, profiles: &str) -> String {
    let book = ProfileBook::from_toml_str(profiles).unwrap();
    let fees = FeeTable::default();
    let mut audit = Audit::new(&ISO87_ASCII, &book, &fees);
    audit.set_legs(&[
        (iso8583_inspect::diff::Leg::Terminal, 8583),
        (iso8583_inspect::diff::Leg::Network, 9000),
    ]);
    let pcap = std::fs::read(data("sample.pcap")).unwrap();
    audit
        .run(Input::Capture(&pcap[..], CaptureConfig::default()))
        .unwrap();
    let mut out = Vec::new();
    write_audit_html(&audit, &mut out, options).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn the_page_masks_cards_escapes_the_traffic_and_caps_a_long_table() {
    let profiles = std::fs::read_to_string(data("merchants.toml")).unwrap();
    let page = sample_page(&HtmlOptions::default(), &profiles);
    // The capture's time span, from its first message to its last.
    let first = page.split("id=\"span-first\">").nth(1).unwrap();
    let last = page.split("id=\"span-last\">").nth(1).unwrap();
    assert!(first.starts_with("2026-") && last.starts_with("2026-"));
    assert!(
        first[..27] < last[..27],
        "{} .. {}",
        &first[..27],
        &last[..27]
    );
    // Self-contained: no request leaves the file.
    for outside in ["src=\"http", "href=\"http", "<link", "@import", "url("] {
        assert!(!page.contains(outside), "{outside}");
    }
    // Card numbers only masked: the sample's cards never in full, their masked form there.
    let pcap = std::fs::read(data("sample.pcap")).unwrap();
    let text = String::from_utf8_lossy(&pcap);
    let mut cards = 0;
    for pan in [
        "6222021234567890123",
        "6217001234567890",
        "4392260012345678",
    ] {
        if text.contains(pan) {
            cards += 1;
            assert!(!page.contains(pan), "{pan} in the page");
        }
    }
    assert!(cards > 0, "the sample's cards were not found in it");
    assert!(page.contains("card 622202*********0123"), "no masked card");

    // A merchant's name is text, never markup.
    let hostile = profiles.replace(
        "name = \"Golden Dragon Restaurant\"",
        "name = \"<script>alert(1)</script> & Co\"",
    );
    assert_ne!(hostile, profiles);
    let page = sample_page(&HtmlOptions::default(), &hostile);
    assert!(!page.contains("<script>alert(1)"));
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; Co")
            || page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co")
    );

    // Three rows at most: the three most serious, and a note with the rest.
    let all = sample_page(&HtmlOptions::default(), &profiles);
    let capped = sample_page(
        &HtmlOptions {
            max_findings: 3,
            ..HtmlOptions::default()
        },
        &profiles,
    );
    let rows = |p: &str| p.matches("<tr data-rule=").count();
    let total = rows(&all);
    assert!(total > 3);
    assert_eq!(rows(&capped), 3);
    assert!(
        capped.contains(&format!("id=\"capped\" data-value=\"{}\"", total - 3)),
        "no note of the {} not shown",
        total - 3
    );
    assert!(!all.contains("id=\"capped\""));
    // The most serious first.
    let first = capped.find("<tr data-rule=").unwrap();
    assert!(
        capped[first..].starts_with("<tr data-rule=")
            && capped[first..first + 200].contains("data-severity=\"high\"")
    );
}
