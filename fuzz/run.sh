#!/usr/bin/env bash
# Runs one fuzz target for SECONDS: fuzz/run.sh TARGET SECONDS [extra libFuzzer flags]
# The seed corpus is made fresh from the bundled samples and ../shared/vectors (read in place,
# never committed); a crash leaves its input in fuzz/artifacts/TARGET/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh TARGET SECONDS}
seconds=${2:?usage: fuzz/run.sh TARGET SECONDS}
shift 2

# cargo-fuzz needs nightly flags (-Zsanitizer); the stable toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz

seeds="seeds/$target"
rm -rf "$seeds" && mkdir -p "$seeds" "corpus/$target"
vectors=../../shared/vectors
data=../examples/data
# A seed for the spec-choosing targets is one choice byte (the spec index) then a message.
prefixed() { # INDEX FILE
    { printf "\\x$(printf %02x "$1")"; cat "$2"; } > "$seeds/$(basename "$2").$1"
}
case "$target" in
    parse|parse_paths|roundtrip)
        [ -d "$vectors" ] && {
            prefixed 0 "$vectors/jpos/ISO87APackager.bin"
            prefixed 2 "$vectors/jpos/ISO87BPackager.bin"
            prefixed 3 "$vectors/jpos/ISO93APackager.bin"
            for f in "$vectors"/moov-io/*.dat; do prefixed 0 "$f"; done
        }
        python3 - "$data/sample.hex" "$seeds" <<'PY'
import sys
for i, line in enumerate(l for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")):
    open(f"{sys.argv[2]}/sample{i}", "wb").write(b"\x00" + bytes.fromhex(line.strip()))
PY
        ;;
    deframe)
        python3 - "$data/sample.hex" "$seeds" <<'PY'
import sys
for i, line in enumerate(l for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")):
    m = bytes.fromhex(line.strip())
    open(f"{sys.argv[2]}/len2-{i}", "wb").write(b"\x01\x07" + len(m).to_bytes(2, "big") + m)
PY
        ;;
    codec)
        python3 - "$data/sample.hex" "$seeds" <<'PY'
import sys
for i, line in enumerate(l for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")):
    m = bytes.fromhex(line.strip())
    frame = len(m).to_bytes(2, "big") + m
    # Framing::ALL[2] (len2), chunks of 7; 0x80 is len2 too, with resync (high bit set).
    open(f"{sys.argv[2]}/len2-{i}", "wb").write(b"\x02\x07" + frame + frame)
    open(f"{sys.argv[2]}/resync-{i}", "wb").write(b"\x80\x05" + frame + b"\x00\x13\x37" + frame)
PY
        ;;
    capture)
        # The bundled captures, the larger one cut to its first records: an input of 340 KB
        # takes the fuzzer's time a mutation without adding paths a few KB do not reach.
        cp "$data/sample.pcap" "$seeds/"
        python3 - "$data/acquiring.pcap" "$seeds/acquiring-head.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
end = 24
while end + 16 <= len(data) and end < 8192:
    end += 16 + struct.unpack_from("<I", data, end + 8)[0]
open(sys.argv[2], "wb").write(data[:end])
PY
        ;;
    spec) cp ../tests/data/specs/*.toml "$seeds/" 2>/dev/null || true
          printf 'name="x"\nmti="ascii"\nbitmap="hex"\n[fields.2]\ntype="n"\nlength=19\nvar="ll"\nencoding="ascii"\n' > "$seeds/min.toml" ;;
    profile) cp "$data/merchants.toml" "$seeds/" ;;
    jpos_xml) [ -d "$vectors" ] && cp "$vectors"/jpos/packager/*.xml "$seeds/" ;;
    tlv) printf '\x9f\x02\x06\x00\x00\x00\x01\x28\x00\x5f\x2a\x02\x01\x56\x70\x03\x9a\x01\x26' > "$seeds/icc" ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
esac

cd ..
cargo fuzz run --fuzz-dir fuzz --release "$target" "fuzz/corpus/$target" "fuzz/$seeds" -- \
    -max_total_time="$seconds" -dict=fuzz/iso8583.dict -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$@"
