"""Compiled bytecode for the Lambda package: ``python -m openindex_ops.bytecode deployment.zip``.

Lambda imports from a read-only copy of the package, so a module shipped without its ``.pyc``
is compiled again on every cold start. This adds a ``__pycache__/*.cpython-3XX.pyc`` beside every
``.py`` in the zip, compiled by the interpreter running this (run it with the functions' Python:
``.venv-lambda/bin/python``). They are unchecked-hash pycs (PEP 552): the zip's timestamps
cannot invalidate them, and the package is rebuilt whenever a source changes.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path


def add_bytecode(package: Path) -> int:
    """Rewrite ``package`` with bytecode beside its sources; the number of modules compiled."""
    compiled = 0
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(package) as source:
        rewritten = Path(scratch) / package.name
        with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
            for entry in source.infolist():
                if "__pycache__/" in entry.filename:
                    continue  # a developer's own caches, for another Python
                data = source.read(entry)
                target.writestr(entry, data)
                if entry.filename.endswith(".py"):
                    target.writestr(_pyc_entry(entry), _compile(data, entry.filename, scratch))
                    compiled += 1
        os.replace(rewritten, package)
    return compiled


def _pyc_entry(entry: zipfile.ZipInfo) -> zipfile.ZipInfo:
    pyc = zipfile.ZipInfo(importlib.util.cache_from_source(entry.filename), date_time=entry.date_time)
    pyc.external_attr = entry.external_attr
    pyc.compress_type = zipfile.ZIP_DEFLATED
    return pyc


def _compile(source: bytes, name: str, scratch: str) -> bytes:
    path = Path(scratch) / "module.py"
    path.write_bytes(source)
    target = path.with_suffix(".pyc")
    py_compile.compile(str(path), cfile=str(target), dfile=name, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return target.read_bytes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openindex_ops.bytecode", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("package", type=Path, help="the deployment.zip `chalice package` wrote")
    args = parser.parse_args(argv)
    count = add_bytecode(args.package)
    print(f"{args.package}: bytecode for {count} modules (Python {sys.version_info.major}."
          f"{sys.version_info.minor})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
