//! Bytes per second through pcap -> TCP reassembly -> framing -> parse, on a generated capture
//! of about 100 MB, beside the baseline measured in the same run: merely iterating the pcap
//! records of the same file with pcap-parser.
//!
//! A second group does the same for a capture of about 4 MB of random bytes on connections seen
//! mid-stream (no SYN, so every byte is searched for a frame boundary that never comes), beside
//! iterating its records: what a flow that is not ISO 8583 (TLS on the port, say) costs.
//!
//! `cargo bench --bench capture`

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use iso8583_inspect::capture::write::{PcapWriter, tcp_flags, tcp_frame};
use iso8583_inspect::capture::{CaptureConfig, CaptureEvent, CaptureReader, Timestamp};
use iso8583_inspect::frame::{Framing, write_frame};
use iso8583_inspect::parse;
use iso8583_inspect::spec::ISO87_ASCII;
use pcap_parser::{PcapError, create_reader};
use std::hint::black_box;
use std::net::SocketAddr;

#[path = "../tests/common/mod.rs"]
mod common;

/// About 100 MB: 64 connections taking turns, one framed 0200 or 0210 a segment, every tenth
/// message split over two segments.
fn capture() -> Vec<u8> {
    let server: SocketAddr = "10.10.0.1:8583".parse().unwrap();
    let request = common::typical_0200(&ISO87_ASCII).to_vec().unwrap();
    let mut response_builder = common::typical_0200(&ISO87_ASCII);
    response_builder
        .set_mti(iso8583_inspect::Mti::FINANCIAL_RESPONSE)
        .set_text(39, "00")
        .unwrap();
    let response = response_builder.to_vec().unwrap();
    let mut w = PcapWriter::new(Vec::with_capacity(110 << 20)).unwrap();
    let clients: Vec<SocketAddr> = (0..64)
        .map(|i| {
            format!("192.168.{}.{}:{}", i / 200, 10 + i % 200, 40_000 + i)
                .parse()
                .unwrap()
        })
        .collect();
    let mut seqs = vec![[1001u32, 7001u32]; clients.len()];
    let mut t = 0i64;
    for c in &clients {
        w.write(
            Timestamp::new(t, 0),
            &tcp_frame(*c, server, 1000, 0, tcp_flags::SYN, b""),
        )
        .unwrap();
        w.write(
            Timestamp::new(t, 0),
            &tcp_frame(server, *c, 7000, 1001, tcp_flags::SYN | tcp_flags::ACK, b""),
        )
        .unwrap();
    }
    let mut n = 0usize;
    while w_len(&w) < 100 << 20 {
        let i = n % clients.len();
        let from_client = (n / clients.len()) % 2 == 0;
        let mut payload = BytesMut::new();
        write_frame(
            Framing::Len2,
            if from_client { &request } else { &response },
            &mut payload,
        )
        .unwrap();
        let (k, s, d) = if from_client {
            (0, clients[i], server)
        } else {
            (1, server, clients[i])
        };
        let parts: Vec<&[u8]> = if n % 10 == 0 {
            vec![&payload[..30], &payload[30..]]
        } else {
            vec![&payload[..]]
        };
        for part in parts {
            t += 1;
            let frame = tcp_frame(
                s,
                d,
                seqs[i][k],
                seqs[i][1 - k],
                tcp_flags::PSH | tcp_flags::ACK,
                part,
            );
            w.write(
                Timestamp::new(1_795_397_400 + t / 1000, (t % 1000) as u32 * 1_000_000),
                &frame,
            )
            .unwrap();
            seqs[i][k] = seqs[i][k].wrapping_add(part.len() as u32);
        }
        n += 1;
    }
    w.into_inner()
}

/// About 4 MB of random bytes, 1,460 a segment, on 8 connections seen without their SYN.
fn junk_capture() -> Vec<u8> {
    let server: SocketAddr = "10.10.0.1:8583".parse().unwrap();
    let mut w = PcapWriter::new(Vec::with_capacity(5 << 20)).unwrap();
    let mut seed = 0x9E37_79B9u32;
    let mut seqs = [5000u32; 8];
    let mut n = 0usize;
    while w_len(&w) < 4 << 20 {
        let i = n % seqs.len();
        let client: SocketAddr = format!("192.168.7.{}:{}", 10 + i, 41_000 + i)
            .parse()
            .unwrap();
        let payload: Vec<u8> = (0..1460)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 24) as u8
            })
            .collect();
        let frame = tcp_frame(
            client,
            server,
            seqs[i],
            1,
            tcp_flags::PSH | tcp_flags::ACK,
            &payload,
        );
        w.write(Timestamp::new(1_795_397_400 + n as i64 / 1000, 0), &frame)
            .unwrap();
        seqs[i] = seqs[i].wrapping_add(payload.len() as u32);
        n += 1;
    }
    w.into_inner()
}

fn iterate_records(pcap: &[u8]) -> usize {
    let mut reader = create_reader(65_536, pcap).unwrap();
    let mut records = 0usize;
    loop {
        match reader.next() {
            Ok((len, _)) => {
                records += 1;
                reader.consume(len);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().unwrap(),
            Err(e) => panic!("{e:?}"),
        }
    }
    records
}

fn w_len(w: &PcapWriter<Vec<u8>>) -> usize {
    w.get_ref().len()
}

fn bench(c: &mut Criterion) {
    let pcap = capture();
    let mut group = c.benchmark_group("capture");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(pcap.len() as u64));
    group.bench_function("baseline-iterate-records", |b| {
        b.iter(|| black_box(iterate_records(&pcap)))
    });
    group.bench_function("pcap-reassemble-frame-parse", |b| {
        b.iter(|| {
            let config = CaptureConfig {
                framing: Some(Framing::Len2),
                ..CaptureConfig::default()
            };
            let mut parsed = 0usize;
            for event in CaptureReader::new(&pcap[..], &ISO87_ASCII, config).unwrap() {
                if let CaptureEvent::Message(m) = event {
                    parsed += usize::from(parse(&ISO87_ASCII, &m.bytes).is_ok());
                }
            }
            black_box(parsed)
        })
    });
    group.finish();

    let junk = junk_capture();
    let mut group = c.benchmark_group("capture-junk");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(junk.len() as u64));
    group.bench_function("baseline-iterate-records", |b| {
        b.iter(|| black_box(iterate_records(&junk)))
    });
    group.bench_function("pcap-reassemble-search-boundary", |b| {
        b.iter(|| {
            let mut events = 0usize;
            for event in
                CaptureReader::new(&junk[..], &ISO87_ASCII, CaptureConfig::default()).unwrap()
            {
                assert!(!matches!(event, CaptureEvent::Message(_)));
                events += 1;
            }
            black_box(events)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
