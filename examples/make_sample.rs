//! Writes the bundled sample data from the generator in `examples/common/traffic.rs`.
//!
//! ```text
//! cargo run --example make_sample
//! ```

#[path = "common/traffic.rs"]
mod traffic;

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    std::fs::write(dir.join("sample.hex"), traffic::sample_hex())?;
    std::fs::write(dir.join("sample.pcap"), traffic::sample_pcap())?;
    println!("wrote {}", dir.display());
    Ok(())
}
