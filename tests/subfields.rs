//! Composite fields: subfields declared in specs, read by path in place, set by path through
//! the builder, and round trips of both.

use iso8583_inspect::spec::{CUP_POS, ISO87_ASCII, ISO87_BCD, Spec};
use iso8583_inspect::subfield::SubfieldErrorKind;
use iso8583_inspect::{EncodeError, MessageBuilder, Mti, parse};
use proptest::prelude::*;

fn text(msg: &iso8583_inspect::Message<'_>, path: &str) -> Option<String> {
    msg.subfield(path)
        .unwrap()
        .map(|s| s.value().chars().map(char::from).collect())
}

#[test]
fn unionpay_60_reads_digit_runs_that_start_inside_a_byte() {
    let mut b = MessageBuilder::new(&CUP_POS, Mti::FINANCIAL_REQUEST);
    b.set_text(11, "000001").unwrap();
    b.set_subfield("60.1", "22").unwrap();
    b.set_subfield("60.2", "000123").unwrap();
    b.set_subfield("60.3", "000").unwrap();
    // 60.5 (digit 12) before 60.4: the absent 60.4 is filled with a zero.
    b.set_subfield("60.5", "2").unwrap();
    let bytes = b.to_vec().unwrap();
    let msg = parse(&CUP_POS, &bytes).unwrap();
    assert_eq!(msg.field(60).unwrap().to_text(), "2200012300002");
    assert_eq!(text(&msg, "60.1").as_deref(), Some("22"));
    assert_eq!(text(&msg, "60.2").as_deref(), Some("000123"));
    // 60.3 holds digits 9-11: the second nibble of byte 4 to the first of byte 5.
    assert_eq!(text(&msg, "60.3").as_deref(), Some("000"));
    assert_eq!(text(&msg, "60.4").as_deref(), Some("0"));
    assert_eq!(text(&msg, "60.5").as_deref(), Some("2"));
    assert_eq!(
        msg.subfield("60.6").unwrap().map(|s| s.path().to_string()),
        None
    );
    let sub = msg.subfield("60.2").unwrap().unwrap();
    assert_eq!(
        (sub.name(), sub.value().to_u64()),
        ("Batch Number", Ok(123))
    );
    // The same reading as the transaction module's own.
    let f60 = iso8583_inspect::txn::Field60::of(&msg).unwrap();
    assert_eq!(
        (f60.type_code, f60.batch, f60.network_code),
        (Some(22), Some(123), Some(0))
    );
    // Odd starts: 60.2 from digit 2 (a whole byte), 60.4 from digit 11 (the low nibble).
    let odd: Vec<(String, usize)> = msg
        .subfields(60)
        .unwrap()
        .map(|s| {
            let s = s.unwrap();
            (s.path().to_string(), s.offset())
        })
        .collect();
    let base = bytes.len() - 7; // 2-byte prefix, 7 bytes of 13 digits
    assert_eq!(
        odd,
        [
            ("60.1".to_string(), base),
            ("60.2".to_string(), base + 1),
            ("60.3".to_string(), base + 4),
            ("60.4".to_string(), base + 5),
            ("60.5".to_string(), base + 6),
        ]
    );
}

#[test]
fn a_subfield_the_data_ends_inside_is_an_error_naming_path_and_offset() {
    let mut b = MessageBuilder::new(&CUP_POS, Mti::FINANCIAL_REQUEST);
    // 15 digits: 60.7 (n3) has only one.
    b.set_text(60, "220000010000000").unwrap();
    let bytes = b.to_vec().unwrap();
    let msg = parse(&CUP_POS, &bytes).unwrap();
    let items: Vec<_> = msg.subfields(60).unwrap().collect();
    assert_eq!(items.len(), 7);
    assert!(items[..6].iter().all(Result::is_ok));
    let err = items[6].unwrap_err();
    assert_eq!(err.path.as_str(), "60.7");
    assert_eq!(err.offset, bytes.len() - 1);
    assert!(matches!(err.kind, SubfieldErrorKind::Element(_)));
    assert_eq!(msg.subfield("60.7").unwrap_err(), err);
    // Paths before the fault still read.
    assert_eq!(text(&msg, "60.6").as_deref(), Some("0"));
}

