//! Known-answer vectors written by hand from the standards' layouts: a 0200 and an 0810 (1200
//! and 1814 in 1993) for each built-in, and a UnionPay POS sale with its TPDU and header. Each
//! is laid out segment by segment, so a reader can check it against the dialect's tables.

use iso8583_inspect::spec::{
    CUP_POS, ISO87_ASCII, ISO87_ASCII_BINARY_BITMAP, ISO87_BCD, ISO93_ASCII, Spec,
};
use iso8583_inspect::{ErrorKind, Location, MessageBuilder, parse};

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn reencodes(spec: &Spec, bytes: &[u8]) {
    let msg = parse(spec, bytes).unwrap();
    assert_eq!(
        MessageBuilder::from_message(&msg).to_vec().unwrap(),
        bytes,
        "{}",
        spec.name
    );
}

/// 0200 with fields 2, 3, 4, 11, 41, 42, 49: primary bitmap 70 20 00 00 00 C0 80 00.
fn check_0200(spec: &Spec, bytes: &[u8]) {
    let msg = parse(spec, bytes).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
    assert_eq!(msg.mti().to_string(), "0200");
    let numbers: Vec<usize> = msg.fields().map(|f| f.number()).collect();
    assert_eq!(numbers, [2, 3, 4, 11, 41, 42, 49]);
    let pan = msg.pan().unwrap().unwrap();
    assert_eq!(pan.reveal(), b"4761739001010010");
    assert_eq!(pan.to_string(), "476173******0010");
    assert_eq!(
        msg.processing_code().unwrap().unwrap().to_string(),
        "000000"
    );
    assert_eq!(msg.amount(), Some(Ok(1234)));
    assert_eq!(msg.stan(), Some(Ok(1)));
    assert_eq!(msg.terminal().unwrap().unwrap(), "TERM0001");
    assert_eq!(msg.merchant().unwrap().unwrap(), "MERCHANT0000001");
    assert_eq!(msg.currency().unwrap().unwrap(), "840");
    reencodes(spec, bytes);
}

/// 0810 with fields 7, 11, 39 and 70 (secondary bitmap): 82 20 00 00 02 00 00 00, 04 00 .. 00.
fn check_0810(spec: &Spec, bytes: &[u8]) {
    let msg = parse(spec, bytes).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
    assert_eq!(msg.mti().to_string(), "0810");
    assert!(msg.mti().is_response());
    let numbers: Vec<usize> = msg.fields().map(|f| f.number()).collect();
    assert_eq!(numbers, [7, 11, 39, 70]);
    let t = msg.transmission_time().unwrap().unwrap();
    assert_eq!(
        (t.month, t.day, t.hour, t.minute, t.second),
        (11, 23, 9, 30, 15)
    );
    assert_eq!(msg.stan(), Some(Ok(123)));
    assert_eq!(msg.response_code().unwrap().unwrap(), "00");
    assert_eq!(msg.field(70).unwrap().to_text(), "301");
    reencodes(spec, bytes);
}

#[test]
fn iso87_ascii() {
    check_0200(
        &ISO87_ASCII,
        &cat(&[
            b"0200",
            b"7020000000C08000",
            b"16",
            b"4761739001010010",
            b"000000",
            b"000000001234",
            b"000001",
            b"TERM0001",
            b"MERCHANT0000001",
            b"840",
        ]),
    );
    check_0810(
        &ISO87_ASCII,
        &cat(&[
            b"0810",
            b"8220000002000000",
            b"0400000000000000",
            b"1123093015",
            b"000123",
            b"00",
            b"301",
        ]),
    );
}

#[test]
fn iso87_ascii_binary_bitmap() {
    check_0200(
        &ISO87_ASCII_BINARY_BITMAP,
        &cat(&[
            b"0200",
            &[0x70, 0x20, 0x00, 0x00, 0x00, 0xC0, 0x80, 0x00],
            b"164761739001010010",
            b"000000",
            b"000000001234",
            b"000001",
            b"TERM0001",
            b"MERCHANT0000001",
            b"840",
        ]),
    );
    check_0810(
        &ISO87_ASCII_BINARY_BITMAP,
        &cat(&[
            b"0810",
            &[0x82, 0x20, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00],
            &[0x04, 0, 0, 0, 0, 0, 0, 0],
            b"1123093015000123",
            b"00",
            b"301",
        ]),
    );
}

