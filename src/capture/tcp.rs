//! TCP reassembly per flow and direction, then framing.
//!
//! Each direction keeps the next expected sequence number, segments that arrived early (up to
//! a bound), and a [`Deframer`]. Retransmitted bytes are dropped once; early segments wait for
//! the bytes before them; a hole that never fills (the bound is reached, or the flow ends) is a
//! [`CaptureEvent::Gap`], after which the stream resynchronises at the next offset where whole
//! frames provably parse with the spec. Memory is bounded by the open flows and their
//! unacknowledged bytes, never by the capture's size.

use super::packet::{Segment, flags};
use super::resync::BoundarySearch;
use super::{CaptureConfig, CaptureEvent, CapturedMessage, Direction, DropReason, Flow, Timestamp};
use crate::frame::{Deframer, Framing, first_frame_fails, frames_parse};
use crate::leg::{LegConfig, leg_of};
use crate::spec::Spec;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

/// One direction of a flow.
#[derive(Debug, Default)]
struct Stream {
    next_seq: Option<u32>,
    /// Segments ahead of `next_seq`: (seq, bytes).
    early: Vec<(u32, Vec<u8>)>,
    early_bytes: usize,
    deframer: Option<Deframer>,
    /// Bytes held while the framing is unknown or the stream is not at a frame boundary.
    unsynced: Vec<u8>,
    synced: bool,
    /// Whether the held bytes start at a known frame boundary (the connection's first byte).
    at_start: bool,
    fin: bool,
    /// The boundary search, kept from segment to segment while the stream is unsynchronised
    /// and let go once it is synchronised.
    resync: BoundarySearch,
}

impl Stream {
    /// The sequence number of the earliest segment held ahead of `next`.
    fn earliest(&self, next: u32) -> Option<u32> {
        self.early
            .iter()
            .map(|(s, _)| *s)
            .min_by_key(|s| distance(next, *s))
    }
}

#[derive(Debug)]
struct FlowState<'s> {
    /// The flow, its client and server as they were told apart when it opened.
    flow: Flow,
    streams: [Stream; 2],
    framing: Option<Framing>,
    /// The dialect its frames are detected and resynchronised with (its leg's, or the default).
    spec: &'s Spec,
    /// When a segment was last seen on it (capture time, ms).
    last_seen: i64,
    /// The time of its entry in the activity queue (an entry with another time is stale).
    queued: i64,
}

impl FlowState<'_> {
    /// The bytes it holds: early segments, bytes before a boundary, an unfinished frame.
    fn held(&self) -> usize {
        self.streams
            .iter()
            .map(|s| {
                s.early_bytes + s.unsynced.len() + s.deframer.as_ref().map_or(0, Deframer::buffered)
            })
            .sum()
    }
}

/// The most closed flows remembered, to drop segments retransmitted after the close.
const CLOSED_REMEMBERED: usize = 4096;

/// Reassembles TCP streams and cuts them into messages.
#[derive(Debug)]
pub(crate) struct Reassembler<'s> {
    spec: &'s Spec,
    config: CaptureConfig,
    /// The legs: a flow to one of a leg's ports is framed with its spec and framing, and its
    /// messages carry the leg.
    routes: Vec<LegConfig<'s>>,
    /// Open flows by their two ends ([`ends`]: either direction's segment finds its flow in
    /// one lookup); each state boxed, so that the table's buckets stay small while it holds
    /// tens of thousands of flows.
    flows: HashMap<Flow, Box<FlowState<'s>>>,
    /// Flows closed by FIN or RST: the next sequence number of each direction, so that a
    /// segment retransmitted after the close is not read as a new flow's data.
    closed: HashMap<Flow, [Option<u32>; 2]>,
    closed_order: VecDeque<Flow>,
    /// Every open flow once, by the time it was last known active (earliest first): a flow
    /// seen since its entry was queued goes to the back again when its entry comes up.
    activity: VecDeque<(i64, Flow)>,
}

fn index(d: Direction) -> usize {
    match d {
        Direction::Request => 0,
        Direction::Response => 1,
    }
}

