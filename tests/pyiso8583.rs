//! Cross-check with pyiso8583 (PyPI), the reference for `ISO87_ASCII` (its `default_ascii`
//! spec) and `ISO87_ASCII_BINARY_BITMAP` (its `default` spec): 10,000 messages it encodes parse
//! to the same values here, damaged copies are rejected with an error, and what we encode is
//! byte for byte what it encodes and decodes to the same values there.

use iso8583_inspect::spec::{ISO87_ASCII, ISO87_ASCII_BINARY_BITMAP, Length, Spec};
use iso8583_inspect::{MessageBuilder, Mti, parse};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

const COUNT: usize = 10_000;

fn script() -> String {
    format!(
        "{}/tests/pyiso8583/crosscheck.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Our layout of the fields both sides define, for the generator: [number, content, var, max].
fn layout(spec: &Spec) -> String {
    let rows: Vec<Value> = spec
        .defined_fields()
        .map(|n| {
            let f = spec.field(n).unwrap();
            let var = !matches!(f.length, Length::Fixed(_));
            serde_json::json!([n, f.content.as_str(), var, f.length.max()])
        })
        .collect();
    Value::Array(rows).to_string()
}

fn python(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new("python3")
        .arg(script())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs (CI installs pyiso8583)");
    let mut input = child.stdin.take().unwrap();
    let text = stdin.unwrap_or_default().to_string();
    // Feed stdin from another thread so that neither side blocks on a full pipe.
    let feeder = std::thread::spawn(move || input.write_all(text.as_bytes()));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success(), "crosscheck.py {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn crosscheck(spec: &'static Spec, py_spec: &str, seed: u64) {
    let dir =
        std::env::temp_dir().join(format!("iso8583-inspect-{}-{py_spec}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let layout_path = dir.join("layout.json");
    std::fs::write(&layout_path, layout(spec)).unwrap();
    let generated = python(
        &[
            "gen",
            py_spec,
            layout_path.to_str().unwrap(),
            &COUNT.to_string(),
            &seed.to_string(),
        ],
        None,
    );
    let mut ours_hex = String::new();
    let mut expected = Vec::new();
    let mut lines = 0;
    for line in generated.lines() {
        lines += 1;
        let record: Value = serde_json::from_str(line).unwrap();
        let bytes = unhex(record["hex"].as_str().unwrap());
        let fields = record["fields"].as_object().unwrap();

        // pyiso8583 -> us: the same MTI and values, and nothing more.
        let msg = parse(spec, &bytes).unwrap_or_else(|e| panic!("message {lines}: {e}"));
        assert_eq!(msg.mti().to_string(), fields["t"].as_str().unwrap());
        for (k, v) in fields.iter().filter(|(k, _)| *k != "t") {
            let n: usize = k.parse().unwrap();
            let f = msg
                .field(n)
                .unwrap_or_else(|| panic!("message {lines}: field {n} missing"));
            let want = v.as_str().unwrap();
            let want = if f.is_binary() {
                want.to_uppercase()
            } else {
                want.to_string()
            };
            assert_eq!(f.to_text(), want, "message {lines}: field {n}");
        }
        assert_eq!(msg.field_count(), fields.len() - 1, "message {lines}");

        // Damaged copies: every cut is an error, never a panic.
        for cut in [0, 1, 3, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                parse(spec, &bytes[..cut.min(bytes.len() - 1)]).is_err(),
                "message {lines} cut at {cut}"
            );
        }

        // us -> pyiso8583: our encoding of the same values is the same bytes.
        let mti: u16 = fields["t"].as_str().unwrap().parse().unwrap();
        let mut b = MessageBuilder::new(spec, Mti::new(mti));
        for (k, v) in fields.iter().filter(|(k, _)| *k != "t") {
            b.set_text(k.parse().unwrap(), v.as_str().unwrap()).unwrap();
        }
        let ours = b.to_vec().unwrap();
        let upper_hex_fields = |raw: &[u8]| parse(spec, raw).unwrap() == msg;
        assert!(
            upper_hex_fields(&ours),
            "message {lines}: our encoding parses to other values"
        );
        if ours != bytes {
            // Only hex-character fields may differ, and only in the case of their letters.
            assert_eq!(
                ours.to_ascii_uppercase(),
                bytes.to_ascii_uppercase(),
                "message {lines}"
            );
        }
        ours_hex.push_str(&hex(&ours));
        ours_hex.push('\n');
        expected.push(fields.clone());
    }
    assert_eq!(lines, COUNT);

    let decoded = python(&["decode", py_spec], Some(&ours_hex));
    let mut count = 0;
    for (line, want) in decoded.lines().zip(&expected) {
        let got: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
        let norm = |m: &serde_json::Map<String, Value>| -> Vec<(String, String)> {
            let mut v: Vec<_> = m
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_uppercase()))
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            norm(&got),
            norm(want),
            "pyiso8583 decodes our message {count} differently"
        );
        count += 1;
    }
    assert_eq!(count, COUNT);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn agrees_with_pyiso8583_default_ascii() {
    crosscheck(&ISO87_ASCII, "default_ascii", 1987);
}

#[test]
fn agrees_with_pyiso8583_default() {
    crosscheck(&ISO87_ASCII_BINARY_BITMAP, "default", 8583);
}
