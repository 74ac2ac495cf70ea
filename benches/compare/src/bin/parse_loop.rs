//! Parses the comparison's 0200 `N` times (default ten million): a steady loop for a profiler.
//!
//! `perf record -e cpu-clock -g target/release/parse_loop` or
//! `valgrind --tool=callgrind target/release/parse_loop 100000`

use iso8583_compare::sale_0200;
use iso8583_inspect::parse;
use iso8583_inspect::spec::ISO87_ASCII;
use std::hint::black_box;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(10_000_000, |a| a.parse().expect("a count"));
    let bytes = sale_0200(&ISO87_ASCII);
    let mut ok = 0usize;
    for _ in 0..n {
        ok += usize::from(parse(&ISO87_ASCII, black_box(&bytes)).is_ok());
    }
    println!("{ok} of {n} parsed");
}
