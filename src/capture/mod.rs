//! Captured traffic: pcap and pcapng files -> TCP reassembly -> framing -> messages.
//!
//! [`CaptureReader`] streams a capture (pcap or pcapng, told apart by the file's magic;
//! microsecond or nanosecond timestamps, either byte order; Ethernet with VLAN tags, Linux
//! cooked SLL/SLL2, raw IP and BSD loopback; IPv4 and IPv6) and yields [`CaptureEvent`]s: each
//! message with its time, flow and direction, and what went wrong on the way (gaps, frame
//! errors, a damaged file) without losing what came before. Memory is bounded by the open flows
//! and their unacknowledged bytes, never by the file's size.
//!
//! ```no_run
//! use iso8583_inspect::capture::{CaptureConfig, CaptureEvent, CaptureReader};
//! use iso8583_inspect::spec::ISO87_ASCII;
//! let file = std::fs::File::open("examples/data/sample.pcap")?;
//! for event in CaptureReader::new(file, &ISO87_ASCII, CaptureConfig::default())? {
//!     if let CaptureEvent::Message(m) = event {
//!         let msg = iso8583_inspect::parse(&ISO87_ASCII, &m.bytes)?;
//!         println!("{} {} -> {} {}", m.time, m.src(), m.dst(), msg.mti());
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod packet;
mod resync;
mod tcp;
pub mod write;

use crate::frame::{DEFAULT_MAX_FRAME, FrameError, Framing};
use crate::leg::{Leg, LegConfig};
use crate::spec::Spec;
use bytes::Bytes;
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};
use std::collections::VecDeque;
use std::fmt;
use std::io::Read;
use std::net::SocketAddr;

/// A capture timestamp: seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Timestamp {
    /// A timestamp from seconds and nanoseconds.
    #[must_use]
    pub const fn new(secs: i64, nanos: u32) -> Timestamp {
        Timestamp { secs, nanos }
    }

    /// Milliseconds since 1970 (saturating): the unit of every timeout and window.
    #[must_use]
    pub const fn millis(self) -> i64 {
        self.secs
            .saturating_mul(1000)
            .saturating_add((self.nanos / 1_000_000) as i64)
    }

    /// Microseconds since 1970 (saturating).
    #[must_use]
    pub const fn micros(self) -> i64 {
        self.secs
            .saturating_mul(1_000_000)
            .saturating_add((self.nanos / 1000) as i64)
    }

    /// Reads back a time as [`Timestamp`]'s `Display` writes it (RFC 3339, UTC,
    /// `2026-11-23T01:30:03.500000Z`; the fraction may be left out), to the microsecond.
    #[must_use]
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        let num = |from: usize, to: usize| -> Option<i64> {
            let digits = b.get(from..to)?;
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(digits).ok()?.parse().ok()
        };
        let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        let frac = num(20, 26).unwrap_or(0);
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = if mo <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (mo + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let nanos = u32::try_from(frac * 1000).ok()?;
        Some(Timestamp::new(
            days * 86_400 + h * 3600 + mi * 60 + sec,
            nanos,
        ))
    }
}

/// RFC 3339 with microseconds, e.g. `2026-11-23T09:30:15.123456Z`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        // Civil date from days since the epoch (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
            rem / 3600,
            rem / 60 % 60,
            rem % 60,
            self.nanos / 1000
        )
    }
}

/// A TCP connection: the side that opened it, and the side it connected to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Flow {
    /// The side that opened the connection (or, without its SYN, the side not on a server
    /// port).
    pub client: SocketAddr,
    /// The side it connected to.
    pub server: SocketAddr,
}

/// Hashed as its two addresses' packed bytes (`Packed`), written at once: the flow tables
/// and pairing keys hash a flow a message, and the derived hash wrote each part of each
/// address on its own.
impl std::hash::Hash for Flow {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut p = Packed::default();
        p.addr(&self.client);
        p.addr(&self.server);
        state.write(p.bytes());
    }
}

