#!/usr/bin/env python3
"""A multilingual prompt pool for bench/lang.sh: math word problems in en, fr, de, es, it, ru, zh, ja.

Each record is one to three of the hand-written problems of tests/plugins/lang/data/problems.jsonl (same
language), with every number replaced by a random one, so records differ while their language is
known: `meta.lang` holds it. English is 30% of the records, each other language 10%.

    /usr/bin/python3 bench/gen_multilingual.py --records 200000 --seed 7 --out bench/data/multilingual-200k.jsonl

Deterministic for a given seed. Standard library only.
"""
import argparse
import json
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "..", "tests", "plugins", "lang", "data", "problems.jsonl")
WEIGHTS = {"en": 3, "fr": 1, "de": 1, "es": 1, "it": 1, "ru": 1, "zh": 1, "ja": 1}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.records < 1:
        ap.error("--records must be at least 1")

    by_lang = {}
    with open(SEEDS, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            by_lang.setdefault(r["lang"], []).append(r["problem"])
    langs = [l for l in WEIGHTS for _ in range(WEIGHTS[l])]
    rng = random.Random(args.seed)
    number = re.compile(r"\d+")

    tmp = args.out + ".partial"
    with open(tmp, "w", encoding="utf-8") as out:
        for i in range(args.records):
            lang = rng.choice(langs)
            parts = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
            text = " ".join(rng.choice(by_lang[lang]) for _ in range(parts))
            text = number.sub(lambda m: str(rng.randint(2, 10 ** len(m.group(0)) - 1)), text)
            record = {"id": "ml-%07d" % i, "source": "multilingual", "problem": text,
                      "answer": str(rng.randint(1, 9999)), "meta": {"lang": lang}}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
