//! Pairing keys: fields hashed where they lie, and the tables they index.
//!
//! A key is SipHash (the standard library's) of the fields that identify a transaction, fed
//! from the message's characters with no allocation, under keys drawn at random once a process:
//! the party whose traffic is audited cannot precompute colliding pairs. The tables indexed by
//! such keys hash them no further: a SipHash output is already uniform.

use crate::message::Message;
use std::collections::HashMap;
use std::collections::hash_map::{DefaultHasher, RandomState};
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// The process's SipHash keys (the standard library's random ones).
static SEED: OnceLock<RandomState> = OnceLock::new();
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// A key under construction. The hasher is a stream: how the bytes are split between writes
/// does not change the value.
pub(crate) struct Key(DefaultHasher);

impl Key {
    pub(crate) fn new() -> Key {
        Key(SEED.get_or_init(RandomState::new).build_hasher())
    }

    /// Adds a value given as characters: hashed exactly as a field of the same characters, so
    /// that a STAN taken from field 90 finds the original's field 11.
    pub(crate) fn present(&mut self, chars: &[u8]) -> &mut Key {
        self.0.write_u8(1);
        self.0.write(chars);
        self.0.write_usize(chars.len());
        self
    }

    /// Adds anything hashable (a flow, a class).
    pub(crate) fn hash(&mut self, v: &impl Hash) -> &mut Key {
        v.hash(&mut self.0);
        self
    }

    /// Adds field `n`'s characters (decoded from BCD or EBCDIC), or its absence.
    pub(crate) fn field(&mut self, msg: &Message<'_>, n: usize) -> &mut Key {
        let Some(f) = msg.field(n) else {
            self.0.write_u8(0);
            return self;
        };
        self.0.write_u8(1);
        let mut buf = [0u8; 64];
        let mut len = 0;
        let mut total = 0usize;
        for c in f.chars() {
            if let Some(slot) = buf.get_mut(len) {
                *slot = c;
                len += 1;
            } else {
                self.0.write(&buf);
                buf[0] = c;
                len = 1;
            }
            total += 1;
        }
        self.0.write(buf.get(..len).unwrap_or_default());
        self.0.write_usize(total);
        self
    }

    /// The value of the key so far (more may be added after).
    pub(crate) fn value(&self) -> u64 {
        self.0.finish()
    }
}

/// Hashes a key no further (see the module docs).
#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
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

/// A table indexed by keys.
pub(crate) type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<PreHashed>>;
