#!/usr/bin/env python3
"""Fails on a function in src/ longer than the limit (80 lines), tests excluded.

A function's length is the number of lines from its opening `{` to its closing `}`, both
included, comments and blank lines counted. Braces inside comments, string and character
literals (raw strings included) and preprocessor lines are ignored. A function body is a brace
opened at namespace or class level after a parameter list (member functions, constructors with
initializer lists and lambdas assigned at namespace level included); a brace after `=` is data
(a table), not a function.

Exceptions are listed below with the reason; each one must still exist (a stale entry fails),
so the list cannot rot.

Usage: check_function_length.py <src-dir> [--limit N] | --self-test
"""
import os
import re
import sys

LIMIT = 80

# "path relative to src/::function name": why this function may be longer.
EXCEPTIONS = {
    "workloads/megatron_bridge/args.cc::build_specs":
        "the launcher's flag table: one row per cmd_args field (name, type, flag, default), no "
        "control flow; split, a flag's row would be harder to find",
}


def significant_chars(text):
    """Yields (index, char, line) for characters outside comments, literals and preprocessor
    lines; a literal is reported as one `"` so headers keep their shape."""
    i, n, line = 0, len(text), 1
    at_line_start = True
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            at_line_start = True
            i += 1
            continue
        if at_line_start and c in " \t":
            i += 1
            continue
        if at_line_start and c == "#":
            # Preprocessor line, with backslash continuations.
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    line += 1
                    i += 2
                    continue
                i += 1
            continue
        at_line_start = False
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
            continue
        raw = re.match(r'(?:u8|[uUL])?R"([^()\\ \s]{0,16})\(', text[i:i + 24])
        if raw and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            close = ")" + raw.group(1) + '"'
            end = text.find(close, i + raw.end())
            end = n if end < 0 else end + len(close)
            line += text.count("\n", i, end)
            yield i, '"', line
            i = end
            continue
        if c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):
            j = i + 1
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    break
                j += 1
            yield i, '"', line
            line += text.count("\n", i, j)
            i = j + 1
            continue
        yield i, c, line
        i += 1


def strip_parens(header):
    out, depth = [], 0
    for ch in header:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


SCOPE_KEYWORD = re.compile(r"^\s*(?:template\s*<.*>\s*)?(?:namespace|class|struct|union|enum|extern)\b",
                           re.S)
CTOR_INIT = re.compile(r"\)\s*(?:noexcept\s*)?:(?!:)")


def classify(header):
    """'scope', 'function', 'init' (a member initializer's braces) or 'data'."""
    h = header.strip()
    if SCOPE_KEYWORD.match(h) and "(" not in strip_scope_head(h):
        return "scope"
    flat = strip_parens(h)
    if re.search(r"(?<![=!<>+\-*/%&|^])=(?!=)", flat.replace("operator=", "operator")):
        after = h[h.rfind("=") + 1:]
        return "function" if re.search(r"\]\s*(\(|\{|$|mutable|->)", after) else "data"
    if "(" not in h:
        return "data"
    if CTOR_INIT.search(h) and re.search(r"[\w>]\s*$", h):
        return "init"  # `: member_{...}` inside a constructor's initializer list
    return "function"


def strip_scope_head(h):
    # `struct X : Base` has no parentheses; `enum class E : int` neither.
    return h


def functions(text):
    """(name, first line, last line) of each function body in a C++ source text."""
    found = []
    stack = []  # kinds of open braces
    header = []
    open_line = {}
    for _, c, line in significant_chars(text):
        in_function = any(k in ("function", "data") for k in stack)
        if c == "{":
            if in_function:
                stack.append("inner")
                continue
            head = "".join(header)
            kind = classify(head)
            stack.append(kind)
            open_line[len(stack)] = (line, head)
            if kind != "init":
                header = []
            else:
                header.append("{")
        elif c == "}":
            if not stack:
                continue
            kind = stack.pop()
            if kind == "function":
                start, head = open_line[len(stack) + 1]
                found.append((function_name(head), start, line))
            if kind == "init":
                header.append("}")
            elif kind != "inner":
                header = []
        elif c == ";":
            if not in_function:
                header = []
        else:
            if not in_function:
                header.append(c)
    return found


def function_name(head):
    flat = head.strip()
    eq = None
    paren = flat.find("(")
    before = flat[:paren] if paren >= 0 else flat
    if "=" in before and "operator" not in before:
        eq = before[:before.rfind("=")]
        before = eq
    m = re.search(r"([~\w:]+(?:operator\s*\S+)?)\s*$", before.strip())
    return m.group(1) if m else "<anonymous>"


def check(src_dir, limit):
    problems, seen = [], set()
    for root, _, files in os.walk(src_dir):
        for name in sorted(files):
            if not name.endswith((".cc", ".h", ".cpp", ".hpp")) or name.endswith("_test.cc"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src_dir)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for fn, start, end in functions(text):
                length = end - start + 1
                key = f"{rel}::{fn}"
                if key in EXCEPTIONS:
                    seen.add(key)
                    continue
                if length > limit:
                    problems.append(f"{rel}:{start}: {fn} is {length} lines (limit {limit})")
    for key in sorted(set(EXCEPTIONS) - seen):
        problems.append(f"stale exception (no such function): {key}")
    return problems


SELF_TEST = r'''
#include <x>
#define BRACE {
namespace a {
struct S : Base {
  int x{0};
  S(int v) : x_{v}, y_(v) {
    f("}}}", '}');
  }
  void member() const override { return; }
};
const Row kTable[] = {
  {1, "a"},
  {2, "b"},
};
auto lambda = [](int v) {
  return v;
};
std::string long_one(int x) {
  // comment with a { brace
  /* and } another */
  const char* r = R"raw(})raw";
  if (x) {
    return "{";
  }
  return {};
}
}  // namespace a
'''


def self_test():
    found = {name: (a, b) for name, a, b in functions(SELF_TEST)}
    expected = {"S": (7, 9), "member": (10, 10), "lambda": (16, 18), "long_one": (19, 27)}
    ok = found == expected
    if not ok:
        print(f"self-test FAILED: found {found}, expected {expected}")
        return 1
    long_src = "void f() {\n" + "  x();\n" * 81 + "}\n"
    spans = functions(long_src)
    if spans != [("f", 1, 83)]:
        print(f"self-test FAILED on the long function: {spans}")
        return 1
    print("self-test passed")
    return 0


def main(argv):
    if "--self-test" in argv:
        return self_test()
    limit = LIMIT
    if "--limit" in argv:
        limit = int(argv[argv.index("--limit") + 1])
    src = [a for a in argv[1:] if not a.startswith("--") and not a.isdigit()][0]
    problems = check(src, limit)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} function(s) over {limit} lines; split them or list a table as an "
              "exception with its reason in tests/check_function_length.py")
        return 1
    print(f"every function in {src} is at most {limit} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
