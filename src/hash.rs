//! The keyed hash of the pairing tables: SipHash-1-3, the algorithm of the standard library's
//! `HashMap`, under keys drawn at random once a process, so that the party whose traffic is
//! read cannot choose inputs that collide.
//!
//! A pairing key is short (at most about a hundred bytes kept) and lies in one buffer, so the
//! hash reads it a word at a time with none of a streaming hasher's buffering.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// The process's keys, drawn from the standard library's random ones.
fn keys() -> (u64, u64) {
    static KEYS: OnceLock<(u64, u64)> = OnceLock::new();
    *KEYS.get_or_init(|| {
        let random = RandomState::new();
        (random.hash_one(0u64), random.hash_one(1u64))
    })
}

/// One SipHash round.
#[inline(always)]
fn sip_round(v: &mut [u64; 4]) {
    let [mut v0, mut v1, mut v2, mut v3] = *v;
    v0 = v0.wrapping_add(v1);
    v1 = v1.rotate_left(13) ^ v0;
    v0 = v0.rotate_left(32);
    v2 = v2.wrapping_add(v3);
    v3 = v3.rotate_left(16) ^ v2;
    v0 = v0.wrapping_add(v3);
    v3 = v3.rotate_left(21) ^ v0;
    v2 = v2.wrapping_add(v1);
    v1 = v1.rotate_left(17) ^ v2;
    v2 = v2.rotate_left(32);
    *v = [v0, v1, v2, v3];
}

/// SipHash-1-3 of `bytes` under `(k0, k1)`.
#[inline]
fn sip13_with((k0, k1): (u64, u64), bytes: &[u8]) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let m = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or_default());
        v[3] ^= m;
        sip_round(&mut v);
        v[0] ^= m;
    }
    let rest = words.remainder().len();
    // The bytes left (fewer than eight): where there are eight bytes in all, the last eight
    // read as one word and shifted down; else one by one.
    let tail = match bytes.last_chunk::<8>() {
        Some(end) if rest > 0 => u64::from_le_bytes(*end) >> (8 * (8 - rest)),
        Some(_) => 0,
        None => bytes
            .iter()
            .enumerate()
            .fold(0, |t, (i, &b)| t | u64::from(b) << (8 * i)),
    };
    // The last word: the bytes left, and the length's low byte on top.
    let m = tail | ((bytes.len() as u64 & 0xff) << 56);
    v[3] ^= m;
    sip_round(&mut v);
    v[0] ^= m;
    v[2] ^= 0xff;
    sip_round(&mut v);
    sip_round(&mut v);
    sip_round(&mut v);
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// SipHash-1-3 of `bytes` under the process's keys.
#[inline]
pub(crate) fn sip13(bytes: &[u8]) -> u64 {
    sip13_with(keys(), bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::Hasher;

    #[test]
    fn the_word_at_a_time_siphash_is_the_standard_librarys() {
        // `DefaultHasher::new()` is SipHash-1-3 under zero keys; every length up to a few
        // words past a hundred bytes, so that every tail length is covered.
        let bytes: Vec<u8> = (0..130u8).map(|b| b.wrapping_mul(37)).collect();
        for len in 0..bytes.len() {
            let mut std = DefaultHasher::new();
            std.write(&bytes[..len]);
            assert_eq!(
                sip13_with((0, 0), &bytes[..len]),
                std.finish(),
                "{len} bytes"
            );
        }
        // Under the process's keys, not zero ones.
        assert_ne!(keys(), (0, 0));
    }
}
