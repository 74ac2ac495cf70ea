//! The audit on several threads ([`Audit::run_threads`]).
//!
//! One thread reads the input (capture reading, TCP reassembly, framing), numbers the messages
//! and routes them: it parses each request once (and keeps the window of recent debits that
//! finds replays), and finds a response's STAN by walking the lengths of the fields before it
//! ([`stan_wire`](crate::parse::stan_wire)). Each of `N` workers holds an [`Audit`] of one
//! shard and does its part of the work on a copy of the message's bytes: a request rebuilt
//! from the layout the reader's parse found, without parsing it again; a response parsed
//! there (and counted there if it is unreadable), which takes that share of the parsing off
//! the reader. The shards are cut by transaction key, not by connection: pairing
//! does not follow connections (a reversal on a new connection, a network response on the other
//! of two one-way connections), so a message goes wherever the work on it belongs:
//! - its validation, merchant counts and its own pairing entry (or, for a response, its
//!   request's) to the shard of its STAN, which both pairing keys hold;
//! - what a reversal or a void does to its original, to the shard of the original's STAN;
//! - hop correlation (legs configured), to the first shard, which sees every leg's messages.
//!
//! Each batch carries its own copy of the bytes: handing out clones of the capture's shared
//! buffers made every thread update one reference count, and cost a third of the gain.
//!
//! Each worker then does exactly what a single audit does for its part, so the findings are the
//! same findings. Two things differ, both documented on [`Audit::run_threads`]: the order
//! findings are handed on in, and the bound on requests in flight, which holds per shard.

use super::{Audit, MerchantStats, Share, seen_text, tally};
use crate::capture::{CaptureError, CaptureEvent, CaptureReader, Direction, Flow, Timestamp};
use crate::diff::{DiffConfig, Roles, pointed_stan};
use crate::finding::Finding;
use crate::message::{Field, Layout, Message, Mti};
use crate::parse::{parse, peek_mti, stan_wire};
use crate::report::{Input, Item, read_input};
use crate::txn::{TransactionType, transaction_type};
use crate::validate::Validator;
use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufRead};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

/// Messages handed to a worker at once.
const BATCH: usize = 1024;

/// Bytes of messages after which a batch is handed on however few messages it holds: large
/// messages (up to the largest frame) do not make a batch, and so the queues, hold many times
/// what typical ones do. A batch holds at most this and one message more.
const BATCH_BYTES: usize = 1 << 20;

/// Batches a worker's queue holds before the reader waits for it. With more threads than
/// cores, a thread that is not running lets the others run on: a deeper queue keeps a worker
/// fed while the reader waits for a core, and the reader going while a worker does (eight ran
/// about 5% faster than four on two cores; sixteen and thirty-two no faster than eight). Each
/// batch holds a copy of its messages: with [`BATCH_BYTES`], this bounds the bytes queued for
/// a worker at about `QUEUE` MiB.
const QUEUE: usize = 8;

/// What the reader hands a worker.
enum Batch {
    /// Messages, in input order, and the bytes they are ranges of: a batch's own copy, so that
    /// no reference count is shared between the reader and the workers.
    Jobs(Vec<Job>, Arena),
    /// The end of the input: each pairer's clock as the last message of its leg set it (by
    /// place: the pairer of no leg, then one a leg). A single audit's pairers have seen every
    /// message of their leg by then; a shard's have not, and their waits must end alike.
    End(Vec<Timestamp>),
}

/// The bytes of a batch's messages, and the element starts the reader's parse found in them
/// (a worker rebuilds each message from them instead of parsing it again).
#[derive(Default)]
struct Arena {
    bytes: Vec<u8>,
    starts: Vec<u32>,
}

impl Arena {
    fn with_capacity() -> Arena {
        Arena {
            bytes: Vec::with_capacity(BATCH * 512),
            starts: Vec::with_capacity(BATCH * 32),
        }
    }
}

/// One message's work for one worker.
struct Job {
    index: usize,
    slot: Option<usize>,
    /// Where the message lies in its batch's bytes.
    range: std::ops::Range<usize>,
    /// Its MTI and bitmaps, and where its element starts lie in the batch's starts; `None`:
    /// the reader did not parse it whole, the worker does.
    layout: Option<Layout>,
    starts: std::ops::Range<usize>,
    at: Option<(Timestamp, Flow)>,
    direction: Option<Direction>,
    /// Time and addresses as printed, for a message from a hex dump with a context.
    context: Option<Box<(String, String)>>,
    share: Share,
    /// A request's transaction type, found once by the reader.
    kind: Option<TransactionType>,
}