/// The key of a flow in [`Reassembler`]'s table: its two addresses, the lower first, whichever
/// side sent the segment.
fn ends(a: SocketAddr, b: SocketAddr) -> Flow {
    if a <= b {
        Flow {
            client: a,
            server: b,
        }
    } else {
        Flow {
            client: b,
            server: a,
        }
    }
}

/// The flow and direction of a segment from `src` on `flow`.
fn orient(flow: Flow, src: SocketAddr) -> (Flow, Direction) {
    if flow.client == src {
        (flow, Direction::Request)
    } else {
        (flow, Direction::Response)
    }
}

/// Signed distance from `a` to `b` in sequence space.
fn distance(a: u32, b: u32) -> i64 {
    i64::from(b.wrapping_sub(a) as i32)
}

impl<'s> Reassembler<'s> {
    pub(crate) fn new(
        spec: &'s Spec,
        config: CaptureConfig,
        routes: Vec<LegConfig<'s>>,
    ) -> Reassembler<'s> {
        Reassembler {
            spec,
            config,
            routes,
            flows: HashMap::new(),
            closed: HashMap::new(),
            closed_order: VecDeque::new(),
            activity: VecDeque::new(),
        }
    }

    /// Whether [`Reassembler::evict`] at `now` (ms) with `room` would do nothing: the flow
    /// at the front of the activity queue is not due, no room is needed, and the entries of
    /// closed flows can wait while the queue holds no more than twice the open flows and 64
    /// (a lookup a segment saved).
    fn quiet(&self, now: i64, room: usize) -> bool {
        let Some(&(queued, _)) = self.activity.front() else {
            return true;
        };
        let idle = i64::try_from(self.config.flow_idle_ms).unwrap_or(i64::MAX);
        let full = self.flows.len() + room > self.config.max_flows.max(1);
        let stale_few = self.activity.len() <= 2 * self.flows.len() + 64;
        !full && now.saturating_sub(queued) <= idle && stale_few
    }

    /// Lets go the flows idle for longer than the idle time at `now`, and, while `room` more
    /// flows would pass the limit, the least recently active ones.
    fn evict(&mut self, time: Timestamp, room: usize, out: &mut VecDeque<CaptureEvent>) {
        let now = time.millis();
        let idle = i64::try_from(self.config.flow_idle_ms).unwrap_or(i64::MAX);
        let max = self.config.max_flows.max(1);
        // Each pass drops the front entry or sends it back once with its later time; the
        // entries number the open flows, so this ends.
        let mut budget = self.activity.len().saturating_mul(2);
        while let Some(&(queued, flow)) = self.activity.front() {
            if budget == 0 || self.quiet(now, room) {
                break;
            }
            budget -= 1;
            let full = self.flows.len() + room > max;
            let Some(state) = self.flows.get_mut(&ends(flow.client, flow.server)) else {
                self.activity.pop_front(); // closed since
                continue;
            };
            if state.queued != queued || state.flow != flow {
                self.activity.pop_front(); // an entry of an earlier flow on the same addresses
                continue;
            }
            let seen_since = state.last_seen > queued;
            let due = now.saturating_sub(queued) > idle;
            let reason = if now.saturating_sub(state.last_seen) > idle {
                DropReason::Idle(self.config.flow_idle_ms)
            } else if seen_since && (full || (due && state.last_seen - queued > idle / 8)) {
                // Seen since: back in the queue at its last activity.
                state.queued = state.last_seen;
                self.activity.pop_front();
                self.activity.push_back((state.last_seen, flow));
                continue;
            } else if full {
                DropReason::TooManyFlows(max)
            } else {
                // Not due yet, or due within an eighth of the idle time: it waits at the front
                // (those behind it are due no sooner than that), and a flow goes within an
                // eighth of the idle time of when it is due.
                break;
            };
            self.activity.pop_front();
            if let Some(state) = self.flows.remove(&ends(flow.client, flow.server)) {
                let bytes = state.held();
                close(time, flow, state, out);
                out.push_back(CaptureEvent::FlowDropped {
                    time,
                    flow,
                    reason,
                    bytes,
                });
            }
        }
    }

    /// Remembers a closed flow's sequence numbers (a bounded number of them).
    fn remember_closed(&mut self, flow: Flow, state: &FlowState<'_>) {
        let next = [state.streams[0].next_seq, state.streams[1].next_seq];
        if self.closed.insert(flow, next).is_none() {
            self.closed_order.push_back(flow);
        }
        while self.closed_order.len() > CLOSED_REMEMBERED {
            if let Some(old) = self.closed_order.pop_front() {
                self.closed.remove(&old);
            }
        }
    }

    /// Whether a segment belongs to a flow already closed and carries nothing new: a
    /// retransmission after both FINs (or the RST).
    fn is_after_close(&mut self, flow: Flow, dir: Direction, seg: &Segment<'_>) -> bool {
        // The side taken for the client may differ from the closed flow's (no SYN, no ports).
        let reversed = Flow {
            client: flow.server,
            server: flow.client,
        };
        let (flow, dir) = if self.closed.contains_key(&flow) {
            (flow, dir)
        } else {
            let flipped = match dir {
                Direction::Request => Direction::Response,
                Direction::Response => Direction::Request,
            };
            (reversed, flipped)
        };
        let Some(next) = self.closed.get(&flow) else {
            return false;
        };
        if seg.flags & flags::SYN != 0 {
            // The address pair is reused by a new connection.
            self.closed.remove(&flow);
            return false;
        }
        let Some(Some(next)) = next.get(index(dir)).copied() else {
            return true;
        };
        let end = seg.seq.wrapping_add(seg.payload.len() as u32);
        distance(end, next) >= 0
    }

    /// Which flow and direction a segment belongs to, and whether the flow is held; a new
    /// flow's client is the side that sent the SYN, else the side not on a configured server
    /// port, else the higher port.
    fn classify(&self, seg: &Segment<'_>) -> (Flow, Direction, bool) {
        if let Some(state) = self.flows.get(&ends(seg.src, seg.dst)) {
            let (flow, dir) = orient(state.flow, seg.src);
            return (flow, dir, true);
        }
        let forward = Flow {
            client: seg.src,
            server: seg.dst,
        };
        let backward = Flow {
            client: seg.dst,
            server: seg.src,
        };
        let syn = seg.flags & flags::SYN != 0;
        let ack = seg.flags & flags::ACK != 0;
        let ports = &self.config.server_ports;
        let src_is_client = if syn {
            !ack
        } else if ports.contains(&seg.dst.port()) {
            true
        } else if ports.contains(&seg.src.port()) {
            false
        } else {
            seg.src.port() >= seg.dst.port()
        };
        if src_is_client {
            (forward, Direction::Request, false)
        } else {
            (backward, Direction::Response, false)
        }
    }

    /// Takes one segment; the messages it completes carry their flow's leg.
    pub(crate) fn segment(
        &mut self,
        time: Timestamp,
        seg: Segment<'_>,
        out: &mut VecDeque<CaptureEvent>,
    ) {
        let before = out.len();
        self.reassemble(time, seg, out);
        if self.routes.is_empty() {
            return;
        }
        for event in out.range_mut(before..) {
            if let CaptureEvent::Message(m) = event {
                m.leg = leg_of(&self.routes, m.flow.server.port()).map(|l| l.leg);
            }
        }
    }

    fn reassemble(&mut self, time: Timestamp, seg: Segment<'_>, out: &mut VecDeque<CaptureEvent>) {
        let now = time.millis();
        let key = ends(seg.src, seg.dst);
        // A segment of an open flow while no flow is due to go: one lookup.
        if seg.flags & flags::RST == 0 && self.quiet(now, 0) {
            if let Some(state) = self.flows.get_mut(&key) {
                let (flow, dir) = orient(state.flow, seg.src);
                if advance(time, flow, dir, state, &seg, &self.config, out) {
                    self.close_flow(time, flow, out);
                }
                return;
            }
        }
        let (flow, dir, known) = self.classify(&seg);
        if seg.flags & flags::RST != 0 {
            self.close_flow(time, flow, out);
            return;
        }
        if !known && self.is_after_close(flow, dir, &seg) {
            return;
        }
        self.evict(time, usize::from(!known), out);
        let config = &self.config;
        let (default_spec, routes) = (self.spec, &self.routes);
        // One lookup: the flow may be new, or have been let go just now.
        let state = match self.flows.entry(key) {
            Entry::Occupied(held) => held.into_mut(),
            Entry::Vacant(free) => {
                self.activity.push_back((now, flow));
                let port = flow.server.port();
                let (spec, framing) = leg_of(routes, port)
                    .map_or((default_spec, config.framing), |l| (l.spec, l.framing));
                free.insert(Box::new(FlowState {
                    flow,
                    streams: Default::default(),
                    framing,
                    spec,
                    last_seen: now,
                    queued: now,
                }))
            }
        };
        if advance(time, flow, dir, state, &seg, config, out) {
            self.close_flow(time, flow, out);
        }
    }

    /// Closes `flow` (both FINs, or an RST), remembering where it ended.
    fn close_flow(&mut self, time: Timestamp, flow: Flow, out: &mut VecDeque<CaptureEvent>) {
        if let Some(state) = self.flows.remove(&ends(flow.client, flow.server)) {
            self.remember_closed(flow, &state);
            close(time, flow, state, out);
        }
    }

    /// Reports what every open flow still holds (end of capture).
    pub(crate) fn finish(&mut self, time: Timestamp, out: &mut VecDeque<CaptureEvent>) {
        self.activity.clear();
        let mut flows: Vec<(Flow, Box<FlowState<'_>>)> =
            self.flows.drain().map(|(_, s)| (s.flow, s)).collect();
        flows.sort_by_key(|(f, _)| (f.client, f.server));
        for (flow, state) in flows {
            close(time, flow, state, out);
        }
    }

    /// The number of open flows.
    pub(crate) fn open_flows(&self) -> usize {
        self.flows.len()
    }
}

