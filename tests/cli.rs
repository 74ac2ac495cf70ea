//! The `inspect` example as a user runs it. A plain `cargo test` builds the examples first; run
//! `cargo build --examples` before `cargo test --test cli` alone.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

mod common;

fn inspect_binary() -> PathBuf {
    common::example("inspect")
}

fn data(name: &str) -> String {
    format!("{}/examples/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(inspect_binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the inspect example is built");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn ndjson_on_the_sample_matches_the_golden_output() {
    let out = run(
        &[
            "--spec",
            "iso87-ascii",
            "--input",
            "hex",
            "--format",
            "ndjson",
            &data("sample.hex"),
        ],
        "",
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        std::fs::read_to_string(data("sample.ndjson")).unwrap()
    );
}

#[test]
fn text_table_names_fields_and_masks_card_data() {
    let out = run(
        &[
            "--spec",
            "iso87-ascii",
            "--input",
            "hex",
            &data("sample.hex"),
        ],
        "",
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("message 2: MTI 0200 (iso87-ascii)"));
    assert!(text.contains("    4  Amount, Transaction                      000000012800"));
    assert!(text.contains("622202*********0123") && !text.contains("6222021234567890123"));
    assert!(
        text.contains("message 61: error: field 4 at offset 54: expected 12 digits, found 'O'")
    );
    let revealed = String::from_utf8(run(&["--reveal", &data("sample.hex")], "").stdout).unwrap();
    assert!(revealed.contains("6222021234567890123"));
}

#[test]
fn summary_counts_by_mti_from_stdin() {
    let hex = std::fs::read_to_string(data("sample.hex")).unwrap();
    let out = run(&["--summary", "--format", "ndjson", "-"], &hex);
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        line.starts_with("{\"summary\":{\"messages\":62,\"errors\":2,"),
        "{line}"
    );
    assert!(line.contains("\"0200\":24"), "{line}");
}

