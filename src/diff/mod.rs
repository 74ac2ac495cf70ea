//! The differ's first half: pairing requests with their responses and reversals with their
//! originals, in one streaming pass, and reporting what changed or never came.
//!
//! [`Pairer`] takes one leg's messages in capture order with their time and flow. A response is
//! matched to its request by MTI class, STAN (11), terminal (41), merchant (42), acquirer (32)
//! and forwarder (33), on any connection, or, where the response changed one of those, by STAN
//! and transmission time (7) or, without 7, on the request's connection; a reversal or advice
//! (0400/0420/0120/0220) to its original by field 90 (original MTI, STAN and time), or by
//! STAN, terminal and merchant where 90 is absent (the terminal leg re-sends the original's
//! STAN, often on a new connection).
//!
//! The transaction type ([`crate::txn`]) shapes the echo checks: a void's or refund's response
//! carries a new RRN (37 is not compared) and a balance inquiry moves no amount (4 is not).
//!
//! Response checks: a field the response must echo that changed (`echo-mismatch`, and the named
//! cases `response-amount-changed` unless the response code is 10 (partial approval),
//! `response-mcc-changed`, `response-merchant-changed`, `response-terminal-changed`,
//! `response-acquirer-changed`), and a response of the wrong type (`unexpected-response-mti`).
//! Only fields present on both sides are compared, and the processing code on its first two
//! digits (the responder may change the account types).
//!
//! Lifecycle (吞钱): `no-response` (a request that asks for approval, 0100 or 0200, unanswered
//! after the timeout, default 30 s of capture time), `no-reversal-after-timeout` (no 0400/0420
//! for it within a further window), `orphan-response`, `duplicate-response`, `late-response`,
//! and `approved-then-reversed` (informational). Memory is bounded by the in-flight requests:
//! the table holds at most `max_pending` entries (default 1,000,000) and reports the oldest it
//! has to drop as `evicted`; at the end of input every pending request is reported. A request
//! keeps its bytes only until it is answered (an evicted answered request is reported by index,
//! MTI, time and flow), so an answered transaction costs a table entry of about 200 bytes for
//! the reversal window.

mod hop;
mod key;
#[cfg(test)]
mod tests;
mod window;

pub(crate) use hop::pan_digits as pan_digits_of;
pub use hop::{HopConfig, HopMatcher, Leg};

use crate::capture::{Flow, Packed, Timestamp};
use crate::finding::{Finding, MessageRef, Rule};
use crate::message::{Layout, Message, Mti};
use crate::parse::parse;
use crate::spec::{Content, Spec};
use crate::txn::{TransactionType, transaction_type};
use crate::validate::{Where, message_ref};
use key::{Idents, Key, KeyId, KeyMap};
use std::collections::VecDeque;
use window::Window;

/// Timeouts and bounds of the pairing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiffConfig {
    /// How long a request waits for its response, in capture-time milliseconds (default 30 s).
    pub timeout_ms: u64,
    /// How long after the timeout a reversal is awaited (default 60 s).
    pub reversal_window_ms: u64,
    /// The most requests held at once (default 1,000,000).
    pub max_pending: usize,
    /// `duplicate-or-replay`: a second debit of the same card, amount, terminal and merchant
    /// under another STAN within this many capture-time ms is reported (default 60 s).
    pub replay_window_ms: u64,
}

impl Default for DiffConfig {
    fn default() -> DiffConfig {
        DiffConfig {
            timeout_ms: 30_000,
            reversal_window_ms: 60_000,
            max_pending: 1_000_000,
            replay_window_ms: 60_000,
        }
    }
}

/// Where and when a message was seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Its index in the input.
    pub index: usize,
    /// Capture time (zero for a hex dump: timeouts then only fire at the end).
    pub time: Timestamp,
    /// The TCP flow, for a capture.
    pub flow: Option<Flow>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Awaiting its response.
    Pending,
    /// Answered (approved or not); kept until the reversal window ends.
    Answered { approved: bool },
    /// Timed out; awaiting a reversal.
    TimedOut,
}

#[derive(Debug)]
struct Entry {
    /// The request (until answered: an answered entry needs only its keys), then its keys'
    /// bytes in compact form ([`Idents`]): the full key (0) and the relaxed key (1), then
    /// (with the request) its element starts as parsed, four bytes each, so that the response
    /// rebuilds the request without parsing it again. A lookup whose value matches is
    /// confirmed on the keys' bytes.
    bytes: Vec<u8>,
    /// How many of `bytes` are the request.
    request: usize,
    /// How many bytes after the request are its keys.
    idents: usize,
    seen: Seen,
    mti: Mti,
    /// What the request is (its response is checked by it).
    kind: TransactionType,
    /// The request's bitmaps as parsed.
    bitmap: [u64; 3],
    state: State,
    reversed: bool,
    /// The relaxed key (flow, class, STAN) under which it is also found.
    relaxed: u64,
    /// Bumped on each state change, so stale deadlines are ignored.
    generation: u64,
    /// Its full key's value, under which the table finds its slot.
    key: u64,
    /// The generation it was first held at: tells it from a later entry in the same slot.
    born: u64,
}

impl Entry {
    /// The request's bytes (empty once answered).
    fn request(&self) -> &[u8] {
        self.bytes.get(..self.request).unwrap_or_default()
    }

