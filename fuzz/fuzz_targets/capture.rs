//! A pcap or pcapng file: reading it to the end never panics and never yields a frame over the
//! maximum.
#![no_main]

use iso8583_inspect::capture::{CaptureConfig, CaptureEvent, CaptureReader};
use iso8583_inspect::spec::ISO87_ASCII;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = CaptureConfig { max_out_of_order: 4096, ..CaptureConfig::default() };
    let Ok(reader) = CaptureReader::new(data, &ISO87_ASCII, config) else { return };
    for event in reader {
        if let CaptureEvent::Message(m) = event {
            assert!(m.bytes.len() <= iso8583_inspect::frame::DEFAULT_MAX_FRAME);
        }
    }
});
