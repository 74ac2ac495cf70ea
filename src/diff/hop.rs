//! The differ's second half: the same transaction seen on two legs (terminal -> acquirer and
//! acquirer -> network), compared.
//!
//! [`HopMatcher`] holds each leg's requests (authorisation and financial, requests and advices)
//! for a window (default 60 s of capture time) and correlates them by RRN (37) where both carry
//! it, else by a hash of the card number (2, or from track 2) and amount within the window —
//! never by STAN, which is local to a leg, nor by terminal or merchant, which may be
//! substituted. The legs may speak different dialects ([`HopMatcher::set_spec`]): keys are
//! hashed from the fields' characters, whatever their encoding. The terminal leg's
//! responses take part by their RRN (the acquirer assigns it, forwards it and returns it to the
//! terminal), which finds a network request whose amount was altered. Only hashes of those keys
//! are held, with the message's bytes until it is matched or dropped.
//!
//! Rules, the terminal leg's merchant profile being the reference: `hop-mcc-substituted` (跳码:
//! the network leg's field 18, or the MCC in its field 42, is not the merchant's registered or
//! allowed MCC), `hop-merchant-substituted` (跳码, 二清: the network leg's field 42 differs from
//! the terminal leg's and is not a declared `network_ids` mapping), `hop-amount-altered` (跳点:
//! field 4 differs), `hop-routing-changed` (二清: the network leg's field 32 is not one of the
//! merchant's `acquirer_ids`), `hop-name-changed` (field 43 differs, spaces and case aside).

use super::key::{Idents, Key, KeyId, KeyMap};
use super::{Seen, approved};
use crate::finding::MessageRef;
use crate::finding::{FeeImpact, Finding, Rule};
use crate::mcc::FeeTable;
use crate::merchant::MerchantCode;
use crate::message::Message;
use crate::parse::parse;
use crate::profile::ProfileBook;
use crate::spec::Spec;
use crate::validate::{Where, message_ref};
use std::collections::{HashMap, HashSet, VecDeque};

pub use crate::leg::Leg;

/// The windows, thresholds and bounds of the hop correlation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HopConfig {
    /// How long a request waits for its twin on the other leg, capture-time ms (default 60 s).
    pub window_ms: u64,
    /// The most requests held per leg (default 1,000,000); the oldest are dropped first.
    pub max_pending: usize,
    /// How long a correlated transaction's outcome is followed on both legs (responses,
    /// reversals) before it is judged, capture-time ms (default 120 s).
    pub outcome_window_ms: u64,
    /// The most correlated transactions followed at once (default 1,000,000).
    pub max_outcomes: usize,
    /// `channel-merchant-fan-in`: this many terminal merchants behind one network merchant
    /// within `channel_window_ms` (default 3).
    pub fan_in: usize,
    /// `channel-merchant-rotation`: this many network merchants for one terminal merchant
    /// within `channel_window_ms` (default 3).
    pub rotation: usize,
    /// The window of the channel rules, capture-time ms (default 24 h).
    pub channel_window_ms: u64,
}

impl Default for HopConfig {
    fn default() -> HopConfig {
        HopConfig {
            window_ms: 60_000,
            max_pending: 1_000_000,
            outcome_window_ms: 120_000,
            max_outcomes: 1_000_000,
            fan_in: 3,
            rotation: 3,
            channel_window_ms: 24 * 3600 * 1000,
        }
    }
}

/// A field's characters in a fixed array (longer values are cut): no allocation.
#[derive(Clone, Copy, Debug)]
struct Inline<const N: usize> {
    chars: [u8; N],
    len: u8,
    present: bool,
}

impl<const N: usize> Inline<N> {
    fn of(msg: &Message<'_>, n: usize) -> Inline<N> {
        let mut out = Inline {
            chars: [0; N],
            len: 0,
            present: msg.has(n),
        };
        if let Some(f) = msg.field(n) {
            for (slot, c) in out.chars.iter_mut().zip(f.chars()) {
                *slot = c;
                out.len += 1;
            }
        }
        out
    }

    fn as_bytes(&self) -> &[u8] {
        self.chars.get(..usize::from(self.len)).unwrap_or_default()
    }

    fn text(&self) -> Option<String> {
        self.present
            .then(|| String::from_utf8_lossy(self.as_bytes()).into_owned())
    }
}

