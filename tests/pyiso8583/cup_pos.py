"""Decodes UnionPay POS terminal messages with pyiso8583 (for tests/pyiso8583.rs).

The spec below is written from the UnionPay terminal field tables (中国银联 POS 终端消息域说明,
and the public POSP and terminal code that follows them), independently of the crate's own
`cup-pos` spec: the TPDU and 6-byte header as 11 bytes, a BCD MTI, one binary bitmap, BCD
numerics whose length prefixes are BCD and count digits (`len_count "nibbles"`), ASCII text
whose prefixes count bytes, raw binary.

decode    read hex lines from stdin, write one JSON object of field values a line
          (BCD and binary values as upper-case hex digits, pads removed)
"""
import json
import sys

import iso8583


def bcd(max_len, len_type=0, align="right"):
    """A BCD numeric field; `align` says where the digits sit in an odd count."""
    f = {
        "data_enc": "b",
        "len_enc": "bcd",
        "len_type": len_type,
        "max_len": max_len,
        "len_count": "nibbles",
        "desc": "",
    }
    f["left_pad" if align == "right" else "right_pad"] = "0"
    return f


def text(max_len, len_type=0):
    return {
        "data_enc": "ascii",
        "len_enc": "bcd",
        "len_type": len_type,
        "max_len": max_len,
        "len_count": "bytes",
        "desc": "",
    }


def binary(max_len, len_type=0):
    return {
        "data_enc": "b",
        "len_enc": "bcd",
        "len_type": len_type,
        "max_len": max_len,
        "len_count": "bytes",
        "desc": "",
    }


SPEC = {
    "h": binary(11),
    "t": {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 2, "len_count": "bytes", "desc": ""},
    "p": binary(8),
    "2": bcd(19, 1, "left"),
    "3": bcd(6),
    "4": bcd(12),
    "11": bcd(6),
    "12": bcd(6),
    "13": bcd(4),
    "14": bcd(4),
    "15": bcd(4),
    "22": bcd(3, 0, "left"),
    "23": bcd(3),
    "25": bcd(2),
    "26": bcd(2),
    "32": bcd(11, 1, "left"),
    "35": bcd(37, 1, "left"),
    "36": bcd(104, 2, "left"),
    "37": text(12),
    "38": text(6),
    "39": text(2),
    "41": text(8),
    "42": text(15),
    "44": text(25, 1),
    "48": bcd(322, 2, "left"),
    "49": text(3),
    "52": binary(8),
    "53": bcd(16),
    "54": text(40, 2),
    "55": binary(255, 2),
    "59": text(999, 2),
    "60": bcd(17, 2, "left"),
    "61": bcd(29, 2, "left"),
    "62": text(512, 2),
    "63": text(163, 2),
    "64": binary(8),
}


def decode():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        doc, _ = iso8583.decode(bytes.fromhex(line), SPEC)
        fields = {k: v for k, v in doc.items() if k != "p"}
        sys.stdout.write(json.dumps(fields) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["decode"]:
        decode()
    else:
        sys.exit(__doc__)
