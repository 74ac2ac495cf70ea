//! The jPOS GenericPackager XML importer on arbitrary text: never panics; a spec it accepts
//! passes the spec checks and parses what it encodes.
#![no_main]

use iso8583_inspect::spec::Spec;
use iso8583_inspect::{MessageBuilder, Mti, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(spec) = Spec::from_jpos_xml(text, "fuzz") {
        spec.check().expect("an imported spec passes its checks");
        let bytes = MessageBuilder::new(&spec, Mti::NETWORK_REQUEST)
            .to_vec()
            .expect("an empty message encodes");
        assert!(parse(&spec, &bytes).is_ok());
    }
});