    /// Whether key `i` (0 full, 1 relaxed) of this entry has the bytes of `ident`.
    fn confirms(&self, i: usize, ident: &key::Ident) -> bool {
        let idents = self.bytes.get(self.request..self.request + self.idents);
        Idents::match_in(idents.unwrap_or_default(), i, ident)
    }

    /// The request, rebuilt from the layout held with it (parsed again where none was held:
    /// it came with other bytes or spec than its message's); `None` once answered.
    fn message<'e>(&'e self, spec: &'e Spec) -> Option<Message<'e>> {
        if self.request == 0 {
            return None;
        }
        let starts = self.bytes.get(self.request + self.idents..)?;
        if starts.is_empty() {
            return parse(spec, self.request()).ok();
        }
        let starts = starts
            .chunks_exact(4)
            .map(|c| <[u8; 4]>::try_from(c).map_or(0, u32::from_le_bytes));
        Some(Message::from_layout(
            spec,
            self.request(),
            Layout::new(self.mti, self.bitmap),
            starts,
        ))
    }
}

/// Fields a response must echo, with the rule a change breaks.
static ECHO: [(usize, Rule); 13] = [
    (2, Rule::EchoMismatch),
    (3, Rule::EchoMismatch),
    (4, Rule::ResponseAmountChanged),
    (7, Rule::EchoMismatch),
    (11, Rule::EchoMismatch),
    (12, Rule::EchoMismatch),
    (13, Rule::EchoMismatch),
    (18, Rule::ResponseMccChanged),
    (32, Rule::ResponseAcquirerChanged),
    (37, Rule::EchoMismatch),
    (41, Rule::ResponseTerminalChanged),
    (42, Rule::ResponseMerchantChanged),
    (49, Rule::EchoMismatch),
];

/// Fields `from..=to` (1-64) as bits of a primary bitmap (field `n` is bit `64 - n`).
fn field_bits(from: usize, to: usize) -> u64 {
    let above_from = u64::MAX
        .checked_shr(from.saturating_sub(1) as u32)
        .unwrap_or(0);
    let above_to = u64::MAX.checked_shr(to as u32).unwrap_or(0);
    above_from & !above_to
}

/// [`ECHO`]'s fields as bits of a primary bitmap.
// Indexing in a constant is checked when it is evaluated: out of bounds is a compile error.
#[allow(clippy::indexing_slicing)]
const ECHO_BITS: u64 = {
    let mut bits = 0u64;
    let mut i = 0;
    while i < ECHO.len() {
        bits |= 1u64 << (64 - ECHO[i].0);
        i += 1;
    }
    bits
};

/// The echoed fields whose bytes are the same in `request` and `response` (parsed with the
/// same spec), found a run at a time: echoed fields that both carry with nothing else between
/// them in either lie in one stretch of each message's bytes, so one comparison of the two
/// stretches clears the run (the same bytes read by the same spec part into the same fields).
/// A run whose stretches differ is left to the field-by-field comparison.
fn echoed_alike(request: &Message<'_>, response: &Message<'_>) -> u64 {
    if !std::ptr::eq(request.spec(), response.spec()) {
        return 0;
    }
    let (a, b) = (request.bitmaps()[0], response.bitmaps()[0]);
    let mut todo = a & b & ECHO_BITS;
    // What ends a run: a field that only one carries, or that is not echoed.
    let blockers = (a | b) & !todo;
    let mut alike = 0u64;
    while todo != 0 {
        let first = todo.leading_zeros() as usize + 1;
        let ahead = blockers & field_bits(first + 1, 64);
        let stop = if ahead == 0 {
            64
        } else {
            ahead.leading_zeros() as usize
        };
        let run = todo & field_bits(first, stop);
        let last = 64 - run.trailing_zeros() as usize;
        // Both carry `first` and `last` (bits of `todo`).
        let (x, y) = (request.span(first, last), response.span(first, last));
        if x.is_some() && x == y {
            alike |= run;
        }
        todo &= !run;
    }
    alike
}

/// The pending deadlines, a queue for each kind (a request's timeout, an answered request's
/// reversal window, a timed-out request's wait for its reversal). Each kind adds a constant to
/// the capture time, so each queue is already in deadline order: no heap, and each deadline is
/// touched twice, in sequence. A capture whose times step back (merged interfaces) gets the
/// queue's latest deadline instead of an earlier one: a wait is never cut short.
#[derive(Debug, Default)]
struct Deadlines {
    queues: [VecDeque<(i64, usize, u64)>; 3],
}

impl Deadlines {
    const TIMEOUT: usize = 0;
    const WINDOW: usize = 1;
    const REVERSAL: usize = 2;

    fn push(&mut self, kind: usize, deadline: i64, slot: usize, generation: u64) {
        if let Some(q) = self.queues.get_mut(kind) {
            let deadline = q.back().map_or(deadline, |b| deadline.max(b.0));
            q.push_back((deadline, slot, generation));
        }
    }

    /// The earliest deadline at or before `now`, taken off its queue: (slot, generation).
    fn pop_until(&mut self, now: i64) -> Option<(usize, u64)> {
        let (kind, _) = self
            .queues
            .iter()
            .enumerate()
            .filter_map(|(i, q)| q.front().map(|f| (i, f.0)))
            .filter(|(_, d)| *d <= now)
            .min_by_key(|(_, d)| *d)?;
        let (_, slot, generation) = self.queues.get_mut(kind)?.pop_front()?;
        Some((slot, generation))
    }