#[test]
fn bad_paths_and_fields_without_subfields_are_errors_absent_ones_are_none() {
    let mut b = MessageBuilder::new(&CUP_POS, Mti::FINANCIAL_REQUEST);
    b.set_text(4, "000000000100")
        .unwrap()
        .set_text(60, "22000001000")
        .unwrap();
    let bytes = b.to_vec().unwrap();
    let msg = parse(&CUP_POS, &bytes).unwrap();
    for bad in ["60", "60.", "x.1", "0.1", "300.1", ""] {
        let e = msg.subfield(bad).unwrap_err();
        assert_eq!(e.kind, SubfieldErrorKind::BadPath, "{bad}");
    }
    let e = msg.subfield("4.1").unwrap_err();
    assert_eq!(
        (e.kind, e.path.as_str()),
        (SubfieldErrorKind::NotComposite, "4")
    );
    assert!(e.to_string().starts_with("subfield 4 at offset"));
    assert!(msg.subfield("55.9F02").unwrap().is_none(), "absent field");
    assert!(
        msg.subfield("60.9").unwrap().is_none(),
        "undeclared subfield"
    );
    assert!(msg.subfields(4).is_none());
}

#[test]
fn iso_90_and_43_in_ascii_and_in_bcd() {
    let original = "020000000311231015020004822000000000000000";
    for spec in [&ISO87_ASCII, &ISO87_BCD] {
        let mut b = MessageBuilder::new(spec, Mti::REVERSAL_REQUEST);
        b.set_text(90, original).unwrap();
        b.set_subfield("43.1", &format!("{:<25}", "GOLDEN DRAGON"))
            .unwrap();
        b.set_subfield("43.3", "CN").unwrap();
        let bytes = b.to_vec().unwrap();
        let msg = parse(spec, &bytes).unwrap();
        let got: Vec<String> = (1..=5)
            .map(|i| text(&msg, &format!("90.{i}")).unwrap())
            .collect();
        assert_eq!(
            got,
            ["0200", "000003", "1123101502", "00048220000", "00000000000"],
            "{}",
            spec.name
        );
        assert_eq!(text(&msg, "43.2").unwrap(), " ".repeat(13), "filled city");
        assert_eq!(text(&msg, "43.3").as_deref(), Some("CN"));
        assert_eq!(msg.field(43).unwrap().data().len(), 40);
    }
}

/// EMV data: a constructed 70 holding the PAN (5A) and the amount, then a currency.
fn icc() -> Vec<u8> {
    let mut inner = vec![0x5A, 0x08, 0x62, 0x22, 0x02, 0x12, 0x34, 0x56, 0x01, 0x23];
    inner.extend([0x9F, 0x02, 0x06, 0, 0, 0, 0x01, 0x28, 0]);
    let mut out = vec![0x70, inner.len() as u8];
    out.extend(inner);
    out.extend([0x5F, 0x2A, 0x02, 0x01, 0x56]);
    out
}

#[test]
fn emv_tags_read_by_path_raw_and_hex_written_nested_and_masked() {
    for spec in [&CUP_POS, &ISO87_ASCII] {
        let mut b = MessageBuilder::new(spec, Mti::FINANCIAL_REQUEST);
        b.set_bytes(55, &icc()).unwrap();
        let bytes = b.to_vec().unwrap();
        let msg = parse(spec, &bytes).unwrap();
        assert_eq!(
            text(&msg, "55.5F2A").as_deref(),
            Some("0156"),
            "{}",
            spec.name
        );
        assert_eq!(
            text(&msg, "55.5f2a").as_deref(),
            Some("0156"),
            "either case"
        );
        assert_eq!(text(&msg, "55.70.9F02").as_deref(), Some("000000012800"));
        let pan = msg.subfield("55.70.5A").unwrap().unwrap();
        assert_eq!(pan.to_display_text(false), "622202******0123");
        assert_eq!(pan.to_display_text(true), "6222021234560123");
        assert!(!format!("{pan:?}").contains("1234560"));
        let top: Vec<String> = msg
            .subfields(55)
            .unwrap()
            .map(|s| s.unwrap().path().to_string())
            .collect();
        assert_eq!(top, ["55.70", "55.5F2A"]);
        let outer = msg.subfield("55.70").unwrap().unwrap();
        assert!(outer.is_constructed());
        let inner: Vec<String> = outer
            .children()
            .map(|s| s.unwrap().path().to_string())
            .collect();
        assert_eq!(inner, ["55.70.5A", "55.70.9F02"]);
        // The offset of a tag is its place in the message (two characters a byte in hex).
        let width = if spec.name == "iso87-ascii" { 2 } else { 1 };
        let cur = msg.subfield("55.5F2A").unwrap().unwrap();
        let data_start = bytes.len() - icc().len() * width;
        assert_eq!(cur.offset(), data_start + 21 * width);
    }
}

