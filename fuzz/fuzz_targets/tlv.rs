//! The EMV TLV reader on arbitrary bytes: never panics; every object, at any depth, lies inside
//! the input, after the one before it and inside its parent; a fault's offset is inside the
//! input; the masked display of every value works.
#![no_main]

use iso8583_inspect::emv::{Tlvs, tlvs};
use libfuzzer_sys::fuzz_target;

fn walk(items: Tlvs<'_>, data: &[u8], start: usize, end: usize) {
    let mut at = start;
    for item in items {
        match item {
            Ok(t) => {
                assert!(t.offset >= at && t.value_offset >= t.offset);
                assert!(t.value_offset + t.value.len() <= end);
                let inside = &data[t.value_offset..t.value_offset + t.value.len()];
                assert_eq!(inside.as_ptr(), t.value.as_ptr());
                let _ = t.to_display_text(false);
                at = t.value_offset + t.value.len();
                walk(t.children(), data, t.value_offset, at);
            }
            Err(e) => {
                assert!(e.offset <= data.len(), "{e}");
                return;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    walk(tlvs(data), data, 0, data.len());
    let _ = iso8583_inspect::emv::find(data, &[0x9F, 0x02]);
});
