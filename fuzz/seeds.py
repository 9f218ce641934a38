#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs to fuzz/seeds/<target>/, from what the repository
ships and tests: the world files, the README's examples, config/, and the tests' broken
inputs. `scripts/fuzz.sh seed` runs it and minimises the seeds into fuzz/corpus/<target>/
(committed); the seeds themselves are not.

Usage: seeds.py (the ingest bodies are the golden events of tests/fixtures)."""

import hashlib
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "seeds"

# A Rust string literal, raw (r#"..."#) or escaped ("...").
RAW = re.compile(r'r(#*)"(.*?)"\1', re.S)
ESCAPED = re.compile(r'(?<![r#\w])"((?:[^"\\\n]|\\.)*)"')


def unescape(s):
    s = re.sub(r"\\\n\s*", "", s)  # a line continuation
    return s.encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")


def literals(path):
    text = path.read_text()
    out = [m.group(2) for m in RAW.finditer(text)]
    out += [unescape(m.group(1)) for m in ESCAPED.finditer(RAW.sub("", text))]
    return out


def rust_files(*dirs):
    for d in dirs:
        yield from sorted((ROOT / d).rglob("*.rs"))


def blocks(md, lang):
    return re.findall(r"```" + lang + r"\n(.*?)```", (ROOT / md).read_text(), re.S)


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def worlds():
    files = sorted(ROOT.glob("worlds/*.yaml")) + sorted(ROOT.glob("tests/fixtures/*.yaml"))
    texts = [f.read_text() for f in files]
    texts += blocks("README.md", "yaml") + blocks("worlds/README.md", "yaml")
    for f in rust_files("src/worldfile", "tests"):
        texts += [s for s in literals(f) if "world:" in s or "entities:" in s]
    # The broken files of tests/worlds.rs: the bank world with one (from, to) edit each.
    bank = (ROOT / "worlds/bank.yaml").read_text()
    tests = (ROOT / "tests/worlds.rs").read_text()
    for name in ("fn bad_world_files_are_located_and_exit_2", "const NEVER"):
        body = tests[tests.index(name):]
        body = body[: body.index("\n}\n") if name.startswith("fn") else body.index("];")]
        strings = [unescape(m.group(1)) for m in ESCAPED.finditer(body)]
        step = 4 if name.startswith("fn") else 2
        for i in range(0, len(strings) - 1, step):
            if strings[i] in bank:
                texts.append(bank.replace(strings[i], strings[i + 1], 1))
    for t in texts:
        write("world_file", t)
    return texts


def expressions(texts):
    exprs = set()
    for t in texts:
        exprs.update(m.strip() for m in re.findall(r"\$\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", t))
        for key in ("where", "when", "rule", "probability", "count", "weight", "delay", "every"):
            exprs.update(v.strip().strip("'\"") for v in re.findall(rf"\b{key}: (.+)", t))
    call = re.compile(r'\b(?:eval|eval_at|compile|compiled|draws|parse|ty|err)\(\s*"((?:[^"\\]|\\.)*)"')
    for f in rust_files("src/worldfile"):
        exprs.update(unescape(m.group(1)) for m in call.finditer(f.read_text()))
    for e in exprs:
        if e and len(e) < 2000:
            write("expression", e)


def events_of(world):
    """A world's golden events (tests/fixtures/golden-*.jsonl), or none."""
    name = "golden-retail.jsonl" if world == "retail" else f"golden-world-{world}.jsonl"
    path = ROOT / "tests" / "fixtures" / name
    return path.read_text().splitlines() if path.exists() else []


def ingest():
    # The selector byte: the world's index in fuzz_targets/ingest_body.rs, bit 7 a key.
    names = ["retail", "tutoring", "music", "web", "bnpl", "bank"]
    for i, world in enumerate(names):
        events = events_of(world)
        if not events:
            continue
        by_type = {}
        for e in events:
            t = json.loads(e).get("event_type") or json.loads(e).get("type")
            by_type.setdefault(t, e)
        for e in by_type.values():
            write("ingest_body", bytes([i]) + e.encode())
            # The document's own body (issue 29): no ids, the ingest assigns them.
            v = json.loads(e)
            for f in ("event_id", "caused_by", "stream_id", "stream_seq"):
                v.pop(f, None)
            write("ingest_body", bytes([i | 0x80]) + json.dumps(v).encode())
        write("ingest_body", bytes([i]) + ("[" + ",".join(events[:3]) + "]").encode())
        write("ingest_body", bytes([i]) + "\n".join(events[3:6]).encode() + b"\n")
    for f in rust_files("tests/ingest", "src/ingest"):
        for s in literals(f):
            if s.lstrip().startswith(("{", "[")):
                write("ingest_body", b"\x00" + s.encode())
                write("ingest_body", b"\x01" + s.encode())


def configs():
    texts = [f.read_text() for f in sorted(ROOT.glob("config/*.toml"))]
    texts += blocks("README.md", "toml")
    for f in rust_files("src/config", "src/listen", "src/sinks", "src/ingest", "src/schedule",
                        "src/profile", "tests"):
        texts += [s for s in literals(f) if "=" in s and ("\n" in s or s.startswith("["))
                  and "world:" not in s and not s.lstrip().startswith("{")]
    for t in texts:
        write("config_file", t)


texts = worlds()
expressions(texts)
ingest()
configs()
for d in sorted(OUT.iterdir()):
    print(f"{d.name}: {len(list(d.iterdir()))} seeds")
