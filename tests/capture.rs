//! Captures written by real code (the crate's pcap and pcapng writers) and read back: split,
//! packed, retransmitted, out-of-order, gapped and damaged traffic.

use bytes::BytesMut;
use iso8583_inspect::capture::write::{PcapNgWriter, PcapWriter, tcp_flags, tcp_frame};
use iso8583_inspect::capture::{CaptureConfig, CaptureEvent, CaptureReader, Direction, Timestamp};
use iso8583_inspect::frame::{Framing, write_frame};
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti, parse};
use std::net::SocketAddr;

mod common;
use common::cups_echo;

const ACK: u8 = tcp_flags::ACK;
const PSH_ACK: u8 = tcp_flags::PSH | tcp_flags::ACK;

fn echo(stan: u32, response: bool) -> Vec<u8> {
    let mti = if response {
        Mti::NETWORK_RESPONSE
    } else {
        Mti::NETWORK_REQUEST
    };
    let mut b = MessageBuilder::new(&ISO87_ASCII, mti);
    b.set_text(11, &format!("{stan:06}"))
        .unwrap()
        .set_text(70, "301")
        .unwrap();
    if response {
        b.set_text(39, "00").unwrap();
    }
    b.to_vec().unwrap()
}

fn framed(msgs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = BytesMut::new();
    for m in msgs {
        write_frame(Framing::Len2, m, &mut out).unwrap();
    }
    out.to_vec()
}

/// One TCP connection's packets: (from client?, seq offset, flags, payload).
struct Conn {
    client: SocketAddr,
    server: SocketAddr,
    packets: Vec<(Timestamp, Vec<u8>)>,
    t: i64,
}

impl Conn {
    fn new(client: &str, server: &str) -> Conn {
        let mut c = Conn {
            client: client.parse().unwrap(),
            server: server.parse().unwrap(),
            packets: Vec::new(),
            t: 1_795_000_000,
        };
        c.raw(true, 1000, tcp_flags::SYN, b"");
        c.raw(false, 5000, tcp_flags::SYN | ACK, b"");
        c
    }

    /// A segment at absolute sequence number `seq`.
    fn raw(&mut self, from_client: bool, seq: u32, flags: u8, payload: &[u8]) {
        let (s, d) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        self.t += 1;
        self.packets.push((
            Timestamp::new(self.t, 250_000),
            tcp_frame(s, d, seq, 1, flags, payload),
        ));
    }

    /// Stream bytes at offset `off` of the client (request) or server stream.
    fn data(&mut self, from_client: bool, off: u32, payload: &[u8]) {
        let base = if from_client { 1001 } else { 5001 };
        self.raw(from_client, base + off, PSH_ACK, payload);
    }

    fn pcap(&self) -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        for (t, f) in &self.packets {
            w.write(*t, f).unwrap();
        }
        w.into_inner()
    }
}

fn read(capture: &[u8], config: CaptureConfig) -> Vec<CaptureEvent> {
    CaptureReader::new(capture, &ISO87_ASCII, config)
        .unwrap()
        .collect()
}

fn messages(events: &[CaptureEvent]) -> Vec<(Direction, Vec<u8>)> {
    events
        .iter()
        .filter_map(|e| match e {
            CaptureEvent::Message(m) => Some((m.direction, m.bytes.to_vec())),
            _ => None,
        })
        .collect()
}

fn len2() -> CaptureConfig {
    CaptureConfig {
        framing: Some(Framing::Len2),
        ..CaptureConfig::default()
    }
}