/// Socket addresses as bytes: for each, its IP version (4 or 6), its address's octets and its
/// port. Equal addresses give equal bytes, and different ones (IPv6 flow label and scope
/// aside) different bytes, so that a sequence of them can be told apart by its bytes alone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Packed {
    buf: [u8; 38],
    len: usize,
}

impl Default for Packed {
    fn default() -> Packed {
        Packed {
            buf: [0; 38],
            len: 0,
        }
    }
}

impl Packed {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(slot) = self.buf.get_mut(self.len..self.len + bytes.len()) {
            slot.copy_from_slice(bytes);
            self.len += bytes.len();
        }
    }

    /// Appends an address (room for two).
    pub(crate) fn addr(&mut self, a: &SocketAddr) -> &mut Packed {
        match a.ip() {
            std::net::IpAddr::V4(ip) => {
                self.put(&[4]);
                self.put(&ip.octets());
            }
            std::net::IpAddr::V6(ip) => {
                self.put(&[6]);
                self.put(&ip.octets());
            }
        }
        self.put(&a.port().to_be_bytes());
        self
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

/// Which way a message travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client (typically requests).
    Request,
    /// From the server (typically responses).
    Response,
}

impl Direction {
    /// `request` or `response`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }
}

/// One framed message from a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedMessage {
    /// When the segment that completed the message was captured.
    pub time: Timestamp,
    /// The connection.
    pub flow: Flow,
    /// From the client or from the server.
    pub direction: Direction,
    /// The framing the stream uses.
    pub framing: Framing,
    /// The leg whose server ports the flow connects to, where legs are configured.
    pub leg: Option<Leg>,
    /// The message, framing prefix removed.
    pub bytes: Bytes,
}

impl Flow {
    /// The sender and the receiver of a message travelling `direction`.
    #[must_use]
    pub const fn ends(&self, direction: Direction) -> (SocketAddr, SocketAddr) {
        match direction {
            Direction::Request => (self.client, self.server),
            Direction::Response => (self.server, self.client),
        }
    }
}

impl CapturedMessage {
    /// The sender.
    #[must_use]
    pub fn src(&self) -> SocketAddr {
        self.flow.ends(self.direction).0
    }

    /// The receiver.
    #[must_use]
    pub fn dst(&self) -> SocketAddr {
        self.flow.ends(self.direction).1
    }
}

/// What reading a capture yields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaptureEvent {
    /// A whole message.
    Message(CapturedMessage),
    /// `auto` chose this framing for a flow.
    Framing {
        /// The flow.
        flow: Flow,
        /// The framing under which its first frames parse.
        framing: Framing,
    },
    /// Bytes missing from a stream: the segments from `expected_seq` to `resumed_seq` were
    /// never captured. The stream resynchronises after it.
    Gap {
        /// When the gap was declared.
        time: Timestamp,
        /// The flow.
        flow: Flow,
        /// The direction with the hole.
        direction: Direction,
        /// The first missing sequence number.
        expected_seq: u32,
        /// Where the stream resumes.
        resumed_seq: u32,
    },
    /// Bytes dropped to find the next frame boundary (after a gap, a frame error, or a capture
    /// that starts mid-stream).
    Resync {
        /// When.
        time: Timestamp,
        /// The flow.
        flow: Flow,
        /// The direction.
        direction: Direction,
        /// Bytes skipped.
        skipped: usize,
    },
    /// A length prefix the stream's framing rejects.
    FrameError {
        /// When.
        time: Timestamp,
        /// The flow.
        flow: Flow,
        /// The direction.
        direction: Direction,
        /// What is wrong.
        error: FrameError,
    },
    /// A flow ended (FIN, RST or end of capture) in the middle of a frame.
    Incomplete {
        /// When.
        time: Timestamp,
        /// The flow.
        flow: Flow,
        /// The direction.
        direction: Direction,
        /// Bytes of the unfinished frame.
        bytes: usize,
    },
    /// A flow let go before it ended, so that memory depends on the traffic rate and never on
    /// the length of the input: idle longer than [`CaptureConfig::flow_idle_ms`], or the least
    /// recently active flow when [`CaptureConfig::max_flows`] were open. What it held (the
    /// start of a frame, segments after a hole) is dropped; if it speaks again, it is read as
    /// a flow joined mid-stream.
    FlowDropped {
        /// When.
        time: Timestamp,
        /// The flow.
        flow: Flow,
        /// Why.
        reason: DropReason,
        /// Bytes it held, both directions.
        bytes: usize,
    },
    /// The capture file is damaged from this byte offset on; reading stops, and every message
    /// before it has been yielded.
    Damaged {
        /// Byte offset in the file.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

/// Why a flow was let go before it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// Nothing seen on it for longer than the idle time (milliseconds).
    Idle(u64),
    /// The limit of open flows was reached and it was the least recently active.
    TooManyFlows(usize),
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropReason::Idle(ms) => write!(f, "idle for more than {} s", ms / 1000),
            DropReason::TooManyFlows(n) => write!(f, "open flows over the limit of {n}"),
        }
    }
}

