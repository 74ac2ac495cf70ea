//! Memory stays O(in-flight): ten million generated transactions (one in ten never answered)
//! on two legs, the terminal leg in the UnionPay POS dialect and the network leg in CUPS,
//! through a Pairer a leg and the HopMatcher (correlation, outcomes, channels), with a counting
//! allocator watching the peak.
//!
//! The full ten million run in release (`scripts/test` runs `cargo test --release --test
//! memory`); a debug build feeds half a million, under the same bound. The release run also
//! checks that the second five million need no more memory than the first: hash tables grow by
//! doubling when their occupancy reaches a new high, so the peak settles only after a few
//! million transactions (seen with two legs: 301 MiB at five and at ten million).

use iso8583_inspect::capture::{Flow, Timestamp};
use iso8583_inspect::diff::{DiffConfig, HopConfig, HopMatcher, Leg, Pairer, Seen};
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::spec::{CUP_POS, CUPS, Spec};
use iso8583_inspect::{MessageBuilder, Mti, parse};
use std::sync::atomic::Ordering;

#[path = "common/peak.rs"]
mod peak;
use peak::{CURRENT, PEAK, Peak};

#[global_allocator]
static GLOBAL: Peak = Peak;

/// The transactions fed: ten million in release, one million in a debug build.
const TRANSACTIONS: usize = if cfg!(debug_assertions) {
    500_000
} else {
    10_000_000
};
/// The bound on live heap bytes, whatever the count: at a thousand transactions a second each
/// leg's pairer holds about 60 s of answered requests (the reversal window) and 90 s of
/// unanswered ones, some 65,000 entries of a couple of hundred bytes; the hop matcher follows
/// 120 s of correlated transactions' outcomes (120,000 entries of about two hundred bytes); and a
/// hash table briefly holds its old and new buckets as it doubles. Seen: 301 MiB, the same at
/// five and at ten million (252 MiB before every held key kept its bytes, a few dozen a key,
/// to confirm matches on).
const BOUND: usize = 320 << 20;

/// Where field `n`'s data starts in `bytes` (parsed with `spec`).
fn data_at(spec: &Spec, bytes: &[u8], n: usize) -> usize {
    let msg = parse(spec, bytes).unwrap();
    msg.field(n).unwrap().data().as_ptr() as usize - bytes.as_ptr() as usize
}

/// Writes `value` as `digits` digits at `at`: ASCII, or packed BCD.
fn put(buf: &mut [u8], at: usize, value: usize, digits: usize, bcd: bool) {
    let text = format!("{:0digits$}", value % 10usize.pow(digits as u32));
    if bcd {
        for (i, pair) in text.as_bytes().chunks(2).enumerate() {
            buf[at + i] = ((pair[0] - b'0') << 4) | (pair[1] - b'0');
        }
    } else {
        buf[at..at + digits].copy_from_slice(text.as_bytes());
    }
}

/// A message's bytes, with where its STAN and amount lie.
struct Template {
    bytes: Vec<u8>,
    stan: usize,
    amount: usize,
    bcd: bool,
}

impl Template {
    fn new(spec: &'static Spec, b: &MessageBuilder<'static>) -> Template {
        let bytes = b.to_vec().unwrap();
        Template {
            stan: data_at(spec, &bytes, 11),
            amount: data_at(spec, &bytes, 4),
            bcd: spec.mti == iso8583_inspect::spec::MtiFormat::Bcd,
            bytes,
        }
    }

    /// The message of transaction `i`: its own STAN and amount.
    fn of(&mut self, i: usize) -> &[u8] {
        put(&mut self.bytes, self.stan, i, 6, self.bcd);
        put(
            &mut self.bytes,
            self.amount,
            100 + i % 1_000_000,
            12,
            self.bcd,
        );
        &self.bytes
    }
}

