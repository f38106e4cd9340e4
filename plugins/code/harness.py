# The test harness tamis runs inside the sandbox (docs/code.md, "The harness"). Standard library only.
#
# It reads one JSON spec on standard input and writes one JSON line per test outcome to fd 3, then
# {"done": true}. The program under test never sees fd 3 in the stdio mode (each test runs in a forked
# child that closes it); in the check and call modes the program runs in this interpreter, which could
# forge outcomes by introspection (docs/code.md says so). A run that ends before "done" (sys.exit,
# os._exit, a crash, a limit) passes nothing that was not reported.
#
# Modes:
#   check  {program, test, entry_point?, prelude}: the program, then the test code (a check(candidate)
#          function, or assert lines) with each assert statement reported on its own: `assert A == B`
#          reports both sides' values; a failing assert does not stop the next ones.
#   stdio  {program, inputs, test_seconds, output_bytes}: the program once per input, in a fresh child
#          process, the input on its standard input; reports what it wrote (tamis compares).
#   call   {program, fn_name, inputs, outputs, test_seconds, prelude}: fn_name called with each input's
#          arguments; reports whether the return value equals the output.
import builtins
import json
import os
import resource
import select
import signal
import sys
import time
# ast (check mode) and traceback (errors) are imported where they are used: a stdio run needs neither,
# and they are a good part of the interpreter's start-up.

REPR_LIMIT = 300

PRELUDE = '''
from typing import *
import collections, heapq, itertools, functools, math, bisect, string, re, operator, random, copy, datetime
from collections import *
from heapq import *
from itertools import *
from functools import *
from math import *
from bisect import *
from string import *
from operator import *
inf = float("inf")


class ListNode:
    def __init__(self, val=0, next=None):
        self.val = val
        self.next = next


class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val = val
        self.left = left
        self.right = right


def list_node(values):
    head = ListNode()
    tail = head
    for v in values:
        tail.next = ListNode(v)
        tail = tail.next
    return head.next


def tree_node(values):
    """A tree from its level order with None for missing children (LeetCode's notation)."""
    if not values or values[0] is None:
        return None
    root = TreeNode(values[0])
    level = collections.deque([root])
    i = 1
    while level and i < len(values):
        node = level.popleft()
        for side in ("left", "right"):
            if i < len(values) and values[i] is not None:
                child = TreeNode(values[i])
                setattr(node, side, child)
                level.append(child)
            i += 1
    return root


def is_same_list(a, b):
    while a is not None and b is not None:
        if a.val != b.val:
            return False
        a, b = a.next, b.next
    return a is None and b is None


def is_same_tree(a, b):
    if a is None or b is None:
        return a is b
    return a.val == b.val and is_same_tree(a.left, b.left) and is_same_tree(a.right, b.right)
'''


def defined_by_program(g, before, name):
    """Whether the program (not the prelude) defined `name`: a prelude name (add, gcd, factorial ... from
    `from operator import *`, `from math import *`) is not the program's function."""
    return name in g and (name not in before or g[name] is not before[name])


def program_globals(spec):
    """The namespace the program runs in: __main__, with the prelude when asked."""
    g = {"__name__": "__main__", "__builtins__": builtins}
    if spec.get("prelude"):
        exec(PRELUDE, g)
    return g


def load_program(spec, g, rep):
    """Runs the program in g. Returns g's names from before it (for defined_by_program), or None after
    reporting why the program did not load."""
    before = dict(g)
    try:
        exec(compile(spec["program"], "solution.py", "exec"), g)
    except BaseException as e:
        rep.line({"program_error": error_text(e)})
        return None
    return before


def clip(text, limit=REPR_LIMIT):
    return text if len(text) <= limit else text[:limit] + "..."


def safe_repr(value):
    try:
        return clip(repr(value))
    except BaseException as e:  # a repr that raises
        return "<repr failed: %s>" % type(e).__name__


def error_text(e):
    import traceback
    lines = traceback.format_exception_only(type(e), e)
    return clip("".join(lines).strip(), 600)


