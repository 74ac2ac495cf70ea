//! The transaction ledger (features `ledger`, `fleet`): three generated captures of two legs,
//! with a merchant pool spread across them (one network merchant clearing for one terminal
//! merchant in each capture: under the audit's threshold in every one), are audited with a
//! ledger each. DuckDB (PyPI `duckdb`) reads the Parquet files: the rows match the audit's own
//! findings and the transactions generated, the fan-in query finds the pool across the
//! captures, and no file holds a card number. The `fleet` example runs the same SQL files on
//! DataFusion, and `scripts/spark_sql.py` on Spark in local mode (PyPI `pyspark`, Java): each
//! query gives the same rows on all three engines.
//!
//! `scripts/test` installs what it needs and builds the example first
//! (`cargo build --features fleet --example fleet; cargo test --features fleet --test ledger`).

use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::write::{PcapWriter, tcp_flags, tcp_frame};
use iso8583_inspect::capture::{CaptureConfig, Timestamp};
use iso8583_inspect::diff::Leg;
use iso8583_inspect::frame::{Framing, write_frame};
use iso8583_inspect::ledger::{Ledger, LedgerKey};
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::report::Input;
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

mod common;

/// The network merchant that clears for a different terminal merchant in each capture.
const POOL: &str = "822581054110088";
/// The terminal merchant of capture `k` whose sales go through the pool.
fn pooled_merchant(k: usize) -> String {
    format!("82244015812{:04}", 9001 + k)
}
/// The registered merchant (in the bundled profile book) and its own network ID.
const OWN: &str = "822440158120001";
const KEY: &str = "00112233445566778899aabbccddeeff";

/// One direction of a TCP connection: its addresses and next sequence number.
struct Dir {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
}

impl Dir {
    fn send(&mut self, message: &[u8]) -> Vec<u8> {
        let mut framed = bytes::BytesMut::new();
        write_frame(Framing::Len2, message, &mut framed).unwrap();
        let frame = tcp_frame(
            self.src,
            self.dst,
            self.seq,
            1,
            tcp_flags::ACK | tcp_flags::PSH,
            &framed,
        );
        self.seq = self.seq.wrapping_add(framed.len() as u32);
        frame
    }
}

fn conn(client: &str, server: &str) -> (Dir, Dir) {
    let (c, s): (SocketAddr, SocketAddr) = (client.parse().unwrap(), server.parse().unwrap());
    (
        Dir {
            src: c,
            dst: s,
            seq: 1000,
        },
        Dir {
            src: s,
            dst: c,
            seq: 5000,
        },
    )
}

/// A sale, its forward to the network under `network_merchant`, and both responses.
fn transaction(n: usize, terminal: &str, merchant: &str, network_merchant: &str) -> [Vec<u8>; 4] {
    let pan = pan(n);
    let mut t = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_REQUEST);
    for (f, v) in [
        (2, pan.as_str()),
        (3, "000000"),
        (7, "1123093015"),
        (12, "093015"),
        (13, "1123"),
        (18, "5812"),
        (22, "051"),
        (25, "00"),
        (32, "48220000"),
        (41, terminal),
        (42, merchant),
        (49, "156"),
    ] {
        t.set_text(f, v).unwrap();
    }
    t.set_text(4, &format!("{:012}", 10_000 + n)).unwrap();
    t.set_text(11, &format!("{:06}", n + 1)).unwrap();
    let request = t.to_vec().unwrap();
    let mut net =
        MessageBuilder::from_message(&iso8583_inspect::parse(&ISO87_ASCII, &request).unwrap());
    net.set_text(11, &format!("{:06}", 500_000 + n + 1))
        .unwrap();
    net.set_text(33, "49000000").unwrap();
    net.set_text(37, &format!("{:012}", 332_700_000_000u64 + n as u64))
        .unwrap();
    net.set_text(42, network_merchant).unwrap();
    if network_merchant == POOL {
        // The pool clears as a supermarket: 跳码, a cheaper fee class.
        net.set_text(18, "5411").unwrap();
    }
    let forward = net.to_vec().unwrap();
    net.set_mti(Mti::FINANCIAL_RESPONSE);
    net.set_text(39, "00").unwrap();
    let network_response = net.to_vec().unwrap();
    t.set_mti(Mti::FINANCIAL_RESPONSE);
    t.set_text(37, &format!("{:012}", 332_700_000_000u64 + n as u64))
        .unwrap();
    t.set_text(39, "00").unwrap();
    [request, forward, network_response, t.to_vec().unwrap()]
}

/// Card `n`'s number: the ledger must never hold one.
fn pan(n: usize) -> String {
    format!("62220212{:011}", 34_567_890 + n)
}

