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

use super::Seen;
use super::key::{Key, KeyMap};
use crate::finding::{FeeImpact, Finding, Rule};
use crate::mcc::FeeTable;
use crate::merchant::MerchantCode;
use crate::message::Message;
use crate::parse::parse;
use crate::profile::ProfileBook;
use crate::spec::Spec;
use crate::validate::{Where, message_ref};
use std::collections::{HashMap, VecDeque};

pub use crate::leg::Leg;

/// The window and bound of the hop correlation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HopConfig {
    /// How long a request waits for its twin on the other leg, capture-time ms (default 60 s).
    pub window_ms: u64,
    /// The most requests held per leg (default 1,000,000); the oldest are dropped first.
    pub max_pending: usize,
}

impl Default for HopConfig {
    fn default() -> HopConfig {
        HopConfig {
            window_ms: 60_000,
            max_pending: 1_000_000,
        }
    }
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
}

fn text(msg: &Message<'_>, n: usize) -> Option<Vec<u8>> {
    msg.field(n).map(|f| f.chars().collect())
}

/// The card number's digits: field 2, or track 2 (35) up to its separator. On the stack.
pub(crate) fn pan_digits(msg: &Message<'_>) -> Option<([u8; 19], usize)> {
    let mut out = [0u8; 19];
    let mut len = 0;
    let chars = match (msg.field(2), msg.field(35)) {
        (Some(f), _) | (None, Some(f)) => f.chars(),
        (None, None) => return None,
    };
    for c in chars {
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
fn keys(msg: &Message<'_>) -> [Option<u64>; 2] {
    let rrn = msg
        .field(37)
        .filter(|r| r.chars().any(|c| c != b' ' && c != b'0'))
        .map(|_| Key::new().present(b"rrn").field(msg, 37).value());
    let fuzzy = pan_digits(msg).filter(|_| msg.has(4)).map(|(pan, len)| {
        Key::new()
            .present(b"pan")
            .present(pan.get(..len).unwrap_or_default())
            .field(msg, 4)
            .value()
    });
    [rrn, fuzzy]
}

fn ms(seen: &Seen) -> i64 {
    seen.time
        .secs
        .saturating_mul(1000)
        .saturating_add(i64::from(seen.time.nanos / 1_000_000))
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

    /// Takes a message seen on `leg`; findings of a correlated pair go to `out`.
    pub fn push(
        &mut self,
        leg: Leg,
        msg: &Message<'_>,
        bytes: &[u8],
        seen: Seen,
        out: &mut Vec<Finding>,
    ) {
        self.expire(ms(&seen));
        let mti = msg.mti();
        if !matches!(mti.class(), 1 | 2) {
            return;
        }
        // A terminal-leg response carries the RRN the acquirer assigned and forwarded: it
        // correlates by RRN what PAN + amount + time cannot (an amount altered in transit).
        let keys = match (mti.is_response(), leg) {
            (false, _) => keys(msg),
            (true, Leg::Terminal) => [keys(msg)[0], None],
            (true, Leg::Network) => return,
        };
        let other_spec = self.spec(leg.other());
        let other = self.side(leg.other());
        let twin = keys
            .iter()
            .flatten()
            .find_map(|k| other.by_key.get(k).copied());
        if let Some(id) = twin {
            if let Some(held) = other.remove(id) {
                let Ok(twin_msg) = parse(other_spec, &held.bytes) else {
                    return;
                };
                let (t, n, n_seen) = match leg {
                    Leg::Network => (&twin_msg, msg, seen),
                    Leg::Terminal => (msg, &twin_msg, held.seen),
                };
                self.compare(t, n, n_seen, out);
                return;
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        let window = self.config.window_ms as i64;
        let max = self.config.max_pending;
        let side = self.side(leg);
        for k in keys.iter().flatten() {
            side.by_key.insert(*k, id);
        }
        side.held.insert(
            id,
            Held {
                bytes: bytes.to_vec(),
                seen,
                keys,
            },
        );
        side.order.push_back((ms(&seen).saturating_add(window), id));
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

    /// Drops what waited longer than the window.
    fn expire(&mut self, now: i64) {
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
    fn compare(&self, t: &Message<'_>, n: &Message<'_>, n_seen: Seen, out: &mut Vec<Finding>) {
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

    /// Ends the input: drops every request still waiting for its twin, and reports what the
    /// end of the input decides.
    pub fn finish(&mut self, _out: &mut Vec<Finding>) {
        for side in &mut self.sides {
            *side = Side::default();
        }
    }
}
