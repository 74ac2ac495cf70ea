//! The search for a frame boundary in the middle of a stream (after a gap, a frame error, or a
//! capture that starts mid-connection), kept from one segment to the next.
//!
//! A boundary is the first offset of the held bytes from which whole frames, each of which
//! parses, follow one another exactly to the end of the held bytes (under one of the candidate
//! framings, the first in their order at that offset). Searched from scratch, every offset's
//! frame is walked again at every segment that arrives while none is found: on a stream that is
//! not ISO 8583 at all (a TLS connection on the port, say), all of the held bytes (up to two
//! frames' worth) a segment.
//!
//! Here each offset's frame is read once. A frame that is whole and parses links its offset
//! to the offset where it ends; linked offsets form trees (union-find, paths compressed), and
//! each tree's root is where the walk from any of its offsets stops: an offset whose frame is
//! not whole yet, is rejected, or the end of the held bytes. Each root keeps the lowest offset
//! of its tree, so the boundary is what the root at the end keeps. A segment costs what its own
//! bytes and the frames it completes cost, not what is held.

use crate::frame::{DEFAULT_MAX_FRAME, Framing, frame_at, frame_stated};
use crate::spec::Spec;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Marks a root in [`Lane::link`]; the rest of its bits are the lowest position of its tree
/// other than itself ([`NOBODY`] if none).
const ROOT: u32 = 1 << 31;
const NOBODY: u32 = ROOT - 1;

/// The search state of one framing.
#[derive(Debug)]
struct Lane {
    framing: Framing,
    /// Per position whose frame parses, the position it is linked to; per root with a tree,
    /// [`ROOT`] and its tree's lowest position. A position not here is a root of none: held
    /// this way, the search keeps next to nothing for bytes in which no frame parses.
    link: HashMap<u32, u32>,
    /// Positions whose frame's length the bytes so far do not state (all near the end).
    open: Vec<u32>,
    /// Frames stated but not yet whole: (position of their end, position of their start).
    waiting: BinaryHeap<Reverse<(u32, u32)>>,
}

impl Lane {
    fn new(framing: Framing) -> Lane {
        Lane {
            framing,
            link: HashMap::new(),
            open: Vec::new(),
            waiting: BinaryHeap::new(),
        }
    }

    /// What `at` holds: the position it is linked to, or [`ROOT`] and its tree's lowest.
    fn get(&self, at: u32) -> u32 {
        self.link.get(&at).copied().unwrap_or(ROOT | NOBODY)
    }

    /// The root of `at`'s tree (compressing the path to it).
    fn root(&mut self, at: u32) -> u32 {
        let mut r = at;
        loop {
            let l = self.get(r);
            if l & ROOT != 0 {
                break;
            }
            r = l;
        }
        let mut p = at;
        while p != r {
            let next = self.get(p);
            self.link.insert(p, r);
            p = next;
        }
        r
    }

    /// The lowest position of the tree whose root is `root`, other than the root.
    fn lowest(&self, root: u32) -> Option<u32> {
        let l = self.get(root);
        (l & ROOT != 0 && l != ROOT | NOBODY).then_some(l & NOBODY)
    }

    /// Links `at` (a root: each position is linked once) to the position where its frame ends.
    fn join(&mut self, at: u32, end: u32) {
        let to = self.root(end);
        let lowest = (self.get(at) & NOBODY).min(self.get(to) & NOBODY).min(at);
        self.link.insert(to, ROOT | lowest);
        self.link.insert(at, to);
    }
}

/// The boundary search of one direction of a stream while it is not synchronised.
///
/// Positions count from the first byte held when the search began: `cut` bytes have since been
/// let go from the front of the held bytes, so offset `o` of the held bytes is position
/// `o + cut`. Memory: for each candidate framing, the frames whose length is stated and that are
/// not whole yet, and the frames that parse; let go with the search.
#[derive(Debug, Default)]
pub(crate) struct BoundarySearch {
    lanes: Vec<Lane>,
    cut: usize,
    /// Positions read: the held bytes' end at the last search.
    read: usize,
}