/// One segment on the open `flow` whose state is `state`: its bytes put in order and the
/// messages they complete delivered. Returns whether the flow has now closed (both FINs).
fn advance(
    time: Timestamp,
    flow: Flow,
    dir: Direction,
    state: &mut FlowState<'_>,
    seg: &Segment<'_>,
    config: &CaptureConfig,
    out: &mut VecDeque<CaptureEvent>,
) -> bool {
    let now = time.millis();
    state.last_seen = state.last_seen.max(now);
    let spec = state.spec;
    let Some(stream) = state.streams.get_mut(index(dir)) else {
        return false;
    };
    let framing = &mut state.framing;

    if seg.flags & flags::SYN != 0 {
        stream.next_seq = Some(seg.seq.wrapping_add(1));
        stream.synced = true;
        stream.at_start = true;
        stream.early.clear();
        stream.early_bytes = 0;
        return false;
    }
    let mut seq = seg.seq;
    let mut payload = seg.payload;
    let next = match stream.next_seq {
        Some(n) => n,
        None => {
            // Mid-stream start: the first byte may not be a frame boundary.
            stream.synced = false;
            seq
        }
    };
    if !payload.is_empty() {
        let d = distance(next, seq);
        if d < 0 {
            // Retransmission or overlap: drop what was already delivered.
            let seen = usize::try_from(-d).unwrap_or(usize::MAX);
            payload = payload.get(seen..).unwrap_or_default();
            seq = next;
        }
        if !payload.is_empty() {
            if distance(next, seq) > 0 {
                stream.early_bytes += payload.len();
                stream.early.push((seq, payload.to_vec()));
                if stream.early_bytes > config.max_out_of_order {
                    jump_gap(time, flow, dir, stream, next, spec, config, framing, out);
                }
            } else {
                stream.next_seq = Some(next.wrapping_add(payload.len() as u32));
                deliver(time, flow, dir, stream, payload, spec, config, framing, out);
                drain_early(time, flow, dir, stream, spec, config, framing, out);
            }
        } else if stream.next_seq.is_none() {
            stream.next_seq = Some(next);
        }
    } else if stream.next_seq.is_none() {
        stream.next_seq = Some(next);
    }
    if seg.flags & flags::FIN != 0 {
        stream.fin = true;
        return state.streams.iter().all(|s| s.fin);
    }
    false
}

