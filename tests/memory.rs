//! Memory stays O(in-flight): ten million generated transactions (one in ten never answered)
//! through the Pairer and the HopMatcher, with a counting allocator watching the peak.
//!
//! The full ten million run in release (`scripts/test` runs `cargo test --release --test
//! memory`); a debug build feeds half a million, under the same bound. The release run also
//! checks that the second five million need no more memory than the first: hash tables grow by
//! doubling when their occupancy reaches a new high, so the peak settles only after a few
//! million transactions (seen: 108 MiB after ten million).

use iso8583_inspect::capture::{Flow, Timestamp};
use iso8583_inspect::diff::{DiffConfig, HopConfig, HopMatcher, Leg, Pairer, Seen};
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti, parse};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Peak;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

/// The transactions fed: ten million in release, one million in a debug build.
const TRANSACTIONS: usize = if cfg!(debug_assertions) {
    500_000
} else {
    10_000_000
};
/// The bound on live heap bytes, whatever the count: at a thousand transactions a second the
/// tables hold about 60 s of answered requests (the reversal window) and 90 s of unanswered
/// ones, some 130,000 entries of a few hundred bytes, and a hash table briefly doubles as it
/// grows.
const BOUND: usize = 160 << 20;

/// Writes `n` as six ASCII digits at `at`.
fn put_stan(buf: &mut [u8], at: usize, n: usize) {
    let digits = format!("{:06}", n % 1_000_000);
    buf[at..at + 6].copy_from_slice(digits.as_bytes());
}

#[test]
fn ten_million_transactions_in_bounded_memory() {
    let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_REQUEST);
    for (n, v) in [
        (2, "6222021234567890123"),
        (4, "000000012800"),
        (11, "000000"),
        (12, "093015"),
        (13, "1123"),
        (41, "10000001"),
        (42, "822440158120001"),
        (49, "156"),
    ] {
        b.set_text(n, v).unwrap();
    }
    let mut request = b.to_vec().unwrap();
    b.set_mti(Mti::FINANCIAL_RESPONSE)
        .set_text(39, "00")
        .unwrap();
    let mut response = b.to_vec().unwrap();
    let stan_at = |bytes: &[u8]| {
        bytes
            .windows(12)
            .position(|w| w == b"000000093015")
            .unwrap()
    };
    let (rq, rs) = (stan_at(&request), stan_at(&response));

    let book = ProfileBook::default();
    let fees = FeeTable::default();
    let config = DiffConfig {
        max_pending: 100_000,
        ..DiffConfig::default()
    };
    let mut pairer = Pairer::new(&ISO87_ASCII, config);
    let mut hops = HopMatcher::new(
        &ISO87_ASCII,
        &book,
        &fees,
        HopConfig {
            max_pending: 100_000,
            ..HopConfig::default()
        },
    );
    let flow = Some(Flow {
        client: "192.168.1.21:40001".parse().unwrap(),
        server: "10.10.0.1:8583".parse().unwrap(),
    });
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut findings = Vec::new();
    let (mut unanswered, mut reported) = (0usize, 0usize);
    let mut peak_at_half = 0;
    for i in 0..TRANSACTIONS {
        if i == TRANSACTIONS / 2 {
            peak_at_half = PEAK.load(Ordering::Relaxed) - base;
        }
        // A thousand transactions a second of capture time; STANs wrap at a million.
        let time = Timestamp::new(
            1_795_397_400 + (i / 1000) as i64,
            ((i % 1000) * 1_000_000) as u32,
        );
        put_stan(&mut request, rq, i);
        let msg = parse(&ISO87_ASCII, &request).unwrap();
        let seen = Seen {
            index: 2 * i,
            time,
            flow,
        };
        pairer.push(&msg, &request, seen, &mut findings);
        hops.push(Leg::Terminal, &msg, &request, seen, &mut findings);
        if i % 10 == 0 {
            unanswered += 1;
        } else {
            put_stan(&mut response, rs, i);
            let msg = parse(&ISO87_ASCII, &response).unwrap();
            pairer.push(
                &msg,
                &response,
                Seen {
                    index: 2 * i + 1,
                    time,
                    flow,
                },
                &mut findings,
            );
        }
        reported += findings.len();
        findings.clear();
        assert!(pairer.pending() <= 100_000 && hops.pending() <= 100_000);
    }
    pairer.finish(&mut findings);
    reported += findings.len();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    assert!(
        peak < BOUND,
        "peak {} MiB over {TRANSACTIONS} transactions",
        peak >> 20
    );
    // O(in-flight), not O(input): the second half of the run needs no more than the first.
    assert!(
        TRANSACTIONS < 2_000_000 || peak <= peak_at_half + peak_at_half / 10 + (1 << 20),
        "peak {} MiB, {} MiB at half way",
        peak >> 20,
        peak_at_half >> 20
    );
    // Every unanswered request was reported: no-response, then (unreversed) the lifecycle's end.
    assert!(
        reported >= unanswered,
        "{reported} findings for {unanswered} unanswered requests"
    );
    eprintln!(
        "{TRANSACTIONS} transactions, peak {} MiB, {reported} findings",
        peak >> 20
    );
}