/// The keys of the network request a finding names, held inline; its card number masked
/// (never held whole).
#[derive(Clone, Copy, Debug)]
struct Reference {
    mti: crate::message::Mti,
    stan: Inline<6>,
    terminal: Inline<8>,
    merchant: Inline<15>,
    rrn: Inline<12>,
    pan: Option<([u8; 19], usize)>,
}

impl Reference {
    fn of(msg: &Message<'_>) -> Reference {
        let pan = pan_digits(msg).map(|(mut digits, len)| {
            crate::mask::mask_pan_in_place(digits.get_mut(..len).unwrap_or_default());
            (digits, len)
        });
        Reference {
            mti: msg.mti(),
            stan: Inline::of(msg, 11),
            terminal: Inline::of(msg, 41),
            merchant: Inline::of(msg, 42),
            rrn: Inline::of(msg, 37),
            pan,
        }
    }

    fn message_ref(&self, seen: &Seen) -> MessageRef {
        let mut r = MessageRef {
            index: seen.index,
            mti: self.mti.to_string(),
            stan: self.stan.text(),
            terminal: self.terminal.text(),
            merchant: self.merchant.text(),
            rrn: self.rrn.text(),
            pan: self
                .pan
                .and_then(|(masked, len)| Some(String::from_utf8_lossy(masked.get(..len)?).into())),
            ..MessageRef::default()
        };
        super::stamp(&mut r, seen);
        r
    }
}

/// A correlated transaction followed until its outcome on both legs is known: about two
/// hundred bytes, and its identities' few dozen on the heap, over the outcome window.
#[derive(Debug)]
struct Outcome {
    /// The network request: the findings' reference (its merchant is the one a reversal must
    /// reuse).
    network_request: Reference,
    seen: Seen,
    network_approved: Option<bool>,
    terminal_approved: Option<bool>,
    network_reversed: bool,
    /// The terminal's reversal, with its reason (39).
    terminal_reversal: Option<[u8; 2]>,
    /// The terminal and network identities' values (they index the tables) and bytes (they
    /// confirm a lookup).
    keys: [u64; 2],
    idents: Idents,
}

/// The merchants seen behind one merchant within the channel window: (time, merchant).
type Seenwith = VecDeque<(i64, Vec<u8>)>;

/// One channel rule's state: for each merchant, the other side's merchants seen with it within
/// the window, and whether it was reported.
#[derive(Debug, Default)]
struct Tally {
    seen: HashMap<Vec<u8>, Seenwith>,
    reported: HashSet<Vec<u8>>,
}

impl Tally {
    /// Adds `(now, other)` to `key`'s list and drops what left the window; the distinct
    /// merchants in it when they are `threshold` or more and `key` was not reported yet.
    fn note(
        &mut self,
        key: &[u8],
        other: &[u8],
        now: i64,
        window: i64,
        threshold: usize,
    ) -> Option<Vec<Vec<u8>>> {
        let list = self.seen.entry(key.to_vec()).or_default();
        while list
            .front()
            .is_some_and(|(t, _)| now.saturating_sub(*t) > window)
        {
            list.pop_front();
        }
        // One entry a merchant: refresh its time.
        list.retain(|(_, m)| m != other);
        list.push_back((now, other.to_vec()));
        if list.len() < threshold || self.reported.contains(key) {
            return None;
        }
        self.reported.insert(key.to_vec());
        Some(list.iter().map(|(_, m)| m.clone()).collect())
    }
}

/// The channel rules' state: network merchant -> terminal merchants, and back.
#[derive(Debug, Default)]
struct Channels {
    fan_in: Tally,
    rotation: Tally,
}

/// A terminal-leg identity: terminal, merchant and trace (a terminal's reversal re-sends them).
fn terminal_identity(msg: &Message<'_>) -> KeyId {
    Key::new()
        .present(b"t")
        .field(msg, 41)
        .field(msg, 42)
        .field(msg, 11)
        .id()
}

