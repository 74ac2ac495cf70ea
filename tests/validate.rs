//! Every validator rule fires where it should and stays silent where it should not; a clean
//! message allocates nothing.

use iso8583_inspect::finding::{Finding, Rule};
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::spec::{ISO87_ASCII, Spec};
use iso8583_inspect::validate::{Validator, Where};
use iso8583_inspect::{MessageBuilder, Mti, parse};
use std::sync::LazyLock;

const BOOK: &str = r#"
[[merchant]]
id = "822440158120001"
name = "Golden Dragon Restaurant"
mcc = "5812"
also_allowed_mcc = ["5813"]
acquirer = "822"
acquirer_ids = ["48220000"]
terminals = ["10000001", "10000002"]
currency = "156"
max_amount = 5000000
min_amount = 100

[[merchant]]
id = "898310053310002"
name = "Lotus Restaurant (registered under a department-store code)"
mcc = "5812"
terminals = ["40000001"]
currency = "156"
"#;

static BOOK_: LazyLock<ProfileBook> = LazyLock::new(|| ProfileBook::from_toml_str(BOOK).unwrap());

/// A clean sale at Golden Dragon, with `changes` applied (an empty value removes the field).
fn sale(spec: &'static Spec, mti: Mti, changes: &[(usize, &str)]) -> Vec<u8> {
    let mut b = MessageBuilder::new(spec, mti);
    for (n, v) in [
        (3, "000000"),
        (4, "000000012800"),
        (11, "000001"),
        (18, "5812"),
        (32, "48220000"),
        (37, "332700000001"),
        (41, "10000001"),
        (42, "822440158120001"),
        (49, "156"),
    ] {
        b.set_text(n, v).unwrap();
    }
    for (n, v) in changes {
        if v.is_empty() {
            b.remove(*n);
        } else {
            b.set_text(*n, v).unwrap();
        }
    }
    b.to_vec().unwrap()
}

fn findings_of(bytes: &[u8]) -> Vec<Finding> {
    let fees = FeeTable::default();
    let mut out = Vec::new();
    Validator::new(&BOOK_, &fees).validate(
        &parse(&ISO87_ASCII, bytes).unwrap(),
        &Where::index(7),
        &mut out,
    );
    out
}

fn rules(changes: &[(usize, &str)]) -> Vec<Rule> {
    findings_of(&sale(&ISO87_ASCII, Mti::FINANCIAL_REQUEST, changes))
        .iter()
        .map(|f| f.rule)
        .collect()
}

#[test]
fn a_clean_sale_has_no_finding() {
    assert_eq!(rules(&[]), []);
    assert_eq!(rules(&[(18, "5813")]), [], "an also-allowed MCC");
    assert_eq!(
        rules(&[(41, "10000002")]),
        [],
        "the merchant's other terminal"
    );
    assert_eq!(rules(&[(18, "")]), [], "no field 18 (the terminal leg)");
}

#[test]
fn mcc_mismatch() {
    let f = findings_of(&sale(&ISO87_ASCII, Mti::FINANCIAL_REQUEST, &[(18, "5411")]));
    // The supermarket's class is cheaper too: mcc-class-downgrade follows.
    assert_eq!(
        f.iter().map(|f| f.rule).collect::<Vec<_>>(),
        [Rule::MccMismatch, Rule::MccClassDowngrade]
    );
    let f = &f[0];
    assert_eq!(
        (
            f.rule,
            f.fields.as_slice(),
            f.expected.as_str(),
            f.observed.as_str()
        ),
        (Rule::MccMismatch, &[18u8][..], "5812", "5411")
    );
    let fi = f.fee_impact.as_ref().unwrap();
    // 128.00 yuan: 1.25% is 1.60, 0.38% is 0.49 (rounded): 1.11 yuan a sale before 2016.
    assert_eq!(
        (
            fi.pre2016.registered_class.as_str(),
            fi.pre2016.used_class.as_str()
        ),
        ("餐娱类", "民生类")
    );
    assert_eq!(fi.pre2016.difference_fen, Some(111));
    assert_eq!(fi.post2016.difference_fen, Some(77 - 49));
    assert_eq!(
        (
            f.message.index,
            f.message.stan.as_deref(),
            f.message.rrn.as_deref()
        ),
        (7, Some("000001"), Some("332700000001"))
    );
}

