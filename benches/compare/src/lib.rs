//! What the comparison binaries share: the messages measured and a timing loop.
//!
//! Timing: each contender runs in batches long enough (about 20 ms) for the clock to be
//! negligible; the contenders take turns batch by batch for `ROUNDS` rounds, so that a noisy
//! neighbour slows them all alike, and each one's figure is its median batch. Only ratios
//! between figures of the same run are reported.

use iso8583_inspect::spec::Spec;
use iso8583_inspect::{MessageBuilder, Mti};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The fields of a typical acquirer-side 0200: 20 fields, 228 bytes in `ISO87_ASCII`.
pub const SALE_0200: [(usize, &str); 20] = [
    (2, "6222021234567890123"),
    (3, "000000"),
    (4, "000000012800"),
    (7, "1123093015"),
    (11, "000001"),
    (12, "093015"),
    (13, "1123"),
    (14, "2912"),
    (18, "5812"),
    (22, "051"),
    (23, "001"),
    (25, "00"),
    (32, "48220000"),
    (33, "49000000"),
    (35, "6222021234567890123=2912101"),
    (37, "332700000001"),
    (41, "10000001"),
    (42, "822440158120001"),
    (43, "GOLDEN DRAGON RESTAURANT GUANGZHOU      "),
    (49, "156"),
];

/// [`SALE_0200`] encoded in `spec`.
///
/// # Panics
/// If a value does not fit the spec (the values fit every ISO 8583:1987 spec).
#[must_use]
pub fn sale_0200(spec: &'static Spec) -> Vec<u8> {
    let mut b = MessageBuilder::new(spec, Mti::FINANCIAL_REQUEST);
    for (n, v) in SALE_0200 {
        b.set_text(n, v).expect("value fits the spec");
    }
    b.to_vec().expect("message encodes")
}

/// Rounds of batches per contender.
pub const ROUNDS: usize = 15;

/// One contender: a name and one unit of work (returning something to keep it alive).
pub struct Contender<'a> {
    pub name: String,
    pub work: Box<dyn FnMut() -> usize + 'a>,
}

impl<'a> Contender<'a> {
    pub fn new(name: impl Into<String>, work: impl FnMut() -> usize + 'a) -> Contender<'a> {
        Contender {
            name: name.into(),
            work: Box::new(work),
        }
    }
}

/// The median time of one unit of work of each contender, in nanoseconds, in the order given.
pub fn race(contenders: &mut [Contender<'_>]) -> Vec<f64> {
    let target = Duration::from_millis(20);
    let batch: Vec<u64> = contenders
        .iter_mut()
        .map(|c| {
            let mut n = 1u64;
            loop {
                let t = Instant::now();
                for _ in 0..n {
                    black_box((c.work)());
                }
                let e = t.elapsed();
                if e >= target / 4 {
                    let per = e.as_secs_f64() / n as f64;
                    return ((target.as_secs_f64() / per) as u64).max(1);
                }
                n *= 2;
            }
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(ROUNDS); contenders.len()];
    for _ in 0..ROUNDS {
        for (i, c) in contenders.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..batch[i] {
                black_box((c.work)());
            }
            samples[i].push(t.elapsed().as_secs_f64() * 1e9 / batch[i] as f64);
        }
    }
    samples.into_iter().map(median).collect()
}

/// The median of some samples.
#[must_use]
pub fn median(mut s: Vec<f64>) -> f64 {
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// One pass reading every byte of `bytes`: the floor any parser of them stands on.
#[must_use]
pub fn byte_scan(bytes: &[u8]) -> usize {
    black_box(bytes)
        .iter()
        .fold(0u8, |acc, &x| acc.wrapping_add(x)) as usize
}

/// Bytes per second as MB/s (10^6).
#[must_use]
pub fn mb_per_s(bytes: usize, ns: f64) -> f64 {
    bytes as f64 / ns * 1e3
}

pub mod traffic;
