//! The straight-line ASCII path and the careful path of `parse` on the same bytes, for every
//! built-in spec (the first byte chooses it): the same field slices, or the same error (field,
//! offset and kind); and the STAN found by walking lengths alone (`stan_wire`) is the parsed one.
#![no_main]

use iso8583_inspect::parse::{parse_careful, stan_wire};
use iso8583_inspect::parse;
use iso8583_inspect::spec::BUILTINS;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else { return };
    let spec = BUILTINS[usize::from(choice) % BUILTINS.len()];
    let walked = stan_wire(spec, bytes);
    match (parse(spec, bytes), parse_careful(spec, bytes)) {
        (Ok(a), Ok(b)) => {
            let fa: Vec<_> = a.fields().map(|f| (f.number(), f.wire())).collect();
            let fb: Vec<_> = b.fields().map(|f| (f.number(), f.wire())).collect();
            assert_eq!(fa, fb, "{}", spec.name);
            assert_eq!(walked, a.field(11).map(|f| f.wire()), "{}: the STAN walk", spec.name);
        }
        (Err(a), Err(b)) => assert_eq!(a, b, "{}", spec.name),
        (a, b) => panic!("{}: the paths disagree: {:?} / {:?}", spec.name, a.err(), b.err()),
    }
});