#[test]
fn damaged_emv_data_errors_at_its_offset_in_the_message() {
    let mut icc = icc();
    icc.truncate(icc.len() - 1); // 5F2A says 2 bytes, 1 is left
    let mut b = MessageBuilder::new(&CUP_POS, Mti::FINANCIAL_REQUEST);
    b.set_bytes(55, &icc).unwrap();
    let bytes = b.to_vec().unwrap();
    let msg = parse(&CUP_POS, &bytes).unwrap();
    let err = msg.subfield("55.5F2A").unwrap_err();
    assert!(matches!(err.kind, SubfieldErrorKind::Tlv(_)));
    assert_eq!(err.offset, bytes.len() - 1);
    assert_eq!(text(&msg, "55.70.9F02").as_deref(), Some("000000012800"));
}

const TLV_SPEC: &str = r#"
name = "acme-48"
base = "iso87-ascii"
[fields.48]
name = "Additional Data - Private"
type = "ans"
length = 999
var = "lll"
encoding = "ascii"
tlv = { tag = 2, length = 3 }
"#;

#[test]
fn fixed_width_tlv_subfields_from_a_spec_file() {
    let spec = Spec::from_toml_str(TLV_SPEC).unwrap();
    let mut b = MessageBuilder::new(&spec, Mti::FINANCIAL_REQUEST);
    b.set_subfield("48.01", "HELLO").unwrap();
    b.set_subfield("48.AB", "x").unwrap();
    b.set_subfield("48.01", "WORLD!").unwrap();
    let bytes = b.to_vec().unwrap();
    let msg = parse(&spec, &bytes).unwrap();
    assert_eq!(msg.field(48).unwrap().to_text(), "01006WORLD!AB001x");
    assert_eq!(text(&msg, "48.01").as_deref(), Some("WORLD!"));
    assert_eq!(text(&msg, "48.AB").as_deref(), Some("x"));
    assert!(msg.subfield("48.ZZ").unwrap().is_none());
    let paths: Vec<String> = msg
        .subfields(48)
        .unwrap()
        .map(|s| s.unwrap().path().to_string())
        .collect();
    assert_eq!(paths, ["48.01", "48.AB"]);
    // A length that is not digits.
    let mut b = MessageBuilder::new(&spec, Mti::FINANCIAL_REQUEST);
    b.set_text(48, "0100XHELLO").unwrap();
    let bytes = b.to_vec().unwrap();
    let msg = parse(&spec, &bytes).unwrap();
    let err = msg.subfield("48.01").unwrap_err();
    assert_eq!(err.offset, bytes.len() - 10 + 4);
    assert!(err.to_string().contains("'X'"), "{err}");
    // The builder refuses what the layout cannot hold, and changes nothing.
    let mut b = MessageBuilder::new(&spec, Mti::FINANCIAL_REQUEST);
    assert!(matches!(
        b.set_subfield("48.ABC", "x"),
        Err(EncodeError::Subfield { .. })
    ));
    assert!(!b.has(48));
}

