//! Parsing allocates nothing: a counting global allocator watches `parse` and the typed
//! accessors on every built-in dialect. (This file is its own test binary, so the allocator
//! counts only this test's own thread-local work.)

use iso8583_inspect::spec::{BUILTINS, ISO87_ASCII, Spec};
use iso8583_inspect::{MessageBuilder, parse};

mod common;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

fn sale(spec: &'static Spec) -> Vec<u8> {
    common::typical_0200(spec).to_vec().unwrap()
}

#[test]
fn parsing_and_reading_fields_allocate_nothing() {
    for spec in BUILTINS {
        let bytes = sale(spec);
        let n = allocations_during(|| {
            let msg = parse(spec, &bytes).unwrap();
            assert!(msg.field_count() >= 8, "{}", spec.name);
            assert_eq!(msg.amount(), Some(Ok(12800)));
            assert_eq!(msg.stan(), Some(Ok(1)));
            assert!(msg.pan().unwrap().is_ok());
            assert!(msg.terminal().unwrap().is_ok());
            assert!(msg.merchant().unwrap().unwrap() == "822440158120001");
            let digits: usize = msg.fields().map(|f| f.chars().count()).sum();
            assert!(digits > 50);
            // Errors allocate nothing either.
            assert!(parse(spec, &bytes[..bytes.len() - 1]).is_err());
        });
        assert_eq!(n, 0, "{}: parse allocated {n} times", spec.name);
    }
}

#[test]
fn the_counter_sees_allocations() {
    // The same harness does notice an allocation, so the zero above means something.
    let n = allocations_during(|| {
        let v: Vec<u8> = std::hint::black_box(vec![1, 2, 3]);
        drop(v);
    });
    assert_eq!(n, 1);
    let bytes = sale(&ISO87_ASCII);
    let msg = parse(&ISO87_ASCII, &bytes).unwrap();
    assert!(allocations_during(|| drop(msg.field(42).unwrap().to_text())) >= 1);
}

#[test]
fn validating_a_clean_message_allocates_nothing() {
    use iso8583_inspect::mcc::FeeTable;
    use iso8583_inspect::profile::ProfileBook;
    use iso8583_inspect::validate::{Validator, Where};
    let book = ProfileBook::from_toml_str(
        "[[merchant]]\nid = \"822440158120001\"\nname = \"Golden Dragon\"\nmcc = \"5812\"\nacquirer = \"822\"\nacquirer_ids = [\"48220000\"]\nterminals = [\"10000001\"]\ncurrency = \"156\"\nmax_amount = 5000000\n",
    )
    .unwrap();
    let fees = FeeTable::default();
    let validator = Validator::new(&book, &fees);
    // The typical sale, with the card's own amount and currency in 55 (hex characters,
    // decoded on the stack) and a name in 43: every check runs, nothing is allocated.
    let base = sale(&ISO87_ASCII);
    let base = parse(&ISO87_ASCII, &base).unwrap();
    let amount = base.field(4).unwrap().to_text();
    let mut typical = MessageBuilder::from_message(&base);
    typical
        .set_text(55, &format!("9F0206{amount}5F2A0201569A032611239F1A020156"))
        .unwrap()
        .set_text(43, &format!("{:<40}", "GOLDEN DRAGON GUANGZHOU"))
        .unwrap();
    let bytes = typical.to_vec().unwrap();
    let msg = parse(&ISO87_ASCII, &bytes).unwrap();
    let mut findings = Vec::with_capacity(4);
    let n = allocations_during(|| validator.validate(&msg, &Where::index(0), &mut findings));
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(n, 0, "validation allocated {n} times");
    let mut buf = [0u8; 512];
    let n = allocations_during(|| {
        let items = msg.emv(&mut buf).unwrap();
        assert_eq!(items.filter(Result::is_ok).count(), 4);
    });
    assert_eq!(n, 0, "reading field 55's TLV allocated {n} times");
    // A message with a finding allocates only for the finding.
    let mut b = MessageBuilder::from_message(&msg);
    b.set_text(18, "5411").unwrap();
    let bad = b.to_vec().unwrap();
    let msg = parse(&ISO87_ASCII, &bad).unwrap();
    assert!(allocations_during(|| validator.validate(&msg, &Where::index(1), &mut findings)) > 0);
    // mcc-mismatch, and mcc-class-downgrade (a supermarket is cheaper than a restaurant).
    assert_eq!(findings.len(), 2);
}

