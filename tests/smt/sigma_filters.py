#!/usr/bin/env python3
"""fpx's judgement of Sigma filters against the z3 SMT solver.

Random Sigma rules (windows process_creation: `selection and not filter`) whose selection
and filter test CommandLine, Image and ParentImage with Sigma's value forms: plain values
with the wildcards `*` and `?`, the modifiers contains, startswith, endswith, cased, all
(on lists) and re, lists (any of them), several fields (all of them). Each is encoded in
z3's string and regex theory as the Sigma specification reads it: matching is
case-insensitive unless `cased` (the values hold only the letters a and b, whose case no
other character shares), `*` is any text and `?` any one character, `re` searches the
text case-sensitively (a small regex grammar that means the same in Rust and z3). An
event may lack a field, and then no test of it holds (not even `re: 'a?'`).

`fpx check` must report, on the filter, FPX104 mutes-rule (or FPX101 always-true) exactly
when z3 proves that every event of the selection is suppressed (selection and not filter
is unsatisfiable), and FPX105 never-applies (or FPX102 never-true) exactly when no event of
the selection is (selection and filter is unsatisfiable); on the rule, FPX108 dead-rule
for the whole detection (not for one branch of it) exactly when no event alerts (selection and not filter is unsatisfiable). The filter is
not judged where the selection is unsatisfiable, or z3 cannot decide.

Usage: sigma_filters.py FPX_BINARY SEED COUNT. Prints a summary; exits 1 on a
disagreement. Needs `pip install z3-solver`. Run by tests/smt_agreement.rs.
"""
import json, os, random, subprocess, sys, tempfile
import z3

FPX = sys.argv[1]
random.seed(int(sys.argv[2]))
N = int(sys.argv[3])
F = ["CommandLine", "Image", "ParentImage"]
VALS = ["a", "ab", "A", "b", "Ab", "a-b", "a b", "-", "1a", "b.", "aB1", "ba", "aab",
        "a*", "*b", "a?b", "?", "*a*", "b*a", "a\\b", "\\a", "?-"]

S = z3.StringSort()
ANY = z3.AllChar(z3.ReSort(S))
ALL = z3.Star(ANY)


def ch(c):
    return z3.Re(z3.StringVal(c))


def letter(c, cased):
    return ch(c) if cased or not c.isalpha() else z3.Union(ch(c.lower()), ch(c.upper()))


def value_lang(v, cased):
    """A Sigma value as a language: `*` any text, `?` one character, the rest itself."""
    parts = [ALL if c == "*" else ANY if c == "?" else letter(c, cased) for c in v]
    if not parts:
        return z3.Re(z3.StringVal(""))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def regex(depth):
    r = random.random()
    if depth == 0 or r < 0.35:
        return random.choice([
            ("a", ch("a")), ("b", ch("b")), ("A", ch("A")), ("-", ch("-")),
            ("[ab]", z3.Union(ch("a"), ch("b"))),
            ("[^a]", z3.Intersect(ANY, z3.Complement(ch("a")))),
            ("[0-9]", z3.Range("0", "9")),
        ])
    if r < 0.65:
        parts = [regex(depth - 1) for _ in range(random.randint(2, 3))]
        return "".join(p[0] for p in parts), z3.Concat(*[p[1] for p in parts])
    if r < 0.8:
        a, b = regex(depth - 1), regex(depth - 1)
        return f"({a[0]}|{b[0]})", z3.Union(a[1], b[1])
    a = regex(depth - 1)
    q = random.choice(["*", "+", "?"])
    return f"(?:{a[0]}){q}", {"*": z3.Star, "+": z3.Plus, "?": z3.Option}[q](a[1])


def item():
    """One `Field|modifiers: values` line of a selection, as YAML lines and a z3 test."""
    f = random.choice(FIELDS)
    if random.random() < 0.15:
        text, lang = regex(2)
        if random.random() < 0.4:
            text, lang = "^" + text, lang
            full = z3.Concat(lang, ALL)
        else:
            full = z3.Concat(ALL, lang, ALL)
        return [f"{f}|re: '{text}'"], (lambda e, f=f, full=full: z3.And(P[f], z3.InRe(e[f], full)))
    mod = random.choice(["", "contains", "startswith", "endswith"])
    cased = random.random() < 0.2
    values = random.sample(VALS, random.randint(1, 3))
    every = len(values) > 1 and random.random() < 0.3
    mods = "".join(f"|{m}" for m in [mod, "cased" if cased else "", "all" if every else ""] if m)
    langs = []
    for v in values:
        lang = value_lang(v, cased)
        if mod == "contains":
            lang = z3.Concat(ALL, lang, ALL)
        elif mod == "startswith":
            lang = z3.Concat(lang, ALL)
        elif mod == "endswith":
            lang = z3.Concat(ALL, lang)
        langs.append(lang)
    # Single quotes in YAML: a backslash is itself, a quote is doubled (none here).
    if len(values) == 1:
        lines = [f"{f}{mods}: '{values[0]}'"]
    else:
        lines = [f"{f}{mods}:"] + [f"    - '{v}'" for v in values]
    join = z3.And if every else z3.Or
    return lines, (lambda e, f=f, langs=langs, join=join: z3.And(P[f], join([z3.InRe(e[f], l) for l in langs])))


