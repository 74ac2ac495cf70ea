//! The bundled sample traffic, generated deterministically: `cargo run --example make_sample`
//! writes `examples/data/sample.hex` and `examples/data/sample.pcap` from it, and
//! `tests/sample.rs` checks that the files are what this code writes.
//!
//! ISO 8583:1987 ASCII (`--spec iso87-ascii`), test card numbers only: an echo test, sales and
//! their responses from several terminals and merchants, a hotel pre-authorisation, a sale that
//! timed out with its reversal, one case of each validator rule against
//! `examples/data/merchants.toml`, and (in the hex dump only) two damaged messages.

#![allow(dead_code)]

use bytes::BytesMut;
use iso8583_inspect::capture::Timestamp;
use iso8583_inspect::capture::write::{PcapWriter, tcp_flags, tcp_frame};
use iso8583_inspect::frame::{Framing, write_frame};
use iso8583_inspect::spec::ISO87_ASCII;
use iso8583_inspect::{MessageBuilder, Mti, parse};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// A terminal's sale on the ISO 1987 ASCII leg.
#[derive(Clone, Copy)]
struct Sale {
    pan: &'static str,
    amount: u64,
    stan: u32,
    time: &'static str,
    mcc: &'static str,
    terminal: &'static str,
    merchant: &'static str,
    name: &'static str,
    acquirer: &'static str,
}

fn request(mti: Mti, s: &Sale, processing: &str) -> MessageBuilder<'static> {
    let mut b = MessageBuilder::new(&ISO87_ASCII, mti);
    b.set_text(2, s.pan).unwrap();
    b.set_text(3, processing).unwrap();
    b.set_text(4, &format!("{:012}", s.amount)).unwrap();
    b.set_text(7, &format!("1123{}", s.time)).unwrap();
    b.set_text(11, &format!("{:06}", s.stan)).unwrap();
    b.set_text(12, s.time).unwrap();
    b.set_text(13, "1123").unwrap();
    b.set_text(18, s.mcc).unwrap();
    b.set_text(22, "051").unwrap();
    b.set_text(25, "00").unwrap();
    b.set_text(32, s.acquirer).unwrap();
    b.set_text(35, &format!("{}=2912101", s.pan)).unwrap();
    b.set_text(41, s.terminal).unwrap();
    b.set_text(42, s.merchant).unwrap();
    b.set_text(43, &format!("{:<40}", s.name)).unwrap();
    b.set_text(49, "156").unwrap();
    b.set_text(52, "4F2A9C11D03B7E58").unwrap();
    // The ICC data the card signed: its amount, the terminal's country and the currency.
    b.set_text(55, &format!("9F0206{:012}9F1A0201565F2A020156", s.amount))
        .unwrap();
    b
}

fn response(
    req: &MessageBuilder<'static>,
    mti: Mti,
    rrn: &str,
    code: &str,
) -> MessageBuilder<'static> {
    let mut b = req.clone();
    b.set_mti(mti);
    for n in [22, 35, 52, 55] {
        b.remove(n);
    }
    b.set_text(37, rrn).unwrap();
    if code == "00" {
        b.set_text(38, "A1B2C3").unwrap();
    }
    b.set_text(39, code).unwrap();
    b
}

/// The RRN the acquirer assigns to the terminal's transaction `stan` (returned to the terminal
/// and forwarded to the network).
fn rrn(stan: u32) -> String {
    format!("33270000{stan:04}")
}

