#include "engine/runner.hpp"

#include <simdjson.h>
#include <tamis/json.hpp>
#include <tbb/parallel_pipeline.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_set>
#include <unistd.h>

#include "common/log.hpp"
#include "common/version.hpp"
#include "engine/crash_context.hpp"
#include "engine/progress.hpp"
#include "engine/stage_call.hpp"
#include "io/atomic_writer.hpp"
#include "io/jsonl_reader.hpp"
#include "io/output_set.hpp"
#include "engine/gather.hpp"
#include "sinks/render.hpp"
#include "sinks/sink_kind.hpp"
#include "sources/source_kind.hpp"

namespace tamis {

std::atomic<bool> g_interrupted{false};

namespace {

using Clock = std::chrono::steady_clock;

uint64_t nanos_since(Clock::time_point t0) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

// A short, printable excerpt of a bad line for error messages.
std::string excerpt(std::string_view line) {
  std::string_view head = line.substr(0, 120);
  while (!head.empty() && head.size() < line.size() && (static_cast<unsigned char>(line[head.size()]) & 0xC0) == 0x80)
    head.remove_suffix(1);  // do not cut a UTF-8 character
  const bool utf8 = simdjson::validate_utf8(head.data(), head.size());
  std::string out;
  for (unsigned char c : head) {
    if (c >= 0x20 && c < 0x7f) out.push_back(static_cast<char>(c));
    else if (c >= 0x80) out.push_back(utf8 ? static_cast<char>(c) : '?');
    else out += ' ';
  }
  if (line.size() > head.size()) out += " ...";
  return out;
}

// A stage while the run lasts: its op, its plugin (kept loaded), its state.
struct StageRuntime {
  const StageSpec* spec = nullptr;
  int index = -1;
  const tamis_op_desc* op = nullptr;
  std::shared_ptr<const LoadedPlugin> plugin;
  void* state = nullptr;
  StageContext ctx;
  std::vector<bool> clone_input;  // per input: the input is read by others too, so work on copies
  std::string crash_text;         // "stage 'x' (op y, plugin FILE)": what the crash handler names

  ~StageRuntime() {
    const crash::Scope running(crash_text.c_str(), "destroy");
    if (state && op->destroy) op->destroy(state);
  }
};

// The warning for a stage that rejected (nearly) all its input for missing fields, if it did: about
// the field (or reason) most records were rejected for.
std::optional<RunWarning> missing_field_warning(const StageRuntime& st, const StageBatchStats& t) {
  uint64_t all = 0;
  const MissingFieldStats* top = nullptr;
  for (const auto& [_, m] : t.missing) {  // key order on ties: deterministic
    all += m.count;
    if (!top || m.count > top->count) top = &m;
  }
  if (!top || t.in < kMissingFieldMin || static_cast<double>(all) < kMissingFieldShare * static_cast<double>(t.in))
    return std::nullopt;
  return RunWarning{st.spec->name, st.spec->op_name, top->field, top->reason, top->detail,
                    top->count, all - top->count, t.in, top->record_fields};
}

class Runner {
 public:
  Runner(const Pipeline& p, const RunOptions& o) : p_(p), o_(o), pool_(o.chunk_bytes) {}
  ~Runner();

  RunTotals run();

 private:
  int node_of(const InputRef& in) const {
    return in.node.kind == NodeRef::source ? in.node.index : static_cast<int>(p_.sources.size()) + in.node.index;
  }
  Batch* read_next();
  void parse(Batch& b);
  void stage_parallel(Batch& b, StageRuntime& st);
  void stage_ordered(Batch& b, StageRuntime& st);
  void stage_observe(Batch& b, StageRuntime& st);
  void start_stage(int idx, int threads, const std::vector<int>& consumers);
  void first_pass(const std::vector<int>& observers, int threads, const std::vector<int>& consumers);
  tbb::filter<void, Batch*> read_parse_stages(const std::vector<bool>& run, const std::vector<bool>& observe);
  void run_tbb(const tbb::filter<void, void>& whole, int threads);
  void finalize(Batch& b, StageRuntime& st, StageCall& call);
  void check_call(StageRuntime& st, StageCall& call, tamis_status rc, const tamis_error& err, const char* hook);
  void render(Batch& b);
  void account(Batch& b);
  void commit();
  void write(Batch* b);
  std::string display_file(int source, int file) const { return file_names_[source][file]; }

  const Pipeline& p_;
  RunOptions o_;
  io::BufferPool pool_;
  std::vector<std::unique_ptr<StageRuntime>> stages_;  // by stage index
  std::vector<std::unique_ptr<io::AtomicWriter>> writers_;  // by sink index (null for the report)
  std::vector<std::unique_ptr<io::AtomicWriter>> report_writers_;
  io::OutputSet outputs_;  // every output of the run, put in place together at the end (commit())
  std::vector<std::string> source_names_;
  std::vector<std::vector<std::string>> file_names_;
  std::vector<std::vector<bool>> rejected_sink_stages_;  // per sink: which stages' rejections it takes
  std::vector<int> records_sink_bit_;                     // per sink: its bit in InputEntry::sink_mask

