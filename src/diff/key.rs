//! Pairing keys: fields hashed where they lie, and the tables they index.
//!
//! A key is SipHash-1-3 (the standard library's algorithm, read a word at a time: [`sip13`]) of
//! the fields that identify a transaction, taken from the message's characters with no
//! allocation, under keys drawn at random once a process: the party whose traffic is audited
//! cannot precompute colliding pairs. Tables are indexed by the 64-bit value, but a value is
//! never trusted alone: every match is confirmed on the key's own bytes ([`Ident`], built
//! alongside the hash), so two transactions whose values collide are never paired with each
//! other. The tables mix the value once more before choosing a bucket ([`PreHashed`]), so that
//! values sharing their low bits still spread.

use crate::hash::sip13;
use crate::message::Message;
use std::collections::HashMap;
use std::collections::hash_map::{DefaultHasher, RandomState};
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::OnceLock;

/// The hasher of the part of a long key that its [`Ident`] does not keep: seeded at random
/// once a process.
fn tail_seed() -> &'static RandomState {
    static TAIL: OnceLock<RandomState> = OnceLock::new();
    TAIL.get_or_init(RandomState::new)
}

/// How many bytes of a key an [`Ident`] keeps as they are: every key the crate builds from
/// well-formed fields fits (a marker, the characters and a 2-byte length a field: class, STAN,
/// terminal, merchant and two 11-digit institution IDs take 67; a debit's card, amount,
/// terminal, merchant and IPv6 server, 90), so the second hasher of the tail runs only for
/// over-long fields.
pub(crate) const IDENT_CAPACITY: usize = 96;

/// The bytes a key was made of, to confirm that two equal 64-bit values come from equal keys:
/// the first [`IDENT_CAPACITY`] bytes as they are, the rest (rare: over-long fields) as a
/// second, independently seeded SipHash, and the total length.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ident {
    head: [u8; IDENT_CAPACITY],
    len: u16,
    tail: u64,
}

impl std::fmt::Debug for Ident {
    /// The length only: a key may hold a card number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ident({} bytes)", self.len)
    }
}

impl Ident {
    /// The bytes kept as they are.
    fn kept(&self) -> &[u8] {
        self.head
            .get(..usize::from(self.len).min(IDENT_CAPACITY))
            .unwrap_or_default()
    }

    /// How many bytes the key was made of (those beyond [`IDENT_CAPACITY`] are kept as a hash).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Appends the compact form [`Idents`] keeps: the length, the bytes kept, and the tail's
    /// hash where there is a tail.
    fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(self.kept());
        if usize::from(self.len) > IDENT_CAPACITY {
            out.extend_from_slice(&self.tail.to_le_bytes());
        }
    }
}

/// Several keys' bytes held compactly on the heap (a few dozen bytes each), for the entries a
/// table keeps after their message is gone.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Idents(Box<[u8]>);

impl std::fmt::Debug for Idents {
    /// The length only: a key may hold a card number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Idents({} bytes)", self.0.len())
    }
}

impl Idents {
    pub(crate) fn of(idents: &[Ident]) -> Idents {
        let mut out = Vec::with_capacity(Idents::len_of(idents));
        Idents::write(&mut out, idents);
        Idents(out.into_boxed_slice())
    }

    /// The length of the compact form of `idents`.
    pub(crate) fn len_of(idents: &[Ident]) -> usize {
        idents
            .iter()
            .map(|i| {
                let len = usize::from(i.len);
                2 + len.min(IDENT_CAPACITY) + if len > IDENT_CAPACITY { 8 } else { 0 }
            })
            .sum()
    }

    /// Appends the compact form of `idents` to `out` (read back with [`Idents::match_in`]).
    pub(crate) fn write(out: &mut Vec<u8>, idents: &[Ident]) {
        for i in idents {
            i.write_to(out);
        }
    }

    /// Whether the `i`-th key held has the bytes of `ident`.
    pub(crate) fn matches(&self, i: usize, ident: &Ident) -> bool {
        Idents::match_in(&self.0, i, ident)
    }

    /// Whether the `i`-th key of the compact form `held` has the bytes of `ident`.
    pub(crate) fn match_in(held: &[u8], i: usize, ident: &Ident) -> bool {
        let mut rest = held;
        for k in 0..=i {
            let Some((len, after)) = rest.split_first_chunk::<2>() else {
                return false;
            };
            let len = usize::from(u16::from_le_bytes(*len));
            let width = len.min(IDENT_CAPACITY) + if len > IDENT_CAPACITY { 8 } else { 0 };
            let Some((this, next)) = after.split_at_checked(width) else {
                return false;
            };
            if k == i {
                let kept = ident.kept();
                let (head, tail) = this.split_at(kept.len().min(this.len()));
                let tail_ok = len <= IDENT_CAPACITY || tail == ident.tail.to_le_bytes();
                return usize::from(ident.len) == len && head == kept && tail_ok;
            }
            rest = next;
        }
        false
    }
}