    fn clear(&mut self) {
        for q in &mut self.queues {
            q.clear();
        }
    }
}

/// What the pairer and the hop matcher learn about how messages belong together, for a
/// record of the transactions ([`crate::audit::Recorder`]): kept only when asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Link {
    /// Message `response` answers message `request`, `latency_ms` after it.
    Answered {
        /// The request's index in the input.
        request: usize,
        /// The response's index.
        response: usize,
        /// Capture time from request to response, milliseconds.
        latency_ms: i64,
    },
    /// Message `terminal` (a terminal-leg request, or the response that carried its RRN) and
    /// message `network` (its forward on the network leg) are one transaction.
    Hop {
        /// The terminal leg's message.
        terminal: usize,
        /// The network leg's request.
        network: usize,
    },
}

/// The parts of a pairer's work, for a pairer that holds one shard of the traffic: every
/// part of one transaction's work is done where its key says, so that shards never need each
/// other. `pair`: a request's own entry and its response, found by the request's STAN (both
/// pairing keys hold it); `mark`: what a reversal or a void does to the original it points
/// at, found by the original's STAN ([`Pairer::pointed_stan`]); `replay`: the window of recent
/// debits, found by terminal and merchant (the replay key holds both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Roles {
    pub(crate) pair: bool,
    pub(crate) mark: bool,
    pub(crate) replay: bool,
}

impl Roles {
    /// The whole work: one pairer for all the traffic.
    pub(crate) const ALL: Roles = Roles {
        pair: true,
        mark: true,
        replay: true,
    };
    pub(crate) const NONE: Roles = Roles {
        pair: false,
        mark: false,
        replay: false,
    };

    pub(crate) fn any(self) -> bool {
        self.pair || self.mark || self.replay
    }
}

/// Takes `key` out of `map` if it still names `slot` (a later entry may have taken it over).
fn unmap(map: &mut KeyMap<usize>, key: u64, slot: usize) {
    map.remove_if(key, |&held| held == slot);
}

/// Whether a request points back at an original by field 90 or as a reversal: the pairer
/// looks that original up ([`Pairer::push`]); any other request may be a void.
fn points_back(msg: &Message<'_>) -> bool {
    let mti = msg.mti();
    mti.class() == 4 || (mti.function() == 2 && msg.field(90).is_some())
}

/// A STAN (field 90's original) as the six digits field 11 holds.
fn trace_digits(stan: u32) -> [u8; 6] {
    let mut trace = [0u8; 6];
    let digits = format!("{stan:06}");
    trace.copy_from_slice(digits.as_bytes().get(..6).unwrap_or(b"000000"));
    trace
}

/// The STAN of the original a void points at: field 90's, else the trace in field 61 (batch,
/// trace, date), as six digits.
fn void_trace(msg: &Message<'_>) -> Option<[u8; 6]> {
    let mut trace = [0u8; 6];
    if let Some(o) = msg.original_data().and_then(Result::ok) {
        Some(trace_digits(o.stan))
    } else if let Some(f61) = msg.field(61).filter(|f| f.spec().content == Content::N) {
        // 61: original batch (6 digits), original trace (6 digits), original date.
        let mut n = 0;
        for (i, c) in f61.chars().enumerate() {
            if let Some(slot) = i.checked_sub(6).and_then(|j| trace.get_mut(j)) {
                *slot = c;
                n += 1;
            }
        }
        (n == 6).then_some(trace)
    } else {
        None
    }
}

/// The STAN of the original a request acts on when it is a reversal, an advice with field 90
/// or a void (`None`: its own, or it acts on none): where its `mark` work belongs ([`Roles`]).
/// `kind`: the request's [`transaction_type`] where the caller has it already.
pub(crate) fn pointed_stan(msg: &Message<'_>, kind: Option<TransactionType>) -> Option<[u8; 6]> {
    use TransactionType as T;
    if msg.mti().is_response() {
        return None;
    }
    if points_back(msg) {
        let o = msg.original_data().and_then(Result::ok)?;
        return Some(trace_digits(o.stan));
    }
    match kind.unwrap_or_else(|| transaction_type(msg)) {
        T::Void | T::CompletionVoid | T::PreAuthVoid => void_trace(msg),
        _ => None,
    }
}

/// Buffers of entries that have gone, kept for the next ones, so that steady traffic makes the
/// pairer allocate nothing: what one transaction frees, the next takes. At most
/// [`Pool::LIMIT`] are kept, so a burst's buffers do not stay held after it.
#[derive(Debug, Default)]
struct Pool(Vec<Vec<u8>>);

impl Pool {
    const LIMIT: usize = 1024;

    /// An empty buffer with room for `capacity` bytes.
    fn take(&mut self, capacity: usize) -> Vec<u8> {
        match self.0.pop() {
            Some(mut v) => {
                v.clear();
                v.reserve(capacity);
                v
            }
            None => Vec::with_capacity(capacity),
        }
    }

    fn give(&mut self, v: Vec<u8>) {
        if self.0.len() < Pool::LIMIT && v.capacity() > 0 {
            self.0.push(v);
        }
    }
}