/// How to read a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureConfig {
    /// The framing, or `None` for `auto` (chosen per flow from its first bytes).
    pub framing: Option<Framing>,
    /// Server ports: decide which side is the client where the SYN was not captured.
    pub server_ports: Vec<u16>,
    /// The largest frame accepted (default 8 KiB).
    pub max_frame: usize,
    /// Bytes held per direction for segments that arrived ahead of a hole (default 256 KiB).
    pub max_out_of_order: usize,
    /// A flow with nothing seen for this long (capture time, ms) is let go (default five
    /// minutes): [`CaptureEvent::FlowDropped`]. It goes when a later segment shows the time
    /// has passed, within an eighth of this time more.
    pub flow_idle_ms: u64,
    /// The most flows open at once; the least recently active is let go to make room
    /// (default 100,000).
    pub max_flows: usize,
}

impl Default for CaptureConfig {
    fn default() -> CaptureConfig {
        CaptureConfig {
            framing: None,
            server_ports: Vec::new(),
            max_frame: DEFAULT_MAX_FRAME,
            max_out_of_order: 256 * 1024,
            flow_idle_ms: 300_000,
            max_flows: 100_000,
        }
    }
}

/// Why a capture cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// Not a pcap or pcapng file: its first bytes (up to four, shown in hex) are no magic
    /// number.
    #[error(
        "not a pcap or pcapng file: it starts with {found} (a pcap file starts with a1 b2 c3 d4, \
         a1 b2 3c 4d or their byte-swapped forms, a pcapng file with 0a 0d 0d 0a)"
    )]
    NotACapture {
        /// The first bytes found, in hex.
        found: String,
    },
    /// The file is empty.
    #[error("the capture is empty")]
    Empty,
    /// Reading failed.
    #[error("cannot read the capture: {0}")]
    Io(String),
    /// Writing what was read failed (a closed pipe, a full disk): the kind says which.
    #[error("cannot write the output: {message}")]
    Output {
        /// What the system said, as an error kind (`BrokenPipe` when the reader went away).
        kind: std::io::ErrorKind,
        /// Its words.
        message: String,
    },
}

impl From<CaptureError> for std::io::Error {
    /// An I/O error of the same kind (an output error keeps its kind, so that a closed pipe can
    /// be told apart).
    fn from(e: CaptureError) -> std::io::Error {
        match e {
            CaptureError::Output { kind, message } => std::io::Error::new(kind, message),
            CaptureError::Io(m) => std::io::Error::other(m),
            other => std::io::Error::new(std::io::ErrorKind::InvalidData, other.to_string()),
        }
    }
}

