#!/usr/bin/env python3
"""fpx against the z3 SMT solver on KQL's string operators, case-insensitive ones included.

Random exclusions over three fields (no table: untyped text) mix every string operator of
the exclusion language (==, !=, =~, !~, contains, startswith, endswith, has, hasprefix,
hassuffix, each with its _cs and negated forms, in, !in, in~, !in~, has_any, has_all,
matches regex) and the comparisons < <= > >= with `and`/`or`/`not`. Each is encoded in
z3's string, regex and integer theories from the semantics README states:
- case-insensitive operators fold ASCII case (the values here hold only the letters a and
  b, whose case no other character shares);
- a term is a maximal run of ASCII letters and digits; `has "v"` needs a term boundary on
  each side where `v` starts or ends with a letter or digit, `hasprefix` only before it,
  `hassuffix` only after it; an empty value makes them true;
- `< <= > >=` hold only for text that is a decimal number, compared exactly;
- `matches regex` searches the text, unanchored, case-sensitive (regexes drawn from a small
  grammar that means the same in Rust's regex crate and in z3: `[0-9]`, not `\d`, which
  is Unicode's digits in Rust).
The strings z3 may choose are not restricted, so fpx has to reason about every string.

fpx's verdict (always-true, never-true, contingent) must equal z3's (is the exclusion
satisfiable; is its negation), and each witness event fpx prints must make the exclusion
true (or false) under z3's reading.

Usage: string_ops.py FPX_BINARY SEED COUNT. Prints a summary; exits 1 on a disagreement.
Needs `pip install z3-solver`. Run by tests/smt_agreement.rs.
"""
import json, random, subprocess, sys
import z3

FPX = sys.argv[1]
random.seed(int(sys.argv[2]))
N = int(sys.argv[3])
F = ["FileName", "FolderPath", "ProcessCommandLine"]
VALS = ["a", "ab", "A", "b", "", "Ab", "a-b", "a b", "-", "1a", "b.", "aB1", "ba", "aab", " a", "B-", "5", "-0", "5.0", "10"]

S = z3.StringSort()
ANY = z3.AllChar(z3.ReSort(S))
ALL = z3.Star(ANY)


def ch(c):
    return z3.Re(z3.StringVal(c))


ALNUM = z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"))
NON_ALNUM = z3.Intersect(ANY, z3.Complement(ALNUM))


def ci(v):
    """The strings equal to `v` up to ASCII case."""
    if v == "":
        return z3.Re(z3.StringVal(""))
    parts = [z3.Union(ch(c.lower()), ch(c.upper())) if c.isalpha() else ch(c) for c in v]
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def cs(v):
    return z3.Re(z3.StringVal(v))


def word(c):
    return c.isascii() and c.isalnum()


def term(v, re_v, before, after):
    """`has`-like: `v` with a term boundary before (and/or after) it where it begins
    (ends) with a letter or digit."""
    left = z3.Union(z3.Re(z3.StringVal("")), z3.Concat(ALL, NON_ALNUM)) if before and v and word(v[0]) else ALL
    right = z3.Union(z3.Re(z3.StringVal("")), z3.Concat(NON_ALNUM, ALL)) if after and v and word(v[-1]) else ALL
    return z3.Concat(left, re_v, right)


def op_regex(op, v):
    """The language of the field's values for which `field op v` holds (op unnegated)."""
    fold = ci if not op.endswith("_cs") and op not in ("==", "in") else cs
    base = op.removesuffix("_cs")
    r = fold(v)
    if base in ("==", "=~"):
        return r
    if base == "contains":
        return z3.Concat(ALL, r, ALL)
    if base == "startswith":
        return z3.Concat(r, ALL)
    if base == "endswith":
        return z3.Concat(ALL, r)
    if base == "has":
        return term(v, r, True, True)
    if base == "hasprefix":
        return term(v, r, True, False)
    if base == "hassuffix":
        return term(v, r, False, True)
    raise ValueError(op)


