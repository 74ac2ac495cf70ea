//! The HTML report's cost: the audit of a generated capture written as the text report and as
//! the HTML page, in the same run (alternating, median of RUNS), the audit itself and the
//! writing apart; then, with Chromium there, how long the browser takes to open the page
//! (`tests/html/check.py`, which also checks it against the NDJSON). The capture is the
//! benchmarks' sales traffic against the sample's profile book with two merchants registered
//! under other MCCs than they use, so that most sales have findings (a long findings list).
//!
//! `cargo run --release --manifest-path benches/compare/Cargo.toml --bin report [TRANSACTIONS] [RUNS] [DIR]`

use iso8583_compare::median;
use iso8583_compare::traffic::{PROFILES, write_capture};
use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::CaptureConfig;
use iso8583_inspect::input::Input;
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::report::{HtmlOptions, write_audit_html, write_audit_ndjson};
use iso8583_inspect::spec::ISO87_ASCII;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let transactions: u32 = args.next().map_or(100_000, |a| a.parse().expect("a count"));
    let runs: usize = args.next().map_or(5, |a| a.parse().expect("runs"));
    let dir = args
        .next()
        .unwrap_or_else(|| format!("/tmp/iso8583-report-bench-{transactions}"));
    std::fs::create_dir_all(&dir).expect("the output directory");
    let (pcap, _) =
        write_capture(Vec::new(), u64::from(transactions), 64, 2000, 0, 1).expect("in memory");
    // The restaurant registered as a department store, the supermarket as a restaurant.
    let profiles = std::fs::read_to_string(PROFILES)
        .expect("profiles")
        .replacen("mcc = \"5812\"", "mcc = \"5311\"", 1)
        .replacen("mcc = \"5411\"", "mcc = \"5812\"", 1);
    let book = ProfileBook::from_toml_str(&profiles).expect("profiles");
    let fees = FeeTable::default();
    let audit = || {
        let mut a = Audit::new(&ISO87_ASCII, &book, &fees);
        a.run(Input::Capture(&pcap[..], CaptureConfig::default()))
            .expect("capture reads");
        a
    };
    let options = HtmlOptions::default();
    // (audit, write) seconds, and the bytes written.
    let run = |html: bool| {
        let t = Instant::now();
        let a = audit();
        let audited = t.elapsed().as_secs_f64();
        let mut out = Vec::with_capacity(1 << 24);
        let w = Instant::now();
        if html {
            write_audit_html(&a, &mut out, &options).expect("the page");
        } else {
            a.write_text(&mut out).expect("the report");
        }
        (audited, w.elapsed().as_secs_f64(), out)
    };
    let (mut text, mut html) = (Vec::new(), Vec::new());
    let (mut text_bytes, mut page) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (a, w, out) = run(false);
        text.push((a, w));
        text_bytes = out;
        let (a, w, out) = run(true);
        html.push((a, w));
        page = out;
    }
    let a = audit();
    let findings = a.findings().len();
    let m = |v: &[(f64, f64)], f: fn(&(f64, f64)) -> f64| median(v.iter().map(f).collect());
    let (ta, tw) = (m(&text, |x| x.0), m(&text, |x| x.1));
    let (ha, hw) = (m(&html, |x| x.0), m(&html, |x| x.1));
    println!(
        "Capture: {transactions} sales, {} bytes, {findings} findings; median of {runs} runs, alternating.\n",
        pcap.len()
    );
    println!("| report | audit, s | writing, s | audit + writing, s | vs text | size |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| text | {ta:.3} | {tw:.4} | {:.3} | 1.00x | {} KB |",
        ta + tw,
        text_bytes.len() / 1000
    );
    println!(
        "| HTML | {ha:.3} | {hw:.4} | {:.3} | {:.2}x | {} KB |",
        ha + hw,
        (ha + hw) / (ta + tw),
        page.len() / 1000
    );
    println!("\nWriting alone: HTML {:.1}x the text report's.", hw / tw);
    let path = |name: &str| format!("{dir}/{name}");
    std::fs::write(path("report.html"), &page).expect("report.html");
    std::fs::write(path("profiles.toml"), &profiles).expect("profiles.toml");
    let mut ndjson = Vec::new();
    write_audit_ndjson(&a, &mut ndjson).expect("ndjson");
    std::fs::write(path("findings.ndjson"), &ndjson).expect("findings.ndjson");
    let check = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/html/check.py");
    match std::process::Command::new("python3")
        .arg(check)
        .args([
            path("report.html"),
            path("findings.ndjson"),
            path("profiles.toml"),
            path("report.png"),
        ])
        .output()
    {
        Ok(o) if o.status.success() => println!(
            "\nChromium opened and checked the page: {}",
            String::from_utf8_lossy(&o.stdout).trim()
        ),
        Ok(o) => println!(
            "\nThe browser check failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => println!("\nNo browser check: {e}"),
    }
    println!("The page and its NDJSON are in {dir}.");
}
