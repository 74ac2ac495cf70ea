//! A two-dialect acquiring capture, generated deterministically from a seed: the terminal leg
//! in the UnionPay POS dialect (2-byte length, TPDU, BCD; one TCP connection an exchange, as
//! wireless terminals do) and the network leg in the CUPS dialect (46-byte header, ASCII,
//! 128-bit bitmap; one duplex connection or a pair of one-way ones; the header first or after
//! 4 length digits), with merchant profiles to match, clean traffic (sales, balance inquiries,
//! voids, refunds, sign-ins, a merchant with a declared network ID, reversals forwarded as
//! they should be) and one case of every abuse the two-leg audit detects, each with the
//! findings it must raise.
//!
//! `cargo run --example make_sample` writes seed 1 as `examples/data/acquiring.pcap` with its
//! profiles `acquiring.toml`; `tests/acquiring.rs` audits several seeds and link variants and
//! demands exactly the expected findings.
//!
//! Identities: transaction `i` has terminal trace `i` and network STAN `500000 + i`; a network
//! reversal advice has STAN `800000 + i` (all six digits, wrapping past 999999). A finding's
//! STAN names its transaction.

#![allow(dead_code)]

use bytes::BytesMut;
use iso8583_inspect::capture::Timestamp;
use iso8583_inspect::capture::write::{PcapWriter, tcp_flags, tcp_frame};
use iso8583_inspect::cups::{HeaderFields, station_id};
use iso8583_inspect::frame::{Framing, write_frame};
use iso8583_inspect::spec::{CUP_POS, CUPS};
use iso8583_inspect::{MessageBuilder, Mti};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// The terminal leg's server port.
pub const TERMINAL_PORT: u16 = 8583;
/// The network leg's server port (requests; responses too on a duplex link).
pub const NETWORK_PORT: u16 = 9000;
/// The port the acquirer listens on for the network's responses on a one-way link.
pub const NETWORK_RETURN_PORT: u16 = 9001;

/// The legs of a generated capture, each with its dialect and framing: the terminal leg
/// (UnionPay POS, 2-byte length) and the network leg on both of its ports (CUPS).
pub fn leg_configs() -> Vec<iso8583_inspect::leg::LegConfig<'static>> {
    use iso8583_inspect::leg::{Leg, LegConfig};
    vec![
        LegConfig {
            leg: Leg::Terminal,
            ports: vec![TERMINAL_PORT],
            spec: &CUP_POS,
            framing: Some(Framing::Len2),
        },
        LegConfig {
            leg: Leg::Network,
            ports: vec![NETWORK_PORT, NETWORK_RETURN_PORT],
            spec: &CUPS,
            framing: Some(Framing::Cups),
        },
    ]
}

const POSP: &str = "10.10.0.1";
const CUPS_HOST: &str = "10.30.0.1";
/// The acquirer's CUPS station and field 32: institution 4822, region 5810 (Guangzhou).
const ACQUIRER_ID: &str = "48225810";
const CUPS_STATION: &str = "00010000";
const REGION: &str = "5810";

/// A STAN (field 11): six digits, wrapping as a switch's counter does (captures of more than
/// 500,000 transactions reuse numbers far apart in time).
fn stan(n: u32) -> String {
    format!("{:06}", n % 1_000_000)
}

/// The bundled sample's size and link: about 200 transactions, one-way network connections
/// with length-prefixed CUPS frames.
pub const SAMPLE_TRANSACTIONS: u32 = 200;
/// See [`SAMPLE_TRANSACTIONS`].
pub const SAMPLE_LINK: Link = Link {
    one_way: true,
    prefixed: true,
};

/// How the network link is laid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// Requests and responses on two one-way connections (else one duplex connection).
    pub one_way: bool,
    /// 4 ASCII length digits before each CUPS header (else the header first).
    pub prefixed: bool,
}

/// What one seed generates.
#[derive(Debug)]
pub struct Generated {
    /// The capture.
    pub pcap: Vec<u8>,
    /// The merchant profiles (TOML).
    pub profiles: String,
    /// Every finding the audit must raise: (rule id, leg, transaction).
    pub expected: Vec<(&'static str, &'static str, u32)>,
    /// Transactions generated.
    pub transactions: u32,
    /// Transactions that are clean (no finding may name them).
    pub clean: Vec<u32>,
}

/// A small deterministic generator (splitmix64), seeded by its value; the tests that draw
/// random inputs use it too.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number below `n` (0 for `n` = 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A terminal-leg merchant.
struct Merchant {
    id: String,
    name: &'static str,
    chinese: &'static str,
    mcc: &'static str,
    terminals: Vec<String>,
    /// The network leg's ID declared for it, if the acquirer maps it.
    network_id: Option<String>,
}