impl BoundarySearch {
    /// `count` bytes let go from the front of the held bytes.
    pub(crate) fn dropped(&mut self, count: usize) {
        self.cut += count;
    }

    /// The first boundary in `data` (the held bytes: those of the last search, less what was
    /// dropped, and more appended), and the framing of `framings` it is under: the same answer
    /// as walking and parsing from every offset in turn.
    pub(crate) fn find(
        &mut self,
        framings: &[Framing],
        spec: &Spec,
        data: &[u8],
    ) -> Option<(usize, Framing)> {
        let tried = framings.iter().filter(|&&f| f != Framing::None);
        // Begun again when the candidates change, once eight times what is held has been let
        // go (what the positions before it keep is dead weight), and before positions outgrow
        // their bits.
        let same = self.lanes.iter().map(|l| &l.framing).eq(tried.clone());
        if !same || self.cut > 8 * data.len() || data.len() + self.cut >= NOBODY as usize {
            *self = BoundarySearch {
                lanes: tried.copied().map(Lane::new).collect(),
                ..BoundarySearch::default()
            };
        }
        if data.len() >= NOBODY as usize {
            return None;
        }
        let end = data.len() + self.cut;
        let (from, cut) = (self.read, self.cut);
        self.read = end;
        let mut best: Option<(usize, Framing)> = None;
        for lane in &mut self.lanes {
            read_new(lane, spec, data, cut, from as u32..end as u32);
            // Frames made whole by the new bytes.
            while let Some(&Reverse((stop, at))) = lane.waiting.peek() {
                if stop as usize > end {
                    break;
                }
                lane.waiting.pop();
                complete(lane, spec, data, cut, at);
            }
            let found = match lane.lowest(end as u32) {
                Some(low) if low as usize >= cut => Some(low as usize),
                // A position let go walks to the end: the boundary is the first held one
                // that does (each walk has one within a frame of the front, or the frame
                // that crosses the front ends at the end itself).
                Some(_) => (cut..end).find(|&p| lane.root(p as u32) == end as u32),
                None => None,
            };
            if let Some(at) = found.map(|p| p - cut) {
                if best.is_none_or(|(b, _)| at < b) {
                    best = Some((at, lane.framing));
                }
            }
        }
        best
    }
}

/// Reads the frames at the positions whose length was not stated yet, and at the new ones.
fn read_new(lane: &mut Lane, spec: &Spec, data: &[u8], cut: usize, new: std::ops::Range<u32>) {
    let mut open = std::mem::take(&mut lane.open);
    open.retain(|&at| stated(lane, spec, data, cut, at));
    for at in new {
        if stated(lane, spec, data, cut, at) {
            open.push(at);
        }
    }
    lane.open = open;
}

/// The held bytes from position `at` on (`None`: let go before it).
fn held_from(data: &[u8], cut: usize, at: u32) -> Option<&[u8]> {
    (at as usize).checked_sub(cut).and_then(|o| data.get(o..))
}

/// Reads the frame at `at`: whether its length is still to be stated.
fn stated(lane: &mut Lane, spec: &Spec, data: &[u8], cut: usize, at: u32) -> bool {
    let Some(rest) = held_from(data, cut, at) else {
        // Let go before it was stated: nothing walks from it any more.
        return false;
    };
    match frame_stated(lane.framing, rest, DEFAULT_MAX_FRAME) {
        Ok(None) => true,
        Ok(Some((p, len))) => {
            let stop = at as usize + p + len;
            if stop <= data.len() + cut {
                complete(lane, spec, data, cut, at);
            } else if let Ok(stop) = u32::try_from(stop) {
                lane.waiting.push(Reverse((stop, at)));
            }
            false
        }
        Err(_) => false,
    }
}

