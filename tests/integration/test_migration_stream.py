"""The golden savevm stream, decoded independently of the C code: the
JSON description after EOF must parse, list every field, and describe
the device sections byte for byte (a reader that only knows the JSON and
the framing walks the whole stream and lands on every footer), the way
tools written for QEMU's streams read them."""
import json
import os
import struct
import unittest

SRC = os.environ.get("MINIPC_SRC", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
GOLDEN = os.path.join(SRC, "tests", "unit", "data", "savevm-golden.hex")


class Reader:
    def __init__(self, data):
        self.d = data
        self.p = 0

    def take(self, n):
        if self.p + n > len(self.d):
            raise ValueError("stream ends at %d, wanted %d more" % (self.p, n))
        v = self.d[self.p:self.p + n]
        self.p += n
        return v

    def u8(self):
        return self.take(1)[0]

    def be32(self):
        return struct.unpack(">I", self.take(4))[0]

    def be64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def name(self):
        return self.take(self.u8()).decode()


def walk_fields(r, desc, out):
    """Consumes one described struct; returns {field: raw bytes/list}."""
    for f in desc["fields"]:
        count = f.get("array_len", 1)
        for _ in range(count):
            if f["type"] == "struct":
                sub = {}
                start = r.p
                walk_fields(r, f["struct"], sub)
                if r.p - start != f["size"]:
                    raise ValueError("struct %s: %d bytes, JSON says %d"
                                     % (f["name"], r.p - start, f["size"]))
                val = sub
            else:
                val = r.take(f["size"])
            out.setdefault(f["name"], []).append(val)
    for sub in desc.get("subsections", []):
        if r.u8() != 0x05:
            raise ValueError("subsection %s missing" % sub["vmsd_name"])
        if r.name() != sub["vmsd_name"]:
            raise ValueError("subsection name mismatch")
        r.be32()
        walk_fields(r, sub, out.setdefault(sub["vmsd_name"], {}))


class GoldenStreamTest(unittest.TestCase):
    def setUp(self):
        with open(GOLDEN) as f:
            self.data = bytes.fromhex("".join(f.read().split()))

    def test_decode_with_json_description(self):
        d = self.data
        r = Reader(d)
        self.assertEqual(r.take(4), b"QEVM")
        self.assertEqual(r.be32(), 3)
        self.assertEqual(r.u8(), 0x07)
        self.assertEqual(r.take(r.be32()), b"minipc-test")
        # The description is after EOF: 0x00, 0x06, be32 length, JSON.
        jpos = d.rindex(b'{"page_size"')
        self.assertEqual(d[jpos - 6], 0x00)
        self.assertEqual(d[jpos - 5], 0x06)
        self.assertEqual(struct.unpack(">I", d[jpos - 4:jpos])[0], len(d) - jpos)
        desc = json.loads(d[jpos:].decode())
        self.assertEqual(desc["page_size"], 4096)
        devices = {(x["name"], x["instance_id"]): x for x in desc["devices"]}
        self.assertEqual(sorted(devices), [("test-counter", 0), ("test-counter", 1),
                                           ("test-early", 0), ("test-nested", 0),
                                           ("test-scalars", 0)])
        names = [f["name"] for f in devices[("test-scalars", 0)]["fields"]]
        self.assertEqual(names, ["b", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64",
                                 "d", "eq8", "eq32", "eqi32", "eqb", "le", "buf", "unused",
                                 "arr16", "grid", "nbits", "bits"])

        sections = {}
        decoded = {}
        ram_pages = 0
        while True:
            t = r.u8()
            if t == 0x00:
                break
            sid = r.be32()
            if t in (0x01, 0x04):
                key = (r.name(), r.be32())
                r.be32()
                sections[sid] = key
            key = sections[sid]
            if key[0] == "ram":
                while True:
                    v = r.be64()
                    flags, addr = v & 0xfff, v & ~0xfff
                    if flags & 0x04:
                        total = addr
                        while total:
                            r.name()
                            total -= r.be64()
                    elif flags & 0x0a:
                        if not flags & 0x20:
                            self.assertEqual(r.name(), "test.ram")
                        r.take(1 if flags & 0x02 else 4096)
                        ram_pages += 1
                    if flags & 0x10:
                        break
            else:
                out = {}
                walk_fields(r, devices[key], out)
                decoded[key] = out
            self.assertEqual(r.u8(), 0x7e, "footer of %s" % (key,))
            self.assertEqual(r.be32(), sid)
        self.assertEqual(r.p, jpos - 5)
        self.assertEqual(ram_pages, 16)
        sc = decoded[("test-scalars", 0)]
        self.assertEqual(struct.unpack(">I", sc["u32"][0])[0], 0xdeadbeef)
        self.assertEqual(struct.unpack(">d", sc["d"][0])[0], 3.5)
        self.assertEqual(sc["buf"][0], b"hello")
        self.assertEqual([struct.unpack(">H", x)[0] for x in sc["arr16"]],
                         [0x100, 0x101, 0x102, 0x103])
        nd = decoded[("test-nested", 0)]
        self.assertEqual(struct.unpack(">i", nd["origin"][0]["y"][0])[0], -1)
        self.assertEqual(nd["blob"][0], b"BLOB")
        self.assertEqual(struct.unpack(">I", nd["test-nested/extra"]["extra"][0])[0],
                         0xe0e0e0e0)
        self.assertEqual(nd["slots"][1], b"0")


if __name__ == "__main__":
    unittest.main()