fn merchants() -> Vec<Merchant> {
    let m = |serial: u32,
             mcc: &'static str,
             name: &'static str,
             chinese: &'static str,
             terminals: u32| Merchant {
        id: format!("822{REGION}{mcc}{serial:04}"),
        name,
        chinese,
        mcc,
        terminals: (1..=terminals)
            .map(|t| format!("{serial:04}{t:04}"))
            .collect(),
        network_id: None,
    };
    let mut v = vec![
        m(1, "5812", "Golden Dragon Restaurant", "金龙酒家", 3),
        m(2, "5812", "Pearl River Seafood", "珠江海鲜酒楼", 2),
        m(3, "5812", "Lotus Tea House", "莲香茶楼", 2),
        m(4, "7011", "Baiyun Hotel", "白云宾馆", 2),
        m(5, "5944", "Chow Jewellery", "周氏珠宝", 1),
        m(6, "5311", "Tianhe Department Store", "天河百货", 3),
        m(7, "5411", "Happy Mart", "好又多超市", 2),
        m(8, "5812", "Canton Kitchen", "广州厨房", 1),
    ];
    // The acquirer maps Canton Kitchen to a UnionPay merchant number of its own, and says so.
    v[7].network_id = Some(format!("822{REGION}58120123"));
    v
}

/// The pooled supermarket merchant the switch substitutes (not in the profiles).
fn pool_merchant() -> String {
    format!("822{REGION}54110088")
}

fn profiles(merchants: &[Merchant]) -> String {
    let mut out = String::from(
        "# Merchant profiles of the two-dialect acquiring sample (examples/common/acquiring.rs).\n",
    );
    for m in merchants {
        let terminals: Vec<String> = m.terminals.iter().map(|t| format!("\"{t}\"")).collect();
        out.push_str(&format!(
            "\n[[merchant]]\nid = \"{}\"\nname = \"{}\"\nnames = [\"{}\"]\nmcc = \"{}\"\nacquirer = \"822\"\nacquirer_ids = [\"{ACQUIRER_ID}\"]\nterminals = [{}]\ncurrency = \"156\"\nmax_amount = 5000000\nregion = \"{REGION}\"\nroute_destinations = [\"{CUPS_STATION}\"]\nroute_sources = [\"{ACQUIRER_ID}\"]\nreceivers = [\"{CUPS_STATION}\"]\n",
            m.id,
            m.name,
            m.chinese,
            m.mcc,
            terminals.join(", ")
        ));
        if let Some(n) = &m.network_id {
            out.push_str(&format!("network_ids = [\"{n}\"]\n"));
        }
    }
    out
}

/// GBK, padded with spaces to field 43's 40 bytes.
fn gbk43(text: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let mut v = bytes.into_owned();
    v.resize(40, b' ');
    v
}

/// What is done to a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sale,
    Balance,
    /// A sale and, a few seconds on, its void.
    SaleThenVoid,
    /// A sale and, a minute on, its refund.
    SaleThenRefund,
    SignIn,
    /// The terminal's answer is lost; it reverses; the acquirer forwards the reversal.
    TimeoutReversed,
    // Abuses.
    MccOverride,
    ReservedMcc,
    PooledMerchant,
    RotatedMerchant,
    RegionJump,
    NameChanged,
    FeeAdded,
    ApprovedNotTold,
    ReversalNotForwarded,
    ReversalRefused,
    Replayed,
    Transfer,
    Rerouted,
    AmountMarkedUp,
}

/// One message on the wire: when, on which connection, from which side.
struct Event {
    micros: i64,
    conn: usize,
    from_client: bool,
    bytes: Vec<u8>,
}

/// A TCP connection: its ends and when it opens and closes.
struct Conn {
    client: SocketAddr,
    server: SocketAddr,
    open: i64,
    close: i64,
}

struct Builder {
    rng: Rng,
    link: Link,
    merchants: Vec<Merchant>,
    events: Vec<Event>,
    conns: Vec<Conn>,
    /// The network connection requests go on, and the one responses come back on.
    net_requests: usize,
    net_responses: usize,
    next_port: u16,
    expected: Vec<(&'static str, &'static str, u32)>,
    clean: Vec<u32>,
    /// The terminals' batch number (60.2).
    batch: u32,
    /// Pooled and rotated cases so far (each at the next merchant, under the next pool ID).
    pooled: usize,
    rotated: u32,
}

const BASE_SECS: i64 = 1_795_399_200; // 2026-11-23T02:00:00Z, 10:00 in Beijing

/// `MMDDhhmmss`, `hhmmss` and `MMDD` of a capture time (Beijing time, the date fixed to the
/// capture's).
fn clock(micros: i64) -> (String, String, String) {
    let secs = BASE_SECS + micros / 1_000_000 + 8 * 3600;
    let day = secs % 86_400;
    let hms = format!("{:02}{:02}{:02}", day / 3600, day / 60 % 60, day % 60);
    ("1123".to_string() + &hms, hms, "1123".to_string())
}

/// A sale's facts, shared by its messages on both legs.
#[derive(Clone)]
struct Txn {
    id: u32,
    merchant: usize,
    terminal: String,
    pan: String,
    amount: u64,
    rrn: String,
    auth: String,
    micros: i64,
    processing: &'static str,
    type_code: &'static str,
}

