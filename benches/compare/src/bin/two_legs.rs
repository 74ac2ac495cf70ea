//! The audit of real-shaped acquiring traffic, two legs in two dialects (UnionPay POS terminal
//! leg, CUPS network leg on one-way connections; the generator of `examples/common/
//! acquiring.rs`), beside floors measured in the same run, and beside the one-dialect audit
//! of the same capture with the legs left unconfigured (one spec: the terminal leg parses, the
//! network leg does not).
//!
//! `cargo run --release --manifest-path benches/compare/Cargo.toml --bin two_legs [TRANSACTIONS]`

#[path = "../../../../examples/common/acquiring.rs"]
mod acquiring;

use iso8583_compare::median;
use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::{CaptureConfig, CaptureEvent, CaptureReader};
use iso8583_inspect::frame::Framing;
use iso8583_inspect::input::Input;
use iso8583_inspect::leg::Leg;
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::parse;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::spec::{CUP_POS, CUPS};
use std::hint::black_box;
use std::time::Instant;

fn audit(book: &ProfileBook, fees: &FeeTable, pcap: &[u8], with_legs: bool) -> usize {
    let mut audit = Audit::new(&CUP_POS, book, fees);
    if with_legs {
        audit.configure_legs(&acquiring::leg_configs());
    }
    let config = CaptureConfig {
        framing: (!with_legs).then_some(Framing::Len2),
        ..CaptureConfig::default()
    };
    audit
        .run(Input::Capture(pcap, config))
        .expect("capture reads");
    audit.findings().len()
}

fn capture_parse(pcap: &[u8]) -> usize {
    let legs = acquiring::leg_configs();
    CaptureReader::with_legs(pcap, &CUP_POS, CaptureConfig::default(), &legs)
        .expect("capture")
        .filter(|e| match e {
            CaptureEvent::Message(m) => {
                let spec = if m.leg == Some(Leg::Network) {
                    &CUPS
                } else {
                    &CUP_POS
                };
                parse(spec, &m.bytes).is_ok()
            }
            _ => false,
        })
        .count()
}

fn seconds(f: impl Fn() -> usize) -> f64 {
    let t = Instant::now();
    black_box(f());
    t.elapsed().as_secs_f64()
}

fn main() {
    let transactions: u32 = std::env::args()
        .nth(1)
        .map_or(50_000, |a| a.parse().expect("a count"));
    let g = acquiring::generate(1, transactions, acquiring::SAMPLE_LINK);
    let book = ProfileBook::from_toml_str(&g.profiles).expect("profiles");
    let fees = FeeTable::default();
    let pcap = g.pcap;
    let messages = capture_parse(&pcap);
    let runs = 5;
    println!(
        "Capture: {} transactions, {messages} messages, {} bytes, median of {runs} runs.\n",
        g.transactions,
        pcap.len()
    );
    println!(
        "The two-leg audit finds {} (every injected abuse once).\n",
        audit(&book, &fees, &pcap, true)
    );
    type Stage<'a> = Box<dyn Fn() -> usize + 'a>;
    let stages: [(&str, Stage<'_>); 4] = [
        (
            "floor: read every byte",
            Box::new(|| iso8583_compare::byte_scan(&pcap)),
        ),
        (
            "capture -> reassembly -> framing by leg -> parse by leg",
            Box::new(|| capture_parse(&pcap)),
        ),
        (
            "audit, one spec, no legs (the network leg unreadable)",
            Box::new(|| audit(&book, &fees, &pcap, false)),
        ),
        (
            "audit, two legs (+ pair a leg, correlate, outcomes, channels)",
            Box::new(|| audit(&book, &fees, &pcap, true)),
        ),
    ];
    let mut samples = vec![Vec::new(); stages.len()];
    for _ in 0..runs {
        for (i, (_, f)) in stages.iter().enumerate() {
            samples[i].push(seconds(f));
        }
    }
    let times: Vec<f64> = samples.into_iter().map(median).collect();
    let two = times[3];
    println!("| stage | MB/s of capture | ns/message | two-leg audit vs it |");
    println!("|---|---:|---:|---:|");
    for ((name, _), s) in stages.iter().zip(&times) {
        println!(
            "| {name} | {:.0} | {:.0} | {:.2}x |",
            pcap.len() as f64 / s / 1e6,
            s * 1e9 / messages as f64,
            two / s
        );
    }
}