/// Pairs requests, responses and reversals; see the module docs.
#[derive(Debug)]
pub struct Pairer<'s> {
    spec: &'s Spec,
    config: DiffConfig,
    /// Full key -> the slot of its entry.
    table: KeyMap<usize>,
    /// The entries held, each in a slot that stays put while it is held: the tables map keys
    /// to slots and deadlines name slots, so a table grows by moving a few bytes an entry,
    /// and a deadline finds its entry without a lookup.
    slab: Vec<Option<Entry>>,
    /// Slots free for the next entries.
    free: Vec<usize>,
    /// Relaxed key -> slot: finds a request whose response changed its terminal, merchant or
    /// transmission time.
    relaxed: KeyMap<usize>,
    /// (deadline in ms, slot, generation) of each kind, earliest first.
    deadlines: Deadlines,
    /// (slot, birth) in arrival order, for eviction (those already gone are dropped from the
    /// front).
    arrivals: VecDeque<(usize, u64)>,
    generation: u64,
    now: i64,
    /// Debits by card, amount, terminal and merchant, for the replay rule.
    recent: Window,
    /// Buffers for held requests.
    requests: Pool,
    /// Links found, when they are recorded ([`Pairer::record_links`]).
    links: Option<Vec<Link>>,
    /// Buffers for keys' bytes alone (answered entries).
    keys: Pool,
}

impl<'s> Pairer<'s> {
    /// A pairer for messages in `spec`.
    #[must_use]
    pub fn new(spec: &'s Spec, config: DiffConfig) -> Pairer<'s> {
        Pairer {
            spec,
            config,
            table: KeyMap::default(),
            slab: Vec::new(),
            free: Vec::new(),
            relaxed: KeyMap::default(),
            deadlines: Deadlines::default(),
            arrivals: VecDeque::new(),
            generation: 0,
            now: i64::MIN,
            recent: Window::default(),
            requests: Pool::default(),
            keys: Pool::default(),
            links: None,
        }
    }

    /// `duplicate-or-replay`: the same card, amount, terminal and merchant debited again under
    /// another STAN within the window. Repeats (0401, 0421...) and retries with the same STAN
    /// are expected, balance inquiries move nothing, and without capture times (a hex dump)
    /// nothing is reported.
    fn replay(
        &mut self,
        msg: &Message<'_>,
        kind: TransactionType,
        seen: Seen,
        out: &mut Vec<Finding>,
    ) {
        let now = seen.time.millis();
        self.recent.expire(now);
        let mti = msg.mti();
        let repeat = mti.origin() % 2 == 1;
        // Without capture times (a hex dump) nothing says two debits were close in time.
        if seen.time == Timestamp::default()
            || repeat
            || !msg.has(4)
            || kind == TransactionType::BalanceInquiry
        {
            return;
        }
        let Some((pan, len)) = hop::pan_digits(msg) else {
            return;
        };
        // The server the request went to tells the legs apart where no legs are configured:
        // a sale and its forward to the network are not a replay.
        let mut server = Packed::default();
        if let Some(f) = seen.flow {
            server.addr(&f.server);
        }
        let key = Self::debit_key(msg, &server, kind, pan.get(..len).unwrap_or_default());
        let stan = Key::new().field(msg, 11).ident();
        let window = self.config.replay_window_ms as i64;
        // The same key's bytes, not only its value: a collision is not a replay.
        if let Some(e) = self.recent.earlier(key.value, &key.ident, &stan) {
            if !e.same_stan && now.saturating_sub(e.at) <= window {
                let f = finding(
                    msg,
                    &Where::index(seen.index),
                    Rule::DuplicateOrReplay,
                    &[2, 4, 41, 42, 11],
                    "one debit of this card, amount, terminal and merchant".into(),
                    format!(
                        "a second under another STAN, {} ms after message {}",
                        now.saturating_sub(e.at),
                        e.index
                    ),
                );
                out.push(with_time(f, seen));
            }
        }
        self.recent.add(
            key.value,
            &[key.ident, stan],
            now,
            now.saturating_add(window),
            seen.index,
        );
    }

    /// The key of [`Pairer::replay`]'s table: the server, the MTI class, the kind, the card
    /// number's digits, the amount, the terminal and the merchant.
    fn debit_key(msg: &Message<'_>, server: &Packed, kind: TransactionType, pan: &[u8]) -> KeyId {
        Key::new()
            .present(server.bytes())
            .hash(&msg.mti().class())
            // A void or refund repeats its sale's card and amount: another kind, not a replay.
            .hash(&(kind as u8))
            .present(pan)
            .field(msg, 4)
            .field(msg, 41)
            .field(msg, 42)
            .id()
    }

    /// Records the [`Link`]s found from now on, for [`Pairer::take_links`].
    pub fn record_links(&mut self) {
        self.links.get_or_insert_with(Vec::new);
    }

    /// The links found since the last call (none unless recorded).
    pub fn take_links(&mut self, into: &mut Vec<Link>) {
        if let Some(links) = &mut self.links {
            into.append(links);
        }
    }

    /// Requests and answered requests held.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.table.len()
    }

