//! Interop with Wireshark: captures written here are decoded by `tshark` (Debian's package,
//! installed by `.ci/run`) and by our reader, and both must give the same MTIs and field values,
//! message by message. Covers what the dissector supports: ASCII digits, 2-byte big-endian
//! length, binary fields as hex characters, and `an` fields that are strictly alphanumeric
//! (the dissector checks them; we carry any text).

use bytes::BytesMut;
use iso8583_inspect::capture::write::{PcapWriter, tcp_flags, tcp_frame};
use iso8583_inspect::capture::{CaptureConfig, CaptureEvent, CaptureReader, Timestamp};
use iso8583_inspect::frame::{Framing, write_frame};
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti, parse};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;

type Decoded = Vec<(String, BTreeMap<u32, String>)>;

fn tshark(pcap: &[u8], ports: &[u16]) -> Decoded {
    let port = ports.first().copied().unwrap_or(0);
    let path = std::env::temp_dir().join(format!(
        "iso8583-inspect-tshark-{}-{port}.pcap",
        std::process::id()
    ));
    std::fs::write(&path, pcap).unwrap();
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(
            ports
                .iter()
                .flat_map(|p| ["-d".to_string(), format!("tcp.port=={p},iso8583")]),
        )
        .args(["-o", "iso8583.len_endian:Big endian"])
        .args([
            "-o",
            "iso8583.charset:Digits represented as ASCII Characters",
        ])
        .args([
            "-o",
            "iso8583.binencode:Bin data represented as Hex Ascii characters",
        ])
        .args(["-T", "json", "--no-duplicate-keys", "-Y", "iso8583"])
        .output()
        .expect("tshark runs (.ci/run installs Debian's tshark)");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let packets: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut decoded = Vec::new();
    for p in packets.as_array().unwrap() {
        let layer = &p["_source"]["layers"]["iso8583"];
        let layers = match layer {
            Value::Array(v) => v.clone(),
            other => vec![other.clone()],
        };
        for l in layers {
            let obj = l.as_object().unwrap();
            let mti = obj["iso8583.mti"].as_str().unwrap().to_string();
            let fields = obj
                .iter()
                .filter_map(|(k, v)| {
                    Some((
                        k.strip_prefix("iso8583.bit")?.parse().ok()?,
                        v.as_str()?.to_string(),
                    ))
                })
                .collect();
            decoded.push((mti, fields));
        }
    }
    decoded
}

fn ours(pcap: &[u8]) -> Decoded {
    let config = CaptureConfig {
        framing: Some(Framing::Len2),
        ..CaptureConfig::default()
    };
    let mut decoded = Vec::new();
    for event in CaptureReader::new(pcap, &ISO87_ASCII, config).unwrap() {
        match event {
            CaptureEvent::Message(m) => {
                let msg = parse(&ISO87_ASCII, &m.bytes).unwrap();
                let fields = msg
                    .fields()
                    .map(|f| (f.number() as u32, f.to_text()))
                    .collect();
                decoded.push((msg.mti().to_string(), fields));
            }
            CaptureEvent::Framing { .. } => {}
            other => panic!("unexpected event {other:?}"),
        }
    }
    decoded
}

#[test]
fn the_bundled_sample_decodes_the_same() {
    let pcap = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/sample.pcap"
    ))
    .unwrap();
    let (theirs, ours) = (tshark(&pcap, &[8583, 9000]), ours(&pcap));
    assert_eq!(ours.len(), 72, "both legs");
    assert_eq!(theirs, ours);
}

/// A small deterministic generator (xorshift), so the capture is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn text(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -./";
        (0..n)
            .map(|_| char::from(CHARS[self.below(CHARS.len() as u64) as usize]))
            .collect()
    }
    fn alnum(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..n)
            .map(|_| char::from(CHARS[self.below(CHARS.len() as u64) as usize]))
            .collect()
    }
    fn hex(&mut self, bytes: usize) -> String {
        (0..bytes)
            .map(|_| format!("{:02X}", self.below(256)))
            .collect()
    }
}

