//! An audit run: every message of an input (hex dump or capture) validated against the profile
//! book and paired with its response or original ([`crate::diff::Pairer`]), with a report by
//! merchant (transactions seen, findings by rule, estimated fee impact) followed by the
//! findings, as text or one NDJSON finding a line.
//!
//! ```
//! use iso8583_inspect::audit::Audit;
//! use iso8583_inspect::report::Input;
//! use iso8583_inspect::{mcc::FeeTable, profile::ProfileBook, spec::ISO87_ASCII};
//! let book = ProfileBook::load("examples/data/merchants.toml")?;
//! let fees = FeeTable::default();
//! let mut audit = Audit::new(&ISO87_ASCII, &book, &fees);
//! let file = std::io::BufReader::new(std::fs::File::open("examples/data/sample.hex")?);
//! audit.run(Input::Hex(file))?;
//! assert!(audit.findings().iter().any(|f| f.rule.id() == "mcc-mismatch"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::capture::{
    CaptureError, CaptureEvent, CaptureReader, CapturedMessage, Direction, Flow, Timestamp,
};
use crate::diff::{DiffConfig, HopConfig, HopMatcher, Link, Pairer, Roles, Seen};
use crate::finding::{Finding, Rule};
use crate::leg::{Leg, LegConfig};
use crate::mcc::FeeTable;
use crate::message::{Message, Text};
use crate::parse::parse;
use crate::profile::{MerchantProfile, ProfileBook};
use crate::report::{Context, Input, Item, event_record, read_input};
use crate::spec::Spec;
use crate::txn::{TransactionType, transaction_type};
use crate::validate::{Validator, Where};
use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

mod threads;

/// Messages of a capture checked a stage at a time ([`Audit::check_batch`]).
const STAGE: usize = 32;

/// Something that keeps a record of the audited traffic as it goes (a transaction ledger):
/// every message parsed, how messages belong together, and the findings. Set with
/// [`Audit::set_recorder`]; [`Audit::run_with`] finishes it at the end of the input.
pub trait Recorder {
    /// Message `index` (parsed), on `leg`, captured `at`; called before its findings.
    fn message(
        &mut self,
        index: usize,
        leg: Option<Leg>,
        at: Option<(Timestamp, Flow)>,
        msg: &Message<'_>,
    );
    /// A response paired with its request, or the two legs of one transaction correlated.
    fn link(&mut self, link: Link);
    /// Findings, as they are found.
    fn findings(&mut self, found: &[Finding]);
    /// The end of the input: write out what is held.
    ///
    /// # Errors
    ///
    /// Where the record could not be written.
    fn finish(&mut self) -> io::Result<()>;
}

/// Which parts of the work on a message an audit does: all of them, or one shard's
/// ([`Audit::run_threads`]). `primary`: validation, merchant counts and unreadable messages
/// (done once a message); `pairing`: the pairer's parts ([`Roles`]); `hop`: hop correlation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Share {
    pub(crate) primary: bool,
    pub(crate) pairing: Roles,
    pub(crate) hop: bool,
}

impl Share {
    pub(crate) const ALL: Share = Share {
        primary: true,
        pairing: Roles::ALL,
        hop: true,
    };
    pub(crate) const NONE: Share = Share {
        primary: false,
        pairing: Roles::NONE,
        hop: false,
    };
}

/// The ID a merchant is reported under: its profile's (a declared network ID counts as the
/// merchant's), else field 42 as it came.
pub(crate) fn canonical(book: &ProfileBook, merchant: &str) -> String {
    book.merchant(merchant.as_bytes())
        .map_or_else(|| merchant.trim_end().to_string(), |p| p.id.clone())
}

/// Adds `found` to the merchant counts: each finding to its merchant's rule count, and the
/// fee impact of a message once (`first(index)` says whether its message is priced yet).
fn tally(
    book: &ProfileBook,
    merchants: &mut BTreeMap<String, MerchantStats>,
    found: &[Finding],
    mut first: impl FnMut(usize) -> bool,
) {
    for f in found {
        let merchant = canonical(book, f.message.merchant.as_deref().unwrap_or("-"));
        let stats = merchants.entry(merchant).or_default();
        *stats.by_rule.entry(f.rule).or_default() += 1;
        if let Some(fi) = &f.fee_impact {
            if first(f.message.index) {
                stats.fee_pre2016_fen += fi.pre2016.difference_fen.unwrap_or(0);
                stats.fee_post2016_fen += fi.post2016.difference_fen.unwrap_or(0);
            }
        }
    }
}