    /// The pairing keys. The full key, (MTI class, STAN, terminal, merchant, acquirer,
    /// forwarder), does not depend on the TCP connection: wireless terminals open a connection
    /// per exchange and send a reversal on a new one (41 + 42 + 11 find it), and CUPS links are
    /// often a pair of one-way connections, so a network response comes on another connection
    /// than its request (11 + 32 + 33 find it). The relaxed key, (MTI class, STAN,
    /// transmission time 7), or the connection where the message has no 7, finds a request
    /// whose response changed its terminal, merchant or acquirer. `stan` and `f7` replace the
    /// message's own (for the original a reversal points at).
    fn keys(
        flow: Option<Flow>,
        class: u8,
        msg: &Message<'_>,
        stan: Option<&[u8]>,
        f7: Option<&[u8]>,
    ) -> (KeyId, KeyId) {
        (
            Self::full_key(class, msg, stan),
            Self::relaxed_key(flow, class, msg, stan, f7),
        )
    }

    /// What both keys of [`Pairer::keys`] begin with: the MTI class and the STAN, added to
    /// `k` (a new key; filled where it lies, not returned: a key is a few hundred bytes).
    fn class_stan(k: &mut Key, class: u8, msg: &Message<'_>, stan: Option<&[u8]>) {
        k.hash(&class);
        match stan {
            Some(s) => k.present(s),
            None => k.field(msg, 11),
        };
    }

    /// The full key of [`Pairer::keys`].
    fn full_key(class: u8, msg: &Message<'_>, stan: Option<&[u8]>) -> KeyId {
        let mut k = Key::new();
        Self::class_stan(&mut k, class, msg, stan);
        k.field(msg, 41)
            .field(msg, 42)
            .field(msg, 32)
            .field(msg, 33);
        k.id()
    }

    /// The relaxed key of [`Pairer::keys`].
    fn relaxed_key(
        flow: Option<Flow>,
        class: u8,
        msg: &Message<'_>,
        stan: Option<&[u8]>,
        f7: Option<&[u8]>,
    ) -> KeyId {
        let mut r = Key::new();
        Self::class_stan(&mut r, class, msg, stan);
        match f7 {
            Some(s) => r.present(s),
            None if msg.has(7) => r.field(msg, 7),
            None => r.hash(&flow),
        };
        r.id()
    }

    fn entry(&self, slot: usize) -> Option<&Entry> {
        self.slab.get(slot)?.as_ref()
    }

    fn entry_mut(&mut self, slot: usize) -> Option<&mut Entry> {
        self.slab.get_mut(slot)?.as_mut()
    }

    /// `slot`, if its entry's key `i` (0 full, 1 relaxed) has the bytes of `ident`.
    fn confirmed(&self, slot: usize, i: usize, ident: &key::Ident) -> Option<usize> {
        self.entry(slot)
            .is_some_and(|e| e.confirms(i, ident))
            .then_some(slot)
    }

    /// The slot of the entry held under `key`, if its bytes are `ident`'s.
    fn held(&self, key: &KeyId) -> Option<usize> {
        self.confirmed(*self.table.get(&key.value)?, 0, &key.ident)
    }

    /// The slot of a held request found by its full key, else by its relaxed one (the
    /// arguments of [`Pairer::keys`]; the relaxed key is made only when the full one finds
    /// nothing); a match is confirmed on the key's bytes, never on its 64-bit value alone.
    fn find(
        &self,
        flow: Option<Flow>,
        class: u8,
        msg: &Message<'_>,
        stan: Option<&[u8]>,
        f7: Option<&[u8]>,
    ) -> Option<usize> {
        if let Some(slot) = self.held(&Self::full_key(class, msg, stan)) {
            return Some(slot);
        }
        let relaxed = Self::relaxed_key(flow, class, msg, stan, f7);
        self.confirmed(*self.relaxed.get(&relaxed.value)?, 1, &relaxed.ident)
    }

    /// Takes the entry out of `slot`, and its keys out of the tables (where they still name
    /// it).
    fn remove(&mut self, slot: usize) -> Option<Entry> {
        let e = self.slab.get_mut(slot)?.take()?;
        self.free.push(slot);
        unmap(&mut self.table, e.key, slot);
        unmap(&mut self.relaxed, e.relaxed, slot);
        Some(e)
    }

    /// Removes an entry and keeps its buffer for the next one.
    fn discard(&mut self, slot: usize) {
        if let Some(e) = self.remove(slot) {
            self.recycle(e);
        }
    }

    /// Puts `entry` in a free slot (or a new one).
    fn place(&mut self, entry: Entry) -> usize {
        match self.free.pop() {
            Some(slot) => {
                if let Some(s) = self.slab.get_mut(slot) {
                    *s = Some(entry);
                }
                slot
            }
            None => {
                self.slab.push(Some(entry));
                self.slab.len() - 1
            }
        }
    }

    /// Whether the entry born at `born` is still in `slot`.
    fn alive(&self, (slot, born): (usize, u64)) -> bool {
        self.entry(slot).is_some_and(|e| e.born == born)
    }

    fn recycle(&mut self, e: Entry) {
        if e.request > 0 {
            self.requests.give(e.bytes);
        } else {
            self.keys.give(e.bytes);
        }
    }

    /// Moves the pairer's clock to `now` (capture time, or a live stream's wall clock) with no
    /// message: the waits that end by then end, and their findings (`no-response`,
    /// `no-reversal-after-timeout`) go to `out`. Messages move the clock too; a `now` before
    /// the clock changes nothing.
    pub fn tick(&mut self, now: Timestamp, out: &mut Vec<Finding>) {
        let now = now.millis();
        if now > self.now {
            self.now = now;
            self.expire(out);
        }
    }

