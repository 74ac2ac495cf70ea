//! A typical acquirer-side sale, shared by the tests and the benchmarks.

use iso8583_inspect::spec::Spec;
use iso8583_inspect::{MessageBuilder, Mti};

/// The fields of a typical 0200 (22 of them) with realistic values.
pub const TYPICAL_0200: [(usize, &str); 22] = [
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
    (25, "00"),
    (32, "48220000"),
    (33, "49000000"),
    (35, "6222021234567890123=2912101"),
    (37, "332700000001"),
    (41, "10000001"),
    (42, "822440158120001"),
    (43, "GOLDEN DRAGON RESTAURANT GUANGZHOU      "),
    (49, "156"),
    (52, "4F2A9C11D03B7E58"),
    (53, "2600000000000000"),
    (64, "1A2B3C4D5E6F7081"),
];

/// A typical 0200 in `spec`, with those of [`TYPICAL_0200`] the dialect lays out the same way
/// (a dialect without field 18, or with 1993's 12-digit field 12, skips them).
pub fn typical_0200(spec: &'static Spec) -> MessageBuilder<'static> {
    let mut b = MessageBuilder::new(spec, Mti::FINANCIAL_REQUEST);
    for (n, v) in TYPICAL_0200 {
        let _ = b.set_text(n, v);
    }
    b
}
