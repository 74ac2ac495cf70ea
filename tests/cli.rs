//! The `inspect` example as a user runs it. A plain `cargo test` builds the examples first; run
//! `cargo build --examples` before `cargo test --test cli` alone.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn inspect_binary() -> PathBuf {
    // target/<profile>/deps/cli-<hash> -> target/<profile>/examples/inspect
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    dir.join("examples")
        .join(format!("inspect{}", std::env::consts::EXE_SUFFIX))
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
