#!/usr/bin/env python3
"""Every shipped world file, and every world-file example in the READMEs, read as a YAML 1.1
tool reads it (PyYAML), must still be a valid world file under worlds/world.schema.json.

YAML 1.1 reads bare `on`, `off`, `yes`, `no`, `y` and `n` as booleans and `1:30` as a number,
where kafka-gen (YAML 1.2) reads text; a key read as `True` fails the schema (issue 28: the
checks' `on:` key did). An example that shows a part of a file (`pace:`, `checks:`) is checked
against the schema's properties for the keys it has, not for the ones it leaves out.

  python3 scripts/check_yaml11.py            # exit 0, or 1 with each problem listed
"""
import json
import pathlib
import re
import sys

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent


def examples():
    """(name, text) of each shipped world and each ```yaml block of the READMEs."""
    for path in sorted((ROOT / "worlds").glob("*.yaml")):
        yield str(path.relative_to(ROOT)), path.read_text(), True
    for readme in ("README.md", "worlds/README.md"):
        text = (ROOT / readme).read_text()
        for n, block in enumerate(re.findall(r"```yaml\n(.*?)```", text, re.S), 1):
            yield f"{readme} yaml block {n}", block, "world:" in block


def keys_are_text(node, where, problems):
    if isinstance(node, dict):
        for k, v in node.items():
            if not isinstance(k, str):
                problems.append(f"{where}: key {k!r} is read as a {type(k).__name__}, not text")
            keys_are_text(v, f"{where}.{k}", problems)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            keys_are_text(v, f"{where}[{i}]", problems)


def main():
    schema = json.loads((ROOT / "worlds/world.schema.json").read_text())
    partial = dict(schema)
    partial.pop("required", None)
    problems, seen = [], 0
    for name, text, whole in examples():
        seen += 1
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            problems.append(f"{name}: PyYAML cannot read it: {e}")
            continue
        keys_are_text(doc, name, problems)
        validator = jsonschema.Draft202012Validator(schema if whole else partial)
        for err in validator.iter_errors(doc):
            path = ".".join(str(p) for p in err.absolute_path)
            problems.append(f"{name}: {path}: {err.message[:200]}")
    for p in problems:
        print(p)
    print(f"check_yaml11: {seen} files and examples, {len(problems)} problems")
    return 1 if problems or seen < 5 else 0


if __name__ == "__main__":
    sys.exit(main())
