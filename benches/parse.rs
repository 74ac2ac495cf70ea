//! Parse and encode a typical 0200 (about 20 fields) in each built-in dialect, with a floor in
//! the same run: one pass reading every byte of the same buffer.
//!
//! `cargo bench --bench parse`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use iso8583_inspect::parse;
use iso8583_inspect::spec::BUILTINS;
use std::hint::black_box;

#[path = "../tests/common/mod.rs"]
mod common;
use common::typical_0200;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for spec in BUILTINS {
        let builder = typical_0200(spec);
        let bytes = builder.to_vec().unwrap();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("floor-byte-scan", &spec.name),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    black_box(bytes)
                        .iter()
                        .fold(0u8, |acc, &x| acc.wrapping_add(x))
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("parse", &spec.name), &bytes, |b, bytes| {
            b.iter(|| parse(spec, black_box(bytes)).map(|m| m.mti()))
        });
        group.bench_with_input(
            BenchmarkId::new("encode", &spec.name),
            &builder,
            |b, builder| {
                let mut out = Vec::with_capacity(512);
                b.iter(|| {
                    out.clear();
                    black_box(builder).encode_into(&mut out).unwrap();
                    out.len()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
