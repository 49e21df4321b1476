#!/usr/bin/env python3
"""Keeps each fuzz target's corpus as one file in git: fuzz/seeds/TARGET.b64, one input per line in base64,
sorted. cargo-fuzz works on fuzz/corpus/TARGET (not in git), one file per input.

    python3 fuzz/corpus.py unpack [TARGET...]   seeds -> fuzz/corpus/TARGET (before `cargo fuzz run`)
    python3 fuzz/corpus.py pack [TARGET...]     fuzz/corpus/TARGET -> seeds (after `cargo fuzz cmin`)

With no TARGET, every target that has seeds (unpack) or a corpus folder (pack)."""

import base64
import hashlib
import pathlib
import sys

FUZZ = pathlib.Path(__file__).resolve().parent
SEEDS = FUZZ / "seeds"
CORPUS = FUZZ / "corpus"


def unpack(target):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for line in (SEEDS / f"{target}.b64").read_text().splitlines():
        data = base64.b64decode(line, validate=True)
        (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
        count += 1
    print(f"{target}: {count} inputs into {folder}")


def pack(target):
    folder = CORPUS / target
    lines = sorted({base64.b64encode(p.read_bytes()).decode() for p in folder.iterdir() if p.is_file()})
    if not lines:
        sys.exit(f"{folder} holds no inputs: nothing packed (run `cargo fuzz cmin -O {target}` there first)")
    SEEDS.mkdir(exist_ok=True)
    out = SEEDS / f"{target}.b64"
    tmp = out.with_suffix(".b64.tmp")
    tmp.write_text("".join(line + "\n" for line in lines))
    tmp.replace(out)
    print(f"{target}: {len(lines)} inputs into {out}")


def main(argv):
    if len(argv) < 2 or argv[1] not in ("pack", "unpack"):
        sys.exit(__doc__)
    verb, targets = argv[1], argv[2:]
    if not targets:
        source = SEEDS.glob("*.b64") if verb == "unpack" else (p for p in CORPUS.iterdir() if p.is_dir())
        targets = sorted(p.name.removesuffix(".b64") for p in source)
    for target in targets:
        (unpack if verb == "unpack" else pack)(target)


if __name__ == "__main__":
    main(sys.argv)