#[test]
fn split_and_packed_messages() {
    let (a, b, c) = (echo(1, false), echo(2, false), echo(3, false));
    let stream = framed(&[a.clone(), b.clone(), c.clone()]);
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
    // a split over three segments, b and c packed in one.
    let cut1 = 5;
    let cut2 = a.len() - 3;
    let end_a = a.len() + 2;
    conn.data(true, 0, &stream[..cut1]);
    conn.data(true, cut1 as u32, &stream[cut1..cut2]);
    conn.data(true, cut2 as u32, &stream[cut2..end_a]);
    conn.data(true, end_a as u32, &stream[end_a..]);
    let reply = framed(&[echo(1, true)]);
    conn.data(false, 0, &reply);
    let events = read(&conn.pcap(), CaptureConfig::default());
    let got = messages(&events);
    assert_eq!(
        got,
        [
            (Direction::Request, a),
            (Direction::Request, b),
            (Direction::Request, c),
            (Direction::Response, echo(1, true))
        ]
    );
    assert!(
        events.iter().any(|e| matches!(
            e,
            CaptureEvent::Framing {
                framing: Framing::Len2,
                ..
            }
        )),
        "{events:?}"
    );
    let first = events
        .iter()
        .find_map(|e| {
            if let CaptureEvent::Message(m) = e {
                Some(m)
            } else {
                None
            }
        })
        .unwrap();
    assert_eq!(first.src().to_string(), "10.0.0.1:40000");
    assert_eq!(first.dst().to_string(), "10.0.0.2:8583");
    assert_eq!(first.time.to_string(), "2026-11-18T11:06:45.000250Z");
}

#[test]
fn retransmissions_are_dropped_once() {
    let (a, b) = (echo(1, false), echo(2, false));
    let stream = framed(&[a.clone(), b.clone()]);
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
    let half = stream.len() / 2;
    conn.data(true, 0, &stream[..half]);
    conn.data(true, 0, &stream[..half]); // the same segment again
    conn.data(true, 3, &stream[3..half + 4]); // an overlapping retransmission
    conn.data(true, half as u32, &stream[half..]);
    conn.data(true, half as u32, &stream[half..]);
    let events = read(&conn.pcap(), len2());
    assert_eq!(
        messages(&events),
        [(Direction::Request, a), (Direction::Request, b)]
    );
    assert!(
        !events.iter().any(|e| matches!(
            e,
            CaptureEvent::Gap { .. } | CaptureEvent::Incomplete { .. }
        )),
        "{events:?}"
    );
}

#[test]
fn a_retransmission_after_both_fins_is_not_a_new_message() {
    let a = echo(1, false);
    let stream = framed(std::slice::from_ref(&a));
    let reply = framed(&[echo(1, true)]);
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
    conn.data(true, 0, &stream);
    conn.data(false, 0, &reply);
    conn.raw(true, 1001 + stream.len() as u32, tcp_flags::FIN | ACK, b"");
    conn.raw(false, 5001 + reply.len() as u32, tcp_flags::FIN | ACK, b"");
    // Both directions' data again, after the close (a late retransmission), without and with
    // server ports to say which side is which.
    conn.data(true, 0, &stream);
    conn.data(false, 0, &reply);
    for config in [
        len2(),
        CaptureConfig {
            server_ports: vec![8583],
            ..len2()
        },
    ] {
        let events = read(&conn.pcap(), config);
        assert_eq!(
            messages(&events),
            [
                (Direction::Request, a.clone()),
                (Direction::Response, echo(1, true))
            ],
            "{events:?}"
        );
    }
    // A new connection on the same address pair is read.
    let mut again = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
    again.packets = [conn.packets.clone(), again.packets].concat();
    again.data(true, 0, &stream);
    let events = read(&again.pcap(), len2());
    assert_eq!(messages(&events).len(), 3, "{events:?}");
}

#[test]
fn a_file_that_is_not_a_capture_says_what_it_found() {
    let err = CaptureReader::new(
        &b"0200303800000"[..],
        &ISO87_ASCII,
        CaptureConfig::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("not a pcap or pcapng file: it starts with 30 32 30 30"),
        "{err}"
    );
    let err = CaptureReader::new(&b"0"[..], &ISO87_ASCII, CaptureConfig::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("30 (only 1 bytes)"), "{err}");
    let empty = CaptureReader::new(&b""[..], &ISO87_ASCII, CaptureConfig::default());
    assert!(matches!(
        empty,
        Err(iso8583_inspect::capture::CaptureError::Empty)
    ));
    // A pcap magic with a truncated header.
    let err = CaptureReader::new(
        &[0xd4, 0xc3, 0xb2, 0xa1, 2][..],
        &ISO87_ASCII,
        CaptureConfig::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("ends inside its header"), "{err}");
}

