//! Properties: for every built-in spec (and a custom one using EBCDIC, LLLL and binary
//! prefixes), parse(encode(m)) gives m's values back and encode(parse(b)) gives b back byte for
//! byte; and parse returns, never panics, on arbitrary or mutated bytes.

use iso8583_inspect::parse::{parse_careful, stan_wire};
use iso8583_inspect::spec::{BUILTINS, Content, Encoding, Length, Spec};
use iso8583_inspect::{MessageBuilder, Mti, parse};
use proptest::prelude::*;
use std::sync::LazyLock;

/// A dialect that exercises what the built-ins do not: EBCDIC MTI, text and prefixes, LLLL,
/// binary prefixes, hex binary counting bytes, left-aligned BCD, EBCDIC cp500.
static CUSTOM: LazyLock<Spec> = LazyLock::new(|| {
    Spec::from_toml_str(
        r#"
name = "custom"
mti = "ebcdic"
bitmap = "hex-ebcdic"
tertiary_bitmap = true
header = { fixed = 3 }
[fields.2]
type = "n"
length = 19
var = "ll"
encoding = "ebcdic"
prefix = "ebcdic"
[fields.3]
type = "n"
length = 7
encoding = "bcd"
align = "left"
[fields.4]
type = "x+n"
length = 9
encoding = "bcd"
[fields.35]
type = "z"
length = 37
var = "ll"
encoding = "bcd"
prefix = "binary"
align = "left"
[fields.43]
type = "ans"
length = 40
encoding = "ebcdic500"
[fields.48]
type = "ans"
length = 2000
var = "llll"
encoding = "ascii"
prefix = "binary"
[fields.55]
type = "b"
length = 255
var = "lll"
encoding = "hex"
prefix = "bcd"
[fields.70]
type = "n"
length = 3
encoding = "ascii"
[fields.130]
type = "an"
length = 5
var = "ll"
encoding = "ascii"
[fields.192]
type = "b"
length = 8
encoding = "binary"
"#,
    )
    .unwrap()
});

fn specs() -> Vec<&'static Spec> {
    let mut v: Vec<&'static Spec> = BUILTINS.to_vec();
    v.push(&CUSTOM);
    v
}

/// A value for a field: text for text content, bytes for binary.
#[derive(Clone, Debug)]
enum Value {
    Text(String),
    Bytes(Vec<u8>),
}

fn value_strategy(spec: &Spec, n: usize) -> BoxedStrategy<Value> {
    let f = spec.field(n).unwrap();
    let max = f.length.max().min(300);
    let (lo, hi) = match f.length {
        Length::Fixed(len) => (usize::from(len), usize::from(len)),
        _ => (0, max),
    };
    match f.content {
        Content::B => {
            let (lo, hi) = if f.encoding == Encoding::HexChars {
                (lo / 2, hi / 2)
            } else {
                (lo, hi)
            };
            prop::collection::vec(any::<u8>(), lo..=hi)
                .prop_map(Value::Bytes)
                .boxed()
        }
        Content::N => format!("[0-9]{{{lo},{hi}}}").leak_regex(),
        Content::Z => format!("[0-9=]{{{lo},{hi}}}").leak_regex(),
        Content::XN => format!("[CD][0-9]{{{},{}}}", lo.max(1) - 1, hi - 1).leak_regex(),
        _ => format!("[ -~]{{{lo},{hi}}}").leak_regex(),
    }
}

trait LeakRegex {
    fn leak_regex(self) -> BoxedStrategy<Value>;
}

impl LeakRegex for String {
    fn leak_regex(self) -> BoxedStrategy<Value> {
        proptest::string::string_regex(&self)
            .unwrap()
            .prop_map(Value::Text)
            .boxed()
    }
}

/// A message for `spec`: an MTI, a header, and each defined field with probability 1/4.
fn message(spec: &'static Spec) -> impl Strategy<Value = (u16, Vec<u8>, Vec<(usize, Value)>)> {
    let fields: Vec<_> = spec
        .defined_fields()
        .map(|n| prop::option::weighted(0.25, value_strategy(spec, n)).prop_map(move |v| (n, v)))
        .collect();
    (
        0u16..=9999,
        prop::collection::vec(any::<u8>(), spec.header.len()),
        fields,
    )
        .prop_map(|(mti, header, fields)| {
            let present = fields
                .into_iter()
                .filter_map(|(n, v)| v.map(|v| (n, v)))
                .collect();
            (mti, header, present)
        })
}