impl Job {
    /// The time and `src -> dst` that validation findings carry.
    fn describe(&self) -> Option<(String, String)> {
        if let Some(c) = &self.context {
            return Some((c.0.clone(), c.1.clone()));
        }
        let (time, flow) = self.at?;
        let direction = self.direction.unwrap_or(Direction::Request);
        Some(seen_text(time, flow, direction))
    }
}

/// A shard number from a key's characters (at most the first 32 are given): the routing
/// needs only to be the same for equal characters and to spread STANs evenly; the tables in
/// each shard hash keys with their own seeded hasher. Read eight characters at a time, each
/// word multiplied in and folded (a STAN is one word: a few instructions a message).
fn shard(chars: &[u8], shards: usize) -> usize {
    const MUL: u64 = 0x9E37_79B9_7F4A_7C15;
    let mix = |h: u64, word: u64| {
        let h = (h ^ word).wrapping_mul(MUL);
        h ^ (h >> 29)
    };
    let mut h = (chars.len() as u64).wrapping_mul(MUL);
    let mut words = chars.chunks_exact(8);
    for word in &mut words {
        h = mix(
            h,
            u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or_default()),
        );
    }
    let mut last = [0u8; 8];
    let rest = words.remainder();
    if let Some(to) = last.get_mut(..rest.len()) {
        to.copy_from_slice(rest);
    }
    h = mix(h, u64::from_le_bytes(last));
    ((h >> 32) % shards as u64) as usize
}

/// The shard of a field's characters (digits of a BCD field, text of an ASCII one; the first
/// 32, enough to tell keys apart for routing), or of its absence.
fn field_shard(field: Option<Field<'_>>, shards: usize) -> usize {
    let Some(f) = field else {
        return shard(&[], shards);
    };
    if let Some(data) = f.plain() {
        return shard(data.get(..32).unwrap_or(data), shards);
    }
    let mut out = [0u8; 32];
    let mut len = 0;
    for (slot, c) in out.iter_mut().zip(f.chars()) {
        *slot = c;
        len += 1;
    }
    shard(out.get(..len).unwrap_or_default(), shards)
}

/// Which shard does which part of the work on a message (`hop`: whether it is on a leg): `own`
/// is the shard of its STAN, `marks` that of the STAN of the original it points at (its own
/// if none); the replay window is the reader's own. `to` gets each shard's part, its own first.
fn route(own: usize, marks: usize, hop: bool, mut to: impl FnMut(usize, Share)) {
    to(
        own,
        Share {
            primary: true,
            pairing: Roles {
                pair: true,
                mark: marks == own,
                replay: false,
            },
            hop: hop && own == 0,
        },
    );
    if marks != own {
        to(
            marks,
            Share {
                pairing: Roles {
                    mark: true,
                    ..Roles::NONE
                },
                hop: hop && marks == 0,
                ..Share::NONE
            },
        );
    }
    // The hop work is shard 0's, with whatever else it has of this message.
    if hop && own != 0 && marks != 0 {
        to(0, Share { hop, ..Share::NONE });
    }
}

/// The reader's side: a batch a worker, filled and sent.
struct Router {
    batches: Vec<(Vec<Job>, Arena)>,
    senders: Vec<SyncSender<Batch>>,
    /// Batches the workers are done with, emptied, to fill again (no allocation a batch, and
    /// no buffer freed on another thread than the one that allocated it).
    spares: Receiver<(Vec<Job>, Arena)>,
    /// The latest message time of each pairer (by place), for [`Batch::End`].
    clocks: Vec<Timestamp>,
}

