//! The audit on several threads (`Audit::run_threads`: one thread reads, N audit a shard of
//! the traffic each, cut by transaction key) beside the single-threaded audit of the same
//! capture in the same run, on the generated traffic of `pipeline`.
//!
//! `cargo run --release --manifest-path benches/compare/Cargo.toml --bin threads [MB] [RUNS]`

use iso8583_compare::median;
use iso8583_compare::traffic::{PROFILES, write_capture};
use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::CaptureConfig;
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::report::Input;
use iso8583_inspect::spec::ISO87_ASCII;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let mb: u64 = args.next().map_or(200, |a| a.parse().expect("megabytes"));
    let runs: usize = args.next().map_or(5, |a| a.parse().expect("runs"));
    let book = ProfileBook::load(PROFILES).expect("profiles");
    let fees = FeeTable::default();
    let (pcap, messages) =
        write_capture(Vec::new(), mb * 1_000_000 / 572, 64, 2000, 0, 1).expect("in memory");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "Capture: {messages} messages, {} bytes; {cores} cores; median of {runs} runs, thread counts taking turns.\n",
        pcap.len()
    );
    let audit = |threads: usize| {
        let t = Instant::now();
        let mut a = Audit::new(&ISO87_ASCII, &book, &fees);
        a.run_threads(
            Input::Capture(&pcap[..], CaptureConfig::default()),
            threads,
            |_| Ok(()),
        )
        .expect("capture reads");
        (t.elapsed().as_secs_f64(), a.findings().len())
    };
    let counts = [1usize, 2, 3];
    let mut samples = vec![Vec::new(); counts.len()];
    let mut found = vec![0; counts.len()];
    for _ in 0..runs {
        for (i, &n) in counts.iter().enumerate() {
            let (s, f) = audit(n);
            samples[i].push(s);
            found[i] = f;
        }
    }
    assert!(found.iter().all(|&f| f == found[0]), "{found:?}");
    let times: Vec<f64> = samples.into_iter().map(median).collect();
    println!("| threads auditing (one more reads) | MB/s of capture | messages/s | speed-up |");
    println!("|---:|---:|---:|---:|");
    for (n, s) in counts.iter().zip(&times) {
        println!(
            "| {n} | {:.0} | {:.0} | {:.2}x |",
            pcap.len() as f64 / s / 1e6,
            messages as f64 / s,
            times[0] / s
        );
    }
    println!("\nFindings (each run): {}", found[0]);
}