#[test]
fn out_of_order_segments_wait_for_the_hole() {
    let msgs: Vec<Vec<u8>> = (1..=3).map(|i| echo(i, false)).collect();
    let stream = framed(&msgs);
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
    let (x, y) = (10, 40);
    conn.data(true, y as u32, &stream[y..]);
    conn.data(true, x as u32, &stream[x..y]);
    conn.data(true, 0, &stream[..x]);
    let events = read(&conn.pcap(), len2());
    let want: Vec<(Direction, Vec<u8>)> =
        msgs.into_iter().map(|m| (Direction::Request, m)).collect();
    assert_eq!(messages(&events), want);
}

#[test]
fn a_gap_is_reported_and_the_stream_resynchronises() {
    let msgs: Vec<Vec<u8>> = (1..=4).map(|i| echo(i, false)).collect();
    let stream = framed(&msgs);
    let frame = msgs[0].len() + 2;
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
    conn.data(true, 0, &stream[..frame]);
    // The segment with frame 2 and the start of frame 3 is never captured.
    let lost_end = 2 * frame + 7;
    conn.data(true, lost_end as u32, &stream[lost_end..]);
    let config = CaptureConfig {
        max_out_of_order: 16,
        ..len2()
    };
    let events = read(&conn.pcap(), config);
    assert_eq!(
        messages(&events),
        [
            (Direction::Request, msgs[0].clone()),
            (Direction::Request, msgs[3].clone())
        ]
    );
    assert!(events.iter().any(|e| matches!(e, CaptureEvent::Gap { expected_seq, resumed_seq, .. } if *expected_seq == 1001 + frame as u32 && *resumed_seq == 1001 + lost_end as u32)), "{events:?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, CaptureEvent::Resync { skipped, .. } if *skipped == frame - 7)),
        "{events:?}"
    );
}

#[test]
fn a_connection_that_begins_with_a_preamble_is_searched_for_its_first_frame() {
    // A gateway that greets in text before its first frame: no framing starts there, so the
    // held bytes are searched as mid-stream bytes, and every message after the greeting is
    // read. Under len2 the greeting's first bytes state a length over the maximum, known at
    // once; under auto, len2-bcd reads them as 4845 and waits for that many bytes before it
    // too is ruled out, with every frame still held.
    let greeting = b"HELLO gateway v2\r\n";
    let msgs: Vec<Vec<u8>> = (1..=150).map(|i| echo(i, false)).collect();
    for (config, count) in [(len2(), 3), (CaptureConfig::default(), 150)] {
        let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
        conn.data(true, 0, greeting);
        let mut off = greeting.len();
        for m in &msgs[..count] {
            let frame = framed(std::slice::from_ref(m));
            conn.data(true, off as u32, &frame);
            off += frame.len();
        }
        let events = read(&conn.pcap(), config);
        let expected: Vec<_> = msgs[..count]
            .iter()
            .map(|m| (Direction::Request, m.clone()))
            .collect();
        assert_eq!(messages(&events), expected, "{count}");
        assert!(
            events.iter().any(
                |e| matches!(e, CaptureEvent::Resync { skipped, .. } if *skipped == greeting.len())
            ),
            "{events:?}"
        );
    }
}

#[test]
fn a_garbage_length_prefix_is_a_frame_error_and_later_frames_survive() {
    let (a, b) = (echo(1, false), echo(2, false));
    let mut stream = framed(std::slice::from_ref(&a));
    stream.extend_from_slice(&[0xFF, 0xFF, 0x00]);
    stream.extend_from_slice(&framed(std::slice::from_ref(&b)));
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
    conn.data(true, 0, &stream);
    let events = read(&conn.pcap(), len2());
    assert_eq!(
        messages(&events),
        [(Direction::Request, a), (Direction::Request, b)]
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, CaptureEvent::FrameError { .. })),
        "{events:?}"
    );
}

