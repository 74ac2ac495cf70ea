//! The cost of writing the transaction ledger: the audit of a generated capture with
//! `--ledger` beside the same audit without it, in the same run (alternating, median of RUNS),
//! and the rows written a second; the ledgers are left in DIR for the fleet queries.
//!
//! `cargo run --release --manifest-path benches/compare/Cargo.toml --bin ledger [SALES] [DIR] [RUNS] [two-legs FILES]`
//!
//! With `two-legs FILES`: FILES captures of SALES transactions each of two-leg acquiring traffic
//! (UnionPay POS terminal leg, CUPS network leg; the generator of `examples/common/
//! acquiring.rs`, one seed a file), each audited with its legs into its own ledger in DIR: a
//! fleet directory whose rows are joined across the legs, for the channel queries.

#[path = "../../../../examples/common/acquiring.rs"]
mod acquiring;

use iso8583_compare::median;
use iso8583_compare::traffic::{PROFILES, write_capture};
use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::CaptureConfig;
use iso8583_inspect::ledger::{Ledger, LedgerKey};
use iso8583_inspect::leg::LegConfig;
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::report::Input;
use iso8583_inspect::spec::{CUP_POS, ISO87_ASCII, Spec};
use std::path::Path;
use std::time::Instant;

/// One capture to audit: its bytes, name, profiles, spec and legs.
struct Capture {
    pcap: Vec<u8>,
    name: String,
    book: ProfileBook,
    spec: &'static Spec,
    legs: Vec<LegConfig<'static>>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let sales: u64 = args.next().map_or(100_000, |a| a.parse().expect("sales"));
    let dir = args
        .next()
        .unwrap_or_else(|| format!("/tmp/iso8583-ledger-bench-{sales}"));
    let runs: usize = args.next().map_or(5, |a| a.parse().expect("runs"));
    let two_legs = args.next().as_deref() == Some("two-legs");
    let files: u64 = args.next().map_or(1, |a| a.parse().expect("files"));
    let fees = FeeTable::default();
    // One capture at a time in memory (ten two-leg captures of 10^6 are 15 GB).
    let capture = |seed: u64| -> Capture {
        if two_legs {
            let n = u32::try_from(sales).expect("transactions");
            let g = acquiring::generate(seed, n, acquiring::SAMPLE_LINK);
            Capture {
                pcap: g.pcap,
                name: format!("two-legs-{seed}.pcap"),
                book: ProfileBook::from_toml_str(&g.profiles).expect("profiles"),
                spec: &CUP_POS,
                legs: acquiring::leg_configs(),
            }
        } else {
            let (pcap, _) = write_capture(Vec::new(), sales, 64, 2000, 0, 1).expect("in memory");
            Capture {
                pcap,
                name: "bench.pcap".into(),
                book: ProfileBook::load(PROFILES).expect("profiles"),
                spec: &ISO87_ASCII,
                legs: Vec::new(),
            }
        }
    };
    let key = LedgerKey::from_hex("00112233445566778899aabbccddeeff").expect("a key");
    let files = if two_legs { files } else { 1 };
    let _ = std::fs::remove_dir_all(&dir);
    let (mut bytes, mut a, mut b) = (0, 0.0, 0.0);
    for seed in 1..=files {
        let c = capture(seed);
        bytes += c.pcap.len();
        let run = |ledger: bool| {
            let t = Instant::now();
            let mut a = Audit::new(c.spec, &c.book, &fees);
            a.configure_legs(&c.legs);
            if ledger {
                let l = Ledger::create(Path::new(&dir), &c.name, key.clone()).expect("ledger");
                a.set_recorder(Box::new(l));
            }
            a.run(Input::Capture(&c.pcap[..], CaptureConfig::default()))
                .expect("capture reads");
            t.elapsed().as_secs_f64()
        };
        let (mut without, mut with) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            without.push(run(false));
            with.push(run(true));
        }
        a += median(without);
        b += median(with);
    }
    println!(
        "{files} capture(s){}: {sales} transactions each, {bytes} bytes in all; median of {runs} runs, alternating, summed over the captures.\n",
        if two_legs { " of two-leg traffic" } else { "" },
    );
    let transactions = sales as f64 * files as f64;
    println!("| audit | s | MB/s of capture | transactions written/s | vs without |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| without the ledger | {a:.3} | {:.0} | - | 1.00x |",
        bytes as f64 / a / 1e6
    );
    println!(
        "| with the ledger | {b:.3} | {:.0} | {:.0} | {:.2}x |",
        bytes as f64 / b / 1e6,
        transactions / b,
        b / a
    );
    println!("\nThe last run's ledgers are in {dir}.");
}