# Regexes: (Rust text, z3 language of the whole match).
def regex(depth):
    r = random.random()
    if depth == 0 or r < 0.35:
        return random.choice([
            ("a", ch("a")), ("b", ch("b")), ("A", ch("A")), ("-", ch("-")),
            ("[ab]", z3.Union(ch("a"), ch("b"))),
            ("[^a]", z3.Intersect(ANY, z3.Complement(ch("a")))),
            (".", z3.Intersect(ANY, z3.Complement(ch("\n")))),
            ("[0-9]", z3.Range("0", "9")),
        ])
    if r < 0.6:
        parts = [regex(depth - 1) for _ in range(random.randint(2, 3))]
        return "".join(p[0] for p in parts), z3.Concat(*[p[1] for p in parts])
    if r < 0.75:
        a, b = regex(depth - 1), regex(depth - 1)
        return f"({a[0]}|{b[0]})", z3.Union(a[1], b[1])
    a = regex(depth - 1)
    q = random.choice(["*", "+", "?", "{2}", "{1,2}"])
    zq = {"*": z3.Star(a[1]), "+": z3.Plus(a[1]), "?": z3.Option(a[1]),
          "{2}": z3.Loop(a[1], 2, 2), "{1,2}": z3.Loop(a[1], 1, 2)}[q]
    return f"(?:{a[0]}){q}", zq


def search(text, lang):
    start = text.startswith("^")
    end = text.endswith("$")
    parts = ([] if start else [ALL]) + [lang] + ([] if end else [ALL])
    return z3.Concat(*parts) if len(parts) > 1 else parts[0]


STRING_OPS = ["==", "!=", "=~", "!~", "contains", "contains_cs", "startswith", "startswith_cs",
              "endswith", "endswith_cs", "has", "has_cs", "hasprefix", "hasprefix_cs",
              "hassuffix", "hassuffix_cs"]


DIGIT = z3.Range("0", "9")
NUMBER = z3.Concat(z3.Option(ch("-")), z3.Plus(DIGIT), z3.Option(z3.Concat(ch("."), z3.Plus(DIGIT))))


def compare(x, op, c):
    """`x op c` for a whole number c >= 0: true only of decimal text
    (`-?[0-9]+(\\.[0-9]+)?`), compared exactly (`-0` is 0, `5.0` is 5)."""
    neg = z3.PrefixOf(z3.StringVal("-"), x)
    body = z3.If(neg, z3.SubString(x, 1, z3.Length(x) - 1), x)
    dot = z3.IndexOf(body, z3.StringVal("."), 0)
    whole = z3.StrToInt(z3.If(dot < 0, body, z3.SubString(body, 0, dot)))
    fraction = z3.If(dot < 0, z3.StringVal(""), z3.SubString(body, dot + 1, z3.Length(body) - dot - 1))
    above = z3.InRe(fraction, z3.Concat(ALL, z3.Range("1", "9"), ALL))
    zero = z3.And(whole == 0, z3.Not(above))
    gt = z3.And(z3.Not(neg), z3.Or(whole > c, z3.And(whole == c, above)))
    eq = z3.And(whole == c, z3.Not(above), z3.Or(z3.Not(neg), c == 0))
    lt = z3.If(neg, z3.Or(c > 0, z3.Not(zero)), whole < c)
    r = {">": gt, ">=": z3.Or(gt, eq), "<": lt, "<=": z3.Or(lt, eq)}[op]
    return z3.And(z3.InRe(x, NUMBER), r)