impl Router {
    /// Hands `bytes` to `worker` with `job`, and the layout of `msg` (their parse) if given:
    /// without one, the worker parses them.
    fn push(&mut self, worker: usize, bytes: &[u8], msg: Option<&Message<'_>>, mut job: Job) {
        let Some((jobs, arena)) = self.batches.get_mut(worker) else {
            return;
        };
        job.range = arena.bytes.len()..arena.bytes.len() + bytes.len();
        arena.bytes.extend_from_slice(bytes);
        if let Some(msg) = msg {
            let from = arena.starts.len();
            job.layout = Some(msg.layout(&mut arena.starts));
            job.starts = from..arena.starts.len();
        }
        jobs.push(job);
        if jobs.len() >= BATCH || arena.bytes.len() >= BATCH_BYTES {
            let (fresh_jobs, fresh_arena) = self
                .spares
                .try_recv()
                .unwrap_or_else(|_| (Vec::with_capacity(BATCH), Arena::with_capacity()));
            let full = (
                std::mem::replace(jobs, fresh_jobs),
                std::mem::replace(arena, fresh_arena),
            );
            if let Some(tx) = self.senders.get(worker) {
                // A worker that is gone has stopped with the others: nothing to hand it.
                let _ = tx.send(Batch::Jobs(full.0, full.1));
            }
        }
    }

    /// Moves pairer `place`'s clock to `time` (a message's).
    fn clock(&mut self, place: usize, time: Timestamp) {
        if let Some(c) = self.clocks.get_mut(place) {
            *c = (*c).max(time);
        }
    }

    /// Hands over what is batched, then the end of the input.
    fn finish(&mut self) {
        for ((jobs, arena), tx) in self.batches.iter_mut().zip(&self.senders) {
            if !jobs.is_empty() {
                let _ = tx.send(Batch::Jobs(std::mem::take(jobs), std::mem::take(arena)));
            }
            let _ = tx.send(Batch::End(self.clocks.clone()));
        }
    }
}