#[test]
fn damaged_files_keep_every_message_before_the_damage() {
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
    let mut off = 0;
    for i in 1..=5 {
        let f = framed(&[echo(i, false)]);
        conn.data(true, off, &f);
        off += f.len() as u32;
    }
    let pcap = conn.pcap();
    // Truncated: cut inside the last record.
    let cut = &pcap[..pcap.len() - 10];
    let events = read(cut, len2());
    assert_eq!(messages(&events).len(), 4);
    assert!(
        matches!(events.last(), Some(CaptureEvent::Damaged { .. })),
        "{events:?}"
    );
    // A bad record length in the last record header: caplen 0x7FFFFFFF.
    let last_len = conn.packets.last().unwrap().1.len();
    let mut bad = pcap.clone();
    let at = pcap.len() - last_len - 8;
    bad[at..at + 4].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    let events = read(&bad, len2());
    assert_eq!(messages(&events).len(), 4);
    match events
        .iter()
        .find(|e| matches!(e, CaptureEvent::Damaged { .. }))
    {
        Some(CaptureEvent::Damaged { offset, .. }) => assert_eq!(*offset as usize, at - 8),
        other => panic!("{other:?}"),
    }
    // Not a capture at all, and empty.
    assert!(CaptureReader::new(&b"hello world, no pcap"[..], &ISO87_ASCII, len2()).is_err());
    assert!(CaptureReader::new(&b""[..], &ISO87_ASCII, len2()).is_err());
}

