"""A whole process the way a pyiso8583 user reads a hex dump: one message a line.

usage: pyiso8583_cli.py FILE
Reads every line, decodes it with `iso8583.decode(bytes.fromhex(line), default_ascii)`, counts
messages and errors by MTI, and prints the counts: the work of `inspect --input hex --summary`.
"""

import sys
from collections import Counter

import iso8583
from iso8583.specs import default_ascii


def main() -> None:
    by_mti = Counter()
    errors = 0
    with open(sys.argv[1], "rb") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(b"#"):
                continue
            try:
                decoded, _ = iso8583.decode(bytes.fromhex(line.decode()), default_ascii)
                by_mti[decoded["t"]] += 1
            except (ValueError, iso8583.DecodeError):
                errors += 1
    print(sum(by_mti.values()) + errors, errors, dict(by_mti))


if __name__ == "__main__":
    main()
