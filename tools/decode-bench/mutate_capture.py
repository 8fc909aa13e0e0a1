# mutate_capture.py OUT SEED COUNT [MIN_OFFSET]: writes an Ethernet pcap of
# COUNT frames taken from the repository's captures with random byte changes,
# bit flips and cuts (at or after MIN_OFFSET), some with a wire length above
# the captured one. For differential checks of decoder changes: run
# `fwsim-decode-bench --dump` of the old and the new build on it and cmp.
# Run from the repository root with /usr/bin/python3 (no scapy needed).
import struct, random, sys
random.seed(int(sys.argv[2]))
def frames(path):
    d = open(path, 'rb').read()
    magic = struct.unpack('<I', d[:4])[0]
    e = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    off = 24; out = []
    while off + 16 <= len(d):
        ts, tu, cl, wl = struct.unpack(e + 'IIII', d[off:off+16]); off += 16
        out.append(d[off:off+cl]); off += cl
    return out, struct.unpack(e + 'I', d[20:24])[0]
src = []
for p in ['captures/home-mixed.pcap', 'captures/fragments.pcap', 'captures/malformed.pcap', 'bench-out/cap-1000p-100c-s3-r20000.pcap']:
    f, lt = frames(p)
    if lt == 1: src += f
out = open(sys.argv[1], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
for i in range(int(sys.argv[3])):
    f = bytearray(random.choice(src))
    for _ in range(random.choice([0, 1, 1, 2, 3, 5])):
        if not f: break
        lo = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        if len(f) <= lo: break
        k = random.randrange(lo, len(f))
        r = random.random()
        if r < 0.5: f[k] = random.randrange(256)
        elif r < 0.7: f[k] ^= 1 << random.randrange(8)
        elif r < 0.8: f[14 + random.randrange(60) if len(f) > 80 else k] = random.choice([0, 0xff, 0x45, 0x46, 0x4f, 0x60, 6, 17, 1, 58, 0x2c, 0, 0x11])
        else: f = f[:k]
    wl = len(f) + (random.choice([0, 0, 0, 10, 1000]) )
    out.write(struct.pack('<IIII', 1000 + i, 0, len(f), wl)); out.write(f)
out.close()
