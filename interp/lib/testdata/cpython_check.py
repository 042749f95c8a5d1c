"""Run weir's module tests (testdata/*.star) under CPython 3.11 to check their expected values.

Usage: python3 interp/lib/testdata/cpython_check.py [file.star ...]

The scripts are written in the common subset of Starlark and Python. Here `module` is
importlib.import_module and `weir` is False, so weir-only expectations guarded by
`if weir:` (or `x if weir else y`) are skipped. Exits non-zero if any assertion fails.
"""
import glob
import importlib
import os
import sys
import warnings

failures = 0


def _fail(msg):
    global failures
    failures += 1
    f = sys._getframe(2)
    print(f"{f.f_code.co_filename}:{f.f_lineno}: {msg}")


def module(name):
    return importlib.import_module(name)


def assert_eq(got, want):
    if got != want or type(got) is not type(want):
        _fail(f"got {got!r} ({type(got).__name__}), want {want!r} ({type(want).__name__})")


def assert_ne(a, b):
    if a == b:
        _fail(f"{a!r} == {b!r}")


def assert_true(cond, msg="assertion failed"):
    if not cond:
        _fail(msg)


def assert_fails(fn, want):
    try:
        v = fn()
    except Exception as e:
        if want not in str(e):
            _fail(f"error {str(e)!r} does not contain {want!r}")
        return
    _fail(f"succeeded with {v!r}, want an error containing {want!r}")


def main():
    warnings.simplefilter("ignore")
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(os.path.dirname(__file__), "*.star")))
    for file in files:
        with open(file) as f:
            src = f.read()
        env = dict(module=module, weir=False, assert_eq=assert_eq, assert_ne=assert_ne,
                   assert_true=assert_true, assert_fails=assert_fails)
        exec(compile(src, file, "exec"), env)
    print(f"{len(files)} files, {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
