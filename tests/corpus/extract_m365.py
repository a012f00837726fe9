#!/usr/bin/env python3
"""Builds tests/corpus/m365-hunting/ from microsoft/Microsoft-365-Defender-Hunting-Queries
(MIT): one fpx rule file per KQL query (each fenced code block of a .md file, each .txt
or .csl file). Usage: extract_m365.py <repo work tree or git dir> <commit>
"""
import os, re, subprocess, sys, yaml


class Literal(str):
    pass


# Queries as YAML block scalars (`query: |`), as Sentinel rule files write them.
yaml.SafeDumper.add_representer(Literal, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|"))

src, commit = sys.argv[1], sys.argv[2]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "m365-hunting")
os.makedirs(out, exist_ok=True)

def git(*args):
    return subprocess.run(["git", "--git-dir", src, *args], check=True, capture_output=True).stdout

files = git("ls-tree", "-r", "--name-only", commit).decode().splitlines()
count = 0
for path in sorted(files):
    ext = path.rsplit(".", 1)[-1].lower()
    if ext not in ("md", "txt", "csl") or path.lower() in ("readme.md",) or path.startswith(".github"):
        continue
    text = git("show", f"{commit}:{path}").decode("utf-8", "replace").replace("\r\n", "\n")
    if ext == "md":
        queries = re.findall(r"^```[a-zA-Z]*\n(.*?)^```", text, re.S | re.M)
    else:
        queries = [text]
    queries = [q for q in queries if re.search(r"^\s*\|\s*(where|extend|project|summarize|join)", q, re.M)]
    base = re.sub(r"[^A-Za-z0-9]+", "-", path.rsplit(".", 1)[0]).strip("-").lower()
    for i, q in enumerate(queries):
        name = base if len(queries) == 1 else f"{base}-{i + 1}"
        # Trailing blanks would force a quoted scalar; they are not part of any query.
        q = "\n".join(line.rstrip() for line in q.strip("\n").split("\n")).replace("\t", "    ")
        doc = {"id": f"m365-{name}", "name": f"{path} (query {i + 1})", "source": path, "query": Literal(q + "\n")}
        with open(os.path.join(out, name + ".yaml"), "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False, allow_unicode=True, width=1000, default_style=None)
        count += 1
print(count, "queries")