    /// Takes the next message; findings go to `out`.
    pub fn push(&mut self, msg: &Message<'_>, bytes: &[u8], seen: Seen, out: &mut Vec<Finding>) {
        self.push_roles(msg, bytes, seen, Roles::ALL, None, out);
    }

    /// [`Pairer::push`] doing only the parts of the work in `roles`: a pairer that holds one
    /// shard of the traffic (see [`Roles`]). `kind`: the request's [`transaction_type`] where
    /// the caller has it already.
    pub(crate) fn push_roles(
        &mut self,
        msg: &Message<'_>,
        bytes: &[u8],
        seen: Seen,
        roles: Roles,
        kind: Option<TransactionType>,
        out: &mut Vec<Finding>,
    ) {
        let now = seen.time.millis();
        if now > self.now {
            self.now = now;
            self.expire(out);
        }
        let mti = msg.mti();
        if !matches!(mti.class(), 1 | 2 | 4) {
            return;
        }
        if mti.is_response() {
            if roles.pair {
                self.response(msg, seen, out);
            }
            return;
        }
        // What the request is, once: replays and voids depend on it.
        let kind = kind.unwrap_or_else(|| transaction_type(msg));
        if roles.replay && matches!(mti.class(), 1 | 2) {
            self.replay(msg, kind, seen, out);
        }
        if roles.mark {
            if points_back(msg) {
                self.reversal(msg, seen, out);
            } else {
                self.void(msg, kind);
            }
        }
        if !roles.pair {
            return;
        }
        let (full, relaxed_id) = Self::keys(seen.flow, mti.class(), msg, None, None);
        let (key, relaxed) = (full.value, relaxed_id.value);
        // Another request under the same 64-bit value (not a retransmission: its key's bytes
        // differ) loses its place, and says so: never a wrong pairing.
        let same_value = self.table.get(&key).copied();
        let retransmitted = same_value.and_then(|slot| self.confirmed(slot, 0, &full.ident));
        if let (Some(slot), None) = (same_value, retransmitted) {
            if let Some(e) = self.remove(slot) {
                out.push(self.lifecycle(
                    &e,
                    Rule::Evicted,
                    "held until its lifecycle ends".into(),
                    "dropped: another request's pairing key has the same 64-bit value".into(),
                ));
                self.recycle(e);
            }
        }
        self.generation += 1;
        let idents = [full.ident, relaxed_id.ident];
        // The layout holds only for the bytes and spec the message was parsed from.
        let layout = std::ptr::eq(msg.spec(), self.spec) && std::ptr::eq(msg.as_bytes(), bytes);
        let starts = if layout { msg.used_starts() } else { &[] };
        let idents_len = Idents::len_of(&idents);
        let mut held = self
            .requests
            .take(bytes.len() + idents_len + 4 * starts.len());
        held.extend_from_slice(bytes);
        Idents::write(&mut held, &idents);
        // The starts, four bytes each, written in place (no capacity check a start).
        let from = held.len();
        held.resize(from + 4 * starts.len(), 0);
        for (to, s) in held
            .get_mut(from..)
            .unwrap_or_default()
            .chunks_exact_mut(4)
            .zip(starts)
        {
            to.copy_from_slice(&s.to_le_bytes());
        }
        let entry = Entry {
            bytes: held,
            request: bytes.len(),
            idents: idents_len,
            seen,
            mti,
            bitmap: msg.bitmaps(),
            kind,
            state: State::Pending,
            reversed: false,
            relaxed,
            generation: self.generation,
            key,
            // A retransmission keeps its first sending's place in the arrivals.
            born: retransmitted
                .and_then(|slot| self.entry(slot))
                .map_or(self.generation, |e| e.born),
        };
        let slot = match retransmitted {
            // A retransmission takes its first sending's place.
            Some(slot) => {
                let old = self.slab.get_mut(slot).and_then(|s| s.replace(entry));
                if let Some(old) = old {
                    unmap(&mut self.relaxed, old.relaxed, slot);
                    self.recycle(old);
                }
                slot
            }
            None => {
                let born = entry.born;
                let slot = self.place(entry);
                self.table.insert(key, slot);
                self.arrivals.push_back((slot, born));
                slot
            }
        };
        // Forget arrivals whose entries have already gone (answered and past their window):
        // the queue stays as long as what is held, not as long as the input.
        while self.arrivals.front().is_some_and(|&a| !self.alive(a)) {
            self.arrivals.pop_front();
        }
        self.relaxed.insert(relaxed, slot);
        self.deadlines.push(
            Deadlines::TIMEOUT,
            seen.time
                .millis()
                .saturating_add(self.config.timeout_ms as i64),
            slot,
            self.generation,
        );
        while self.table.len() > self.config.max_pending {
            let Some(oldest) = self.arrivals.pop_front() else {
                break;
            };
            if !self.alive(oldest) {
                continue;
            }
            if let Some(e) = self.remove(oldest.0) {
                out.push(self.lifecycle(
                    &e,
                    Rule::Evicted,
                    "held until its lifecycle ends".into(),
                    format!("dropped: more than {} in flight", self.config.max_pending),
                ));
                self.recycle(e);
            }
        }
    }