#[test]
fn merchant_code_mcc_mismatch() {
    // Lotus is a restaurant whose merchant code carries 5331 (variety store).
    let r = rules(&[(41, "40000001"), (42, "898310053310002"), (32, "")]);
    assert_eq!(r, [Rule::MerchantCodeMccMismatch, Rule::MccClassDowngrade]);
    // Golden Dragon's code carries its own 5812.
    assert!(!rules(&[]).contains(&Rule::MerchantCodeMccMismatch));
}

#[test]
fn unknown_merchant() {
    assert_eq!(
        rules(&[(41, "90000001"), (42, "836440159990009")]),
        [Rule::UnknownMerchant]
    );
}

#[test]
fn terminal_merchant_mismatch() {
    // Golden Dragon's terminal selling as Lotus.
    assert_eq!(
        rules(&[(42, "898310053310002"), (32, "")]),
        [
            Rule::TerminalMerchantMismatch,
            Rule::MerchantCodeMccMismatch,
            Rule::MccClassDowngrade
        ]
    );
    // A terminal nobody registered, on a merchant with registered terminals.
    assert_eq!(rules(&[(41, "77777777")]), [Rule::TerminalMerchantMismatch]);
}

#[test]
fn acquirer_mismatch() {
    let f = findings_of(&sale(
        &ISO87_ASCII,
        Mti::FINANCIAL_REQUEST,
        &[(32, "48980000")],
    ));
    assert_eq!(
        f.iter().map(|f| f.rule).collect::<Vec<_>>(),
        [Rule::AcquirerMismatch]
    );
    assert_eq!(
        (f[0].expected.as_str(), f[0].observed.as_str()),
        ("48220000", "48980000")
    );
    assert_eq!(rules(&[(32, "")]), [], "no field 32: nothing to compare");
}

#[test]
fn amount_out_of_range() {
    assert_eq!(rules(&[(4, "000005000001")]), [Rule::AmountOutOfRange]);
    assert_eq!(rules(&[(4, "000000000099")]), [Rule::AmountOutOfRange]);
    assert_eq!(
        rules(&[(4, "000005000000")]),
        [],
        "the maximum itself is allowed"
    );
}

#[test]
fn currency_mismatch() {
    assert_eq!(rules(&[(49, "840")]), [Rule::CurrencyMismatch]);
}

#[test]
fn malformed_field() {
    // A currency that is not three digits is malformed, not a currency mismatch.
    let f = findings_of(&sale(&ISO87_ASCII, Mti::FINANCIAL_REQUEST, &[(49, "1X6")]));
    assert_eq!(
        f.iter().map(|f| f.rule).collect::<Vec<_>>(),
        [Rule::MalformedField]
    );
    assert_eq!(
        (
            f[0].fields.as_slice(),
            f[0].expected.as_str(),
            f[0].observed.as_str()
        ),
        (&[49u8][..], "3 digits", "1X6")
    );
    // In a dialect whose field 18 is text, a letter in it is malformed too.
    let spec: &'static Spec = Box::leak(Box::new(
        Spec::from_toml_str("name='t'\nmti='ascii'\nbitmap='hex'\n[fields.18]\ntype='ans'\nlength=4\nencoding='ascii'\n[fields.42]\ntype='ans'\nlength=20\nvar='ll'\nencoding='ascii'\n").unwrap(),
    ));
    let mut b = MessageBuilder::new(spec, Mti::FINANCIAL_REQUEST);
    b.set_text(18, "58A2")
        .unwrap()
        .set_text(42, "8224401581200011")
        .unwrap();
    let bytes = b.to_vec().unwrap();
    let fees = FeeTable::default();
    let mut out = Vec::new();
    Validator::new(&BOOK_, &fees).validate(
        &parse(spec, &bytes).unwrap(),
        &Where::index(0),
        &mut out,
    );
    let got: Vec<(Rule, Vec<u8>)> = out.iter().map(|f| (f.rule, f.fields.clone())).collect();
    assert_eq!(
        got,
        [
            (Rule::MalformedField, vec![18]),
            (Rule::MalformedField, vec![42])
        ]
    );
}

