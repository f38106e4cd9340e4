#!/usr/bin/python3
"""Planted copies of real math problems, for measuring dedup.exact's recall (bench/accuracy/normalize.sh).

    normalize_planted.py OUT.jsonl FILE.jsonl[:N] ...          make the planted set
    normalize_planted.py score OUT.jsonl REJECTED.jsonl          recall per transform (Markdown)

Takes the `problem` of the first N records of each file (all when N is omitted; a problem seen before is
skipped), writes each as an original, then for every transform below that changes it, a copy made by
that transform. A copy is what a person would call the same text: the same words and the same maths,
written with other case, spacing, delimiters or Unicode. Every output line is
{"id", "problem", "group", "transform"}: `group` is the index of the original (ids "o<group>" and
"c<group>-<transform>"), `transform` is "original" or the transform's name. Originals come first, so
that dedup.exact's first-in-input-order survivor is always the original. Deterministic (no randomness
besides a fixed-seed generator per problem).
"""
import json
import random
import re
import sys

# Inline maths: a single `$`, not escaped, not part of `$$`.
INLINE = re.compile(r"(?<![\\$])\$(?!\$)((?:[^$\\]|\\.)+?)(?<!\\)\$(?!\$)", re.S)
COMMAND = re.compile(r"\\([A-Za-z]+)")


def math_spans(s):
    return [(m.start(1), m.end(1)) for m in INLINE.finditer(s)]


def map_math(s, f):
    """s with f applied to the content of each inline $...$ span (None when f changes nothing)."""
    out, last = [], 0
    for a, b in math_spans(s):
        out.append(s[last:a])
        out.append(f(s[a:b]))
        last = b
    out.append(s[last:])
    t = "".join(out)
    return t if t != s else None


def map_prose(s, f):
    """s with f applied to the text outside inline maths and outside LaTeX commands' names."""
    out, last = [], 0
    for a, b in math_spans(s):
        out.append(f(s[last:a - 1]) + "$")
        out.append(s[a:b])
        last = b
    out.append(f(s[last:]))
    t = "".join(out)
    return t if t != s else None


def upper_commands(s, rng):
    # \frac -> \FRAC, \text{..} -> \TEXT{..}, \triangle -> \TRIANGLE: the case.
    t = COMMAND.sub(lambda m: "\\" + m.group(1).upper(), s)
    return t if t != s else None


def upper_all(s, rng):
    # The whole text in ASCII capitals (the lowercase step is on by default: case is not a difference).
    t = s.translate({c: c - 32 for c in range(ord("a"), ord("z") + 1)})
    return t if t != s else None


def dfrac(s, rng):
    t = re.sub(r"\\frac(?![A-Za-z])", r"\\dfrac", s)
    return t if t != s else None


def display_dollars(s, rng):
    return map_math(s, lambda m: "$" + m + "$")  # $x$ -> $$x$$


def paren_delims(s, rng):
    t = INLINE.sub(lambda m: "\\(" + m.group(1) + "\\)", s)
    return t if t != s else None


