#!/usr/bin/env python3
"""Compare fwsim with the Linux kernel on the kernel-differential corpus.

    compare.py FWSIM [--only NAME[,NAME]] [--set scenarios|random|all] [-v]
    compare.py --live N [--seed S] [--oracle PATH]

First form: for every scenario under tests/kernel/{scenarios,random}, run
`FWSIM replay capture.pcap --rules rules.nft --topology topology.json
[--set KEY=VALUE]... --verdicts OUT --quiet` and compare each verdict record
with the kernel's golden.jsonl (made by tools/kernel_corpus/regen-goldens):

  verdict   kernel accept <-> fwsim accept; drop <-> drop or reject;
            skip <-> ignored. Fragments of one datagram (scenario.json
            "datagrams") all expect the verdict of the datagram: the
            kernel reports the fragments it holds as dropped and the
            completing one as accepted.
  nat       accepted forwarded packets: the kernel's `out` addresses/ports
            vs fwsim's input fields with its `nat` rewrites applied; for
            locally delivered ones the kernel's `local` (after DNAT/redirect).
  ct        the kernel's ct state at prerouting vs fwsim's ct.state, only
            where the golden has one.
  hook      accepted packets: kernel path forward/local vs fwsim hook
            forward/input (reported, counted separately).

Disagreements listed in known-differences.json (scenario, index, field,
reason, doc = a section of docs/kernel-differences.md) are reported as
documented; any other disagreement makes the exit status 1.

Second form (--live): rerun the oracle on N scenarios sampled with a fixed
seed and compare the live kernel with the goldens. A different kernel
release is reported, not failed. Prints SKIPPED and exits 0 when not root or
when `ip netns` is unavailable.

Standard library only; runs under any python3 >= 3.8.
"""

import argparse
import importlib.machinery
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DOC = os.path.join(REPO, "docs", "kernel-differences.md")
KNOWN = os.path.join(HERE, "known-differences.json")
SETS = ("scenarios", "random")
FIELDS = ("verdict", "nat", "ct", "hook")
ADDR_KEYS = ("src", "sport", "dst", "dport")


# ------------------------------------------------------------ loading


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def scenario_dirs(which, only=None):
    sets = SETS if which == "all" else (which,)
    out = []
    for s in sets:
        root = os.path.join(HERE, s)
        if not os.path.isdir(root):
            continue
        for n in sorted(os.listdir(root)):
            d = os.path.join(root, n)
            if os.path.isfile(os.path.join(d, "scenario.json")):
                if only and n not in only and "%s/%s" % (s, n) not in only:
                    continue
                out.append(d)
    return out


def sc_name(d):
    return os.path.relpath(d, HERE)


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def doc_sections():
    if not os.path.isfile(DOC):
        return set()
    with open(DOC) as f:
        return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", f.read(), re.M)}


def load_known():
    """-> (dict (scenario, index, field) -> entry, list of problems)."""
    if not os.path.isfile(KNOWN):
        return {}, []
    with open(KNOWN) as f:
        data = json.load(f)
    sections = doc_sections()
    known, problems = {}, []
    for e in data.get("differences", []):
        sc = e.get("scenario", "")
        if "/" not in sc:
            sc = "scenarios/" + sc
        doc = e.get("doc", "").lstrip("#")
        if doc not in sections:
            problems.append("known-differences.json: %s #%s %s refers to missing section '%s' of %s"
                            % (sc, e.get("index"), e.get("field"), doc, os.path.relpath(DOC, REPO)))
        idx = e.get("index", "*")
        idxs = idx if isinstance(idx, list) else [idx]
        fields = e.get("field", "*")
        fields = fields if isinstance(fields, list) else [fields]
        for i in idxs:
            for fl in fields:
                known[(sc, i, fl)] = e
    return known, problems


def is_known(known, sc, index, field):
    for i in (index, "*"):
        for fl in (field, "*"):
            if (sc, i, fl) in known:
                return known[(sc, i, fl)]
    return None


# --------------------------------------------------------- expectations


