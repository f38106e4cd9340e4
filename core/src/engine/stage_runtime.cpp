// A stage while the run lasts: see stage_runtime.hpp.
#include "engine/stage_runtime.hpp"

#include <tamis/json.hpp>

#include <chrono>

#include "engine/gather.hpp"
#include "plugin/registry.hpp"

namespace tamis {

namespace {

using Clock = std::chrono::steady_clock;

uint64_t nanos_since(Clock::time_point t0) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

}  // namespace

StageRuntime::~StageRuntime() {
  const crash::Scope running(crash_text.c_str(), "destroy");
  if (state && op->destroy) op->destroy(state);
}

// Creates stage `idx`'s state (again, for a stage re-run after the first pass).
std::unique_ptr<StageRuntime> StageRuntime::start(const Pipeline& p, int idx, int threads, const std::vector<int>& consumers,
                                                  io::OutputSet& outputs, bool dry_run) {
  const StageSpec& spec = p.stages[idx];
  auto st = std::make_unique<StageRuntime>();
  st->spec = &spec;
  st->index = idx;
  st->op = spec.op->desc;
  st->plugin = spec.op->plugin;
  st->ctx.name = spec.name;
  st->ctx.outputs = &outputs;
  st->crash_text = "stage '" + spec.name + "' (op " + spec.op_name + ", plugin " + (st->plugin ? st->plugin->file : std::string("?")) + ")";
  for (const auto& in : spec.inputs) st->clone_input.push_back(consumers[node_index(p, in)] > 1);
  tamis_stage_info info{sizeof(tamis_stage_info),
                        {spec.name.data(), spec.name.size()},
                        {spec.params_json.data(), spec.params_json.size()},
                        {p.dir.data(), p.dir.size()},
                        static_cast<uint32_t>(threads),
                        st->ctx.as_void(),
                        dry_run ? TAMIS_RUN_DRY : 0u};
  tamis_error err{};
  const crash::Scope running(st->crash_text.c_str(), "create");
  if (st->op->create(host_api(), &info, &st->state, &err) != TAMIS_OK) {
    st->state = nullptr;
    throw RunError("stage '" + spec.name + "' (" + spec.op_name + ") could not start: " + err.message);
  }
  return st;
}

void StageRuntime::check(const RunNames& names, StageCall& call, tamis_status rc, const tamis_error& err, const char* hook) {
  if (rc == TAMIS_OK && call.error.empty()) return;
  const int64_t idx = rc != TAMIS_OK ? err.record_index : call.error_index;
  std::string where;
  if (idx >= 0 && static_cast<size_t>(idx) < call.records.size()) {
    const Record* r = call.records[idx];
    where = " on record " + r->id + " (" + names.files[call.batch->source][call.batch->file] + ":" +
            std::to_string(call.batch->inputs[r->origin].line) + ")";
  }
  const std::string message = rc != TAMIS_OK ? std::string(err.message) : call.error;
  throw RunError("stage '" + spec->name + "' (" + spec->op_name + ") failed in " + hook + where + ": " + message);
}

void StageRuntime::run_parallel(const Pipeline& p, const RunNames& names, Batch& b) {
  if (!b.fatal.empty()) return;
  const auto t0 = Clock::now();
  auto call = std::make_unique<StageCall>();
  call->stage = &ctx;
  call->stage_index = index;
  call->kind = op->kind;
  call->batch = &b;
  call->records = gather(p, b, spec->inputs, &clone_input);
  StageBatchStats& stats = b.stage_stats[index];
  stats.in = call->records.size();
  if (!call->records.empty()) {
    call->build_views(names.sources, names.files);
    tamis_error err{};
    tamis_status rc;
    {
      const crash::Scope running(crash_text.c_str(), "process");
      rc = op->process(state, &call->cbatch, &err);
    }
    check(names, *call, rc, err, "process");
  }
  if (op->kind == TAMIS_OP_ORDERED) {
    b.calls[index] = std::move(call);
  } else {
    finalize(p, b, *call);
  }
  stats.nanos += nanos_since(t0);
}

void StageRuntime::run_ordered(const Pipeline& p, const RunNames& names, Batch& b) {
  if (!b.fatal.empty()) return;
  const auto t0 = Clock::now();
  std::unique_ptr<StageCall> call = std::move(b.calls[index]);
  if (!call->records.empty()) {
    if (call->views_stale) call->build_views(names.sources, names.files);  // the parallel part annotated or replaced
    tamis_error err{};
    const crash::Scope running(crash_text.c_str(), "process_ordered");
    const tamis_status rc = op->process_ordered(state, &call->cbatch, &err);
    if (call->cbatch.op_scratch && op->release_scratch) op->release_scratch(state, call->cbatch.op_scratch);
    call->cbatch.op_scratch = nullptr;
    check(names, *call, rc, err, "process_ordered");
  }
  finalize(p, b, *call);
  const uint64_t spent = nanos_since(t0);
  b.stage_stats[index].nanos += spent;
  b.stage_stats[index].serial_nanos += spent;
}

void StageRuntime::finalize(const Pipeline& p, Batch& b, StageCall& call) {
  StageBatchStats& stats = b.stage_stats[index];
  std::vector<Record*> out;
  out.reserve(call.records.size());
  std::string key;
  for (size_t i = 0; i < call.records.size(); ++i) {
    Record* r = call.records[i];
    if (r->rejected_by == index) {
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
  b.node_out[p.sources.size() + index] = std::move(out);
}

void StageRuntime::run_observe(const RunNames& names, Batch& b) {
  if (!b.fatal.empty()) return;
  std::unique_ptr<StageCall> call = std::move(b.calls[index]);
  if (call->records.empty()) return;
  if (call->views_stale) call->build_views(names.sources, names.files);
  tamis_error err{};
  const crash::Scope running(crash_text.c_str(), "observe_ordered");
  const tamis_status rc = op->observe_ordered(state, &call->cbatch, &err);
  if (call->cbatch.op_scratch && op->release_scratch) op->release_scratch(state, call->cbatch.op_scratch);
  call->cbatch.op_scratch = nullptr;
  check(names, *call, rc, err, "observe_ordered (first pass)");
}

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

}  // namespace tamis