#[test]
fn a_field_is_malformed_alike_in_every_text_encoding() {
    // ASCII fields are checked on their bytes, a word at a time; EBCDIC ones character by
    // character: both must give the verdict of the format (three digits for field 49).
    let spec = |encoding: &str| -> &'static Spec {
        Box::leak(Box::new(
            Spec::from_toml_str(&format!(
                "name='t'\nmti='ascii'\nbitmap='hex'\n[fields.49]\ntype='ans'\nlength=20\nvar='ll'\nencoding='{encoding}'\n"
            ))
            .unwrap(),
        ))
    };
    let (ascii, ebcdic) = (spec("ascii"), spec("ebcdic"));
    let fees = FeeTable::default();
    let malformed = |spec: &'static Spec, value: &str| {
        let mut b = MessageBuilder::new(spec, Mti::FINANCIAL_REQUEST);
        b.set_text(49, value).unwrap();
        let bytes = b.to_vec().unwrap();
        let mut out = Vec::new();
        Validator::new(&BOOK_, &fees).validate(
            &parse(spec, &bytes).unwrap(),
            &Where::index(0),
            &mut out,
        );
        out.iter().any(|f| f.rule == Rule::MalformedField)
    };
    for value in [
        "156",
        "840",
        "1X6",
        "15",
        "1560",
        "",
        "15 ",
        " 56",
        "15:",
        "/56",
        "1234567890123456",
    ] {
        let expected = !(value.len() == 3 && value.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(malformed(ascii, value), expected, "ascii {value:?}");
        assert_eq!(malformed(ebcdic, value), expected, "ebcdic {value:?}");
    }
}

#[test]
fn responses_and_network_messages_are_not_validated() {
    assert!(
        findings_of(&sale(
            &ISO87_ASCII,
            Mti::FINANCIAL_RESPONSE,
            &[(18, "5411")]
        ))
        .is_empty()
    );
    assert!(findings_of(&sale(&ISO87_ASCII, Mti::NETWORK_REQUEST, &[(18, "5411")])).is_empty());
    assert_eq!(
        findings_of(&sale(&ISO87_ASCII, Mti::REVERSAL_REQUEST, &[(18, "5411")])).len(),
        2
    );
}

#[test]
fn findings_serialise_with_their_contract_keys() {
    let f = &findings_of(&sale(
        &ISO87_ASCII,
        Mti::FINANCIAL_REQUEST,
        &[(18, "5411"), (2, "6222021234567890123")],
    ))[0];
    let json = serde_json::to_value(f).unwrap();
    for key in [
        "rule",
        "severity",
        "index",
        "time",
        "mti",
        "merchant",
        "terminal",
        "stan",
        "rrn",
        "fields",
        "expected",
        "observed",
        "fee_impact",
    ] {
        assert!(json.get(key).is_some(), "{key} missing in {json}");
    }
    assert_eq!(json["rule"], "mcc-mismatch");
    assert_eq!(json["severity"], "high");
    assert!(
        !json.to_string().contains("6222021234567890123"),
        "no card data in findings"
    );
}

#[test]
fn mcc_class_downgrade_only_to_a_cheaper_class() {
    // 5812 to 5813 (allowed) and to 5814 (the same 餐娱/标准 class): no downgrade.
    assert_eq!(rules(&[(18, "5813")]), []);
    assert_eq!(rules(&[(18, "5814")]), [Rule::MccMismatch]);
    // To a supermarket (民生/优惠): a downgrade, priced.
    let f = findings_of(&sale(&ISO87_ASCII, Mti::FINANCIAL_REQUEST, &[(18, "5411")]));
    let d = f
        .iter()
        .find(|f| f.rule == Rule::MccClassDowngrade)
        .unwrap();
    assert_eq!(d.expected, "5812 (餐娱类 / 标准类)");
    assert_eq!(d.observed, "5411 (民生类 / 优惠类)");
    assert_eq!(
        d.fee_impact.as_ref().unwrap().pre2016.difference_fen,
        Some(111)
    );
}

