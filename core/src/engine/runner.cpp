#include "engine/runner.hpp"

#include <tbb/parallel_pipeline.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "common/log.hpp"
#include "engine/crash_context.hpp"
#include "engine/gather.hpp"
#include "engine/evidence.hpp"
#include "engine/input_cursor.hpp"
#include "engine/parse.hpp"
#include "engine/progress.hpp"
#include "engine/run_outputs.hpp"
#include "engine/stage_call.hpp"
#include "engine/stage_runtime.hpp"
#include "io/jsonl_reader.hpp"
#include "io/output_set.hpp"
#include "sinks/sink_kind.hpp"
#include "sources/source_kind.hpp"

namespace tamis {

std::atomic<bool> g_interrupted{false};

namespace {

using Clock = std::chrono::steady_clock;

uint64_t nanos_since(Clock::time_point t0) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

class Runner {
 public:
  Runner(const Pipeline& p, const RunOptions& o)
      : p_(p), o_(o), pool_(o.chunk_bytes), outputs_(p), cursor_(p, o.chunk_bytes, pool_, names_) {}
  ~Runner();

  RunTotals run();

 private:
  int node_of(const InputRef& in) const {
    return in.node.kind == NodeRef::source ? in.node.index : static_cast<int>(p_.sources.size()) + in.node.index;
  }
  Batch* read_next();
  void parse(Batch& b);
  void start_stage(int idx, int threads, const std::vector<int>& consumers) {
    stages_[idx] = StageRuntime::start(p_, idx, threads, consumers, outputs_.set(), o_.dry_run);
  }
  void first_pass(const std::vector<int>& observers, int threads, const std::vector<int>& consumers);
  tbb::filter<void, Batch*> read_parse_stages(const std::vector<bool>& run, const std::vector<bool>& observe);
  void run_tbb(const tbb::filter<void, void>& whole, int threads);
  void render(Batch& b);
  void account(Batch& b);
  void write(Batch* b);
  std::string display_file(int source, int file) const { return names_.files[source][file]; }

  const Pipeline& p_;
  RunOptions o_;
  io::BufferPool pool_;
  std::vector<std::unique_ptr<StageRuntime>> stages_;  // by stage index
  RunOutputs outputs_;  // the sinks' files and the side files, put in place together at the end
  RunNames names_;  // sources and their files as shown to users

  bool first_pass_ = false;  // reading for the first pass: files are not counted

  InputCursor cursor_;  // the read step
  EvidenceSampler evidence_{p_};  // samples of each stage's decisions, for the report (account step)
  Distributions distributions_;   // the records' sizes and annotation values, for the report's histograms

  RunTotals totals_;
  std::vector<StageBatchStats> stage_totals_;
  std::unique_ptr<Progress> progress_;
  Clock::time_point start_;

