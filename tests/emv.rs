//! The EMV TLV decoder against pyemv 1.5.0 (PyPI, `tlv.decode`): on generated TLV (multi-byte
//! tags, short and long lengths, constructed objects) and on damaged copies of it, the same
//! values, or an error at the same offset.

use iso8583_inspect::emv::{Tlvs, tlvs};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

#[path = "../examples/common/acquiring.rs"]
mod acquiring;

use acquiring::Rng;

fn tag(rng: &mut Rng, constructed: bool) -> Vec<u8> {
    let class = (rng.below(4) as u8) << 6;
    let c = if constructed { 0x20 } else { 0 };
    match rng.below(3) {
        0 => vec![class | c | (rng.below(30) as u8)],
        1 => vec![class | c | 0x1F, 1 + rng.below(127) as u8],
        _ => vec![
            class | c | 0x1F,
            0x80 | rng.below(128) as u8,
            rng.below(128) as u8,
        ],
    }
}

fn length(rng: &mut Rng, n: usize) -> Vec<u8> {
    match rng.below(4) {
        0 | 1 if n < 0x80 => vec![n as u8],
        2 if n < 0x100 => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

/// A TLV string of up to `count` objects, constructed ones nesting up to `depth`.
fn tlv(rng: &mut Rng, count: u64, depth: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..1 + rng.below(count) {
        let constructed = depth > 0 && rng.below(4) == 0;
        let value = if constructed {
            tlv(rng, 3, depth - 1)
        } else {
            (0..rng.below(20)).map(|_| rng.next() as u8).collect()
        };
        out.extend(tag(rng, constructed));
        out.extend(length(rng, value.len()));
        out.extend(value);
    }
    out
}

/// Our decoding as pyemv shows it: nested objects, values in upper-case hex, a later tag of the
/// same name replacing an earlier one; or the offset of the first fault, depth first.
fn ours(items: Tlvs<'_>) -> Result<Map<String, Value>, usize> {
    let mut map = Map::new();
    for item in items {
        let t = item.map_err(|e| e.offset)?;
        let value = if t.is_constructed() {
            Value::Object(ours(t.children())?)
        } else {
            json!(
                t.value
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<String>()
            )
        };
        map.insert(t.tag_hex(), value);
    }
    Ok(map)
}

#[test]
fn agrees_with_pyemv_on_generated_and_damaged_tlv() {
    let mut rng = Rng(55);
    let mut cases: Vec<Vec<u8>> = Vec::new();
    for _ in 0..3_000 {
        let good = tlv(&mut rng, 6, 3);
        // Damaged: cut short, a byte changed, a byte added.
        let mut cut = good.clone();
        cut.truncate(rng.below(good.len() as u64) as usize);
        let mut flipped = good.clone();
        let at = rng.below(good.len() as u64) as usize;
        flipped[at] = rng.next() as u8;
        let mut longer = good.clone();
        longer.push(rng.next() as u8);
        cases.extend([good, cut, flipped, longer]);
    }
    let input: String = cases
        .iter()
        .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
        .collect();
    let mut child = Command::new("python3")
        .arg(format!(
            "{}/tests/pyemv/decode.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs (scripts/test installs pyemv)");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success(), "decode.py failed");
    let theirs: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(theirs.len(), cases.len());
    let (mut ok, mut errors) = (0, 0);
    for (i, (case, theirs)) in cases.iter().zip(&theirs).enumerate() {
        let mine = ours(tlvs(case));
        match (&mine, theirs.get("ok"), theirs.get("error")) {
            (Ok(m), Some(Value::Object(t)), None) => {
                assert_eq!(m, t, "case {i}");
                ok += 1;
            }
            (Err(at), None, Some(e)) => {
                assert_eq!(Some(*at as u64), e.as_u64(), "case {i}: error offsets");
                errors += 1;
            }
            _ => panic!("case {i}: ours {mine:?}, pyemv {theirs}"),
        }
    }
    // Both kinds were exercised.
    assert!(
        ok > 4_000 && errors > 2_000,
        "{ok} decoded, {errors} errors"
    );
}