#[test]
fn spec_files_declare_positional_subfields_and_bad_layouts_are_refused() {
    let spec = Spec::from_toml_str(
        r#"
name = "acme-62"
base = "iso87-ascii"
[fields.62]
type = "ans"
length = 99
var = "ll"
encoding = "ascii"
subfields = [
  { name = "operator", type = "n", length = 3, encoding = "ascii" },
  { name = "note", type = "ans", length = 20, var = "ll", encoding = "ascii" },
  { id = 9, name = "flag", type = "a", length = 1, encoding = "ascii" },
]
"#,
    )
    .unwrap();
    let mut b = MessageBuilder::new(&spec, Mti::FINANCIAL_REQUEST);
    b.set_subfield("62.9", "Y").unwrap();
    let bytes = b.to_vec().unwrap();
    let msg = parse(&spec, &bytes).unwrap();
    assert_eq!(msg.field(62).unwrap().to_text(), "00000Y");
    assert_eq!(text(&msg, "62.2").as_deref(), Some(""));
    b.set_subfield("62.2", "hello").unwrap();
    let bytes = b.to_vec().unwrap();
    let msg = parse(&spec, &bytes).unwrap();
    assert_eq!(msg.field(62).unwrap().to_text(), "00005helloY");
    assert_eq!(text(&msg, "62.9").as_deref(), Some("Y"));
    assert!(b.set_subfield("62.1", "12A").is_err(), "n content");
    assert!(b.set_subfield("62.4", "1").is_err(), "no subfield 4");
    // A digit in the 3-digit operator code is wrong: the error names 62.1 and its offset.
    let mut bad = bytes.clone();
    let at = bad.len() - 11;
    bad[at] = b'Q';
    let msg = parse(&spec, &bad).unwrap();
    let err = msg.subfield("62.9").unwrap_err();
    assert_eq!((err.path.as_str(), err.offset), ("62.1", at));

    let refused = [
        ("tlv = \"ber\"", "binary"),
        ("subfields = []", "at least one"),
        (
            "subfields = [{ type = \"n\", length = 2, encoding = \"bcd\" }]\ntlv = \"ber\"",
            "two layouts",
        ),
    ];
    for (layout, why) in refused {
        let text = format!(
            "name = \"x\"\nbase = \"iso87-ascii\"\n[fields.62]\ntype = \"ans\"\nlength = 9\nvar = \"ll\"\nencoding = \"ascii\"\n{layout}\n"
        );
        let e = Spec::from_toml_str(&text).unwrap_err().to_string();
        assert!(e.contains("field 62") && e.contains(why), "{layout}: {e}");
    }
    // A BCD field's subfields are digit runs.
    let e = Spec::from_toml_str(
        "name = \"x\"\nbase = \"cup-pos\"\n[fields.60]\ntype = \"n\"\nlength = 17\nvar = \"lll\"\nencoding = \"bcd\"\nprefix = \"bcd\"\nsubfields = [{ type = \"ans\", length = 2, encoding = \"ascii\" }]\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("fixed run of digits"), "{e}");
    // Redefining a field drops the base's subfields for it; the others stay.
    let plain = Spec::from_toml_str(
        "name = \"x\"\nbase = \"iso87-ascii\"\n[fields.43]\ntype = \"ans\"\nlength = 40\nencoding = \"ascii\"\n",
    )
    .unwrap();
    assert!(plain.composite(43).is_none() && plain.composite(90).is_some());
}

#[cfg(feature = "jpos")]
#[test]
fn a_jpos_subfield_packager_without_a_bitmap_gives_positional_subfields() {
    let xml = r#"<isopackager>
  <isofield id="0" length="4" name="MTI" class="org.jpos.iso.IFA_NUMERIC"/>
  <isofield id="1" length="16" name="Bitmap" class="org.jpos.iso.IFA_BITMAP"/>
  <isofield id="11" length="6" name="STAN" class="org.jpos.iso.IFA_NUMERIC"/>
  <isofieldpackager id="48" length="999" name="Private" class="org.jpos.iso.IFA_LLLCHAR"
      emitBitmap="false" firstField="0" packager="org.jpos.iso.packager.GenericSubFieldPackager">
    <isofield id="0" length="2" name="usage" class="org.jpos.iso.IF_CHAR"/>
    <isofield id="1" length="6" name="code" class="org.jpos.iso.IFA_NUMERIC"/>
    <isofield id="2" length="20" name="text" class="org.jpos.iso.IFA_LLCHAR"/>
  </isofieldpackager>
</isopackager>"#;
    let spec = Spec::from_jpos_xml(xml, "sub").unwrap();
    let mut b = MessageBuilder::new(&spec, Mti::FINANCIAL_REQUEST);
    b.set_text(48, "AB12345605hello").unwrap();
    let bytes = b.to_vec().unwrap();
    let msg = parse(&spec, &bytes).unwrap();
    assert_eq!(text(&msg, "48.0").as_deref(), Some("AB"));
    assert_eq!(text(&msg, "48.1").as_deref(), Some("123456"));
    assert_eq!(text(&msg, "48.2").as_deref(), Some("hello"));
    assert_eq!(msg.subfield("48.1").unwrap().unwrap().name(), "code");
    let bad = xml.replace("IFA_LLCHAR\"/>\n  </iso", "IFX_ODD\"/>\n  </iso");
    let e = Spec::from_jpos_xml(&bad, "bad").unwrap_err().to_string();
    assert_eq!(
        e,
        "spec field 48: subfield 2: jPOS class org.jpos.iso.IFX_ODD is not supported"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever is set by path reads back by path, and the message writes back byte for byte.
    #[test]
    fn subfields_set_by_path_read_back_by_path(
        type_code in "[0-9]{2}",
        batch in "[0-9]{6}",
        nmi in "[0-9]{3}",
        flags in proptest::collection::vec("[0-9]", 0..4),
        mti in "0[1-4][0-9]0",
        stan in "[0-9]{6}",
        name in "[A-Z ]{25}",
        amount in proptest::collection::vec(any::<u8>(), 6),
        extra in proptest::collection::vec(any::<u8>(), 0..230),
    ) {
        let mut cup = MessageBuilder::new(&CUP_POS, Mti::FINANCIAL_REQUEST);
        cup.set_subfield("60.1", &type_code).unwrap();
        cup.set_subfield("60.2", &batch).unwrap();
        cup.set_subfield("60.3", &nmi).unwrap();
        for (i, f) in flags.iter().enumerate() {
            cup.set_subfield(&format!("60.{}", i + 4), f).unwrap();
        }
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
        cup.set_subfield("55.9F02", &hex(&amount)).unwrap();
        cup.set_subfield("55.DF01", &hex(&extra)).unwrap();
        let bytes = cup.to_vec().unwrap();
        let msg = parse(&CUP_POS, &bytes).unwrap();
        prop_assert_eq!(text(&msg, "60.1"), Some(type_code));
        prop_assert_eq!(text(&msg, "60.2"), Some(batch));
        prop_assert_eq!(text(&msg, "60.3"), Some(nmi));
        for (i, f) in flags.iter().enumerate() {
            prop_assert_eq!(text(&msg, &format!("60.{}", i + 4)), Some(f.clone()));
        }
        prop_assert_eq!(text(&msg, "55.9F02"), Some(hex(&amount)));
        prop_assert_eq!(text(&msg, "55.DF01"), Some(hex(&extra)));
        prop_assert_eq!(MessageBuilder::from_message(&msg).to_vec().unwrap(), bytes);

        for spec in [&ISO87_ASCII, &ISO87_BCD] {
            let mut b = MessageBuilder::new(spec, Mti::REVERSAL_REQUEST);
            b.set_subfield("90.2", &stan).unwrap();
            b.set_subfield("90.1", &mti).unwrap();
            b.set_subfield("43.1", &name).unwrap();
            let bytes = b.to_vec().unwrap();
            let msg = parse(spec, &bytes).unwrap();
            prop_assert_eq!(text(&msg, "90.1"), Some(mti.clone()));
            prop_assert_eq!(text(&msg, "90.2"), Some(stan.clone()));
            prop_assert_eq!(text(&msg, "43.1"), Some(name.clone()));
            prop_assert_eq!(MessageBuilder::from_message(&msg).to_vec().unwrap(), bytes);
        }
    }
}
