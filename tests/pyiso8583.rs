//! Cross-check with pyiso8583 (PyPI), the reference for `ISO87_ASCII` (its `default_ascii`
//! spec) and `ISO87_ASCII_BINARY_BITMAP` (its `default` spec): 10,000 messages it encodes parse
//! to the same values here, damaged copies are rejected with an error, and what we encode is
//! byte for byte what it encodes and decodes to the same values there. The UnionPay POS terminal
//! leg (`CUP_POS`) decodes to the values pyiso8583 gives with a spec of that layout written
//! independently of ours (`tests/pyiso8583/cup_pos.py`).

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

#[path = "../examples/common/acquiring.rs"]
mod acquiring;

/// Random UnionPay POS terminal messages: every field of the dialect with probability 1/3,
/// values drawn to fit it (digits for n, digits and `D` for z, text, bytes).
fn random_cup_messages(count: usize, seed: u64) -> Vec<Vec<u8>> {
    use iso8583_inspect::spec::{CUP_POS, Content, Length};
    let mut rng = acquiring::Rng(seed);
    let mut next = move || rng.next();
    let mtis = [100u16, 110, 200, 210, 220, 230, 400, 410, 800, 810];
    (0..count)
        .map(|_| {
            let mti = mtis[(next() % mtis.len() as u64) as usize];
            let mut b = MessageBuilder::new(&CUP_POS, Mti::new(mti));
            let mut header = [0u8; 11];
            for h in &mut header {
                *h = next() as u8;
            }
            header[0] = 0x60;
            b.set_header(&header).unwrap();
            for n in CUP_POS.defined_fields() {
                if next() % 3 != 0 {
                    continue;
                }
                let f = CUP_POS.field(n).unwrap();
                let max = f.length.max().min(120);
                let len = match f.length {
                    Length::Fixed(l) => usize::from(l),
                    _ => (next() as usize) % (max + 1),
                };
                match f.content {
                    Content::N => {
                        let v: String = (0..len)
                            .map(|_| char::from(b'0' + (next() % 10) as u8))
                            .collect();
                        b.set_text(n, &v).unwrap();
                    }
                    Content::Z => {
                        let v: String = (0..len)
                            .map(|i| {
                                if i == len / 2 && len > 2 {
                                    'D'
                                } else {
                                    char::from(b'0' + (next() % 10) as u8)
                                }
                            })
                            .collect();
                        b.set_text(n, &v).unwrap();
                    }
                    Content::B => {
                        let v: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                        b.set_bytes(n, &v).unwrap();
                    }
                    _ => {
                        let v: String = (0..len)
                            .map(|_| char::from(b' ' + (next() % 95) as u8))
                            .collect();
                        b.set_text(n, &v).unwrap();
                    }
                }
            }
            b.to_vec().unwrap()
        })
        .collect()
}

/// The terminal leg of a generated acquiring capture: every message on the terminal port.
fn terminal_leg_messages(seed: u64) -> Vec<Vec<u8>> {
    use iso8583_inspect::capture::{CaptureConfig, CaptureEvent, CaptureReader};
    use iso8583_inspect::frame::Framing;
    use iso8583_inspect::spec::CUP_POS;
    let g = acquiring::generate(seed, 200, acquiring::SAMPLE_LINK);
    let config = CaptureConfig {
        framing: Some(Framing::Len2),
        server_ports: vec![acquiring::TERMINAL_PORT],
        ..CaptureConfig::default()
    };
    CaptureReader::new(&g.pcap[..], &CUP_POS, config)
        .unwrap()
        .filter_map(|e| match e {
            CaptureEvent::Message(m) if m.flow.server.port() == acquiring::TERMINAL_PORT => {
                Some(m.bytes.to_vec())
            }
            _ => None,
        })
        .collect()
}

/// pyiso8583, with a spec of the UnionPay POS terminal layout written independently of ours
/// (`tests/pyiso8583/cup_pos.py`), decodes the terminal leg to the same values: the generated
/// acquiring traffic's and random messages of every field.
#[test]
fn the_unionpay_terminal_leg_agrees_with_pyiso8583() {
    use iso8583_inspect::spec::CUP_POS;
    let mut messages = terminal_leg_messages(1);
    let from_traffic = messages.len();
    assert!(from_traffic > 300, "{from_traffic}");
    messages.extend(random_cup_messages(2_000, 7));
    let input: String = messages.iter().map(|m| hex(m) + "\n").collect();
    let mut child = Command::new("python3")
        .arg(format!(
            "{}/tests/pyiso8583/cup_pos.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg("decode")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs (CI installs pyiso8583)");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success(), "cup_pos.py failed");
    let decoded: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(decoded.len(), messages.len());
    for (i, (bytes, theirs)) in messages.iter().zip(&decoded).enumerate() {
        let msg = parse(&CUP_POS, bytes).unwrap_or_else(|e| panic!("message {i}: {e}"));
        let theirs = theirs.as_object().unwrap();
        assert_eq!(
            theirs["t"].as_str().unwrap(),
            msg.mti().to_string(),
            "message {i}"
        );
        assert_eq!(
            theirs["h"].as_str().unwrap(),
            hex(msg.header()).to_uppercase(),
            "message {i}"
        );
        assert_eq!(
            msg.field_count(),
            theirs.len() - 2,
            "message {i}: the same fields"
        );
        for f in msg.fields() {
            let want = theirs[&f.number().to_string()].as_str().unwrap();
            // Text as it is; BCD and binary as pyiso8583 shows them, upper-case hex digits (the
            // track separator nibble is the digit D).
            let text = matches!(f.spec().encoding, iso8583_inspect::spec::Encoding::Ascii);
            let ours = if text {
                f.to_text()
            } else {
                f.to_text().to_uppercase().replace('=', "D")
            };
            assert_eq!(ours, want, "message {i}: field {}", f.number());
        }
    }
}
