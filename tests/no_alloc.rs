//! Parsing allocates nothing: a counting global allocator watches `parse` and the typed
//! accessors on every built-in dialect. (This file is its own test binary, so the allocator
//! counts only this test's own thread-local work.)

use iso8583_inspect::spec::{BUILTINS, ISO87_ASCII, Spec};
use iso8583_inspect::{MessageBuilder, Mti, parse};
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

/// A typical sale in `spec`, with the fields the dialect has.
fn sale(spec: &'static Spec) -> Vec<u8> {
    let mut b = MessageBuilder::new(spec, Mti::FINANCIAL_REQUEST);
    let values: [(usize, &str); 16] = [
        (2, "6222021234567890123"),
        (3, "000000"),
        (4, "000000012800"),
        (7, "1123093015"),
        (11, "000001"),
        (12, "093015"),
        (13, "1123"),
        (18, "5812"),
        (22, "051"),
        (32, "48220000"),
        (35, "6222021234567890123=2912101"),
        (37, "332700000001"),
        (41, "10000001"),
        (42, "822440158120001"),
        (49, "156"),
        (52, "4F2A9C11D03B7E58"),
    ];
    for (n, v) in values {
        if spec.field(n).is_some_and(|f| f.length.max() >= v.len()) {
            // Skip what a dialect lays out otherwise (e.g. 1993's 12-digit field 12).
            let _ = b.set_text(n, v);
        }
    }
    b.to_vec().unwrap()
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