/// The sample messages in order: realistic traffic, then two damaged messages.
pub fn sample_messages() -> Vec<Vec<u8>> {
    let sales = [
        Sale {
            pan: "6222021234567890123",
            amount: 12800,
            stan: 1,
            time: "093015",
            mcc: "5812",
            terminal: "10000001",
            merchant: "822440158120001",
            name: "GOLDEN DRAGON RESTAURANT GUANGZHOU",
            acquirer: "48220000",
        },
        Sale {
            pan: "6259650000000000016",
            amount: 399900,
            stan: 2,
            time: "094210",
            mcc: "5411",
            terminal: "20000001",
            merchant: "898310054110007",
            name: "XINHUA SUPERMARKET SHANGHAI",
            acquirer: "48980000",
        },
        Sale {
            pan: "4761739001010010",
            amount: 5600,
            stan: 3,
            time: "101502",
            mcc: "5812",
            terminal: "10000002",
            merchant: "822440158120001",
            name: "GOLDEN DRAGON RESTAURANT GUANGZHOU",
            acquirer: "48220000",
        },
        Sale {
            pan: "6212340000000000019",
            amount: 880000,
            stan: 4,
            time: "112733",
            mcc: "7011",
            terminal: "30000001",
            merchant: "836110070110003",
            name: "BEIJING GARDEN HOTEL",
            acquirer: "48360000",
        },
    ];
    let mut out = Vec::new();
    let mut push = |b: &MessageBuilder<'static>| out.push(b.to_vec().unwrap());

    // Echo test at sign-on.
    let mut echo = MessageBuilder::new(&ISO87_ASCII, Mti::NETWORK_REQUEST);
    echo.set_text(7, "1123090000")
        .unwrap()
        .set_text(11, "000100")
        .unwrap()
        .set_text(70, "301")
        .unwrap();
    push(&echo);
    let mut echo_rsp = echo.clone();
    echo_rsp
        .set_mti(Mti::NETWORK_RESPONSE)
        .set_text(39, "00")
        .unwrap();
    push(&echo_rsp);

    // Sales and their responses.
    for (i, s) in sales.iter().enumerate().take(2) {
        let req = request(Mti::FINANCIAL_REQUEST, s, "000000");
        push(&req);
        push(&response(
            &req,
            Mti::FINANCIAL_RESPONSE,
            &format!("33270000{:04}", i + 1),
            "00",
        ));
    }
    // An authorisation (hotel pre-authorisation) and its response.
    let auth = request(Mti::AUTH_REQUEST, &sales[3], "030000");
    push(&auth);
    push(&response(&auth, Mti::AUTH_RESPONSE, "332700000004", "00"));
    // A sale that timed out at the terminal, then its reversal and the reversal's response.
    let timed_out = request(Mti::FINANCIAL_REQUEST, &sales[2], "000000");
    push(&timed_out);
    let mut reversal = request(Mti::REVERSAL_REQUEST, &sales[2], "000000");
    reversal.remove(52).remove(55).set_text(39, "98").unwrap();
    reversal
        .set_text(
            90,
            &format!("0200{:06}1123{}0004822000000000000000", 3, sales[2].time),
        )
        .unwrap();
    push(&reversal);
    push(&response(
        &reversal,
        Mti::REVERSAL_RESPONSE,
        "332700000003",
        "00",
    ));

    // One case of each validator rule against examples/data/merchants.toml, each approved.
    let sale = |base: &Sale, stan: u32, time: &'static str, amount: u64| Sale {
        stan,
        time,
        amount,
        ..*base
    };
    let lotus = Sale {
        pan: "6258880000000000012",
        amount: 18800,
        stan: 6,
        time: "120510",
        mcc: "5812",
        terminal: "40000001",
        merchant: "898310053310002",
        name: "LOTUS RESTAURANT HANGZHOU",
        acquirer: "48980000",
    };
    let stranger = Sale {
        pan: "6217000000000000017",
        amount: 300000,
        stan: 7,
        time: "121944",
        mcc: "5999",
        terminal: "90000001",
        merchant: "836440159990009",
        name: "GUANGZHOU TRADING CO",
        acquirer: "48360000",
    };
    let cases: [(Sale, &[(usize, &str)]); 8] = [
        // 跳码: a restaurant's sale cleared as a supermarket.
        (sale(&sales[0], 5, "115502", 25600), &[(18, "5411")]),
        // 跳码 at registration: a restaurant whose merchant code carries 5331.
        (lotus, &[]),
        // 二清: a merchant nobody registered.
        (stranger, &[]),
        // 二清: Golden Dragon's terminal selling as Xinhua.
        (
            Sale {
                terminal: "10000002",
                ..sale(&sales[1], 8, "123301", 6600)
            },
            &[],
        ),
        // 二清: the hotel's sale routed through another acquirer.
        (sale(&sales[3], 9, "130012", 128000), &[(32, "48220000")]),
        // Over the supermarket's limit.
        (sale(&sales[1], 10, "131545", 8_800_000), &[]),
        // A restaurant sale in US dollars.
        (sale(&sales[0], 11, "133020", 4500), &[(49, "840")]),
        // A currency code that is not one.
        (sale(&sales[0], 12, "134500", 3300), &[(49, "1X6")]),
    ];
    for (s, changes) in &cases {
        let mut req = request(Mti::FINANCIAL_REQUEST, s, "000000");
        for (n, v) in *changes {
            req.set_text(*n, v).unwrap();
        }
        push(&req);
        push(&response(
            &req,
            Mti::FINANCIAL_RESPONSE,
            &format!("33270000{:04}", s.stan),
            "00",
        ));
    }

    // Clean sales whose forwards the network leg of the capture alters.
    let clean = [
        sale(&sales[0], 13, "135510", 6600),
        sale(&sales[3], 14, "140205", 45000),
        sale(&sales[1], 15, "141830", 8800),
    ];
    for s in &clean {
        let req = request(Mti::FINANCIAL_REQUEST, s, "000000");
        push(&req);
        push(&response(&req, Mti::FINANCIAL_RESPONSE, &rrn(s.stan), "00"));
    }

    // One case of each pairing rule (request -> response, lifecycle), at Golden Dragon.
    let gd = |stan: u32, time: &'static str, amount: u64| sale(&sales[0], stan, time, amount);
    let answer = |req: &MessageBuilder<'static>, stan: u32, changes: &[(usize, &str)]| {
        let mut rsp = response(req, Mti::FINANCIAL_RESPONSE, &rrn(stan), "00");
        for (n, v) in changes {
            rsp.set_text(*n, v).unwrap();
        }
        rsp
    };
    let altered: [(u32, &str, (usize, &str)); 6] = [
        (16, "142001", (4, "000000010100")), // response-amount-changed (跳点)
        (17, "142102", (18, "5411")),        // response-mcc-changed (跳码)
        (18, "142203", (42, "822440158129999")), // response-merchant-changed
        (19, "142304", (41, "10000009")),    // response-terminal-changed
        (20, "142405", (32, "48980000")),    // response-acquirer-changed (二清)
        (21, "142506", (49, "840")),         // echo-mismatch
    ];
    for (stan, time, change) in altered {
        // Each its own amount: the same card and amount again under another STAN would be a
        // replay.
        let amount = 10000 + u64::from(stan);
        let req = request(Mti::FINANCIAL_REQUEST, &gd(stan, time, amount), "000000");
        push(&req);
        push(&answer(&req, stan, &[change]));
    }
    // unexpected-response-mti: an authorisation answered as a sale.
    let auth = request(Mti::AUTH_REQUEST, &gd(22, "142607", 20000), "030000");
    push(&auth);
    push(&response(&auth, Mti::FINANCIAL_RESPONSE, &rrn(22), "00"));
    // orphan-response: an answer to a request nobody sent.
    let ghost = request(Mti::FINANCIAL_REQUEST, &gd(24, "142708", 7700), "000000");
    push(&answer(&ghost, 24, &[]));
    // duplicate-response: answered twice.
    let twice = request(Mti::FINANCIAL_REQUEST, &gd(25, "142809", 8800), "000000");
    push(&twice);
    push(&answer(&twice, 25, &[]));
    push(&answer(&twice, 25, &[]));
    // approved-then-reversed: approved, then reversed by the terminal.
    let undone = request(Mti::FINANCIAL_REQUEST, &gd(27, "142910", 9900), "000000");
    push(&undone);
    push(&answer(&undone, 27, &[]));
    let mut reversal = request(Mti::REVERSAL_REQUEST, &gd(27, "142910", 9900), "000000");
    reversal.remove(52).remove(55).set_text(39, "96").unwrap();
    push(&reversal);
    push(&response(&reversal, Mti::REVERSAL_RESPONSE, &rrn(27), "00"));
    // late-response: answered 35 s later (in the capture; a hex dump has no time).
    let slow = request(Mti::FINANCIAL_REQUEST, &gd(26, "143011", 5500), "000000");
    push(&slow);
    push(&answer(&slow, 26, &[]));
    // no-reversal-after-timeout: never answered, never reversed; two minutes later the
    // terminal's next echo test shows that time went on.
    push(&request(
        Mti::FINANCIAL_REQUEST,
        &gd(23, "143112", 6700),
        "000000",
    ));
    let mut later = MessageBuilder::new(&ISO87_ASCII, Mti::NETWORK_REQUEST);
    later
        .set_text(7, "1123093400")
        .unwrap()
        .set_text(11, "000101")
        .unwrap()
        .set_text(70, "301")
        .unwrap();
    push(&later);
    let mut later_rsp = later.clone();
    later_rsp
        .set_mti(Mti::NETWORK_RESPONSE)
        .set_text(39, "00")
        .unwrap();
    push(&later_rsp);

    // Damaged traffic: a sale cut short, and one whose amount carries a letter.
    let mut cut = request(Mti::FINANCIAL_REQUEST, &sales[0], "000000")
        .to_vec()
        .unwrap();
    cut.truncate(cut.len() - 30);
    out.push(cut);
    let mut bad = request(Mti::FINANCIAL_REQUEST, &sales[1], "000000")
        .to_vec()
        .unwrap();
    let at = bad.windows(12).position(|w| w == b"000000399900").unwrap();
    bad[at + 7] = b'O';
    out.push(bad);
    out
}

