//! The deframer on arbitrary streams pushed in arbitrary pieces: never panics, never yields a
//! frame over its maximum, and framing detection returns.
#![no_main]

use iso8583_inspect::frame::{Deframer, Framing, detect};
use iso8583_inspect::spec::BUILTINS;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [choice, step, rest @ ..] = data else { return };
    let framing = Framing::ALL[usize::from(*choice) % Framing::ALL.len()];
    let mut d = Deframer::with_max(framing, 512);
    let step = usize::from(*step).max(1);
    for piece in rest.chunks(step) {
        d.push(piece);
        loop {
            match d.next_frame() {
                Ok(Some(frame)) => assert!(frame.len() <= 512 && !frame.is_empty() || framing == Framing::None),
                Ok(None) => break,
                Err(_) => {
                    d.clear();
                    break;
                }
            }
        }
    }
    let _ = detect(BUILTINS[usize::from(*choice) % BUILTINS.len()], rest);
});
