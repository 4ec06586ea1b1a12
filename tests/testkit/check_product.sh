#!/bin/sh
# Usage: check_product.sh PRODUCT CONTROL
# PRODUCT (the benchpilot binary) must hold no symbol of the test kit, a test double or
# GoogleTest. The same search must find them in CONTROL (a test binary), so the check can fail.
set -u
pattern='bp::testkit::|bp::mbridge::testing::|testing::|Fake[A-Z]'
control=$(nm -C "$2") || { echo "nm failed on $2"; exit 1; }
if ! printf '%s\n' "$control" | grep -qE "$pattern"; then
  echo "control: no test-only symbol found in $2; the pattern is stale"
  exit 1
fi
# A sanitizer build links the sanitizer runtime in (its __asan::FakeStack is not ours).
product=$(nm -C "$1") || { echo "nm failed on $1"; exit 1; }
product=$(printf '%s\n' "$product" | grep -vE '(__asan|__lsan|__ubsan|__sanitizer|__interception)::')
if printf '%s\n' "$product" | grep -E "$pattern"; then
  echo "$1 holds test-only code (symbols above)"
  exit 1
fi
echo "$1: no test-only symbols"