def bracket_delims(s, rng):
    # \[..\] <-> $$..$$
    if "\\[" in s:
        t = re.sub(r"\\\[(.*?)\\\]", lambda m: "$$" + m.group(1) + "$$", s, flags=re.S)
    else:
        t = re.sub(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$", lambda m: "\\[" + m.group(1) + "\\]", s, flags=re.S)
    return t if t != s else None


def left_right(s, rng):
    # ( ) -> \left( \right) in maths whose parentheses are balanced
    def f(m):
        depth = 0
        for c in m:
            depth += (c == "(") - (c == ")")
            if depth < 0:
                return m
        if depth != 0:
            return m
        return m.replace("(", "\\left(").replace(")", "\\right)")
    return map_math(s, f)


def thin_spaces(s, rng):
    # \, after each comma in maths, and before a final differential-style letter pair
    return map_math(s, lambda m: m.replace(",", ",\\,"))


def displaystyle(s, rng):
    return map_math(s, lambda m: "\\displaystyle " + m if "\\frac" in m or "\\sum" in m else m)


def text_mbox(s, rng):
    t = re.sub(r"\\text\{", r"\\mbox{", s)
    return t if t != s else None


def nbsp(s, rng):
    chars = list(s)
    idx = [i for i, c in enumerate(chars) if c == " "]
    if not idx:
        return None
    for i in rng.sample(idx, max(1, len(idx) // 3)):
        chars[i] = "\u00a0"
    return "".join(chars)


def zero_width(s, rng):
    # U+200B between some words, a byte-order mark U+FEFF in front, U+2060 word joiner, U+200C/200D
    words = s.split(" ")
    if len(words) < 3:
        return None
    marks = ["\u200b", "\u200c", "\u200d", "\u2060"]
    for k in rng.sample(range(1, len(words)), min(3, len(words) - 1)):
        words[k] = marks[k % len(marks)] + words[k]
    return "\ufeff" + " ".join(words)


def soft_hyphen(s, rng):
    # U+00AD inside a long word (left by copying from a hyphenating PDF or web page)
    m = re.search(r"(?<![\\A-Za-z])([a-z]{4})([a-z]{4,})", s)
    if not m:
        return None
    return s[:m.start(2)] + "\u00ad" + s[m.start(2):]


def crlf(s, rng):
    t = s.replace("\n", "\r\n")
    return t + "\r\n" if t == s else t  # Windows line ends; a trailing one when the text has no newline


def extra_space(s, rng):
    # doubled spaces, a tab, a newline for a space, leading and trailing blanks
    words = s.split(" ")
    if len(words) < 3:
        return "  " + s + " \n"
    seps = ["  ", "\t", "\n", " \n "]
    out = words[0]
    for k, w in enumerate(words[1:]):
        out += (seps[k % len(seps)] if k % 3 == 0 else " ") + w
    return " " + out + "\n\n"


def fullwidth(s, rng):
    # prose letters and digits as fullwidth forms (U+FF01-FF5E), maths left alone
    def f(p):
        return re.sub(r"(?<!\\)\b([A-Za-z0-9]+)\b", lambda m: "".join(chr(ord(c) + 0xFEE0) for c in m.group(1)), p)
    # commands inside prose (\text in $..$ is not prose) keep their names: only words not after a backslash
    return map_prose(s, f)


def unicode_minus(s, rng):
    return map_math(s, lambda m: re.sub(r"(?<![\\A-Za-z])-", "\u2212", m))


def curly_quotes(s, rng):
    def f(p):
        p = re.sub(r"(?<=[A-Za-z])'(?=[A-Za-z])", "\u2019", p)  # don't -> don’t
        p = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", p)
        return p
    return map_prose(s, f)


def trailing_period(s, rng):
    t = s.rstrip()
    if t.endswith("."):
        return t[:-1]
    if t.endswith("?") or t.endswith("$"):
        return None
    return t + "."


def math_spacing(s, rng):
    # spaces around = + - < > in maths (LaTeX ignores spaces in maths)
    def f(m):
        if "\\text" in m or "\\mbox" in m:
            return m
        t = re.sub(r"\s*([=+<>])\s*", r" \1 ", m)
        return t.strip() if t.strip() != m else m
    return map_math(s, f)


def le_aliases(s, rng):
    # \le and \leq, \ge and \geq, \ne and \neq are the same commands
    alias = {"le": "leq", "leq": "le", "ge": "geq", "geq": "ge", "ne": "neq", "neq": "ne"}
    t = re.sub(r"\\(leq?|geq?|neq?)(?![A-Za-z])", lambda m: "\\" + alias[m.group(1)], s)
    return t if t != s else None


def unicode_symbols(s, rng):
    # \pi -> π, \times -> ×, \cdot -> ·, \le -> ≤ ... (the rendered character pasted instead of the command)
    table = {"pi": "\u03c0", "times": "\u00d7", "le": "\u2264", "leq": "\u2264", "ge": "\u2265", "geq": "\u2265",
             "infty": "\u221e", "alpha": "\u03b1", "theta": "\u03b8", "cdot": "\u22c5", "circ": "\u2218"}
    t = re.sub(r"\\(pi|times|leq?|geq?|infty|alpha|theta|cdot|circ)(?![A-Za-z]) ?", lambda m: table[m.group(1)], s)
    return t if t != s else None


def superscript(s, rng):
    # ^2 -> ², ^3 -> ³ in maths
    return map_math(s, lambda m: re.sub(r"\^([23])(?![0-9])", lambda k: "\u00b2" if k.group(1) == "2" else "\u00b3", m))


TRANSFORMS = [
    upper_commands, upper_all, dfrac, display_dollars, paren_delims, bracket_delims, left_right, thin_spaces,
    displaystyle, text_mbox, nbsp, zero_width, soft_hyphen, crlf, extra_space, fullwidth, unicode_minus,
    curly_quotes, trailing_period, math_spacing, le_aliases, unicode_symbols, superscript,
]


def score(planted_path, rejected_path):
    """Markdown rows: per transform, copies and how many dedup.exact rejected as a duplicate of their own
    original (copies rejected as duplicates of another copy of the same problem are misses: their key is
    not the original's); then records merged into another problem (false merges)."""
    rows = {}
    group = {}
    with open(planted_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            group[r["id"]] = (r["group"], r["transform"])
    caught, wrong = {}, {}
    with open(rejected_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            g, t = group[r["id"]]
            dup = (r.get("tamis") or {}).get("dup_of")
            if dup == f"o{g}":  # the original's key (not merely another copy's: two copies may share a miss)
                caught[t] = caught.get(t, 0) + 1
            elif group.get(dup, (None,))[0] != g:
                wrong[t] = wrong.get(t, 0) + 1
                print(f"false merge: {r['id']} into {dup}", file=sys.stderr)
    for g, t in group.values():
        rows[t] = rows.get(t, 0) + 1
    print("| transform (copy of a real problem) | copies | caught | recall |")
    print("|---|---:|---:|---:|")
    total = hit = 0
    for t in sorted((t for t in rows if t != "original"), key=lambda t: (caught.get(t, 0) / rows[t], t)):
        n, c = rows[t], caught.get(t, 0)
        total += n
        hit += c
        print(f"| {t} | {n} | {c} | {100.0 * c / n:.1f}% |")
    print(f"| **all** | {total} | {hit} | {100.0 * hit / total:.1f}% |")
    print()
    print(f"false merges on the planted set: {sum(wrong.values())} of {rows.get('original', 0)} originals and {total} copies "
          f"({', '.join(f'{t}: {n}' for t, n in sorted(wrong.items())) or 'none'})")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "score":
        return score(sys.argv[2], sys.argv[3])
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out_path = sys.argv[1]
    problems, seen = [], set()
    for arg in sys.argv[2:]:
        path, _, n = arg.partition(":")
        limit = int(n) if n else None
        with open(path, encoding="utf-8") as f:
            for k, line in enumerate(f):
                if limit is not None and k >= limit:
                    break
                p = json.loads(line).get("problem")
                if isinstance(p, str) and p not in seen:
                    seen.add(p)
                    problems.append(p)
    with open(out_path, "w", encoding="utf-8") as out:
        for g, p in enumerate(problems):
            out.write(json.dumps({"id": f"o{g}", "problem": p, "group": g, "transform": "original"}, ensure_ascii=False) + "\n")
        for g, p in enumerate(problems):
            for t in TRANSFORMS:
                rng = random.Random(f"{g}-{t.__name__}")
                c = t(p, rng)
                if c is not None and c != p:
                    out.write(json.dumps({"id": f"c{g}-{t.__name__}", "problem": c, "group": g, "transform": t.__name__},
                                         ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
