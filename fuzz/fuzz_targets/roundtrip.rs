//! Parse; if it parses, encode and parse again: the two messages are equal, and so are their
//! encodings.
#![no_main]

use iso8583_inspect::spec::BUILTINS;
use iso8583_inspect::{MessageBuilder, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else { return };
    let spec = BUILTINS[usize::from(choice) % BUILTINS.len()];
    let Ok(first) = parse(spec, bytes) else { return };
    // Rebuild the message field by field from its values, not its wire bytes.
    let mut b = MessageBuilder::new(spec, first.mti());
    b.set_header(first.header()).expect("the header has the spec's length");
    b.force_secondary_bitmap(first.bitmaps()[0] >> 63 != 0);
    for f in first.fields() {
        let value: Vec<u8> = f.bytes().collect();
        b.set_bytes(f.number(), &value).expect("a parsed value is valid for its field");
    }
    let encoded = b.to_vec().expect("encodes");
    let second = parse(spec, &encoded).expect("what we encode parses");
    assert_eq!(first, second);
    let again = MessageBuilder::from_message(&second).to_vec().expect("encodes");
    assert_eq!(again, encoded);
});
