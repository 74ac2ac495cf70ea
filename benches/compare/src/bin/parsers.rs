//! Our parse beside every decoder of the same bytes: pyiso8583 (PyPI), the Rust crates on
//! crates.io that decode ISO 8583:1987 with ASCII fields, and the floor (one pass reading every
//! byte). Before anything is timed, each peer's decoding is checked to give the same values as
//! ours, field by field.
//!
//! `cargo run --release --manifest-path benches/compare/Cargo.toml --bin parsers`
//! (`-- --check`: only the checks, no timing).

use iso8583_compare::{Contender, SALE_0200, byte_scan, mb_per_s, race, sale_0200};
use iso8583_inspect::parse;
use iso8583_inspect::spec::{ISO87_ASCII, ISO87_ASCII_BINARY_BITMAP};
use std::collections::BTreeMap;
use std::process::Command;

/// The values a decoder gave, by field number, as text.
type Values = BTreeMap<usize, String>;

fn expected() -> Values {
    SALE_0200
        .iter()
        .map(|(n, v)| (*n, (*v).to_string()))
        .collect()
}

fn ours(spec: &'static iso8583_inspect::spec::Spec, bytes: &[u8]) -> Values {
    let msg = parse(spec, bytes).expect("our parse");
    msg.fields().map(|f| (f.number(), f.to_text())).collect()
}

fn i8583_values(bytes: &[u8]) -> Values {
    let mut u = i8583::Unpacker::new(bytes);
    let fields = u.unpack(&i8583::v1987::SPEC).expect("i8583 unpack");
    fields
        .iter()
        .enumerate()
        .skip(2)
        .filter_map(|(n, f)| f.map(|v| (n, String::from_utf8_lossy(v).into_owned())))
        .collect()
}

fn core_values(bytes: &[u8]) -> Values {
    let msg = iso8583_core::ISO8583Message::from_bytes(bytes).expect("iso8583-core parse");
    msg.get_field_numbers()
        .into_iter()
        .filter(|n| *n > 1)
        .map(|n| {
            let field = iso8583_core::Field::from_number(n).expect("field number");
            let v = msg.get_field(field).expect("field present");
            let text = match v {
                iso8583_core::field::FieldValue::String(s) => s.clone(),
                iso8583_core::field::FieldValue::Binary(b) => {
                    String::from_utf8_lossy(b).into_owned()
                }
            };
            (usize::from(n), text)
        })
        .collect()
}

fn codec_values(bytes: &[u8], spec: &iso8583_codec_rs::LoadedSpec) -> Values {
    let v = iso8583_codec_rs::iso8583::parse_bytes(bytes, spec).expect("iso8583-codec-rs parse");
    v["fields"]
        .as_object()
        .expect("fields object")
        .iter()
        .map(|(k, v)| {
            let n: usize = k[2..5].parse().expect("deNNN key");
            // Its generic spec splits field 22 into subfields: joined, they are the field.
            let text = match v {
                serde_json::Value::Object(parts) => {
                    parts.values().filter_map(|p| p.as_str()).collect()
                }
                v => v.as_str().unwrap_or_default().to_string(),
            };
            (n, text)
        })
        .collect()
}

/// iso8583-codec-rs's generic 1987 spec, from the crate's own sources (it does not export it).
fn codec_spec() -> iso8583_codec_rs::LoadedSpec {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--manifest-path",
            manifest,
        ])
        .output()
        .expect("cargo metadata");
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let package = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "iso8583-codec-rs")
        .expect("iso8583-codec-rs in the metadata");
    let dir = std::path::Path::new(package["manifest_path"].as_str().expect("path"))
        .parent()
        .expect("crate directory")
        .to_path_buf();
    let json = std::fs::read_to_string(dir.join("specifications/fields.json"))
        .expect("the crate's specifications/fields.json");
    iso8583_codec_rs::load_spec(&json).expect("iso8583-codec-rs spec")
}

fn pyiso8583(spec: &str, bytes: &[u8]) -> Option<(Values, f64)> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/pyiso8583_decode.py");
    let out = Command::new("python3")
        .args([script, spec, &hex])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "pyiso8583 did not run: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let mut lines = text.lines();
    let decoded: BTreeMap<String, String> = serde_json::from_str(lines.next()?).ok()?;
    let ns: f64 = lines.next()?.trim().parse().ok()?;
    let values = decoded
        .into_iter()
        .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
        .collect();
    Some((values, ns))
}

fn check(name: &str, got: &Values, want: &Values) {
    assert_eq!(got, want, "{name} decodes the message differently");
}