impl<'b> Audit<'b> {
    /// An audit of one of `shards` shards, configured as this one.
    fn shard_audit(&self, shards: usize) -> Audit<'b> {
        let pairing = DiffConfig {
            max_pending: self.pairing.max_pending.div_ceil(shards).max(1),
            ..self.pairing
        };
        let mut a = Audit::with_config(self.spec, self.book, self.fees, pairing, self.hop_config);
        a.configure_legs(&self.legs);
        a.counting = false;
        a
    }

    /// A worker: its share of each message, then the end of the input; findings go back to
    /// the reader a batch at a time.
    fn work(
        &mut self,
        jobs: Receiver<Batch>,
        found: Sender<Vec<Finding>>,
        spent: Sender<(Vec<Job>, Arena)>,
    ) {
        for batch in jobs {
            let (mut batch, mut arena) = match batch {
                Batch::Jobs(batch, arena) => (batch, arena),
                Batch::End(clocks) => {
                    self.close_waits(
                        |i, p, out| {
                            if let Some(&now) = clocks.get(i) {
                                p.tick(now, out);
                            }
                        },
                        |_, _| {},
                    );
                    break;
                }
            };
            for job in &batch {
                let bytes = arena.bytes.get(job.range.clone()).unwrap_or_default();
                let Some(layout) = job.layout else {
                    self.check_share(job.index, job.slot, bytes, job.at, job.share, || {
                        job.describe()
                    });
                    continue;
                };
                let starts = arena.starts.get(job.starts.clone()).unwrap_or_default();
                let msg = Message::from_layout(
                    self.spec_on(job.slot),
                    bytes,
                    layout,
                    starts.iter().copied(),
                );
                let (at, share, kind) = (job.at, job.share, job.kind);
                self.check_parsed(&msg, job.index, job.slot, bytes, at, share, kind, || {
                    job.describe()
                });
            }
            batch.clear();
            arena.bytes.clear();
            arena.starts.clear();
            // The reader may be done: then the batch is freed here.
            let _ = spent.send((batch, arena));
            if !self.findings.is_empty() && found.send(std::mem::take(&mut self.findings)).is_err()
            {
                return;
            }
        }
        self.finish();
        if !self.findings.is_empty() {
            let _ = found.send(std::mem::take(&mut self.findings));
        }
    }

    /// [`Audit::run_with`] on `threads` threads: one reads the input, `threads` audit a
    /// shard of the traffic each (see the module docs for how it is cut). The findings are the
    /// same as a single thread's, with two differences:
    /// - `found` gets them in the order the workers report them (each worker's in its own
    ///   order), and [`Audit::findings`] holds them afterwards ordered by message, then rule;
    /// - the bound on requests held in flight (`DiffConfig::max_pending`) is divided among
    ///   the shards, each holding its part.
    ///
    /// Hop correlation (legs configured) runs in one worker, which sees every leg's messages:
    /// it scales less than the rest. Messages go to the workers a batch of 1,024 (or 1 MiB) at a
    /// time, so this is for files: on a live pipe, the findings of a batch not yet full wait
    /// for it to fill (use one thread there). `threads` of 0 or 1 is [`Audit::run_with`].
    pub fn run_threads<R: BufRead + Send>(
        &mut self,
        input: Input<R>,
        threads: usize,
        mut found: impl FnMut(&[Finding]) -> io::Result<()>,
    ) -> Result<(), CaptureError> {
        if threads <= 1 || self.recorder.0.is_some() {
            return self.run_with(input, found);
        }
        let out_err = |e: io::Error| CaptureError::Output {
            kind: e.kind(),
            message: e.to_string(),
        };
        let workers: Vec<Audit<'b>> = (0..threads).map(|_| self.shard_audit(threads)).collect();
        // The reader's own findings (replays) are tallied with the workers' as they are handed
        // on, not as they are found.
        let counting = std::mem::replace(&mut self.counting, false);
        let (result, failed, done, tallied) = std::thread::scope(|scope| {
            let (found_tx, found_rx) = channel::<Vec<Finding>>();
            let (spent_tx, spares) = channel::<(Vec<Job>, Arena)>();
            let mut senders = Vec::with_capacity(threads);
            let mut handles = Vec::with_capacity(threads);
            for mut worker in workers {
                let (tx, rx) = sync_channel::<Batch>(QUEUE);
                let (found_tx, spent_tx) = (found_tx.clone(), spent_tx.clone());
                senders.push(tx);
                handles.push(scope.spawn(move || {
                    worker.work(rx, found_tx, spent_tx);
                    worker
                }));
            }
            drop((found_tx, spent_tx));
            let mut router = Router {
                batches: (0..threads)
                    .map(|_| (Vec::with_capacity(BATCH), Arena::with_capacity()))
                    .collect(),
                senders,
                spares,
                clocks: vec![Timestamp::default(); self.pairers.len()],
            };
            let mut failed: Option<io::Error> = None;
            let mut kept: Vec<Finding> = Vec::new();
            let keep = self.keep;
            let book = self.book;
            let mut tallied: BTreeMap<String, MerchantStats> = BTreeMap::new();
            // A message's fee impact counts once, whichever shard found it.
            let mut priced: HashSet<usize> = HashSet::new();
            let mut hand_on = |batch: Vec<Finding>, failed: &mut Option<io::Error>| {
                tally(book, &mut tallied, &batch, |index| priced.insert(index));
                if failed.is_none() {
                    if let Err(e) = found(&batch) {
                        *failed = Some(e);
                    }
                }
                if keep {
                    kept.extend(batch);
                }
            };
            let result = self.read_routed(
                input,
                threads,
                &mut router,
                |mine, audit_failed| {
                    if !mine.is_empty() {
                        hand_on(mine, audit_failed);
                    }
                    while let Ok(batch) = found_rx.try_recv() {
                        hand_on(batch, audit_failed);
                    }
                    audit_failed.is_none()
                },
                &mut failed,
            );
            let mine = std::mem::take(&mut self.findings);
            if !mine.is_empty() {
                hand_on(mine, &mut failed);
            }
            router.finish();
            drop(router);
            for batch in &found_rx {
                hand_on(batch, &mut failed);
            }
            let done: Vec<Audit<'b>> = handles.into_iter().filter_map(|h| h.join().ok()).collect();
            self.findings.extend(kept);
            (result, failed, done, tallied)
        });
        self.counting = counting;
        self.add_counts(tallied);
        for worker in done {
            self.add_counts(worker.merchants);
            self.unreadable += worker.unreadable;
        }
        self.sort_findings();
        self.handed = self.findings.len();
        if let Some(e) = failed {
            return Err(out_err(e));
        }
        result
    }

    /// Reads `input`, numbering and routing each message; `poll` hands on what the workers
    /// found so far and says whether to go on (the output still takes findings).
    fn read_routed<R: BufRead + Send>(
        &mut self,
        input: Input<R>,
        threads: usize,
        router: &mut Router,
        mut poll: impl FnMut(Vec<Finding>, &mut Option<io::Error>) -> bool,
        failed: &mut Option<io::Error>,
    ) -> Result<(), CaptureError> {
        let spec = self.spec;
        let mut since_poll = 0usize;
        let mut dispatch = |audit: &mut Audit<'b>,
                            slot: Option<usize>,
                            bytes: &[u8],
                            at: Option<(Timestamp, Flow)>,
                            direction: Option<Direction>,
                            context: Option<Box<(String, String)>>| {
            let index = audit.messages;
            audit.messages += 1;
            if let Some((time, _)) = at {
                audit.saw(time);
                router.clock(slot.map_or(0, |i| i + 1), time);
            }
            let spec = audit.spec_on(slot);
            let mut send = |own, marks, msg: Option<&Message<'_>>, kind| {
                route(own, marks, slot.is_some(), |worker, share| {
                    let job = Job {
                        index,
                        slot,
                        range: 0..0,
                        layout: None,
                        starts: 0..0,
                        at,
                        direction,
                        context: context.clone(),
                        share,
                        kind,
                    };
                    router.push(worker, bytes, msg, job);
                });
            };
            // A response goes by its STAN alone, found without a parse: its worker parses it
            // (and counts it unreadable if it is).
            if peek_mti(spec, bytes).is_some_and(Mti::is_response) {
                let stan =
                    stan_wire(spec, bytes).and_then(|w| Some(Field::new(11, spec.field(11)?, w)));
                let own = field_shard(stan, threads);
                send(own, own, None, None);
                return;
            }
            // A request is parsed here once: the routing, the replay window and its worker use
            // that parse and what it is.
            let parsed = parse(spec, bytes);
            let Ok(msg) = &parsed else {
                audit.unreadable += 1;
                return;
            };
            let kind = Validator::applies(msg).then(|| transaction_type(msg));
            let own = field_shard(msg.field(11), threads);
            let marks = pointed_stan(msg, kind).map_or(own, |p| shard(&p[..], threads));
            send(own, marks, Some(msg), kind);
            // The window of recent debits is the reader's: a replay is found here, with no
            // message handed to another thread for it. Only requests of classes 1 and 2 can
            // be debits; the window's clock moves with them.
            if matches!(msg.mti().class(), 1 | 2) {
                audit.check_replay(msg, index, slot, bytes, at, kind);
            }
        };
        match input {
            Input::Capture(reader, config) => {
                let legs = self.legs.clone();
                let events = CaptureReader::with_legs(reader, spec, config, &legs)?;
                for event in events {
                    match event {
                        CaptureEvent::Message(m) => {
                            let slot = self.slot_of(m.flow);
                            dispatch(
                                self,
                                slot,
                                &m.bytes,
                                Some((m.time, m.flow)),
                                Some(m.direction),
                                None,
                            );
                        }
                        other => self.event(&other),
                    }
                    since_poll += 1;
                    if since_poll >= BATCH {
                        since_poll = 0;
                        if !poll(std::mem::take(&mut self.findings), failed) {
                            break;
                        }
                    }
                }
                Ok(())
            }
            hex @ (Input::Hex(_) | Input::HexFramed(..)) => read_input(hex, spec, |item| {
                match item {
                    Item::Message { bytes, context } => {
                        let text = context
                            .as_ref()
                            .map(|c| Box::new((c.time.clone(), format!("{} -> {}", c.src, c.dst))));
                        let at = context.and_then(|c| c.at);
                        dispatch(self, None, bytes, at, None, text);
                    }
                    Item::NotHex | Item::NotAFrame(_) => {
                        self.messages += 1;
                        self.unreadable += 1;
                    }
                    Item::Event(e) => self.event(e),
                }
                since_poll += 1;
                if since_poll >= BATCH {
                    since_poll = 0;
                    if !poll(std::mem::take(&mut self.findings), failed) {
                        return Err(io::Error::other("the output failed"));
                    }
                }
                Ok(())
            }),
        }
    }

    /// Adds merchant counts (a worker's transactions, the reader's tally of findings) to this
    /// audit's.
    fn add_counts(&mut self, counts: BTreeMap<String, MerchantStats>) {
        for (merchant, stats) in counts {
            let mine = self.merchants.entry(merchant).or_default();
            mine.transactions += stats.transactions;
            for (rule, n) in stats.by_rule {
                *mine.by_rule.entry(rule).or_default() += n;
            }
            mine.fee_pre2016_fen += stats.fee_pre2016_fen;
            mine.fee_post2016_fen += stats.fee_post2016_fen;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(index: usize) -> Job {
        Job {
            index,
            slot: None,
            range: 0..0,
            layout: None,
            starts: 0..0,
            at: None,
            direction: None,
            context: None,
            share: Share::NONE,
            kind: None,
        }
    }

    #[test]
    fn a_stan_goes_to_one_shard_whatever_its_encoding_and_stans_spread_evenly() {
        use crate::spec::{ISO87_ASCII, ISO87_BCD};
        // Field 11 = 000123 in ASCII and in BCD, and the same STAN as characters (as a
        // reversal's field 90 names its original's).
        let ascii = Field::new(11, ISO87_ASCII.field(11).unwrap(), b"000123");
        let bcd = Field::new(11, ISO87_BCD.field(11).unwrap(), &[0x00, 0x01, 0x23]);
        for shards in [2, 3, 8] {
            let want = shard(b"000123", shards);
            assert_eq!(field_shard(Some(ascii), shards), want);
            assert_eq!(field_shard(Some(bcd), shards), want);
        }
        // Consecutive STANs (as a terminal numbers them), and longer keys: each shard gets
        // its share, within a few percent.
        for (len, shards) in [(6, 2), (6, 3), (12, 2), (20, 4)] {
            let mut counts = vec![0usize; shards];
            for stan in 0..30_000u64 {
                let chars = format!("{stan:0len$}");
                counts[shard(chars.as_bytes(), shards)] += 1;
            }
            let fair = 30_000 / shards;
            assert!(
                counts.iter().all(|&c| c.abs_diff(fair) < fair / 20),
                "{len} characters, {shards} shards: {counts:?}"
            );
        }
        // Keys that differ only past their first eight characters spread as well.
        let spread = |f: &dyn Fn(u64) -> String| {
            let mut counts = [0usize; 2];
            for i in 0..10_000 {
                counts[shard(f(i).as_bytes(), 2)] += 1;
            }
            counts
        };
        let late = spread(&|i| format!("00000000{i:06}"));
        assert!(late.iter().all(|&c| c.abs_diff(5_000) < 250), "{late:?}");
    }

    /// The messages of each batch a router hands its one worker, pushed `count` of `size`
    /// bytes each, and the bytes each batch held.
    fn batches(count: usize, size: usize) -> Vec<(usize, usize)> {
        let (tx, rx) = sync_channel(count + 1);
        let (_spent, spares) = channel();
        let mut router = Router {
            batches: vec![(Vec::new(), Arena::default())],
            senders: vec![tx],
            spares,
            clocks: Vec::new(),
        };
        let message = vec![b'0'; size];
        for i in 0..count {
            router.push(0, &message, None, job(i));
        }
        router.finish();
        drop(router);
        rx.into_iter()
            .filter_map(|b| match b {
                Batch::Jobs(jobs, arena) => Some((jobs.len(), arena.bytes.len())),
                Batch::End(_) => None,
            })
            .collect()
    }

    #[test]
    fn a_batch_is_handed_on_at_its_count_or_its_bytes_whichever_comes_first() {
        // Typical messages: 1,024 a batch.
        let small = batches(2_500, 300);
        assert_eq!(
            small.iter().map(|b| b.0).collect::<Vec<_>>(),
            [1024, 1024, 452]
        );
        // Frames of 8 KiB: 128 of them are 1 MiB, and the batch goes then.
        let large = batches(300, 8 * 1024);
        assert_eq!(
            large.iter().map(|b| b.0).collect::<Vec<_>>(),
            [128, 128, 44]
        );
        // A batch holds at most the bound and one message more.
        let odd = batches(1_000, 5_000);
        assert!(odd.iter().all(|b| b.1 < BATCH_BYTES + 5_000), "{odd:?}");
        assert_eq!(odd.iter().map(|b| b.0).sum::<usize>(), 1_000);
        assert!(odd.len() > 1);
    }
}
