"""Cross-check helper for tests/pyiso8583.rs (needs `pip install pyiso8583`).

gen SPEC LAYOUT N SEED   write N random messages encoded by pyiso8583's SPEC ("default" or
                         "default_ascii"), values drawn to fit LAYOUT (a JSON file of
                         [number, content, variable, max]), one JSON object a line:
                         {"hex": ..., "fields": {"t": "0200", "2": "...", ...}}
                         (binary values as hex, either case)
decode SPEC              read hex lines from stdin, decode each with pyiso8583, write one JSON
                         object of field values a line
"""
import json
import random
import string
import sys

import iso8583
from iso8583.specs import default, default_ascii

SPECS = {"default": default, "default_ascii": default_ascii}
TEXT = string.ascii_letters + string.digits + " .,-/*#"
MTIS = ["0100", "0110", "0200", "0210", "0220", "0230", "0400", "0410", "0420", "0800", "0810"]


def value(rng, content, variable, maximum, spec_field):
    length = rng.randint(0, maximum) if variable else maximum
    if content == "n":
        return "".join(rng.choice(string.digits) for _ in range(length))
    if content == "x+n":
        return rng.choice("CD") + "".join(rng.choice(string.digits) for _ in range(length - 1))
    if content == "z":
        digits = [rng.choice(string.digits) for _ in range(length)]
        if length > 2:
            digits[rng.randrange(1, length - 1)] = "="
        return "".join(digits)
    if content == "b":
        # pyiso8583 takes binary values as hex text: with data_enc "b" the length counts
        # bytes (two characters each), with "ascii" it counts characters.
        if spec_field["data_enc"] == "b":
            length *= 2
        length -= length % 2
        return "".join(rng.choice("0123456789ABCDEFabcdef") for _ in range(length))
    return "".join(rng.choice(TEXT) for _ in range(length))


def shown(v):
    return v


def gen(spec_name, layout_path, count, seed):
    spec = SPECS[spec_name]
    layout = json.load(open(layout_path))
    rng = random.Random(seed)
    out = sys.stdout
    for _ in range(count):
        doc = {"t": rng.choice(MTIS)}
        for number, content, variable, maximum in layout:
            if rng.random() < 0.3:
                doc[str(number)] = value(rng, content, variable, maximum, spec[str(number)])
        raw, _ = iso8583.encode(doc, spec)
        fields = {k: shown(v) for k, v in doc.items() if k not in ("p", "1")}
        out.write(json.dumps({"hex": bytes(raw).hex(), "fields": fields}) + "\n")


def decode(spec_name):
    spec = SPECS[spec_name]
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        doc, _ = iso8583.decode(bytes.fromhex(line), spec)
        fields = {k: shown(v) for k, v in doc.items() if k not in ("p", "1")}
        sys.stdout.write(json.dumps(fields) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1] == "decode":
        decode(sys.argv[2])
    else:
        sys.exit(__doc__)
