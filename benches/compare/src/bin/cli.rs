//! The whole process, beside pyiso8583's: `inspect --input hex --summary` on 100,000 typical
//! 17-field messages, one a line, against a Python process that reads the same file with
//! pyiso8583 (`pyiso8583_cli.py`). Both read the file, decode the hex, decode every message and
//! count by MTI. Runs alternate, `RUNS` each; the figure is the ratio of the medians.
//!
//! usage: cli [INSPECT_BINARY] (default: ../../target/release/examples/inspect, built with
//! `cargo build --release --example inspect`)

use iso8583_compare::SALE_0200;
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti};
use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

const MESSAGES: usize = 100_000;
const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let inspect = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/release/examples/inspect"
        )
        .into()
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/pyiso8583_cli.py");
    // A typical sale without 14, 23 and 33: 17 fields; each line its own STAN and amount.
    let dir = std::env::temp_dir().join(format!("iso8583-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("sales.hex");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("create"));
    for i in 0..MESSAGES {
        let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_REQUEST);
        for (n, v) in SALE_0200 {
            if ![14, 23, 33].contains(&n) {
                b.set_text(n, v).expect("fits");
            }
        }
        b.set_text(11, &format!("{:06}", i % 1_000_000))
            .expect("fits");
        b.set_text(4, &format!("{:012}", 100 + i)).expect("fits");
        let bytes = b.to_vec().expect("encodes");
        let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        writeln!(out, "{hex}").expect("write");
    }
    drop(out);
    let path = file.to_str().expect("utf-8 path");
    let ours = || {
        let t = Instant::now();
        let o = Command::new(&inspect)
            .args(["--spec", "iso87-ascii", "--input", "hex", "--summary", path])
            .output()
            .expect("run inspect");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            text.contains(&format!("messages: {MESSAGES}  errors: 0")),
            "{text}"
        );
        t.elapsed()
    };
    let python = || {
        let t = Instant::now();
        let o = Command::new("python3")
            .args([script, path])
            .output()
            .expect("run python3");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(text.starts_with(&format!("{MESSAGES} 0 ")), "{text}");
        t.elapsed()
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        a.push(ours());
        b.push(python());
    }
    let (a, b) = (median(a), median(b));
    println!(
        "{MESSAGES} messages of 17 fields as hex, {} bytes of file",
        std::fs::metadata(&file).map_or(0, |m| m.len())
    );
    println!(
        "inspect --input hex --summary: {:.1} ms",
        a.as_secs_f64() * 1e3
    );
    println!(
        "pyiso8583 (whole process):     {:.1} ms",
        b.as_secs_f64() * 1e3
    );
    println!(
        "pyiso8583 / inspect:           {:.1}x",
        b.as_secs_f64() / a.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
