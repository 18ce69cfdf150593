#!/usr/bin/env python3
"""Writes the seed corpora for fuzz_yamux and fuzz_ws (run from anywhere).

Each seed is 4 bytes of harness options and chunking seed, then a byte
stream: valid yamux frames of every type and flag for the server session,
and masked / unmasked WebSocket frames of every opcode for the decoder."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def yh(typ, flags, sid, length, payload=b""):
    return struct.pack(">BBHII", 0, typ, flags, sid, length) + payload


def data(sid, payload, flags=0):
    return yh(0, flags, sid, len(payload), payload)


SYN, ACK, FIN, RST = 1, 2, 4, 8
yamux = {
    "cycled_full_window": bytes([0xd0, 3, 3, 3]) + data(1, b"", SYN) + yh(0, 0, 1, 256 * 1024, b"payload!"),
    "open_data_fin": bytes([0, 1, 2, 3]) + data(1, b"hello", SYN) + data(1, b" world") + data(1, b"", FIN),
    "window_ping_goaway": bytes([0x10, 9, 9, 9]) + yh(1, SYN, 1, 4096) + yh(2, SYN, 0, 7) + yh(2, ACK, 0, 1)
    + yh(3, 0, 0, 0),
    "many_streams": bytes([0x02, 5, 5, 5]) + b"".join(data(i, bytes([i]) * 100, SYN) for i in range(1, 20, 2)),
    "rst_and_unknown": bytes([0x28, 1, 1, 1]) + data(1, b"x", SYN) + yh(1, RST, 1, 0) + data(3, b"y" * 50)
    + yh(1, 0, 5, 100),
    "big_window": bytes([0x21, 7, 0, 1]) + data(1, b"A" * 3000, SYN) + yh(1, 0, 1, 1 << 20) + data(1, b"B" * 3000),
    "bad_version": bytes([0, 0, 0, 1]) + b"\x01" + yh(2, SYN, 0, 1)[1:],
}
for name, blob in yamux.items():
    with open(os.path.join(here, "yamux", name), "wb") as f:
        f.write(blob)


def wsf(op, payload, fin=True, mask=b"\x01\x02\x03\x04"):
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    m = 0x80 if mask else 0
    if n <= 125:
        head = bytes([b0, m | n])
    elif n <= 0xFFFF:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        head += mask
    return head + payload


ws = {
    "server_mixed": bytes([0, 3, 1, 4]) + wsf(2, b"yamux bytes") + wsf(9, b"ping") + wsf(2, b"frag", fin=False)
    + wsf(10, b"") + wsf(0, b"ment") + wsf(8, b"\x03\xe8bye"),
    "server_16bit": bytes([4, 1, 2, 3]) + wsf(2, bytes(range(256)) * 2),
    "client_unmasked": bytes([1, 2, 2, 2]) + wsf(2, b"from server", mask=b"") + wsf(8, b"\x11\x99", mask=b""),
    "server_text": bytes([0, 5, 5, 5]) + wsf(1, b"text is refused"),
    "server_too_big": bytes([2, 6, 6, 6]) + wsf(2, b"z" * 1500),
}
for name, blob in ws.items():
    with open(os.path.join(here, "ws", name), "wb") as f:
        f.write(blob)