def atom():
    f = random.choice(FIELDS)
    r = random.random()
    if r < 0.08:
        op = random.choice([">", ">=", "<", "<="])
        c = random.randint(0, 10)
        return f"{f} {op} {c}", (lambda e, f=f, op=op, c=c: compare(e[f], op, c))
    if r < 0.12:
        op = random.choice(["in", "!in", "in~", "!in~"])
        vs = random.sample(VALS, random.randint(1, 3))
        txt = f'{f} {op} ({", ".join(json.dumps(v) for v in vs)})'
        fold = ci if op.endswith("~") else cs
        lang = z3.Union(*[fold(v) for v in vs]) if len(vs) > 1 else fold(vs[0])
        return txt, (lambda e, f=f, lang=lang, neg=op.startswith("!"): z3.Not(z3.InRe(e[f], lang)) if neg else z3.InRe(e[f], lang))
    if r < 0.2:
        op = random.choice(["has_any", "has_all"])
        vs = random.sample([v for v in VALS if v], random.randint(1, 3))
        txt = f'{f} {op} ({", ".join(json.dumps(v) for v in vs)})'
        parts = [op_regex("has", v) for v in vs]
        join = z3.Or if op == "has_any" else z3.And
        return txt, (lambda e, f=f, parts=parts, join=join: join([z3.InRe(e[f], p) for p in parts]))
    if r < 0.32:
        rtext, lang = regex(2)
        # Anchored often: a regex that pins the whole text meets the other tests.
        if random.random() < 0.4:
            rtext, lang = "^" + rtext, lang
        if random.random() < 0.4:
            rtext = rtext + "$"
        full = search(rtext, lang)
        txt = f"{f} matches regex {json.dumps(rtext)}"
        return txt, (lambda e, f=f, full=full: z3.InRe(e[f], full))
    op = random.choice(STRING_OPS)
    neg = op.startswith("!") and op != "!=" and op != "!~"
    if random.random() < 0.3 and op not in ("==", "!=", "=~", "!~"):
        op, neg = "!" + op, True
    v = random.choice(VALS)
    txt = f"{f} {op} {json.dumps(v)}"
    if op in ("!=", "!~"):
        lang = op_regex("==" if op == "!=" else "=~", v)
        return txt, (lambda e, f=f, lang=lang: z3.Not(z3.InRe(e[f], lang)))
    lang = op_regex(op.lstrip("!"), v)
    return txt, (lambda e, f=f, lang=lang, neg=neg: z3.Not(z3.InRe(e[f], lang)) if neg else z3.InRe(e[f], lang))


def expr(depth):
    if depth == 0 or random.random() < 0.3:
        return atom()
    parts = [expr(depth - 1) for _ in range(random.randint(2, 4))]
    conn = random.choice(["and", "or"])
    txt = "(" + f" {conn} ".join(p[0] for p in parts) + ")"
    join = z3.And if conn == "and" else z3.Or
    ev = lambda e, parts=parts, join=join: join([p[1](e) for p in parts])
    if random.random() < 0.2:
        return "not" + txt, (lambda e, ev=ev: z3.Not(ev(e)))
    return txt, ev


def case():
    """An exclusion over one field (most of them, so that its tests meet) or all three."""
    global FIELDS
    FIELDS = [random.choice(F)] if random.random() < 0.7 else F
    return expr(2)


cases = [case() for _ in range(N)]
inp = "\n".join(c[0] for c in cases) + "\n"
run = subprocess.run([FPX, "lint", "-", "--format", "jsonl", "--fail-on", "never"],
                     input=inp, capture_output=True, text=True)
out = run.stdout.splitlines()
assert len(out) == N, (len(out), N, run.stderr[:2000])
E = {f: z3.String(f) for f in F}


def holds(ev, event):
    """z3's value of the exclusion on one event (absent fields are empty)."""
    s = z3.Solver()
    for f in F:
        s.add(E[f] == z3.StringVal(event.get(f, "")))
    s.add(ev(E))
    return s.check()


bad = unknown = 0
verdicts = {}
for (txt, ev), line in zip(cases, out):
    d = json.loads(line)
    s1 = z3.Solver(); s1.set("timeout", 20000); s1.add(ev(E)); sat_t = s1.check()
    s2 = z3.Solver(); s2.set("timeout", 20000); s2.add(z3.Not(ev(E))); sat_f = s2.check()
    if z3.unknown in (sat_t, sat_f):
        unknown += 1
        continue
    expect = {(True, True): "contingent", (True, False): "always-true", (False, True): "never-true"}[(sat_t == z3.sat, sat_f == z3.sat)]
    verdicts[expect] = verdicts.get(expect, 0) + 1
    if d["logic"] != expect:
        bad += 1
        print("MISMATCH", txt, "fpx:", d["logic"], "z3:", expect)
        continue
    for side, want in (("true", z3.sat), ("false", z3.unsat)):
        w = (d.get("witnesses") or {}).get(side)
        if w is None:
            continue
        got = holds(ev, w)
        if got != want and got != z3.unknown:
            bad += 1
            print("WITNESS", side, json.dumps(w), "for", txt)
print(f"{N} exclusions: {bad} disagreements, {unknown} z3 unknown; verdicts {verdicts}")
sys.exit(1 if bad else 0)
