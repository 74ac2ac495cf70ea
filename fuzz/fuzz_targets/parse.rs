//! `parse` on every built-in spec (the first byte chooses it): never panics, and a message that
//! parses re-encodes to the same bytes, its fields tiling the input in order, and its
//! subfields read without panicking, inside the message.
#![no_main]

use iso8583_inspect::spec::BUILTINS;
use iso8583_inspect::{MessageBuilder, parse};
use libfuzzer_sys::fuzz_target;

/// Walks subfields (and the objects inside constructed ones): offsets inside the message.
fn walk(subs: iso8583_inspect::subfield::Subfields<'_>, len: usize) {
    for s in subs {
        match s {
            Ok(s) => {
                assert!(s.offset() < len, "{}", s.path());
                let _ = (s.value().to_text(), s.to_display_text(false), format!("{s:?}"));
                walk(s.children(), len);
            }
            Err(e) => assert!(e.offset <= len, "{e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else { return };
    let spec = BUILTINS[usize::from(choice) % BUILTINS.len()];
    match parse(spec, bytes) {
        Ok(msg) => {
            let mut end = 0;
            for f in msg.fields() {
                let start = f.wire().as_ptr() as usize - bytes.as_ptr() as usize;
                assert!(start >= end, "fields in order, not overlapping");
                end = start + f.wire().len();
                let _ = f.to_text();
                let _ = f.to_u64();
            }
            if msg.fields().next().is_some() {
                assert_eq!(end, bytes.len(), "the last field ends the message");
            }
            let again = MessageBuilder::from_message(&msg).to_vec().expect("a parsed message encodes");
            assert_eq!(again, bytes);
            let _ = (msg.pan(), msg.amount(), msg.stan(), msg.transmission_time(), msg.original_data());
            let _ = format!("{msg:?}");
            // Every composite's subfields: in the message, in order, never a panic.
            for f in msg.fields() {
                let Some(subs) = msg.subfields(f.number()) else { continue };
                walk(subs, bytes.len());
            }
        }
        Err(e) => assert!(e.offset <= bytes.len(), "{e}"),
    }
});