/// Bytes already read, then the rest of the input: each read fills from both, so that a
/// reader that fills its buffer in one call sees the file as if it had not been peeked at.
struct Prepended<R> {
    head: Vec<u8>,
    at: usize,
    inner: R,
}

impl<R: Read> Read for Prepended<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let head = self.head.get(self.at..).unwrap_or_default();
        let n = head.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), head.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.at += n;
        match buf.get_mut(n..) {
            Some(rest) if !rest.is_empty() => match self.inner.read(rest) {
                Ok(m) => Ok(n + m),
                Err(_) if n > 0 => Ok(n),
                Err(e) => Err(e),
            },
            _ => Ok(n),
        }
    }
}

/// The largest record the reader buffers (a bad record length beyond it is damage).
const MAX_RECORD: usize = 1 << 20;

/// The reader's buffer: larger than the input's (`open_input` buffers 128 KiB), so that its
/// refills, which ask for nearly all of it, read past that buffer instead of copying out of it.
const PCAP_BUFFER: usize = 1 << 18;

/// Streams a capture file as [`CaptureEvent`]s.
pub struct CaptureReader<'s> {
    pcap: Box<dyn PcapReaderIterator + Send + 's>,
    /// Link type and timestamp units per second, per pcapng interface (one for pcap).
    interfaces: Vec<(i32, u64, i64)>,
    reassembler: tcp::Reassembler<'s>,
    events: VecDeque<CaptureEvent>,
    last_time: Timestamp,
    offset: u64,
    done: bool,
    /// The reader's buffer size: [`PCAP_BUFFER`], doubled for a larger record up to
    /// [`MAX_RECORD`].
    capacity: usize,
    /// Frames that carried no TCP segment of a known link type (other traffic).
    pub skipped_frames: u64,
}

impl fmt::Debug for CaptureReader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("offset", &self.offset)
            .field("open_flows", &self.reassembler.open_flows())
            .finish_non_exhaustive()
    }
}

impl<'s> CaptureReader<'s> {
    /// Opens a capture read from `input`; messages are framed for `spec`.
    pub fn new<R: Read + Send + 's>(
        input: R,
        spec: &'s Spec,
        config: CaptureConfig,
    ) -> Result<CaptureReader<'s>, CaptureError> {
        CaptureReader::with_legs(input, spec, config, &[])
    }

    /// Opens a capture whose flows belong to legs by their server port: a flow to one of a
    /// leg's ports is framed with the leg's framing (or detected with its spec), and its
    /// messages carry the leg; other flows use `spec` and `config.framing`. The legs' ports
    /// count as server ports.
    pub fn with_legs<R: Read + Send + 's>(
        mut input: R,
        spec: &'s Spec,
        mut config: CaptureConfig,
        legs: &[LegConfig<'s>],
    ) -> Result<CaptureReader<'s>, CaptureError> {
        // The magic number, read here to say what was found instead when it is not one.
        // The magic, and the rest of a pcap header or the start of a pcapng section header:
        // a pipe that delivers a few bytes at a time still gives the reader a whole header.
        let mut head = [0u8; 32];
        let mut got = 0;
        while got < head.len() {
            match input.read(head.get_mut(got..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(CaptureError::Io(e.to_string())),
            }
        }
        let read = head.get(..got).unwrap_or_default();
        if read.is_empty() {
            return Err(CaptureError::Empty);
        }
        let head = read.get(..4).unwrap_or(read);
        const MAGICS: [[u8; 4]; 5] = [
            [0xa1, 0xb2, 0xc3, 0xd4],
            [0xd4, 0xc3, 0xb2, 0xa1],
            [0xa1, 0xb2, 0x3c, 0x4d],
            [0x4d, 0x3c, 0xb2, 0xa1],
            [0x0a, 0x0d, 0x0d, 0x0a],
        ];
        if !MAGICS.iter().any(|m| m.as_slice() == head) {
            let found: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
            let found = match head.len() {
                4 => found.join(" "),
                n => format!("{} (only {n} bytes)", found.join(" ")),
            };
            return Err(CaptureError::NotACapture { found });
        }
        let input = Prepended {
            head: read.to_vec(),
            at: 0,
            inner: input,
        };
        // The reader for the format the magic names, built with one read of the input: a live
        // capture on a pipe is read as it comes (`create_reader` reads twice before it
        // returns, and the second read waits for more of the pipe).
        let pcapng = head == [0x0a, 0x0d, 0x0d, 0x0a];
        let pcap: Result<Box<dyn PcapReaderIterator + Send + 's>, _> = if pcapng {
            pcap_parser::PcapNGReader::new(PCAP_BUFFER, input).map(|r| Box::new(r) as _)
        } else {
            pcap_parser::LegacyPcapReader::new(PCAP_BUFFER, input).map(|r| Box::new(r) as _)
        };
        let pcap = pcap.map_err(|e| match e {
            PcapError::Eof | PcapError::Incomplete(_) => {
                CaptureError::Io("the file ends inside its header".into())
            }
            PcapError::HeaderNotRecognized => CaptureError::NotACapture {
                found: "a header that is not one".into(),
            },
            PcapError::ReadError => CaptureError::Io("read error".into()),
            other => CaptureError::Io(format!("{other:?}")),
        })?;
        for l in legs {
            config.server_ports.extend(&l.ports);
        }
        Ok(CaptureReader {
            pcap,
            interfaces: Vec::new(),
            reassembler: tcp::Reassembler::new(spec, config, legs.to_vec()),
            events: VecDeque::new(),
            last_time: Timestamp::default(),
            offset: 0,
            done: false,
            capacity: PCAP_BUFFER,
            skipped_frames: 0,
        })
    }

    fn damaged(&mut self, reason: String) {
        self.events.push_back(CaptureEvent::Damaged {
            offset: self.offset,
            reason,
        });
        self.finish();
    }

    fn finish(&mut self) {
        self.reassembler.finish(self.last_time, &mut self.events);
        self.done = true;
    }
}

