#!/usr/bin/env python3
"""Runs test executables of one package as `cargo test --workspace --features tally/custom-protocol` built
them, without building again.

`cargo test -p PACKAGE` alone would compile the whole dependency tree a second time: cargo unifies features
over the packages a command names, so one package alone is another feature set (minutes of CI for the same
code). This asks cargo for the executables the workspace build made (`--no-run`: nothing is compiled when
that build is current) and runs the package's, each from the package's directory as `cargo test` does.
Every executable runs even when one fails (`--no-fail-fast`); the exit status says whether all passed.

Usage: scripts/run-built-tests.py PACKAGE [TARGET ...] [-- TEST-ARGS ...]
  TARGET: an integration test's name (`chaos`); none: every test target of the package and its unit tests.
"""
import json
import os
import subprocess
import sys

FEATURES = ["--features", "tally/custom-protocol"]


def executables(package, targets):
    cmd = ["cargo", "test", "--workspace", *FEATURES, "--no-run", "--message-format=json"]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True, text=True).stdout
    manifest = manifest_of(package)
    found = []
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable") or not msg["profile"]["test"]:
            continue
        if msg["manifest_path"] != manifest:
            continue
        if targets and msg["target"]["name"] not in targets:
            continue
        found.append((msg["target"]["name"], msg["executable"], os.path.dirname(msg["manifest_path"])))
    return found


def manifest_of(package):
    meta = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version=1"], stdout=subprocess.PIPE, check=True, text=True
    ).stdout
    for p in json.loads(meta)["packages"]:
        if p["name"] == package:
            return p["manifest_path"]
    sys.exit(f"run-built-tests: no package {package} in this workspace")


def main(argv):
    args, test_args = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    if not args:
        sys.exit(__doc__)
    package, targets = args[0], set(args[1:])
    found = executables(package, targets)
    missing = targets - {name for name, _, _ in found}
    if not found or missing:
        sys.exit(f"run-built-tests: no test executable for {package} {sorted(missing) or ''}")
    failed = []
    for name, exe, cwd in found:
        print(f"     Running {name} ({os.path.relpath(exe)})", flush=True)
        env = dict(os.environ, CARGO_MANIFEST_DIR=cwd, CARGO_PKG_NAME=package)
        if subprocess.run([exe, *test_args], cwd=cwd, env=env).returncode != 0:
            failed.append(name)
    if failed:
        print(f"error: {len(failed)} target(s) of {package} failed: {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
