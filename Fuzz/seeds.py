"""Writes a few well-formed frames as the fuzzer's seed corpus (no protobuf library needed)."""
import struct, sys, os

def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])

def field(num, wire, payload):
    key = varint((num << 3) | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload

def frame(body):
    return struct.pack(">I", len(body)) + body

call = field(1, 2, b"/forge.testing.v1.Echo/Echo") + field(3, 0, varint(100)) + field(4, 2, field(2, 2, "你好".encode()))
seeds = {
    "call": frame(field(1, 0, varint(1)) + field(2, 2, call)),
    "unknown": frame(field(1, 0, varint(2)) + field(2, 2, field(1, 2, b"/x.Y/Z"))),
    "ping": frame(field(5, 2, field(1, 0, varint(7)))),
    "cancel": frame(field(1, 0, varint(1)) + field(4, 2, b"")),
    "two": frame(field(1, 0, varint(1)) + field(2, 2, call)) * 2,
}
os.makedirs(sys.argv[1], exist_ok=True)
for name, data in seeds.items():
    open(os.path.join(sys.argv[1], "seed-" + name), "wb").write(data)