def expected(golden, sc):
    """Per packet index: dict field -> expected value (kernel side)."""
    compare = set(sc.get("compare", ["verdict", "nat", "ct"])) | {"hook"}
    nondet = {(e["index"], e["field"]) for e in sc.get("nondeterministic", [])}
    group_of = {}
    for g in sc.get("datagrams", []):
        for i in g:
            group_of[i] = g
    by_index = {r["index"]: r for r in golden}
    exp = {}
    for r in golden:
        i = r["index"]
        e = {}
        v = r["verdict"]
        if i in group_of:
            members = [by_index[m] for m in group_of[i] if m in by_index]
            v = "accept" if any(m["verdict"] == "accept" for m in members) else "drop"
        if "verdict" in compare and (i, "verdict") not in nondet:
            e["verdict"] = v
        if v == "accept" and r["verdict"] == "accept" and "hook" in compare:
            e["hook"] = {"forward": "forward", "local": "input"}.get(r.get("path"))
        if "nat" in compare and (i, "nat") not in nondet and r["verdict"] == "accept":
            seen = r.get("out") if r.get("path") == "forward" else r.get("local")
            if seen:
                e["nat"] = {k: seen[k] for k in ADDR_KEYS if k in seen and k in r["in"]}
        if "ct" in compare and (i, "ct") not in nondet and r.get("ct"):
            e["ct"] = r["ct"]
        exp[i] = e
    return exp


def fwsim_view(rec):
    """The fields of a fwsim verdict record in the kernel's terms."""
    v = {"accept": "accept", "drop": "drop", "reject": "drop", "ignored": "skip"}.get(
        rec.get("verdict"), rec.get("verdict"))
    addrs = {k: rec[k] for k in ADDR_KEYS if k in rec}
    addrs.update({k: val for k, val in (rec.get("nat") or {}).items() if k in ADDR_KEYS})
    ct = rec.get("ct") or {}
    state = ct.get("state")
    if state is None:  # no entry: fwsim may say why in `reason` only
        state = "invalid" if rec.get("reason") == "invalid" else "-"
    return {"verdict": v, "nat": addrs, "ct": state, "hook": rec.get("hook")}


def describe(rec):
    if rec is None:
        return "no record"
    parts = ["verdict=%s" % rec.get("verdict")]
    if rec.get("reason"):
        parts.append("reason=%s" % rec["reason"])
    r = rec.get("rule")
    if r:
        parts.append("rule=%s:%s %s/%s" % (r.get("file"), r.get("line"), r.get("table"), r.get("chain")))
    ct = rec.get("ct")
    if ct:
        parts.append("ct=%s/%s/%s" % (ct.get("state"), ct.get("dir"), ct.get("tcp_state", "-")))
    if rec.get("nat"):
        parts.append("nat=%s" % json.dumps(rec["nat"], sort_keys=True))
    return " ".join(parts)


# ------------------------------------------------------------- fwsim run