fn check_roundtrip(
    spec: &'static Spec,
    mti: u16,
    header: &[u8],
    fields: &[(usize, Value)],
) -> Result<(), TestCaseError> {
    let mut b = MessageBuilder::new(spec, Mti::new(mti));
    b.set_header(header).unwrap();
    for (n, v) in fields {
        match v {
            Value::Text(t) => b.set_text(*n, t),
            Value::Bytes(x) => b.set_bytes(*n, x),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
    }
    let bytes = b.to_vec().unwrap();
    prop_assert_eq!(bytes.len(), b.encoded_len());
    let msg =
        parse(spec, &bytes).map_err(|e| TestCaseError::fail(format!("{}: {e}", spec.name)))?;
    prop_assert_eq!(msg.mti().value(), mti);
    prop_assert_eq!(msg.header(), header);
    prop_assert_eq!(msg.field_count(), fields.len());
    for (n, v) in fields {
        let f = msg.field(*n).unwrap();
        match v {
            Value::Text(t) => prop_assert!(
                f.text_eq(t),
                "{} field {n}: {:?} != {t:?}",
                spec.name,
                f.to_text()
            ),
            Value::Bytes(x) => {
                prop_assert!(f.bytes().eq(x.iter().copied()), "{} field {n}", spec.name)
            }
        }
    }
    // encode(parse(b)) == b, and the bytes object form is the same.
    let again = MessageBuilder::from_message(&msg);
    prop_assert_eq!(again.to_vec().unwrap(), bytes.clone());
    prop_assert_eq!(&again.to_bytes().unwrap()[..], &bytes[..]);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn iso87_ascii_roundtrips((mti, header, fields) in message(BUILTINS[0])) {
        check_roundtrip(BUILTINS[0], mti, &header, &fields)?;
    }

    #[test]
    fn iso87_ascii_binary_bitmap_roundtrips((mti, header, fields) in message(BUILTINS[1])) {
        check_roundtrip(BUILTINS[1], mti, &header, &fields)?;
    }

    #[test]
    fn iso87_bcd_roundtrips((mti, header, fields) in message(BUILTINS[2])) {
        check_roundtrip(BUILTINS[2], mti, &header, &fields)?;
    }

    #[test]
    fn iso93_ascii_roundtrips((mti, header, fields) in message(BUILTINS[3])) {
        check_roundtrip(BUILTINS[3], mti, &header, &fields)?;
    }

    #[test]
    fn cup_pos_roundtrips((mti, header, fields) in message(BUILTINS[4])) {
        check_roundtrip(BUILTINS[4], mti, &header, &fields)?;
    }

    #[test]
    fn cups_roundtrips((mti, header, fields) in message(BUILTINS[5])) {
        check_roundtrip(BUILTINS[5], mti, &header, &fields)?;
    }

    #[test]
    fn custom_spec_roundtrips((mti, header, fields) in message(&CUSTOM)) {
        check_roundtrip(&CUSTOM, mti, &header, &fields)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        for spec in specs() {
            if let Ok(msg) = parse(spec, &bytes) {
                // Whatever parses re-encodes to the same bytes.
                prop_assert_eq!(MessageBuilder::from_message(&msg).to_vec().unwrap(), bytes.clone());
            }
        }
    }

    #[test]
    fn mutated_messages_never_panic(
        (mti, header, fields) in message(BUILTINS[4]),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let bytes = damaged(BUILTINS[4], mti, &header, &fields, &flips);
        for spec in specs() {
            match parse(spec, &bytes) {
                Ok(msg) => prop_assert_eq!(MessageBuilder::from_message(&msg).to_vec().unwrap(), bytes.clone()),
                Err(e) => prop_assert!(e.offset <= bytes.len(), "{e}"),
            }
        }
    }

    #[test]
    fn both_parse_paths_agree(
        (choice, (mti, header, fields)) in prop_oneof![
            message(BUILTINS[0]).prop_map(|m| (0, m)),
            message(BUILTINS[1]).prop_map(|m| (1, m)),
            message(BUILTINS[2]).prop_map(|m| (2, m)),
            message(BUILTINS[3]).prop_map(|m| (3, m)),
            message(BUILTINS[4]).prop_map(|m| (4, m)),
            message(BUILTINS[5]).prop_map(|m| (5, m)),
            message(&CUSTOM).prop_map(|m| (6, m)),
        ],
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        // A valid message of one spec, perhaps damaged, read by every spec.
        let spec = specs()[choice];
        let bytes = damaged(spec, mti, &header, &fields, &flips);
        for spec in specs() {
            same_outcome(spec, &bytes)?;
        }
    }

    #[test]
    fn both_parse_paths_agree_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        for spec in specs() {
            same_outcome(spec, &bytes)?;
        }
    }
}

