#!/usr/bin/env python3
"""A stand-in for `fwsim replay` that answers from the kernel golden.

Used to test compare.py without fwsim: it reads golden.jsonl beside the
capture and writes fwsim-style verdict records (SPEC.md "Verdict record")
that agree with the kernel, giving fragments their datagram's verdict as
fwsim does. FAKE_FWSIM_FLIP="set/name:index[,set/name:index]" flips the
verdict of those packets, to check that disagreements are reported.

usage: fake_fwsim.py replay CAPTURE --rules R --topology T [--set K=V]... --verdicts OUT [--quiet]
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    if not argv or argv[0] != "replay":
        print("fake_fwsim: only 'replay' is supported", file=sys.stderr)
        return 2
    capture = argv[1]
    out = argv[argv.index("--verdicts") + 1]
    d = os.path.dirname(os.path.abspath(capture))
    name = os.path.relpath(d, HERE)
    with open(os.path.join(d, "scenario.json")) as f:
        sc = json.load(f)
    with open(os.path.join(d, "golden.jsonl")) as f:
        golden = [json.loads(line) for line in f if line.strip()]
    flips = set()
    for item in filter(None, os.environ.get("FAKE_FWSIM_FLIP", "").split(",")):
        n, i = item.rsplit(":", 1)
        flips.add((n, int(i)))
    by_index = {g["index"]: g for g in golden}
    group_verdict = {}
    for grp in sc.get("datagrams", []):
        v = "accept" if any(by_index[i]["verdict"] == "accept" for i in grp if i in by_index) else "drop"
        for i in grp:
            group_verdict[i] = v
    with open(out, "w") as f:
        for g in golden:
            i = g["index"]
            inp = g.get("in", {})
            rec = {"index": i}
            if g["verdict"] == "skip":
                rec["verdict"] = "ignored"
            else:
                rec["verdict"] = group_verdict.get(i, g["verdict"])
                rec["hook"] = "input" if g.get("path") == "local" else "forward"
                for k in ("src", "sport", "dst", "dport"):
                    if k in inp:
                        rec[k] = inp[k]
                if g.get("ct"):
                    rec["ct"] = {"state": g["ct"], "dir": g.get("ct_dir", "original")}
                seen = g.get("out") if g.get("path") == "forward" else g.get("local")
                if g["verdict"] == "accept" and seen:
                    nat = {k: seen[k] for k in ("src", "sport", "dst", "dport") if k in seen and seen[k] != inp.get(k)}
                    if nat:
                        rec["nat"] = nat
            if (name, i) in flips:
                rec["verdict"] = "drop" if rec["verdict"] == "accept" else "accept"
            f.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
