//! Spec loading from TOML and JSON: never panics; a spec that loads passes its own checks and
//! parses (the rest of the input) without panicking.
#![no_main]

use iso8583_inspect::spec::Spec;
use iso8583_inspect::{MessageBuilder, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (spec_text, message) = text.split_once("\n---\n").unwrap_or((text, ""));
    for spec in [Spec::from_toml_str(spec_text), Spec::from_json_str(spec_text)].into_iter().flatten() {
        spec.check().expect("a loaded spec passes its checks");
        if let Ok(msg) = parse(&spec, message.as_bytes()) {
            assert_eq!(MessageBuilder::from_message(&msg).to_vec().expect("encodes"), message.as_bytes());
            // Subfields a spec file declares read without panicking.
            for f in msg.fields() {
                for s in msg.subfields(f.number()).into_iter().flatten() {
                    let _ = s.map(|s| s.value().to_text());
                }
            }
        }
    }
});