/// Reports holes and partial frames left in a flow that ends.
fn close(
    time: Timestamp,
    flow: Flow,
    mut state: Box<FlowState<'_>>,
    out: &mut VecDeque<CaptureEvent>,
) {
    for dir in [Direction::Request, Direction::Response] {
        let Some(stream) = state.streams.get_mut(index(dir)) else {
            continue;
        };
        if let Some((next, first)) = stream.next_seq.and_then(|n| Some((n, stream.earliest(n)?))) {
            out.push_back(CaptureEvent::Gap {
                time,
                flow,
                direction: dir,
                expected_seq: next,
                resumed_seq: first,
            });
        }
        let partial =
            stream.deframer.as_ref().map_or(0, Deframer::buffered) + stream.unsynced.len();
        if partial > 0 {
            out.push_back(CaptureEvent::Incomplete {
                time,
                flow,
                direction: dir,
                bytes: partial,
            });
        }
    }
}

/// Skips the hole before the earliest buffered segment.
#[allow(clippy::too_many_arguments)]
fn jump_gap(
    time: Timestamp,
    flow: Flow,
    dir: Direction,
    stream: &mut Stream,
    next: u32,
    spec: &Spec,
    config: &CaptureConfig,
    framing: &mut Option<Framing>,
    out: &mut VecDeque<CaptureEvent>,
) {
    let Some(first) = stream.earliest(next) else {
        return;
    };
    out.push_back(CaptureEvent::Gap {
        time,
        flow,
        direction: dir,
        expected_seq: next,
        resumed_seq: first,
    });
    if let Some(d) = stream.deframer.as_mut() {
        d.clear();
    }
    stream.unsynced.clear();
    stream.resync = BoundarySearch::default();
    stream.synced = false;
    stream.at_start = false;
    stream.next_seq = Some(first);
    drain_early(time, flow, dir, stream, spec, config, framing, out);
}