    fn response(&mut self, msg: &Message<'_>, seen: Seen, out: &mut Vec<Finding>) {
        let mti = msg.mti();
        let at = Where::index(seen.index);
        // Its own class first; then another class (a 0210 answering a 0100).
        let mut classes = std::iter::once(mti.class())
            .chain([1u8, 2, 4].into_iter().filter(|c| *c != mti.class()));
        let found = classes.find_map(|c| self.find(seen.flow, c, msg, None, None));
        let Some(slot) = found else {
            out.push(with_time(
                finding(
                    msg,
                    &at,
                    Rule::OrphanResponse,
                    &[11],
                    "a request with this STAN, terminal and merchant".into(),
                    "none seen".into(),
                ),
                seen,
            ));
            return;
        };
        let approved = approved(msg);
        let partial = msg
            .response_code()
            .and_then(Result::ok)
            .is_some_and(|c| c == "10");
        self.generation += 1;
        let generation = self.generation;
        let window = self.config.reversal_window_ms as i64;
        let Some(Some(entry)) = self.slab.get_mut(slot) else {
            return;
        };
        let prior = entry.state;
        match prior {
            State::Answered { .. } => {
                out.push(with_time(
                    finding(
                        msg,
                        &at,
                        Rule::DuplicateResponse,
                        &[11],
                        "one response".into(),
                        "a second response".into(),
                    ),
                    seen,
                ));
                return;
            }
            State::TimedOut => {
                let late = (seen.time.millis() - entry.seen.time.millis()).max(0);
                out.push(with_time(
                    finding(
                        msg,
                        &at,
                        Rule::LateResponse,
                        &[11],
                        format!("within {} ms", self.config.timeout_ms),
                        format!("after {late} ms"),
                    ),
                    seen,
                ));
            }
            State::Pending => {}
        }
        entry.state = State::Answered { approved };
        entry.generation = generation;
        if let Some(links) = &mut self.links {
            links.push(Link::Answered {
                request: entry.seen.index,
                response: seen.index,
                latency_ms: (seen.time.millis() - entry.seen.time.millis()).max(0),
            });
        }
        let (request_mti, kind) = (entry.mti, entry.kind);
        let spec = self.spec;
        self.deadlines.push(
            Deadlines::WINDOW,
            seen.time.millis().saturating_add(window),
            slot,
            generation,
        );
        let Some(entry) = self.entry(slot) else {
            return;
        };
        let expected = request_mti.response();
        if expected.map(|e| (e.class(), e.function())) != Some((mti.class(), mti.function())) {
            let want = expected.map_or_else(|| "-".into(), |m| m.to_string());
            out.push(with_time(
                finding(
                    msg,
                    &at,
                    Rule::UnexpectedResponseMti,
                    &[],
                    want,
                    mti.to_string(),
                ),
                seen,
            ));
        }
        // Read where it lies: moving the message out of the option copies its layout.
        let held = entry.message(spec);
        let Some(request) = &held else {
            return;
        };
        let alike = echoed_alike(request, msg);
        for &(n, rule) in &ECHO {
            if alike & (1u64 << (64 - n)) != 0 {
                continue;
            }
            let (Some(a), Some(b)) = (request.field(n), msg.field(n)) else {
                continue;
            };
            // A void or refund request names its original by RRN, its response carries the
            // new transaction's own; a balance inquiry moves no amount.
            if (n == 37 && kind.points_back())
                || (n == 4 && kind == TransactionType::BalanceInquiry)
            {
                continue;
            }
            let same = if n == 3 {
                a.chars().take(2).eq(b.chars().take(2))
            } else {
                a.value_eq(&b)
            };
            if same || (n == 4 && partial) {
                continue;
            }
            let (expected, observed) = if n == 2 {
                (a.to_display_text(false), b.to_display_text(false))
            } else {
                (a.to_text(), b.to_text())
            };
            out.push(with_time(
                finding(msg, &at, rule, &[n as u8], expected, observed),
                seen,
            ));
        }
        // Answered: its bytes are not needed again (a reversal needs only the entry), so the
        // table keeps a few dozen bytes a transaction over the reversal window, not the
        // message.
        if let Some(Some(e)) = self.slab.get_mut(slot) {
            let kept = e.bytes.get(e.request..e.request + e.idents);
            let kept = kept.unwrap_or_default();
            let mut small = self.keys.take(kept.len());
            small.extend_from_slice(kept);
            let request = std::mem::replace(&mut e.bytes, small);
            e.request = 0;
            self.requests.give(request);
        }
    }

    /// A reversal or an advice pointing back at an original.
    fn reversal(&mut self, msg: &Message<'_>, seen: Seen, out: &mut Vec<Finding>) {
        let original = msg.original_data().and_then(Result::ok);
        let found = match &original {
            Some(o) => {
                let stan = trace_digits(o.stan);
                let f7 = o.transmission.as_bytes();
                let f7 = (!f7.iter().all(|&c| c == b'0')).then_some(f7);
                self.find(seen.flow, o.mti.class(), msg, Some(&stan[..]), f7)
            }
            // The terminal leg: the reversal re-sends the original's STAN, terminal and
            // merchant, on whatever connection.
            None => [1u8, 2]
                .into_iter()
                .find_map(|c| self.find(seen.flow, c, msg, None, None)),
        };
        let Some(entry) = found.and_then(|slot| self.entry_mut(slot)) else {
            return;
        };
        if entry.reversed {
            return;
        }
        entry.reversed = true;
        if let State::Answered { approved: true } = entry.state {
            let at = Where::index(seen.index);
            let f = finding(
                msg,
                &at,
                Rule::ApprovedThenReversed,
                &[90],
                format!("the approval of message {} to stand", entry.seen.index),
                "reversed".into(),
            );
            out.push(with_time(f, seen));
        }
    }