#[test]
fn pcapng_ipv6_nanoseconds_and_vlan_tags() {
    let client: SocketAddr = "[2001:db8::1]:40000".parse().unwrap();
    let server: SocketAddr = "[2001:db8::2]:8583".parse().unwrap();
    let a = framed(&[echo(7, false)]);
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    w.write(
        Timestamp::new(1_795_000_000, 123_456_789),
        &tcp_frame(client, server, 77, 1, PSH_ACK, &a),
    )
    .unwrap();
    // An IPv4 frame with an 802.1Q tag inserted after the MAC addresses.
    let mut tagged = tcp_frame(
        "10.1.1.1:40001".parse().unwrap(),
        "10.1.1.2:8583".parse().unwrap(),
        9,
        1,
        PSH_ACK,
        &framed(&[echo(8, false)]),
    );
    tagged.splice(12..12, [0x81, 0x00, 0x00, 0x64]);
    w.write(Timestamp::new(1_795_000_001, 0), &tagged).unwrap();
    let config = CaptureConfig {
        server_ports: vec![8583],
        ..CaptureConfig::default()
    };
    let events = read(&w.into_inner(), config);
    let msgs: Vec<_> = events
        .iter()
        .filter_map(|e| {
            if let CaptureEvent::Message(m) = e {
                Some(m.clone())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(msgs.len(), 2, "{events:?}");
    assert_eq!(msgs[0].time.to_string(), "2026-11-18T11:06:40.123456Z");
    assert_eq!(msgs[0].src(), client);
    assert_eq!(
        msgs[0].direction,
        Direction::Request,
        "the server port decides without a SYN"
    );
    assert_eq!(
        parse(&ISO87_ASCII, &msgs[0].bytes).unwrap().stan(),
        Some(Ok(7))
    );
    assert_eq!(
        parse(&ISO87_ASCII, &msgs[1].bytes).unwrap().stan(),
        Some(Ok(8))
    );
}

/// The same capture as a classic pcap in the other byte order with nanosecond timestamps,
/// written field by field as such a file is laid out.
fn big_endian_nanosecond_pcap(frames: &[(Timestamp, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xA1B2_3C4Du32.to_be_bytes());
    out.extend_from_slice(&2u16.to_be_bytes());
    out.extend_from_slice(&4u16.to_be_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_be_bytes());
    out.extend_from_slice(&1u32.to_be_bytes());
    for (t, f) in frames {
        out.extend_from_slice(&(t.secs as u32).to_be_bytes());
        out.extend_from_slice(&t.nanos.to_be_bytes());
        out.extend_from_slice(&(f.len() as u32).to_be_bytes());
        out.extend_from_slice(&(f.len() as u32).to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

#[test]
fn big_endian_and_nanosecond_pcap() {
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
    conn.data(true, 0, &framed(&[echo(1, false)]));
    let mut frames = conn.packets.clone();
    frames.last_mut().unwrap().0 = Timestamp::new(1_795_000_010, 987_654_321);
    let events = read(&big_endian_nanosecond_pcap(&frames), len2());
    let m = events
        .iter()
        .find_map(|e| {
            if let CaptureEvent::Message(m) = e {
                Some(m)
            } else {
                None
            }
        })
        .unwrap();
    assert_eq!(m.time, Timestamp::new(1_795_000_010, 987_654_321));
    assert_eq!(m.time.to_string(), "2026-11-18T11:06:50.987654Z");
    assert_eq!(&m.bytes[..], &echo(1, false)[..]);
}

#[test]
fn records_across_the_readers_buffer_and_one_larger_than_it() {
    // Some 700 KB of capture, read through the reader's buffer several times over, in small
    // reads and in one, as pcap and as pcapng; in the middle a 300 KB record (no IP in it) that the buffer grows for.
    // Every message comes out, in order, and nothing is damage.
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
    let msgs: Vec<Vec<u8>> = (1..=4000).map(|i| echo(i, false)).collect();
    let mut off = 0u32;
    for (i, m) in msgs.iter().enumerate() {
        let f = framed(std::slice::from_ref(m));
        conn.data(true, off, &f);
        off += f.len() as u32;
        if i == 2000 {
            conn.packets
                .push((Timestamp::new(1_795_001_000, 0), vec![0xEE; 300_000]));
        }
    }
    let mut ng = PcapNgWriter::new(Vec::new()).unwrap();
    for (t, f) in &conn.packets {
        ng.write(*t, f).unwrap();
    }
    let pcapng = ng.into_inner();
    let pcap = conn.pcap();
    assert!(pcap.len() > 700_000, "{}", pcap.len());
    /// A reader that gives at most 1,000 bytes a read.
    struct Trickle<'a>(&'a [u8]);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = out.len().min(self.0.len()).min(1000);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let trickled: Vec<CaptureEvent> = CaptureReader::new(Trickle(&pcap), &ISO87_ASCII, len2())
        .unwrap()
        .collect();
    for events in [read(&pcap, len2()), trickled, read(&pcapng, len2())] {
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, CaptureEvent::Damaged { .. })),
            "{:?}",
            events
                .iter()
                .find(|e| matches!(e, CaptureEvent::Damaged { .. }))
        );
        let got: Vec<Vec<u8>> = messages(&events).into_iter().map(|(_, m)| m).collect();
        assert_eq!(got.len(), msgs.len());
        assert!(got == msgs);
    }
    // A record over the limit (1 MiB) is damage: the messages before it are kept.
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
    let f = framed(&msgs[..2]);
    conn.data(true, 0, &f);
    conn.packets
        .push((Timestamp::new(1_795_001_000, 0), vec![0xEE; 2_000_000]));
    let events = read(&conn.pcap(), len2());
    assert_eq!(messages(&events).len(), 2);
    let damage: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            CaptureEvent::Damaged { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(damage, ["a record over the limit of 1048576 bytes"]);
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn base() -> Vec<u8> {
        let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8583");
        let stream = framed(&[echo(1, false), echo(2, false), echo(3, false)]);
        conn.data(true, 0, &stream[..20]);
        conn.data(true, 20, &stream[20..]);
        conn.data(false, 0, &framed(&[echo(1, true)]));
        conn.pcap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        /// Damaged captures (bytes overwritten anywhere, the file cut anywhere) yield events,
        /// never a panic, and never a frame over the maximum.
        #[test]
        fn damaged_captures(
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut pcap = base();
            for (at, byte) in flips {
                let i = at.index(pcap.len());
                pcap[i] = byte;
            }
            let cut = cut.index(pcap.len() + 1);
            if let Ok(reader) = CaptureReader::new(&pcap[..cut], &ISO87_ASCII, CaptureConfig::default()) {
                for event in reader {
                    if let CaptureEvent::Message(m) = event {
                        prop_assert!(m.bytes.len() <= iso8583_inspect::frame::DEFAULT_MAX_FRAME);
                    }
                }
            }
        }

        #[test]
        fn arbitrary_bytes_after_a_pcap_header(tail in prop::collection::vec(any::<u8>(), 0..2000)) {
            let mut pcap = base()[..24].to_vec();
            pcap.extend_from_slice(&tail);
            if let Ok(reader) = CaptureReader::new(&pcap[..], &ISO87_ASCII, CaptureConfig::default()) {
                prop_assert!(reader.count() < 10_000);
            }
        }
    }
}

#[test]
fn a_damaged_cups_header_is_a_frame_error_and_the_stream_resynchronises() {
    use iso8583_inspect::spec::CUPS;
    let (a, b, c) = (cups_echo(1), cups_echo(2), cups_echo(3));
    for prefixed in [false, true] {
        let framing = if prefixed {
            Framing::Len4Ascii
        } else {
            Framing::Cups
        };
        let mut stream = BytesMut::new();
        for m in [&a, &b, &c] {
            write_frame(framing, m, &mut stream).unwrap();
        }
        // b's header length byte is not 46.
        let at = if prefixed { 4 + a.len() + 4 } else { a.len() };
        stream[at] = 45;
        let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:9000");
        conn.data(true, 0, &stream);
        let config = CaptureConfig {
            framing: Some(Framing::Cups),
            ..CaptureConfig::default()
        };
        let events: Vec<CaptureEvent> = CaptureReader::new(&conn.pcap()[..], &CUPS, config)
            .unwrap()
            .collect();
        assert_eq!(
            messages(&events),
            [
                (Direction::Request, a.clone()),
                (Direction::Request, c.clone())
            ],
            "prefixed {prefixed}: {events:?}"
        );
        let error = events.iter().find_map(|e| match e {
            CaptureEvent::FrameError { error, .. } => Some(error.to_string()),
            _ => None,
        });
        let expected = if prefixed {
            "CUPS header at offset 4: expected the header length 46 (0x2E), found 0x2D"
        } else {
            "CUPS header at offset 0: expected the header length 46 (0x2E), or a length digit before it, found 0x2D"
        };
        assert_eq!(error.as_deref(), Some(expected));
        assert!(
            events
                .iter()
                .any(|e| matches!(e, CaptureEvent::Resync { .. }))
        );
        // With framing auto, the flow's framing is found as cups.
        let events: Vec<CaptureEvent> =
            CaptureReader::new(&conn.pcap()[..], &CUPS, CaptureConfig::default())
                .unwrap()
                .collect();
        assert!(
            events.iter().any(|e| matches!(
                e,
                CaptureEvent::Framing {
                    framing: Framing::Cups,
                    ..
                }
            )),
            "{events:?}"
        );
    }
}

/// Packets of several connections in time order: (seconds, client, from client, payload, seq
/// offset); each connection opens with a SYN from its client at its first packet.
fn timeline(packets: &[(i64, &str, bool, Vec<u8>, u32)]) -> Vec<u8> {
    let server: SocketAddr = "10.0.0.1:8583".parse().unwrap();
    let mut w = PcapWriter::new(Vec::new()).unwrap();
    let mut opened: Vec<&str> = Vec::new();
    for (t, client, from_client, payload, off) in packets {
        let c: SocketAddr = client.parse().unwrap();
        let time = Timestamp::new(*t, 0);
        if !opened.contains(client) {
            opened.push(client);
            w.write(time, &tcp_frame(c, server, 1000, 0, tcp_flags::SYN, &[]))
                .unwrap();
            w.write(
                time,
                &tcp_frame(server, c, 5000, 1001, tcp_flags::SYN | ACK, &[]),
            )
            .unwrap();
        }
        let (s, d, base) = if *from_client {
            (c, server, 1001)
        } else {
            (server, c, 5001)
        };
        w.write(time, &tcp_frame(s, d, base + off, 1, PSH_ACK, payload))
            .unwrap();
    }
    w.into_inner()
}

fn dropped(events: &[CaptureEvent]) -> Vec<(u16, String, usize)> {
    events
        .iter()
        .filter_map(|e| match e {
            CaptureEvent::FlowDropped {
                flow,
                reason,
                bytes,
                ..
            } => Some((flow.client.port(), reason.to_string(), *bytes)),
            _ => None,
        })
        .collect()
}

#[test]
fn idle_and_surplus_flows_are_let_go_and_say_so() {
    let whole = framed(&[echo(1, false)]);
    let half = whole[..whole.len() / 2].to_vec();
    let rest = whole[whole.len() / 2..].to_vec();
    let config = CaptureConfig {
        flow_idle_ms: 60_000,
        ..len2()
    };
    // A sends half a frame and goes silent; B talks every 40 s, never idle a minute; at 130 s
    // C's first packet finds A idle for 120 s.
    let capture = timeline(&[
        (10, "192.168.0.1:40001", true, half.clone(), 0),
        (20, "192.168.0.2:40002", true, whole.clone(), 0),
        (60, "192.168.0.2:40002", false, framed(&[echo(1, true)]), 0),
        (
            100,
            "192.168.0.2:40002",
            true,
            framed(&[echo(2, false)]),
            whole.len() as u32,
        ),
        (130, "192.168.0.3:40003", true, whole.clone(), 0),
    ]);
    let events = read(&capture, config.clone());
    assert_eq!(
        dropped(&events),
        [(40001, "idle for more than 60 s".to_string(), half.len())],
        "{events:#?}"
    );
    // What A held is reported as an unfinished frame where it is let go.
    assert!(events.iter().any(|e| matches!(
        e,
        CaptureEvent::Incomplete { flow, bytes, .. } if flow.client.port() == 40001 && *bytes == half.len()
    )));
    // Every message of B and C came through.
    assert_eq!(messages(&events).len(), 4);
    // Without the idle limit, A is held to the end (and reported incomplete there, not dropped).
    let kept = read(
        &capture,
        CaptureConfig {
            flow_idle_ms: u64::MAX,
            ..config.clone()
        },
    );
    assert!(dropped(&kept).is_empty());
    assert_eq!(messages(&kept).len(), 4);

    // A flow let go that speaks again is read as one joined mid-stream: its next whole frame
    // comes through.
    let capture = timeline(&[
        (10, "192.168.0.1:40001", true, half.clone(), 0),
        (
            200,
            "192.168.0.1:40001",
            true,
            rest.clone(),
            half.len() as u32,
        ),
        (
            201,
            "192.168.0.1:40001",
            true,
            framed(&[echo(3, false)]),
            whole.len() as u32,
        ),
    ]);
    let events = read(&capture, config.clone());
    assert_eq!(dropped(&events).len(), 1, "{events:#?}");
    let got = messages(&events);
    assert_eq!(got.len(), 1, "{events:#?}");
    assert_eq!(got[0].1, echo(3, false));

    // At most two flows open: the least recently active goes to make room.
    let capture = timeline(&[
        (1, "192.168.0.1:40001", true, half.clone(), 0),
        (2, "192.168.0.2:40002", true, half.clone(), 0),
        (3, "192.168.0.1:40001", true, rest, half.len() as u32),
        (4, "192.168.0.3:40003", true, whole.clone(), 0),
    ]);
    let events = read(
        &capture,
        CaptureConfig {
            max_flows: 2,
            ..config
        },
    );
    assert_eq!(
        dropped(&events),
        [(
            40002,
            "open flows over the limit of 2".to_string(),
            half.len()
        )],
        "{events:#?}"
    );
    assert_eq!(messages(&events).len(), 2, "A's two halves and C's frame");
}
