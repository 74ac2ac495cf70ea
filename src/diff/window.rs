//! The window of recent debits behind `duplicate-or-replay`, in arrival order.
//!
//! Debits leave the window in the order they came (each stays the same time), so they are held
//! in a ring, and their keys' bytes one after another in a single buffer that is cut at the
//! front as they leave: no allocation a debit once the window is full, and letting the oldest
//! go is one table lookup. The table maps a key's value to the latest debit under it; an
//! older debit under the same value stays in the ring, unreachable, until its turn to leave.

use super::key::{Ident, Idents, KeyMap};
use std::collections::VecDeque;

/// One debit in the window.
#[derive(Debug, Clone, Copy)]
struct Debit {
    /// Its key's value (the table's key).
    value: u64,
    /// When it leaves the window (ms).
    leaves: i64,
    /// When it came (ms), and its message's index.
    at: i64,
    index: usize,
    /// Where its key's and STAN's bytes end in the stream of all debits' bytes.
    end: u64,
}

/// An earlier debit found under a key.
pub(super) struct Earlier {
    pub(super) at: i64,
    pub(super) index: usize,
    /// Whether it had the STAN asked about.
    pub(super) same_stan: bool,
}

/// The window: see the module docs.
#[derive(Debug, Default)]
pub(super) struct Window {
    /// Key value -> the number of the latest debit under it.
    table: KeyMap<u64>,
    /// The debits held, oldest first; the first is number `first`.
    ring: VecDeque<Debit>,
    first: u64,
    /// The held debits' key and STAN bytes ([`Idents`]' compact form), one after another;
    /// `bytes[0]` is byte `base` of the stream, and bytes before `cut` belong to debits gone.
    bytes: Vec<u8>,
    base: u64,
    cut: u64,
}

impl Window {
    /// Lets go of the debits whose time is up at `now`.
    pub(super) fn expire(&mut self, now: i64) {
        while let Some(d) = self.ring.front().copied() {
            if d.leaves > now {
                break;
            }
            self.ring.pop_front();
            if self.table.get(&d.value) == Some(&self.first) {
                self.table.remove(&d.value);
            }
            self.first += 1;
            self.cut = d.end;
        }
        // The bytes of debits gone are dropped once they are at least half the buffer: each
        // byte is moved at most once on average.
        let dead = usize::try_from(self.cut - self.base).unwrap_or(usize::MAX);
        if dead >= 4096 && dead >= self.bytes.len() / 2 {
            self.bytes.drain(..dead.min(self.bytes.len()));
            self.base = self.cut;
        }
    }

    /// The latest debit under `key` still held, if its bytes are `key`'s (a value alone is
    /// never trusted), and whether it had `stan`.
    pub(super) fn earlier(&self, value: u64, key: &Ident, stan: &Ident) -> Option<Earlier> {
        let number = *self.table.get(&value)?;
        let place = usize::try_from(number.checked_sub(self.first)?).ok()?;
        let d = self.ring.get(place)?;
        let start = if place == 0 {
            self.cut
        } else {
            self.ring.get(place - 1)?.end
        };
        let held = self.bytes.get(self.offset(start)?..self.offset(d.end)?)?;
        Idents::match_in(held, 0, key).then(|| Earlier {
            at: d.at,
            index: d.index,
            same_stan: Idents::match_in(held, 1, stan),
        })
    }

    /// Adds a debit under `value` with its key's and STAN's bytes, the latest under it.
    pub(super) fn add(
        &mut self,
        value: u64,
        idents: &[Ident; 2],
        at: i64,
        leaves: i64,
        index: usize,
    ) {
        Idents::write(&mut self.bytes, idents);
        let number = self.first + self.ring.len() as u64;
        self.ring.push_back(Debit {
            value,
            leaves,
            at,
            index,
            end: self.base + self.bytes.len() as u64,
        });
        self.table.insert(value, number);
    }

    /// Lets go of every debit.
    pub(super) fn clear(&mut self) {
        self.table.clear();
        self.first += self.ring.len() as u64;
        self.ring.clear();
        self.base += self.bytes.len() as u64;
        self.cut = self.base;
        self.bytes.clear();
    }