impl Builder {
    fn conn(&mut self, client: SocketAddr, server: SocketAddr, open: i64) -> usize {
        self.conns.push(Conn {
            client,
            server,
            open,
            close: open,
        });
        self.conns.len() - 1
    }

    fn send(&mut self, conn: usize, from_client: bool, micros: i64, bytes: Vec<u8>) {
        if let Some(c) = self.conns.get_mut(conn) {
            c.close = c.close.max(micros + 10_000);
        }
        self.events.push(Event {
            micros,
            conn,
            from_client,
            bytes,
        });
    }

    /// A terminal's own connection for one exchange.
    fn terminal_conn(&mut self, terminal: &str, micros: i64) -> usize {
        let host = terminal
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        let client: SocketAddr = format!(
            "10.1.{}.{}:{}",
            host % 200 + 1,
            host / 200 % 250 + 1,
            self.next_port
        )
        .parse()
        .expect("an address");
        self.next_port = if self.next_port >= 60_000 {
            40_000
        } else {
            self.next_port + 1
        };
        let server: SocketAddr = format!("{POSP}:{TERMINAL_PORT}")
            .parse()
            .expect("an address");
        self.conn(client, server, micros - 5_000)
    }

    fn terminal_request(&self, t: &Txn, mti: Mti) -> MessageBuilder<'static> {
        let m = &self.merchants[t.merchant];
        let mut b = MessageBuilder::new(&CUP_POS, mti);
        b.set_header(&[
            0x60, 0x00, 0x06, 0x00, 0x00, 0x60, 0x31, 0x00, 0x31, 0x10, 0x03,
        ])
        .expect("a header");
        b.set_text(2, &t.pan).expect("2");
        b.set_text(3, t.processing).expect("3");
        if t.processing != "310000" {
            b.set_text(4, &format!("{:012}", t.amount)).expect("4");
        }
        b.set_text(11, &stan(t.id)).expect("11");
        b.set_text(14, "2912").expect("14");
        b.set_text(22, "021").expect("22");
        b.set_text(25, "00").expect("25");
        b.set_text(35, &format!("{}D29121011234500000", t.pan))
            .expect("35");
        b.set_text(41, &t.terminal).expect("41");
        b.set_text(42, &m.id).expect("42");
        b.set_text(49, "156").expect("49");
        b.set_text(60, &format!("{}{:06}000", t.type_code, self.batch))
            .expect("60");
        b.set_bytes(64, &[0x3A, 0x91, 0x0C, 0x55, 0x00, 0x00, 0x00, 0x00])
            .expect("64");
        b
    }

    fn terminal_response(
        &self,
        req: &MessageBuilder<'static>,
        t: &Txn,
        code: &str,
        rrn: &str,
    ) -> MessageBuilder<'static> {
        let mut b = req.clone();
        b.set_mti(req.mti().response().expect("a request"));
        b.set_header(&[
            0x60, 0x00, 0x00, 0x00, 0x06, 0x60, 0x31, 0x00, 0x31, 0x10, 0x03,
        ])
        .expect("a header");
        b.remove(14).remove(22).remove(35);
        let (_, hms, mmdd) = clock(t.micros);
        b.set_text(12, &hms).expect("12");
        b.set_text(13, &mmdd).expect("13");
        b.set_text(15, "1123").expect("15");
        b.set_text(37, rrn).expect("37");
        if code == "00" {
            b.set_text(38, &t.auth).expect("38");
        }
        b.set_text(39, code).expect("39");
        b.set_text(44, &format!("{:<11}{:<11}", "03080000", ACQUIRER_ID))
            .expect("44");
        if t.processing == "310000" {
            b.set_text(54, "1001156C000000523400").expect("54");
        }
        b
    }

    fn network_request(&self, t: &Txn, mti: Mti, number: u32) -> MessageBuilder<'static> {
        let m = &self.merchants[t.merchant];
        let (f7, hms, mmdd) = clock(t.micros + 50_000);
        let mut b = MessageBuilder::new(&CUPS, mti);
        b.set_text(2, &t.pan).expect("2");
        b.set_text(3, t.processing).expect("3");
        if t.processing != "310000" {
            b.set_text(4, &format!("{:012}", t.amount)).expect("4");
        }
        b.set_text(7, &f7).expect("7");
        b.set_text(11, &stan(number)).expect("11");
        b.set_text(12, &hms).expect("12");
        b.set_text(13, &mmdd).expect("13");
        b.set_text(14, "2912").expect("14");
        b.set_text(18, m.mcc).expect("18");
        b.set_text(22, "021").expect("22");
        b.set_text(25, "00").expect("25");
        b.set_text(32, ACQUIRER_ID).expect("32");
        b.set_text(35, &format!("{}=29121011234500000", t.pan))
            .expect("35");
        b.set_text(37, &t.rrn).expect("37");
        b.set_text(41, &t.terminal).expect("41");
        b.set_text(42, m.network_id.as_deref().unwrap_or(&m.id))
            .expect("42");
        b.set_bytes(43, &gbk43(m.chinese)).expect("43");
        b.set_text(49, "156").expect("49");
        b.set_text(60, "00000000030000000000").expect("60");
        b.set_bytes(128, &[0x5C, 0x17, 0xA0, 0x42, 0x00, 0x00, 0x00, 0x00])
            .expect("128");
        b
    }

    fn network_response(
        &self,
        req: &MessageBuilder<'static>,
        t: &Txn,
        code: &str,
        rrn: Option<&str>,
    ) -> MessageBuilder<'static> {
        let mut b = req.clone();
        b.set_mti(req.mti().response().expect("a request"));
        b.remove(14).remove(22).remove(35).remove(43);
        b.set_text(15, "1123").expect("15");
        if code == "00" {
            b.set_text(38, &t.auth).expect("38");
        }
        if let Some(rrn) = rrn {
            b.set_text(37, rrn).expect("37");
        }
        b.set_text(39, code).expect("39");
        b.set_text(100, CUPS_STATION).expect("100");
        if t.processing == "310000" {
            b.set_text(54, "1001156C000000523400").expect("54");
        }
        b
    }

    /// The CUPS frame of a network message: header (to CUPS, or back to the acquirer), message,
    /// and the link's framing.
    fn cups_frame(
        &self,
        msg: &MessageBuilder<'static>,
        to_cups: bool,
        destination: &str,
    ) -> Vec<u8> {
        let (dst, src) = if to_cups {
            (destination, ACQUIRER_ID)
        } else {
            (ACQUIRER_ID, CUPS_STATION)
        };
        let with_blank = msg.to_vec().expect("a network message encodes");
        let header = HeaderFields {
            destination: station_id(dst),
            source: station_id(src),
            ..HeaderFields::default()
        }
        .to_bytes(with_blank.len() - iso8583_inspect::cups::HEADER_LEN)
        .expect("a header");
        let mut msg = msg.clone();
        msg.set_header(&header).expect("46 bytes");
        let bytes = msg.to_vec().expect("a network message encodes");
        let framing = if self.link.prefixed {
            Framing::Len4Ascii
        } else {
            Framing::Cups
        };
        let mut framed = BytesMut::new();
        write_frame(framing, &bytes, &mut framed).expect("a CUPS frame");
        framed.to_vec()
    }

    fn terminal_frame(msg: &MessageBuilder<'static>) -> Vec<u8> {
        let mut framed = BytesMut::new();
        write_frame(
            Framing::Len2,
            &msg.to_vec().expect("a terminal message encodes"),
            &mut framed,
        )
        .expect("a frame");
        framed.to_vec()
    }

    /// Sends a network request and, `after` µs later, its response (on the link's connections).
    fn network_exchange(
        &mut self,
        req: &MessageBuilder<'static>,
        rsp: Option<&MessageBuilder<'static>>,
        at: i64,
        destination: &str,
    ) {
        let frame = self.cups_frame(req, true, destination);
        let conn = self.net_requests;
        self.send(conn, true, at, frame);
        if let Some(rsp) = rsp {
            let frame = self.cups_frame(rsp, false, destination);
            let (conn, from_client) = if self.link.one_way {
                (self.net_responses, true)
            } else {
                (self.net_requests, false)
            };
            self.send(conn, from_client, at + 250_000, frame);
        }
    }

    fn new_txn(&mut self, id: u32, merchant: usize, micros: i64) -> Txn {
        let m = &self.merchants[merchant];
        let terminal = m.terminals[self.rng.below(m.terminals.len() as u64) as usize].clone();
        let pan = format!("62220{:014}", self.rng.next() % 100_000_000_000_000);
        Txn {
            id,
            merchant,
            terminal,
            pan,
            amount: 1_000 + self.rng.below(300_000),
            rrn: format!("{:06}{:06}", 332_700 + id / 1_000_000, id % 1_000_000),
            auth: format!("{:06}", 100_000 + self.rng.below(900_000)),
            micros,
            processing: "000000",
            type_code: "22",
        }
    }

    /// A purchase as the acquirer handles it: terminal request, forward, network answer,
    /// terminal answer. `network` alters the forward; `terminal_code` is what the terminal is
    /// told (`None`: nothing).
    fn purchase(
        &mut self,
        t: &Txn,
        mti: Mti,
        network: impl FnOnce(&mut MessageBuilder<'static>),
        network_code: &str,
        terminal_code: Option<&str>,
        destination: &str,
    ) -> (MessageBuilder<'static>, MessageBuilder<'static>) {
        let treq = self.terminal_request(t, mti);
        let conn = self.terminal_conn(&t.terminal.clone(), t.micros);
        self.send(conn, true, t.micros, Self::terminal_frame(&treq));
        let mut nreq = self.network_request(t, mti, 500_000 + t.id);
        network(&mut nreq);
        let nrsp = self.network_response(&nreq, t, network_code, None);
        self.network_exchange(&nreq, Some(&nrsp), t.micros + 50_000, destination);
        if let Some(code) = terminal_code {
            let trsp = self.terminal_response(&treq, t, code, &t.rrn);
            self.send(conn, false, t.micros + 350_000, Self::terminal_frame(&trsp));
        }
        (treq, nreq)
    }

    /// A sale answered on both legs, its forward changed by `network`.
    fn altered(&mut self, t: &Txn, network: impl FnOnce(&mut MessageBuilder<'static>)) {
        self.purchase(
            t,
            Mti::FINANCIAL_REQUEST,
            network,
            "00",
            Some("00"),
            CUPS_STATION,
        );
    }

    /// The terminal reverses `treq` (reason `reason`) on a new connection `after` µs later,
    /// and the acquirer answers it.
    fn terminal_reversal(
        &mut self,
        t: &Txn,
        treq: &MessageBuilder<'static>,
        reason: &str,
        at: i64,
    ) {
        let mut rev = treq.clone();
        rev.set_mti(Mti::REVERSAL_REQUEST);
        rev.remove(35).remove(64);
        rev.set_text(39, reason).expect("39");
        let conn = self.terminal_conn(&t.terminal.clone(), at);
        self.send(conn, true, at, Self::terminal_frame(&rev));
        let mut rsp = self.terminal_response(&rev, t, "00", &t.rrn);
        rsp.remove(38);
        self.send(conn, false, at + 300_000, Self::terminal_frame(&rsp));
    }

    /// A sale the network approves whose answer never reaches the terminal: the terminal reverses
    /// it (98) on a new connection 40 s on, and the acquirer forwards the reversal as a 0420 that
    /// the network answers with `forwarded`, or (`None`) does not forward it. The lost answer is
    /// a `no-response` on the terminal leg.
    fn lost_answer(&mut self, t: &Txn, forwarded: Option<&str>) {
        let (treq, nreq) =
            self.purchase(t, Mti::FINANCIAL_REQUEST, |_| {}, "00", None, CUPS_STATION);
        self.terminal_reversal(t, &treq, "98", t.micros + 40_000_000);
        if let Some(code) = forwarded {
            self.network_reversal(t, &nreq, None, code, t.micros + 40_100_000);
        }
        self.expect("no-response", "terminal", t.id);
    }

    /// The network reversal advice (0420) of `nreq`, under `merchant`, answered with `code`.
    fn network_reversal(
        &mut self,
        t: &Txn,
        nreq: &MessageBuilder<'static>,
        merchant: Option<&str>,
        code: &str,
        at: i64,
    ) {
        let sent = nreq.to_vec().expect("encodes");
        let msg = iso8583_inspect::parse(&CUPS, &sent).expect("parses");
        let f7 = msg.field(7).expect("7").to_text();
        let mut rev = nreq.clone();
        rev.set_mti(Mti::new(420));
        rev.remove(35).remove(52);
        rev.set_text(11, &stan(800_000 + t.id)).expect("11");
        rev.set_text(39, "98").expect("39");
        rev.set_text(60, "43510000000000000000").expect("60");
        rev.set_text(
            90,
            &format!(
                "0200{}{f7}{:0>11}{:0>11}",
                stan(500_000 + t.id),
                ACQUIRER_ID,
                "0"
            ),
        )
        .expect("90");
        if let Some(m) = merchant {
            rev.set_text(42, m).expect("42");
        }
        let rsp = self.network_response(&rev, t, code, None);
        self.network_exchange(&rev, Some(&rsp), at, CUPS_STATION);
    }

    fn expect(&mut self, rule: &'static str, leg: &'static str, id: u32) {
        self.expected.push((rule, leg, id));
    }

    /// Generates transaction `id` of `kind` at `micros` (a second of traffic, its reversals and
    /// voids aside).
    fn transaction(&mut self, id: u32, kind: Kind, micros: i64) {
        let ok = Some("00");
        let home = CUPS_STATION;
        // Each abuse at its own merchant, chosen so that its findings are exactly those listed.
        let pick = |rng: &mut Rng, from: &[usize]| from[rng.below(from.len() as u64) as usize];
        let merchant = match kind {
            Kind::MccOverride | Kind::ApprovedNotTold | Kind::NameChanged => {
                pick(&mut self.rng, &[0, 1, 2])
            }
            Kind::ReservedMcc => 5,
            // Three restaurants behind one pooled supermarket merchant.
            Kind::PooledMerchant => {
                self.pooled += 1;
                self.pooled - 1
            }
            Kind::RotatedMerchant => 4,
            Kind::RegionJump => pick(&mut self.rng, &[3, 5, 6, 7]),
            Kind::SaleThenVoid | Kind::SaleThenRefund => pick(&mut self.rng, &[3, 5, 6]),
            _ => self.rng.below(self.merchants.len() as u64) as usize,
        };
        let mut t = self.new_txn(id, merchant, micros);
        match kind {
            Kind::Sale => {
                self.purchase(&t, Mti::FINANCIAL_REQUEST, |_| {}, "00", ok, home);
                self.clean.push(id);
            }
            Kind::Balance => {
                t.processing = "310000";
                t.type_code = "01";
                self.purchase(&t, Mti::FINANCIAL_REQUEST, |_| {}, "00", ok, home);
                self.clean.push(id);
            }
            Kind::SignIn => {
                let m = &self.merchants[t.merchant];
                let mut b = MessageBuilder::new(&CUP_POS, Mti::NETWORK_REQUEST);
                b.set_header(&[
                    0x60, 0x00, 0x06, 0x00, 0x00, 0x60, 0x31, 0x00, 0x31, 0x10, 0x03,
                ])
                .expect("a header");
                b.set_text(11, &stan(id)).expect("11");
                b.set_text(41, &t.terminal).expect("41");
                b.set_text(42, &m.id).expect("42");
                b.set_text(60, &format!("00{:06}003", self.batch))
                    .expect("60");
                b.set_text(63, "001").expect("63");
                let mut r = b.clone();
                r.set_mti(Mti::NETWORK_RESPONSE);
                r.set_text(39, "00").expect("39");
                r.set_text(62, "0123456789ABCDEF0123456789ABCDEF")
                    .expect("62");
                let conn = self.terminal_conn(&t.terminal.clone(), micros);
                self.send(conn, true, micros, Self::terminal_frame(&b));
                self.send(conn, false, micros + 200_000, Self::terminal_frame(&r));
                self.clean.push(id);
            }
            Kind::SaleThenVoid | Kind::SaleThenRefund => {
                // The sale (transaction `id`), then its undoing as transaction `id + 1`.
                self.purchase(&t, Mti::FINANCIAL_REQUEST, |_| {}, "00", ok, home);
                let refund = kind == Kind::SaleThenRefund;
                let mut u = self.new_txn(
                    id + 1,
                    merchant,
                    micros + if refund { 60_000_000 } else { 8_000_000 },
                );
                u.pan = t.pan.clone();
                u.terminal = t.terminal.clone();
                u.amount = t.amount;
                u.processing = "200000";
                u.type_code = if refund { "25" } else { "23" };
                let mti = if refund {
                    Mti::new(220)
                } else {
                    Mti::FINANCIAL_REQUEST
                };
                let original_rrn = t.rrn.clone();
                let mut treq = self.terminal_request(&u, mti);
                treq.set_text(37, &original_rrn).expect("37");
                treq.set_text(61, &format!("{:06}{}1123", self.batch, stan(t.id)))
                    .expect("61");
                let conn = self.terminal_conn(&u.terminal.clone(), u.micros);
                self.send(conn, true, u.micros, Self::terminal_frame(&treq));
                let mut nreq = self.network_request(&u, mti, 500_000 + u.id);
                nreq.set_text(37, &original_rrn).expect("37");
                if !refund {
                    let sale = self
                        .network_request(&t, Mti::FINANCIAL_REQUEST, 500_000 + t.id)
                        .to_vec()
                        .expect("encodes");
                    let f7 = iso8583_inspect::parse(&CUPS, &sale)
                        .expect("parses")
                        .field(7)
                        .expect("7")
                        .to_text();
                    nreq.set_text(
                        90,
                        &format!(
                            "0200{}{f7}{:0>11}{:0>11}",
                            stan(500_000 + t.id),
                            ACQUIRER_ID,
                            "0"
                        ),
                    )
                    .expect("90");
                }
                let nrsp = self.network_response(&nreq, &u, "00", Some(&u.rrn));
                self.network_exchange(&nreq, Some(&nrsp), u.micros + 50_000, home);
                let trsp = self.terminal_response(&treq, &u, "00", &u.rrn);
                self.send(conn, false, u.micros + 350_000, Self::terminal_frame(&trsp));
                self.clean.push(id);
                self.clean.push(id + 1);
            }
            Kind::TimeoutReversed => {
                // The terminal's answer is lost; it reverses (98) 40 s on; the acquirer forwards
                // the reversal as it should. Only the lost answer is a finding, and the
                // network's record that its approval was reversed.
                self.lost_answer(&t, Some("00"));
                self.expect("approved-then-reversed", "network", id);
            }
            Kind::MccOverride => {
                self.altered(&t, |n| {
                    n.set_text(18, "5411").expect("18");
                });
                self.expect("mcc-mismatch", "network", id);
                self.expect("mcc-class-downgrade", "network", id);
                self.expect("hop-mcc-substituted", "terminal+network", id);
            }
            Kind::ReservedMcc => {
                // At the department store (一般/标准): a reserved code of the same class.
                self.altered(&t, |n| {
                    n.set_text(18, "1234").expect("18");
                });
                self.expect("mcc-mismatch", "network", id);
                self.expect("mcc-reserved-or-unknown", "network", id);
                self.expect("hop-mcc-substituted", "terminal+network", id);
            }
            Kind::PooledMerchant | Kind::RotatedMerchant => {
                // The switch clears the sale under a pooled merchant and terminal.
                let pool = if kind == Kind::PooledMerchant {
                    pool_merchant()
                } else {
                    self.rotated += 1;
                    format!("822{REGION}5944{:04}", 9000 + self.rotated)
                };
                let pool_for_closure = pool.clone();
                let pooled_mcc = if kind == Kind::PooledMerchant {
                    "5411"
                } else {
                    "5944"
                };
                self.altered(&t, |n| {
                    n.set_text(42, &pool_for_closure).expect("42");
                    n.set_text(41, "P0000088").expect("41");
                    n.set_text(18, pooled_mcc).expect("18");
                    n.set_bytes(43, &gbk43("生活超市")).expect("43");
                });
                self.expect("unknown-merchant", "network", id);
                self.expect("hop-merchant-substituted", "terminal+network", id);
                if kind == Kind::PooledMerchant {
                    self.expect("hop-mcc-substituted", "terminal+network", id);
                }
            }
            Kind::RegionJump => {
                // Cleared as the same kind of merchant in Shanghai (region 3100).
                let m = &self.merchants[t.merchant];
                let elsewhere = format!("822{}{}{}", "3100", m.mcc, "0777");
                self.altered(&t, |n| {
                    n.set_text(42, &elsewhere).expect("42");
                    n.set_text(41, "Q0003100").expect("41");
                });
                self.expect("unknown-merchant", "network", id);
                self.expect("hop-merchant-substituted", "terminal+network", id);
                self.expect("region-jump", "terminal+network", id);
            }
            Kind::NameChanged => {
                self.altered(&t, |n| {
                    n.set_bytes(43, &gbk43("鸿运贸易有限公司")).expect("43");
                });
                self.expect("name-mismatch", "network", id);
            }
            Kind::FeeAdded => {
                self.altered(&t, |n| {
                    n.set_text(28, "D00000300").expect("28");
                });
                self.expect("fee-field-present", "network", id);
            }
            Kind::ApprovedNotTold => {
                self.purchase(&t, Mti::FINANCIAL_REQUEST, |_| {}, "00", Some("96"), home);
                self.expect(
                    "approved-on-network-failed-on-terminal",
                    "terminal+network",
                    id,
                );
            }
            Kind::ReversalNotForwarded => {
                self.lost_answer(&t, None);
                self.expect("reversal-not-forwarded", "terminal+network", id);
            }
            Kind::ReversalRefused => {
                self.lost_answer(&t, Some("25"));
                self.expect("approved-then-reversed", "network", id);
                self.expect("reversal-failed", "terminal+network", id);
            }
            Kind::Replayed => {
                // The same card, amount, terminal and merchant again 10 s on, as a new trace.
                self.purchase(&t, Mti::FINANCIAL_REQUEST, |_| {}, "00", ok, home);
                let mut again = t.clone();
                again.id = id + 1;
                again.micros = micros + 10_000_000;
                again.rrn = format!(
                    "{:06}{:06}",
                    332_700 + (id + 1) / 1_000_000,
                    (id + 1) % 1_000_000
                );
                self.purchase(&again, Mti::FINANCIAL_REQUEST, |_| {}, "00", ok, home);
                self.clean.push(id);
                self.expect("duplicate-or-replay", "terminal", id + 1);
                self.expect("duplicate-or-replay", "network", id + 1);
            }
            Kind::Transfer => {
                t.processing = "400000";
                self.purchase(&t, Mti::FINANCIAL_REQUEST, |_| {}, "00", ok, home);
                self.expect("transfer-disguised-as-sale", "terminal", id);
                self.expect("transfer-disguised-as-sale", "network", id);
            }
            Kind::Rerouted => {
                self.purchase(&t, Mti::FINANCIAL_REQUEST, |_| {}, "00", ok, "04031000");
                self.expect("routing-changed", "network", id);
            }
            Kind::AmountMarkedUp => {
                let more = t.amount + 300;
                self.altered(&t, |n| {
                    n.set_text(4, &format!("{more:012}")).expect("4");
                });
                self.expect("hop-amount-altered", "terminal+network", id);
            }
        }
    }

    /// Renders the connections and messages as a pcap file, in time order.
    fn pcap(&self) -> Vec<u8> {
        let mut packets: Vec<(i64, usize, u8, bool, Vec<u8>)> = Vec::new();
        for (i, c) in self.conns.iter().enumerate() {
            packets.push((c.open, i, tcp_flags::SYN, true, Vec::new()));
            packets.push((
                c.open + 1,
                i,
                tcp_flags::SYN | tcp_flags::ACK,
                false,
                Vec::new(),
            ));
            packets.push((c.open + 2, i, tcp_flags::ACK, true, Vec::new()));
            packets.push((
                c.close,
                i,
                tcp_flags::FIN | tcp_flags::ACK,
                true,
                Vec::new(),
            ));
            packets.push((
                c.close + 1,
                i,
                tcp_flags::FIN | tcp_flags::ACK,
                false,
                Vec::new(),
            ));
        }
        for e in &self.events {
            packets.push((
                e.micros,
                e.conn,
                tcp_flags::PSH | tcp_flags::ACK,
                e.from_client,
                e.bytes.clone(),
            ));
        }
        packets.sort_by_key(|p| (p.0, p.1));
        let mut seq: BTreeMap<usize, [u32; 2]> = BTreeMap::new();
        let mut w = PcapWriter::new(Vec::new()).expect("writing to memory");
        for (micros, conn, flags, from_client, payload) in packets {
            let c = &self.conns[conn];
            let s = seq.entry(conn).or_insert([1_000, 50_000]);
            let (i, src, dst) = if from_client {
                (0, c.client, c.server)
            } else {
                (1, c.server, c.client)
            };
            let ack = if flags & tcp_flags::SYN != 0 && from_client {
                0
            } else {
                s[1 - i]
            };
            let frame = tcp_frame(src, dst, s[i], ack, flags, &payload);
            let advance = payload.len() as u32
                + u32::from(flags & tcp_flags::SYN != 0)
                + u32::from(flags & tcp_flags::FIN != 0);
            s[i] = s[i].wrapping_add(advance);
            let time = Timestamp::new(
                BASE_SECS + micros / 1_000_000,
                (micros % 1_000_000 * 1_000) as u32,
            );
            w.write(time, &frame).expect("writing to memory");
        }
        w.into_inner()
    }
}

/// Generates `transactions` clean transactions (about) with every abuse mixed in at random
/// places, from `seed`.
pub fn generate(seed: u64, transactions: u32, link: Link) -> Generated {
    let merchants = merchants();
    let profiles = profiles(&merchants);
    let mut b = Builder {
        rng: Rng(seed),
        link,
        merchants,
        events: Vec::new(),
        conns: Vec::new(),
        net_requests: 0,
        net_responses: 0,
        next_port: 40_000,
        expected: Vec::new(),
        clean: Vec::new(),
        batch: 1,
        pooled: 0,
        rotated: 0,
    };
    let posp: SocketAddr = format!("{POSP}:39000").parse().expect("an address");
    let cups: SocketAddr = format!("{CUPS_HOST}:{NETWORK_PORT}")
        .parse()
        .expect("an address");
    b.net_requests = b.conn(posp, cups, 0);
    b.net_responses = if link.one_way {
        let from: SocketAddr = format!("{CUPS_HOST}:41000").parse().expect("an address");
        let to: SocketAddr = format!("{POSP}:{NETWORK_RETURN_PORT}")
            .parse()
            .expect("an address");
        b.conn(from, to, 0)
    } else {
        b.net_requests
    };
    // The schedule: mostly sales, some of the other clean kinds, each abuse once (the pool
    // three times for its fan-in, the rotation three times), shuffled.
    let mut kinds = Vec::new();
    for i in 0..transactions {
        kinds.push(match i % 20 {
            3 => Kind::Balance,
            7 => Kind::SaleThenVoid,
            11 => Kind::SignIn,
            15 => Kind::SaleThenRefund,
            _ => Kind::Sale,
        });
    }
    kinds.push(Kind::TimeoutReversed);
    for abuse in [
        Kind::MccOverride,
        Kind::ReservedMcc,
        Kind::PooledMerchant,
        Kind::PooledMerchant,
        Kind::PooledMerchant,
        Kind::RotatedMerchant,
        Kind::RotatedMerchant,
        Kind::RotatedMerchant,
        Kind::RegionJump,
        Kind::NameChanged,
        Kind::FeeAdded,
        Kind::ApprovedNotTold,
        Kind::ReversalNotForwarded,
        Kind::ReversalRefused,
        Kind::Replayed,
        Kind::Transfer,
        Kind::Rerouted,
        Kind::AmountMarkedUp,
    ] {
        kinds.push(abuse);
    }
    for i in (1..kinds.len()).rev() {
        let j = b.rng.below(i as u64 + 1) as usize;
        kinds.swap(i, j);
    }
    let mut micros = 1_000_000i64;
    let mut id = 1u32;
    let mut pooled = Vec::new();
    let mut rotated = 0;
    for kind in kinds {
        b.transaction(id, kind, micros);
        if kind == Kind::PooledMerchant {
            pooled.push(id);
        }
        if kind == Kind::RotatedMerchant {
            rotated += 1;
            if rotated == 3 {
                b.expect("channel-merchant-rotation", "terminal+network", id);
            }
        }
        micros += 1_000_000 + b.rng.below(1_500_000) as i64;
        // Two ids for the kinds that make two transactions.
        id += if matches!(
            kind,
            Kind::SaleThenVoid | Kind::SaleThenRefund | Kind::Replayed
        ) {
            2
        } else {
            1
        };
    }
    if let Some(&third) = pooled.get(2) {
        b.expect("channel-merchant-fan-in", "terminal+network", third);
    }
    let pcap = b.pcap();
    Generated {
        pcap,
        profiles,
        expected: b.expected,
        transactions: id - 1,
        clean: b.clean,
    }
}