#[test]
fn mcc_reserved_or_unknown() {
    // A code ISO 18245 reserves, and a charity's code at a restaurant.
    assert!(rules(&[(18, "1234")]).contains(&Rule::MccReservedOrUnknown));
    assert!(rules(&[(18, "9100")]).contains(&Rule::MccReservedOrUnknown));
    assert!(rules(&[(18, "8398")]).contains(&Rule::MccReservedOrUnknown));
    // A UnionPay national code (0001-0699) and an ordinary code: only the mismatch.
    assert_eq!(
        rules(&[(18, "0031")]),
        [Rule::MccMismatch, Rule::MccClassDowngrade]
    );
    assert!(!rules(&[(18, "5999")]).contains(&Rule::MccReservedOrUnknown));
}

const NETWORK_BOOK: &str = r#"
[[merchant]]
id = "822440158120001"
name = "Golden Dragon Restaurant"
names = ["金龙酒家"]
mcc = "5812"
terminals = ["10000001"]
currency = "156"
route_destinations = ["00010000"]
receivers = ["00010000"]

[[merchant]]
id = "822440160120009"
name = "Card Repayment Kiosk"
mcc = "6012"
transfers = true
terminals = ["50000001"]
currency = "156"

[[merchant]]
id = "822440183980001"
name = "Red Cross Guangzhou"
mcc = "8398"
non_profit = true
terminals = ["60000001"]
currency = "156"
"#;

/// The network-leg checks against `NETWORK_BOOK`: a CUPS request or response with `changes`
/// (values as bytes: field 43 carries GBK), its header addressed to `destination`.
fn network_rules(mti: Mti, changes: &[(usize, &[u8])], destination: &str) -> Vec<Rule> {
    use iso8583_inspect::cups::{HeaderFields, station_id};
    use iso8583_inspect::spec::CUPS;
    let book = ProfileBook::from_toml_str(NETWORK_BOOK).unwrap();
    let fees = FeeTable::default();
    let mut b = MessageBuilder::new(&CUPS, mti);
    for (n, v) in [
        (3, "000000"),
        (4, "000000012800"),
        (7, "1123093015"),
        (11, "734001"),
        (18, "5812"),
        (32, "48224401"),
        (41, "10000001"),
        (42, "822440158120001"),
        (49, "156"),
    ] {
        b.set_text(n, v).unwrap();
    }
    for (n, v) in changes {
        if v.is_empty() {
            b.remove(*n);
        } else {
            b.set_bytes(*n, v).unwrap();
        }
    }
    let body_len = b.to_vec().unwrap().len();
    let header = HeaderFields {
        destination: station_id(destination),
        source: station_id("48224401"),
        ..HeaderFields::default()
    }
    .to_bytes(body_len)
    .unwrap();
    b.set_header(&header).unwrap();
    let bytes = b.to_vec().unwrap();
    let msg = parse(&CUPS, &bytes).unwrap();
    let mut out = Vec::new();
    let v = Validator::new(&book, &fees);
    v.validate(&msg, &Where::index(0), &mut out);
    v.validate_response(&msg, &Where::index(0), &mut out);
    out.iter().map(|f| f.rule).collect()
}

/// GBK of `text`, padded with spaces to field 43's 40 bytes: the characters used here, from the
/// GB 2312 table (ASCII as itself).
fn gbk43(text: &str) -> Vec<u8> {
    let table = [
        ('金', [0xBD, 0xF0]),
        ('龙', [0xC1, 0xFA]),
        ('酒', [0xBE, 0xC6]),
        ('家', [0xBC, 0xD2]),
        ('银', [0xD2, 0xF8]),
        ('超', [0xB3, 0xAC]),
        ('市', [0xCA, 0xD0]),
    ];
    let mut out = Vec::new();
    for c in text.chars() {
        match table.iter().find(|(k, _)| *k == c) {
            Some((_, b)) => out.extend_from_slice(b),
            None => out.push(c as u8),
        }
    }
    out.resize(40, b' ');
    out
}

