#!/usr/bin/env python3
"""Scenario runner: replays each tests/scenarios/<name>/capture.pcap through
fwsim and checks the expectations of its scenario.json.

    run.py FWSIM_BINARY [names...]

Each scenario is one "test". Expectations (all optional):
  verdicts: [{"index": N, "dotted.path": value, ...}]   record with that index
  flows:    [{"id": N | "match": {"dotted.path": v}, "dotted.path": value}]
  summary:  {"dotted.path": value}
  stats:    [{"ts": T, "dotted.path": value}]            record at capture time T
  absent:   ["verdicts[N].path", "flows[N].path", "summary.path"]
A value {"not": X} means "anything but X" (and present); {"in": [X, Y]}
means one of those.
Always checked: one verdict record per capture record, indexes 1..N in
order, and packets == accepted + dropped + rejected + ignored == N.

When the scenario has kernel.jsonl (recorded by kernel_goldens.py with the
real kernel), every packet's verdict, path, NAT result and ct state are also
checked against it (checks kernel[N].*).

Known failures (fwsim disagrees with the kernel; the expectation stays the
kernel's) are listed in known-failures.txt, one per line:
    <scenario> <check> <reason...>
where <check> is the id printed for the failure (e.g. verdicts[5].nat.sport).
A listed check that fails is reported as a known failure, not a pass; a listed
check that passes is an error (remove the line). Exit 1 on any unexpected
failure. Python 3 standard library only.
"""

import ipaddress
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
_MISSING = object()


def count_records(path):
    """Records in a classic pcap (either byte order, us or ns)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError("%s: not a classic pcap file" % path)
    off, n = 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        off += 16 + incl
        n += 1
    return n


def get_path(obj, path):
    for part in path.split("."):
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            return _MISSING
    return obj


def matches(actual, expected):
    if isinstance(expected, dict) and set(expected) == {"not"}:
        return actual is not _MISSING and actual != expected["not"]
    if isinstance(expected, dict) and set(expected) == {"in"}:
        return actual is not _MISSING and any(matches(actual, e) for e in expected["in"])
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return abs(actual - expected) < 1e-9
    return actual == expected


def show(v):
    return "(absent)" if v is _MISSING else json.dumps(v)


def read_jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
    return out


def load_known_failures():
    known = {}
    path = os.path.join(HERE, "known-failures.txt")
    if not os.path.exists(path):
        return known
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            if len(parts) < 3:
                raise SystemExit("known-failures.txt: need '<scenario> <check> <reason>': %s" % line)
            known[(parts[0], parts[1])] = parts[2]
    return known


class Checker:
    def __init__(self):
        self.failures = []  # (check id, message)
        self.passed = set()  # check ids that held

    def check(self, cid, actual, expected):
        if matches(actual, expected):
            self.passed.add(cid)
        else:
            self.failures.append((cid, "expected %s, got %s" % (show(expected), show(actual))))

    def fail(self, cid, msg):
        self.failures.append((cid, msg))


def kernel_checks(c, sdir, oracle, by_index):
    """fwsim against the kernel's golden (kernel.jsonl, from kernel_goldens.py):
    verdict, path (forward/local), the packet as it left or was delivered
    (addresses/ports after NAT) and conntrack's state at prerouting."""
    path = os.path.join(sdir, "kernel.jsonl")
    if not os.path.exists(path):
        return
    ignore = oracle.get("ignore", {})
    verdict_only = oracle.get("verdict_only", {})
    for k in read_jsonl(path):
        i = k["index"]
        if str(i) in ignore or k["verdict"] == "skip":
            continue
        rec = by_index.get(i)
        if rec is None:
            continue
        fv = rec.get("verdict")
        c.check("kernel[%d].verdict" % i, "drop" if fv == "reject" else fv, k["verdict"])
        if str(i) in verdict_only or k["verdict"] != "accept":
            continue
        hook = {"forward": "forward", "local": "input"}.get(k.get("path"))
        if hook:
            c.check("kernel[%d].path" % i, rec.get("hook"), hook)
        seen = k.get("out") or k.get("local")
        if seen:
            nat = rec.get("nat", {})
            fields = ("src", "dst") if rec.get("proto") in ("icmp", "icmpv6") else ("src", "dst", "sport", "dport")
            for fld in fields:
                if fld in seen:
                    c.check("kernel[%d].%s" % (i, fld), nat.get(fld, rec.get(fld)), seen[fld])
        if "ct" in k:
            c.check("kernel[%d].ct" % i, get_path(rec, "ct.state"), k["ct"])