fn main() {
    let want = expected();
    let hex_bitmap = sale_0200(&ISO87_ASCII);
    let bin_bitmap = sale_0200(&ISO87_ASCII_BINARY_BITMAP);
    let codec_spec = codec_spec();

    check(
        "iso8583-inspect (hex bitmap)",
        &ours(&ISO87_ASCII, &hex_bitmap),
        &want,
    );
    check(
        "iso8583-inspect (binary bitmap)",
        &ours(&ISO87_ASCII_BINARY_BITMAP, &bin_bitmap),
        &want,
    );
    check("i8583", &i8583_values(&hex_bitmap), &want);
    check(
        "iso8583-codec-rs",
        &codec_values(&hex_bitmap, &codec_spec),
        &want,
    );
    check("iso8583-core", &core_values(&bin_bitmap), &want);
    let py = pyiso8583("default_ascii", &hex_bitmap);
    if let Some((values, _)) = &py {
        check("pyiso8583", values, &want);
    }

    if std::env::args().any(|a| a == "--check") {
        if py.is_none() {
            eprintln!("pyiso8583 did not run (pip install pyiso8583==4.0.1)");
            std::process::exit(1);
        }
        println!(
            "iso8583-inspect, i8583, iso8583-codec-rs, iso8583-core{} decode the same {} values.",
            if py.is_some() { ", pyiso8583" } else { "" },
            want.len()
        );
        return;
    }
    println!(
        "One 0200, {} fields: {} bytes with a hex bitmap (ISO87_ASCII), {} with a binary one \
         (ISO87_ASCII_BINARY_BITMAP); every decoder below gave the same {} values.\n",
        want.len(),
        hex_bitmap.len(),
        bin_bitmap.len(),
        want.len()
    );

    let mut hex_race = vec![
        Contender::new("floor: read every byte", || byte_scan(&hex_bitmap)),
        Contender::new("iso8583-inspect", || {
            parse(&ISO87_ASCII, &hex_bitmap).map_or(0, |m| usize::from(m.mti().value()))
        }),
        Contender::new("i8583 0.1.0", || {
            let mut u = i8583::Unpacker::new(&hex_bitmap);
            u.unpack(&i8583::v1987::SPEC).map_or(0, |f| f.len())
        }),
        Contender::new("iso8583-codec-rs 0.1.0", || {
            iso8583_codec_rs::iso8583::parse_bytes(&hex_bitmap, &codec_spec)
                .map_or(0, |v| v.as_object().map_or(0, |o| o.len()))
        }),
    ];
    let hex_ns = race(&mut hex_race);
    let mut bin_race = vec![
        Contender::new("floor: read every byte", || byte_scan(&bin_bitmap)),
        Contender::new("iso8583-inspect", || {
            parse(&ISO87_ASCII_BINARY_BITMAP, &bin_bitmap)
                .map_or(0, |m| usize::from(m.mti().value()))
        }),
        Contender::new("iso8583-core 0.1.0", || {
            iso8583_core::ISO8583Message::from_bytes(&bin_bitmap)
                .map_or(0, |m| m.get_field_numbers().len())
        }),
    ];
    let bin_ns = race(&mut bin_race);
    // pyiso8583 last, and its own median; ours is measured again around it for the ratio.
    let py = pyiso8583("default_ascii", &hex_bitmap);

    let ours_hex = hex_ns[1];
    println!("| decoder | bytes | ns/message | MB/s | ours vs it |");
    println!("|---|---|---:|---:|---:|");
    let row = |name: &str, len: usize, ns: f64, ours: f64| {
        println!(
            "| {name} | {len} | {ns:.0} | {:.0} | {} |",
            mb_per_s(len, ns),
            if ns == ours {
                "-".to_string()
            } else {
                format!("{:.2}x", ns / ours)
            }
        );
    };
    for (c, ns) in hex_race.iter().zip(&hex_ns) {
        row(&c.name, hex_bitmap.len(), *ns, ours_hex);
    }
    match &py {
        Some((_, ns)) => row(
            "pyiso8583 4.0.1 (CPython 3)",
            hex_bitmap.len(),
            *ns,
            ours_hex,
        ),
        None => println!("| pyiso8583 | - | not run | - | - |"),
    }
    let ours_bin = bin_ns[1];
    for (c, ns) in bin_race.iter().zip(&bin_ns) {
        row(
            &format!("{} (binary bitmap)", c.name),
            bin_bitmap.len(),
            *ns,
            ours_bin,
        );
    }
    println!(
        "\niso8583-inspect: {:.0} MB/s ({:.1} M messages/s) on the hex-bitmap message; \
         {:.1}x the floor's time.",
        mb_per_s(hex_bitmap.len(), ours_hex),
        1e3 / ours_hex,
        ours_hex / hex_ns[0]
    );
}
