//! Decodes the comparison's 0200 `N` times (default ten million) with one decoder (`ours`,
//! the default, or `i8583`; `ours-bcd` is ours on the same values in `ISO87_BCD`): a steady
//! loop for a profiler, and an instruction count that does not depend on the machine's load.
//!
//! `perf record -e cpu-clock -g target/release/parse_loop` or
//! `valgrind --tool=callgrind target/release/parse_loop 100000 i8583`

use iso8583_compare::sale_0200;
use iso8583_inspect::parse;
use iso8583_inspect::spec::{ISO87_ASCII, ISO87_BCD};
use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(10_000_000, |a| a.parse().expect("a count"));
    let decoder = args.next().unwrap_or_else(|| "ours".into());
    let bytes = sale_0200(&ISO87_ASCII);
    let mut ok = 0usize;
    match decoder.as_str() {
        "ours" => {
            for _ in 0..n {
                ok += usize::from(parse(&ISO87_ASCII, black_box(&bytes)).is_ok());
            }
        }
        "ours-bcd" => {
            let bcd = sale_0200(&ISO87_BCD);
            for _ in 0..n {
                ok += usize::from(parse(&ISO87_BCD, black_box(&bcd)).is_ok());
            }
        }
        "i8583" => {
            for _ in 0..n {
                let mut u = i8583::Unpacker::new(black_box(&bytes));
                ok += usize::from(u.unpack(&i8583::v1987::SPEC).is_ok());
            }
        }
        other => panic!("unknown decoder {other}: ours, ours-bcd or i8583"),
    }
    println!("{ok} of {n} decoded by {decoder}");
}