/// A network-leg identity: STAN, transmission time and acquirer, from the message itself or,
/// for a reversal, from the original it names in field 90.
fn network_identity(msg: &Message<'_>, from_90: bool) -> Option<KeyId> {
    let mut k = Key::new();
    k.present(b"n");
    if from_90 {
        let o = msg.original_data()?.ok()?;
        let stan = format!("{:06}", o.stan);
        k.present(stan.as_bytes())
            .present(o.transmission.as_bytes());
    } else {
        k.field(msg, 11).field(msg, 7);
    }
    Some(k.field(msg, 32).id())
}

#[derive(Debug)]
struct Held {
    bytes: Vec<u8>,
    seen: Seen,
    keys: [Option<u64>; 2],
}

/// One leg's held requests, by key.
#[derive(Debug, Default)]
struct Side {
    by_key: KeyMap<u64>,
    held: HashMap<u64, Held>,
    order: VecDeque<(i64, u64)>,
}

impl Side {
    fn remove(&mut self, id: u64) -> Option<Held> {
        let h = self.held.remove(&id)?;
        for k in h.keys.iter().flatten() {
            if self.by_key.get(k) == Some(&id) {
                self.by_key.remove(k);
            }
        }
        Some(h)
    }
}

/// Correlates the same transaction on two legs; see the module docs.
#[derive(Debug)]
pub struct HopMatcher<'b> {
    /// Each leg's dialect, to read its held messages again.
    specs: [&'b Spec; 2],
    book: &'b ProfileBook,
    fees: &'b FeeTable,
    config: HopConfig,
    sides: [Side; 2],
    next_id: u64,
    outcomes: HashMap<u64, Outcome>,
    by_terminal: KeyMap<u64>,
    by_network: KeyMap<u64>,
    outcome_order: VecDeque<(i64, u64)>,
    channels: Channels,
    /// Correlations found, when they are recorded ([`HopMatcher::record_links`]).
    links: Option<Vec<super::Link>>,
}

fn text(msg: &Message<'_>, n: usize) -> Option<Vec<u8>> {
    msg.field(n).map(|f| f.chars().collect())
}

/// The card number's digits: field 2, or track 2 (35) up to its separator. On the stack.
pub(crate) fn pan_digits(msg: &Message<'_>) -> Option<([u8; 19], usize)> {
    let mut out = [0u8; 19];
    let mut len = 0;
    let field = msg.field(2).or_else(|| msg.field(35))?;
    if let Some(data) = field.plain() {
        // The characters are the bytes: the leading digits copied at once.
        let digits = crate::codec::leading_ascii_digits(data);
        out.get_mut(..digits)?.copy_from_slice(data.get(..digits)?);
        return (digits >= 12).then_some((out, digits));
    }
    for c in field.chars() {
        if !c.is_ascii_digit() {
            break;
        }
        *out.get_mut(len)? = c;
        len += 1;
    }
    (len >= 12).then_some((out, len))
}

/// The correlation keys of a request: by RRN, and by card number (2, or from track 2) and
/// amount; the capture-time window is the holding time. Never by STAN (leg-local) or by
/// terminal or merchant (substitutable); terminal requests carry no 7, 12 or 13.
fn keys(msg: &Message<'_>) -> [Option<KeyId>; 2] {
    [key_of(msg, 0), key_of(msg, 1)]
}

/// One correlation key of a request: 0 by RRN, 1 by card number and amount.
fn key_of(msg: &Message<'_>, which: usize) -> Option<KeyId> {
    if which == 0 {
        return msg
            .field(37)
            .filter(|r| r.chars().any(|c| c != b' ' && c != b'0'))
            .map(|_| Key::new().present(b"rrn").field(msg, 37).id());
    }
    pan_digits(msg).filter(|_| msg.has(4)).map(|(pan, len)| {
        Key::new()
            .present(b"pan")
            .present(pan.get(..len).unwrap_or_default())
            .field(msg, 4)
            .id()
    })
}

