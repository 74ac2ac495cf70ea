//! Parse and encode a typical 0200 (about 20 fields) in each built-in dialect, with a floor in
//! the same run: one pass reading every byte of the same buffer.
//!
//! `cargo bench --bench parse`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use iso8583_inspect::spec::{BUILTINS, Spec};
use iso8583_inspect::{MessageBuilder, Mti, parse};
use std::hint::black_box;

/// A typical acquirer-side sale: the fields each dialect defines out of these.
fn typical_0200(spec: &'static Spec) -> MessageBuilder<'static> {
    let values: [(usize, &str); 22] = [
        (2, "6222021234567890123"),
        (3, "000000"),
        (4, "000000012800"),
        (7, "1123093015"),
        (11, "000001"),
        (12, "093015"),
        (13, "1123"),
        (14, "2912"),
        (18, "5812"),
        (22, "051"),
        (25, "00"),
        (32, "48220000"),
        (33, "49000000"),
        (35, "6222021234567890123=2912101"),
        (37, "332700000001"),
        (41, "10000001"),
        (42, "822440158120001"),
        (43, "GOLDEN DRAGON RESTAURANT GUANGZHOU      "),
        (49, "156"),
        (52, "4F2A9C11D03B7E58"),
        (53, "2600000000000000"),
        (64, "1A2B3C4D5E6F7081"),
    ];
    let mut b = MessageBuilder::new(spec, Mti::FINANCIAL_REQUEST);
    for (n, v) in values {
        // A dialect that lays a field out otherwise (1993's field 12, 43) skips it.
        let _ = b.set_text(n, v);
    }
    b
}

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