#[test]
fn iso87_bcd() {
    check_0200(
        &ISO87_BCD,
        &cat(&[
            &[0x02, 0x00],
            &[0x70, 0x20, 0x00, 0x00, 0x00, 0xC0, 0x80, 0x00],
            &[0x16, 0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x00, 0x10],
            &[0x00, 0x00, 0x00],
            &[0x00, 0x00, 0x00, 0x00, 0x12, 0x34],
            &[0x00, 0x00, 0x01],
            b"TERM0001",
            b"MERCHANT0000001",
            b"840",
        ]),
    );
    check_0810(
        &ISO87_BCD,
        &cat(&[
            &[0x08, 0x10],
            &[0x82, 0x20, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00],
            &[0x04, 0, 0, 0, 0, 0, 0, 0],
            &[0x11, 0x23, 0x09, 0x30, 0x15],
            &[0x00, 0x01, 0x23],
            b"00",
            &[0x03, 0x01],
        ]),
    );
}

#[test]
fn iso93_ascii() {
    // 1200 with 2, 3, 4, 11, 12 (YYMMDDhhmmss), 41, 42, 49: 70 30 00 00 00 C0 80 00.
    let sale = cat(&[
        b"1200",
        b"7030000000C08000",
        b"164761739001010010",
        b"000000",
        b"000000001234",
        b"000001",
        b"261123093015",
        b"TERM0001",
        b"MERCHANT0000001",
        b"840",
    ]);
    let msg = parse(&ISO93_ASCII, &sale).unwrap();
    assert_eq!(msg.mti().version(), 1);
    assert_eq!(msg.amount(), Some(Ok(1234)));
    let t = msg.local_time().unwrap().unwrap();
    assert_eq!((t.hour, t.minute, t.second), (9, 30, 15));
    reencodes(&ISO93_ASCII, &sale);
    // 1814 with 7, 11, 24 (function code), 39 (3-digit action code): 02 20 01 00 02 00 00 00.
    let echo = cat(&[
        b"1814",
        b"0220010002000000",
        b"1123093015",
        b"000123",
        b"831",
        b"800",
    ]);
    let msg = parse(&ISO93_ASCII, &echo).unwrap();
    assert_eq!(msg.mti().to_string(), "1814");
    assert_eq!(msg.field(24).unwrap().to_text(), "831");
    assert_eq!(msg.response_code().unwrap().unwrap(), "800");
    reencodes(&ISO93_ASCII, &echo);
}

