//! Pairs per second through the Pairer (request + response) and the HopMatcher (terminal +
//! network request), beside parsing the same messages in the same run.
//!
//! `cargo bench --bench diff`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use iso8583_inspect::capture::{Flow, Timestamp};
use iso8583_inspect::diff::{DiffConfig, HopConfig, HopMatcher, Leg, Pairer, Seen};
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::parse;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::spec::ISO87_ASCII;
use std::hint::black_box;

#[path = "../tests/common/mod.rs"]
mod common;

fn bench(c: &mut Criterion) {
    const N: usize = 10_000;
    let traffic = common::sale_pairs(N, "5812");
    let book = ProfileBook::from_toml_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/data/merchants.toml"
        ))
        .unwrap(),
    )
    .unwrap();
    let fees = FeeTable::default();
    let flow = Some(Flow {
        client: "192.168.1.21:40001".parse().unwrap(),
        server: "10.10.0.1:8583".parse().unwrap(),
    });
    let seen = |i: usize| Seen {
        index: i,
        time: Timestamp::new(1_795_397_400 + (i / 1000) as i64, 0),
        flow,
    };

    let mut group = c.benchmark_group("diff");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(20);
    group.bench_function("parse-only (baseline, both messages)", |b| {
        b.iter(|| {
            traffic
                .iter()
                .filter(|(q, r)| parse(&ISO87_ASCII, q).is_ok() && parse(&ISO87_ASCII, r).is_ok())
                .count()
        })
    });
    group.bench_function("pairer (parse + pair request and response)", |b| {
        b.iter(|| {
            let mut p = Pairer::new(&ISO87_ASCII, DiffConfig::default());
            let mut out = Vec::new();
            for (i, (q, r)) in traffic.iter().enumerate() {
                p.push(&parse(&ISO87_ASCII, q).unwrap(), q, seen(i), &mut out);
                p.push(&parse(&ISO87_ASCII, r).unwrap(), r, seen(i), &mut out);
            }
            black_box(out.len())
        })
    });
    group.bench_function(
        "hop matcher (parse + correlate terminal and network)",
        |b| {
            b.iter(|| {
                let mut h = HopMatcher::new(&ISO87_ASCII, &book, &fees, HopConfig::default());
                let mut out = Vec::new();
                for (i, (q, _)) in traffic.iter().enumerate() {
                    let m = parse(&ISO87_ASCII, q).unwrap();
                    h.push(Leg::Terminal, &m, q, seen(i), &mut out);
                    h.push(Leg::Network, &m, q, seen(i), &mut out);
                }
                black_box(out.len())
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