def run_fwsim(fwsim, d, sc, out):
    cmd = [fwsim, "replay", os.path.join(d, "capture.pcap"),
           "--rules", os.path.join(d, "rules.nft"),
           "--topology", os.path.join(d, "topology.json")]
    for kv in sc.get("sysctls", []):
        cmd += ["--set", kv]
    cmd += ["--verdicts", out, "--quiet"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if p.returncode != 0:
        return None, "exit %d: %s" % (p.returncode, p.stderr.strip()[:500])
    try:
        return load_jsonl(out), None
    except (OSError, ValueError) as e:
        return None, "unreadable verdicts: %s" % e


class Tally:
    def __init__(self):
        self.n = {f: 0 for f in FIELDS}
        self.ok = {f: 0 for f in FIELDS}

    def add(self, other):
        for f in FIELDS:
            self.n[f] += other.n[f]
            self.ok[f] += other.ok[f]


def compare_scenario(d, recs, known, verbose, err=None):
    """-> (Tally, [undocumented disagreement lines], [documented], set of used known keys)"""
    name = sc_name(d)
    with open(os.path.join(d, "scenario.json")) as f:
        sc = json.load(f)
    golden = load_jsonl(os.path.join(d, "golden.jsonl"))
    exp = expected(golden, sc)
    t = Tally()
    bad, doc, used = [], [], set()
    fw = {}
    if recs is not None:
        for r in recs:
            fw.setdefault(r.get("index"), r)
    if recs is None:  # fwsim failed: one line, every expected field counts as a disagreement
        for i in exp:
            for field, want in exp[i].items():
                if field == "hook" and want is None:
                    continue
                t.n[field] += 1
        k = is_known(known, name, "*", "*")
        line = "%s: fwsim failed: %s" % (name, err)
        if k:
            used.add(id(k))
            doc.append(line + " [documented: %s]" % k.get("doc"))
        else:
            bad.append(line)
        return t, bad, doc, used
    for i in sorted(exp):
        rec = fw.get(i)
        view = fwsim_view(rec) if rec else None
        for field, want in exp[i].items():
            if field == "hook" and want is None:
                continue
            t.n[field] += 1
            if view is None:
                got = "(%s)" % (err or "missing record")
                same = False
            elif field == "nat":
                got = {k: view["nat"].get(k) for k in want}
                same = got == want
            else:
                got = view[field]
                same = got == want
            if same:
                t.ok[field] += 1
                continue
            k = is_known(known, name, i, field)
            line = "%s #%d %s: kernel=%s fwsim=%s | kernel verdict=%s ct=%s | fwsim %s" % (
                name, i, field, json.dumps(want, sort_keys=True), json.dumps(got, sort_keys=True),
                golden[i - 1]["verdict"] if i - 1 < len(golden) else "?",
                golden[i - 1].get("ct", "-") if i - 1 < len(golden) else "?", describe(rec))
            if k:
                used.add(id(k))
                pinned = k.get("fwsim", {})
                if field in pinned and pinned[field] != got:
                    # A documented difference pins fwsim's side: a change there is news.
                    bad.append(line + " [documented as fwsim=%s: fwsim's side changed]"
                               % json.dumps(pinned[field], sort_keys=True))
                else:
                    doc.append(line + " [documented: %s]" % k.get("doc"))
            else:
                bad.append(line)
    return t, bad, doc, used


def pct(a, b):
    return "%.2f%%" % (100.0 * a / b) if b else "n/a"


def main_compare(a):
    if not (os.path.isfile(a.fwsim) and os.access(a.fwsim, os.X_OK)):
        print("compare.py: fwsim binary not found or not executable: %s" % a.fwsim, file=sys.stderr)
        return 2
    only = set(a.only.split(",")) if a.only else None
    dirs = [d for d in scenario_dirs(a.set, only) if os.path.isfile(os.path.join(d, "golden.jsonl"))]
    if not dirs:
        print("compare.py: no scenarios with goldens found", file=sys.stderr)
        return 2
    known, problems = load_known()
    total = Tally()
    all_bad, all_doc, used = [], [], set()
    rows = []
    tmp = tempfile.mkdtemp(prefix="fwsim-kcmp-")
    try:
        for d in dirs:
            with open(os.path.join(d, "scenario.json")) as f:
                sc = json.load(f)
            out = os.path.join(tmp, sc_name(d).replace("/", "__") + ".jsonl")
            recs, err = run_fwsim(a.fwsim, d, sc, out)
            t, bad, doc, u = compare_scenario(d, recs, known, a.verbose, err)
            total.add(t)
            all_bad += bad
            all_doc += doc
            used |= u
            rows.append((sc_name(d), t, len(bad), len(doc)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for line in all_bad:
        print("DIFF " + line)
    for line in all_doc:
        print("KNOWN " + line)
    ran = {sc_name(d) for d in dirs}
    for e in {id(e): e for e in known.values()}.values():
        if e["scenario"] in ran and id(e) not in used and not a.allow_stale:
            problems.append("known-differences.json: %s #%s no longer differs: remove the entry"
                            % (e["scenario"], e["index"]))
    for p in problems:
        print("PROBLEM " + p)
    print()
    print("%-48s %9s %9s %9s %9s %s" % ("scenario", "verdict", "nat", "ct", "hook", "status"))
    for name, t, nb, nd in rows:
        # hand-written scenarios always; random ones when they disagree (or -v)
        if nb == 0 and nd == 0 and not a.verbose and not name.startswith("scenarios/"):
            continue
        print("%-48s %9s %9s %9s %9s %s" % (
            name, "%d/%d" % (t.ok["verdict"], t.n["verdict"]), "%d/%d" % (t.ok["nat"], t.n["nat"]),
            "%d/%d" % (t.ok["ct"], t.n["ct"]), "%d/%d" % (t.ok["hook"], t.n["hook"]),
            "FAIL" if nb else ("documented" if nd else "ok")))
    n_ok = sum(1 for _, _, nb, nd in rows if nb == 0 and nd == 0)
    print("(%d of %d scenarios agree fully%s)" % (n_ok, len(rows), "" if a.verbose else
                                                   "; random ones that agree are listed with -v"))
    print("kernel agreement: %d/%d packets agree on verdict (%s), %d/%d on NAT, %d/%d on ct state"
          % (total.ok["verdict"], total.n["verdict"], pct(total.ok["verdict"], total.n["verdict"]),
             total.ok["nat"], total.n["nat"], total.ok["ct"], total.n["ct"]))
    print("hook agreement: %d/%d accepted packets" % (total.ok["hook"], total.n["hook"]))
    print("disagreements: %d undocumented, %d documented" % (len(all_bad), len(all_doc)))
    return 1 if (all_bad or problems) else 0


# ------------------------------------------------------------------ live


def can_run_oracle():
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not root (the oracle needs network namespaces)"
    if shutil.which("ip") is None or shutil.which("nft") is None:
        return "ip or nft not installed"
    try:
        p = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        return "ip netns unavailable: %s" % e
    if p.returncode != 0:
        return "ip netns unavailable"
    return None


def load_regen():
    path = os.path.join(REPO, "tools", "kernel_corpus", "regen-goldens")
    loader = importlib.machinery.SourceFileLoader("regen_goldens", path)
    spec = importlib.util.spec_from_loader("regen_goldens", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def live_diff(golden, live, sc):
    nondet = {(e["index"], e["field"]) for e in sc.get("nondeterministic", [])}
    out = []
    for g, l in zip(golden, live):
        i = g["index"]
        for k in ("verdict", "path", "ct"):
            if g.get(k) != l.get(k):
                out.append((i, k, g.get(k), l.get(k)))
        if (i, "nat") not in nondet:
            for key in ("out", "local"):
                ga = {x: (g.get(key) or {}).get(x) for x in ADDR_KEYS}
                la = {x: (l.get(key) or {}).get(x) for x in ADDR_KEYS}
                if ga != la:
                    out.append((i, key, ga, la))
    if len(golden) != len(live):
        out.append((0, "count", len(golden), len(live)))
    return out


def main_live(a):
    why = can_run_oracle()
    oracle = a.oracle or os.path.join(REPO, "..", "shared", "oracle", "kernel-replay")
    if why is None and not os.path.isfile(oracle):
        why = "oracle not found at %s" % oracle
    if why:
        print("SKIPPED: kernel.live needs the oracle: %s" % why)
        return 0
    regen = load_regen()
    dirs = [d for d in scenario_dirs("all") if os.path.isfile(os.path.join(d, "golden.jsonl"))]
    rng = random.Random(a.seed)
    sample = sorted(rng.sample(dirs, min(a.live, len(dirs))))
    failing, release_note = 0, None
    for d in sample:
        with open(os.path.join(d, "scenario.json")) as f:
            sc = json.load(f)
        with open(os.path.join(d, "golden.meta.json")) as f:
            gmeta = json.load(f)
        try:
            live, meta = regen.run_one(oracle, d)
        except Exception as e:  # report and go on
            print("%s: oracle failed: %s" % (sc_name(d), e))
            failing += 1
            continue
        diffs = live_diff(load_jsonl(os.path.join(d, "golden.jsonl")), live, sc)
        same_release = gmeta.get("kernel") == meta.get("kernel")
        if not same_release:
            release_note = "golden kernel %s, live kernel %s" % (gmeta.get("kernel"), meta.get("kernel"))
        for i, k, g, l in diffs:
            print("%s #%d %s: golden=%s live=%s" % (sc_name(d), i, k, json.dumps(g, sort_keys=True),
                                                   json.dumps(l, sort_keys=True)))
        print("%s: %d packets, %d differences%s" % (sc_name(d), len(live), len(diffs),
                                                     "" if same_release else " (different kernel release)"))
        if diffs and same_release:
            failing += 1
    if release_note:
        print("NOTE: kernel release differs (%s): differences are reported, not failed" % release_note)
    print("kernel live: %d scenario(s) sampled (seed %d), %d failing" % (len(sample), a.seed, failing))
    return 1 if failing else 0


def main(argv):
    ap = argparse.ArgumentParser(description="Compare fwsim with the kernel goldens (or the live kernel "
                                             "with the goldens).")
    ap.add_argument("fwsim", nargs="?", help="path of the fwsim binary")
    ap.add_argument("--only", help="comma-separated scenario names (NAME or set/NAME)")
    ap.add_argument("--set", default="all", choices=["scenarios", "random", "all"])
    ap.add_argument("-v", "--verbose", action="store_true", help="list every scenario in the table")
    ap.add_argument("--allow-stale", action="store_true",
                    help="do not fail on documented differences that no longer differ (the self-test's fake fwsim)")
    ap.add_argument("--live", type=int, metavar="N", help="rerun the oracle on N sampled scenarios")
    ap.add_argument("--seed", type=int, default=1, help="sampling seed for --live (default 1)")
    ap.add_argument("--oracle", help="kernel-replay path (default ../shared/oracle/kernel-replay)")
    a = ap.parse_args(argv)
    if a.live is not None:
        return main_live(a)
    if not a.fwsim:
        ap.error("give the fwsim binary, or --live N")
    return main_compare(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
