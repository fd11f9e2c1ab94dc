#!/bin/bash
# tests/fuzz/make-corpus-fuzz_vring.sh OUTDIR [VHD]: seed inputs of
# fuzz_vring (layout in tests/fuzz/fuzz_vring.c): well-formed rings with a
# plain chain, an indirect table, chains crossing the two regions, event idx,
# a wrapped base index. Generated, never checked in.
set -euo pipefail
out=${1:?usage: make-corpus-fuzz_vring.sh OUTDIR}
mkdir -p "$out"
python3 - "$out" <<'PY'
import hashlib, os, struct, sys
out = sys.argv[1]
G0, DESC, AVAIL, USED = 0x1000, 0x1000, 0x5800, 0x6800

def seed(log2n, feat, base, chains, extra=()):
    n = 1 << log2n
    mem = bytearray(0x10000)
    def put(gpa, fmt, *v):
        struct.pack_into('<' + fmt, mem, gpa - G0, *v)
    for gpa, fmt, v in extra:
        put(gpa, fmt, *v)
    heads = []
    for descs in chains:          # descs: list of (table_gpa, idx, addr, len, flags, next)
        for t, i, addr, ln, fl, nx in descs:
            put(t + 16 * i, 'QIHH', addr, ln, fl, nx)
        heads.append(descs[0][1])
    for k, h in enumerate(heads):
        put(AVAIL + 4 + 2 * ((base + k) % n), 'H', h)
    put(AVAIL + 2, 'H', (base + len(heads)) & 0xffff)
    put(AVAIL + 4 + 2 * n, 'H', base)          # used_event
    data = bytes([log2n, feat]) + struct.pack('<H', base) + bytes(mem)
    data = data.rstrip(b'\0') or data[:4]
    open(os.path.join(out, hashlib.sha256(data).hexdigest()[:16]), 'wb').write(data)

blk = [(DESC, 0, 0xA000, 16, 1, 1), (DESC, 1, 0xA100, 4096, 3, 2), (DESC, 2, 0xB200, 1, 2, 0)]
seed(3, 0, 0, [blk])
seed(7, 2, 65534, [blk, [(DESC, 5, 0xA000, 16, 0, 0)]])
ind = [(0xC000, 0, 0xA000, 16, 1, 1), (0xC000, 1, 0x8F00, 0x200, 3, 2), (0xC000, 2, 0xB000, 1, 2, 0)]
seed(4, 1, 0, [[(DESC, 3, 0xC000, 48, 4, 0)] + ind])
seed(10, 3, 100, [blk, [(DESC, 9, 0xC000, 48, 4, 0)] + ind])
# hostile shapes, for a start: a loop, a writable header, a big length
seed(3, 0, 0, [[(DESC, 0, 0xA000, 16, 1, 1), (DESC, 1, 0xA000, 16, 1, 0)]])
seed(3, 1, 0, [[(DESC, 0, 0xC000, 0x10, 4, 0), (0xC000, 0, 0xC000, 16, 4, 0)]])
seed(3, 0, 0, [[(DESC, 0, 0xA000, 0xffffffff, 2, 0)]])
PY
echo "$(ls "$out" | wc -l) seeds in $out"
