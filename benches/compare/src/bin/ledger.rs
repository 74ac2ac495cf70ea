//! The cost of writing the transaction ledger: the audit of a generated capture with
//! `--ledger` beside the same audit without it, in the same run (alternating, median of 5),
//! and the rows written a second; the ledgers are left in DIR for the fleet queries.
//!
//! `cargo run --release --manifest-path benches/compare/Cargo.toml --bin ledger [SALES] [DIR] [RUNS]`

use iso8583_compare::median;
use iso8583_compare::traffic::{PROFILES, write_capture};
use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::CaptureConfig;
use iso8583_inspect::ledger::{Ledger, LedgerKey};
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::report::Input;
use iso8583_inspect::spec::ISO87_ASCII;
use std::path::Path;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let sales: u64 = args.next().map_or(100_000, |a| a.parse().expect("sales"));
    let dir = args
        .next()
        .unwrap_or_else(|| format!("/tmp/iso8583-ledger-bench-{sales}"));
    let runs: usize = args.next().map_or(5, |a| a.parse().expect("runs"));
    let book = ProfileBook::load(PROFILES).expect("profiles");
    let fees = FeeTable::default();
    let (pcap, messages) = write_capture(Vec::new(), sales, 64, 2000, 0, 1).expect("in memory");
    let key = LedgerKey::from_hex("00112233445566778899aabbccddeeff").expect("a key");
    println!(
        "Capture: {sales} sales, {messages} messages, {} bytes; median of {runs} runs, alternating.\n",
        pcap.len()
    );
    let run = |ledger: bool| {
        let _ = std::fs::remove_dir_all(&dir);
        let t = Instant::now();
        let mut a = Audit::new(&ISO87_ASCII, &book, &fees);
        if ledger {
            let l = Ledger::create(Path::new(&dir), "bench.pcap", key.clone()).expect("ledger");
            a.set_recorder(Box::new(l));
        }
        a.run(Input::Capture(&pcap[..], CaptureConfig::default()))
            .expect("capture reads");
        (t.elapsed().as_secs_f64(), a.findings().len())
    };
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        without.push(run(false).0);
        with.push(run(true).0);
    }
    let (a, b) = (median(without), median(with));
    println!("| audit | s | MB/s of capture | transactions written/s | vs without |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| without the ledger | {a:.3} | {:.0} | - | 1.00x |",
        pcap.len() as f64 / a / 1e6
    );
    println!(
        "| with the ledger | {b:.3} | {:.0} | {:.0} | {:.2}x |",
        pcap.len() as f64 / b / 1e6,
        sales as f64 / b,
        b / a
    );
    println!("\nThe last run's ledger is in {dir}.");
}