/// A message built from generated values (those the spec refuses left out), with `flips`
/// applied: (where, new byte).
fn damaged(
    spec: &'static Spec,
    mti: u16,
    header: &[u8],
    fields: &[(usize, Value)],
    flips: &[(prop::sample::Index, u8)],
) -> Vec<u8> {
    let mut b = MessageBuilder::new(spec, Mti::new(mti));
    b.set_header(header).unwrap();
    for (n, v) in fields {
        let _ = match v {
            Value::Text(t) => b.set_text(*n, t),
            Value::Bytes(x) => b.set_bytes(*n, x),
        };
    }
    let mut bytes = b.to_vec().unwrap();
    for (at, byte) in flips {
        let i = at.index(bytes.len());
        bytes[i] = *byte;
    }
    bytes
}

/// The straight-line path and the careful one give the same fields or the same error; the
/// STAN found by walking lengths alone is the parsed one.
fn same_outcome(spec: &Spec, bytes: &[u8]) -> Result<(), TestCaseError> {
    let walked = stan_wire(spec, bytes);
    match (parse(spec, bytes), parse_careful(spec, bytes)) {
        (Ok(a), Ok(b)) => {
            let wa: Vec<_> = a.fields().map(|f| (f.number(), f.wire())).collect();
            let wb: Vec<_> = b.fields().map(|f| (f.number(), f.wire())).collect();
            prop_assert_eq!(wa, wb, "{}", spec.name);
            prop_assert_eq!(walked, a.field(11).map(|f| f.wire()), "{}", spec.name);
        }
        (Err(a), Err(b)) => prop_assert_eq!(a, b, "{}", spec.name),
        (a, b) => prop_assert!(
            false,
            "{}: fast {:?}, careful {:?}",
            spec.name,
            a.err(),
            b.err()
        ),
    }
    Ok(())
}

/// Track 3 (field 36, `z..104`) is checked like track 2 on every path: a letter in either is
/// rejected with its field and offset.
#[test]
fn a_letter_in_track_3_is_rejected_like_one_in_track_2() {
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let in_36 = hex(
        "30323030303032303030303033303030303030303030303030313039313233343d3536373830313031323334355837383930",
    );
    let err = parse(BUILTINS[0], &in_36).unwrap_err();
    assert_eq!((err.field(), err.offset), (Some(36), 45));
    assert_eq!(parse_careful(BUILTINS[0], &in_36).unwrap_err(), err);
    // The same fault in field 35.
    let mut b = MessageBuilder::new(BUILTINS[0], Mti::FINANCIAL_REQUEST);
    b.set_text(11, "000001")
        .unwrap()
        .set_text(35, "1234=5678")
        .unwrap()
        .set_text(36, "1234567890")
        .unwrap();
    let mut in_35 = b.to_vec().unwrap();
    let at = in_35.iter().position(|&c| c == b'=').unwrap() + 1;
    in_35[at] = b'X';
    assert_eq!(parse(BUILTINS[0], &in_35).unwrap_err().field(), Some(35));
    assert!(parse(BUILTINS[0], &b.to_vec().unwrap()).is_ok());
}