    /// Where byte `at` of the stream lies in `bytes`.
    fn offset(&self, at: u64) -> Option<usize> {
        usize::try_from(at.checked_sub(self.base)?).ok()
    }

    /// How many debits are held (those unreachable under a later one's value included).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.ring.len()
    }

    /// How many bytes the buffer holds (those of debits gone not yet dropped included).
    #[cfg(test)]
    pub(super) fn held_bytes(&self) -> usize {
        self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::key::Key;

    fn ids(card: &str, stan: &str) -> (u64, [Ident; 2]) {
        let key = Key::new().present(card.as_bytes()).id();
        let stan = Key::new().present(stan.as_bytes()).ident();
        (key.value, [key.ident, stan])
    }

    #[test]
    fn a_debit_is_found_until_its_time_is_up_then_let_go() {
        let mut w = Window::default();
        let (v, a) = ids("6222021234567890", "000001");
        w.add(v, &a, 1_000, 61_000, 0);
        let e = w.earlier(v, &a[0], &a[1]).unwrap();
        assert_eq!((e.at, e.index, e.same_stan), (1_000, 0, true));
        let other_stan = ids("6222021234567890", "000002").1[1];
        assert!(!w.earlier(v, &a[0], &other_stan).unwrap().same_stan);
        w.expire(60_999);
        assert!(w.earlier(v, &a[0], &a[1]).is_some());
        w.expire(61_000);
        assert!(w.earlier(v, &a[0], &a[1]).is_none());
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn the_latest_debit_under_a_key_is_found_and_an_older_one_leaving_does_not_take_it() {
        let mut w = Window::default();
        let (v, a) = ids("6222021234567890", "000001");
        let (_, b) = ids("6222021234567890", "000002");
        w.add(v, &a, 1_000, 61_000, 0);
        w.add(v, &b, 2_000, 62_000, 1);
        let e = w.earlier(v, &b[0], &b[1]).unwrap();
        assert_eq!((e.index, e.same_stan), (1, true));
        // The first leaves; the second is still found.
        w.expire(61_500);
        let e = w.earlier(v, &b[0], &b[1]).unwrap();
        assert_eq!((e.at, e.index), (2_000, 1));
        w.expire(62_000);
        assert!(w.earlier(v, &b[0], &b[1]).is_none());
    }

    #[test]
    fn a_value_alone_finds_nothing_without_the_same_bytes() {
        let mut w = Window::default();
        let (v, a) = ids("6222021234567890", "000001");
        let (_, other) = ids("6222029999999999", "000001");
        w.add(v, &a, 0, 60_000, 0);
        // Another key under the same value: not the same debit.
        assert!(w.earlier(v, &other[0], &other[1]).is_none());
    }

    #[test]
    fn the_bytes_of_debits_gone_are_dropped_and_the_rest_still_read() {
        let mut w = Window::default();
        let keys: Vec<_> = (0..20_000)
            .map(|i| ids(&format!("62220212345{i:05}"), &format!("{i:06}")))
            .collect();
        for (i, (v, a)) in keys.iter().enumerate() {
            let t = i as i64;
            w.expire(t);
            w.add(*v, a, t, t + 1_000, i);
        }
        // A thousand in the window, their bytes (and at most as many of those gone) held.
        assert_eq!(w.len(), 1_000);
        let per = Idents::len_of(&keys[0].1);
        assert!(
            w.held_bytes() <= 2 * 1_000 * per + 4096,
            "{}",
            w.held_bytes()
        );
        for (i, (v, a)) in keys.iter().enumerate() {
            let found = w.earlier(*v, &a[0], &a[1]).map(|e| e.index);
            assert_eq!(found, (i >= 19_000).then_some(i), "debit {i}");
        }
        w.clear();
        assert_eq!((w.len(), w.held_bytes()), (0, 0));
        let (v, a) = &keys[5];
        assert!(w.earlier(*v, &a[0], &a[1]).is_none());
        w.add(*v, a, 0, 10, 5);
        assert_eq!(w.earlier(*v, &a[0], &a[1]).map(|e| e.index), Some(5));
    }
}
