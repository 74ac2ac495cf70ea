//! Profile and fee-table loading: never panics; a book that loads answers lookups.
#![no_main]

use iso8583_inspect::mcc::FeeTable;
use iso8583_inspect::profile::ProfileBook;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(book) = ProfileBook::from_toml_str(text) {
        for m in book.merchants() {
            assert!(book.merchant(m.id.as_bytes()).is_some());
            for t in &m.terminals {
                assert_eq!(book.terminal_owner(t.as_bytes()).map(|o| &o.id), Some(&m.id));
            }
        }
    }
    if let Ok(fees) = FeeTable::from_toml_str(text) {
        let _ = fees.classes(5812).pre2016_rate.fee(u64::MAX);
    }
});
