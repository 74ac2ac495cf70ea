//! Writes a generated capture (see `traffic`) to a file: `gen_capture PATH SIZE_MB [SALES_PER_S]`,
//! sized in megabytes (10^6) of pcap, at 2,000 sales a second unless told (a slower rate spans
//! more capture time: the audit's windows fill and empty as they do on a long-running link).

use iso8583_compare::traffic::write_capture;
use std::io::BufWriter;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: gen_capture PATH SIZE_MB [SALES_PER_S]");
    let mb: u64 = args.next().map_or(1000, |a| a.parse().expect("megabytes"));
    let rate: u64 = args
        .next()
        .map_or(2000, |a| a.parse().expect("sales a second"));
    // About 600 bytes of pcap a sale (request and response, headers included).
    let sales = mb * 1_000_000 / 600;
    let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    let (_, messages) = write_capture(file, sales, 64, rate, 0, 1)?;
    let len = std::fs::metadata(&path)?.len();
    println!("{path}: {messages} messages, {len} bytes");
    Ok(())
}
