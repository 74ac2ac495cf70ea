//! Golden messages from jPOS, moov-io and j8583, read in place from `../shared/vectors/`
//! (their licenses forbid copying them into this repository).

use iso8583_inspect::spec::{Content, Encoding, ISO87_ASCII, ISO87_BCD, ISO93_ASCII, Spec};
use iso8583_inspect::{ErrorKind, Location, MessageBuilder, parse};
use std::path::PathBuf;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors")
}

fn read(rel: &str) -> Vec<u8> {
    let path = vectors().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(field, value, is_binary)` from a jPOS `<isomsg>` file: the top level's fields, and a
/// composite field (a nested `<isomsg id="N">`, whose subfields are not modelled here) with an
/// empty value and `None` for `is_binary`: present, its value not compared.
fn jpos_values(rel: &str) -> Vec<(usize, String, Option<bool>)> {
    let text = String::from_utf8(read(rel)).unwrap();
    let attr = |line: &str, name: &str| -> Option<String> {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        let end = line[start..].find('"')? + start;
        Some(line[start..end].to_string())
    };
    let mut depth = 0;
    let mut out = Vec::new();
    for l in text.lines().map(str::trim_start) {
        if l.starts_with("<isomsg") {
            if depth == 1 {
                out.push((attr(l, "id").unwrap().parse().unwrap(), String::new(), None));
            }
            depth += 1;
        } else if l.starts_with("</isomsg") {
            depth -= 1;
        } else if l.starts_with("<field") && depth <= 1 {
            let id = attr(l, "id").unwrap().parse().unwrap();
            let binary = attr(l, "type").as_deref() == Some("binary");
            out.push((id, attr(l, "value").unwrap(), Some(binary)));
        }
    }
    out
}

/// Parses `bytes`. jPOS's own test data breaks its content classes in places (a '0' where an
/// `x+n` sign belongs, letters in the numeric 1993 field 56, text in track 3): for each such error, checks that
/// it points at exactly the offending byte of the expected field, puts a valid character
/// there and tries again. Returns the repaired bytes and the repaired fields.
fn parse_fixing(spec: &Spec, mut bytes: Vec<u8>) -> (Vec<u8>, Vec<usize>) {
    let mut fixed = Vec::new();
    loop {
        match parse(spec, &bytes) {
            Ok(_) => return (bytes, fixed),
            Err(e) => {
                let field = e.location.field().unwrap() as usize;
                let content = spec.field(field).unwrap().content;
                let repair = match e.kind {
                    ErrorKind::BadSign { .. } if content == Content::XN => b'C',
                    ErrorKind::NonDigit { .. } if content == Content::N => b'0',
                    // jPOS's track 3 (36) holds text; the standard's is digits and separators.
                    ErrorKind::BadTrackChar { .. } if content == Content::Z => b'0',
                    _ => panic!("unexpected error: {e}"),
                };
                assert!(!bytes[e.offset].is_ascii_digit() || repair == b'C', "{e}");
                bytes[e.offset] = repair;
                if fixed.last() != Some(&field) {
                    fixed.push(field);
                }
            }
        }
    }
}

fn check_jpos(spec: &Spec, bin: &str, xml: &str, expect_repaired: &[usize]) {
    check_jpos_folded(spec, bin, xml, expect_repaired, &[]);
}

/// [`check_jpos`], where `folded` gives (field, value) for letters jPOS's own BCD encoder wrote
/// into a numeric field as the digits of their low nibbles ("EFGH" becomes 5678): the bytes
/// hold those digits, and jPOS reads them back as such too.
fn check_jpos_folded(
    spec: &Spec,
    bin: &str,
    xml: &str,
    expect_repaired: &[usize],
    folded: &[(usize, &str)],
) {
    let original = read(bin);
    let (bytes, fixed) = parse_fixing(spec, original.clone());
    assert_eq!(
        fixed, expect_repaired,
        "{bin}: fields whose content breaks its class"
    );
    let msg = parse(spec, &bytes).unwrap();
    let values = jpos_values(xml);
    let mut count = 0;
    for (id, value, binary) in &values {
        if *id == 0 {
            assert_eq!(msg.mti().to_string(), *value);
            continue;
        }
        let f = msg
            .field(*id)
            .unwrap_or_else(|| panic!("{bin}: field {id} missing"));
        let got = f.to_text();
        let Some(binary) = binary else {
            // A composite: present, its subfields not modelled.
            count += 1;
            continue;
        };
        if let Some((_, digits)) = folded.iter().find(|(n, _)| n == id) {
            assert_eq!(got, *digits, "{bin}: field {id}");
            let low: String = value
                .bytes()
                .map(|c| char::from(b'0' + (c & 0x0F)))
                .collect();
            assert_eq!(got, low, "{bin}: field {id} is the low nibbles of {value}");
        } else if fixed.contains(id) {
            // Equal but for the repaired characters.
            assert_eq!(got.len(), value.len(), "{bin}: field {id}");
            for (g, v) in got.bytes().zip(value.bytes()) {
                let repaired = (g == b'C' && v == b'0') || (g == b'0' && !v.is_ascii_digit());
                assert!(g == v || repaired, "{bin}: field {id}");
            }
        } else if *binary || f.is_binary() {
            // A binary field: its hex, or, where jPOS's own packager class made the field text
            // (ISO87BPackager's 55) while the XML packager says binary, its bytes as that text.
            let as_text = f.bytes().eq(value.bytes());
            assert!(
                got == value.to_uppercase() || as_text,
                "{bin}: field {id}: {got} / {value}"
            );
        } else {
            assert_eq!(got, *value, "{bin}: field {id}");
        }
        count += 1;
    }
    assert_eq!(msg.field_count(), count, "{bin}: no field beyond the XML's");
    // The encoder writes the same bytes back, and the repairs were the only changes.
    assert_eq!(
        MessageBuilder::from_message(&msg).to_vec().unwrap(),
        bytes,
        "{bin}"
    );
    let changed = bytes.iter().zip(&original).filter(|(a, b)| a != b).count();
    assert_eq!(changed == 0, fixed.is_empty(), "{bin}");
}

#[test]
fn jpos_iso87_ascii() {
    check_jpos(
        &ISO87_ASCII,
        "jpos/ISO87APackager.bin",
        "jpos/ISO87.xml",
        &[28, 29, 30, 31, 36],
    );
}

#[test]
fn jpos_iso87_bcd() {
    check_jpos(
        &ISO87_BCD,
        "jpos/ISO87BPackager.bin",
        "jpos/ISO87.xml",
        &[28, 29, 30, 31, 36],
    );
}

#[test]
fn jpos_iso93_ascii() {
    check_jpos(
        &ISO93_ASCII,
        "jpos/ISO93APackager.bin",
        "jpos/ISO93.xml",
        &[36, 56],
    );
}

#[test]
fn jpos_iso87_sign_error_reads_well() {
    let e = parse(&ISO87_ASCII, &read("jpos/ISO87APackager.bin")).unwrap_err();
    assert_eq!(e.location, Location::Field(28));
    assert!(e.to_string().starts_with("field 28 at offset "), "{e}");
    assert!(
        e.to_string().ends_with(": expected sign C or D, found '0'"),
        "{e}"
    );
}

#[test]
fn jpos_truncated_copies_fail_cleanly() {
    let (bytes, _) = parse_fixing(&ISO87_BCD, read("jpos/ISO87BPackager.bin"));
    for cut in 0..bytes.len() {
        let e = parse(&ISO87_BCD, &bytes[..cut]).unwrap_err();
        assert!(e.offset <= cut, "cut {cut}: {e}");
        assert!(
            matches!(e.kind, ErrorKind::Truncated { .. }),
            "cut {cut}: {e}"
        );
    }
}

/// j8583's binary-MTI, binary-bitmap, ASCII-field layout, written as a spec file.
const J8583_BIN_ASCII: &str = r#"
name = "j8583-bin-ascii"
mti = "bcd"
bitmap = "binary"
[fields.7]
type = "n"
length = 10
encoding = "ascii"
[fields.11]
type = "n"
length = 6
encoding = "ascii"
[fields.37]
type = "an"
length = 12
encoding = "ascii"
[fields.39]
type = "an"
length = 2
encoding = "ascii"
[fields.53]
type = "ans"
length = 999
var = "lll"
encoding = "ascii"
[fields.70]
type = "n"
length = 3
encoding = "ascii"
"#;

#[test]
fn j8583_binary_mti_and_bitmap() {
    // j8583 writes 53 as LLVAR in its 0800 and parses it as LLLVAR in the 0810.
    let lll = Spec::from_toml_str(J8583_BIN_ASCII).unwrap();
    let ll = Spec::from_toml_str(
        &J8583_BIN_ASCII.replace("length = 999\nvar = \"lll\"", "length = 99\nvar = \"ll\""),
    )
    .unwrap();
    assert_ne!(ll, lll);
    for (spec, file, mti, f39) in [
        (&ll, "j8583/bin_ascii_800.bin", "0800", None),
        (&lll, "j8583/bin_ascii_810.bin", "0810", Some("00")),
    ] {
        let bytes = read(file);
        let msg = parse(spec, &bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(msg.mti().to_string(), mti);
        assert_eq!(msg.field(7).unwrap().to_text(), "0322220001");
        assert_eq!(msg.stan(), Some(Ok(562040)), "{file}");
        assert_eq!(msg.rrn().unwrap().unwrap(), "562040      ");
        assert_eq!(msg.field(70).unwrap().to_text(), "001");
        assert_eq!(
            msg.response_code().map(|r| r.unwrap().to_string()),
            f39.map(String::from)
        );
        assert_eq!(MessageBuilder::from_message(&msg).to_vec().unwrap(), bytes);
    }
}

#[test]
fn moov_io_messages() {
    // ISO 8583:1987 ASCII with hex bitmaps; the deliberately broken ones must fail with an error.
    let ok = [
        "network_management_message.dat",
        "network_management_message_response.dat",
        "financial_transaction_message.dat",
    ];
    for name in ok {
        let bytes = read(&format!("moov-io/{name}"));
        let msg = parse(&ISO87_ASCII, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            MessageBuilder::from_message(&msg).to_vec().unwrap(),
            bytes,
            "{name}"
        );
    }
    let bytes = read("moov-io/financial_transaction_message.dat");
    let msg = parse(&ISO87_ASCII, &bytes).unwrap();
    assert_eq!(msg.mti().to_string(), "0200");
    let numbers: Vec<usize> = msg.fields().map(|f| f.number()).collect();
    assert_eq!(
        numbers,
        [3, 4, 7, 11, 12, 13, 15, 18, 32, 37, 42, 48, 49, 60]
    );
    assert_eq!(msg.stan(), Some(Ok(11392)));
    assert_eq!(msg.mcc().unwrap().unwrap().0, 5132);
    assert_eq!(msg.acquirer().unwrap().unwrap(), "2000001");
    assert_eq!(msg.merchant().unwrap().unwrap(), "0800411        ");
    assert_eq!(msg.currency().unwrap().unwrap(), "360");
}

#[test]
fn hex_binary_fields_have_their_encodings() {
    assert_eq!(ISO93_ASCII.field(64).unwrap().encoding, Encoding::Hex);
    assert_eq!(ISO93_ASCII.field(55).unwrap().encoding, Encoding::Binary);
}

/// A jPOS GenericPackager file from the shared vectors, imported.
fn packager(name: &str) -> Spec {
    let path = format!(
        "{}/../shared/vectors/jpos/packager/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    Spec::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_jpos_packager_file_loads_or_names_what_it_cannot_read() {
    let dir = format!(
        "{}/../shared/vectors/jpos/packager",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut loaded = Vec::new();
    let mut refused = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("xml") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match Spec::load(&path) {
            Ok(spec) => {
                spec.check().unwrap();
                loaded.push(name);
            }
            Err(e) => {
                // The class and the field at fault, in so many words.
                let text = e.to_string();
                assert!(
                    text.starts_with("spec field ") && text.contains("jPOS class org.jpos."),
                    "{name}: {text}"
                );
                refused.push(name);
            }
        }
    }
    loaded.sort();
    refused.sort();
    assert_eq!(loaded.len() + refused.len(), 12, "{loaded:?} {refused:?}");
    assert_eq!(
        refused,
        ["postpack.xml"],
        "IFA_LLLLLLBINARY (a 6-digit length prefix) has no equivalent"
    );
    for must in [
        "iso87ascii.xml",
        "iso87binary.xml",
        "iso93ascii.xml",
        "iso93binary.xml",
    ] {
        assert!(loaded.iter().any(|n| n == must), "{must}: {refused:?}");
    }
}

#[test]
fn jpos_xml_specs_decode_jpos_own_messages() {
    check_jpos(
        &packager("iso87ascii.xml"),
        "jpos/ISO87APackager.bin",
        "jpos/ISO87.xml",
        &[28, 29, 30, 31],
    );
    check_jpos(
        &packager("iso87binary.xml"),
        "jpos/ISO87BPackager.bin",
        "jpos/ISO87.xml",
        &[28, 29, 30, 31],
    );
    check_jpos(
        &packager("iso93ascii.xml"),
        "jpos/ISO93APackager.bin",
        "jpos/ISO93.xml",
        &[56],
    );
    // jPOS keeps this message's 9-byte header outside the packager (its <header> element).
    let mut ebcdic = packager("iso93ebcdic-custom.xml");
    ebcdic.header = iso8583_inspect::spec::Header::Fixed(9);
    check_jpos(
        &ebcdic,
        "jpos/ISO93ebcdic-Custom-Img.bin",
        "jpos/ISO93ebcdic-Custom-XmlMsg.xml",
        &[],
    );
    check_jpos_folded(
        &packager("iso93binary.xml"),
        "jpos/ISO93BPackager.bin",
        "jpos/ISO93.xml",
        &[],
        &[(56, "5678")],
    );
}

#[test]
fn the_iso_2003_packager_puts_the_mcc_in_field_26_and_the_validator_reads_it_there() {
    use iso8583_inspect::mcc::FeeTable;
    use iso8583_inspect::profile::ProfileBook;
    use iso8583_inspect::validate::{Validator, Where};
    use iso8583_inspect::{MessageBuilder, Mti};
    let spec = packager("iso2003binary.xml");
    assert_eq!(spec.mcc_field, 26);
    assert_eq!(packager("iso87binary.xml").mcc_field, 18);
    // cmf.xml's composites (21, 27, 30, 74) come in as positional subfields.
    let cmf = packager("cmf.xml");
    assert_eq!(cmf.mcc_field, 26);
    let composite: Vec<u8> = cmf.composites.iter().map(|c| c.field).collect();
    assert_eq!(composite, [21, 27, 30, 74]);
    let book = ProfileBook::from_toml_str(
        "[[merchant]]\nid = \"822440158120001\"\nname = \"Golden Dragon\"\nmcc = \"5812\"\nacquirer = \"822\"\nterminals = [\"10000001\"]\ncurrency = \"156\"\n",
    )
    .unwrap();
    let fees = FeeTable::default();
    let validator = Validator::new(&book, &fees);
    let sale = |mcc26: &str| {
        let mut b = MessageBuilder::new(&spec, Mti::new(1200));
        b.set_text(3, "000000").unwrap();
        b.set_text(26, mcc26).unwrap();
        b.set_text(42, "822440158120001").unwrap();
        b.to_vec().unwrap()
    };
    let rules = |bytes: &[u8]| -> Vec<(String, Vec<u8>)> {
        let msg = iso8583_inspect::parse(&spec, bytes).unwrap();
        assert_eq!(msg.mti().to_string(), "1200");
        let mut out = Vec::new();
        validator.validate(&msg, &Where::index(0), &mut out);
        out.iter()
            .map(|f| (f.rule.id().to_string(), f.fields.clone()))
            .collect()
    };
    let found = rules(&sale("5411"));
    assert!(
        found.contains(&("mcc-mismatch".to_string(), vec![26])),
        "{found:?}"
    );
    assert!(
        rules(&sale("5812"))
            .iter()
            .all(|(r, _)| !r.starts_with("mcc"))
    );
}