impl<'b> HopMatcher<'b> {
    /// A matcher for messages in `spec`, with `book` as the reference.
    #[must_use]
    pub fn new(
        spec: &'b Spec,
        book: &'b ProfileBook,
        fees: &'b FeeTable,
        config: HopConfig,
    ) -> HopMatcher<'b> {
        HopMatcher {
            specs: [spec, spec],
            book,
            fees,
            config,
            sides: [Side::default(), Side::default()],
            next_id: 0,
            outcomes: HashMap::new(),
            by_terminal: KeyMap::default(),
            by_network: KeyMap::default(),
            outcome_order: VecDeque::new(),
            channels: Channels::default(),
            links: None,
        }
    }

    /// Records the correlations found from now on ([`super::Link::Hop`]), for
    /// [`HopMatcher::take_links`].
    pub fn record_links(&mut self) {
        self.links.get_or_insert_with(Vec::new);
    }

    /// The correlations found since the last call (none unless recorded).
    pub fn take_links(&mut self, into: &mut Vec<super::Link>) {
        if let Some(links) = &mut self.links {
            into.append(links);
        }
    }

    /// Reads `leg`'s messages with `spec` (by default, the spec given to [`HopMatcher::new`]).
    pub fn set_spec(&mut self, leg: Leg, spec: &'b Spec) {
        let [terminal, network] = &mut self.specs;
        match leg {
            Leg::Terminal => *terminal = spec,
            Leg::Network => *network = spec,
        }
    }

    fn spec(&self, leg: Leg) -> &'b Spec {
        match leg {
            Leg::Terminal => self.specs[0],
            Leg::Network => self.specs[1],
        }
    }

    /// Requests held, on both legs.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.sides.iter().map(|s| s.held.len()).sum()
    }

    /// Moves the matcher's clock to `now` with no message: held requests past the window are
    /// dropped, and the transactions whose outcome window has passed are judged into `out`.
    pub fn tick(&mut self, now: crate::capture::Timestamp, out: &mut Vec<Finding>) {
        self.expire(now.millis(), out);
    }

    /// Takes a message seen on `leg`; findings of a correlated pair go to `out`.
    pub fn push(
        &mut self,
        leg: Leg,
        msg: &Message<'_>,
        bytes: &[u8],
        seen: Seen,
        out: &mut Vec<Finding>,
    ) {
        self.expire(seen.time.millis(), out);
        let mti = msg.mti();
        if mti.class() == 4 {
            self.reversal(leg, msg, seen, out);
            return;
        }
        if !matches!(mti.class(), 1 | 2) {
            return;
        }
        if !(mti.is_response() && leg == Leg::Network) {
            self.correlate(leg, msg, bytes, seen, out);
        }
        // A response's part in its transaction's outcome, once it may have been correlated.
        if mti.is_response() {
            self.response_outcome(leg, msg);
        }
    }

    /// Finds a request's (or a terminal response's) twin on the other leg and compares them,
    /// else holds it for the window.
    fn correlate(
        &mut self,
        leg: Leg,
        msg: &Message<'_>,
        bytes: &[u8],
        seen: Seen,
        out: &mut Vec<Finding>,
    ) {
        // A terminal-leg response carries the RRN the acquirer assigned and forwarded: it
        // correlates by RRN what PAN + amount + time cannot (an amount altered in transit).
        let keys = if msg.mti().is_response() {
            [keys(msg)[0], None]
        } else {
            keys(msg)
        };
        let other_spec = self.spec(leg.other());
        let other = self.side(leg.other());
        let twin = keys.iter().enumerate().find_map(|(which, k)| {
            let id = other.by_key.get(&k.as_ref()?.value).copied()?;
            Some((which, id))
        });
        if let Some((which, id)) = twin {
            if let Some(held) = other.remove(id) {
                let Ok(twin_msg) = parse(other_spec, &held.bytes) else {
                    return;
                };
                // The held request's own key of that kind has the same bytes: a 64-bit
                // collision never correlates two transactions.
                let key = keys.get(which).copied().flatten();
                if key.is_some() && key_of(&twin_msg, which) == key {
                    let (t, n, n_seen) = match leg {
                        Leg::Network => (&twin_msg, msg, seen),
                        Leg::Terminal => (msg, &twin_msg, held.seen),
                    };
                    if let Some(links) = &mut self.links {
                        let (terminal, network) = match leg {
                            Leg::Network => (held.seen.index, seen.index),
                            Leg::Terminal => (seen.index, held.seen.index),
                        };
                        links.push(super::Link::Hop { terminal, network });
                    }
                    self.compare(t, n, n_seen, out);
                    self.follow(t, n, n_seen, seen.time.millis());
                    return;
                }
                // Another transaction: held again as it was.
                let other = self.side(leg.other());
                for k in held.keys.iter().flatten() {
                    other.by_key.insert(*k, id);
                }
                other.held.insert(id, held);
            }
        }
        if keys.iter().all(Option::is_none) {
            // Nothing could ever find it.
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let window = self.config.window_ms as i64;
        let max = self.config.max_pending;
        let side = self.side(leg);
        for k in keys.iter().flatten() {
            side.by_key.insert(k.value, id);
        }
        side.held.insert(
            id,
            Held {
                bytes: bytes.to_vec(),
                seen,
                keys: keys.map(|k| k.map(|k| k.value)),
            },
        );
        side.order
            .push_back((seen.time.millis().saturating_add(window), id));
        while side.held.len() > max {
            let Some((_, oldest)) = side.order.pop_front() else {
                break;
            };
            side.remove(oldest);
        }
    }

    fn side(&mut self, leg: Leg) -> &mut Side {
        let [terminal, network] = &mut self.sides;
        match leg {
            Leg::Terminal => terminal,
            Leg::Network => network,
        }
    }

    /// Starts following a correlated transaction's outcome.
    fn follow(&mut self, t: &Message<'_>, n: &Message<'_>, n_seen: Seen, now: i64) {
        if crate::txn::transaction_type(n) == crate::txn::TransactionType::BalanceInquiry {
            return;
        }
        let Some(nk) = network_identity(n, false) else {
            return;
        };
        let tk = terminal_identity(t);
        let id = self.next_id;
        self.next_id += 1;
        self.outcomes.insert(
            id,
            Outcome {
                network_request: Reference::of(n),
                seen: n_seen,
                network_approved: None,
                terminal_approved: None,
                network_reversed: false,
                terminal_reversal: None,
                keys: [tk.value, nk.value],
                idents: Idents::of(&[tk.ident, nk.ident]),
            },
        );
        self.by_terminal.insert(tk.value, id);
        self.by_network.insert(nk.value, id);
        let deadline = now.saturating_add(self.config.outcome_window_ms as i64);
        self.outcome_order.push_back((deadline, id));
        while self.outcomes.len() > self.config.max_outcomes {
            let Some((_, oldest)) = self.outcome_order.pop_front() else {
                break;
            };
            self.forget(oldest);
        }
    }

    /// The followed transaction with this terminal (or network) identity: found by the key's
    /// value, confirmed on its bytes.
    fn outcome_of(&self, leg: Leg, key: Option<KeyId>) -> Option<u64> {
        let key = key?;
        let (table, i) = match leg {
            Leg::Terminal => (&self.by_terminal, 0),
            Leg::Network => (&self.by_network, 1),
        };
        let id = table.get(&key.value).copied()?;
        let o = self.outcomes.get(&id)?;
        (o.keys.get(i) == Some(&key.value) && o.idents.matches(i, &key.ident)).then_some(id)
    }

    fn forget(&mut self, id: u64) -> Option<Outcome> {
        let o = self.outcomes.remove(&id)?;
        let [tk, nk] = o.keys;
        if self.by_terminal.get(&tk) == Some(&id) {
            self.by_terminal.remove(&tk);
        }
        if self.by_network.get(&nk) == Some(&id) {
            self.by_network.remove(&nk);
        }
        Some(o)
    }

    /// A response's part in its transaction's outcome.
    fn response_outcome(&mut self, leg: Leg, msg: &Message<'_>) {
        let id = match leg {
            Leg::Terminal => self.outcome_of(Leg::Terminal, Some(terminal_identity(msg))),
            Leg::Network => self.outcome_of(Leg::Network, network_identity(msg, false)),
        };
        let Some(o) = id.and_then(|id| self.outcomes.get_mut(&id)) else {
            return;
        };
        let ok = approved(msg);
        match leg {
            Leg::Terminal => o.terminal_approved = Some(ok || o.terminal_approved == Some(true)),
            Leg::Network => o.network_approved = Some(ok || o.network_approved == Some(true)),
        }
    }

    /// A reversal on either leg: the terminal's 0400 (its reason in 39), the network's 0420
    /// (the original in 90; it must reuse the sale's merchant) and its answer 0430.
    fn reversal(&mut self, leg: Leg, msg: &Message<'_>, seen: Seen, out: &mut Vec<Finding>) {
        let mti = msg.mti();
        let mut report = |rule: Rule, fields: &[u8], expected: String, observed: String| {
            let mut message = message_ref(msg, &Where::index(seen.index));
            super::stamp(&mut message, &seen);
            out.push(Finding::new(
                rule, message, fields, expected, observed, None,
            ));
        };
        match (leg, mti.is_response()) {
            (Leg::Terminal, false) => {
                let id = self.outcome_of(Leg::Terminal, Some(terminal_identity(msg)));
                if let Some(o) = id.and_then(|id| self.outcomes.get_mut(&id)) {
                    let mut reason = [b' '; 2];
                    if let Some(f) = msg.field(39) {
                        for (r, c) in reason.iter_mut().zip(f.chars()) {
                            *r = c;
                        }
                    }
                    o.terminal_reversal.get_or_insert(reason);
                }
            }
            (Leg::Network, false) => {
                let id = self.outcome_of(Leg::Network, network_identity(msg, true));
                if let Some(o) = id.and_then(|id| self.outcomes.get_mut(&id)) {
                    o.network_reversed = true;
                    let merchant = Inline::<15>::of(msg, 42);
                    let sale_merchant = o.network_request.merchant;
                    if merchant.as_bytes() != sale_merchant.as_bytes() {
                        let expected =
                            String::from_utf8_lossy(sale_merchant.as_bytes()).into_owned();
                        let merchant = merchant.as_bytes().to_vec();
                        report(
                            Rule::ReversalFailed,
                            &[42, 90],
                            format!("the forwarded sale's merchant {expected}"),
                            String::from_utf8_lossy(&merchant).into_owned(),
                        );
                    }
                }
            }
            (Leg::Network, true) => {
                if let Some(code) = msg
                    .field(39)
                    .filter(|c| c.text_eq("12") || c.text_eq("22") || c.text_eq("25"))
                {
                    report(
                        Rule::ReversalFailed,
                        &[39],
                        "the reversal accepted (00)".into(),
                        format!("refused with {}", code.to_text()),
                    );
                }
            }
            (Leg::Terminal, true) => {}
        }
    }

    /// Judges a followed transaction whose window has passed (or whose input ended).
    fn judge(&self, o: &Outcome, out: &mut Vec<Finding>) {
        let reference = || o.network_request.message_ref(&o.seen);
        let push =
            |out: &mut Vec<Finding>, rule, fields: &[u8], expected: &str, observed: String| {
                out.push(Finding::new(
                    rule,
                    reference(),
                    fields,
                    expected.to_string(),
                    observed,
                    None,
                ));
            };
        let shown = |a: Option<bool>| match a {
            Some(true) => "approved",
            Some(false) => "declined",
            None => "no response",
        };
        if let Some(reason) = &o.terminal_reversal {
            let reason = String::from_utf8_lossy(reason);
            if !o.network_reversed && o.network_approved != Some(false) {
                push(
                    out,
                    Rule::ReversalNotForwarded,
                    &[39, 90],
                    "a 0420 on the network naming the sale in field 90",
                    format!(
                        "the terminal reversed it (reason {reason}); the network saw no reversal and {}",
                        shown(o.network_approved)
                    ),
                );
            }
        } else if o.network_approved == Some(true)
            && o.terminal_approved != Some(true)
            && !o.network_reversed
        {
            push(
                out,
                Rule::ApprovedOnNetworkFailedOnTerminal,
                &[39],
                "the terminal told of the approval, or a network reversal",
                format!(
                    "network approved; terminal {}; no reversal",
                    shown(o.terminal_approved)
                ),
            );
        }
    }

    /// Drops what waited longer than the window, and judges the transactions whose outcome
    /// window has passed.
    fn expire(&mut self, now: i64, out: &mut Vec<Finding>) {
        while let Some(&(deadline, id)) = self.outcome_order.front() {
            if deadline > now {
                break;
            }
            self.outcome_order.pop_front();
            if let Some(o) = self.forget(id) {
                self.judge(&o, out);
            }
        }
        self.expire_held(now);
    }

    /// Drops held requests that waited longer than the window.
    fn expire_held(&mut self, now: i64) {
        for side in &mut self.sides {
            while let Some(&(deadline, id)) = side.order.front() {
                if deadline > now {
                    break;
                }
                side.order.pop_front();
                side.remove(id);
            }
        }
    }

    /// Compares the terminal leg's request `t` with the network leg's `n`.
    fn compare(&mut self, t: &Message<'_>, n: &Message<'_>, n_seen: Seen, out: &mut Vec<Finding>) {
        self.compare_channels(t, n, n_seen, out);
        let at = Where::index(n_seen.index);
        let mut push = |rule: Rule,
                        fields: &[u8],
                        expected: String,
                        observed: String,
                        fee_impact: Option<FeeImpact>| {
            let mut message = message_ref(n, &at);
            super::stamp(&mut message, &n_seen);
            out.push(Finding::new(
                rule, message, fields, expected, observed, fee_impact,
            ));
        };
        let show = |m: &Message<'_>, f: usize| m.field(f).map(|x| x.to_text()).unwrap_or_default();
        let amount = n.amount().and_then(Result::ok);
        if let (Some(a), Some(b)) = (t.field(4), n.field(4)) {
            if !a.value_eq(&b) {
                push(Rule::HopAmountAltered, &[4], a.to_text(), b.to_text(), None);
            }
        }
        let t42 = text(t, 42);
        let profile = t42.as_ref().and_then(|m| self.book.merchant(m));
        if let (Some(a), Some(b)) = (t.field(42), n.field(42)) {
            let declared = profile.is_some_and(|p| {
                p.network_ids
                    .iter()
                    .any(|id| b.text_eq(id.trim_end()) || b.text_eq(id))
            });
            if !a.value_eq(&b) && !declared {
                push(
                    Rule::HopMerchantSubstituted,
                    &[42],
                    a.to_text(),
                    b.to_text(),
                    None,
                );
            }
        }
        if let Some(p) = profile {
            let n18 = n.mcc().and_then(Result::ok).map(|m| m.0);
            let n42 = text(n, 42);
            let n42_mcc = n42
                .as_deref()
                .and_then(|c| MerchantCode::decode(c).ok())
                .map(|c| c.mcc());
            if let Some(used) = n18.filter(|u| !p.allows_mcc(*u)) {
                let impact = FeeImpact::of(self.fees, p.mcc, used, amount);
                push(
                    Rule::HopMccSubstituted,
                    &[18],
                    format!("{:04}", p.mcc),
                    format!("{used:04}"),
                    Some(impact),
                );
            } else if let Some(used) = n42_mcc.filter(|u| !p.allows_mcc(*u)) {
                let impact = FeeImpact::of(self.fees, p.mcc, used, amount);
                push(
                    Rule::HopMccSubstituted,
                    &[42],
                    format!("{:04}", p.mcc),
                    format!("{used:04} (in {})", show(n, 42)),
                    Some(impact),
                );
            }
            if let Some(f32) = n.field(32) {
                if !p.acquirer_ids.is_empty() && !p.acquirer_ids.iter().any(|id| f32.text_eq(id)) {
                    push(
                        Rule::HopRoutingChanged,
                        &[32],
                        p.acquirer_ids.join(" or "),
                        f32.to_text(),
                        None,
                    );
                }
            }
        }
        if let (Some(a), Some(b)) = (t.field(43), n.field(43)) {
            let norm = |f: &crate::message::Field<'_>| {
                f.to_text()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_uppercase()
            };
            if norm(&a) != norm(&b) {
                push(
                    Rule::HopNameChanged,
                    &[43],
                    a.to_text().trim_end().to_string(),
                    b.to_text().trim_end().to_string(),
                    None,
                );
            }
        }
    }

    /// `region-jump`, `channel-merchant-fan-in` and `channel-merchant-rotation`: where the
    /// network leg places the merchant, and which network merchants stand for which terminal
    /// merchants over the channel window. A declared mapping (`network_ids`) is never a
    /// channel finding.
    fn compare_channels(
        &mut self,
        t: &Message<'_>,
        n: &Message<'_>,
        n_seen: Seen,
        out: &mut Vec<Finding>,
    ) {
        let at = Where::index(n_seen.index);
        let mut push = |rule: Rule, fields: &[u8], expected: String, observed: String| {
            let mut message = message_ref(n, &at);
            super::stamp(&mut message, &n_seen);
            out.push(Finding::new(
                rule, message, fields, expected, observed, None,
            ));
        };
        let (Some(t42), Some(n42)) = (text(t, 42), text(n, 42)) else {
            return;
        };
        let profile = self.book.merchant(&t42);
        let digits = |r: &[u8]| r.len() == 4 && r.iter().all(u8::is_ascii_digit);
        let t_region: Option<Vec<u8>> = profile
            .and_then(|p| p.region.as_ref().map(|r| r.as_bytes().to_vec()))
            .or_else(|| MerchantCode::decode(&t42).ok().map(|c| c.region().to_vec()))
            .filter(|r| digits(r));
        if let Some(home) = t_region {
            let shown = String::from_utf8_lossy(&home).into_owned();
            let n42_region = MerchantCode::decode(&n42)
                .ok()
                .map(|c| c.region().to_vec())
                .filter(|r| digits(r));
            let n32 = text(n, 32).filter(|a| a.len() == 8);
            let n32_region = n32
                .as_ref()
                .and_then(|a| a.get(4..8))
                .filter(|r| digits(r) && *r != b"0000");
            if let Some(r) = n42_region.filter(|r| *r != home) {
                push(
                    Rule::RegionJump,
                    &[42],
                    format!("region {shown}"),
                    format!(
                        "region {} (characters 4-7 of {})",
                        String::from_utf8_lossy(&r),
                        String::from_utf8_lossy(&n42)
                    ),
                );
            } else if let Some(r) = n32_region.filter(|r| *r != home.as_slice()) {
                push(
                    Rule::RegionJump,
                    &[32],
                    format!("region {shown}"),
                    format!(
                        "region {} (characters 5-8 of acquirer {})",
                        String::from_utf8_lossy(r),
                        String::from_utf8_lossy(n32.as_deref().unwrap_or_default())
                    ),
                );
            }
        }
        let declared = profile.is_some_and(|p| {
            p.network_ids
                .iter()
                .any(|id| id.trim_end().as_bytes() == n42.trim_ascii_end())
        });
        if t42.trim_ascii_end() == n42.trim_ascii_end() || declared {
            return;
        }
        let terminal_merchant: Vec<u8> = profile.map_or_else(
            || t42.trim_ascii_end().to_vec(),
            |p| p.id.as_bytes().to_vec(),
        );
        let network_merchant = n42.trim_ascii_end().to_vec();
        let now = n_seen.time.millis();
        let window = self.config.channel_window_ms as i64;
        let hours = self.config.channel_window_ms as f64 / 3_600_000.0;
        let list = |v: &[Vec<u8>]| {
            v.iter()
                .map(|m| String::from_utf8_lossy(m).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let fan_in = self.channels.fan_in.note(
            &network_merchant,
            &terminal_merchant,
            now,
            window,
            self.config.fan_in,
        );
        if let Some(behind) = fan_in {
            push(
                Rule::ChannelMerchantFanIn,
                &[42],
                format!(
                    "fewer than {} terminal merchants behind one network merchant within {hours} h",
                    self.config.fan_in
                ),
                format!(
                    "{} clears for {} terminal merchants: {}",
                    String::from_utf8_lossy(&network_merchant),
                    behind.len(),
                    list(&behind)
                ),
            );
        }
        let rotation = self.channels.rotation.note(
            &terminal_merchant,
            &network_merchant,
            now,
            window,
            self.config.rotation,
        );
        if let Some(through) = rotation {
            push(
                Rule::ChannelMerchantRotation,
                &[42],
                format!(
                    "fewer than {} network merchants for one terminal merchant within {hours} h",
                    self.config.rotation
                ),
                format!(
                    "{} cleared under {} network merchants: {}",
                    String::from_utf8_lossy(&terminal_merchant),
                    through.len(),
                    list(&through)
                ),
            );
        }
    }

    /// Ends the input: drops every request still waiting for its twin, and reports what the
    /// end of the input decides.
    pub fn finish(&mut self, out: &mut Vec<Finding>) {
        for side in &mut self.sides {
            *side = Side::default();
        }
        while let Some((_, id)) = self.outcome_order.pop_front() {
            if let Some(o) = self.forget(id) {
                self.judge(&o, out);
            }
        }
        self.channels = Channels::default();
    }
}
