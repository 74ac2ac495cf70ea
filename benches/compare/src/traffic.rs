//! Generated acquirer traffic for the pipeline figures: terminals of the bundled profile book's
//! merchants on their TCP connections to an acquirer (port 8583), each sale answered 40 ms
//! later, `rate` sales a second of capture time, one sale in a thousand never answered. Every
//! sale carries what its merchant registered (MCC, acquirer, currency, name) and an amount of
//! its own: a clean day, so that the audit's cost is that of checking, not of reporting.

use iso8583_inspect::capture::Timestamp;
use iso8583_inspect::capture::write::{PcapWriter, tcp_flags, tcp_frame};
use iso8583_inspect::frame::{Framing, write_frame};
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti, parse};
use std::io::{self, Write};
use std::net::SocketAddr;

/// The bundled profile book, beside which the traffic is clean.
pub const PROFILES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/data/merchants.toml"
);

/// Terminal, merchant, MCC, acquirer institution and name/location (field 43) of each
/// terminal in the profile book.
const TERMINALS: [(&str, &str, &str, &str, &str); 4] = [
    (
        "10000001",
        "822440158120001",
        "5812",
        "48220000",
        "GOLDEN DRAGON RESTAURANT GUANGZHOU",
    ),
    (
        "10000002",
        "822440158120001",
        "5812",
        "48220000",
        "GOLDEN DRAGON RESTAURANT GUANGZHOU",
    ),
    (
        "20000001",
        "898310054110007",
        "5411",
        "48980000",
        "XINHUA SUPERMARKET SHANGHAI",
    ),
    (
        "30000001",
        "836110070110003",
        "7011",
        "48360000",
        "BEIJING GARDEN HOTEL BEIJING",
    ),
];

/// A message image and where its amount (field 4), STAN (field 11) and RRN (field 37) digits
/// sit, to be rewritten for each sale (the same card and amount again within a minute would be
/// a replay).
struct Template {
    bytes: Vec<u8>,
    amount: usize,
    stan: usize,
    rrn: usize,
}

impl Template {
    fn new(b: &MessageBuilder<'_>) -> Template {
        let bytes = b.to_vec().expect("template encodes");
        let msg = parse(&ISO87_ASCII, &bytes).expect("template parses");
        let at = |n: usize| {
            let data = msg.field(n).expect("field present").data();
            data.as_ptr() as usize - bytes.as_ptr() as usize
        };
        let (amount, stan, rrn) = (at(4), at(11), at(37));
        Template {
            bytes,
            amount,
            stan,
            rrn,
        }
    }

    fn stamp(&mut self, seq: u64) -> &[u8] {
        put_digits(
            &mut self.bytes[self.amount..self.amount + 12],
            10_000 + seq % 1_000_000,
        );
        put_digits(&mut self.bytes[self.stan..self.stan + 6], seq % 1_000_000);
        put_digits(&mut self.bytes[self.rrn..self.rrn + 12], seq);
        &self.bytes
    }
}

fn put_digits(out: &mut [u8], mut v: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

fn templates(terminal: usize) -> (Template, Template) {
    let (tid, mid, mcc, acq, name) = TERMINALS[terminal % TERMINALS.len()];
    let name = format!("{name:<40}");
    let mut req = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_REQUEST);
    for (n, v) in crate::SALE_0200 {
        req.set_text(n, v).expect("fits");
    }
    for (n, v) in [(41, tid), (42, mid), (18, mcc), (32, acq), (43, &name)] {
        req.set_text(n, v).expect("fits");
    }
    let mut rsp = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_RESPONSE);
    for (n, v) in crate::SALE_0200 {
        if ![14, 22, 23, 35].contains(&n) {
            rsp.set_text(n, v).expect("fits");
        }
    }
    for (n, v) in [
        (41, tid),
        (42, mid),
        (18, mcc),
        (32, acq),
        (43, &name),
        (38, "A1B2C3"),
        (39, "00"),
    ] {
        rsp.set_text(n, v).expect("fits");
    }
    (Template::new(&req), Template::new(&rsp))
}

/// Writes a capture of `sales` sales (about twice as many messages) over `connections` TCP
/// connections, keeping those with `index % shards == shard` (all when `shards` is 1); returns
/// the number of messages written.
pub fn write_capture<W: Write>(
    out: W,
    sales: u64,
    connections: usize,
    rate: u64,
    shard: usize,
    shards: usize,
) -> io::Result<(W, u64)> {
    let server: SocketAddr = "10.10.0.1:8583".parse().expect("address");
    let mut w = PcapWriter::new(out)?;
    let start = 1_795_397_400i64; // 2026-11-23T01:30:00Z
    let at = |ns: u64| {
        Timestamp::new(
            start + (ns / 1_000_000_000) as i64,
            (ns % 1_000_000_000) as u32,
        )
    };
    let mine: Vec<usize> = (0..connections).filter(|i| i % shards == shard).collect();
    let clients: Vec<SocketAddr> = (0..connections)
        .map(|i| {
            format!("192.168.{}.{}:{}", i / 200, 10 + i % 200, 40_000 + i)
                .parse()
                .expect("address")
        })
        .collect();
    let mut state: Vec<(Template, Template, u32, u32)> = (0..connections)
        .map(|i| {
            let (q, r) = templates(i);
            (q, r, 1001, 7001)
        })
        .collect();
    for &i in &mine {
        w.write(
            at(0),
            &tcp_frame(clients[i], server, 1000, 0, tcp_flags::SYN, b""),
        )?;
        w.write(
            at(0),
            &tcp_frame(
                server,
                clients[i],
                7000,
                1001,
                tcp_flags::SYN | tcp_flags::ACK,
                b"",
            ),
        )?;
    }
    let gap = 1_000_000_000 / rate.max(1);
    let mut payload = Vec::with_capacity(512);
    let mut messages = 0;
    // Each connection has one sale in flight: request at t, response at t + 40 ms, written in
    // time order by interleaving the response of sale k with the request of sale k + lag.
    let lag = (40_000_000 / gap).max(1);
    let psh = tcp_flags::PSH | tcp_flags::ACK;
    for k in 0..sales + lag {
        for (sale, response) in [(k, false), (k.wrapping_sub(lag), true)] {
            if sale >= sales || (response && k < lag) {
                continue;
            }
            let i = (sale % connections as u64) as usize;
            if i % shards != shard || (response && sale % 1000 == 999) {
                continue;
            }
            let t = sale * gap + if response { 40_000_000 } else { 0 };
            let (q, r, cseq, sseq) = &mut state[i];
            payload.clear();
            let msg = if response {
                r.stamp(sale + 1)
            } else {
                q.stamp(sale + 1)
            };
            write_frame(Framing::Len2, msg, &mut payload).expect("frame fits");
            let (src, dst, seq, ack) = if response {
                (server, clients[i], *sseq, *cseq)
            } else {
                (clients[i], server, *cseq, *sseq)
            };
            w.write(at(t), &tcp_frame(src, dst, seq, ack, psh, &payload))?;
            let len = payload.len() as u32;
            if response {
                *sseq = sseq.wrapping_add(len);
            } else {
                *cseq = cseq.wrapping_add(len);
            }
            messages += 1;
        }
    }
    Ok((w.into_inner(), messages))
}