def parse_conntrack(text):
    """conntrack -L / /proc/net/nf_conntrack lines -> {(l3, proto, orig tuple): (state, flags)}."""
    out = {}
    for line in text.splitlines():
        w = line.split()
        if not w or w[0].startswith("#") or w[0] not in ("ipv4", "ipv6"):
            continue
        l3, proto = w[0], w[2]
        state = w[5] if proto == "tcp" else ""
        kv = [x.split("=", 1) for x in w if "=" in x]
        orig = []
        for k, v in kv:
            if k == "src" and orig:
                break
            if k in ("src", "dst"):
                v = str(ipaddress.ip_address(v))
            if k in ("src", "dst", "sport", "dport", "type", "code", "id"):
                orig.append((k, v))
        flags = tuple(sorted(x for x in w if x in ("[ASSURED]", "[UNREPLIED]")))
        out[(l3, proto, tuple(orig))] = (state, flags)
    return out


def kernel_ct_checks(c, sdir, fw_state):
    """The kernel's table at the end (kernel.conntrack.txt) against fwsim's
    --dump-state end: TCP state, ASSURED and UNREPLIED of every entry both
    still hold (the kernel ran without capture-time gaps unless the scenario
    asked for them, so entries that timed out in capture time may be missing
    on one side)."""
    path = os.path.join(sdir, "kernel.conntrack.txt")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        kernel = parse_conntrack(f.read())
    for key, (kstate, kflags) in sorted(kernel.items()):
        if key not in fw_state:
            continue
        label = "kernel_ct[%s %s %s]" % (key[0], key[1], " ".join("%s=%s" % kv for kv in key[2]))
        fstate, fflags = fw_state[key]
        c.check(label + ".state", fstate, kstate)
        c.check(label + ".flags", " ".join(fflags), " ".join(kflags))