/// How many of [`sample_messages`] are whole (the rest are damaged on purpose).
pub const VALID_MESSAGES: usize = 60;

/// The hex dump: a comment header, then one message a line.
pub fn sample_hex() -> String {
    let mut s = String::from(
        "# iso8583-inspect sample: ISO 8583:1987 ASCII (--spec iso87-ascii), one message a line.\n",
    );
    s.push_str("# Test card numbers only. Generated by examples/make_sample.rs; the last two lines are damaged on purpose.\n");
    for m in sample_messages() {
        s.extend(m.iter().map(|b| format!("{b:02X}")));
        s.push('\n');
    }
    s
}

/// The acquirer host the terminals connect to (the terminal leg).
pub const SERVER: &str = "10.10.0.1:8583";

/// The network (UnionPay) host the acquirer forwards to (the network leg).
pub const NETWORK: &str = "10.20.0.1:9000";

/// The acquirer's side of the network leg.
const ACQUIRER: &str = "10.10.0.1:51000";

/// How the acquirer forwards the terminal leg's requests, by STAN: the changes it makes (the
/// injected hop cases), or none (a faithful forward, or a declared network merchant ID).
fn forward_changes(stan: u32) -> Option<Vec<(usize, String)>> {
    let s = |n: usize, v: &str| (n, v.to_string());
    Some(match stan {
        // 跳码: the restaurant's sale forwarded as a supermarket's.
        1 => vec![s(18, "5411")],
        // 二清: the supermarket's sale forwarded under a pooled merchant.
        2 => vec![s(42, "898310054110099")],
        // 跳点: the hotel's authorisation forwarded for one yuan more.
        4 => vec![s(4, "000000880100")],
        // 二清: routed as another acquirer's.
        13 => vec![s(32, "48980000")],
        // The cardholder's statement shows another name.
        14 => vec![(43, format!("{:<40}", "BEIJING GRAND PALACE HOTEL"))],
        // The supermarket's declared network merchant ID: no finding.
        15 => vec![s(42, "898310054119001")],
        _ => return None,
    })
}

