"""Decodes TLV strings with pyemv (for tests/emv.rs; needs `pip install pyemv==1.5.0`).

Reads hex lines from stdin; writes one JSON object a line: {"ok": {...}} with the nested
decoding (values in upper-case hex), or {"error": offset} where pyemv stops.
"""
import json
import sys

from pyemv import tlv

for line in sys.stdin:
    line = line.strip()
    try:
        decoded = tlv.decode(bytes.fromhex(line), convert=lambda t, v: v.hex().upper())
        sys.stdout.write(json.dumps({"ok": decoded}) + "\n")
    except tlv.DecodeError as e:
        sys.stdout.write(json.dumps({"error": e.offset}) + "\n")