impl Iterator for CaptureReader<'_> {
    type Item = CaptureEvent;

    fn next(&mut self) -> Option<CaptureEvent> {
        self.next_event(true)
    }
}

impl CaptureReader<'_> {
    /// The next event if the bytes read so far hold it: `None` where it needs another read of
    /// the input (which, on a pipe, waits for more traffic) as well as at the end. A caller
    /// that works on events a batch at a time takes these, and works on what it has before
    /// it asks [`Iterator::next`] for more: a live capture is then reported as it comes.
    pub(crate) fn next_buffered(&mut self) -> Option<CaptureEvent> {
        self.next_event(false)
    }

    /// The next event, reading more of the input for it only if `read`.
    fn next_event(&mut self, read: bool) -> Option<CaptureEvent> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            if self.done {
                return None;
            }
            let Self {
                pcap,
                interfaces,
                reassembler,
                events,
                last_time,
                skipped_frames,
                ..
            } = self;
            match pcap.next() {
                Ok((len, block)) => {
                    if let Some((time, linktype, data)) = packet_of(&block, interfaces) {
                        *last_time = time;
                        match packet::segment(linktype, data) {
                            Ok(seg) => reassembler.segment(time, seg, events),
                            Err(_) => *skipped_frames += 1,
                        }
                    }
                    // The records left are moved to the front at the next refill, not each
                    // time half the buffer has been read.
                    pcap.consume_noshift(len);
                    self.offset += len as u64;
                }
                Err(PcapError::Eof) => self.finish(),
                Err(PcapError::Incomplete(_) | PcapError::BufferTooSmall) if !read => return None,
                Err(PcapError::Incomplete(needed)) => {
                    if pcap.reader_exhausted() {
                        let reason = format!(
                            "the file ends inside a record ({} bytes short)",
                            needed.max(1)
                        );
                        self.damaged(reason);
                    } else if pcap.refill().is_err() {
                        self.damaged("read error".into());
                    }
                }
                // The record does not fit in the buffer's room: the records read are moved out
                // first, then the buffer grows (doubling), within reason.
                Err(PcapError::BufferTooSmall) => {
                    if pcap.position() == 0 {
                        let want = (self.capacity * 2).min(MAX_RECORD);
                        if self.capacity >= MAX_RECORD || !pcap.grow(want) {
                            self.damaged(format!("a record over the limit of {MAX_RECORD} bytes"));
                            continue;
                        }
                        self.capacity = want;
                    }
                    if pcap.refill().is_err() {
                        self.damaged("read error".into());
                    }
                }
                Err(e) => {
                    let reason = match e {
                        PcapError::UnexpectedEof => "the file ends inside a record".to_string(),
                        PcapError::BufferTooSmall => {
                            format!("a record over the limit of {MAX_RECORD} bytes")
                        }
                        PcapError::ReadError => "read error".to_string(),
                        other => format!("malformed record: {other:?}"),
                    };
                    self.damaged(reason);
                }
            }
        }
    }
}