/// The writer behind [`Key`]: the key's bytes, the first [`IDENT_CAPACITY`] kept as they
/// are and the rest streamed into a second hasher. The value is hashed from them in one pass
/// when asked for.
struct Sink {
    head: [u8; IDENT_CAPACITY],
    len: usize,
    tail: Option<DefaultHasher>,
}

impl Hasher for Sink {
    fn finish(&self) -> u64 {
        let kept = self
            .head
            .get(..self.len.min(IDENT_CAPACITY))
            .unwrap_or_default();
        let Some(tail) = &self.tail else {
            return sip13(kept);
        };
        // A long key: the bytes kept, then the tail's hash and the whole length.
        let mut all = [0u8; IDENT_CAPACITY + 16];
        let (head, rest) = all.split_at_mut(IDENT_CAPACITY);
        head.copy_from_slice(&self.head);
        let (t, n) = rest.split_at_mut(8);
        t.copy_from_slice(&tail.finish().to_le_bytes());
        n.copy_from_slice(&(self.len as u64).to_le_bytes());
        sip13(&all)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // The common case, the whole write kept as it is: one copy.
        let end = self.len + bytes.len();
        if let Some(slot) = self.head.get_mut(self.len..end) {
            copy_short(slot, bytes);
            self.len = end;
            return;
        }
        self.spill(bytes);
    }

    #[inline]
    fn write_u16(&mut self, v: u16) {
        self.write(&v.to_ne_bytes());
    }

    fn write_u8(&mut self, b: u8) {
        match self.head.get_mut(self.len) {
            Some(slot) => {
                *slot = b;
                self.len += 1;
            }
            None => self.write(&[b]),
        }
    }
}

/// `dst.copy_from_slice(src)` (equal lengths) for the few dozen bytes of a key's part, in
/// fixed-size moves: two that overlap cover any length between one size and twice it, with no
/// call to a copy of unknown length.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    #[inline(always)]
    fn two<const N: usize>(dst: &mut [u8], src: &[u8]) {
        if let (Some(d), Some(s)) = (dst.first_chunk_mut::<N>(), src.first_chunk::<N>()) {
            *d = *s;
        }
        if let (Some(d), Some(s)) = (dst.last_chunk_mut::<N>(), src.last_chunk::<N>()) {
            *d = *s;
        }
    }
    match src.len() {
        0 => {}
        n @ 1..4 => {
            for i in 0..n {
                if let (Some(d), Some(s)) = (dst.get_mut(i), src.get(i)) {
                    *d = *s;
                }
            }
        }
        4..8 => two::<4>(dst, src),
        8..16 => two::<8>(dst, src),
        16..=32 => two::<16>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

impl Sink {
    /// A write that does not fit in the bytes kept as they are: what fits is kept, the rest
    /// goes to the tail's hasher.
    #[cold]
    fn spill(&mut self, bytes: &[u8]) {
        let room = IDENT_CAPACITY.saturating_sub(self.len);
        let (kept, rest) = bytes.split_at(room.min(bytes.len()));
        if let Some(slot) = self.head.get_mut(self.len..self.len + kept.len()) {
            slot.copy_from_slice(kept);
        }
        if !rest.is_empty() {
            self.tail
                .get_or_insert_with(|| tail_seed().build_hasher())
                .write(rest);
        }
        self.len += bytes.len();
    }
}

/// A finished key: the value that indexes tables, and the bytes that confirm a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyId {
    pub(crate) value: u64,
    pub(crate) ident: Ident,
}

/// A key under construction: the bytes of its parts, each a marker, the characters and a
/// 2-byte length, so that no two different sequences of parts give the same bytes.
pub(crate) struct Key(Sink);

impl Key {
    pub(crate) fn new() -> Key {
        Key(Sink {
            head: [0; IDENT_CAPACITY],
            len: 0,
            tail: None,
        })
    }

    /// Adds a value given as characters: the same bytes as a field of the same characters, so
    /// that a STAN taken from field 90 finds the original's field 11.
    pub(crate) fn present(&mut self, chars: &[u8]) -> &mut Key {
        self.0.write_u8(1);
        self.0.write(chars);
        self.0
            .write_u16(u16::try_from(chars.len()).unwrap_or(u16::MAX));
        self
    }