/// The frame at `at` is whole: linked to where it ends if it parses (and its first bytes,
/// read again whole, still hold).
fn complete(lane: &mut Lane, spec: &Spec, data: &[u8], cut: usize, at: u32) {
    let Some(rest) = held_from(data, cut, at) else {
        return;
    };
    let Ok(Some((p, len))) = frame_at(lane.framing, rest, DEFAULT_MAX_FRAME) else {
        return;
    };
    let parses = rest
        .get(p..p + len)
        .is_some_and(|frame| crate::parse(spec, frame).is_ok());
    if parses {
        lane.join(at, at + (p + len) as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::frames_tile;
    use crate::spec::ISO87_ASCII;

    /// The first offset from which the frames tile the rest, trying every offset in turn.
    fn naive(framings: &[Framing], data: &[u8]) -> Option<(usize, Framing)> {
        (0..data.len()).find_map(|offset| {
            framings
                .iter()
                .copied()
                .find(|&f| frames_tile(f, &ISO87_ASCII, &data[offset..]))
                .map(|f| (offset, f))
        })
    }

    fn junk(seed: &mut u32, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (*seed >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn the_kept_search_finds_what_trying_every_offset_finds() {
        // Frames of real messages (some with a length prefix that also reads as another
        // framing's) behind and between junk, arriving in pieces of every size, with the front
        // let go now and then: after each piece, the kept search agrees with the naive one on
        // the bytes held.
        let msg = b"08000020000000000000123456";
        let mut seed = 0x9E37_79B9u32;
        let mut found = 0;
        for case in 0..60usize {
            let mut stream = junk(&mut seed, case % 23);
            for i in 0..4 {
                let framing = [Framing::Len2, Framing::Len4Ascii, Framing::Len2][i % 3];
                let mut wire = bytes::BytesMut::new();
                crate::frame::write_frame(framing, msg, &mut wire).unwrap();
                stream.extend_from_slice(&wire);
                if case % 5 == i {
                    let more = junk(&mut seed, 3 + case % 7);
                    stream.extend_from_slice(&more);
                }
            }
            let framings: &[Framing] = if case % 4 == 0 {
                &[Framing::Len2]
            } else {
                &Framing::ALL
            };
            let mut search = BoundarySearch::default();
            let mut held: Vec<u8> = Vec::new();
            let piece = 1 + case % 9;
            for (n, chunk) in stream.chunks(piece).enumerate() {
                held.extend_from_slice(chunk);
                if n % 6 == 5 && held.len() > 4 {
                    let drop = held.len() / 3;
                    held.drain(..drop);
                    search.dropped(drop);
                }
                let kept = search.find(framings, &ISO87_ASCII, &held);
                assert_eq!(kept, naive(framings, &held), "case {case}, piece {n}");
                if kept.is_some() {
                    found += 1;
                    // A stream synchronised: the next search begins afresh.
                    search = BoundarySearch::default();
                    held.clear();
                }
            }
        }
        assert!(found >= 60, "{found}");
    }

    #[test]
    fn junk_leaves_little_held() {
        // A stream of random bytes, held as the reassembler holds it (two frames' worth at
        // most): what the search keeps is the few frames stated and not whole, and the odd one
        // that parses (about 1,700 here), far less than an entry a held byte for each framing.
        let mut seed = 0x1234_5678u32;
        let mut search = BoundarySearch::default();
        let mut held: Vec<u8> = Vec::new();
        let limit = 2 * DEFAULT_MAX_FRAME;
        let mut most = 0;
        for _ in 0..200 {
            held.extend_from_slice(&junk(&mut seed, 1460));
            assert_eq!(search.find(&Framing::ALL, &ISO87_ASCII, &held), None);
            if held.len() > limit {
                let drop = held.len() - limit;
                held.drain(..drop);
                search.dropped(drop);
            }
            let kept: usize = search
                .lanes
                .iter()
                .map(|l| l.link.len() + l.open.len() + l.waiting.len())
                .sum();
            most = most.max(kept);
        }
        assert_eq!(search.lanes.len(), Framing::ALL.len() - 1);
        assert!(most < limit / 4, "{most} entries for {limit} bytes held");
    }
}