/// The time, link type and bytes of a block that carries a packet; interface descriptions
/// and the legacy header are recorded in `interfaces`.
fn packet_of<'b>(
    block: &'b PcapBlockOwned<'_>,
    interfaces: &mut Vec<(i32, u64, i64)>,
) -> Option<(Timestamp, i32, &'b [u8])> {
    let nanos_of = |frac: u64, per_sec: u64| -> u32 {
        u32::try_from(u128::from(frac) * 1_000_000_000 / u128::from(per_sec.max(1))).unwrap_or(0)
    };
    match block {
        PcapBlockOwned::LegacyHeader(h) => {
            let per_sec = if h.is_nanosecond_precision() {
                1_000_000_000
            } else {
                1_000_000
            };
            interfaces.clear();
            interfaces.push((h.network.0, per_sec, 0));
            None
        }
        PcapBlockOwned::Legacy(b) => {
            let &(linktype, per_sec, _) = interfaces.first()?;
            let time = Timestamp::new(i64::from(b.ts_sec), nanos_of(u64::from(b.ts_usec), per_sec));
            Some((time, linktype, b.data))
        }
        PcapBlockOwned::NG(Block::SectionHeader(_)) => {
            interfaces.clear();
            None
        }
        PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
            let per_sec = idb.ts_resolution().unwrap_or(1_000_000);
            interfaces.push((idb.linktype.0, per_sec, idb.ts_offset()));
            None
        }
        PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
            let &(linktype, per_sec, offset) = interfaces.get(epb.if_id as usize)?;
            let ticks = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            let secs = i64::try_from(ticks / per_sec.max(1)).unwrap_or(0) + offset;
            let time = Timestamp::new(secs, nanos_of(ticks % per_sec.max(1), per_sec));
            let caplen = (epb.caplen as usize).min(epb.data.len());
            Some((time, linktype, epb.data.get(..caplen)?))
        }
        PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
            let &(linktype, _, _) = interfaces.first()?;
            Some((Timestamp::default(), linktype, spb.data))
        }
        PcapBlockOwned::NG(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn times_read_back_as_they_are_written() {
        // Across leap days, month ends, centuries and before 1970, to the microsecond.
        let mut secs: i64 = -2_208_988_800; // 1900-01-01
        while secs < 4_102_444_800 {
            let t = Timestamp::new(secs, 123_456_000);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_string()), Some(t), "{t}");
            secs += 86_400 * 17 + 3_671;
        }
        assert_eq!(
            Timestamp::parse_rfc3339("2026-11-23T02:00:08Z"),
            Some(Timestamp::new(1_795_399_208, 0))
        );
        for bad in [
            "",
            "2026-11-23",
            "2026-13-01T00:00:00Z",
            "2026-11-23T25:00:00Z",
            "2026-1a-23T02:00:08Z",
            "２０２６-11-23T02:00:08Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }
}