/// Capture `k`: ten sales of the registered merchant under its own ID, and two of this
/// capture's pooled merchant cleared under the pool's. Returns the pcap and its card numbers.
fn capture(k: usize) -> (Vec<u8>, Vec<String>) {
    let mut pcap = PcapWriter::new(Vec::new()).unwrap();
    let (mut t_up, mut t_down) = conn(&format!("192.168.1.{}:40001", 20 + k), "10.10.0.1:8583");
    let (mut n_up, mut n_down) = conn("10.10.0.1:51000", "10.20.0.1:9000");
    let base = 1_795_397_400 + 86_400 * k as i64;
    let mut pans = Vec::new();
    for i in 0..12 {
        let n = k * 100 + i;
        pans.push(pan(n));
        let (terminal, merchant, network) = if i < 10 {
            ("10000001".to_string(), OWN.to_string(), OWN.to_string())
        } else {
            (format!("3000000{k}"), pooled_merchant(k), POOL.to_string())
        };
        let [request, forward, net_rsp, rsp] = transaction(n, &terminal, &merchant, &network);
        let t = |ms: i64| {
            Timestamp::new(
                base + i as i64 * 2 + ms / 1000,
                ((ms % 1000) * 1_000_000) as u32,
            )
        };
        pcap.write(t(0), &t_up.send(&request)).unwrap();
        pcap.write(t(50), &n_up.send(&forward)).unwrap();
        pcap.write(t(300), &n_down.send(&net_rsp)).unwrap();
        pcap.write(t(350), &t_down.send(&rsp)).unwrap();
    }
    (pcap.into_inner(), pans)
}