/// Delivers buffered segments that have become contiguous.
#[allow(clippy::too_many_arguments)]
fn drain_early(
    time: Timestamp,
    flow: Flow,
    dir: Direction,
    stream: &mut Stream,
    spec: &Spec,
    config: &CaptureConfig,
    framing: &mut Option<Framing>,
    out: &mut VecDeque<CaptureEvent>,
) {
    loop {
        let Some(next) = stream.next_seq else { return };
        let Some(i) = stream
            .early
            .iter()
            .position(|(s, _)| distance(next, *s) <= 0)
        else {
            return;
        };
        let (seq, bytes) = stream.early.swap_remove(i);
        stream.early_bytes -= bytes.len();
        let seen = usize::try_from(distance(seq, next)).unwrap_or(0);
        if let Some(fresh) = bytes.get(seen..).filter(|b| !b.is_empty()) {
            stream.next_seq = Some(next.wrapping_add(fresh.len() as u32));
            deliver(time, flow, dir, stream, fresh, spec, config, framing, out);
        }
    }
}

/// In-order bytes: frame them, or hold them until the framing and a frame boundary are known.
#[allow(clippy::too_many_arguments)]
fn deliver(
    time: Timestamp,
    flow: Flow,
    dir: Direction,
    stream: &mut Stream,
    data: &[u8],
    spec: &Spec,
    config: &CaptureConfig,
    framing: &mut Option<Framing>,
    out: &mut VecDeque<CaptureEvent>,
) {
    match stream.deframer.as_mut() {
        Some(d) if stream.synced => {
            if d.framing() == Framing::None {
                d.clear();
            }
            d.push(data);
        }
        _ => stream.unsynced.extend_from_slice(data),
    }
    loop {
        if !stream.synced || stream.deframer.is_none() {
            let one;
            let candidates: &[Framing] = match *framing {
                Some(f) => {
                    one = [f];
                    &one
                }
                None => &Framing::ALL,
            };
            // Bytes held from the connection's first that no framing can start with (a
            // preamble, another protocol first): searched for a boundary as mid-stream bytes.
            let mut framed = candidates
                .iter()
                .filter(|&&f| f != Framing::None)
                .peekable();
            if stream.at_start
                && framed.peek().is_some()
                && framed.all(|&f| first_frame_fails(f, spec, &stream.unsynced))
            {
                stream.at_start = false;
            }
            let found = if stream.at_start {
                first_frames(candidates, spec, &stream.unsynced)
            } else {
                stream.resync.find(candidates, spec, &stream.unsynced)
            };
            let Some((offset, found)) = found else {
                // Hold at most two frames' worth while looking for a boundary.
                let limit = 2 * config.max_frame;
                if stream.unsynced.len() > limit {
                    let drop = stream.unsynced.len() - limit;
                    stream.unsynced.drain(..drop);
                    stream.resync.dropped(drop);
                    // What is held no longer starts at the connection's first byte.
                    stream.at_start = false;
                    out.push_back(CaptureEvent::Resync {
                        time,
                        flow,
                        direction: dir,
                        skipped: drop,
                    });
                }
                return;
            };
            if framing.is_none() {
                out.push_back(CaptureEvent::Framing {
                    flow,
                    framing: found,
                });
            }
            *framing = Some(found);
            if offset > 0 {
                out.push_back(CaptureEvent::Resync {
                    time,
                    flow,
                    direction: dir,
                    skipped: offset,
                });
            }
            let mut d = Deframer::with_max(found, config.max_frame);
            d.push(stream.unsynced.get(offset..).unwrap_or_default());
            stream.unsynced.clear();
            stream.deframer = Some(d);
            stream.synced = true;
            // Kept while the search goes on, not by every synchronised stream.
            stream.resync = BoundarySearch::default();
        }
        let Some(d) = stream.deframer.as_mut() else {
            return;
        };
        loop {
            // Nothing held, nothing to frame (the segment ended on a frame boundary).
            if d.buffered() == 0 {
                return;
            }
            match d.next_frame() {
                Ok(Some(bytes)) => out.push_back(CaptureEvent::Message(CapturedMessage {
                    time,
                    flow,
                    direction: dir,
                    framing: d.framing(),
                    leg: None,
                    bytes,
                })),
                Ok(None) => return,
                Err(error) => {
                    out.push_back(CaptureEvent::FrameError {
                        time,
                        flow,
                        direction: dir,
                        error,
                    });
                    // Look for the next boundary after the rejected prefix's first byte.
                    stream.unsynced = d.peek().get(1..).unwrap_or_default().to_vec();
                    stream.resync = BoundarySearch::default();
                    d.clear();
                    stream.synced = false;
                    stream.at_start = false;
                    break;
                }
            }
        }
    }
}

