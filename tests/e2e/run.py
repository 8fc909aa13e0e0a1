#!/usr/bin/env python3
"""End-to-end checks of the fwsim binary as a user runs it (stdlib only).

    tests/e2e/run.py BUILD/fwsim

- every capture under captures/: exactly one verdict record per capture record
  (counted independently of fwsim, from the file's own record headers), index
  = Wireshark's frame number, summary counts add up, and two runs give
  byte-identical outputs;
- a truncated capture: exit code 2, a message naming the file and the record,
  outputs kept only as *.partial;
- bad invocations and bad inputs: exit code 2 with a specific message;
- `config --defaults` prints a topology file that replay accepts;
- `--dump-state` writes /proc/net/nf_conntrack-style lines;
- a capture on standard input or through a pipe gives the file's outputs;
  devices, directories and a terminal are refused.
"""
import json
import os
import stat
import struct
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURES = os.path.join(ROOT, "captures")
FWSIM = None
results = []  # (name, ok, detail)


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))
    if not ok:
        print("FAIL %s: %s" % (name, detail))


def run(*args, cwd=ROOT):
    p = subprocess.run([FWSIM, *args], cwd=cwd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def count_records(path):
    """Packet records in a pcap or pcapng file, from its own headers."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:4] == b"\x0a\x0d\x0d\x0a":
        off, n, e = 0, 0, "<"
        while off + 12 <= len(buf):
            if buf[off:off + 4] == b"\x0a\x0d\x0d\x0a":
                e = "<" if buf[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            btype, blen = struct.unpack(e + "II", buf[off:off + 8])
            if blen < 12 or off + blen > len(buf):
                break
            if btype in (2, 3, 6):
                n += 1
            off += blen
        return n
    magic = struct.unpack("<I", buf[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, n = 24, 0
    while off + 16 <= len(buf):
        incl = struct.unpack(e + "I", buf[off + 8:off + 12])[0]
        if off + 16 + incl > len(buf):
            break
        n += 1
        off += 16 + incl
    return n


def replay_outputs(capture, tmp, tag, *extra):
    outs = {k: os.path.join(tmp, "%s.%s" % (tag, k)) for k in ("verdicts", "flows", "stats", "summary")}
    rc, out, err = run("replay", capture, "--verdicts", outs["verdicts"], "--flows", outs["flows"],
                       "--stats", outs["stats"], "--summary", outs["summary"], "--quiet", *extra)
    return rc, err, outs


def test_captures(tmp):
    for name in sorted(os.listdir(CAPTURES)):
        if not name.endswith((".pcap", ".pcapng")) or name.startswith("truncated"):
            continue
        cap = os.path.join(CAPTURES, name)
        rc, err, outs = replay_outputs(cap, tmp, name + ".a")
        check("%s: exit 0" % name, rc == 0, err.strip())
        if rc != 0:
            continue
        with open(outs["verdicts"]) as f:
            recs = [json.loads(l) for l in f]
        expected = count_records(cap)
        check("%s: one verdict per record" % name, len(recs) == expected, "%d records, %d verdicts" % (expected, len(recs)))
        check("%s: index is the frame number" % name, [r["index"] for r in recs] == list(range(1, len(recs) + 1)))
        check("%s: every record has a verdict" % name,
              all(r.get("verdict") in ("accept", "drop", "reject", "ignored") for r in recs))
        with open(outs["summary"]) as f:
            s = json.load(f)
        check("%s: counts add up" % name,
              s["packets"] == s["accepted"] + s["dropped"] + s["rejected"] + s["ignored"] == len(recs), str(s))
        by = {v: sum(1 for r in recs if r["verdict"] == v) for v in ("accept", "drop", "reject", "ignored")}
        check("%s: summary matches the records" % name,
              (by["accept"], by["drop"], by["reject"], by["ignored"]) ==
              (s["accepted"], s["dropped"], s["rejected"], s["ignored"]), "%s vs %s" % (by, s))
        check("%s: summary is complete" % name, s.get("complete") is True)
        rc2, _, outs2 = replay_outputs(cap, tmp, name + ".b")
        for k in outs:
            with open(outs[k], "rb") as a, open(outs2[k], "rb") as b:
                check("%s: %s byte-identical on a second run" % (name, k), a.read() == b.read())
        rc3, _, outs3 = replay_outputs(cap, tmp, name + ".c", "--threads", "2")
        for k in outs:
            with open(outs[k], "rb") as a, open(outs3[k], "rb") as b:
                check("%s: %s byte-identical with --threads 2" % (name, k), a.read() == b.read())


def test_truncated(tmp):
    cap = os.path.join(CAPTURES, "truncated.pcap")
    v = os.path.join(tmp, "trunc.jsonl")
    rc, out, err = run("replay", cap, "--verdicts", v)
    check("truncated: exit 2", rc == 2, "exit %d" % rc)
    check("truncated: message names file and record", "truncated.pcap" in err and "record 6" in err, err)
    check("truncated: no output under its final name", not os.path.exists(v))
    check("truncated: what was read is kept as .partial", os.path.exists(v + ".partial"))
    if os.path.exists(v + ".partial"):
        with open(v + ".partial") as f:
            n = sum(1 for _ in f)
        check("truncated: the 5 whole records were replayed", n == 5, "%d records" % n)
    # With --threads 2 the records pass through the reader and writer threads: the same .partial.
    v2 = os.path.join(tmp, "trunc2.jsonl")
    rc, out, err = run("replay", cap, "--verdicts", v2, "--threads", "2")
    same = False
    if os.path.exists(v + ".partial") and os.path.exists(v2 + ".partial"):
        with open(v + ".partial") as a, open(v2 + ".partial") as b:
            same = a.read() == b.read()
    check("truncated: --threads 2 keeps the same .partial, exit 2", rc == 2 and same and not os.path.exists(v2), err)


def write(tmp, name, text):
    p = os.path.join(tmp, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def test_errors(tmp):
    cap = os.path.join(CAPTURES, "home-mixed.pcap")
    cases = [
        ("unknown option", ["replay", cap, "--verdict", "x"], "--verdict"),
        ("no command", [], ""),
        ("missing capture", ["replay", os.path.join(tmp, "nope.pcap")], "nope.pcap"),
        ("not a capture", ["replay", os.path.join(ROOT, "README.md")], "README.md"),
        ("bad --set key", ["replay", cap, "--set", "timeout.tcp.establshed=5"], "unknown configuration key"),
        ("bad --set value", ["replay", cap, "--set", "tcp.loose=maybe"], "bad value"),
        ("bad filter term", ["replay", cap, "--verdicts", "-", "--verdicts-filter", "dropped"], "unknown term"),
        ("explain past the end", ["explain", cap, "--packet", "1000"], "there is no packet 1000"),
    ]
    for name, args, want in cases:
        rc, out, err = run(*args)
        check("error %s: exit 2" % name, rc == 2, "exit %d, stderr %r" % (rc, err))
        check("error %s: message" % name, want in err and ("error" in err.lower()), err)

    bad = write(tmp, "bad.nft", "table inet f {\n\tchain c {\n\t\ttype filter hook forward priority 0;\n\t\tjump web\n\t}\n}\n")
    rc, out, err = run("replay", cap, "--rules", bad)
    check("bad ruleset: exit 2", rc == 2, "exit %d" % rc)
    check("bad ruleset: file:line:col", "bad.nft:4:" in err, err)
    check("bad ruleset: source line and caret", "jump web" in err and "^" in err, err)

    topo = write(tmp, "bad-topo.json", '{"interfaces": {"lan0": {"addrs": ["10.0.0.1/33"]}}}')
    rc, out, err = run("replay", cap, "--topology", topo)
    check("bad topology: exit 2 and field", rc == 2 and "bad-topo.json" in err and "10.0.0.1/33" in err, err)
    topo = write(tmp, "typo-topo.json", '{"interfaces": {"lan0": {"addrs": ["10.0.0.1/24"], "subnet": []}}}')
    rc, out, err = run("replay", cap, "--topology", topo)
    check("misspelt topology field: exit 2", rc == 2 and "subnet" in err, err)


def test_defaults(tmp):
    rc, out, err = run("config", "--defaults")
    check("config --defaults: exit 0", rc == 0, err)
    try:
        topo = json.loads(out)
    except ValueError as e:
        check("config --defaults: JSON", False, str(e))
        return
    check("config --defaults: has lan0 and wan0", set(topo.get("interfaces", {})) >= {"lan0", "wan0"}, out[:200])
    sysctls = topo.get("sysctls", {})
    check("config --defaults: spells out conntrack defaults",
          sysctls.get("net.netfilter.nf_conntrack_tcp_timeout_established") in (432000, "432000"), str(sysctls)[:300])
    p = write(tmp, "defaults.json", out)
    cap = os.path.join(CAPTURES, "home-mixed.pcap")
    a = os.path.join(tmp, "def-a.jsonl")
    b = os.path.join(tmp, "def-b.jsonl")
    rc1, _, e1 = run("replay", cap, "--topology", p, "--verdicts", a, "--quiet")
    rc2, _, e2 = run("replay", cap, "--verdicts", b, "--quiet")
    check("config --defaults: usable as --topology", rc1 == 0, e1)
    if rc1 == 0 and rc2 == 0:
        with open(a, "rb") as x, open(b, "rb") as y:
            check("config --defaults: same verdicts as the built-in default", x.read() == y.read())
    rc, out, err = run("config", "--keys")
    check("config --keys lists the keys", rc == 0 and "timeout.tcp.established" in out and "nf_conntrack_max" in out, out[:300])


def test_human_and_dump(tmp):
    cap = os.path.join(CAPTURES, "home-mixed.pcap")
    rc, out, err = run("replay", cap)
    check("human summary: printed", rc == 0 and "packets" in out and "accepted" in out and "table peak" in out, out)
    check("human summary: no progress when stderr is not a terminal", err == "", err)
    rc, out, err = run("replay", cap, "--dump-state", "end")
    lines = [l for l in out.splitlines() if l.strip()]
    check("dump-state: lines in /proc/net/nf_conntrack form",
          rc == 0 and lines and all(l.split()[0] in ("ipv4", "ipv6") for l in lines) and
          any(" tcp " in l and "src=" in l and "dport=" in l for l in lines), out[:400])
    rc, out, err = run("replay", cap, "--dump-state", "1699999999")
    check("dump-state before the first packet: empty table", rc == 0 and out.strip() == "", out[:200])
    rc, out, err = run("replay", cap, "--verdicts", "-", "--verdicts-filter", "ignored")
    recs = [json.loads(l) for l in out.splitlines()]
    check("verdicts-filter keeps only matching records",
          rc == 0 and recs and all(r["verdict"] == "ignored" for r in recs), out[:200])


def test_unsupported_linktype(tmp):
    # An IEEE 802.11 capture (LINKTYPE 105): no IP decoding for it.
    path = os.path.join(tmp, "wifi.pcap")
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105))
        for i in range(3):
            frame = bytes(24 + i)
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(frame), len(frame)) + frame)
    v = os.path.join(tmp, "wifi.jsonl")
    s = os.path.join(tmp, "wifi.json")
    rc, out, err = run("replay", path, "--verdicts", v, "--summary", s)
    check("unsupported link type: exit 0", rc == 0, err)
    if rc != 0:
        return
    with open(v) as f:
        recs = [json.loads(l) for l in f]
    check("unsupported link type: every packet ignored with the reason",
          len(recs) == 3 and all(r["verdict"] == "ignored" and r["reason"] == "unsupported_linktype" for r in recs),
          str(recs))
    with open(s) as f:
        summ = json.load(f)
    check("unsupported link type: the summary says so",
          summ["ignored"] == 3 and summ["reasons"].get("unsupported_linktype") == 3 and
          summ["capture"]["linktype"] == 105 and summ["capture"]["linktype_supported"] is False, str(summ)[:300])
    rc, out, err = run("replay", path)
    check("unsupported link type: the human summary says so", "link type 105 is not supported" in out, out)


def test_special_outputs(tmp):
    # An output path that is a FIFO or a device is written in place: renaming
    # a temporary file over it would replace the pipe or device (a first
    # version turned /dev/null into a regular file).
    cap = os.path.join(ROOT, "captures", "home-mixed.pcap")
    fifo = os.path.join(tmp, "verdicts.fifo")
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()), daemon=True)
    reader.start()
    rc, out, err = run("replay", cap, "--verdicts", fifo, "--quiet")
    reader.join(timeout=60)
    lines = got[0].splitlines() if got else []
    check("output to a FIFO: records arrive through it, it stays a FIFO",
          rc == 0 and len(lines) == count_records(cap) and stat.S_ISFIFO(os.stat(fifo).st_mode) and
          not os.path.exists(fifo + ".fwsim-tmp"), err)
    # /dev/stdout is the pipe subprocess reads: a device path, written directly.
    rc, out, err = run("replay", cap, "--flows", "/dev/stdout", "--quiet")
    check("output to /dev/stdout: written directly",
          rc == 0 and out.count("\n") > 0 and all(json.loads(l).get("id") for l in out.splitlines()), err + out[:200])
    rc, out, err = run("replay", cap, "--verdicts", tmp, "--quiet")
    check("output to a directory: exit 2, says so", rc == 2 and "is a directory" in err, err)


def test_capture_from_a_pipe(tmp):
    # Standard input and pipes are copied to an unnamed temporary file first
    # (src/cli/capture_source.hpp): the outputs are those of the file itself,
    # but for the name the summary gives; the digest is of the same bytes.
    for name in ("home-mixed.pcap", "home-mixed-ns.pcapng"):
        cap = os.path.join(CAPTURES, name)
        if not os.path.exists(cap):
            check("capture from a pipe: %s exists" % name, False, cap)
            continue
        rc, err, direct = replay_outputs(cap, tmp, "direct-" + name)
        outs = {k: os.path.join(tmp, "piped-%s.%s" % (name, k)) for k in ("verdicts", "flows", "stats", "summary")}
        with open(cap, "rb") as f:
            data = f.read()
        p = subprocess.run([FWSIM, "replay", "-", "--verdicts", outs["verdicts"], "--flows", outs["flows"],
                            "--stats", outs["stats"], "--summary", outs["summary"], "--quiet"],
                           input=data, capture_output=True, cwd=ROOT)
        same = rc == 0 and p.returncode == 0 and all(
            open(direct[k], "rb").read() == open(outs[k], "rb").read() for k in ("verdicts", "flows", "stats"))
        check("capture on standard input (%s): verdicts, flows and stats as from the file" % name, same,
              p.stderr.decode()[-300:])
        if same:
            a, b = json.load(open(direct["summary"])), json.load(open(outs["summary"]))
            check("capture on standard input (%s): the summary names it '-', same SHA-256" % name,
                  b["capture"]["file"] == "-" and a["capture"]["sha256"] == b["capture"]["sha256"] and
                  {k: v for k, v in a.items() if k != "capture"} == {k: v for k, v in b.items() if k != "capture"},
                  str(b.get("capture")))
    # A named pipe (what `<(zcat x.pcap.gz)` gives): read once, then replayed.
    cap = os.path.join(CAPTURES, "home-mixed.pcap")
    fifo = os.path.join(tmp, "capture.fifo")
    os.mkfifo(fifo)

    def feed_fifo():
        with open(fifo, "wb") as w, open(cap, "rb") as r:
            w.write(r.read())
    writer = threading.Thread(target=feed_fifo, daemon=True)
    writer.start()
    rc, out, err = run("replay", fifo, "--verdicts", os.path.join(tmp, "fifo.verdicts"), "--quiet")
    writer.join(timeout=60)
    check("capture from a named pipe: replayed whole",
          rc == 0 and open(os.path.join(tmp, "fifo.verdicts")).read().count("\n") == count_records(cap), err)
    # What cannot be a capture: said at once, exit 2, nothing waits.
    rc, out, err = run("replay", "/dev/zero")
    check("capture that is a device: exit 2, says so", rc == 2 and "is a device" in err, err)
    rc, out, err = run("replay", tmp)
    check("capture that is a directory: exit 2, says so", rc == 2 and "is a directory" in err, err)
    import pty
    master, slave = pty.openpty()
    try:
        p = subprocess.run([FWSIM, "replay", "-"], stdin=slave, capture_output=True, text=True, timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    check("standard input that is a terminal: exit 2, says how to pipe a capture in",
          p.returncode == 2 and "standard input is a terminal" in p.stderr, p.stderr)
    with open(cap, "rb") as f:
        cut = f.read()[:3000]
    p = subprocess.run([FWSIM, "replay", "-", "--quiet"], input=cut, capture_output=True, cwd=ROOT)
    check("truncated capture on standard input: exit 2, the message names '-'",
          p.returncode == 2 and p.stderr.decode().startswith("fwsim: error: -: truncated record"), p.stderr.decode())


def main():
    global FWSIM
    if len(sys.argv) != 2:
        print("usage: run.py FWSIM_BINARY", file=sys.stderr)
        return 2
    FWSIM = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        test_captures(tmp)
        test_truncated(tmp)
        test_errors(tmp)
        test_defaults(tmp)
        test_human_and_dump(tmp)
        test_unsupported_linktype(tmp)
        test_special_outputs(tmp)
        test_capture_from_a_pipe(tmp)
    failed = sum(1 for _, ok, _ in results if not ok)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