fn audit_into(
    ledger: &Path,
    k: usize,
    pcap: &[u8],
    book: &ProfileBook,
    fees: &FeeTable,
) -> Vec<serde_json::Value> {
    let mut audit = Audit::new(&ISO87_ASCII, book, fees);
    audit.set_legs(&[(Leg::Terminal, 8583), (Leg::Network, 9000)]);
    let key = LedgerKey::from_hex(KEY).unwrap();
    audit.set_recorder(Box::new(
        Ledger::create(ledger, &format!("day{k}.pcap"), key).unwrap(),
    ));
    audit
        .run(Input::Capture(pcap, CaptureConfig::default()))
        .unwrap();
    audit
        .findings()
        .iter()
        .map(|f| serde_json::to_value(f).unwrap())
        .collect()
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn duckdb(ledger: &Path) -> serde_json::Value {
    let python = |args: &[&str]| {
        std::process::Command::new("python3")
            .args(args)
            .output()
            .unwrap()
    };
    if !python(&["-c", "import duckdb"]).status.success() {
        let installed = python(&[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--root-user-action=ignore",
            "duckdb==1.4.2",
        ]);
        assert!(
            installed.status.success(),
            "{}",
            String::from_utf8_lossy(&installed.stderr)
        );
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let out = python(&[
        &format!("{root}/tests/ledger/check.py"),
        ledger.to_str().unwrap(),
        &format!("{root}/sql"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn three_captures_make_a_ledger_that_duckdb_reads_and_the_fleet_queries_find_the_pool() {
    let dir = std::env::temp_dir().join(format!("iso8583-ledger-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut profiles = String::new();
    for (id, terminal) in [
        (OWN.to_string(), "10000001".to_string()),
        (pooled_merchant(0), "30000000".into()),
        (pooled_merchant(1), "30000001".into()),
        (pooled_merchant(2), "30000002".into()),
    ] {
        profiles.push_str(&format!(
            "[[merchant]]\nid = \"{id}\"\nname = \"Restaurant {id}\"\nmcc = \"5812\"\n\
             acquirer = \"822\"\nacquirer_ids = [\"48220000\"]\nterminals = [\"{terminal}\"]\n\
             currency = \"156\"\n\n"
        ));
    }
    let book = ProfileBook::from_toml_str(&profiles).unwrap();
    let fees = FeeTable::default();
    let mut all_pans = Vec::new();
    let mut findings = Vec::new();
    for k in 0..3 {
        let (pcap, pans) = capture(k);
        all_pans.extend(pans);
        let found = audit_into(&dir, k, &pcap, &book, &fees);
        // Under the threshold in each capture: the audit alone does not see the pool.
        assert!(
            !found.iter().any(|f| f["rule"] == "channel-merchant-fan-in"),
            "{found:?}"
        );
        findings.extend(found.into_iter().map(|f| (format!("day{k}.pcap"), f)));
    }

    // No card number in any byte of any file.
    let written = files(&dir);
    assert_eq!(written.len(), 6, "{written:?}");
    for path in &written {
        let bytes = std::fs::read(path).unwrap();
        for pan in &all_pans {
            assert!(
                !bytes.windows(pan.len()).any(|w| w == pan.as_bytes()),
                "{} holds a card number",
                path.display()
            );
        }
    }

    let seen = duckdb(&dir);
    // One row a transaction (the two legs joined), one a finding.
    assert_eq!(seen["counts"]["transactions"], 36, "{seen}");
    assert_eq!(seen["counts"]["findings"], findings.len(), "{seen}");
    assert_eq!(seen["versions"], serde_json::json!([["1"]]));
    // The findings are the audit's, capture by capture.
    let mut want: Vec<Vec<String>> = findings
        .iter()
        .map(|(input, f)| {
            let s = |k: &str| {
                f[k].as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| "None".into())
            };
            vec![
                input.clone(),
                s("rule"),
                f["index"].to_string(),
                s("stan"),
                s("merchant"),
            ]
        })
        .collect();
    want.sort();
    let got: Vec<Vec<String>> = serde_json::from_value(seen["findings"].clone()).unwrap();
    let got: Vec<Vec<String>> = got
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| if v == "null" { "None".into() } else { v })
                .collect()
        })
        .collect();
    assert_eq!(got, want);
    // Every transaction joined across its legs, answered on both, its card hashed.
    let rows: Vec<Vec<Option<String>>> =
        serde_json::from_value(seen["transactions"].clone()).unwrap();
    let mut by_merchant: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &rows {
        assert_eq!(r[1].as_deref(), Some("terminal+network"), "{r:?}");
        assert_eq!(r[7].as_deref(), Some("00"), "{r:?}");
        assert_eq!(r[8].as_deref(), Some("00"), "{r:?}");
        assert_eq!(r[9].as_deref().map(str::len), Some(16), "{r:?}");
        *by_merchant
            .entry((r[4].clone().unwrap(), r[5].clone().unwrap()))
            .or_default() += 1;
    }
    assert_eq!(by_merchant.get(&(OWN.into(), OWN.into())), Some(&30));
    for k in 0..3 {
        assert_eq!(
            by_merchant.get(&(pooled_merchant(k), POOL.into())),
            Some(&2)
        );
    }
    // Across the captures, the fan-in query finds the pool: three terminal merchants, three
    // captures; and nothing else.
    let fan_in = &seen["queries"]["channel_fan_in"];
    assert_eq!(fan_in.as_array().map(Vec::len), Some(1), "{fan_in}");
    assert_eq!(fan_in[0][0], POOL);
    assert_eq!(fan_in[0][1], "3");
    assert_eq!(fan_in[0][2], "6");
    assert_eq!(fan_in[0][3], "3");
    // Every query runs, and gives rows somewhere.
    for q in [
        "channel_rotation",
        "fee_spread",
        "mcc_drift",
        "swallowed_money",
        "top_routes",
    ] {
        assert!(seen["queries"][q].is_array(), "{q}: {seen}");
    }
    for q in ["fee_spread", "mcc_drift", "top_routes"] {
        assert!(
            !seen["queries"][q].as_array().unwrap().is_empty(),
            "{q}: {seen}"
        );
    }

    // The same SQL on DataFusion (the fleet example) and on Spark: the same rows.
    let duck = normalised(&seen["queries"]);
    let fleet = run_json(
        std::process::Command::new(common::example("fleet"))
            .arg(&dir)
            .args([
                "--format",
                "json",
                "--sql",
                concat!(env!("CARGO_MANIFEST_DIR"), "/sql"),
            ]),
    );
    assert_eq!(normalised(&fleet), duck, "DataFusion and DuckDB differ");
    let spark = run_json(
        std::process::Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/spark_sql.py"))
            .arg(&dir)
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/sql")),
    );
    assert_eq!(normalised(&spark), duck, "Spark and DuckDB differ");
    let _ = std::fs::remove_dir_all(&dir);
}

fn run_json(cmd: &mut std::process::Command) -> serde_json::Value {
    let out = cmd.output().expect("the engine runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Each query's rows with values written alike whatever the engine: times as
/// `YYYY-MM-DDTHH:MM:SS[.ffffff]` (a date as its midnight), fractions to six places; rows
/// sorted (ties in an ORDER BY may come in any order).
fn normalised(queries: &serde_json::Value) -> BTreeMap<String, Vec<Vec<String>>> {
    let value = |v: &serde_json::Value| -> String {
        let Some(s) = v.as_str() else {
            return "null".into();
        };
        let s = s.trim_end_matches('Z').trim_end_matches("+00:00");
        let b = s.as_bytes();
        let date =
            b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && b[..4].iter().all(u8::is_ascii_digit);
        if date {
            let (day, time) = (&s[..10], s.get(11..).unwrap_or("00:00:00"));
            let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
            let micros: u32 = format!("{frac:0<6}")
                .get(..6)
                .and_then(|f| f.parse().ok())
                .unwrap_or(0);
            return if micros == 0 {
                format!("{day}T{hms}")
            } else {
                format!("{day}T{hms}.{micros:06}")
            };
        }
        if s.contains('.') {
            if let Ok(f) = s.parse::<f64>() {
                return format!("{f:.6}");
            }
        }
        s.to_string()
    };
    queries
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, rows)| {
            let mut rows: Vec<Vec<String>> = rows
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_array().unwrap().iter().map(value).collect())
                .collect();
            rows.sort();
            (name.clone(), rows)
        })
        .collect()
}