def run_scenario(fwsim, name):
    sdir = os.path.join(HERE, name)
    with open(os.path.join(sdir, "scenario.json"), encoding="utf-8") as f:
        sc = json.load(f)
    exp = sc.get("expect", {})
    c = Checker()
    capture = os.path.join(sdir, "capture.pcap")
    with tempfile.TemporaryDirectory(prefix="fwsim-scen-") as tmp:
        outs = {k: os.path.join(tmp, k + ".jsonl") for k in ("verdicts", "flows", "stats")}
        outs["summary"] = os.path.join(tmp, "summary.json")
        cmd = [fwsim, "replay", capture]
        for opt, fname in (("--rules", "rules.nft"), ("--topology", "topology.json")):
            if os.path.exists(os.path.join(sdir, fname)):
                cmd += [opt, os.path.join(sdir, fname)]
        cmd += sc.get("args", [])
        for k in ("verdicts", "flows", "stats", "summary"):
            cmd += ["--" + k, outs[k]]
        cmd += ["--dump-state", "end", "--dump-state-out", os.path.join(tmp, "state.txt")]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=sdir)
        if proc.returncode != 0:
            c.fail("exit", "fwsim exited %d: %s" % (proc.returncode, proc.stderr.strip()))
            return c
        verdicts = read_jsonl(outs["verdicts"])
        flows = read_jsonl(outs["flows"])
        stats = read_jsonl(outs["stats"])
        with open(outs["summary"], encoding="utf-8") as f:
            summary = json.load(f)
        with open(os.path.join(tmp, "state.txt"), encoding="utf-8") as f:
            fw_state = parse_conntrack(f.read())

    # Invariants: one record per packet, in order; the counts add up.
    n = count_records(capture)
    idx = [v.get("index") for v in verdicts]
    if idx != list(range(1, n + 1)):
        c.fail("one_verdict_per_packet", "capture has %d records, verdict indexes are %s" % (n, idx))
    total = sum(summary.get(k, 0) for k in ("accepted", "dropped", "rejected", "ignored"))
    if summary.get("packets") != n or total != n:
        c.fail("counts_add_up", "packets=%s accepted+dropped+rejected+ignored=%d capture=%d"
               % (summary.get("packets"), total, n))

    by_index = {v.get("index"): v for v in verdicts}
    for e in exp.get("verdicts", []):
        i = e["index"]
        rec = by_index.get(i)
        for path, want in e.items():
            if path == "index":
                continue
            cid = "verdicts[%d].%s" % (i, path)
            c.check(cid, _MISSING if rec is None else get_path(rec, path), want)

    def find_flow(e):
        if "id" in e:
            return "flows[%d]" % e["id"], next((f for f in flows if f.get("id") == e["id"]), None)
        m = e["match"]
        label = "flows[" + ",".join("%s=%s" % (k, v) for k, v in sorted(m.items())) + "]"
        hits = [f for f in flows if all(matches(get_path(f, k), v) for k, v in m.items())]
        return label, (hits[0] if len(hits) == 1 else None)

    for e in exp.get("flows", []):
        label, rec = find_flow(e)
        for path, want in e.items():
            if path in ("id", "match"):
                continue
            c.check("%s.%s" % (label, path), _MISSING if rec is None else get_path(rec, path), want)

    for path, want in exp.get("summary", {}).items():
        c.check("summary.%s" % path, get_path(summary, path), want)

    for e in exp.get("stats", []):
        rec = next((s for s in stats if abs(s.get("ts", -1) - e["ts"]) < 1e-9), None)
        for path, want in e.items():
            if path == "ts":
                continue
            c.check("stats[%s].%s" % (e["ts"], path), _MISSING if rec is None else get_path(rec, path), want)

    kernel_checks(c, sdir, sc.get("oracle", {}), by_index)
    kernel_ct_checks(c, sdir, fw_state)

    for a in exp.get("absent", []):
        head, _, path = a.partition(".")
        cid = "absent:" + a
        if head == "summary":
            val = get_path(summary, path)
        elif head.startswith("verdicts["):
            rec = by_index.get(int(head[9:-1]))
            if rec is None:
                c.fail(cid, "no verdict record %s" % head)
                continue
            val = get_path(rec, path)
        elif head.startswith("flows["):
            rec = next((f for f in flows if f.get("id") == int(head[6:-1])), None)
            if rec is None:
                c.fail(cid, "no flow record %s" % head)
                continue
            val = get_path(rec, path)
        else:
            c.fail(cid, "bad absent path")
            continue
        if val is _MISSING:
            c.passed.add(cid)
        else:
            c.fail(cid, "expected absent, got %s" % show(val))
    return c


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    fwsim = os.path.abspath(argv[1])
    names = argv[2:] or sorted(
        d for d in os.listdir(HERE) if os.path.exists(os.path.join(HERE, d, "scenario.json")))
    known = load_known_failures()
    passed = failed = kfail = 0
    for name in names:
        c = run_scenario(fwsim, name)
        unexpected, expected_fail = [], []
        for cid, msg in c.failures:
            (expected_fail if (name, cid) in known else unexpected).append((cid, msg))
        for (kname, kcid), reason in sorted(known.items()):
            if kname == name and kcid in c.passed:
                unexpected.append((kcid, "listed in known-failures.txt but passes now (remove the line)"))
        for cid, msg in expected_fail:
            print("KNOWN FAILURE %s: %s: %s [%s]" % (name, cid, msg, known[(name, cid)]))
        for cid, msg in unexpected:
            print("FAIL %s: %s: %s" % (name, cid, msg))
        if unexpected:
            failed += 1
        elif expected_fail:
            kfail += 1
        else:
            passed += 1
            nk = sum(1 for x in c.passed if x.startswith("kernel"))
            print("ok   %s (%d checks, %d of them against the kernel)" % (name, len(c.passed), nk))
    print("%d passed, %d failed, %d known failures" % (passed, failed, kfail))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