#[test]
fn reading_subfields_allocates_nothing() {
    use iso8583_inspect::Mti;
    use iso8583_inspect::spec::{CUP_POS, ISO87_BCD};
    let mut cup = MessageBuilder::new(&CUP_POS, Mti::FINANCIAL_REQUEST);
    cup.set_text(60, "2200012300052").unwrap();
    cup.set_bytes(
        55,
        &[
            0x70, 0x13, 0x5A, 0x08, 0x62, 0x22, 0x02, 0x12, 0x34, 0x56, 0x01, 0x23, 0x9F, 0x02,
            0x06, 0, 0, 0, 0x01, 0x28, 0,
        ],
    )
    .unwrap();
    let bytes = cup.to_vec().unwrap();
    let msg = parse(&CUP_POS, &bytes).unwrap();
    let mut iso = MessageBuilder::new(&ISO87_BCD, Mti::REVERSAL_REQUEST);
    iso.set_text(90, "020000000311231015020004822000000000000000")
        .unwrap();
    let iso_bytes = iso.to_vec().unwrap();
    let iso = parse(&ISO87_BCD, &iso_bytes).unwrap();
    let n = allocations_during(|| {
        let batch = msg.subfield("60.2").unwrap().unwrap();
        assert_eq!(batch.value().to_u64(), Ok(123));
        assert_eq!(batch.path(), "60.2");
        let digits: usize = msg
            .subfields(60)
            .unwrap()
            .map(|s| s.unwrap().value().chars().count())
            .sum();
        assert_eq!(digits, 13);
        let pan = msg.subfield("55.70.5A").unwrap().unwrap();
        assert_eq!(pan.value().bytes().count(), 8);
        let inner = msg.subfield("55.70").unwrap().unwrap().children().count();
        assert_eq!(inner, 2);
        assert!(msg.subfield("55.9F03").unwrap().is_none());
        assert!(msg.subfield("4.1").is_err());
        let stan = iso.subfield("90.2").unwrap().unwrap();
        assert!(stan.value().text_eq("000003"));
    });
    assert_eq!(n, 0, "reading subfields allocated {n} times");
}

#[test]
fn writing_a_message_as_ndjson_allocates_nothing() {
    use iso8583_inspect::report::{Format, Options, write_message};
    let bytes = sale(&ISO87_ASCII);
    let msg = parse(&ISO87_ASCII, &bytes).unwrap();
    let opts = Options {
        format: Format::Ndjson,
        ..Options::default()
    };
    let mut out = Vec::with_capacity(8192);
    let n = allocations_during(|| write_message(&mut out, 7, &msg, None, &opts).unwrap());
    assert_eq!(n, 0, "the NDJSON line allocated {n} times");
    let line = String::from_utf8(out).unwrap();
    assert!(
        line.starts_with("{\"index\":7,\"mti\":\"0200\",\"fields\":{\"2\":\"622202*********0123\"")
    );
    assert!(line.ends_with("}\n"));
    assert!(line.contains(",\"subfields\":{\"43.1\":"), "{line}");
}

/// The in-line auditor on clean traffic (a sale, then its response, over and over with new
/// STANs and times), once the tables have grown to their steady size: no allocation for the
/// response, the sale's entry in the pairing table the only one for the request.
#[test]
fn auditing_clean_traffic_in_line_allocates_nothing_once_warm() {
    use iso8583_inspect::audit::Audit;
    use iso8583_inspect::capture::{Direction, Flow, Timestamp};
    use iso8583_inspect::inline::{Frame, Inline};
    use iso8583_inspect::mcc::FeeTable;
    use iso8583_inspect::profile::ProfileBook;
    let book = ProfileBook::from_toml_str(
        "[[merchant]]\nid = \"822440158120001\"\nname = \"Golden Dragon\"\nmcc = \"5812\"\nacquirer = \"822\"\nacquirer_ids = [\"48220000\"]\nterminals = [\"10000001\"]\ncurrency = \"156\"\nmax_amount = 5000000\n",
    )
    .unwrap();
    let fees = FeeTable::default();
    let mut auditor = Inline::new(Audit::new(&ISO87_ASCII, &book, &fees));
    let flow = Flow {
        client: "10.0.0.7:40001".parse().unwrap(),
        server: "10.0.0.1:8583".parse().unwrap(),
    };
    // Transactions 200 ms apart: the 60 s reversal window holds 300 answered sales.
    let pairs = common::sale_pairs(1000, "5812");
    let mut run = |from: usize, to: usize| {
        let mut requests = 0;
        let mut responses = 0;
        for i in from..to {
            let (request, response) = &pairs[i % pairs.len()];
            let ms = i as i64 * 200;
            let at = |d: i64| {
                Timestamp::new(
                    1_700_000_000 + (ms + d) / 1000,
                    ((ms + d) % 1000) as u32 * 1_000_000,
                )
            };
            requests += allocations_during(|| {
                let f = auditor.observe(Frame::new(flow, Direction::Request, at(0), request));
                assert!(f.is_empty(), "{f:?}");
            });
            responses += allocations_during(|| {
                let f = auditor.observe(Frame::new(flow, Direction::Response, at(40), response));
                assert!(f.is_empty(), "{f:?}");
            });
        }
        (requests, responses)
    };
    // Warm: the tables and queues grow to hold the window.
    run(0, 3000);
    let (requests, responses) = run(3000, 4000);
    assert_eq!(
        responses, 0,
        "1,000 clean responses allocated {responses} times"
    );
    assert_eq!(
        requests, 0,
        "1,000 clean requests allocated {requests} times"
    );
}
