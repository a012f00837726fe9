#!/usr/bin/env python3
"""fpx against the z3 SMT solver on fields compared with each other.

Random exclusions over three string columns of DeviceLogonEvents mix column
comparisons (`A == B`, `A != B`, read as such with `--table`) with case-sensitive
string tests (==, !=, in, contains_cs, startswith_cs, endswith_cs, their negations),
`and`/`or`/`not`. fpx's verdict (always-true, never-true, contingent) must equal the one
z3's string theory gives (is the exclusion satisfiable; is its negation).

Usage: related_fields.py FPX_BINARY SEED COUNT. Prints a summary; exits 1 on a
disagreement. Needs `pip install z3-solver`. Run by tests/smt_agreement.rs.
"""
import random, json, subprocess, sys, z3
FPX = sys.argv[1]
random.seed(int(sys.argv[2]))
N = int(sys.argv[3])
F = ["AccountDomain", "DeviceName", "AccountName"]
VALS = ["a", "ab", "b", "", "ba", "aab"]
def atom():
    f = random.choice(F)
    r = random.random()
    if r < 0.35:
        g = random.choice([x for x in F if x != f])
        op = random.choice(["==", "!="])
        return f"{f} {op} {g}", (lambda e, f=f, g=g, op=op: (e[f] == e[g]) if op == "==" else (e[f] != e[g]))
    op = random.choice(["==", "!=", "contains_cs", "!contains_cs", "startswith_cs", "!startswith_cs", "endswith_cs", "!endswith_cs", "in", "!in"])
    if op in ("in", "!in"):
        vs = random.sample(VALS, random.randint(1, 3))
        txt = f'{f} {op} ({", ".join(json.dumps(v) for v in vs)})'
        def ev(e, f=f, vs=vs, op=op):
            r = z3.Or([e[f] == z3.StringVal(v) for v in vs])
            return r if op == "in" else z3.Not(r)
        return txt, ev
    v = random.choice(VALS)
    txt = f"{f} {op} {json.dumps(v)}"
    def ev(e, f=f, v=v, op=op):
        s = z3.StringVal(v)
        base = op.lstrip("!")
        r = {"==": e[f] == s, "!=": e[f] != s, "contains_cs": z3.Contains(e[f], s),
             "startswith_cs": z3.PrefixOf(s, e[f]), "endswith_cs": z3.SuffixOf(s, e[f])}[op if op in ("==", "!=") else base]
        return z3.Not(r) if op.startswith("!") and op != "!=" else r
    return txt, ev
def expr(depth):
    if depth == 0 or random.random() < 0.3:
        return atom()
    k = random.randint(2, 3)
    parts = [expr(depth - 1) for _ in range(k)]
    conn = random.choice(["and", "or"])
    txt = "(" + f" {conn} ".join(p[0] for p in parts) + ")"
    if conn == "and":
        ev = lambda e, parts=parts: z3.And([p[1](e) for p in parts])
    else:
        ev = lambda e, parts=parts: z3.Or([p[1](e) for p in parts])
    if random.random() < 0.2:
        return "not " + txt, (lambda e, ev=ev: z3.Not(ev(e)))
    return txt, ev
cases = [expr(2) for _ in range(N)]
inp = "\n".join(c[0] for c in cases) + "\n"
out = subprocess.run([FPX, "lint", "-", "--table", "DeviceLogonEvents", "--format", "jsonl", "--fail-on", "never"], input=inp, capture_output=True, text=True).stdout.splitlines()
assert len(out) == N, (len(out), N)
E = {f: z3.String(f) for f in F}
bad = unknown = 0
verdicts = {}
for (txt, ev), line in zip(cases, out):
    d = json.loads(line)
    s1 = z3.Solver(); s1.add(ev(E)); sat_t = s1.check()
    s2 = z3.Solver(); s2.add(z3.Not(ev(E))); sat_f = s2.check()
    if z3.unknown in (sat_t, sat_f):
        unknown += 1; continue
    expect = {(True, True): "contingent", (True, False): "always-true", (False, True): "never-true"}[(sat_t == z3.sat, sat_f == z3.sat)]
    verdicts[expect] = verdicts.get(expect, 0) + 1
    if d["logic"] != expect:
        bad += 1
        print("MISMATCH", txt, "fpx:", d["logic"], "z3:", expect)
print(f"{N} exclusions: {bad} disagreements, {unknown} z3 unknown; verdicts {verdicts}")
sys.exit(1 if bad else 0)
