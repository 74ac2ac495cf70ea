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

mod common;

fn data(name: &str) -> String {
    format!("{}/examples/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The validator's cases `examples/common/traffic.rs` injects on the terminal leg: (rule, STAN,
/// merchant, fields).
const VALIDATOR: [(Rule, &str, &str, &[u8]); 8] = [
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
];

/// The newer rules that the validator's cases above also break: the MCCs the sample jumps to
/// are in cheaper fee classes, and the sale in dollars carries the card's yuan in 55.5F2A.
const DOWNGRADES: [(Rule, &str, &str, &[u8]); 3] = [
    (Rule::MccClassDowngrade, "000005", "822440158120001", &[18]),
    (Rule::MccClassDowngrade, "000006", "898310053310002", &[42]),
    (
        Rule::EmvCurrencyMismatch,
        "000011",
        "822440158120001",
        &[49, 55],
    ),
];

/// The same on the network leg's altered forwards: the MCC jump, the name the network leg
/// shows (not the hotel's registered one), and the marked-up amount that the card's own amount
/// (55.9F02, forwarded as it was) gives away.
const NETWORK_DOWNGRADES: [(Rule, &str, &str, &[u8]); 3] = [
    (Rule::MccClassDowngrade, "700001", "822440158120001", &[18]),
    (Rule::NameMismatch, "700014", "836110070110003", &[43]),
    (
        Rule::EmvAmountMismatch,
        "700004",
        "836110070110003",
        &[4, 55],
    ),
];

/// The pairing cases on the terminal leg, found with or without capture times; the two
/// `no-response` are the sale that timed out at the terminal (reversed, never answered) and the
/// sale never answered nor reversed.
const PAIRING: [(Rule, &str, &str, &[u8]); 12] = [
    (
        Rule::ResponseAmountChanged,
        "000016",
        "822440158120001",
        &[4],
    ),
    (Rule::ResponseMccChanged, "000017", "822440158120001", &[18]),
    (
        Rule::ResponseMerchantChanged,
        "000018",
        "822440158129999",
        &[42],
    ),
    (
        Rule::ResponseTerminalChanged,
        "000019",
        "822440158120001",
        &[41],
    ),
    (
        Rule::ResponseAcquirerChanged,
        "000020",
        "822440158120001",
        &[32],
    ),
    (Rule::EchoMismatch, "000021", "822440158120001", &[49]),
    (
        Rule::UnexpectedResponseMti,
        "000022",
        "822440158120001",
        &[],
    ),
    (Rule::OrphanResponse, "000024", "822440158120001", &[11]),
    (Rule::DuplicateResponse, "000025", "822440158120001", &[11]),
    (
        Rule::ApprovedThenReversed,
        "000027",
        "822440158120001",
        &[90],
    ),
    (Rule::NoResponse, "000003", "822440158120001", &[11]),
    (Rule::NoResponse, "000023", "822440158120001", &[11]),
];

/// The pairing cases that need capture time: the response 35 s late, and the unanswered sale
/// not reversed two minutes on.
const TIMED: [(Rule, &str, &str, &[u8]); 3] = [
    (Rule::NoResponse, "000026", "822440158120001", &[11]),
    (Rule::LateResponse, "000026", "822440158120001", &[11]),
    (
        Rule::NoReversalAfterTimeout,
        "000023",
        "822440158120001",
        &[11],
    ),
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

/// What the terminal leg holds, with or without capture times.
fn expected() -> Vec<Row> {
    let mut v = rows(&VALIDATOR);
    v.extend(rows(&DOWNGRADES));
    v.extend(rows(&PAIRING));
    v
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
    want.extend(rows(&TIMED));
    want.extend(rows(&NETWORK_VALIDATOR));
    want.extend(rows(&NETWORK_DOWNGRADES));
    let got = audit(Input::Capture(
        open("sample.pcap"),
        CaptureConfig::default(),
    ));
    assert_eq!(sorted(got), sorted(want));
}

#[test]
fn with_its_legs_the_sample_capture_shows_every_hop_case() {
    let mut want = expected();
    want.extend(rows(&TIMED));
    want.extend(rows(&NETWORK_VALIDATOR));
    want.extend(rows(&NETWORK_DOWNGRADES));
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
    assert_eq!(
        sorted(audit(Input::Hex(open("sample.hex")))),
        sorted(expected())
    );
}

#[test]
fn every_rule_but_eviction_is_in_the_sample() {
    let all: Vec<Rule> = [&VALIDATOR[..], &PAIRING, &TIMED, &NETWORK_VALIDATOR, &HOP]
        .concat()
        .iter()
        .map(|(r, ..)| *r)
        .collect();
    for rule in Rule::VALIDATOR
        .iter()
        .chain(&Rule::PAIRING)
        .chain(&Rule::HOP)
    {
        // Eviction needs a full table: tests/diff.rs shows it with a bound of 2.
        assert!(
            all.contains(rule) || *rule == Rule::Evicted,
            "{rule} has no case in the sample"
        );
    }
}

fn audit_example() -> std::path::PathBuf {
    common::example("audit")
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
        text.starts_with("Audit: 72 messages (0 unreadable), 38 findings."),
        "{text}"
    );
    assert!(
        text.contains("[high] hop-amount-altered message 11 MTI 0100"),
        "{text}"
    );
    assert!(text.contains("Merchant 836110070110003 Beijing Garden Hotel (registered MCC 7011)\n  transactions: 5\n  findings: acquirer-mismatch 1, hop-amount-altered 1, hop-name-changed 1, name-mismatch 1, emv-amount-mismatch 1\n"), "{text}");
    assert!(
        text.contains(
            "  estimated fee impact: 3.34 yuan at the pre-2016 rates, 0.85 yuan at the 2016 rates"
        ),
        "{text}"
    );
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
    assert_eq!(
        lines.len(),
        23,
        "the hex dump is the terminal leg, without times"
    );
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
    assert!(
        lines.iter().all(|l| l.get("leg").is_none()),
        "no legs, no leg key"
    );

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

#[test]
fn findings_are_handed_on_as_they_are_found() {
    let book = ProfileBook::load(data("merchants.toml")).unwrap();
    let fees = FeeTable::default();
    let config = || CaptureConfig {
        server_ports: vec![8583, 9000],
        ..CaptureConfig::default()
    };
    let open = || BufReader::new(std::fs::File::open(data("sample.pcap")).unwrap());
    let mut whole = Audit::new(&ISO87_ASCII, &book, &fees);
    whole.run(Input::Capture(open(), config())).unwrap();
    // Handed on as they are found, none kept: the same findings, in the order found (those
    // kept are put in input order once the run ends). A file's messages are checked a batch at
    // a time, so its findings come a batch at a time (on a pipe, nothing waits for more input:
    // see the test of a capture read a record at a time).
    let mut streamed = Audit::new(&ISO87_ASCII, &book, &fees);
    streamed.keep_findings(false);
    let mut batches = Vec::new();
    streamed
        .run_with(Input::Capture(open(), config()), |found| {
            batches.push(found.to_vec());
            Ok(())
        })
        .unwrap();
    assert!(streamed.findings().is_empty());
    assert!(batches.len() > 1, "{} batches", batches.len());
    let mut flat: Vec<_> = batches.concat();
    assert_ne!(
        flat,
        whole.findings(),
        "a no-response is found after later messages"
    );
    flat.sort_by_key(|f| (f.message.index, f.rule));
    assert_eq!(flat, whole.findings());
    // The merchants' tallies do not depend on the findings being kept.
    assert_eq!(streamed.merchants(), whole.merchants());
    // A failing output stops the run with its error.
    let mut failing = Audit::new(&ISO87_ASCII, &book, &fees);
    let err = failing
        .run_with(Input::Capture(open(), config()), |_| {
            Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "gone"))
        })
        .unwrap_err();
    assert!(err.to_string().contains("gone"), "{err}");
}

#[test]
fn the_audit_example_writes_a_finding_before_its_input_ends() {
    use std::io::Write;
    use std::process::Stdio;
    let profiles = data("merchants.toml");
    let mut child = Command::new(audit_example())
        .args([
            "--profiles",
            &profiles,
            "--input",
            "pcap",
            "--format",
            "ndjson",
            "--leg",
            "terminal=8583",
            "--leg",
            "network=9000",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the audit example is built");
    let mut stdin = child.stdin.take().unwrap();
    let (rx, reader) = common::stdout_lines(&mut child);
    // The whole capture, but the pipe left open: the input has not ended.
    stdin
        .write_all(&std::fs::read(data("sample.pcap")).unwrap())
        .unwrap();
    stdin.flush().unwrap();
    let first = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("a finding while the input is still open");
    assert!(first.starts_with("{\"rule\":"), "{first}");
    assert!(child.try_wait().unwrap().is_none(), "still running");
    drop(stdin);
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    assert_eq!(
        rest.len() + 1,
        38,
        "every finding, the end-of-input ones last"
    );
}

#[test]
fn the_audit_s_clock_reports_an_unanswered_sale_while_the_stream_is_quiet() {
    use iso8583_inspect::capture::{Flow, Timestamp};
    use iso8583_inspect::report::Context;
    let book = ProfileBook::load(data("merchants.toml")).unwrap();
    let fees = FeeTable::default();
    let mut audit = Audit::new(&ISO87_ASCII, &book, &fees);
    let sale = common::typical_0200(&ISO87_ASCII).to_vec().unwrap();
    let t0 = Timestamp::new(1_795_397_400, 0);
    let flow = Flow {
        client: "192.168.1.21:40001".parse().unwrap(),
        server: "10.10.0.1:8583".parse().unwrap(),
    };
    let context = Context {
        at: Some((t0, flow)),
        time: t0.to_string(),
        src: flow.client.to_string(),
        dst: flow.server.to_string(),
        dir: "request",
        leg: None,
    };
    audit.message(&sale, Some(&context));
    assert!(audit.findings().is_empty(), "{:?}", audit.findings());
    audit.tick(Timestamp::new(1_795_397_400 + 40, 0));
    let rules: Vec<Rule> = audit.findings().iter().map(|f| f.rule).collect();
    assert_eq!(rules, [Rule::NoResponse]);
    assert_eq!(
        audit.merchants()["822440158120001"]
            .by_rule
            .get(&Rule::NoResponse),
        Some(&1)
    );
}

#[test]
fn the_audit_example_on_threads_gives_the_same_report() {
    let run = |threads: &str, format: &str| {
        let out = Command::new(audit_example())
            .args(["--profiles", &data("merchants.toml"), "--input", "pcap"])
            .args(["--leg", "terminal=8583", "--leg", "network=9000"])
            .args([
                "--threads",
                threads,
                "--format",
                format,
                &data("sample.pcap"),
            ])
            .output()
            .expect("the audit example is built");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // The text report holds the findings in input order: the same on any number of threads.
    let one = run("1", "text");
    assert_eq!(run("2", "text"), one);
    assert_eq!(run("3", "text"), one);
    // NDJSON comes as the threads find it: the same lines, perhaps in another order.
    let lines = |s: String| {
        let mut v: Vec<String> = s.lines().map(String::from).collect();
        v.sort();
        v
    };
    let ndjson = lines(run("1", "ndjson"));
    assert_eq!(ndjson.len(), 38);
    assert_eq!(lines(run("2", "ndjson")), ndjson);
}

/// A recorder that keeps nothing: with one set, the audit checks a capture's messages one at a
/// time (a recorder takes each message before its findings).
struct OneAtATime;

impl iso8583_inspect::audit::Recorder for OneAtATime {
    fn message(
        &mut self,
        _: usize,
        _: Option<Leg>,
        _: Option<(
            iso8583_inspect::capture::Timestamp,
            iso8583_inspect::capture::Flow,
        )>,
        _: &iso8583_inspect::Message<'_>,
    ) {
    }
    fn link(&mut self, _: iso8583_inspect::diff::Link) {}
    fn findings(&mut self, _: &[iso8583_inspect::finding::Finding]) {}
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A capture read a pcap record at a time (the file header first), as a live capture on a
/// pipe comes: each read is logged with the number of findings handed on by then.
struct RecordAtATime {
    bytes: Vec<u8>,
    /// Where the file header and each record end.
    ends: Vec<usize>,
    at: usize,
    handed: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<usize>>>,
}

impl std::io::Read for RecordAtATime {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.log
            .lock()
            .unwrap()
            .push(self.handed.load(Ordering::SeqCst));
        // Up to the end of the header or of the record `at` is in.
        let end = self
            .ends
            .iter()
            .find(|&&e| e > self.at)
            .copied()
            .unwrap_or(self.bytes.len());
        let n = (end - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The findings of the sample capture (with its legs) in the order handed on, the merchants'
/// tallies, and the number of findings handed on at each read of the input, checked in
/// batches or (`one_at_a_time`) a message at a time.
#[allow(clippy::type_complexity)]
fn handed_on(one_at_a_time: bool) -> (Vec<iso8583_inspect::finding::Finding>, String, Vec<usize>) {
    let book = ProfileBook::load(data("merchants.toml")).unwrap();
    let fees = FeeTable::default();
    let config = CaptureConfig {
        server_ports: vec![8583, 9000],
        ..CaptureConfig::default()
    };
    let handed = Arc::new(AtomicUsize::new(0));
    let log = Arc::new(Mutex::new(Vec::new()));
    let bytes = std::fs::read(data("sample.pcap")).unwrap();
    let mut ends = vec![24];
    while let Some(&at) = ends.last().filter(|&&at| at + 16 <= bytes.len()) {
        ends.push(
            at + 16 + u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize,
        );
    }
    let reader = RecordAtATime {
        bytes,
        ends,
        at: 0,
        handed: handed.clone(),
        log: log.clone(),
    };
    let mut audit = Audit::new(&ISO87_ASCII, &book, &fees);
    audit.set_legs(&[(Leg::Terminal, 8583), (Leg::Network, 9000)]);
    if one_at_a_time {
        audit.set_recorder(Box::new(OneAtATime));
    }
    let mut found = Vec::new();
    audit
        .run_with(
            Input::Capture(BufReader::with_capacity(1, reader), config),
            |f| {
                handed.fetch_add(f.len(), Ordering::SeqCst);
                found.extend_from_slice(f);
                Ok(())
            },
        )
        .unwrap();
    let merchants = format!("{:?}", audit.merchants());
    let log = log.lock().unwrap().clone();
    (found, merchants, log)
}

#[test]
fn a_capture_checked_a_stage_at_a_time_hands_on_what_one_at_a_time_does_when_it_does() {
    let (batched, batched_merchants, batched_log) = handed_on(false);
    let (single, single_merchants, single_log) = handed_on(true);
    // The same findings in the same order: each message's pairing findings (some of them
    // about earlier messages: a no-response is found at a later message's time), then its
    // validation findings, message by message.
    assert!(batched.len() > 30, "{}", batched.len());
    assert_eq!(batched, single);
    assert_eq!(batched_merchants, single_merchants);
    // Nothing held back across a read: before each record of the input is asked for, every
    // finding of the messages before it has been handed on (on a pipe, a read waits).
    assert!(batched_log.len() > 100, "{} reads", batched_log.len());
    assert_eq!(batched_log, single_log);
    assert!(batched_log.windows(2).any(|w| w[0] < w[1]));
}
