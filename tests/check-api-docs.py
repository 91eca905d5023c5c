#!/usr/bin/env python3
"""check-api-docs.py — docs/lua-api.md documents the declared Lua API, all of it and nothing
else: every primitive and every option `hotline api` prints (the API tables: lua/api.h,
call/call_api.c, lua/sandbox.c) has a heading, every primitive and option a heading names
is in the tables, every primitive appears in a ```lua example, and every example that is a
scripts/main.lua (defines main) runs: built by `hotline test-rules` and run once by the
simulated caller without taking the fallback path (no prompt check: the examples' prompt
names are not a site's; a first line
`-- rules/engine.lua: NAME = VALUE, ...` gives the example its rules/engine.lua).

A heading names a primitive in a code span: `call:collect{min, max, ...}`,
`call:dial(uri [, {timeout, from}])`, `hl.store.query(sql, ...)`; the names inside its
first {...} are its options (`=default` and [ ] allowed).

  tests/check-api-docs.py [--hotline build/hotline] [--docs docs/lua-api.md]
Prints one line a check and "N passed, M failed"; exits 1 on any failure.  It also checks
itself: a copy of the docs with an option left out, and one with a primitive that is not
in the tables, must each fail."""
import argparse
import os
import re
import subprocess
import sys
import tempfile

NAME = re.compile(r"^((?:call|leg):[a-z_]+|hl(?:\.[a-z_]+)+)")


def api_entries(text):
    """{"call:collect": {"min", ...}, ...} from `hotline api`'s output"""
    api = {}
    for line in text.splitlines():
        f = line.split()
        if f and f[0] == "prim":
            api.setdefault(f[1], set())
        elif f and f[0] == "opt":
            api.setdefault(f[1], set()).add(f[2])
    return api


def heading_options(rest):
    m = re.search(r"\{([^}]*)\}", rest)
    if not m:
        return set()
    opts = set()
    for item in m.group(1).replace("[", ",").replace("]", ",").split(","):
        item = item.split("=")[0].strip()
        if re.fullmatch(r"[a-z_]+", item):
            opts.add(item)
    return opts


def doc_entries(md):
    """the same shape from the docs' headings, and the text of their lua examples"""
    docs, examples, in_lua = {}, [], False
    for line in md.splitlines():
        if line.startswith("```"):
            in_lua = line.strip() == "```lua" and not in_lua
            continue
        if in_lua:
            examples.append(line)
        elif line.startswith("#"):
            for span in re.findall(r"`([^`]+)`", line):
                m = NAME.match(span)
                if m:
                    docs.setdefault(m.group(1), set()).update(heading_options(span[m.end():]))
    return docs, "\n".join(examples)


def used_in(name, code):
    if ":" in name:  # call:play -> call:play( / c:play{ / leg:hangup(
        return re.search(r":%s\s*[({\"']" % re.escape(name.split(":")[1]), code) is not None
    return re.search(r"%s\s*[({\"']" % re.escape(name), code) is not None


def check(api, md):
    """[(ok, message)]"""
    docs, code = doc_entries(md)
    out = []
    for name in sorted(api):
        out.append((name in docs, "%s is documented (a heading in docs/lua-api.md)" % name))
        if name in docs:
            for opt in sorted(api[name] - docs[name]):
                out.append((False, "%s option %s is documented in its heading" % (name, opt)))
        out.append((used_in(name, code), "%s has a runnable example" % name))
    for name in sorted(docs):
        if name not in api:
            out.append((False, "%s (documented) is in the API tables" % name))
            continue
        for opt in sorted(docs[name] - api[name]):
            out.append((False, "%s option %s (documented) is in the API tables" % (name, opt)))
    return out


def run_examples(hotline, md):
    """each example main.lua, built and run once in the simulator: [(ok, message)]"""
    out = []
    blocks = re.findall(r"```lua\n(.*?)```", md, re.S)
    with tempfile.TemporaryDirectory(prefix="api-docs.") as tmp:
        for i, code in enumerate(blocks):
            if not re.search(r"^function main\(", code, re.M):
                continue
            d = os.path.join(tmp, "ex%d" % i)
            os.makedirs(d + "/scripts")
            os.makedirs(d + "/rules")
            with open(d + "/scripts/main.lua", "w", encoding="utf-8") as f:
                f.write(code)
            with open(d + "/scripts/example.scenario.lua", "w", encoding="utf-8") as f:
                f.write('return { { name = "the example runs", expect = { fallback = false } } }\n')
            rules = re.match(r"-- rules/engine.lua: (.*?),?\n", code)
            if rules:
                with open(d + "/rules/engine.lua", "w", encoding="utf-8") as f:
                    f.write("return { %s }\n" % rules.group(1))
            # run where no build/prompts is: the examples' prompt names are not this site's
            r = subprocess.run([os.path.abspath(hotline), "test-rules", "--scripts", d + "/scripts",
                                "--rules", d + "/rules"], capture_output=True, text=True, cwd=tmp)
            first = code.strip().splitlines()[0] if code.strip() else ""
            why = "" if r.returncode == 0 else ": " + " | ".join(
                l for l in r.stdout.splitlines() if l.startswith("FAIL") or "heard" in l)
            out.append((r.returncode == 0, "example %d (%s) runs in the simulator%s" % (i + 1, first[:50], why)))
    return out


def self_test(api, md):
    """the check must catch an option missing from the docs and a primitive not in the tables"""
    out = []
    some = next(((n, o) for n in sorted(api) for o in sorted(api[n])), None)
    if some:
        name, opt = some
        lines = md.splitlines()
        cut = [re.sub(r"([{,]\s*)%s\b(=[^,}\]]*)?" % opt, r"\1", l)
               if l.startswith("#") and ("`%s" % name) in l else l for l in lines]
        bad = [m for ok, m in check(api, "\n".join(cut)) if not ok]
        out.append((any(opt in m for m in bad),
                    "self-test: docs without %s's option %s fail the check" % (name, opt)))
    extra = md + "\n### `call:no_such_primitive{x}`\n```lua\ncall:no_such_primitive{}\n```\n"
    bad = [m for ok, m in check(api, extra) if not ok]
    out.append((any("no_such_primitive" in m for m in bad),
                "self-test: docs of a primitive that is not in the tables fail the check"))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hotline", default="build/hotline")
    ap.add_argument("--docs", default="docs/lua-api.md")
    a = ap.parse_args()
    api = api_entries(subprocess.run([a.hotline, "api"], check=True, capture_output=True, text=True).stdout)
    with open(a.docs, encoding="utf-8") as f:
        md = f.read()
    results = check(api, md) + self_test(api, md) + run_examples(a.hotline, md)
    passed = failed = 0
    for ok, msg in results:
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL " + msg)
    print("api docs: %d primitives, %d options in the tables" % (len(api), sum(len(v) for v in api.values())))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
