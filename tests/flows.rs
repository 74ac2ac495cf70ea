//! Memory on endless input: 400,000 connections that each send half a frame and go silent,
//! spread over 33 minutes of capture time, audited with a counting allocator watching the
//! peak. Idle flows are let go (five minutes by default), so the peak follows the rate of new
//! connections, not the length of the capture (before flows were let go, the same capture held
//! 372 MB).
//!
//! The capture is generated as it is read (a `Read` that writes the next connection's packets
//! when asked), so the test holds no file. A debug build runs a tenth of the connections over a
//! tenth of the time with a tenth of the idle time.

use iso8583_inspect::audit::Audit;
use iso8583_inspect::capture::CaptureConfig;
use iso8583_inspect::capture::write::{tcp_flags, tcp_frame};
use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use iso8583_inspect::report::Input;
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti};
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::Ordering;

#[path = "common/peak.rs"]
mod peak;
use peak::{CURRENT, PEAK, Peak};

#[global_allocator]
static GLOBAL: Peak = Peak;

const SCALE: u32 = if cfg!(debug_assertions) { 10 } else { 1 };
const CONNECTIONS: u32 = 400_000 / SCALE;
/// 33 minutes, in microseconds.
const SPAN_US: u64 = 33 * 60 * 1_000_000 / SCALE as u64;
const BOUND: usize = 100 << 20;

/// A pcap file written as it is read: the header, then each connection's SYN, SYN-ACK and half
/// a frame, connections evenly spread over the span.
struct HalfOpen {
    half: Vec<u8>,
    next: u32,
    buf: Vec<u8>,
    at: usize,
}

impl HalfOpen {
    fn new() -> HalfOpen {
        let mut b = MessageBuilder::new(&ISO87_ASCII, Mti::FINANCIAL_REQUEST);
        b.set_text(11, "000001")
            .unwrap()
            .set_text(4, "000000001000")
            .unwrap();
        let msg = b.to_vec().unwrap();
        let mut frame = (msg.len() as u16).to_be_bytes().to_vec();
        frame.extend_from_slice(&msg);
        frame.truncate(frame.len() / 2);
        let mut buf = Vec::new();
        // The pcap header: magic, version 2.4, zone, accuracy, snap length, Ethernet.
        buf.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        buf.extend_from_slice(&2u16.to_le_bytes());
        buf.extend_from_slice(&4u16.to_le_bytes());
        buf.extend_from_slice(&[0; 8]);
        buf.extend_from_slice(&65_535u32.to_le_bytes());
        buf.extend_from_slice(&1u32.to_le_bytes());
        HalfOpen {
            half: frame,
            next: 0,
            buf,
            at: 0,
        }
    }

    fn record(&mut self, us: u64, frame: &[u8]) {
        let secs = 1_795_397_400 + us / 1_000_000;
        self.buf.extend_from_slice(&(secs as u32).to_le_bytes());
        self.buf
            .extend_from_slice(&((us % 1_000_000) as u32).to_le_bytes());
        self.buf
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.buf
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(frame);
    }
}

impl Read for HalfOpen {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.buf.len() {
            self.buf.clear();
            self.at = 0;
            if self.next == CONNECTIONS {
                return Ok(0);
            }
            let i = self.next;
            self.next += 1;
            let us = u64::from(i) * SPAN_US / u64::from(CONNECTIONS);
            let ip = Ipv4Addr::from(0x0A00_0000 + (i / 50_000));
            let client = SocketAddr::V4(SocketAddrV4::new(ip, 10_000 + (i % 50_000) as u16));
            let server: SocketAddr = "192.168.0.1:8583".parse().unwrap();
            self.record(us, &tcp_frame(client, server, 1000, 0, tcp_flags::SYN, &[]));
            let syn_ack = tcp_flags::SYN | tcp_flags::ACK;
            self.record(us, &tcp_frame(server, client, 5000, 1001, syn_ack, &[]));
            let half = self.half.clone();
            let psh = tcp_flags::PSH | tcp_flags::ACK;
            self.record(
                us + 1000,
                &tcp_frame(client, server, 1001, 5001, psh, &half),
            );
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn four_hundred_thousand_silent_connections_in_bounded_memory() {
    let book = ProfileBook::from_toml_str("").unwrap();
    let fees = FeeTable::default();
    let config = CaptureConfig {
        server_ports: vec![8583],
        flow_idle_ms: 300_000 / u64::from(SCALE),
        ..CaptureConfig::default()
    };
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let mut audit = Audit::new(&ISO87_ASCII, &book, &fees);
    let reader = std::io::BufReader::new(HalfOpen::new());
    audit.run(Input::Capture(reader, config)).unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let dropped = audit.events().get("flow-dropped").copied().unwrap_or(0);
    eprintln!(
        "{CONNECTIONS} half-open connections: peak {} MiB, {dropped} let go idle, {} incomplete",
        peak >> 20,
        audit.events().get("incomplete").copied().unwrap_or(0)
    );
    assert_eq!(audit.messages(), 0);
    // Most went idle and were let go while the capture ran (each within an eighth of the idle
    // time of its due time); the rest ended with it.
    assert!(dropped > CONNECTIONS as usize * 8 / 10, "{dropped} let go");
    assert_eq!(
        audit.events().get("incomplete").copied(),
        Some(CONNECTIONS as usize),
        "each reported once as an unfinished frame"
    );
    assert!(peak < BOUND, "peak {} MiB", peak >> 20);
}
