#!/usr/bin/env python3
"""Records what the real Linux kernel does with each scenario's capture, with
../shared/oracle/kernel-replay (root, network namespaces), into
tests/scenarios/<name>/kernel.jsonl (+ kernel.conntrack.txt, the final
`conntrack -L`). run.py then checks fwsim's verdicts, NAT and ct state
against these goldens on every run (no root needed for that).

    sudo tests/scenarios/kernel_goldens.py [--oracle PATH] [names...]

Per-scenario oracle options live in scenario.json under "oracle":
  "sysctls": ["net.netfilter.nf_conntrack_udp_timeout=5", ...]
  "honour_gaps": true          (send packets at their capture times)
  "skip": "why"                (not replayable in the kernel, e.g. a global-only sysctl)
  "ignore": {"N": "why"}       (packets whose kernel result is not comparable)
Rules: the scenario's rules.nft or rules/home.nft; topology: the scenario's
topology.json or topologies/home.json (the built-in default as a file).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_ORACLE = os.path.abspath(os.path.join(REPO, "..", "shared", "oracle", "kernel-replay"))


def main(argv):
    oracle = DEFAULT_ORACLE
    if len(argv) > 1 and argv[1] == "--oracle":
        oracle = argv[2]
        argv = argv[2:]
    names = argv[1:] or sorted(
        d for d in os.listdir(HERE) if os.path.exists(os.path.join(HERE, d, "scenario.json")))
    rc = 0
    for name in names:
        sdir = os.path.join(HERE, name)
        with open(os.path.join(sdir, "scenario.json"), encoding="utf-8") as f:
            sc = json.load(f)
        o = sc.get("oracle", {})
        if "skip" in o:
            print("skip %s: %s" % (name, o["skip"]))
            continue
        rules = os.path.join(sdir, "rules.nft")
        if not os.path.exists(rules):
            rules = os.path.join(REPO, "rules", "home.nft")
        topo = os.path.join(sdir, "topology.json")
        if not os.path.exists(topo):
            topo = os.path.join(REPO, "topologies", "home.json")
        with tempfile.TemporaryDirectory(prefix="fwsim-kernel-") as tmp:
            out = os.path.join(tmp, "kernel.jsonl")
            cmd = [oracle, "--rules", rules, "--topology", topo,
                   "--pcap", os.path.join(sdir, "capture.pcap"), "--out", out, "-q"]
            if o.get("honour_gaps"):
                cmd.append("--honour-gaps")
            for s in o.get("sysctls", []):
                cmd += ["--sysctl", s]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                print("FAIL %s: kernel-replay exited %d: %s" % (name, p.returncode, p.stderr.strip()))
                rc = 1
                continue
            shutil.copyfile(out, os.path.join(sdir, "kernel.jsonl"))
            ct = out + ".conntrack.txt"
            if os.path.exists(ct):
                shutil.copyfile(ct, os.path.join(sdir, "kernel.conntrack.txt"))
        print("recorded %s" % name)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
