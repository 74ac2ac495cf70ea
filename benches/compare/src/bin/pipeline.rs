//! The full audit pipeline (pcap -> TCP reassembly -> framing -> parse -> validate -> pair)
//! on a generated capture held in memory, beside floors measured in the same run; then its
//! cost per message from 10^3 to 10^7 messages. (Its scaling over threads: `threads`.)
//!
//! `cargo run --release --manifest-path benches/compare/Cargo.toml --bin pipeline [MB]`

use iso8583_compare::median;
use iso8583_compare::traffic::{PROFILES, write_capture};
use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::{CaptureConfig, CaptureEvent, CaptureReader};
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::parse;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::report::Input;
use iso8583_inspect::spec::ISO87_ASCII;
use pcap_parser::{PcapError, create_reader};
use std::hint::black_box;
use std::time::Instant;

/// One stage of the pipeline, run over the whole capture.
type Stage<'a> = Box<dyn Fn() -> usize + 'a>;

const CONNECTIONS: usize = 64;
const RATE: u64 = 2000;

fn capture(sales: u64, shard: usize, shards: usize) -> (Vec<u8>, u64) {
    write_capture(Vec::new(), sales, CONNECTIONS, RATE, shard, shards).expect("in memory")
}

/// Seconds of one run of `f`, median of `runs`.
fn seconds(runs: usize, mut f: impl FnMut() -> usize) -> f64 {
    let samples = (0..runs)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    median(samples)
}

fn audit(book: &ProfileBook, fees: &FeeTable, pcap: &[u8]) -> usize {
    let mut audit = Audit::new(&ISO87_ASCII, book, fees);
    audit
        .run(Input::Capture(pcap, CaptureConfig::default()))
        .expect("capture reads");
    audit.findings().len()
}

fn records(pcap: &[u8]) -> usize {
    let mut reader = create_reader(65_536, pcap).expect("pcap");
    let mut n = 0;
    loop {
        match reader.next() {
            Ok((len, _)) => {
                n += 1;
                reader.consume(len);
            }
            Err(PcapError::Eof) => return n,
            Err(PcapError::Incomplete(_)) => reader.refill().expect("refill"),
            Err(e) => panic!("{e:?}"),
        }
    }
}

fn capture_parse(pcap: &[u8]) -> usize {
    CaptureReader::new(pcap, &ISO87_ASCII, CaptureConfig::default())
        .expect("capture")
        .filter(|e| matches!(e, CaptureEvent::Message(m) if parse(&ISO87_ASCII, &m.bytes).is_ok()))
        .count()
}

fn main() {
    let mb: u64 = std::env::args()
        .nth(1)
        .map_or(200, |a| a.parse().expect("megabytes"));
    let book = ProfileBook::load(PROFILES).expect("profiles");
    let fees = FeeTable::default();
    let (pcap, messages) = capture(mb * 1_000_000 / 572, 0, 1);
    let len = pcap.len();
    let runs = 5;
    println!(
        "Capture: {messages} messages, {len} bytes ({:.0} bytes of pcap a message), \
         {CONNECTIONS} connections, median of {runs} runs.\n",
        len as f64 / messages as f64
    );
    let findings = audit(&book, &fees, &pcap);
    println!("The audit finds {findings} (one sale in a thousand is never answered).\n");

    let stages: [(&str, Stage<'_>); 4] = [
        (
            "floor: read every byte",
            Box::new(|| iso8583_compare::byte_scan(&pcap)),
        ),
        (
            "floor: iterate pcap records (pcap-parser)",
            Box::new(|| records(&pcap)),
        ),
        (
            "capture -> reassembly -> framing -> parse",
            Box::new(|| capture_parse(&pcap)),
        ),
        (
            "full audit (+ validate + pair)",
            Box::new(|| audit(&book, &fees, &pcap)),
        ),
    ];
    let times: Vec<f64> = {
        let mut samples = vec![Vec::new(); stages.len()];
        for _ in 0..runs {
            for (i, (_, f)) in stages.iter().enumerate() {
                samples[i].push(seconds(1, f));
            }
        }
        samples.into_iter().map(median).collect()
    };
    let audit_s = times[3];
    println!("| stage | MB/s of capture | ns/message | audit vs it |");
    println!("|---|---:|---:|---:|");
    for ((name, _), s) in stages.iter().zip(&times) {
        println!(
            "| {name} | {:.0} | {:.0} | {:.2}x |",
            len as f64 / s / 1e6,
            s * 1e9 / messages as f64,
            audit_s / s
        );
    }

    println!("\n| messages | bytes | ns/message (full audit) | vs 10^3 |");
    println!("|---:|---:|---:|---:|");
    let mut base = None;
    for sales in [500u64, 5_000, 50_000, 500_000, 5_000_000] {
        let (pcap, messages) = capture(sales, 0, 1);
        let runs = if sales >= 5_000_000 { 1 } else { 5 };
        let reps = (1_000_000 / sales).max(1) as usize;
        let s = seconds(runs, || (0..reps).map(|_| audit(&book, &fees, &pcap)).sum()) / reps as f64;
        let ns = s * 1e9 / messages as f64;
        let b = *base.get_or_insert(ns);
        println!("| {messages} | {} | {ns:.0} | {:.2}x |", pcap.len(), ns / b);
    }
}