fn random_message(rng: &mut Rng) -> Vec<u8> {
    let mtis = [100, 110, 200, 210, 220, 230, 400, 410, 420, 430, 800, 810];
    let mut b = MessageBuilder::new(
        &ISO87_ASCII,
        Mti::new(mtis[rng.below(mtis.len() as u64) as usize]),
    );
    let pan_len = 13 + rng.below(7) as usize;
    let (l32, l33, l48, l55, l100, l102) = (
        1 + rng.below(11) as usize,
        1 + rng.below(11) as usize,
        // tshark 4.0 stops dissecting after an empty variable field: lengths start at 1.
        1 + rng.below(60) as usize,
        1 + rng.below(40) as usize,
        1 + rng.below(11) as usize,
        1 + rng.below(28) as usize,
    );
    let candidates: Vec<(usize, String)> = vec![
        (2, rng.digits(pan_len)),
        (3, rng.digits(6)),
        (4, rng.digits(12)),
        (7, rng.digits(10)),
        (11, rng.digits(6)),
        (12, rng.digits(6)),
        (13, rng.digits(4)),
        (14, rng.digits(4)),
        (18, rng.digits(4)),
        (22, rng.digits(3)),
        (25, rng.digits(2)),
        (32, rng.digits(l32)),
        (33, rng.digits(l33)),
        (35, format!("{}={}", rng.digits(16), rng.digits(7))),
        (37, rng.alnum(12)),
        (38, rng.alnum(6)),
        (39, rng.digits(2)),
        (41, rng.text(8)),
        (42, rng.text(15)),
        (43, rng.text(40)),
        (48, rng.text(l48)),
        (49, rng.digits(3)),
        (52, rng.hex(8)),
        (55, rng.hex(l55)),
        (64, rng.hex(8)),
        (70, rng.digits(3)),
        (90, rng.digits(42)),
        (100, rng.digits(l100)),
        (102, rng.text(l102)),
    ];
    for (n, v) in candidates {
        if rng.below(2) == 0 {
            b.set_text(n, &v).unwrap();
        }
    }
    b.to_vec().unwrap()
}

#[test]
fn generated_traffic_decodes_the_same() {
    let mut rng = Rng(0x8583_1987_2026_1123);
    let server: SocketAddr = "10.20.0.1:9000".parse().unwrap();
    let mut w = PcapWriter::new(Vec::new()).unwrap();
    let mut t = 1_795_397_400;
    let mut total = 0;
    for c in 0..8u16 {
        let client: SocketAddr = format!("172.16.0.{}:{}", 10 + c, 50_000 + c)
            .parse()
            .unwrap();
        let mut seq = [101u32, 901u32];
        let mut put = |w: &mut PcapWriter<Vec<u8>>,
                       from_client: bool,
                       flags: u8,
                       payload: &[u8],
                       seq: &mut [u32; 2]| {
            let (i, s, d) = if from_client {
                (0, client, server)
            } else {
                (1, server, client)
            };
            t += 1;
            w.write(
                Timestamp::new(t, 0),
                &tcp_frame(s, d, seq[i], seq[1 - i], flags, payload),
            )
            .unwrap();
            seq[i] = seq[i].wrapping_add(payload.len() as u32);
        };
        put(&mut w, true, tcp_flags::SYN, b"", &mut [100, 0]);
        put(
            &mut w,
            false,
            tcp_flags::SYN | tcp_flags::ACK,
            b"",
            &mut [0, 900],
        );
        for _ in 0..25 {
            let from_client = rng.below(2) == 0;
            // One to three messages in a segment, and now and then a segment cut in two.
            let mut payload = BytesMut::new();
            for _ in 0..1 + rng.below(3) {
                write_frame(Framing::Len2, &random_message(&mut rng), &mut payload).unwrap();
                total += 1;
            }
            if rng.below(3) == 0 {
                let cut = 1 + rng.below(payload.len() as u64 - 1) as usize;
                put(
                    &mut w,
                    from_client,
                    tcp_flags::ACK,
                    &payload[..cut],
                    &mut seq,
                );
                put(
                    &mut w,
                    from_client,
                    tcp_flags::PSH | tcp_flags::ACK,
                    &payload[cut..],
                    &mut seq,
                );
            } else {
                put(
                    &mut w,
                    from_client,
                    tcp_flags::PSH | tcp_flags::ACK,
                    &payload,
                    &mut seq,
                );
            }
        }
    }
    let pcap = w.into_inner();
    let (theirs, ours) = (tshark(&pcap, &[9000]), ours(&pcap));
    assert_eq!(ours.len(), total);
    assert_eq!(theirs.len(), ours.len());
    for (i, (a, b)) in theirs.iter().zip(&ours).enumerate() {
        assert_eq!(a, b, "message {i}");
    }
}