/// Seconds of silence before a message in the capture: the late response waits 35 s, and the
/// last echo test comes two minutes after the unanswered sale.
fn pause_before(msg: &iso8583_inspect::Message<'_>) -> i64 {
    match (msg.mti().value(), msg.stan().and_then(Result::ok)) {
        (210, Some(26)) => 35,
        (800, Some(101)) => 120,
        _ => 0,
    }
}

/// The network leg's request and response for a terminal request.
fn network_pair(
    terminal_request: &[u8],
    stan: u32,
    changes: &[(usize, String)],
) -> (Vec<u8>, Vec<u8>) {
    let t = parse(&ISO87_ASCII, terminal_request).expect("the sample's requests parse");
    let mut b = MessageBuilder::from_message(&t);
    let local_time = t.field(12).map(|f| f.to_text()).unwrap_or_default();
    b.set_text(7, &format!("1123{local_time}")).expect("a time");
    b.set_text(11, &format!("{:06}", 700_000 + stan))
        .expect("a STAN");
    b.set_text(33, "49000000").expect("a forwarder");
    b.set_text(37, &rrn(stan)).expect("an RRN");
    for (n, v) in changes {
        b.set_text(*n, v).expect("a valid change");
    }
    let request = b.to_vec().expect("encodes");
    let mut r = b;
    r.set_mti(Mti::new(t.mti().value() + 10));
    for n in [22, 35, 52, 55] {
        r.remove(n);
    }
    r.set_text(38, "A1B2C3")
        .expect("an auth code")
        .set_text(39, "00")
        .expect("a code");
    (request, r.to_vec().expect("encodes"))
}

