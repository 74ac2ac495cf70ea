//! Validation throughput: a clean typical 0200 and one with an MCC finding, against the bundled
//! profile book, beside parsing the same message in the same run.
//!
//! `cargo bench --bench validate`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::parse;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::validate::{Validator, Where};
use std::hint::black_box;

#[path = "../tests/common/mod.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let book = ProfileBook::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/merchants.toml"
    ))
    .unwrap();
    let fees = FeeTable::default();
    let validator = Validator::new(&book, &fees);
    let mut b = common::typical_0200(&ISO87_ASCII);
    b.set_text(32, "48220000").unwrap();
    let clean = b.to_vec().unwrap();
    b.set_text(18, "5411").unwrap();
    let jumped = b.to_vec().unwrap();

    let mut group = c.benchmark_group("validate");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse-only (baseline)", |bch| {
        bch.iter(|| parse(&ISO87_ASCII, black_box(&clean)).map(|m| m.mti()))
    });
    let msg = parse(&ISO87_ASCII, &clean).unwrap();
    let mut findings = Vec::with_capacity(8);
    group.bench_function("validate-clean", |bch| {
        bch.iter(|| {
            findings.clear();
            validator.validate(black_box(&msg), &Where::index(0), &mut findings);
            findings.len()
        })
    });
    let msg = parse(&ISO87_ASCII, &jumped).unwrap();
    group.bench_function("validate-with-mcc-finding", |bch| {
        bch.iter(|| {
            findings.clear();
            validator.validate(black_box(&msg), &Where::index(0), &mut findings);
            findings.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
