#!/usr/bin/env python3
"""check-layers.py — the include check of docs/design.md's layer table.

Reads the table between the "layers:begin" and "layers:end" markers of docs/design.md (a row:
| LAYER | folder, folder | what |), then every #include "folder/x.h" under engine/, and fails
when an include points to a higher layer, when folders include each other in a circle (even
within one layer), when an engine folder is missing from the table, or when the table names a
folder that does not exist.  One line per folder, then "layers: N passed, M failed".
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
ENGINE = os.path.join(ROOT, "engine")
DESIGN = os.path.join(ROOT, "docs", "design.md")
TOP = "."  # engine/main.c and engine/version.h: the program itself


def read_layers():
    text = open(DESIGN, encoding="utf-8").read()
    m = re.search(r"layers:begin(.*?)layers:end", text, re.S)
    if not m:
        sys.exit("layers: docs/design.md has no layers:begin ... layers:end table")
    layers = {}
    for row in m.group(1).splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].isdigit():
            continue
        for folder in re.findall(r"`([^`]+)`", cells[1]):
            folder = folder.strip("/").replace("engine/", "") or TOP
            layers[folder] = int(cells[0])
    return layers


def read_arrows():
    arrows = {}  # (from, to) -> "file:line"
    for d, _, files in os.walk(ENGINE):
        rel = os.path.relpath(d, ENGINE)
        src = TOP if rel == "." else rel.split(os.sep)[0]
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(d, f)
            for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
                m = re.match(r'\s*#\s*include\s+"([^"/]+)/[^"]+"', line)
                if m and m.group(1) != src:
                    where = "%s:%d" % (os.path.relpath(path, ROOT), n)
                    arrows.setdefault((src, m.group(1)), where)
    return arrows


def main():
    layers = read_layers()
    arrows = read_arrows()
    folders = {TOP} | {e for e in os.listdir(ENGINE) if os.path.isdir(os.path.join(ENGINE, e))}
    problems = {f: [] for f in sorted(folders | set(layers))}
    for f in folders - set(layers):
        problems[f].append("not in docs/design.md's layer table")
    for f in set(layers) - folders:
        problems[f].append("in the layer table but not a folder of engine/")
    for (a, b), where in sorted(arrows.items()):
        if a in layers and b in layers and layers[b] > layers[a]:
            problems[a].append("points up: %s (layer %d) includes %s (layer %d) at %s"
                               % (a, layers[a], b, layers[b], where))
    # circles: a folder that can reach itself through includes
    out = {}
    for (a, b) in arrows:
        out.setdefault(a, set()).add(b)
    for a in sorted(out):
        seen, todo = set(), list(out[a])
        while todo:
            x = todo.pop()
            if x not in seen:
                seen.add(x)
                todo.extend(out.get(x, ()))
        if a in seen:
            back = sorted(b for b in out[a] if b == a or a in reach(out, b))
            problems[a].append("is in a circle through %s (%s)"
                               % (", ".join(back), arrows[(a, back[0])]))
    passed = failed = 0
    for f in sorted(problems):
        if problems[f]:
            failed += 1
            for p in problems[f]:
                print("layers: FAIL %s %s" % (f, p))
        else:
            passed += 1
            print("layers: ok   %-6s layer %s" % (f, layers.get(f, "?")))
    print("layers: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def reach(out, a):
    seen, todo = set(), [a]
    while todo:
        for b in out.get(todo.pop(), ()):
            if b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


if __name__ == "__main__":
    sys.exit(main())