/// The framing of `framings` under which the first frames of `data` (the connection's first
/// bytes) parse: a boundary at offset 0. In the middle of a stream the search is
/// [`BoundarySearch::find`].
fn first_frames(framings: &[Framing], spec: &Spec, data: &[u8]) -> Option<(usize, Framing)> {
    framings
        .iter()
        .copied()
        .find(|&f| frames_parse(f, spec, data))
        .map(|f| (0, f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ISO87_ASCII;
    use std::net::SocketAddr;

    #[test]
    fn closed_flows_leave_the_activity_queue_within_bounds() {
        // Connections that each open, send a few bytes and reset, thousands within the idle
        // time: the activity queue keeps the entries of closed flows only while it holds no
        // more than twice the open flows and 64 (one more comes with each new flow).
        let mut r = Reassembler::new(&ISO87_ASCII, CaptureConfig::default(), Vec::new());
        let mut out = VecDeque::new();
        let server: SocketAddr = "192.168.0.1:8583".parse().unwrap();
        let seg = |src, dst, seq, flags, payload| Segment {
            src,
            dst,
            seq,
            flags,
            payload,
        };
        let mut most = 0;
        for i in 0..20_000u32 {
            let client = SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 20_000));
            let time = Timestamp::new(1_795_397_400 + i64::from(i / 100), 0);
            r.segment(time, seg(client, server, 100, flags::SYN, &[]), &mut out);
            r.segment(
                time,
                seg(client, server, 101, flags::ACK, b"0008"),
                &mut out,
            );
            r.segment(time, seg(client, server, 105, flags::RST, &[]), &mut out);
            most = most.max(r.activity.len());
            assert!(
                r.activity.len() <= 2 * r.flows.len() + 65,
                "{} entries for {} open flows",
                r.activity.len(),
                r.flows.len()
            );
            out.clear();
        }
        assert!(r.flows.is_empty());
        assert!(most > 2, "the queue held closed flows' entries: {most}");
    }
}