#[test]
fn spec_files_load_and_bad_names_fail_clearly() {
    let dir = std::env::temp_dir().join(format!("iso8583-inspect-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("echo.toml");
    std::fs::write(&spec, "name='echo'\nmti='ascii'\nbitmap='hex'\n[fields.11]\nname='Trace'\ntype='n'\nlength=6\nencoding='ascii'\n").unwrap();
    let out = run(
        &["--spec", spec.to_str().unwrap(), "-"],
        "3038303030303230303030303030303030303030303030303432\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("   11  Trace")
    );

    let out = run(&["--spec", "iso99", "-"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("unknown spec \"iso99\"") && err.contains("cup-pos"),
        "{err}"
    );

    std::fs::write(&spec, "name='x'\nmti='ascii'\nbitmap='hex'\n[fields.2]\ntype='n'\nlength=120\nvar='ll'\nencoding='ascii'\n").unwrap();
    let out = run(&["--spec", spec.to_str().unwrap(), "-"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("spec field 2: maximum 120 does not fit")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pcap_input_with_framing_and_ports() {
    let pcap = data("sample.pcap");
    let out = run(
        &[
            "--input",
            "pcap",
            "--framing",
            "len2",
            "--port",
            "8583",
            "--format",
            "ndjson",
            &pcap,
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("{\"index\":0,\"time\":\"2026-11-23T01:30:01.750000Z\",\"src\":\"192.168.1.21:40001\",\"dst\":\"10.10.0.1:8583\",\"dir\":\"request\",\"mti\":\"0800\""), "{first}");
    assert_eq!(
        text.lines().count(),
        72,
        "no framing events when the framing is given"
    );
    let out = run(&["--input", "pcap", "--framing", "len3", &pcap], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("unknown framing \"len3\"")
    );
    let out = run(&["--input", "pcap", &data("sample.hex")], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("not a pcap or pcapng file")
    );
}

#[test]
fn a_spec_and_a_framing_for_each_leg() {
    let capture = data("acquiring.pcap");
    let legs = [
        &["--input", "pcap", "--format", "ndjson"][..],
        &common::ACQUIRING_LEGS[..],
    ]
    .concat();
    let out = run(&[&legs[..], &[capture.as_str()]].concat(), "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Every message of both legs reads, and says its leg.
    assert!(
        records.iter().all(|r| r.get("error").is_none()),
        "no errors"
    );
    let on = |leg: &str| records.iter().filter(|r| r["leg"] == leg).count();
    assert!(
        on("terminal") > 400 && on("network") > 400,
        "{} / {}",
        on("terminal"),
        on("network")
    );
    assert_eq!(on("terminal") + on("network"), records.len());
    // Field 43 on the network leg, the PAN masked on both.
    assert!(records.iter().any(|r| r["fields"].get("43").is_some()));
    let pans: Vec<&str> = records
        .iter()
        .filter_map(|r| r["fields"]["2"].as_str())
        .collect();
    assert!(pans.len() > 400);
    assert!(
        pans.iter()
            .all(|p| p.len() == 19 && p[6..15].bytes().all(|c| c == b'*')),
        "PANs are masked"
    );
    assert!(records.iter().all(|r| {
        r["fields"]
            .get("35")
            .is_none_or(|t| t.as_str().unwrap().starts_with("[hidden"))
    }));

    // With one spec and framing for every leg, the network leg cannot be read: its bytes are
    // skipped in search of frames that never come, and only the terminal leg's messages show.
    let one = run(
        &[
            "--input",
            "pcap",
            "--format",
            "ndjson",
            "--spec",
            "cup-pos",
            "--framing",
            "len2",
            capture.as_str(),
        ],
        "",
    );
    let one = String::from_utf8(one.stdout).unwrap();
    assert!(one.contains("\"event\":\"resync\""));
    assert_eq!(
        one.lines().filter(|l| l.contains("\"mti\"")).count(),
        on("terminal")
    );

    // Mistakes are named.
    for (args, says) in [
        (vec!["--spec", "network=cups"], "no --leg network=PORT"),
        (vec!["--spec", "backend=cups"], "unknown leg \"backend\""),
        (vec!["--leg", "network=90x"], "ports as numbers"),
        (
            vec!["--leg", "terminal=1", "--framing", "terminal=len9"],
            "unknown framing",
        ),
    ] {
        let out = run(
            &[&args[..], &["--input", "pcap", capture.as_str()]].concat(),
            "",
        );
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn hex_lines_holding_whole_frames_follow_the_framing() {
    // A UnionPay sign-in as a POSP logs it: 2-byte length, TPDU, header, message.
    let msg = "6000060000603100311003080000200000008000000000013130303030303031";
    let framed = format!("{:04X}{msg}\n", msg.len() / 2);
    for framing in ["len2", "tpdu", "auto"] {
        let out = run(
            &[
                "--spec",
                "cup-pos",
                "--input",
                "hex",
                "--format",
                "ndjson",
                "--framing",
                framing,
                "-",
            ],
            &framed,
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "{\"index\":0,\"mti\":\"0800\",\"fields\":{\"11\":\"000001\",\"41\":\"10000001\"}}\n",
            "{framing}"
        );
    }
    // A framing the line does not follow is named.
    let out = run(
        &[
            "--spec",
            "cup-pos",
            "--input",
            "hex",
            "--framing",
            "len4-ascii",
            "-",
        ],
        &framed,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("not one len4-ascii frame"), "{text}");
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    // `inspect ... | head -1`: the pipe closes while messages are still being written.
    let mut child = Command::new(inspect_binary())
        .args([
            "--input",
            "pcap",
            "--spec",
            "cup-pos",
            &data("acquiring.pcap"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "");
}

#[test]
fn connections_past_the_limit_are_let_go_and_reported() {
    let args = |max: &str| {
        run(
            &[
                "--spec",
                "iso87-ascii",
                "--input",
                "pcap",
                "--format",
                "ndjson",
                "--max-flows",
                max,
                &data("sample.pcap"),
            ],
            "",
        )
    };
    let held = args("100000");
    assert!(held.status.success());
    let held = String::from_utf8(held.stdout).unwrap();
    assert!(!held.contains("flow-dropped"));
    let one = args("1");
    assert!(one.status.success());
    let one = String::from_utf8(one.stdout).unwrap();
    assert!(
        one.contains("\"event\":\"flow-dropped\"")
            && one.contains("open flows over the limit of 1"),
        "{one}"
    );
    // A limit of none is refused by name.
    let zero = args("0");
    assert!(!zero.status.success());
    assert!(String::from_utf8_lossy(&zero.stderr).contains("--max-flows"));
}

#[test]
fn reading_a_pipe_each_message_is_written_as_it_comes() {
    let mut child = Command::new(inspect_binary())
        .args([
            "--spec",
            "iso87-ascii",
            "--input",
            "hex",
            "--format",
            "ndjson",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the inspect example is built");
    let mut stdin = child.stdin.take().unwrap();
    let (rx, reader) = common::stdout_lines(&mut child);
    let sample = std::fs::read_to_string(data("sample.hex")).unwrap();
    let first = sample
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .unwrap();
    writeln!(stdin, "{first}").unwrap();
    stdin.flush().unwrap();
    let line = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the message while the input is still open");
    assert!(line.starts_with("{\"index\":0,\"mti\":\"0800\""), "{line}");
    assert!(child.try_wait().unwrap().is_none(), "still running");
    drop(stdin);
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
}