class Reporter:
    def __init__(self, fd):
        self.out = os.fdopen(fd, "w", buffering=1, encoding="utf-8", errors="replace")
        self.seen = {}

    def line(self, obj):
        self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")

    def outcome(self, index, ok, **evidence):
        # An assert in a loop runs many times: its first pass and its first failure are enough.
        key = (index, ok)
        if key in self.seen:
            return
        self.seen[key] = True
        self.line(dict(t=index, ok=ok, **evidence))


# ---- check mode ----------------------------------------------------------------------------------

def rewrite_asserts(tree):
    """Each `assert X` becomes __tamis_true__(i, lambda: X); `assert A == B` __tamis_eq__(i, lambda: A, lambda: B).
    Returns the tree and the number of assert statements."""
    import ast

    class AssertRewriter(ast.NodeTransformer):
        def __init__(self):
            self.count = 0

        def visit_Assert(self, node):
            index = self.count
            self.count += 1
            test = node.test
            if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
                func, args = "__tamis_eq__", [test.left, test.comparators[0]]
            else:
                func, args = "__tamis_true__", [test]
            call = ast.Call(
                func=ast.Name(id=func, ctx=ast.Load()),
                args=[ast.Constant(value=index)] + [ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]), body=a) for a in args],
                keywords=[])
            return ast.copy_location(ast.Expr(value=call), node)

    rewriter = AssertRewriter()
    tree = ast.fix_missing_locations(rewriter.visit(tree))
    return tree, rewriter.count


def run_check(spec, rep):
    g = program_globals(spec)
    import ast
    tree, count = rewrite_asserts(ast.parse(spec["test"], "test.py"))
    rep.line({"tests": count})

    def eq(index, left, right):
        try:
            got = left()
        except BaseException as e:
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            rep.outcome(index, False, error=error_text(e))
            return
        try:
            want = right()
            ok = bool(got == want)
        except BaseException as e:
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            rep.outcome(index, False, error=error_text(e))
            return
        if ok:
            rep.outcome(index, True)
        else:
            rep.outcome(index, False, got=safe_repr(got), expected=safe_repr(want))

    def true(index, test):
        try:
            ok = bool(test())
        except BaseException as e:
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            rep.outcome(index, False, error=error_text(e))
            return
        rep.outcome(index, ok)

    g["__tamis_eq__"] = eq
    g["__tamis_true__"] = true
    before = load_program(spec, g, rep)
    if before is None:
        return
    try:
        exec(compile(tree, "test.py", "exec"), g)
        entry = spec.get("entry_point")
        if entry:
            if not defined_by_program(g, before, entry):
                rep.line({"program_error": "the program defines no %s (the entry point)" % entry})
                return
            g["check"](g[entry])
    except BaseException as e:
        rep.line({"test_error": error_text(e)})


# ---- call mode -----------------------------------------------------------------------------------

class TestTimeout(Exception):
    pass


def on_alarm(signum, frame):
    raise TestTimeout()


def run_call(spec, rep):
    g = program_globals(spec)
    rep.line({"tests": len(spec["inputs"])})
    before = load_program(spec, g, rep)
    if before is None:
        return
    name = spec["fn_name"]
    if defined_by_program(g, before, "Solution") and hasattr(g["Solution"], name):
        target = getattr(g["Solution"](), name)
    elif defined_by_program(g, before, name):
        target = g[name]
    else:
        rep.line({"program_error": "the program defines no %s" % name})
        return
    signal.signal(signal.SIGALRM, on_alarm)
    for i, (args, want) in enumerate(zip(spec["inputs"], spec["outputs"])):
        signal.setitimer(signal.ITIMER_REAL, float(spec.get("test_seconds", 6)))
        try:
            got = target(*args) if isinstance(args, list) else target(args)
            signal.setitimer(signal.ITIMER_REAL, 0)
        except TestTimeout:
            rep.outcome(i, False, status="timeout")
            continue
        except BaseException as e:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            rep.outcome(i, False, error=error_text(e))
            continue
        # APPS wraps a return value in a one-element list; a tuple compares as the list JSON made of it.
        ok = got == want or [got] == want or (isinstance(got, tuple) and list(got) == want)
        if ok:
            rep.outcome(i, True)
        else:
            rep.outcome(i, False, got=safe_repr(got), expected=safe_repr(want))