/// A captured message's time and `src -> dst`, as validation findings carry them.
pub(crate) fn seen_text(time: Timestamp, flow: Flow, direction: Direction) -> (String, String) {
    let (src, dst) = flow.ends(direction);
    (time.to_string(), format!("{src} -> {dst}"))
}

/// What the audit saw of one merchant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MerchantStats {
    /// Requests and advices validated.
    pub transactions: usize,
    /// Findings by rule.
    pub by_rule: BTreeMap<Rule, usize>,
    /// Estimated fee difference of its MCC findings at the pre-2016 rates, fen.
    pub fee_pre2016_fen: i64,
    /// The same at the indicative 2016 rates, fen.
    pub fee_post2016_fen: i64,
}

/// An audit in progress.
#[derive(Debug)]
pub struct Audit<'b> {
    spec: &'b Spec,
    book: &'b ProfileBook,
    fees: &'b FeeTable,
    hop_config: HopConfig,
    validator: Validator<'b>,
    pairing: DiffConfig,
    /// The pairer of traffic on no leg, then one a leg (in the order of `legs`).
    pairers: Vec<Pairer<'b>>,
    hops: HopMatcher<'b>,
    /// The legs; empty: one dialect, no hop correlation.
    legs: Vec<LegConfig<'b>>,
    findings: Vec<Finding>,
    merchants: BTreeMap<String, MerchantStats>,
    messages: usize,
    unreadable: usize,
    /// The first and last capture time seen.
    span: Option<(Timestamp, Timestamp)>,
    events: BTreeMap<&'static str, usize>,
    /// How many findings have been handed on by [`Audit::run_with`].
    handed: usize,
    /// Whether findings are kept once handed on.
    keep: bool,
    /// Whether findings are added to the merchant counts as they are found (a shard of a
    /// threaded run leaves that to the reader, which sees all of a message's findings).
    counting: bool,
    /// The record kept of the traffic, if any, and the links waiting to be handed to it.
    recorder: Slot<'b>,
    links: Vec<Link>,
}

/// The recorder's place in an [`Audit`] (shown by `Debug` as whether there is one).
#[derive(Default)]
struct Slot<'b>(Option<Box<dyn Recorder + Send + 'b>>);

impl std::fmt::Debug for Slot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(recorder)"
        } else {
            "None"
        })
    }
}

impl<'b> Audit<'b> {
    /// An audit of messages in `spec` against `book`, with fees from `fees` and the default
    /// pairing timeouts.
    #[must_use]
    pub fn new(spec: &'b Spec, book: &'b ProfileBook, fees: &'b FeeTable) -> Audit<'b> {
        Audit::with_pairing(spec, book, fees, DiffConfig::default())
    }

    /// The same with the pairing's timeouts and bounds.
    #[must_use]
    pub fn with_pairing(
        spec: &'b Spec,
        book: &'b ProfileBook,
        fees: &'b FeeTable,
        pairing: DiffConfig,
    ) -> Audit<'b> {
        Audit::with_config(spec, book, fees, pairing, HopConfig::default())
    }