    /// A void (of a sale, a completion or a pre-authorisation) points back at its original: by
    /// 61 on the terminal leg (original batch, trace and date), by 90 on the network leg. The
    /// original is undone: a timed-out sale the merchant voided is not `no-reversal-after-
    /// timeout`.
    fn void(&mut self, msg: &Message<'_>, kind: TransactionType) {
        use TransactionType as T;
        let class = match kind {
            T::Void | T::CompletionVoid => 2,
            T::PreAuthVoid => 1,
            _ => return,
        };
        let stan = void_trace(msg);
        let Some(stan) = stan else { return };
        let key = Self::full_key(class, msg, Some(&stan));
        if let Some(e) = self.held(&key).and_then(|slot| self.entry_mut(slot)) {
            e.reversed = true;
        }
    }

    /// Fires the deadlines that have passed.
    fn expire(&mut self, out: &mut Vec<Finding>) {
        while let Some((slot, generation)) = self.deadlines.pop_until(self.now) {
            self.deadline(slot, generation, out);
        }
    }

    /// A deadline of the entry in `slot`: stale (ignored) unless the entry is still at
    /// `generation` (generations are never reused, so neither a later state of the entry nor
    /// a later entry in the slot answers to it).
    fn deadline(&mut self, slot: usize, generation: u64, out: &mut Vec<Finding>) {
        let Some(Some(entry)) = self.slab.get(slot) else {
            return;
        };
        if entry.generation != generation {
            return;
        }
        match entry.state {
            State::Pending => {
                let asks = matches!(entry.mti.value(), 100 | 200);
                if !asks {
                    self.discard(slot);
                    return;
                }
                let f = self.lifecycle(
                    entry,
                    Rule::NoResponse,
                    format!("a response within {} ms", self.config.timeout_ms),
                    "none".into(),
                );
                out.push(f);
                self.generation += 1;
                let g = self.generation;
                let until = entry.seen.time.millis().saturating_add(
                    (self.config.timeout_ms + self.config.reversal_window_ms) as i64,
                );
                if let Some(e) = self.entry_mut(slot) {
                    e.state = State::TimedOut;
                    e.generation = g;
                }
                self.deadlines.push(Deadlines::REVERSAL, until, slot, g);
            }
            State::TimedOut => {
                if !entry.reversed {
                    let f = self.lifecycle(
                        entry,
                        Rule::NoReversalAfterTimeout,
                        "a reversal (0400/0420) of the unanswered request".into(),
                        "none".into(),
                    );
                    out.push(f);
                }
                self.discard(slot);
            }
            State::Answered { .. } => {
                self.discard(slot);
            }
        }
    }

    /// Reports every request still held: the end of the input is the end of every wait.
    /// Requests whose timeout had not passed in capture time are reported as unanswered by
    /// the end of the input; timed-out ones still awaiting a reversal are not (the input ended
    /// before their window did).
    pub fn finish(&mut self, out: &mut Vec<Finding>) {
        self.relaxed.clear();
        self.table.clear();
        self.free.clear();
        // Only unanswered requests that asked for approval are reported, in input order.
        let mut rest: Vec<Entry> = self
            .slab
            .drain(..)
            .flatten()
            .filter(|e| e.state == State::Pending && matches!(e.mti.value(), 100 | 200))
            .collect();
        rest.sort_by_key(|e| e.seen.index);
        for e in rest {
            out.push(self.lifecycle(
                &e,
                Rule::NoResponse,
                "a response".into(),
                "none by the end of the input".into(),
            ));
        }
        self.deadlines.clear();
        self.arrivals.clear();
        self.recent.clear();
    }

    fn lifecycle(&self, e: &Entry, rule: Rule, expected: String, observed: String) -> Finding {
        let message = e.message(self.spec).map_or_else(
            || MessageRef {
                index: e.seen.index,
                mti: e.mti.to_string(),
                ..MessageRef::default()
            },
            |m| message_ref(&m, &Where::index(e.seen.index)),
        );
        let mut f = Finding::new(rule, message, &[11], expected, observed, None);
        stamp(&mut f.message, &e.seen);
        f
    }
}

/// Whether a response approves: 00, 10 (partial approval) or 11 (approved, VIP).
pub(crate) fn approved(msg: &Message<'_>) -> bool {
    msg.field(39)
        .is_some_and(|c| c.text_eq("00") || c.text_eq("10") || c.text_eq("11"))
}

fn finding(
    msg: &Message<'_>,
    at: &Where<'_>,
    rule: Rule,
    fields: &[u8],
    expected: String,
    observed: String,
) -> Finding {
    Finding::new(rule, message_ref(msg, at), fields, expected, observed, None)
}

fn with_time(mut f: Finding, seen: Seen) -> Finding {
    stamp(&mut f.message, &seen);
    f
}

/// Puts a message's capture time and flow (where known) into its references.
pub fn stamp(message: &mut MessageRef, seen: &Seen) {
    message.time = (seen.time != Timestamp::default()).then(|| seen.time.to_string());
    message.flow = seen
        .flow
        .map(|fl| format!("{} -> {}", fl.client, fl.server));
}