#[test]
fn network_names_fees_transfers_and_routes() {
    let sale = Mti::FINANCIAL_REQUEST;
    let clean: Vec<Rule> = vec![];
    let home = "00010000";
    assert_eq!(network_rules(sale, &[], home), clean);
    // Field 43: the registered name with a city, the Chinese name with a branch, another shop.
    let english = gbk43("GOLDEN DRAGON RESTAURANT GUANGZHOU CN");
    assert_eq!(network_rules(sale, &[(43, &english)], home), clean);
    let chinese = gbk43("金龙酒家(天河店)");
    assert_eq!(network_rules(sale, &[(43, &chinese)], home), clean);
    let other = gbk43("银龙超市");
    assert_eq!(
        network_rules(sale, &[(43, &other)], home),
        [Rule::NameMismatch]
    );
    // Fees on a purchase; not on a cross-border one.
    let fee: &[u8] = b"C00000150";
    assert_eq!(
        network_rules(sale, &[(28, fee)], home),
        [Rule::FeeFieldPresent]
    );
    let billing: &[u8] = b"000000001800";
    assert_eq!(network_rules(sale, &[(28, fee), (6, billing)], home), clean);
    // A transfer at the restaurant; at the repayment kiosk it is its business.
    let transfer: &[u8] = b"400000";
    assert_eq!(
        network_rules(sale, &[(3, transfer)], home),
        [Rule::TransferDisguisedAsSale]
    );
    let kiosk: [(usize, &[u8]); 5] = [
        (3, transfer),
        (18, b"6012"),
        (41, b"50000001"),
        (42, b"822440160120009"),
        (32, b""),
    ];
    assert_eq!(network_rules(sale, &kiosk, home), clean);
    // Another destination than the merchant's route; a response from another receiver; the
    // network's 94.
    assert_eq!(network_rules(sale, &[], "00019999"), [Rule::RoutingChanged]);
    let rsp = Mti::FINANCIAL_RESPONSE;
    assert_eq!(network_rules(rsp, &[(100, b"00010000")], home), clean);
    assert_eq!(
        network_rules(rsp, &[(100, b"04031000")], home),
        [Rule::RoutingChanged]
    );
    assert_eq!(
        network_rules(rsp, &[(39, b"94")], home),
        [Rule::DuplicateOrReplay]
    );
    // The charity may use its own 减免 code.
    let charity: [(usize, &[u8]); 4] = [
        (18, b"8398"),
        (41, b"60000001"),
        (42, b"822440183980001"),
        (32, b""),
    ];
    assert_eq!(network_rules(sale, &charity, home), clean);
}

#[test]
fn the_card_signed_data_against_the_message() {
    // 55 as hex characters (iso87-ascii): 9F02 amount, 5F2A currency, 9A date.
    let icc = |amount: &str, currency: &str, date: &str| {
        format!("9F0206{amount}5F2A02{currency}9A03{date}9C0100")
    };
    let with = |icc: &str, extra: &[(usize, &str)]| {
        let mut changes = vec![(55, icc), (13, "1123")];
        changes.extend_from_slice(extra);
        rules(&changes)
    };
    let clean = icc("000000012800", "0156", "261123");
    assert_eq!(with(&clean, &[]), []);
    assert_eq!(
        with(&icc("000000012000", "0156", "261123"), &[]),
        [Rule::EmvAmountMismatch]
    );
    assert_eq!(
        with(&icc("000000012800", "0840", "261123"), &[]),
        [Rule::EmvCurrencyMismatch]
    );
    assert_eq!(
        with(&icc("000000012800", "0156", "261122"), &[]),
        [Rule::EmvDateMismatch]
    );
    // A completion's final amount may differ from what the card saw at pre-authorisation.
    assert_eq!(
        with(&icc("000000012000", "0156", "261123"), &[(25, "06")]),
        []
    );
    // Damaged TLV: what decoded before the fault is compared, the rest is not.
    assert_eq!(with("9F0206000000012000", &[]), [Rule::EmvAmountMismatch]);
    assert_eq!(with("9F02060000", &[]), []);
    let f = findings_of(&sale(
        &ISO87_ASCII,
        Mti::FINANCIAL_REQUEST,
        &[(55, &icc("000000012000", "0156", "261123"))],
    ));
    assert_eq!(
        (
            f[0].expected.as_str(),
            f[0].observed.as_str(),
            f[0].fields.as_slice()
        ),
        (
            "000000012000 (the amount in 55.9F02)",
            "000000012800",
            &[4u8, 55][..]
        )
    );
}
