#!/usr/bin/env python3
"""Checks a gen_prompts file and prints what is in it.

    bench/check_prompts.py bench/data/prompts-1m.jsonl

Fails (exit 1, with the line number) on a line that is not valid UTF-8, not valid JSON, not an object, or
holds a lone surrogate escape. Then prints the size, the mean bytes of the text fields, the share of exact
duplicate problems, short and long problems, missing or empty answers, and the languages and sources.
Standard library only: runs with any python3.
"""
import collections
import json
import sys


def main(path):
    n = total = exact = short = long_ = no_answer = empty_answer = no_solution = 0
    field_bytes = collections.Counter()
    langs = collections.Counter()
    sources = collections.Counter()
    seen = set()
    lengths = []
    with open(path, 'rb') as f:
        for n, raw in enumerate(f, 1):
            total += len(raw)
            try:
                obj = json.loads(raw.decode('utf-8'))
                if not isinstance(obj, dict):
                    raise ValueError('not a JSON object')
                # json accepts "\ud83d" alone; encoding it back to UTF-8 does not.
                json.dumps(obj, ensure_ascii=False).encode('utf-8')
            except (UnicodeError, ValueError) as e:
                sys.exit(f'{path}:{n}: {e}')
            for key in ('problem', 'solution', 'answer'):
                if key in obj:
                    field_bytes[key] += len(json.dumps(obj[key], ensure_ascii=False).encode('utf-8'))
            problem = obj['problem']
            lengths.append(len(problem))
            if problem in seen:
                exact += 1
            seen.add(problem)
            short += len(problem) < 20
            long_ += len(problem) > 4000
            if 'answer' not in obj:
                no_answer += 1
            elif obj['answer'] == '':
                empty_answer += 1
            no_solution += 'solution' not in obj
            langs[obj.get('meta', {}).get('lang', '?')] += 1
            sources[obj.get('source', '?')] += 1
    if n == 0:
        sys.exit(f'{path}: empty')

    def share(count):
        return f'{count / n:.2%}'

    lengths.sort()
    quantiles = ' '.join(f'p{q:g}={lengths[int(q / 100 * (n - 1))]}' for q in (1, 10, 50, 90, 99, 99.9))
    print(f'{path}: {n} records, {total} bytes, {total / n:.1f} bytes/record: all valid JSON objects in UTF-8')
    print('mean bytes per record:', ', '.join(f'{k} {v / n:.1f}' for k, v in field_bytes.items()))
    print(f'exact duplicate problems {share(exact)}; problems under 20 chars {share(short)}, '
          f'over 4000 chars {share(long_)}; answer missing {share(no_answer)}, empty {share(empty_answer)}; '
          f'solution missing {share(no_solution)}')
    print(f'problem chars: {quantiles} max={lengths[-1]}')
    print('languages:', ', '.join(f'{k} {share(v)}' for k, v in langs.most_common()))
    print('sources:', ', '.join(f'{k} {share(v)}' for k, v in sources.most_common()))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: check_prompts.py FILE.jsonl')
    main(sys.argv[1])
