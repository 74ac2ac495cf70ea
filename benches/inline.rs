//! The in-line auditor's cost a message (`inline::Inline::observe`): a sale and its response,
//! on clean traffic and on traffic where every sale is cleared under the wrong MCC (two
//! findings a sale), beside parsing the same messages in the same run.
//!
//! `cargo bench --bench inline`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::{Direction, Flow, Timestamp};
use iso8583_inspect::inline::{Frame, Inline};
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::parse;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::spec::ISO87_ASCII;
use std::hint::black_box;

#[path = "../tests/common/mod.rs"]
mod common;

fn bench(c: &mut Criterion) {
    const N: usize = 10_000;
    let clean = common::sale_pairs(N, "5812");
    let jumped = common::sale_pairs(N, "5411");
    let book = ProfileBook::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/merchants.toml"
    ))
    .unwrap();
    let fees = FeeTable::default();
    let flow = Flow {
        client: "192.168.1.21:40001".parse().unwrap(),
        server: "10.10.0.1:8583".parse().unwrap(),
    };

    let mut group = c.benchmark_group("inline");
    // Elements: messages (a sale and its response are two).
    group.throughput(Throughput::Elements(2 * N as u64));
    group.sample_size(20);
    group.bench_function("parse-only (baseline, both messages)", |b| {
        b.iter(|| {
            clean
                .iter()
                .filter(|(q, r)| parse(&ISO87_ASCII, q).is_ok() && parse(&ISO87_ASCII, r).is_ok())
                .count()
        })
    });
    for (name, traffic, per_sale) in [("clean", &clean, 0), ("mcc-jumped", &jumped, 2)] {
        let mut auditor = Inline::new(Audit::new(&ISO87_ASCII, &book, &fees));
        // Each pass 200 s after the last in the auditor's clock: the previous pass's entries
        // have left every window, so a pass is steady traffic, not a replay of the last.
        let mut pass = 0i64;
        group.bench_function(format!("observe ({name})"), |b| {
            b.iter(|| {
                pass += 1;
                let mut found = 0;
                for (i, (q, r)) in traffic.iter().enumerate() {
                    let ms = pass * 200_000 + i as i64 * 10;
                    let at = |d: i64| {
                        let t = ms + d;
                        Timestamp::new(1_795_397_400 + t / 1000, (t % 1000) as u32 * 1_000_000)
                    };
                    let sale = Frame::new(flow, Direction::Request, at(0), q);
                    found += auditor.observe(sale).len();
                    let response = Frame::new(flow, Direction::Response, at(5), r);
                    found += auditor.observe(response).len();
                }
                assert_eq!(found, per_sale * traffic.len());
                black_box(found)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
