#!/usr/bin/env python3
"""check-api-docs.py — docs/lua-api.md documents the declared Lua API, all of it and nothing
else: every primitive and every option `hotline api` prints (the API tables: lua/api.h,
call/call_api.c, lua/sandbox.c) has a heading, every primitive and option a heading names
is in the tables, and every primitive appears in a runnable ```lua example.

A heading names a primitive in a code span: `call:collect{min, max, ...}`,
`call:dial(uri [, {timeout, from}])`, `hl.store.query(sql, ...)`; the names inside its
first {...} are its options (`=default` and [ ] allowed).

  tests/check-api-docs.py [--hotline build/hotline] [--docs docs/lua-api.md]
Prints one line a check and "N passed, M failed"; exits 1 on any failure.  It also checks
itself: a copy of the docs with an option left out, and one with a primitive that is not
in the tables, must each fail."""
import argparse
import re
import subprocess
import sys

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
    results = check(api, md) + self_test(api, md)
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