/// A UnionPay POS sale: TPDU 60 0003 0000, header 603100311003, BCD MTI 0200, and fields 2, 3,
/// 4, 11, 14, 22, 25, 26, 35, 41, 42, 49, 52, 53, 60 and 64.
fn cup_sale() -> Vec<u8> {
    cat(&[
        &[0x60, 0x00, 0x03, 0x00, 0x00],                   // TPDU
        &[0x60, 0x31, 0x00, 0x31, 0x10, 0x03],             // header
        &[0x02, 0x00],                                     // MTI
        &[0x70, 0x24, 0x04, 0xC0, 0x20, 0xC0, 0x98, 0x11], // bitmap
        &[
            0x19, 0x62, 0x22, 0x02, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x30,
        ], // 2, left-aligned
        &[0x00, 0x00, 0x00],                               // 3 sale
        &[0x00, 0x00, 0x00, 0x01, 0x28, 0x00],             // 4 = 128.00 yuan
        &[0x00, 0x00, 0x01],                               // 11
        &[0x29, 0x12],                                     // 14 YYMM
        &[0x02, 0x10],                                     // 22 "021", left-aligned
        &[0x00],                                           // 25
        &[0x06],                                           // 26
        &[
            0x27, 0x62, 0x22, 0x02, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x3D, 0x29, 0x12, 0x10,
            0x10,
        ], // 35
        b"10000001",                                       // 41
        b"822440158120001",                                // 42
        b"156",                                            // 49
        &[0x4F, 0x2A, 0x9C, 0x11, 0xD0, 0x3B, 0x7E, 0x58], // 52 PIN block
        &[0x26, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // 53
        &[0x00, 0x11, 0x22, 0x00, 0x00, 0x01, 0x00, 0x00], // 60: 22 000001 000
        &[0x1A, 0x2B, 0x3C, 0x4D, 0x5E, 0x6F, 0x70, 0x81], // 64 MAC
    ])
}

#[test]
fn cup_pos_sale_with_tpdu() {
    let bytes = cup_sale();
    let msg = parse(&CUP_POS, &bytes).unwrap();
    let tpdu = msg.tpdu().unwrap();
    assert_eq!(
        (tpdu.id, tpdu.destination, tpdu.source),
        (0x60, [0x00, 0x03], [0x00, 0x00])
    );
    assert_eq!(msg.header().len(), 11);
    assert_eq!(msg.mti().to_string(), "0200");
    assert_eq!(msg.pan().unwrap().unwrap().reveal(), b"6222021234567890123");
    assert_eq!(msg.amount(), Some(Ok(12800)));
    assert_eq!(msg.stan(), Some(Ok(1)));
    assert_eq!(msg.field(14).unwrap().to_text(), "2912");
    assert_eq!(msg.field(22).unwrap().to_text(), "021");
    assert_eq!(
        msg.field(35).unwrap().to_text(),
        "6222021234567890123=2912101"
    );
    assert_eq!(msg.terminal().unwrap().unwrap(), "10000001");
    assert_eq!(
        msg.merchant().unwrap().unwrap().get(7..11),
        Some(&b"5812"[..])
    );
    assert_eq!(msg.currency().unwrap().unwrap(), "156");
    assert_eq!(msg.field(52).unwrap().to_text(), "4F2A9C11D03B7E58");
    assert_eq!(msg.field(60).unwrap().to_text(), "22000001000");
    assert_eq!(
        msg.field(64).unwrap().data(),
        [0x1A, 0x2B, 0x3C, 0x4D, 0x5E, 0x6F, 0x70, 0x81]
    );
    assert!(msg.mcc().is_none(), "the terminal leg has no field 18");
    // Card data stays out of Debug.
    let debug = format!("{msg:?}");
    assert!(
        !debug.contains("6222021234567890123")
            && !debug.contains("2912101")
            && !debug.contains("4F2A9C"),
        "{debug}"
    );
    reencodes(&CUP_POS, &bytes);
}

#[test]
fn cup_pos_errors_say_where() {
    let good = cup_sale();
    // A letter nibble in the amount (field 4 starts at offset 32).
    let mut bad = good.clone();
    bad[35] = 0x1A;
    let e = parse(&CUP_POS, &bad).unwrap_err();
    assert_eq!(
        e.to_string(),
        "field 4 at offset 35: expected 12 digits, found nibble 0xA"
    );
    // A PAN length over its maximum of 19.
    let mut bad = good.clone();
    bad[21] = 0x20;
    let e = parse(&CUP_POS, &bad).unwrap_err();
    assert_eq!(
        e.to_string(),
        "field 2 at offset 21: length 20 is over the maximum 19"
    );
    // A bitmap naming field 18, which the terminal dialect does not define.
    let mut bad = good.clone();
    bad[15] |= 0x40;
    let e = parse(&CUP_POS, &bad).unwrap_err();
    assert_eq!(
        (e.location, e.kind),
        (Location::Bitmap, ErrorKind::UndefinedField { field: 18 })
    );
    assert_eq!(
        e.to_string(),
        "bitmap at offset 13: names field 18, which the spec does not define"
    );
    // Trailing bytes, and a header cut short.
    let mut bad = good.clone();
    bad.push(0);
    assert_eq!(
        parse(&CUP_POS, &bad).unwrap_err().to_string(),
        format!(
            "message at offset {}: 1 trailing bytes after the last field",
            good.len()
        )
    );
    assert_eq!(
        parse(&CUP_POS, &good[..7]).unwrap_err().to_string(),
        "header at offset 0: truncated: needs 11 bytes, 7 left"
    );
}
