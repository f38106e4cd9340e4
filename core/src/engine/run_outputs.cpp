// The run's outputs: see run_outputs.hpp.
#include "engine/run_outputs.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "review/html_report.hpp"

#include <fstream>
#include <sstream>
#include <tamis/temp_file.hpp>
#include <unistd.h>

#ifdef TAMIS_HAVE_PARQUET
#include "io/parquet_writer.hpp"
#endif
#include "sinks/sink_kind.hpp"

namespace tamis {

RunOutputs::RunOutputs(const Pipeline& p) : p_(p) {
  int records_sinks = 0;
  for (const auto& s : p_.sinks) {
    records_sink_bit_.push_back(s.kind->keeps_records() ? records_sinks : -1);
    if (s.kind->keeps_records()) ++records_sinks;
    std::vector<bool> take(p_.stages.size(), s.inputs.empty());
    if (s.kind->inputs() == SinkKind::Inputs::stages)
      for (const auto& in : s.inputs) take[in.node.index] = true;
    rejected_sink_stages_.push_back(std::move(take));
  }
  if (records_sinks > 64) throw RunError("a pipeline may have at most 64 record sinks");
  sink_lines_.assign(p_.sinks.size(), 0);
}

void RunOutputs::open(bool dry_run) {
  for (const auto& s : p_.sinks) {
    if (s.kind->written_at_end() || s.discard || dry_run) {
      writers_.emplace_back();
      continue;
    }
    try {
      writers_.push_back(std::make_unique<io::AtomicWriter>(s.path, s.level));
      if (!s.parquet) outputs_.add(*writers_.back());  // a Parquet sink's JSONL temporary is converted at the end
    } catch (const io::WriteError& e) {
      throw RunError(std::string(e.what()) + " (sink '" + s.name + "')");
    }
  }
}

void RunOutputs::render(Batch& b, const std::string& source, const std::string& file) const {
  std::vector<const Record*> rejected(b.rejected.begin(), b.rejected.end());
  std::stable_sort(rejected.begin(), rejected.end(), [](const Record* a, const Record* c) { return a->origin < c->origin; });
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
}

void RunOutputs::reserve(Batch& b) {
  b.offsets.assign(p_.sinks.size(), 0);
  for (size_t k = 0; k < p_.sinks.size(); ++k) {
    const RenderedOutput& out = b.rendered[k];
    sink_lines_[k] += out.lines;
    if (!writers_[k] || out.empty()) continue;
    const bool compressed = writers_[k]->compression() != io::Compression::none;
    b.offsets[k] = writers_[k]->reserve(compressed ? b.encoded[k].size() : out.size, out.size);
  }
}

void RunOutputs::write(const Batch& b) const {
  for (size_t k = 0; k < p_.sinks.size(); ++k) {
    const RenderedOutput& out = b.rendered[k];
    if (!writers_[k] || out.empty()) continue;
    try {
      if (writers_[k]->compression() != io::Compression::none) {
        writers_[k]->write_at(b.offsets[k], b.encoded[k]);
      } else {
        std::vector<std::string_view> pieces;
        pieces.reserve(out.pieces.size());
        for (const auto& pc : out.pieces) pieces.push_back(out.piece(pc));
        writers_[k]->write_at(b.offsets[k], pieces);
      }
    } catch (const io::WriteError& e) {
      throw RunError(std::string(e.what()) + " (sink '" + p_.sinks[k].name + "')");
    }
  }
}

void RunOutputs::commit(const std::string& report_json) {
  try {
    write_parquet();
    for (size_t k = 0; k < p_.sinks.size(); ++k) {
      if (!p_.sinks[k].kind->written_at_end()) continue;
      report_writers_.push_back(std::make_unique<io::AtomicWriter>(p_.sinks[k].path));
      report_writers_.back()->write(p_.sinks[k].path.ends_with(".html") ? review_page(report_json) : report_json);
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

// A report sink whose path ends in .html: the review page of this run (review/html_report.hpp), with the
// graph's inputs and parameters from the pipeline file.
std::string RunOutputs::review_page(const std::string& report_json) const {
  review::ReviewOptions o;
  if (std::ifstream in(p_.file, std::ios::binary); in) {
    std::ostringstream text;
    text << in.rdbuf();
    o.pipeline_yaml = text.str();
    o.pipeline_origin = p_.file;
  }
  try {
    return review::render_review_html(report_json, o);
  } catch (const std::exception& e) {
    throw io::WriteError(std::string("the review page: ") + e.what());
  }
}

// Each Parquet sink's lines, written as JSONL to a temporary during the run, become a Parquet temporary
// beside the target, which joins the set (phase 1: a row that does not fit the schema fails the run
// with nothing renamed).
void RunOutputs::write_parquet() {
  for (size_t k = 0; k < p_.sinks.size(); ++k) {
    const SinkSpec& s = p_.sinks[k];
    if (!s.parquet || !writers_[k]) continue;
#ifdef TAMIS_HAVE_PARQUET
    io::AtomicWriter& w = *writers_[k];
    w.finish_writing();
    if (s.parquet_schema.empty() && sink_lines_[k] == 0)
      throw io::WriteError("sink '" + s.name + "' (" + s.path + ") got no rows and has no `schema:` to write an empty Parquet file "
                           "with; declare the columns (schema: {name: type, ...})");
    files::Temporary t = files::create_temporary_beside(s.path);
    if (t.fd < 0) throw io::WriteError("sink '" + s.name + "': " + t.error);
    ::close(t.fd);
    io::track_temporary(t.path);
    io::ParquetWriteOptions o;
    if (!s.parquet_schema.empty()) o.schema = io::parse_parquet_schema(s.parquet_schema);
    o.compression = s.parquet_compression == "snappy" ? io::ParquetCompression::snappy
                    : s.parquet_compression == "none" ? io::ParquetCompression::uncompressed
                                                      : io::ParquetCompression::zstd;
    o.row_group_rows = s.row_group_rows;
    try {
      io::write_parquet_from_jsonl(w.temp_path(), t.path, o);
    } catch (const std::exception& e) {
      ::unlink(t.path.c_str());
      io::untrack_temporary(t.path);
      throw io::WriteError("sink '" + s.name + "': " + e.what());
    }
    w.abort();  // the JSONL temporary
    io::untrack_temporary(t.path);
    if (const std::string why = outputs_.adopt(t.path, s.path, "sink '" + s.name + "'"); !why.empty()) throw io::WriteError(why);
#else
    throw io::WriteError("sink '" + s.name + "': this tamis was built without Parquet support");
#endif
  }
}

std::vector<SinkTotals> RunOutputs::totals() const {
  std::vector<SinkTotals> out;
  for (size_t k = 0; k < p_.sinks.size(); ++k)
    out.push_back({p_.sinks[k].name, p_.sinks[k].path, p_.sinks[k].discard ? "discard" : std::string(p_.sinks[k].kind->name()),
                   sink_lines_[k], writers_[k] ? writers_[k]->bytes_in() : 0});
  return out;
}

}  // namespace tamis
