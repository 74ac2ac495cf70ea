//! The audit on several threads (`Audit::run_threads`) finds what one thread finds: the same
//! findings (every key of each), the same merchant counts, messages and events, on the bundled
//! sample (one dialect, then with its legs), its hex dump, and generated two-dialect acquiring
//! traffic whose network responses come back on other connections than their requests.

#[path = "../examples/common/acquiring.rs"]
mod acquiring;

use acquiring::{Link, generate, leg_configs};
use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::{CaptureConfig, Timestamp};
use iso8583_inspect::diff::Leg;
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::report::Input;
use iso8583_inspect::spec::{CUP_POS, ISO87_ASCII};
use std::io::BufReader;

fn data(name: &str) -> String {
    format!("{}/examples/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// What an audit ends with, in a form to compare: every finding as its NDJSON line, sorted
/// (threads hand them on in another order); the merchant counts; messages, unreadable ones,
/// capture events and time span.
#[derive(Debug, PartialEq)]
struct Outcome {
    findings: Vec<String>,
    merchants: Vec<String>,
    messages: usize,
    unreadable: usize,
    events: String,
    /// The capture's first and last time.
    span: Option<(Timestamp, Timestamp)>,
    /// Findings handed on while the audit ran, as lines, sorted.
    streamed: Vec<String>,
}

fn outcome(audit: &Audit<'_>, mut streamed: Vec<String>) -> Outcome {
    let mut findings: Vec<String> = audit
        .findings()
        .iter()
        .map(|f| serde_json::to_string(f).unwrap())
        .collect();
    findings.sort();
    streamed.sort();
    Outcome {
        findings,
        merchants: audit
            .merchants()
            .iter()
            .map(|(m, stats)| format!("{m}: {stats:?}"))
            .collect(),
        messages: audit.messages(),
        unreadable: audit.unreadable(),
        events: format!("{:?}", audit.events()),
        span: audit.time_span(),
        streamed,
    }
}

fn run<'b>(audit: &mut Audit<'b>, input: Input<BufReader<&[u8]>>, threads: usize) -> Outcome {
    let mut streamed = Vec::new();
    audit
        .run_threads(input, threads, |found| {
            streamed.extend(found.iter().map(|f| serde_json::to_string(f).unwrap()));
            Ok(())
        })
        .unwrap();
    outcome(audit, streamed)
}

/// The same input audited on 1, 2 and 3 threads, by audits `make` configures alike.
fn same_on_every_thread_count<'b>(
    bytes: &[u8],
    hex: bool,
    make: impl Fn() -> Audit<'b>,
) -> Outcome {
    let input = || {
        let reader = BufReader::new(bytes);
        if hex {
            Input::Hex(reader)
        } else {
            Input::Capture(reader, CaptureConfig::default())
        }
    };
    let one = run(&mut make(), input(), 1);
    assert!(!one.findings.is_empty());
    assert_eq!(one.findings, one.streamed);
    for threads in [2, 3] {
        let many = run(&mut make(), input(), threads);
        let missing: Vec<_> = one
            .findings
            .iter()
            .filter(|f| !many.findings.contains(f))
            .collect();
        let extra: Vec<_> = many
            .findings
            .iter()
            .filter(|f| !one.findings.contains(f))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{threads} threads: missing {missing:#?}, extra {extra:#?}"
        );
        assert_eq!(one.streamed, many.streamed, "{threads} threads: handed on");
        let differ: Vec<_> = one
            .merchants
            .iter()
            .zip(&many.merchants)
            .filter(|(a, b)| a != b)
            .collect();
        assert!(
            differ.is_empty(),
            "{threads} threads: merchants {differ:#?}"
        );
        assert_eq!(one.merchants.len(), many.merchants.len());
        assert_eq!(
            (one.messages, one.unreadable, &one.events),
            (many.messages, many.unreadable, &many.events),
            "{threads} threads"
        );
    }
    one
}

#[test]
fn the_sample_capture_gives_the_same_findings_on_every_thread_count() {
    let book = ProfileBook::load(data("merchants.toml")).unwrap();
    let fees = FeeTable::default();
    let pcap = std::fs::read(data("sample.pcap")).unwrap();
    let plain = same_on_every_thread_count(&pcap, false, || Audit::new(&ISO87_ASCII, &book, &fees));
    let legs = same_on_every_thread_count(&pcap, false, || {
        let mut a = Audit::new(&ISO87_ASCII, &book, &fees);
        a.set_legs(&[(Leg::Terminal, 8583), (Leg::Network, 9000)]);
        a
    });
    // The legs add the hop findings.
    assert!(legs.findings.len() > plain.findings.len());
    let hex = std::fs::read(data("sample.hex")).unwrap();
    same_on_every_thread_count(&hex, true, || Audit::new(&ISO87_ASCII, &book, &fees));
}

#[test]
fn two_dialect_traffic_on_one_way_links_gives_the_same_findings_on_every_thread_count() {
    for (seed, link) in [
        (
            11,
            Link {
                one_way: true,
                prefixed: true,
            },
        ),
        (
            12,
            Link {
                one_way: false,
                prefixed: false,
            },
        ),
    ] {
        let g = generate(seed, 400, link);
        let book = ProfileBook::from_toml_str(&g.profiles).unwrap();
        let fees = FeeTable::default();
        let legs = leg_configs();
        let one = same_on_every_thread_count(&g.pcap, false, || {
            let mut a = Audit::new(&CUP_POS, &book, &fees);
            a.configure_legs(&legs);
            a
        });
        // Every injected abuse is there (the single thread's audit is checked against the
        // generator in tests/acquiring.rs; here, that the threads lose none of it).
        assert!(one.findings.len() >= g.expected.len(), "seed {seed}");
    }
}

/// Responses are routed by a STAN found without parsing them whole, and parsed by the worker
/// they go to: one damaged after its field 11 (cut short) or in its bitmap is still counted
/// unreadable once, as on one thread, and the rest give the same findings.
#[test]
fn damaged_responses_are_counted_once_on_every_thread_count() {
    let book = ProfileBook::load(data("merchants.toml")).unwrap();
    let fees = FeeTable::default();
    let hex = std::fs::read_to_string(data("sample.hex")).unwrap();
    let mut damaged = 0;
    let lines: Vec<String> = hex
        .lines()
        .enumerate()
        .map(|(i, line)| {
            // An ASCII MTI in hex, "3v3c3f3o": a response's function digit (at 4..6) is odd.
            let response = line.get(4..6).is_some_and(|f| f == "31" || f == "33");
            if line.starts_with('#') || !response {
                return line.to_string();
            }
            damaged += 1;
            if i % 2 == 0 {
                // Cut short: the last field, after field 11, ends early.
                line[..line.len() - 2].to_string()
            } else {
                // A bitmap character that is not hex.
                format!("{}5a{}", &line[..10], &line[12..])
            }
        })
        .collect();
    assert!(damaged >= 4, "{damaged} responses damaged");
    let input = lines.join("\n");
    let one = same_on_every_thread_count(input.as_bytes(), true, || {
        Audit::new(&ISO87_ASCII, &book, &fees)
    });
    // The two lines damaged in the sample and every response damaged here.
    assert_eq!(one.unreadable, damaged + 2);
}
