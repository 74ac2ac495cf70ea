"""Times pyiso8583's decode of one message: median of ROUNDS batches, ns per decode.

usage: pyiso8583_decode.py SPEC HEX [ROUNDS]
Prints the decoded fields as JSON on the first line (for the caller to check against its own
decoding) and the median nanoseconds per decode on the second.
"""

import json
import sys
import time

import iso8583
from iso8583.specs import default, default_ascii

SPECS = {"default": default, "default_ascii": default_ascii}


def main() -> None:
    spec = SPECS[sys.argv[1]]
    data = bytes.fromhex(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    decoded, _ = iso8583.decode(data, spec)
    print(json.dumps({k: v for k, v in decoded.items() if k not in ("p", "s", "b", "h")}))
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            iso8583.decode(data, spec)
        if time.perf_counter() - t >= 0.005:
            break
        n *= 2
    per = (time.perf_counter() - t) / n
    batch = max(1, int(0.02 / per))
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(batch):
            iso8583.decode(data, spec)
        samples.append((time.perf_counter() - t) * 1e9 / batch)
    samples.sort()
    print(samples[len(samples) // 2])


if __name__ == "__main__":
    main()