/// A pcap of the whole messages as they cross the network, on two legs: the terminal leg (one
/// TCP connection per terminal, and one for the echo test, to [`SERVER`]) and the network leg
/// (one connection from the acquirer to [`NETWORK`], carrying the forwards of six clean
/// requests, five of them altered). 2-byte length framing, some messages split over two
/// segments, and the timed-out sale and its reversal packed into one segment.
pub fn sample_pcap() -> Vec<u8> {
    let server: SocketAddr = SERVER.parse().expect("a socket address");
    let base = Timestamp::new(1_795_397_400, 0); // 2026-11-23T01:30:00Z, 09:30 in Beijing
    let mut conns: BTreeMap<String, Conn> = BTreeMap::new();
    // The connection each request (by STAN) was sent on.
    let mut asked_on: BTreeMap<u32, String> = BTreeMap::new();
    let mut packets: Vec<(Timestamp, Vec<u8>)> = Vec::new();
    let mut tick = 0i64;
    // A quarter of a second a packet, plus the pauses `pause_before` asks for.
    let time = |tick: &mut i64| {
        *tick += 1;
        Timestamp::new(base.secs + *tick / 4, ((*tick % 4) * 250_000_000) as u32)
    };
    let msgs = sample_messages();
    let mut network = Conn {
        client: ACQUIRER.parse().expect("an address"),
        server: NETWORK.parse().expect("an address"),
        seq: [3001, 9001],
    };
    packets.push((
        time(&mut tick),
        tcp_frame(network.client, network.server, 3000, 0, tcp_flags::SYN, b""),
    ));
    packets.push((
        time(&mut tick),
        tcp_frame(
            network.server,
            network.client,
            9000,
            3001,
            tcp_flags::SYN | tcp_flags::ACK,
            b"",
        ),
    ));
    packets.push((time(&mut tick), network.segment(true, tcp_flags::ACK, b"")));
    let mut k = 0;
    while k < VALID_MESSAGES {
        let msg = parse(&ISO87_ASCII, &msgs[k]).expect("the sample's whole messages parse");
        tick += 4 * pause_before(&msg);
        // A response travels on its request's connection, whatever terminal it names.
        let own = msg.terminal().map_or_else(
            || "echo".to_string(),
            |t| t.map(|t| t.to_string()).unwrap_or_default(),
        );
        let request = !msg.mti().is_response();
        let stan = msg.stan().and_then(Result::ok).unwrap_or(0);
        let terminal = if request {
            asked_on.insert(stan, own.clone());
            own
        } else {
            asked_on.get(&stan).cloned().unwrap_or(own)
        };
        let n = conns.len() as u8;
        let conn = conns.entry(terminal).or_insert_with(|| {
            let client: SocketAddr = format!("192.168.1.{}:{}", 21 + n, 40_001 + u16::from(n))
                .parse()
                .expect("an address");
            let mut c = Conn {
                client,
                server,
                seq: [1001, 7001],
            };
            packets.push((
                time(&mut tick),
                tcp_frame(client, server, 1000, 0, tcp_flags::SYN, b""),
            ));
            packets.push((
                time(&mut tick),
                tcp_frame(
                    server,
                    client,
                    7000,
                    1001,
                    tcp_flags::SYN | tcp_flags::ACK,
                    b"",
                ),
            ));
            packets.push((time(&mut tick), c.segment(true, tcp_flags::ACK, b"")));
            c
        });
        let mut payload = BytesMut::new();
        write_frame(Framing::Len2, &msgs[k], &mut payload).expect("a frame");
        // Pack the timed-out sale with the reversal that follows it on the same connection.
        let packed = msg.mti() == Mti::FINANCIAL_REQUEST
            && parse(&ISO87_ASCII, &msgs[k + 1])
                .is_ok_and(|next| next.mti() == Mti::REVERSAL_REQUEST);
        if packed {
            write_frame(Framing::Len2, &msgs[k + 1], &mut payload).expect("a frame");
            k += 1;
        }
        if k % 3 == 2 {
            // Split over two segments, the cut inside the bitmap.
            let (a, b) = payload.split_at(12);
            packets.push((time(&mut tick), conn.segment(request, tcp_flags::ACK, a)));
            packets.push((
                time(&mut tick),
                conn.segment(request, tcp_flags::PSH | tcp_flags::ACK, b),
            ));
        } else {
            packets.push((
                time(&mut tick),
                conn.segment(request, tcp_flags::PSH | tcp_flags::ACK, &payload),
            ));
        }
        // The acquirer forwards the request to the network and hears back before answering.
        if let (true, Some(changes)) = (request, forward_changes(stan)) {
            let (req, rsp) = network_pair(&msgs[k], stan, &changes);
            for (from_acquirer, m) in [(true, req), (false, rsp)] {
                let mut framed = BytesMut::new();
                write_frame(Framing::Len2, &m, &mut framed).expect("a frame");
                packets.push((
                    time(&mut tick),
                    network.segment(from_acquirer, tcp_flags::PSH | tcp_flags::ACK, &framed),
                ));
            }
        }
        k += 1;
    }
    packets.push((
        time(&mut tick),
        network.segment(true, tcp_flags::FIN | tcp_flags::ACK, b""),
    ));
    packets.push((
        time(&mut tick),
        network.segment(false, tcp_flags::FIN | tcp_flags::ACK, b""),
    ));
    for conn in conns.values_mut() {
        packets.push((
            time(&mut tick),
            conn.segment(true, tcp_flags::FIN | tcp_flags::ACK, b""),
        ));
        packets.push((
            time(&mut tick),
            conn.segment(false, tcp_flags::FIN | tcp_flags::ACK, b""),
        ));
    }
    let mut w = PcapWriter::new(Vec::new()).expect("writing to memory");
    for (t, frame) in packets {
        w.write(t, &frame).expect("writing to memory");
    }
    w.into_inner()
}

/// One terminal's connection: next sequence numbers of each side.
struct Conn {
    client: SocketAddr,
    server: SocketAddr,
    seq: [u32; 2],
}

impl Conn {
    fn segment(&mut self, from_client: bool, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (i, src, dst) = if from_client {
            (0, self.client, self.server)
        } else {
            (1, self.server, self.client)
        };
        let ack = self.seq[1 - i];
        let frame = tcp_frame(src, dst, self.seq[i], ack, flags, payload);
        self.seq[i] =
            self.seq[i].wrapping_add(payload.len() as u32 + u32::from(flags & tcp_flags::FIN != 0));
        frame
    }
}