/// The terminal leg (UnionPay POS) and network leg (CUPS) messages of one sale and its answers.
fn templates() -> [Template; 4] {
    let mut t = MessageBuilder::new(&CUP_POS, Mti::FINANCIAL_REQUEST);
    t.set_header(&[0x60, 0, 6, 0, 0, 0x60, 0x31, 0, 0x31, 0x10, 0x03])
        .unwrap();
    for (n, v) in [
        (2, "6222021234567890123"),
        (3, "000000"),
        (4, "000000012800"),
        (11, "000000"),
        (25, "00"),
        (41, "10000001"),
        (42, "822440158120001"),
        (49, "156"),
        (60, "22000001000"),
    ] {
        t.set_text(n, v).unwrap();
    }
    let mut n = MessageBuilder::new(&CUPS, Mti::FINANCIAL_REQUEST);
    let mut header = [0u8; 46];
    header[0] = 46;
    n.set_header(&header).unwrap();
    for (f, v) in [
        (2, "6222021234567890123"),
        (3, "000000"),
        (4, "000000012800"),
        (7, "1123093015"),
        (11, "000000"),
        (18, "5812"),
        (32, "48220000"),
        (41, "10000001"),
        (42, "822440158120001"),
        (49, "156"),
    ] {
        n.set_text(f, v).unwrap();
    }
    let answer = |b: &MessageBuilder<'static>| {
        let mut r = b.clone();
        r.set_mti(Mti::FINANCIAL_RESPONSE)
            .set_text(39, "00")
            .unwrap();
        r
    };
    [
        Template::new(&CUP_POS, &t),
        Template::new(&CUP_POS, &answer(&t)),
        Template::new(&CUPS, &n),
        Template::new(&CUPS, &answer(&n)),
    ]
}

#[test]
fn ten_million_transactions_in_bounded_memory() {
    let [mut t_req, mut t_rsp, mut n_req, mut n_rsp] = templates();
    let book = ProfileBook::default();
    let fees = FeeTable::default();
    let config = DiffConfig {
        max_pending: 100_000,
        ..DiffConfig::default()
    };
    let mut terminal = Pairer::new(&CUP_POS, config);
    let mut network = Pairer::new(&CUPS, config);
    let mut hops = HopMatcher::new(
        &CUP_POS,
        &book,
        &fees,
        HopConfig {
            max_pending: 100_000,
            ..HopConfig::default()
        },
    );
    hops.set_spec(Leg::Network, &CUPS);
    let terminal_flow = Some(Flow {
        client: "192.168.1.21:40001".parse().unwrap(),
        server: "10.10.0.1:8583".parse().unwrap(),
    });
    let network_flow = Some(Flow {
        client: "10.10.0.1:39000".parse().unwrap(),
        server: "10.30.0.1:9000".parse().unwrap(),
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
        let answered = i % 10 != 0;
        if !answered {
            unanswered += 1;
        }
        // Terminal request, its forward, the network's answer, the terminal's answer.
        let steps: [(&mut Template, Leg, Option<Flow>, bool); 4] = [
            (&mut t_req, Leg::Terminal, terminal_flow, true),
            (&mut n_req, Leg::Network, network_flow, true),
            (&mut n_rsp, Leg::Network, network_flow, answered),
            (&mut t_rsp, Leg::Terminal, terminal_flow, answered),
        ];
        for (k, (template, leg, flow, sent)) in steps.into_iter().enumerate() {
            if !sent {
                continue;
            }
            let bytes = template.of(i);
            let spec = if leg == Leg::Terminal {
                &CUP_POS
            } else {
                &CUPS
            };
            let msg = parse(spec, bytes).unwrap();
            let seen = Seen {
                index: 4 * i + k,
                time,
                flow,
            };
            let pairer = if leg == Leg::Terminal {
                &mut terminal
            } else {
                &mut network
            };
            pairer.push(&msg, bytes, seen, &mut findings);
            hops.push(leg, &msg, bytes, seen, &mut findings);
        }
        reported += findings.len();
        findings.clear();
        assert!(terminal.pending() <= 100_000 && network.pending() <= 100_000);
        assert!(hops.pending() <= 200_000);
    }
    terminal.finish(&mut findings);
    network.finish(&mut findings);
    hops.finish(&mut findings);
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
    // Every unanswered request was reported on each leg (no-response, then the lifecycle's
    // end), and the network's unanswered approvals... are not approvals: nothing more.
    assert!(
        reported >= 2 * unanswered,
        "{reported} findings for {unanswered} unanswered transactions"
    );
    eprintln!(
        "{TRANSACTIONS} transactions on two legs, peak {} MiB ({} MiB at half way), {reported} findings",
        peak >> 20,
        peak_at_half >> 20
    );
}
