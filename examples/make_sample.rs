//! Writes the bundled sample data from the generators in `examples/common/`: the ISO 1987
//! sample (`traffic.rs`: `sample.hex`, `sample.pcap`) and the two-dialect acquiring capture
//! (`acquiring.rs`, seed 1: `acquiring.pcap` and its profiles `acquiring.toml`).
//!
//! ```text
//! cargo run --example make_sample
//! ```

#[path = "common/acquiring.rs"]
mod acquiring;
#[path = "common/traffic.rs"]
mod traffic;

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    std::fs::write(dir.join("sample.hex"), traffic::sample_hex())?;
    std::fs::write(dir.join("sample.pcap"), traffic::sample_pcap())?;
    let g = acquiring::generate(1, acquiring::SAMPLE_TRANSACTIONS, acquiring::SAMPLE_LINK);
    std::fs::write(dir.join("acquiring.pcap"), &g.pcap)?;
    std::fs::write(dir.join("acquiring.toml"), &g.profiles)?;
    println!("wrote {}", dir.display());
    Ok(())
}
