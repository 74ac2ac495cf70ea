//! The two-dialect audit on generated acquiring traffic: the terminal leg in the UnionPay POS
//! dialect, the network leg in the CUPS dialect (both framings, duplex or one-way links),
//! hundreds of transactions with one case of every abuse: the audit finds exactly the injected
//! findings, and nothing on a clean transaction.

#[path = "../examples/common/acquiring.rs"]
mod acquiring;

use acquiring::{Link, NETWORK_PORT, NETWORK_RETURN_PORT, TERMINAL_PORT, generate};
use std::collections::BTreeSet;
use std::process::Command;

mod common;

fn audit_example() -> std::path::PathBuf {
    common::example("audit")
}

/// The transaction a finding's STAN names (see the generator's identities).
fn transaction(stan: &str) -> u32 {
    let n: u32 = stan.parse().unwrap();
    if n >= 800_000 {
        n - 800_000
    } else if n >= 500_000 {
        n - 500_000
    } else {
        n
    }
}

fn run(seed: u64, link: Link) {
    let g = generate(seed, 300, link);
    let dir = std::env::temp_dir().join(format!(
        "iso8583-acquiring-{seed}-{}-{}",
        link.one_way, link.prefixed
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("capture.pcap");
    let profiles = dir.join("profiles.toml");
    std::fs::write(&pcap, &g.pcap).unwrap();
    std::fs::write(&profiles, &g.profiles).unwrap();
    let ports = if link.one_way {
        format!("network={NETWORK_PORT},{NETWORK_RETURN_PORT}")
    } else {
        format!("network={NETWORK_PORT}")
    };
    let out = Command::new(audit_example())
        .args(["--profiles", profiles.to_str().unwrap(), "--input", "pcap"])
        .args([
            "--leg",
            &format!("terminal={TERMINAL_PORT}"),
            "--leg",
            &ports,
        ])
        .args(["--spec", "terminal=cup-pos", "--spec", "network=cups"])
        .args(["--framing", "terminal=len2", "--framing", "network=cups"])
        .args(["--format", "ndjson", pcap.to_str().unwrap()])
        .output()
        .expect("the audit example is built");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut found = BTreeSet::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let f: serde_json::Value = serde_json::from_str(line).unwrap();
        let stan = f["stan"]
            .as_str()
            .unwrap_or_else(|| panic!("a finding without STAN: {f}"));
        found.insert((
            f["rule"].as_str().unwrap().to_string(),
            f["leg"].as_str().unwrap_or("-").to_string(),
            transaction(stan),
        ));
    }
    let expected: BTreeSet<(String, String, u32)> = g
        .expected
        .iter()
        .map(|(r, l, t)| (r.to_string(), l.to_string(), *t))
        .collect();
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "seed {seed} {link:?}: missing {missing:?}, unexpected {extra:?}"
    );
    for t in &g.clean {
        assert!(
            !found.iter().any(|f| f.2 == *t),
            "a finding on clean transaction {t}"
        );
    }
    assert!(g.transactions >= 300, "{}", g.transactions);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn duplex_link_header_first() {
    for seed in [1, 2, 3] {
        run(
            seed,
            Link {
                one_way: false,
                prefixed: false,
            },
        );
    }
}

#[test]
fn one_way_link_with_length_prefix() {
    for seed in [4, 5, 6] {
        run(
            seed,
            Link {
                one_way: true,
                prefixed: true,
            },
        );
    }
}

#[test]
fn duplex_prefixed_and_one_way_header_first() {
    run(
        7,
        Link {
            one_way: false,
            prefixed: true,
        },
    );
    run(
        8,
        Link {
            one_way: true,
            prefixed: false,
        },
    );
}

#[test]
fn the_channel_thresholds_are_the_users() {
    let data = |f: &str| format!("{}/examples/data/{f}", env!("CARGO_MANIFEST_DIR"));
    let audit = |extra: &[&str]| {
        let out = Command::new(audit_example())
            .args(["--profiles", &data("acquiring.toml"), "--input", "pcap"])
            .args(["--leg", "terminal=8583", "--leg", "network=9000,9001"])
            .args(["--spec", "terminal=cup-pos", "--spec", "network=cups"])
            .args(["--format", "ndjson"])
            .args(extra)
            .arg(data("acquiring.pcap"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // The bundled sample: three restaurants behind the pool, the jeweller through three.
    let default = audit(&[]);
    assert!(default.contains("channel-merchant-fan-in"));
    assert!(default.contains("channel-merchant-rotation"));
    let raised = audit(&["--fan-in", "4", "--rotation", "4"]);
    assert!(!raised.contains("channel-merchant-fan-in"));
    assert!(!raised.contains("channel-merchant-rotation"));
    // The framings are detected when not given.
    assert_eq!(default.lines().count(), raised.lines().count() + 2);
}