    /// The same with the hop correlation's windows and thresholds too (the channel rules'
    /// `fan_in` and `rotation`).
    #[must_use]
    pub fn with_config(
        spec: &'b Spec,
        book: &'b ProfileBook,
        fees: &'b FeeTable,
        pairing: DiffConfig,
        hop: HopConfig,
    ) -> Audit<'b> {
        Audit {
            spec,
            book,
            fees,
            hop_config: hop,
            validator: Validator::new(book, fees),
            pairing,
            pairers: vec![Pairer::new(spec, pairing)],
            hops: HopMatcher::new(spec, book, fees, hop),
            legs: Vec::new(),
            findings: Vec::new(),
            merchants: BTreeMap::new(),
            messages: 0,
            unreadable: 0,
            span: None,
            events: BTreeMap::new(),
            handed: 0,
            keep: true,
            counting: true,
            recorder: Slot::default(),
            links: Vec::new(),
        }
    }

    /// Tells the legs apart by the server port of their flows (`terminal` = 8583, `network` =
    /// 9000 ...): messages of both are then correlated hop to hop. Both legs speak the audit's
    /// spec; [`Audit::configure_legs`] gives each its own.
    pub fn set_legs(&mut self, legs: &[(Leg, u16)]) {
        let configs: Vec<LegConfig<'b>> = legs
            .iter()
            .map(|&(leg, port)| LegConfig {
                leg,
                ports: vec![port],
                spec: self.spec,
                framing: None,
            })
            .collect();
        self.configure_legs(&configs);
    }

    /// Configures the legs: each with its server ports, dialect and framing. A message on a
    /// leg is parsed with its leg's spec, paired with that leg's messages (on any connection)
    /// and correlated with the other leg's; its findings name the leg. Messages on no leg (and
    /// hex dumps) use the audit's spec.
    pub fn configure_legs(&mut self, legs: &[LegConfig<'b>]) {
        let mut merged: Vec<LegConfig<'b>> = Vec::new();
        for l in legs {
            match merged.iter_mut().find(|m| m.leg == l.leg) {
                Some(m) => m.ports.extend(&l.ports),
                None => merged.push(l.clone()),
            }
        }
        self.pairers.truncate(1);
        for l in &merged {
            self.pairers.push(Pairer::new(l.spec, self.pairing));
            self.hops.set_spec(l.leg, l.spec);
        }
        self.legs = merged;
        if self.recorder.0.is_some() {
            self.record_links();
        }
    }

    /// Keeps a record of the traffic in `recorder` (a ledger): every message, the pairs and
    /// correlations found, the findings. [`Audit::run_with`] finishes it at the end of the
    /// input; [`Audit::run_threads`] with a recorder runs on one thread.
    pub fn set_recorder(&mut self, recorder: Box<dyn Recorder + Send + 'b>) {
        self.recorder = Slot(Some(recorder));
        self.record_links();
    }

    fn record_links(&mut self) {
        for p in &mut self.pairers {
            p.record_links();
        }
        self.hops.record_links();
    }

    /// Hands the links found to the recorder.
    fn pass_links(&mut self) {
        let Some(r) = &mut self.recorder.0 else {
            return;
        };
        for p in &mut self.pairers {
            p.take_links(&mut self.links);
        }
        self.hops.take_links(&mut self.links);
        for link in self.links.drain(..) {
            r.link(link);
        }
    }

    /// The legs configured.
    #[must_use]
    pub fn legs(&self) -> &[LegConfig<'b>] {
        &self.legs
    }

    /// Validates one message (its index is the count of messages so far).
    pub fn message(&mut self, bytes: &[u8], context: Option<&Context>) {
        self.check(bytes, context.and_then(|c| c.at), || {
            context.map(|c| (c.time.clone(), format!("{} -> {}", c.src, c.dst)))
        });
    }

    /// [`Audit::message`] with the capture time and flow as values; `describe` gives their
    /// printed forms (time, `src -> dst`), asked for only when the validator reports something,
    /// so that a clean message costs no formatting.
    fn check(
        &mut self,
        bytes: &[u8],
        at: Option<(Timestamp, Flow)>,
        describe: impl FnOnce() -> Option<(String, String)>,
    ) {
        let slot = at.and_then(|(_, f)| self.slot_of(f));
        self.check_on(slot, bytes, at, describe);
    }

    /// The leg a flow is on, by its server port: its place in [`Audit::legs`].
    pub(crate) fn slot_of(&self, flow: Flow) -> Option<usize> {
        let port = flow.server.port();
        self.legs.iter().position(|l| l.ports.contains(&port))
    }

    /// The leg configured as `leg`, by its place in [`Audit::legs`].
    pub(crate) fn leg_slot(&self, leg: Leg) -> Option<usize> {
        self.legs.iter().position(|l| l.leg == leg)
    }

    /// One message on the leg in `slot` of [`Audit::legs`] (`None`: on no leg).
    pub(crate) fn check_on(
        &mut self,
        slot: Option<usize>,
        bytes: &[u8],
        at: Option<(Timestamp, Flow)>,
        describe: impl FnOnce() -> Option<(String, String)>,
    ) {
        let index = self.messages;
        self.messages += 1;
        if let Some((time, _)) = at {
            self.saw(time);
        }
        self.check_share(index, slot, bytes, at, Share::ALL, describe);
    }

    /// The spec of the leg in `slot` (the audit's own for none).
    pub(crate) fn spec_on(&self, slot: Option<usize>) -> &'b Spec {
        slot.and_then(|i| self.legs.get(i))
            .map_or(self.spec, |l| l.spec)
    }

    /// The parts of the work on message `index` that `share` names.
    pub(crate) fn check_share(
        &mut self,
        index: usize,
        slot: Option<usize>,
        bytes: &[u8],
        at: Option<(Timestamp, Flow)>,
        share: Share,
        describe: impl FnOnce() -> Option<(String, String)>,
    ) {
        // Read where it lies in the result: moving a message out copies its whole layout.
        let parsed = parse(self.spec_on(slot), bytes);
        let Ok(msg) = &parsed else {
            if share.primary {
                self.unreadable += 1;
            }
            return;
        };
        self.check_parsed(msg, index, slot, bytes, at, share, None, describe);
    }

    /// Messages of a capture checked as [`Audit::check`] checks each in turn, with the same
    /// findings in the same order, but a stage at a time: all parsed, then all paired, then all
    /// validated. Each stage's code then stays in the processor's instruction cache from one
    /// message to the next (a message's whole path through reassembly, parsing, pairing and
    /// validation is larger than that cache). Validation reads only the message and the
    /// profile book, and pairing never looks at what validation found, so the stages may run
    /// apart; their findings are put back in message order, each message's pairing findings
    /// before its validation ones, and counted a message at a time as `check` counts them.
    fn check_batch(&mut self, batch: &[CapturedMessage]) {
        let mut parsed = Vec::with_capacity(batch.len());
        for m in batch {
            let index = self.messages;
            self.messages += 1;
            self.saw(m.time);
            let slot = self.slot_of(m.flow);
            let msg = parse(self.spec_on(slot), &m.bytes);
            self.unreadable += usize::from(msg.is_err());
            parsed.push((index, slot, msg));
        }
        let start = self.findings.len();
        // Where each message's findings of each stage end, and what each request is.
        let mut ends: Vec<(usize, usize, Option<TransactionType>)> =
            Vec::with_capacity(batch.len());
        for (m, (index, slot, msg)) in batch.iter().zip(&parsed) {
            let at = Some((m.time, m.flow));
            let kind = msg
                .as_ref()
                .ok()
                .and_then(|msg| self.pair_part(msg, *index, *slot, &m.bytes, at, Share::ALL, None));
            ends.push((self.findings.len(), 0, kind));
        }
        for ((m, (index, slot, msg)), end) in batch.iter().zip(&parsed).zip(&mut ends) {
            if let Ok(msg) = msg {
                let at = Some((m.time, m.flow));
                self.validate_part(msg, *index, *slot, at, end.2, || {
                    Some(seen_text(m.time, m.flow, m.direction))
                });
            }
            end.1 = self.findings.len();
        }
        if self.findings.len() == start {
            return;
        }
        let mut found: Vec<Option<Finding>> = self.findings.drain(start..).map(Some).collect();
        let paired = ends.last().map_or(start, |e| e.0);
        let (mut pair_from, mut valid_from) = (start, paired);
        for &(pair_end, valid_end, _) in &ends {
            let before = self.findings.len();
            for i in (pair_from..pair_end).chain(valid_from..valid_end) {
                if let Some(f) = found.get_mut(i - start).and_then(Option::take) {
                    self.findings.push(f);
                }
            }
            (pair_from, valid_from) = (pair_end, valid_end);
            self.count(before);
        }
    }

    /// [`Audit::check_share`] on a message already parsed (with the spec of its leg); `typed`:
    /// its [`transaction_type`] where the caller has it already.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check_parsed(
        &mut self,
        msg: &Message<'_>,
        index: usize,
        slot: Option<usize>,
        bytes: &[u8],
        at: Option<(Timestamp, Flow)>,
        share: Share,
        typed: Option<TransactionType>,
        describe: impl FnOnce() -> Option<(String, String)>,
    ) {
        let before = self.findings.len();
        let kind = self.pair_part(msg, index, slot, bytes, at, share, typed);
        if share.primary {
            self.validate_part(msg, index, slot, at, kind, describe);
        }
        self.count(before);
    }

    /// The first part of [`Audit::check_parsed`]: the message recorded, paired and correlated
    /// across legs. Returns what a request is (validation asks too).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn pair_part(
        &mut self,
        msg: &Message<'_>,
        index: usize,
        slot: Option<usize>,
        bytes: &[u8],
        at: Option<(Timestamp, Flow)>,
        share: Share,
        typed: Option<TransactionType>,
    ) -> Option<TransactionType> {
        let (time, flow) = at.map_or((Default::default(), None), |(t, f)| (t, Some(f)));
        let leg = slot.and_then(|i| self.legs.get(i)).map(|l| l.leg);
        if let Some(r) = self.recorder.0.as_mut().filter(|_| share.primary) {
            r.message(index, leg, at, msg);
        }
        let before = self.findings.len();
        let seen = Seen { index, time, flow };
        let pairer = slot.map_or(0, |i| i + 1);
        // What a request is, once: the pairer and the validator both ask.
        let asked = share.primary || share.pairing.any();
        let kind = (asked && Validator::applies(msg))
            .then(|| typed.unwrap_or_else(|| transaction_type(msg)));
        if let Some(p) = self.pairers.get_mut(pairer) {
            p.push_roles(msg, bytes, seen, share.pairing, kind, &mut self.findings);
        }
        self.stamp_leg(before, leg.map(Leg::name));
        if let Some(leg) = leg.filter(|_| share.hop) {
            let hop = self.findings.len();
            self.hops.push(leg, msg, bytes, seen, &mut self.findings);
            self.stamp_leg(hop, Some("terminal+network"));
        }
        self.pass_links();
        kind
    }

    /// The second part of [`Audit::check_parsed`], for the message's primary share: its
    /// validation (`kind`: what [`Audit::pair_part`] found it is) and its merchant's count.
    #[inline(always)]
    fn validate_part(
        &mut self,
        msg: &Message<'_>,
        index: usize,
        slot: Option<usize>,
        at: Option<(Timestamp, Flow)>,
        kind: Option<TransactionType>,
        describe: impl FnOnce() -> Option<(String, String)>,
    ) {
        let (time, flow) = at.map_or((Default::default(), None), |(t, f)| (t, Some(f)));
        let leg = slot.and_then(|i| self.legs.get(i)).map(|l| l.leg);
        if msg.mti().is_response() {
            let validated = self.findings.len();
            self.validator
                .validate_response(msg, &Where::index(index), &mut self.findings);
            let seen_at = Seen { index, time, flow };
            for f in self.findings.get_mut(validated..).unwrap_or_default() {
                crate::diff::stamp(&mut f.message, &seen_at);
            }
            self.stamp_leg(validated, leg.map(Leg::name));
        }
        if let Some(kind) = kind {
            let validated = self.findings.len();
            let looked =
                self.validator
                    .validate_as(msg, kind, &Where::index(index), &mut self.findings);
            if let Some(found) = self.findings.get_mut(validated..).filter(|f| !f.is_empty()) {
                if let Some((time, flow)) = describe() {
                    for f in found {
                        f.message.time = Some(time.clone());
                        f.message.flow = Some(flow.clone());
                    }
                }
                self.stamp_leg(validated, leg.map(Leg::name));
            }
            // The merchant the validator found; else field 42, looked up here unless the
            // validator looked it up already.
            match looked
                .flatten()
                .and_then(|p| self.merchants.get_mut(p.id.as_str()))
            {
                Some(stats) => stats.transactions += 1,
                None => self.tally_by_field(msg, looked),
            }
        }
    }

    /// The replay window's part of a request parsed already (`kind`: its transaction type, if
    /// validation applies to it): [`Audit::check_parsed`] with a share of the replay role
    /// alone, for an audit with no recorder and no merchant counts (the reading thread of
    /// [`Audit::run_threads`]), where all that is left of it is the pairer's call.
    pub(crate) fn check_replay(
        &mut self,
        msg: &Message<'_>,
        index: usize,
        slot: Option<usize>,
        bytes: &[u8],
        at: Option<(Timestamp, Flow)>,
        kind: Option<TransactionType>,
    ) {
        let (time, flow) = at.map_or((Default::default(), None), |(t, f)| (t, Some(f)));
        let before = self.findings.len();
        let replay = Roles {
            replay: true,
            ..Roles::NONE
        };
        if let Some(p) = self.pairers.get_mut(slot.map_or(0, |i| i + 1)) {
            let seen = Seen { index, time, flow };
            p.push_roles(msg, bytes, seen, replay, kind, &mut self.findings);
        }
        let leg = slot.and_then(|i| self.legs.get(i)).map(|l| l.leg.name());
        self.stamp_leg(before, leg);
    }

    /// Counts a request under the merchant its field 42 names (on the stack, or a field too
    /// long or odd for that as an owned string): `looked`, the book's answer for it where the
    /// validator asked already.
    fn tally_by_field(&mut self, msg: &Message<'_>, looked: Option<Option<&'b MerchantProfile>>) {
        let field = msg.field(42);
        let small = field.and_then(|f| f.to_small_text().ok());
        let owned;
        let raw = match (small.as_ref().and_then(Text::as_str), field) {
            (Some(text), _) => text,
            (None, Some(f)) => {
                owned = f.to_text();
                owned.as_str()
            }
            (None, None) => "-",
        };
        let profile = looked.unwrap_or_else(|| self.book.merchant(raw.as_bytes()));
        let stats = match profile {
            Some(p) => self.merchants.get_mut(p.id.as_str()),
            None => self.merchants.get_mut(raw.trim_end()),
        };
        match stats {
            Some(stats) => stats.transactions += 1,
            None => {
                let merchant = self.canonical(raw);
                self.merchants.entry(merchant).or_default().transactions += 1;
            }
        }
    }

    /// Names the leg of the findings from `before` on that have none yet.
    fn stamp_leg(&mut self, before: usize, leg: Option<&'static str>) {
        if leg.is_none() {
            return;
        }
        for f in self.findings.get_mut(before..).unwrap_or_default() {
            if f.message.leg.is_none() {
                f.message.leg = leg;
            }
        }
    }

    /// Counts the findings from `before` on under their merchants; a message's fee impact is
    /// counted once, however many rules (validator, hop) report its MCC.
    fn count(&mut self, before: usize) {
        if let Some(r) = &mut self.recorder.0 {
            let found = self.findings.get(before..).unwrap_or_default();
            if !found.is_empty() {
                r.findings(found);
            }
        }
        if !self.counting {
            return;
        }
        let mut priced: Vec<usize> = Vec::new();
        tally(
            self.book,
            &mut self.merchants,
            self.findings.get(before..).unwrap_or_default(),
            |index| {
                let first = !priced.contains(&index);
                if first {
                    priced.push(index);
                }
                first
            },
        );
    }

    /// The ID a merchant is reported under: its profile's (a declared network ID counts as
    /// the merchant's), else field 42 as it came.
    fn canonical(&self, merchant: &str) -> String {
        canonical(self.book, merchant)
    }

    /// Moves the audit's clock to `now` with no message (a live stream that has gone quiet, by
    /// the caller's clock): the waits that end by then end, and their findings are added (and
    /// counted under their merchants) as if a message had come at `now`.
    pub fn tick(&mut self, now: Timestamp) {
        self.close_waits(|_, p, out| p.tick(now, out), |h, out| h.tick(now, out));
    }

    /// Ends the input: reports every request still awaiting its response.
    pub fn finish(&mut self) {
        self.close_waits(|_, p, out| p.finish(out), HopMatcher::finish);
    }

    /// Runs `pairer` on every pairer and `hops` on the hop matcher, naming the leg of what they
    /// report and counting it under its merchants.
    pub(crate) fn close_waits(
        &mut self,
        mut pairer: impl FnMut(usize, &mut Pairer<'b>, &mut Vec<Finding>),
        hops: impl FnOnce(&mut HopMatcher<'b>, &mut Vec<Finding>),
    ) {
        let before = self.findings.len();
        for i in 0..self.pairers.len() {
            let from = self.findings.len();
            if let Some(p) = self.pairers.get_mut(i) {
                pairer(i, p, &mut self.findings);
            }
            let leg = i
                .checked_sub(1)
                .and_then(|l| self.legs.get(l))
                .map(|l| l.leg.name());
            self.stamp_leg(from, leg);
        }
        let hop = self.findings.len();
        hops(&mut self.hops, &mut self.findings);
        self.stamp_leg(hop, Some("terminal+network"));
        self.pass_links();
        self.count(before);
    }

    /// Reads and checks every message of `input`, then [`Audit::finish`]es.
    pub fn run<R: BufRead + Send>(&mut self, input: Input<R>) -> Result<(), CaptureError> {
        self.run_with(input, |_| Ok(()))
    }

    /// [`Audit::run`], handing `found` the findings of each message as soon as it has been
    /// checked (and those of the end of the input last), so that a live input (a pipe from
    /// `tcpdump -w -`) reports as it goes. A capture's messages are checked up to 32 at a time,
    /// those its bytes read so far hold, before any more is read: on a pipe, no finding waits
    /// for more traffic. An error from `found` (a closed pipe) stops the reading. With
    /// [`Audit::keep_findings`] off, findings handed on are not kept: memory then depends on
    /// the traffic in flight, not on how many findings a long input makes.
    pub fn run_with<R: BufRead + Send>(
        &mut self,
        input: Input<R>,
        mut found: impl FnMut(&[Finding]) -> io::Result<()>,
    ) -> Result<(), CaptureError> {
        let out_err = |e: io::Error| CaptureError::Output {
            kind: e.kind(),
            message: e.to_string(),
        };
        let spec = self.spec;
        let mut failed = None;
        let result = match input {
            // A capture is read here rather than through `read_input`, whose per-message
            // context is printed up front: the audit prints only where it reports.
            Input::Capture(reader, config) => {
                CaptureReader::with_legs(reader, spec, config, &self.legs.clone()).map(
                    |mut events| {
                        // A recorder takes each message before the findings of the next:
                        // with one, a message at a time.
                        let stage = if self.recorder.0.is_some() { 1 } else { STAGE };
                        let mut batch = Vec::with_capacity(stage);
                        // What the bytes read so far hold, a batch at a time; then a read.
                        while let Some(first) = events.next() {
                            let mut next = Some(first);
                            while let Some(event) = next {
                                match event {
                                    CaptureEvent::Message(m) => batch.push(m),
                                    other => {
                                        // Events keep their place among the messages.
                                        self.check_batch(&batch);
                                        batch.clear();
                                        self.event(&other);
                                    }
                                }
                                next = (batch.len() < stage)
                                    .then(|| events.next_buffered())
                                    .flatten();
                            }
                            self.check_batch(&batch);
                            batch.clear();
                            if let Err(e) = self.hand_on(&mut found) {
                                failed = Some(out_err(e));
                                return;
                            }
                        }
                    },
                )
            }
            hex @ (Input::Hex(_) | Input::HexFramed(..)) => read_input(hex, spec, |item| {
                match item {
                    Item::Message { bytes, context } => self.message(bytes, context.as_ref()),
                    Item::NotHex | Item::NotAFrame(_) => {
                        self.messages += 1;
                        self.unreadable += 1;
                    }
                    Item::Event(e) => self.event(e),
                }
                self.hand_on(&mut found)
            }),
        };
        if let Some(e) = failed {
            return Err(e);
        }
        // A closed output ends the run as it is: no end-of-input findings to hand on.
        if let Err(e @ CaptureError::Output { .. }) = result {
            return Err(e);
        }
        self.finish();
        self.hand_on(&mut found).map_err(out_err)?;
        self.sort_findings();
        if let Some(r) = &mut self.recorder.0 {
            r.finish().map_err(out_err)?;
        }
        result
    }

    /// Puts the findings kept in input order: by message, then by rule (a finding settled
    /// late, such as `no-response`, is found after later messages).
    pub(crate) fn sort_findings(&mut self) {
        self.findings.sort_by_key(|f| (f.message.index, f.rule));
    }

    /// Drops the findings held (those not kept are cleared as they are handed on).
    pub(crate) fn clear_findings(&mut self) {
        self.findings.clear();
        self.handed = 0;
    }

    /// Whether findings are kept after they are handed on by [`Audit::run_with`] (on by
    /// default; [`Audit::findings`] and the text report need them).
    pub fn keep_findings(&mut self, keep: bool) {
        self.keep = keep;
    }

    /// Hands the findings not yet handed on to `found`.
    fn hand_on(&mut self, found: &mut impl FnMut(&[Finding]) -> io::Result<()>) -> io::Result<()> {
        let new = self.findings.get(self.handed..).unwrap_or_default();
        if !new.is_empty() {
            found(new)?;
        }
        if self.keep {
            self.handed = self.findings.len();
        } else {
            self.findings.clear();
            self.handed = 0;
        }
        Ok(())
    }

    fn event(&mut self, e: &CaptureEvent) {
        if let Some(r) = event_record(e) {
            *self.events.entry(r.event).or_default() += 1;
        }
    }

    /// The findings so far: after a run, in input order (by message, then rule); during one,
    /// in the order they were found.
    #[must_use]
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// What was seen of each merchant (by field 42).
    #[must_use]
    pub fn merchants(&self) -> &BTreeMap<String, MerchantStats> {
        &self.merchants
    }

    /// Messages read (parsed or not).
    #[must_use]
    pub fn messages(&self) -> usize {
        self.messages
    }

    /// Messages that could not be parsed (or were not hex).
    #[must_use]
    pub fn unreadable(&self) -> usize {
        self.unreadable
    }

    /// Capture events other than messages, by kind (`framing`, `gap`, `resync`,
    /// `frame-error`, `incomplete`, `damaged`).
    #[must_use]
    pub fn events(&self) -> &BTreeMap<&'static str, usize> {
        &self.events
    }

    /// The profile book audited against.
    #[must_use]
    pub fn book(&self) -> &'b ProfileBook {
        self.book
    }

    /// The fee classes and rates the fee impacts were priced with.
    #[must_use]
    pub fn fees(&self) -> &'b FeeTable {
        self.fees
    }

    /// The capture time of the first and the last message read (none for hex dumps).
    #[must_use]
    pub fn time_span(&self) -> Option<(Timestamp, Timestamp)> {
        self.span
    }

    /// Widens the time span to take in `time` (mostly a later time than the last).
    #[inline]
    pub(crate) fn saw(&mut self, time: Timestamp) {
        match &mut self.span {
            Some((_, last)) if time >= *last => *last = time,
            Some((first, _)) if time < *first => *first = time,
            Some(_) => {}
            None => self.span = Some((time, time)),
        }
    }

    /// Writes one finding a line as JSON ([`crate::report::write_audit_ndjson`]).
    pub fn write_ndjson(&self, out: &mut impl Write) -> io::Result<()> {
        crate::report::write_audit_ndjson(self, out)
    }

    /// Writes the readable report ([`crate::report::write_audit_text`]).
    pub fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        crate::report::write_audit_text(self, out)
    }

    /// Writes the audit as one HTML page with the default options
    /// ([`crate::report::write_audit_html`]; feature `html`).
    #[cfg(feature = "html")]
    pub fn write_html(&self, out: &mut impl Write) -> io::Result<()> {
        crate::report::write_audit_html(self, out, &crate::report::HtmlOptions::default())
    }
}
