//! What several tests share: a typical acquirer-side sale (the benchmarks use it too), a CUPS
//! network message, and the lines a child process writes, read as they come.
// Each test binary that includes this uses some of it.
#![allow(dead_code)]

use iso8583_inspect::spec::Spec;
use iso8583_inspect::{MessageBuilder, Mti};

/// The fields of a typical 0200 (22 of them) with realistic values.
pub const TYPICAL_0200: [(usize, &str); 22] = [
    (2, "6222021234567890123"),
    (3, "000000"),
    (4, "000000012800"),
    (7, "1123093015"),
    (11, "000001"),
    (12, "093015"),
    (13, "1123"),
    (14, "2912"),
    (18, "5812"),
    (22, "051"),
    (25, "00"),
    (32, "48220000"),
    (33, "49000000"),
    (35, "6222021234567890123=2912101"),
    (37, "332700000001"),
    (41, "10000001"),
    (42, "822440158120001"),
    (43, "GOLDEN DRAGON RESTAURANT GUANGZHOU      "),
    (49, "156"),
    (52, "4F2A9C11D03B7E58"),
    (53, "2600000000000000"),
    (64, "1A2B3C4D5E6F7081"),
];

/// A typical 0200 in `spec`, with those of [`TYPICAL_0200`] the dialect lays out the same way
/// (a dialect without field 18, or with 1993's 12-digit field 12, skips them).
pub fn typical_0200(spec: &'static Spec) -> MessageBuilder<'static> {
    let mut b = MessageBuilder::new(spec, Mti::FINANCIAL_REQUEST);
    for (n, v) in TYPICAL_0200 {
        let _ = b.set_text(n, v);
    }
    b
}

/// The flags that read the two-dialect sample (`examples/data/acquiring.pcap`): its legs by
/// server port, and each leg's dialect and framing.
pub const ACQUIRING_LEGS: [&str; 12] = [
    "--leg",
    "terminal=8583",
    "--leg",
    "network=9000,9001",
    "--spec",
    "terminal=cup-pos",
    "--spec",
    "network=cups",
    "--framing",
    "terminal=len2",
    "--framing",
    "network=cups",
];

/// An example binary cargo built beside the test binary (`cargo test` builds the examples;
/// a test run alone needs `cargo build --example NAME` first).
pub fn example(name: &str) -> std::path::PathBuf {
    // target/<profile>/deps/<test>-<hash> -> target/<profile>/examples/<name>
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    dir.join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// `count` typical sales, each with its own STAN, RRN and amount (the same card and amount again
/// would be a replay) and cleared under `mcc`, and their approvals: clean traffic when `mcc` is
/// the merchant's registered one (5812).
pub fn sale_pairs(count: usize, mcc: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    use iso8583_inspect::spec::ISO87_ASCII;
    (0..count)
        .map(|i| {
            let mut b = typical_0200(&ISO87_ASCII);
            for (n, v) in [
                (11, format!("{:06}", i % 1_000_000)),
                (37, format!("{i:012}")),
                (4, format!("{:012}", 100 + i)),
                (18, mcc.to_string()),
            ] {
                b.set_text(n, &v).unwrap();
            }
            let request = b.to_vec().unwrap();
            b.set_mti(Mti::FINANCIAL_RESPONSE)
                .set_text(39, "00")
                .unwrap();
            (request, b.to_vec().unwrap())
        })
        .collect()
}

/// A CUPS network message: its 46-byte header (stating its own length), then a 0800 with field
/// 11 = `stan`.
pub fn cups_echo(stan: u32) -> Vec<u8> {
    use iso8583_inspect::cups::HeaderFields;
    use iso8583_inspect::spec::CUPS;
    let mut b = MessageBuilder::new(&CUPS, Mti::NETWORK_REQUEST);
    b.set_text(11, &format!("{stan:06}")).unwrap();
    let len = b.to_vec().unwrap().len() - 46;
    b.set_header(&HeaderFields::default().to_bytes(len).unwrap())
        .unwrap();
    b.to_vec().unwrap()
}

/// The lines `child` writes to its (piped) standard output, each sent as soon as it is read,
/// and the thread reading them (it ends with the output).
pub fn stdout_lines(
    child: &mut std::process::Child,
) -> (
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<()>,
) {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    (rx, reader)
}