    /// Adds anything hashable (a flow, a class).
    pub(crate) fn hash(&mut self, v: &impl Hash) -> &mut Key {
        v.hash(&mut self.0);
        self
    }

    /// Adds field `n`'s characters (decoded from BCD or EBCDIC), or its absence.
    #[inline(always)]
    pub(crate) fn field(&mut self, msg: &Message<'_>, n: usize) -> &mut Key {
        let Some(f) = msg.field(n) else {
            self.0.write_u8(0);
            return self;
        };
        self.0.write_u8(1);
        let total = if let Some(data) = f.plain() {
            // ASCII characters are the bytes themselves: one write, the same key.
            self.0.write(data);
            data.len()
        } else {
            let mut total = 0usize;
            for c in f.chars() {
                self.0.write_u8(c);
                total += 1;
            }
            total
        };
        self.0.write_u16(u16::try_from(total).unwrap_or(u16::MAX));
        self
    }

    /// The value of the key so far (more may be added after).
    pub(crate) fn value(&self) -> u64 {
        if forced_collisions() {
            return 0x5EED;
        }
        self.0.finish()
    }

    /// The value and the bytes of the key so far.
    pub(crate) fn id(&self) -> KeyId {
        KeyId {
            value: self.value(),
            ident: self.ident(),
        }
    }

