// What the engine is running on each thread, for the crash handler (cli/main.cpp): when a plugin
// crashes (SIGSEGV, SIGABRT, ...), tamis says which stage, op, plugin file and hook were running
// before it dies. A Scope marks a hook call; its text is made once per stage, so marking costs two
// stores of a pointer. The handler reads current() — a plain thread-local pointer, safe to read from a
// signal handler on the crashing thread.
#pragma once

#include <signal.h>

#include <cstddef>

namespace tamis::crash {

// Gives the calling thread an alternate signal stack, once, unless it has one: the crash handler runs
// there (SA_ONSTACK), so that it can still report a stack overflow. The stack is thread-local storage,
// gone with the thread (a thread that ends while on it cannot exist: the handler re-raises and dies).
inline void install_alternate_stack() noexcept {
  constexpr size_t kSize = 64 * 1024;
  alignas(16) thread_local char stack[kSize];
  thread_local bool done = false;
  if (done) return;
  done = true;
  stack_t now{};
  if (::sigaltstack(nullptr, &now) == 0 && !(now.ss_flags & SS_DISABLE)) return;  // one is set already
  stack_t ss{};
  ss.ss_sp = stack;
  ss.ss_size = kSize;
  ::sigaltstack(&ss, nullptr);
}

inline const char*& current_stage() {
  thread_local const char* text = nullptr;  // "stage 'x' (op y, plugin /path/lib.so)"
  return text;
}
inline const char*& current_hook() {
  thread_local const char* hook = nullptr;  // "process", "finish", ...
  return hook;
}

// Marks `stage_text` / `hook` as running on this thread until the end of the scope (nests). The first
// Scope on a thread gives it an alternate signal stack (later ones test a thread-local flag), so every
// thread that runs a stage has one; no TBB observer is needed (one leaked its proxy at exit under ASan).
class Scope {
 public:
  Scope(const char* stage_text, const char* hook)
      : stage_(current_stage()), hook_(current_hook()) {
    install_alternate_stack();
    current_stage() = stage_text;
    current_hook() = hook;
  }
  ~Scope() {
    current_stage() = stage_;
    current_hook() = hook_;
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const char* stage_;
  const char* hook_;
};

}  // namespace tamis::crash