def block(name):
    """A selection: 1-3 items on distinct fields (all must hold)."""
    items = []
    used = set()
    for _ in range(random.randint(1, 3)):
        lines, ev = item()
        field = lines[0].split("|")[0].split(":")[0]
        if field in used:
            continue
        used.add(field)
        items.append((lines, ev))
    yaml = [f"    {name}:"] + [f"        {l}" for lines, _ in items for l in lines]
    return yaml, (lambda e, items=items: z3.And([ev(e) for _, ev in items]))


def rule(i):
    global FIELDS
    FIELDS = [random.choice(F)] if random.random() < 0.6 else F
    sel, d = block("selection")
    fil, x = block("filter_main_x")
    text = "\n".join([
        f"title: smt {i}",
        f"id: 00000000-0000-4000-8000-{i:012d}",
        "status: test",
        "logsource:",
        "    category: process_creation",
        "    product: windows",
        "detection:",
        *sel,
        *fil,
        "    condition: selection and not filter_main_x",
        "level: high",
    ]) + "\n"
    return text, d, x


E = {f: z3.String(f) for f in F}
# Whether the event has the field: a test of a field the event lacks is false.
P = {f: z3.Bool(f + "_present") for f in F}


def sat(*formulas):
    s = z3.Solver()
    s.set("timeout", 20000)
    s.add(*formulas)
    return s.check()


with tempfile.TemporaryDirectory() as tmp:
    cases = {}
    for i in range(N):
        text, d, x = rule(i)
        with open(os.path.join(tmp, f"r{i:05d}.yml"), "w") as out:
            out.write(text)
        cases[f"00000000-0000-4000-8000-{i:012d}"] = (text, d, x)
    run = subprocess.run([FPX, "check", tmp, "--cases", "0", "--format", "json", "--fail-on", "never"],
                         capture_output=True, text=True)
    report = json.loads(run.stdout)

codes = {rid: set() for rid in cases}
rule_codes = {rid: set() for rid in cases}
read = set()
for result in report["results"]:
    if result["source"] == "inline":
        read.add(result["rule_id"])
        codes[result["rule_id"]].update(f["code"] for f in result["findings"])
    elif result["source"] == "rule":
        # The whole rule dead, not one branch of it ("this branch can never match").
        rule_codes[result["rule_id"]].update(
            f["code"] for f in result["findings"] if "detection can never be true" in f["message"])
bad = 0
skipped = {"selection never true": 0, "z3 unknown": 0, "fpx unsure": 0}
seen = {"mutes": 0, "never": 0, "neither": 0}
for rid, (text, d, x) in cases.items():
    if rid not in read:
        bad += 1
        print("NOT JUDGED", rid, "\n" + text)
        continue
    # FPX108 dead-rule: no event passes the selection and the filter together.
    alive = sat(d(E), z3.Not(x(E)))
    if alive != z3.unknown and (alive == z3.unsat) != ("FPX108" in rule_codes[rid]):
        bad += 1
        print("DEAD RULE", rid, "z3:", alive, "fpx:", sorted(rule_codes[rid]), "\n" + text)
    selection = sat(d(E))
    if selection != z3.sat:
        skipped["selection never true" if selection == z3.unsat else "z3 unknown"] += 1
        continue
    mutes, never = sat(d(E), z3.Not(x(E))), sat(d(E), x(E))
    if z3.unknown in (mutes, never):
        skipped["z3 unknown"] += 1
        continue
    want_mutes, want_never = mutes == z3.unsat, never == z3.unsat
    got_mutes = bool(codes[rid] & {"FPX101", "FPX104"})
    got_never = bool(codes[rid] & {"FPX102", "FPX105"})
    # fpx says it could not decide (a search past its budget): not a verdict.
    if "FPX401" in codes[rid] or "FPX305" in codes[rid]:
        skipped["fpx unsure"] += 1
        continue
    seen["mutes" if want_mutes else "never" if want_never else "neither"] += 1
    if (want_mutes, want_never) != (got_mutes, got_never):
        bad += 1
        print("MISMATCH", rid, "z3: mutes", want_mutes, "never", want_never, "fpx:", sorted(codes[rid]), "\n" + text)
print(f"{N} rules: {bad} disagreements; skipped {skipped}; judged {seen}")
sys.exit(1 if bad else 0)