    /// The key's bytes so far, to confirm a match on.
    pub(crate) fn ident(&self) -> Ident {
        Ident {
            head: self.0.head,
            len: u16::try_from(self.0.len).unwrap_or(u16::MAX),
            tail: self.0.tail.as_ref().map_or(0, Hasher::finish),
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Tests set this to give every key the same value: the tables must still pair by the
    /// keys' bytes.
    static FORCE_COLLISIONS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn forced_collisions() -> bool {
    FORCE_COLLISIONS.with(std::cell::Cell::get)
}

#[cfg(not(test))]
const fn forced_collisions() -> bool {
    false
}

/// Runs `f` with every key's value forced equal (tests only).
#[cfg(test)]
pub(crate) fn with_forced_collisions<T>(f: impl FnOnce() -> T) -> T {
    FORCE_COLLISIONS.with(|c| c.set(true));
    let out = f();
    FORCE_COLLISIONS.with(|c| c.set(false));
    out
}

/// Chooses a table's bucket from a key's value: a 64-bit finalizer (MurmurHash3's `fmix64`),
/// so that values alike in their low bits (which the table's bucket index reads) still
/// spread over the table.
#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct PreHashed(u64);

const fn mix(mut v: u64) -> u64 {
    v ^= v >> 33;
    v = v.wrapping_mul(0xff51_afd7_ed55_8ccd);
    v ^= v >> 33;
    v = v.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    v ^ (v >> 33)
}

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        mix(self.0)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// A table indexed by keys' values (confirm a match with [`Ident`]), sized by the most it has
/// held and never by where its keys fell. A hash table that marks the slots of removed keys
/// must be rebuilt now and then to reuse them; the standard one rebuilds in place while it is
/// at most half full and grows (allocates) otherwise, so when a steady load happened to use up
/// its marked slots depended on the run's hash seed. This one makes room for twice each new
/// high of what it holds (rounded up to a power of two), so that its rebuilds are always in
/// place: under steady traffic it allocates nothing, whatever the seed.
#[derive(Debug)]
pub(crate) struct KeyMap<V> {
    map: HashMap<u64, V, BuildHasherDefault<PreHashed>>,
    /// The most it is sized to hold at half full.
    high: usize,
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap {
            map: HashMap::default(),
            high: 0,
        }
    }
}

impl<V> KeyMap<V> {
    pub(crate) fn insert(&mut self, key: u64, value: V) -> Option<V> {
        if self.map.len() >= self.high {
            self.grow();
        }
        self.map.insert(key, value)
    }

    /// Room for twice the new high, `len() + 1` rounded up to a power of two.
    #[cold]
    fn grow(&mut self) {
        self.high = (self.map.len() + 1).next_power_of_two();
        self.map
            .reserve((2 * self.high).saturating_sub(self.map.len()));
    }

    pub(crate) fn get(&self, key: &u64) -> Option<&V> {
        self.map.get(key)
    }

    pub(crate) fn remove(&mut self, key: &u64) -> Option<V> {
        self.map.remove(key)
    }

    /// Removes `key` if `f` says so of its value, in one lookup.
    pub(crate) fn remove_if(&mut self, key: u64, f: impl FnOnce(&V) -> bool) -> Option<V> {
        match self.map.entry(key) {
            std::collections::hash_map::Entry::Occupied(held) if f(held.get()) => {
                Some(held.remove())
            }
            _ => None,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Empties it, keeping its room.
    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_alike_in_their_low_bits_spread_over_the_buckets() {
        // 65,536 values whose low 32 bits are all equal: a table that took the value as its
        // bucket index would put every one in the same probe sequence.
        let buckets = 1usize << 17;
        let mut load = vec![0u32; buckets];
        let mut raw = vec![0u32; buckets];
        for i in 0..65_536u64 {
            let v = (i << 32) | 0xDEAD_BEEF;
            let mut h = PreHashed::default();
            h.write_u64(v);
            load[(h.finish() as usize) & (buckets - 1)] += 1;
            raw[(v as usize) & (buckets - 1)] += 1;
        }
        assert_eq!(
            raw.iter().copied().max(),
            Some(65_536),
            "unmixed: one bucket"
        );
        let max = load.iter().copied().max().unwrap();
        assert!(max <= 12, "a bucket holds {max} of 65,536");
        // And the table itself holds them all, each found again.
        let mut map: KeyMap<u64> = KeyMap::default();
        for i in 0..65_536u64 {
            map.insert(i << 32, i);
        }
        assert_eq!(map.len(), 65_536);
        assert!((0..65_536u64).all(|i| map.get(&(i << 32)) == Some(&i)));
    }

    #[test]
    fn a_table_under_steady_churn_stops_growing_whatever_its_keys() {
        // 300 keys held at a time, each new key taking the place of the oldest, for many key
        // streams (as many hash seeds): once the table has seen its most, its room (the most
        // it can hold before it must rebuild) never rises above what it was, so no insert
        // allocates. A table that grew when its marked slots ran out while over half full did,
        // for some streams and not others.
        for stream in 0..64u64 {
            let mut x = stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut next = || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let mut map: KeyMap<u64> = KeyMap::default();
            let mut held = std::collections::VecDeque::new();
            let mut most = 0;
            for i in 0..40_000 {
                let k = next();
                map.insert(k, k);
                held.push_back(k);
                if held.len() > 300 {
                    let old = held.pop_front().unwrap();
                    map.remove(&old);
                }
                if i < 1_000 {
                    most = most.max(map.map.capacity());
                } else {
                    assert!(
                        map.map.capacity() <= most,
                        "stream {stream}: grew to {} after {i} inserts (most {most})",
                        map.map.capacity()
                    );
                }
            }
        }
    }

    #[test]
    fn short_copies_copy_exactly_their_bytes() {
        let src: Vec<u8> = (1..=60u8).collect();
        for len in 0..=50 {
            for at in [0, 3, 8] {
                let mut fast = [0xEEu8; 64];
                let mut plain = [0xEEu8; 64];
                copy_short(&mut fast[at..at + len], &src[..len]);
                plain[at..at + len].copy_from_slice(&src[..len]);
                assert_eq!(fast, plain, "{len} bytes at {at}");
            }
        }
    }

    #[test]
    fn idents_tell_apart_what_values_cannot() {
        let a = Key::new().present(b"000001").present(b"10000001").ident();
        let b = Key::new().present(b"000001").present(b"10000002").ident();
        let a2 = Key::new().present(b"000001").present(b"10000001").ident();
        assert_eq!(a, a2);
        assert_ne!(a, b);
        // Beyond the bytes kept as they are, the rest still tells keys apart.
        let long = |last: u8| {
            let mut v = vec![b'7'; 100];
            v.push(last);
            Key::new().present(&v).ident()
        };
        assert_eq!(long(b'1'), long(b'1'));
        assert_ne!(long(b'1'), long(b'2'));
        with_forced_collisions(|| {
            assert_eq!(
                Key::new().present(b"x").value(),
                Key::new().present(b"y").value()
            );
        });
        assert!(!format!("{a:?}").contains("10000001"));
        // Held compactly, they still tell apart, by position, the long ones too.
        let held = Idents::of(&[a, long(b'1')]);
        assert!(held.matches(0, &a2) && !held.matches(0, &b));
        assert!(held.matches(1, &long(b'1')) && !held.matches(1, &long(b'2')));
        assert!(!held.matches(1, &a) && !held.matches(2, &a));
        assert!(!format!("{held:?}").contains("10000001"));
    }
}