  bool first_pass_ = false;  // reading for the first pass: files are not counted

  // Reader state (serial filter).
  size_t source_pos_ = 0;
  int file_ = -1;
  std::unique_ptr<io::ChunkReader> reader_;
  uint64_t file_bytes_done_ = 0;  // bytes of files already finished
  std::atomic<uint64_t> file_bytes_read_{0};
  uint64_t total_file_bytes_ = 0;

  RunTotals totals_;
  std::vector<StageBatchStats> stage_totals_;
  std::vector<uint64_t> sink_lines_;
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

// A source's maximum line size.
size_t max_line_bytes(const SourceSpec& src) {
  return src.max_line_bytes ? static_cast<size_t>(src.max_line_bytes) : io::kDefaultMaxLineBytes;
}

// The message for an allocation that failed while reading or parsing line `line` of a file.
std::string out_of_memory(const SourceSpec& src, const std::string& file, uint64_t line, const char* doing) {
  return file + ":" + std::to_string(line) + ": out of memory " + doing + " the line (source '" + src.name +
         "')\n  hint: lower --batch-bytes or --threads, or the source's `max_line_bytes` (now " +
         std::to_string(max_line_bytes(src)) + " bytes; longer lines are unreadable lines)";
}

Batch* Runner::read_next() {
  if (g_interrupted) throw RunError("interrupted: the run was stopped before the end; no output was written");
  while (source_pos_ < p_.source_order.size()) {
    const int s = p_.source_order[source_pos_];
    const SourceSpec& src = p_.sources[s];
    if (!reader_) {
      ++file_;
      if (file_ >= static_cast<int>(src.files.size())) {
        ++source_pos_;
        file_ = -1;
        continue;
      }
      try {
        io::ReaderLimits limits;
        limits.chunk_bytes = o_.chunk_bytes;
        limits.max_line_bytes = max_line_bytes(src);
        limits.line_cost = kBatchLineCost;
        reader_ = src.kind->open(src.files[file_], limits, pool_);
      } catch (const io::ReadError& e) {
        throw RunError(std::string(e.what()) + " (source '" + src.name + "')");
      }
      if (!first_pass_) totals_.sources[s].files++;
    }
    auto b = std::make_unique<Batch>();
    bool got = false;
    try {
      got = reader_->next(b->chunk);
    } catch (const io::ReadError& e) {
      throw RunError(std::string(e.what()) + " (source '" + src.name + "')");
    } catch (const std::bad_alloc&) {
      throw RunError(out_of_memory(src, display_file(s, file_), reader_->lines_started() + 1, "reading"));
    }
    file_bytes_read_ = file_bytes_done_ + reader_->file_bytes_consumed();
    if (!got) {
      pool_.put(std::move(b->chunk.buffer));
      file_bytes_done_ += reader_->file_bytes_consumed();
      reader_.reset();
      continue;
    }
    b->source = s;
    b->file = file_;
    return b.release();
  }
  return nullptr;
}

void Runner::parse(Batch& b) {
  const auto t0 = Clock::now();
  const SourceSpec& src = p_.sources[b.source];
  const size_t nodes = p_.sources.size() + p_.stages.size();
  b.node_out.resize(nodes);
  b.calls.resize(p_.stages.size());
  b.stage_stats.resize(p_.stages.size());
  b.rendered.resize(p_.sinks.size());
  b.encoded.resize(p_.sinks.size());
  auto& out = b.node_out[b.source];
  const auto& chunk = b.chunk;
  b.inputs.reserve(chunk.lines.size() + 1);
  out.reserve(chunk.lines.size());
  thread_local simdjson::dom::parser parser;
  std::string sanitized;
  const std::string& file = file_names_[b.source][b.file];
  const std::string_view field = p_.annotation_field;

  auto fail_line = [&](InputEntry& e, std::string message) {
    e.fate = Fate::error;
    if (e.id.empty()) e.id = file + ":" + std::to_string(e.line);
    e.error = std::move(message);
    ++b.errors;
    if (src.on_error == OnError::fail && b.fatal.empty()) {
      b.fatal = file + ":" + std::to_string(e.line) + ": " + e.error + "\n  | " + excerpt(b.line_text(e)) +
                "\n  hint: fix or remove the line, or set `on_error: skip` on source '" + src.name +
                "' to send unreadable lines to an errors sink and go on";
    }
  };

  size_t next_long = 0;  // in chunk.long_lines
  uint64_t current = chunk.lines.empty() ? chunk.truncated_line : chunk.lines.front().number;
  try {
    for (size_t i = 0; i < chunk.lines.size(); ++i) {
      const io::Line& line = chunk.lines[i];
      current = line.number;
      InputEntry& e = b.inputs.emplace_back();
      e.line = line.number;
      e.offset = line.offset;
      e.size = line.size;
      const bool too_long = next_long < chunk.long_lines.size() && chunk.long_lines[next_long].index == i;
      if (too_long) e.line_bytes = chunk.long_lines[next_long++].length;
      if (chunk.truncated && chunk.last_line_partial && i + 1 == chunk.lines.size()) {
        fail_line(e, "incomplete last line: " + *chunk.truncated);
        continue;
      }
      if (too_long) {
        fail_line(e, "line too long: " + std::to_string(e.line_bytes) + " bytes, more than max_line_bytes (" +
                         std::to_string(max_line_bytes(src)) + "); raise `max_line_bytes` on source '" + src.name +
                         "' to read it");
        continue;
      }
      const std::string_view text = chunk.text(line);  // padded: parsed in place
      simdjson::dom::element doc;
      auto err = parser.parse(text.data(), text.size(), false).get(doc);
      if (err == simdjson::NUMBER_ERROR && json::quote_big_numbers(text, sanitized)) {
        err = parser.parse(sanitized).get(doc);  // valid JSON with numbers beyond 64 bits: kept as written
      }
      if (err == simdjson::MEMALLOC) throw std::bad_alloc();
      if (err) {
        fail_line(e, err == simdjson::UTF8_ERROR ? std::string("invalid UTF-8 in the line")
                                                 : std::string("invalid JSON: ") + simdjson::error_message(err));
        continue;
      }
      simdjson::dom::object obj;
      if (doc.get_object().get(obj) != simdjson::SUCCESS) {
        fail_line(e, "the line is JSON but not an object (each line must be one JSON object)");
        continue;
      }
      if (!src.id_field.empty()) {
        simdjson::dom::element idv;
        std::string_view sv;
        int64_t iv;
        uint64_t uv;
        if (obj.at_key(src.id_field).get(idv) != simdjson::SUCCESS) {
          fail_line(e, "missing id field '" + src.id_field + "' (source '" + src.name + "' has `id: " + src.id_field + "`)");
          continue;
        }
        if (idv.get_string().get(sv) == simdjson::SUCCESS) e.id.assign(sv);
        else if (idv.get_int64().get(iv) == simdjson::SUCCESS) e.id = std::to_string(iv);
        else if (idv.get_uint64().get(uv) == simdjson::SUCCESS) e.id = std::to_string(uv);
        else {
          fail_line(e, "id field '" + src.id_field + "' is neither a string nor an integer");
          continue;
        }
      } else {
        e.id = file + ":" + std::to_string(line.number);
      }
      Record& r = b.records.emplace_back();
      r.text = text;
      r.id = e.id;
      r.origin = static_cast<uint32_t>(b.inputs.size() - 1);
      simdjson::dom::element existing;
      r.has_annotation_field = obj.at_key(field).get(existing) == simdjson::SUCCESS;
      out.push_back(&r);
    }
    if (chunk.truncated && !chunk.last_line_partial) {
      InputEntry& e = b.inputs.emplace_back();
      e.line = chunk.truncated_line;
      fail_line(e, *chunk.truncated);
    }
  } catch (const std::bad_alloc&) {
    throw RunError(out_of_memory(src, file, current, "parsing"));
  }
  b.parse_nanos = nanos_since(t0);
}

void Runner::check_call(StageRuntime& st, StageCall& call, tamis_status rc, const tamis_error& err, const char* hook) {
  if (rc == TAMIS_OK && call.error.empty()) return;
  const int64_t idx = rc != TAMIS_OK ? err.record_index : call.error_index;
  std::string where;
  if (idx >= 0 && static_cast<size_t>(idx) < call.records.size()) {
    const Record* r = call.records[idx];
    where = " on record " + r->id + " (" + display_file(call.batch->source, call.batch->file) + ":" +
            std::to_string(call.batch->inputs[r->origin].line) + ")";
  }
  const std::string message = rc != TAMIS_OK ? std::string(err.message) : call.error;
  throw RunError("stage '" + st.spec->name + "' (" + st.spec->op_name + ") failed in " + hook + where + ": " + message);
}

void Runner::stage_parallel(Batch& b, StageRuntime& st) {
  if (!b.fatal.empty()) return;
  const auto t0 = Clock::now();
  auto call = std::make_unique<StageCall>();
  call->stage = &st.ctx;
  call->stage_index = st.index;
  call->kind = st.op->kind;
  call->batch = &b;
  call->records = gather(p_, b, st.spec->inputs, &st.clone_input);
  StageBatchStats& stats = b.stage_stats[st.index];
  stats.in = call->records.size();
  if (!call->records.empty()) {
    call->build_views(source_names_, file_names_);
    tamis_error err{};
    tamis_status rc;
    {
      const crash::Scope running(st.crash_text.c_str(), "process");
      rc = st.op->process(st.state, &call->cbatch, &err);
    }
    check_call(st, *call, rc, err, "process");
  }
  if (st.op->kind == TAMIS_OP_ORDERED) {
    b.calls[st.index] = std::move(call);
  } else {
    finalize(b, st, *call);
  }
  stats.nanos += nanos_since(t0);
}

void Runner::stage_ordered(Batch& b, StageRuntime& st) {
  if (!b.fatal.empty()) return;
  const auto t0 = Clock::now();
  std::unique_ptr<StageCall> call = std::move(b.calls[st.index]);
  if (!call->records.empty()) {
    if (call->views_stale) call->build_views(source_names_, file_names_);  // the parallel part annotated or replaced
    tamis_error err{};
    const crash::Scope running(st.crash_text.c_str(), "process_ordered");
    const tamis_status rc = st.op->process_ordered(st.state, &call->cbatch, &err);
    if (call->cbatch.op_scratch && st.op->release_scratch) st.op->release_scratch(st.state, call->cbatch.op_scratch);
    call->cbatch.op_scratch = nullptr;
    check_call(st, *call, rc, err, "process_ordered");
  }
  finalize(b, st, *call);
  const uint64_t spent = nanos_since(t0);
  b.stage_stats[st.index].nanos += spent;
  b.stage_stats[st.index].serial_nanos += spent;
}

void Runner::finalize(Batch& b, StageRuntime& st, StageCall& call) {
  StageBatchStats& stats = b.stage_stats[st.index];
  std::vector<Record*> out;
  out.reserve(call.records.size());
  std::string key;
  for (size_t i = 0; i < call.records.size(); ++i) {
    Record* r = call.records[i];
    if (r->rejected_by == st.index) {
      b.rejected.push_back(r);
      stats.rejected[r->reason]++;
      if (MissingFieldStats::key_of(*r, key)) {
        MissingFieldStats& m = stats.missing[key];
        if (m.count++ == 0) {  // the evidence: the batch's first such record
          m.field = r->missing_field;
          m.reason = r->reason;
          m.detail = r->detail;
          for (const auto& member : json::members(r->text)) m.record_fields.emplace_back(member.key);
        }
      }
    } else {
      out.push_back(r);
    }
    if (i < call.emitted.size()) {
      for (Record* e : call.emitted[i]) out.push_back(e);
      stats.emitted += call.emitted[i].size();
    }
  }
  stats.out = out.size();
  b.node_out[p_.sources.size() + st.index] = std::move(out);
}

void Runner::render(Batch& b) {
  const auto t0 = Clock::now();
  if (!b.fatal.empty()) return;  // the writer stops the run at this batch
  std::vector<const Record*> rejected(b.rejected.begin(), b.rejected.end());
  std::stable_sort(rejected.begin(), rejected.end(), [](const Record* a, const Record* c) { return a->origin < c->origin; });
  const std::string& source = source_names_[b.source];
  const std::string& file = file_names_[b.source][b.file];
  auto render_sink = [&](size_t k) {
    const SinkSpec& sink = p_.sinks[k];
    const SinkRenderContext ctx{p_, sink, source, file, p_.annotation_field, rejected_sink_stages_[k], records_sink_bit_, rejected};
    sink.kind->render(ctx, b, b.rendered[k]);
  };
  // The sinks that keep records first: they mark which input lines reached one (sink_mask).
  for (size_t k = 0; k < p_.sinks.size(); ++k)
    if (p_.sinks[k].kind->keeps_records()) render_sink(k);
  for (const Record* r : b.rejected) {
    InputEntry& e = b.inputs[r->origin];
    if (!e.rejection) e.rejection = r;
  }
  for (InputEntry& e : b.inputs) {
    if (e.fate == Fate::error) continue;
    if (e.sink_mask) e.fate = Fate::kept;
    else if (e.rejection) e.fate = Fate::rejected;
    else throw RunError("internal error: record " + e.id + " was neither kept nor rejected");
  }
  for (size_t k = 0; k < p_.sinks.size(); ++k)
    if (!p_.sinks[k].kind->keeps_records()) render_sink(k);
  // Compress here, in parallel: each batch becomes one gzip member / zstd frame.
  for (size_t k = 0; k < p_.sinks.size(); ++k) {
    if (!writers_[k] || writers_[k]->compression() == io::Compression::none || b.rendered[k].empty()) continue;
    try {
      writers_[k]->encode(b.rendered[k].flatten(), b.encoded[k]);
    } catch (const io::WriteError& e) {
      throw RunError(std::string(e.what()) + " (sink '" + p_.sinks[k].name + "')");
    }
  }
  b.render_nanos = nanos_since(t0);
}

// Serial, in input order: stop at a fatal error, give each sink's bytes their file offset, add up.
void Runner::account(Batch& b) {
  if (!b.fatal.empty()) throw RunError(b.fatal);
  b.offsets.assign(p_.sinks.size(), 0);
  for (size_t k = 0; k < p_.sinks.size(); ++k) {
    const RenderedOutput& out = b.rendered[k];
    sink_lines_[k] += out.lines;
    if (!writers_[k] || out.empty()) continue;
    const bool compressed = writers_[k]->compression() != io::Compression::none;
    b.offsets[k] = writers_[k]->reserve(compressed ? b.encoded[k].size() : out.size, out.size);
  }
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
  if (progress_) progress_->update(totals_.read, totals_.input_bytes, file_bytes_read_.load(), total_file_bytes_);
}

// Parallel: the bytes go to their reserved offsets; the batch is done.
void Runner::write(Batch* raw) {
  std::unique_ptr<Batch> b(raw);
  for (size_t k = 0; k < p_.sinks.size(); ++k) {
    const RenderedOutput& out = b->rendered[k];
    if (!writers_[k] || out.empty()) continue;
    try {
      if (writers_[k]->compression() != io::Compression::none) {
        writers_[k]->write_at(b->offsets[k], b->encoded[k]);
      } else {
        std::vector<std::string_view> pieces;
        pieces.reserve(out.pieces.size());
        for (const auto& pc : out.pieces) pieces.push_back(out.piece(pc));
        writers_[k]->write_at(b->offsets[k], pieces);
      }
    } catch (const io::WriteError& e) {
      throw RunError(std::string(e.what()) + " (sink '" + p_.sinks[k].name + "')");
    }
  }
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
      stage_parallel(*b, *st);
      return b;
    });
    if (st->op->kind != TAMIS_OP_ORDERED) continue;
    const bool observes = !observe.empty() && observe[static_cast<size_t>(idx)];
    chain = chain & tbb::make_filter<Batch*, Batch*>(filter_mode::serial_in_order, [this, st, observes](Batch* b) {
      if (observes) stage_observe(*b, *st);
      else stage_ordered(*b, *st);
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

// Creates stage `idx`'s state (again, for a stage re-run after the first pass).
void Runner::start_stage(int idx, int threads, const std::vector<int>& consumers) {
  const StageSpec& spec = p_.stages[idx];
  auto st = std::make_unique<StageRuntime>();
  st->spec = &spec;
  st->index = idx;
  st->op = spec.op->desc;
  st->plugin = spec.op->plugin;
  st->ctx.name = spec.name;
  st->ctx.outputs = &outputs_;
  st->crash_text = "stage '" + spec.name + "' (op " + spec.op_name + ", plugin " + (st->plugin ? st->plugin->file : std::string("?")) + ")";
  for (const auto& in : spec.inputs) st->clone_input.push_back(consumers[node_of(in)] > 1);
  tamis_stage_info info{sizeof(tamis_stage_info),
                        {spec.name.data(), spec.name.size()},
                        {spec.params_json.data(), spec.params_json.size()},
                        {p_.dir.data(), p_.dir.size()},
                        static_cast<uint32_t>(threads),
                        st->ctx.as_void(),
                        o_.dry_run ? TAMIS_RUN_DRY : 0u};
  tamis_error err{};
  const crash::Scope running(st->crash_text.c_str(), "create");
  if (st->op->create(host_api(), &info, &st->state, &err) != TAMIS_OK) {
    st->state = nullptr;
    throw RunError("stage '" + spec.name + "' (" + spec.op_name + ") could not start: " + err.message);
  }
  stages_[idx] = std::move(st);
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
  source_pos_ = 0;
  file_ = -1;
  reader_.reset();
  file_bytes_done_ = 0;
  file_bytes_read_ = 0;
  for (int idx : p_.stage_order) {
    if (!needed[static_cast<size_t>(idx)] || observer[static_cast<size_t>(idx)]) continue;
    stages_[idx].reset();
    start_stage(idx, threads, consumers);
  }
  totals_.first_pass_seconds = static_cast<double>(nanos_since(t0)) * 1e-9;
  totals_.first_pass_stages = names.size();
}

void Runner::stage_observe(Batch& b, StageRuntime& st) {
  if (!b.fatal.empty()) return;
  std::unique_ptr<StageCall> call = std::move(b.calls[st.index]);
  if (call->records.empty()) return;
  if (call->views_stale) call->build_views(source_names_, file_names_);
  tamis_error err{};
  const crash::Scope running(st.crash_text.c_str(), "observe_ordered");
  const tamis_status rc = st.op->observe_ordered(st.state, &call->cbatch, &err);
  if (call->cbatch.op_scratch && st.op->release_scratch) st.op->release_scratch(st.state, call->cbatch.op_scratch);
  call->cbatch.op_scratch = nullptr;
  check_call(st, *call, rc, err, "observe_ordered (first pass)");
}

RunTotals Runner::run() {
  start_ = Clock::now();
  const size_t nsrc = p_.sources.size();
  // Names shown to plugins and in outputs.
  for (const auto& s : p_.sources) {
    source_names_.push_back(s.name);
    file_names_.push_back(s.display_files);
    totals_.sources.push_back(SourceTotals{s.name});
    std::error_code ec;
    for (const auto& f : s.files) total_file_bytes_ += std::filesystem::file_size(f, ec);
  }
  // How many stages and record sinks read each node: shared inputs are copied before a stage changes them.
  std::vector<int> consumers(nsrc + p_.stages.size(), 0);
  for (const auto& st : p_.stages)
    for (const auto& in : st.inputs) ++consumers[node_of(in)];
  int records_sinks = 0;
  for (const auto& s : p_.sinks) {
    records_sink_bit_.push_back(s.kind->keeps_records() ? records_sinks : -1);
    if (s.kind->keeps_records()) {
      ++records_sinks;
      for (const auto& in : s.inputs) ++consumers[node_of(in)];
    }
    std::vector<bool> take(p_.stages.size(), s.inputs.empty());
    if (s.kind->inputs() == SinkKind::Inputs::stages)
      for (const auto& in : s.inputs) take[in.node.index] = true;
    rejected_sink_stages_.push_back(std::move(take));
  }
  if (records_sinks > 64) throw RunError("a pipeline may have at most 64 record sinks");
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
  for (const auto& s : p_.sinks) {
    if (s.kind->written_at_end() || s.discard || o_.dry_run) {
      writers_.emplace_back();
      continue;
    }
    try {
      writers_.push_back(std::make_unique<io::AtomicWriter>(s.path, s.level));
      outputs_.add(*writers_.back());
    } catch (const io::WriteError& e) {
      throw RunError(std::string(e.what()) + " (sink '" + s.name + "')");
    }
  }
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
  sink_lines_.resize(p_.sinks.size());
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
  for (int idx : p_.stage_order) {
    StageRuntime& st = *stages_[idx];
    const StageBatchStats& t = stage_totals_[idx];
    StageTotals out{st.spec->name, st.spec->op_name, t.in, t.out, t.emitted, t.rejected, t.counters,
                    static_cast<double>(t.nanos) * 1e-9, st.ctx.report_json};
    for (const auto& [k, v] : st.ctx.counters) out.counters[k] += v;
    if (st.op->kind == TAMIS_OP_ORDERED) out.serial_seconds = static_cast<double>(t.serial_nanos) * 1e-9;
    totals_.stages.push_back(std::move(out));
    if (auto w = missing_field_warning(st, t)) totals_.warnings.push_back(std::move(*w));
  }
  for (size_t k = 0; k < p_.sinks.size(); ++k) {
    totals_.sinks.push_back({p_.sinks[k].name, p_.sinks[k].path, p_.sinks[k].discard ? "discard" : std::string(p_.sinks[k].kind->name()), sink_lines_[k],
                             writers_[k] ? writers_[k]->bytes_in() : 0});
  }
  if (!totals_.balanced())
    throw RunError("internal error: counts do not add up (read " + std::to_string(totals_.read) + " != kept " +
                   std::to_string(totals_.kept) + " + rejected " + std::to_string(totals_.rejected) + " + errors " +
                   std::to_string(totals_.errors) + ")");
  if (!o_.dry_run) commit();  // else the side files handed over are deleted with outputs_
  return totals_;
}

// The end of the run: the report written, then every output (sinks, side files that plugins handed
// over in finish, the report last) put in place as one set (io/output_set.hpp). A failure before the
// first rename changes nothing; signals wait until the renames are done.
void Runner::commit() {
  try {
    for (size_t k = 0; k < p_.sinks.size(); ++k) {
      if (!p_.sinks[k].kind->written_at_end()) continue;
      report_writers_.push_back(std::make_unique<io::AtomicWriter>(p_.sinks[k].path));
      report_writers_.back()->write(format_report(p_, totals_));
      outputs_.add(*report_writers_.back(), true);
    }
    outputs_.prepare();
  } catch (const io::WriteError& e) {
    throw RunError(e.what());
  }
  // From here the outputs go in place; a signal that arrived before this point still stops the run.
  io::set_committing(true);
  if (g_interrupted) {
    io::set_committing(false);
    throw RunError("interrupted: the run was stopped before its outputs were put in place; no output was written");
  }
  try {
    outputs_.commit();
  } catch (const io::CommitError& e) {
    io::set_committing(false);
    throw RunError(e.what(), true);
  } catch (const io::WriteError& e) {
    io::set_committing(false);
    throw RunError(e.what());
  }
  io::set_committing(false);
  const auto stale = io::remove_stale_temporaries(outputs_.folders());
  if (!stale.empty())
    log::info("", "removed " + std::to_string(stale.size()) + " temporar" + (stale.size() == 1 ? "y" : "ies") +
                      " left by tamis processes that no longer run, e.g. " + stale.front());
}

std::string with_commas(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string pad(std::string s, size_t width, bool right) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

}  // namespace

std::string RunWarning::message() const {
  std::string out = "stage '" + stage + "' (" + op + "): " + with_commas(count) + " of " + with_commas(in) + " records rejected ";
  if (!field.empty()) out += "because field '" + field + "' is missing or unusable (" + reason + (detail.empty() ? "" : ": " + detail) + ")";
  else out += "as " + reason + (detail.empty() ? "" : " (first: " + detail + ")");
  if (other) out += ", and " + with_commas(other) + " for other missing fields";
  out += "; the records have: ";
  constexpr size_t kShown = 16;
  for (size_t i = 0; i < record_fields.size() && i < kShown; ++i) out += (i ? ", " : "") + record_fields[i];
  if (record_fields.size() > kShown) out += ", ... (" + std::to_string(record_fields.size() - kShown) + " more)";
  if (record_fields.empty()) out += "(no fields)";
  return out + ". Check the stage's field parameters.";
}

RunTotals run_pipeline(const Pipeline& p, const RunOptions& options) {
  Runner runner(p, options);
  return runner.run();
}

std::string format_summary(const RunTotals& t) {
  double work = t.parse_seconds + t.render_seconds;
  for (const auto& s : t.stages) work += s.seconds;
  auto share = [&](double sec) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", work > 0 ? 100.0 * sec / work : 0.0);
    return std::string(buf);
  };
  size_t w = 12, wo = 18;
  for (const auto& s : t.stages) w = std::max(w, s.name.size() + 2);
  for (const auto& s : t.stages) wo = std::max(wo, s.op.size() + 2);
  for (const auto& s : t.stages)
    for (const auto& [reason, n] : s.rejected) w = std::max(w, reason.size() + 4);
  std::string out;
  out += pad("stage", w, false) + pad("op", wo, false) + pad("in", 12, true) + pad("kept", 12, true) +
         pad("rejected", 12, true) + pad("time", 8, true) + "\n";
  out += pad("(parse)", w, false) + pad("", wo, false) + pad(with_commas(t.read), 12, true) +
         pad(with_commas(t.read - t.errors), 12, true) + pad(with_commas(0), 12, true) + pad(share(t.parse_seconds), 8, true) + "\n";
  for (const auto& s : t.stages) {
    uint64_t rej = 0;
    for (const auto& [_, n] : s.rejected) rej += n;
    out += pad(s.name, w, false) + pad(s.op, wo, false) + pad(with_commas(s.in), 12, true) + pad(with_commas(s.out), 12, true) +
           pad(with_commas(rej), 12, true) + pad(share(s.seconds), 8, true) + "\n";
    for (const auto& [reason, n] : s.rejected)
      out += pad("  - " + reason, w, false) + pad("", wo + 24, false) + pad(with_commas(n), 12, true) + "\n";
    if (s.emitted) out += pad("  + emitted", w, false) + pad("", wo, false) + pad("", 12, true) + pad(with_commas(s.emitted), 12, true) + "\n";
    for (const auto& wn : t.warnings)
      if (wn.stage == s.name)
        out += "  ! warning: " + with_commas(wn.count) + " rejected " +
               (wn.field.empty() ? "as " + wn.reason : "for a missing field '" + wn.field + "'") +
               " (the records have other fields; see the warning)\n";
  }
  out += pad("(render)", w, false) + pad("", wo + 36, false) + pad(share(t.render_seconds), 8, true) + "\n";
  out += "\nsinks:\n";
  for (const auto& s : t.sinks)
    out += "  " + pad(s.name, w, false) + pad(s.kind, 10, false) + pad(with_commas(s.lines), 12, true) + " lines  " +
           (s.path.empty() ? "(not written)" : t.dry_run ? s.path + "  (dry run: not written)" : s.path) + "\n";
  char rate[128];
  const double mb = static_cast<double>(t.input_bytes) / 1e6;
  std::snprintf(rate, sizeof rate, "%.2f s, %.1f MB/s, %s records/s, %d thread%s", t.seconds, t.seconds > 0 ? mb / t.seconds : 0.0,
                with_commas(static_cast<uint64_t>(t.seconds > 0 ? static_cast<double>(t.read) / t.seconds : 0)).c_str(), t.threads,
                t.threads == 1 ? "" : "s");
  out += "\nread " + with_commas(t.read) + " = kept " + with_commas(t.kept) + " + rejected " + with_commas(t.rejected) +
         " + errors " + with_commas(t.errors) + (t.balanced() ? "  (balanced)" : "  (NOT BALANCED)") + "\n";
  out += std::string(rate) + "\n";
  if (t.first_pass_stages > 0) {
    char fp[96];
    std::snprintf(fp, sizeof fp, "(of which %.2f s a first pass over the input for %zu stage%s)\n", t.first_pass_seconds,
                  t.first_pass_stages, t.first_pass_stages == 1 ? "" : "s");
    out += fp;
  }
  return out;
}

std::string format_report(const Pipeline& p, const RunTotals& t) {
  auto num = [](double v) { return json::number(v); };
  std::string o = "{\n  \"tamis_version\": " + json::quote(kVersion) + ",\n";
  o += "  \"pipeline\": " + json::quote(p.file) + ",\n";
  o += "  \"threads\": " + std::to_string(t.threads) + ",\n";
  o += "  \"seconds\": " + num(t.seconds) + ",\n";
  o += "  \"first_pass_seconds\": " + num(t.first_pass_seconds) + ",\n";
  o += "  \"input_bytes\": " + std::to_string(t.input_bytes) + ",\n";
  o += "  \"records_per_second\": " + num(t.seconds > 0 ? static_cast<double>(t.read) / t.seconds : 0) + ",\n";
  o += "  \"mb_per_second\": " + num(t.seconds > 0 ? static_cast<double>(t.input_bytes) / 1e6 / t.seconds : 0) + ",\n";
  o += "  \"totals\": {\"read\": " + std::to_string(t.read) + ", \"kept\": " + std::to_string(t.kept) +
       ", \"rejected\": " + std::to_string(t.rejected) + ", \"errors\": " + std::to_string(t.errors) +
       ", \"balanced\": " + (t.balanced() ? "true" : "false") + "},\n";
  o += "  \"warnings\": [";
  for (size_t i = 0; i < t.warnings.size(); ++i) {
    const auto& w = t.warnings[i];
    std::string fields;
    for (const auto& f : w.record_fields) fields += (fields.empty() ? "" : ", ") + json::quote(f);
    o += std::string(i ? "," : "") + "\n    {\"kind\": \"missing_field\", \"stage\": " + json::quote(w.stage) + ", \"op\": " + json::quote(w.op) +
         ", \"field\": " + (w.field.empty() ? std::string("null") : json::quote(w.field)) + ", \"reason\": " + json::quote(w.reason) +
         ", \"detail\": " + json::quote(w.detail) + ", \"rejected\": " + std::to_string(w.count) +
         ", \"other_missing\": " + std::to_string(w.other) + ", \"in\": " + std::to_string(w.in) +
         ", \"record_fields\": [" + fields + "], \"message\": " + json::quote(w.message()) + "}";
  }
  o += std::string(t.warnings.empty() ? "" : "\n  ") + "],\n";
  o += "  \"inputs\": [";
  for (size_t i = 0; i < t.sources.size(); ++i) {
    const auto& s = t.sources[i];
    const auto& spec = p.sources[i];
    o += std::string(i ? "," : "") + "\n    {\"source\": " + json::quote(s.name) + ", \"files\": [";
    for (size_t f = 0; f < spec.display_files.size(); ++f) o += (f ? ", " : "") + json::quote(spec.display_files[f]);
    o += "], \"lines\": " + std::to_string(s.lines) + ", \"blank_lines\": " + std::to_string(s.blank) +
         ", \"records\": " + std::to_string(s.records) + ", \"errors\": " + std::to_string(s.errors) +
         ", \"bytes\": " + std::to_string(s.bytes) + "}";
  }
  o += "\n  ],\n  \"stages\": [";
  double work = t.parse_seconds + t.render_seconds;
  for (const auto& s : t.stages) work += s.seconds;
  for (size_t i = 0; i < t.stages.size(); ++i) {
    const auto& s = t.stages[i];
    uint64_t rej = 0;
    std::string reasons;
    for (const auto& [k, v] : s.rejected) {
      rej += v;
      reasons += (reasons.empty() ? "" : ", ") + json::quote(k) + ": " + std::to_string(v);
    }
    std::string counters;
    for (const auto& [k, v] : s.counters) counters += (counters.empty() ? "" : ", ") + json::quote(k) + ": " + std::to_string(v);
    o += std::string(i ? "," : "") + "\n    {\"name\": " + json::quote(s.name) + ", \"op\": " + json::quote(s.op) +
         ", \"in\": " + std::to_string(s.in) + ", \"kept\": " + std::to_string(s.out) + ", \"emitted\": " + std::to_string(s.emitted) +
         ", \"rejected\": " + std::to_string(rej) + ", \"rejected_by_reason\": {" + reasons + "}, \"counters\": {" + counters +
         "}, \"seconds\": " + num(s.seconds) + ", \"time_share\": " + num(work > 0 ? s.seconds / work : 0);
    if (s.serial_seconds >= 0) o += ", \"serial_seconds\": " + num(s.serial_seconds);
    if (!s.report_json.empty()) o += ", \"report\": " + s.report_json;
    o += "}";
  }
  o += "\n  ],\n  \"sinks\": [";
  for (size_t i = 0; i < t.sinks.size(); ++i) {
    const auto& s = t.sinks[i];
    o += std::string(i ? "," : "") + "\n    {\"name\": " + json::quote(s.name) + ", \"kind\": " + json::quote(s.kind) +
         ", \"path\": " + json::quote(s.path) + ", \"lines\": " + std::to_string(s.lines) + ", \"bytes\": " + std::to_string(s.bytes) + "}";
  }
  o += "\n  ]\n}\n";
  return o;
}

}  // namespace tamis