  // The batches inside a TBB pipeline, from the read filter to the last one. When a filter throws,
  // TBB cancels the pipeline and drops the batches in flight: the destructor frees them.
  std::mutex in_flight_mutex_;
  std::unordered_set<Batch*> in_flight_;
  Batch* track(Batch* b) {
    std::lock_guard lock(in_flight_mutex_);
    in_flight_.insert(b);
    return b;
  }
  Batch* untrack(Batch* b) {  // the caller owns it now
    std::lock_guard lock(in_flight_mutex_);
    in_flight_.erase(b);
    return b;
  }
};

// After a failed run: the batches the cancelled pipeline dropped, and their ordered ops' scratch.
Runner::~Runner() {
  for (Batch* b : in_flight_) {
    for (size_t i = 0; i < b->calls.size() && i < stages_.size(); ++i) {
      StageCall* call = b->calls[i].get();
      const StageRuntime* st = stages_[i].get();
      if (call && call->cbatch.op_scratch && st && st->op->release_scratch) st->op->release_scratch(st->state, call->cbatch.op_scratch);
    }
    delete b;
  }
}

Batch* Runner::read_next() { return cursor_.next(first_pass_ ? nullptr : &totals_.sources); }

void Runner::parse(Batch& b) {
  const auto t0 = Clock::now();
  parse_batch(p_, b, names_.files[b.source][b.file]);
  b.parse_nanos = nanos_since(t0);
}

// Serial, in input order: stop at a fatal error, give each sink's bytes their file offset, add up.
void Runner::account(Batch& b) {
  if (!b.fatal.empty()) throw RunError(b.fatal);
  outputs_.reserve(b);
  SourceTotals& src = totals_.sources[b.source];
  const uint64_t records = b.inputs.size() - b.errors;
  src.records += records;
  src.errors += b.errors;
  src.blank += b.chunk.blank_lines;
  src.bytes += b.chunk.bytes;
  src.lines += b.inputs.size() + b.chunk.blank_lines;
  totals_.read += b.inputs.size();
  totals_.errors += b.errors;
  for (const InputEntry& e : b.inputs) {
    if (e.fate == Fate::kept) ++totals_.kept;
    else if (e.fate == Fate::rejected) ++totals_.rejected;
  }
  totals_.input_bytes += b.chunk.bytes;
  evidence_.add(b, names_);
  distributions_.merge(b.distributions);
  totals_.parse_seconds += static_cast<double>(b.parse_nanos) * 1e-9;
  totals_.render_seconds += static_cast<double>(b.render_nanos) * 1e-9;
  for (size_t s = 0; s < stage_totals_.size(); ++s) {
    StageBatchStats& t = stage_totals_[s];
    const StageBatchStats& x = b.stage_stats[s];
    t.in += x.in;
    t.out += x.out;
    t.emitted += x.emitted;
    t.nanos += x.nanos;
    t.serial_nanos += x.serial_nanos;
    for (const auto& [k, v] : x.rejected) t.rejected[k] += v;
    for (const auto& [k, v] : x.counters) t.counters[k] += v;
    for (const auto& [k, v] : x.missing)  // batches come in input order: the first evidence stays
      if (auto [it, fresh] = t.missing.try_emplace(k, v); !fresh) it->second.count += v.count;
  }
  if (progress_) {
    // The stage with the most time so far (work summed over threads), and its share of all stages' time.
    uint64_t all = 0, most = 0;
    size_t slowest = 0;
    for (size_t s = 0; s < stage_totals_.size(); ++s) {
      all += stage_totals_[s].nanos;
      if (stage_totals_[s].nanos > most) most = stage_totals_[s].nanos, slowest = s;
    }
    std::string name;
    if (most > 0) name = p_.stages[slowest].name + " " + std::to_string(most * 100 / all) + "%";
    progress_->update(totals_.read, totals_.input_bytes, cursor_.file_bytes_read(), cursor_.total_file_bytes(), name);
  }
}

void Runner::render(Batch& b) {
  const auto t0 = Clock::now();
  if (!b.fatal.empty()) return;  // the writer stops the run at this batch
  outputs_.render(b, names_.sources[b.source], names_.files[b.source][b.file]);
  for (const Record& r : b.records) b.distributions.add(r);
  b.render_nanos = nanos_since(t0);
}

// Parallel: the bytes go to their reserved offsets; the batch is done.
void Runner::write(Batch* raw) {
  std::unique_ptr<Batch> b(raw);
  outputs_.write(*b);
  pool_.put(std::move(b->chunk.buffer));
}

// The head of a TBB pipeline: read (serial) → parse → each stage in `run`, in execution order (an
// ordered stage's serial part observes instead, for the first pass, when `observe` says so).
tbb::filter<void, Batch*> Runner::read_parse_stages(const std::vector<bool>& run, const std::vector<bool>& observe) {
  using tbb::filter_mode;
  tbb::filter<void, Batch*> chain = tbb::make_filter<void, Batch*>(filter_mode::serial_in_order, [this](tbb::flow_control& fc) -> Batch* {
    Batch* b = read_next();
    if (!b) fc.stop();
    else track(b);
    return b;
  });
  chain = chain & tbb::make_filter<Batch*, Batch*>(filter_mode::parallel, [this](Batch* b) {
    parse(*b);
    return b;
  });
  for (int idx : p_.stage_order) {
    if (!run[static_cast<size_t>(idx)]) continue;
    StageRuntime* st = stages_[idx].get();
    chain = chain & tbb::make_filter<Batch*, Batch*>(filter_mode::parallel, [this, st](Batch* b) {
      st->run_parallel(p_, names_, *b);
      return b;
    });
    if (st->op->kind != TAMIS_OP_ORDERED) continue;
    const bool observes = !observe.empty() && observe[static_cast<size_t>(idx)];
    chain = chain & tbb::make_filter<Batch*, Batch*>(filter_mode::serial_in_order, [this, st, observes](Batch* b) {
      if (observes) st->run_observe(names_, *b);
      else st->run_ordered(p_, names_, *b);
      return b;
    });
  }
  return chain;
}

// Runs a whole TBB pipeline on exactly `threads` threads, even beyond the core count (TBB caps its
// workers at cores - 1 otherwise), with 4 batches per thread in flight.
void Runner::run_tbb(const tbb::filter<void, void>& whole, int threads) {
  tbb::global_control workers(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(threads));
  tbb::task_arena arena(threads);
  arena.execute([&] { tbb::parallel_pipeline(static_cast<size_t>(threads) * 4, whole); });
}

// The first pass (tamis_op_desc::first_pass): each stage that asks for one sees its whole input once
// through process() and observe_ordered(). The stages upstream of it run as in the real pass and are
// then started afresh, so that the real pass feeds it exactly the records it observed, in the same
// order. Nothing is written or counted; a data error stops the run here as it would in the real pass.
void Runner::first_pass(const std::vector<int>& observers, int threads, const std::vector<int>& consumers) {
  const auto t0 = Clock::now();
  std::vector<bool> observer(p_.stages.size(), false), needed(p_.stages.size(), false);
  for (int o : observers) observer[static_cast<size_t>(o)] = true;
  std::vector<std::string> names;
  for (int o : observers) {
    std::vector<int> todo{o};
    while (!todo.empty()) {
      const int idx = todo.back();
      todo.pop_back();
      if (idx != o && observer[static_cast<size_t>(idx)])
        throw RunError("stage '" + p_.stages[o].name + "' needs a first pass over its input, and so does stage '" +
                       p_.stages[idx].name + "' upstream of it; tamis runs one first pass per run: split the "
                       "pipeline in two runs (the second reading the first one's output)");
      if (needed[static_cast<size_t>(idx)]) continue;
      needed[static_cast<size_t>(idx)] = true;
      for (const auto& in : p_.stages[idx].inputs)
        if (in.node.kind == NodeRef::stage) todo.push_back(in.node.index);
    }
    names.push_back("'" + p_.stages[o].name + "'");
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  log::info("", "first pass over the input for stage" + std::string(names.size() > 1 ? "s " : " ") + list);

  first_pass_ = true;
  const tbb::filter<void, Batch*> chain = read_parse_stages(needed, observer);
  run_tbb(chain & tbb::make_filter<Batch*, void>(tbb::filter_mode::serial_in_order, [this](Batch* raw) {
            std::unique_ptr<Batch> b(untrack(raw));
            if (!b->fatal.empty()) throw RunError(b->fatal);
            pool_.put(std::move(b->chunk.buffer));
          }),
          threads);

  // Back to the start of the input, with fresh upstream stages.
  first_pass_ = false;
  cursor_.rewind();
  for (int idx : p_.stage_order) {
    if (!needed[static_cast<size_t>(idx)] || observer[static_cast<size_t>(idx)]) continue;
    stages_[idx].reset();
    start_stage(idx, threads, consumers);
  }
  totals_.first_pass_seconds = static_cast<double>(nanos_since(t0)) * 1e-9;
  totals_.first_pass_stages = names.size();
}

RunTotals Runner::run() {
  start_ = Clock::now();
  const size_t nsrc = p_.sources.size();
  // Names shown to plugins and in outputs.
  for (const auto& s : p_.sources) {
    names_.sources.push_back(s.name);
    names_.files.push_back(s.display_files);
    totals_.sources.push_back(SourceTotals{s.name});
  }
  // How many stages and record sinks read each node: shared inputs are copied before a stage changes them.
  std::vector<int> consumers(nsrc + p_.stages.size(), 0);
  for (const auto& st : p_.stages)
    for (const auto& in : st.inputs) ++consumers[node_of(in)];
  for (const auto& s : p_.sinks)
    if (s.kind->keeps_records())
      for (const auto& in : s.inputs) ++consumers[node_of(in)];
  const bool has_errors_sink = std::any_of(p_.sinks.begin(), p_.sinks.end(), [](const SinkSpec& s) { return s.kind->keeps_unreadable_lines(); });
  for (const auto& s : p_.sources)
    if (s.on_error == OnError::skip && !has_errors_sink)
      log::warn("", "source '" + s.name + "' has on_error: skip but the pipeline has no errors sink: unreadable lines will be "
                    "counted (and listed in a ledger) but their text is not kept; add `errors: { path: ..., errors: true }`");

  // What an earlier run left in the output folders: finish a commit it was stopped in the middle of,
  // then remove the temporaries of dead tamis processes (io/output_set.hpp). A dry run leaves them be.
  if (!o_.dry_run) {
    std::vector<std::string> folders;
    for (const auto& s : p_.sinks)
      if (!s.discard) folders.push_back(std::filesystem::path(s.path).parent_path().string());
    for (const auto& m : io::recover_interrupted_commits(folders)) log::warn("", m);
    const auto stale = io::remove_stale_temporaries(folders);
    if (!stale.empty())
      log::info("", "removed " + std::to_string(stale.size()) + " temporar" + (stale.size() == 1 ? "y" : "ies") +
                        " left by tamis processes that no longer run, e.g. " + stale.front());
  }

  // Open every sink (as temporaries; none in a dry run), then start every stage.
  totals_.dry_run = o_.dry_run;
  outputs_.open(o_.dry_run);
  stages_.resize(p_.stages.size());
  const int threads = o_.threads > 0 ? o_.threads : static_cast<int>(tbb::this_task_arena::max_concurrency());
  totals_.threads = threads;
  for (int idx : p_.stage_order) start_stage(idx, threads, consumers);
  std::vector<int> observers;
  for (int idx : p_.stage_order) {
    const StageRuntime& st = *stages_[idx];
    if (st.op->first_pass && st.op->first_pass(st.state)) observers.push_back(idx);
  }
  if (!observers.empty()) first_pass(observers, threads, consumers);
  stage_totals_.resize(p_.stages.size());
  if (o_.progress) progress_ = std::make_unique<Progress>();

  // The TBB pipeline: read → parse → stages → render → write.
  using tbb::filter_mode;
  tbb::filter<void, Batch*> chain = read_parse_stages(std::vector<bool>(p_.stages.size(), true), {});
  chain = chain & tbb::make_filter<Batch*, Batch*>(filter_mode::parallel, [this](Batch* b) {
    render(*b);
    return b;
  });
  chain = chain & tbb::make_filter<Batch*, Batch*>(filter_mode::serial_in_order, [this](Batch* b) {
    account(*b);
    return b;
  });
  run_tbb(chain & tbb::make_filter<Batch*, void>(filter_mode::parallel, [this](Batch* b) { write(untrack(b)); }), threads);
  if (progress_) progress_->finish();

  // End of input: let ordered ops finish (write index files, report), then totals and the report.
  for (int idx : p_.stage_order) {
    StageRuntime& st = *stages_[idx];
    tamis_error err{};
    const crash::Scope running(st.crash_text.c_str(), "finish");
    if (st.op->finish && st.op->finish(st.state, &err) != TAMIS_OK)
      throw RunError("stage '" + st.spec->name + "' (" + st.spec->op_name + ") failed in finish: " + err.message);
  }
  totals_.seconds = static_cast<double>(nanos_since(start_)) * 1e-9;
  totals_.distributions_json = distributions_.json();
  for (int idx : p_.stage_order) {
    StageRuntime& st = *stages_[idx];
    const StageBatchStats& t = stage_totals_[idx];
    StageTotals out{st.spec->name, st.spec->op_name, t.in, t.out, t.emitted, t.rejected, t.counters,
                    static_cast<double>(t.nanos) * 1e-9, st.ctx.report_json, evidence_.json(static_cast<size_t>(idx))};
    for (const auto& [k, v] : st.ctx.counters) out.counters[k] += v;
    if (st.op->kind == TAMIS_OP_ORDERED) out.serial_seconds = static_cast<double>(t.serial_nanos) * 1e-9;
    totals_.stages.push_back(std::move(out));
    if (auto w = missing_field_warning(st, t)) totals_.warnings.push_back(std::move(*w));
  }
  totals_.sinks = outputs_.totals();
  if (!totals_.balanced())
    throw RunError("internal error: counts do not add up (read " + std::to_string(totals_.read) + " != kept " +
                   std::to_string(totals_.kept) + " + rejected " + std::to_string(totals_.rejected) + " + errors " +
                   std::to_string(totals_.errors) + ")");
  if (!o_.dry_run) outputs_.commit(format_report(p_, totals_));  // else the side files handed over are deleted with outputs_
  return totals_;
}

}  // namespace

RunTotals run_pipeline(const Pipeline& p, const RunOptions& options) {
  Runner runner(p, options);
  return runner.run();
}

}  // namespace tamis