# ---- stdio mode ----------------------------------------------------------------------------------

def child_run(code, in_path, out_path, err_path, test_seconds, output_bytes):
    """In the forked child: the program on in_path, its output to out_path; never returns."""
    try:
        os.close(3)
        secs = max(1, int(test_seconds + 0.999))
        used = resource.getrusage(resource.RUSAGE_SELF)
        base = int(used.ru_utime + used.ru_stime)
        resource.setrlimit(resource.RLIMIT_CPU, (base + secs, base + secs + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (output_bytes, output_bytes))
        for fd, path, flags in ((0, in_path, os.O_RDONLY), (1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                                (2, err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
            f = os.open(path, flags, 0o600)
            os.dup2(f, fd)
            os.close(f)
        sys.stdin = open(0, "r", encoding="utf-8", errors="replace", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
        status = 0
        try:
            exec(code, {"__name__": "__main__", "__builtins__": builtins})
        except SystemExit as e:
            status = 0 if e.code is None or e.code == 0 else 1
            if isinstance(e.code, str):
                sys.stderr.write(e.code + "\n")
        except BaseException:
            import traceback
            traceback.print_exc()
            status = 1
        try:
            sys.stdout.flush()
        except BaseException:
            import traceback
            traceback.print_exc()
            status = 1
        sys.stderr.flush()
        os._exit(status)
    except BaseException:
        os._exit(120)


def kill_strays():
    """Kills every process of the run but the sandbox's init (pid 1) and this harness: what a test left
    running (a background or detached process) does not reach the next test. The run has its own PID
    namespace, so /proc lists only its own processes."""
    me = os.getpid()
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, me):
            try:
                os.kill(int(name), signal.SIGKILL)
            except OSError:
                pass
    while True:  # reap those that were this harness's children
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break


def read_head(path, limit):
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return ""


def run_stdio(spec, rep):
    inputs = spec["inputs"]
    rep.line({"tests": len(inputs)})
    try:
        code = compile(spec["program"], "solution.py", "exec")
    except BaseException as e:
        rep.line({"program_error": error_text(e)})
        return
    test_seconds = float(spec.get("test_seconds", 6))
    output_bytes = int(spec.get("output_bytes", 1 << 20))
    work = "/tmp/.tamis"
    os.makedirs(work, exist_ok=True)
    in_path, out_path, err_path = work + "/in", work + "/out", work + "/err"
    for i, text in enumerate(inputs):
        with open(in_path, "w", encoding="utf-8") as f:
            f.write(text)
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            child_run(code, in_path, out_path, err_path, test_seconds, output_bytes)
        pidfd = os.pidfd_open(pid)
        ready, _, _ = select.select([pidfd], [], [], test_seconds)
        timed_out = not ready
        if timed_out:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(pidfd)
        kill_strays()
        seconds = round(time.monotonic() - start, 3)
        out = read_head(out_path, output_bytes)
        err = read_head(err_path, 4096)
        if timed_out:
            rep.line({"t": i, "status": "timeout", "seconds": seconds})
        elif os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            name = {signal.SIGXCPU: "timeout", signal.SIGKILL: "timeout", signal.SIGXFSZ: "output_limit"}.get(sig, "crashed")
            rep.line({"t": i, "status": name, "signal": sig, "seconds": seconds, "err": clip(err, 600)})
        else:
            code_ = os.WEXITSTATUS(status)
            rep.line({"t": i, "status": "ran" if code_ == 0 else "error", "exit": code_, "out": out,
                      "err": clip(err.strip().splitlines()[-1] if err.strip() else "", 600), "seconds": seconds})


def main():
    nproc = int(os.environ.get("TAMIS_SANDBOX_NPROC", "16"))
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    spec = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), int(spec.get("recursion_limit", 10000))))
    rep = Reporter(3)
    mode = spec["mode"]
    if mode == "check":
        run_check(spec, rep)
    elif mode == "stdio":
        run_stdio(spec, rep)
    elif mode == "call":
        run_call(spec, rep)
    else:
        rep.line({"harness_error": "unknown mode %r" % mode})
    rep.line({"done": True})
    rep.out.flush()
    sys.stdout.flush()
    os._exit(0)


main()
