// The read step: see input_cursor.hpp.
#include "engine/input_cursor.hpp"

#include <filesystem>

#include "engine/parse.hpp"
#include "engine/stage_call.hpp"
#include "sources/source_kind.hpp"

namespace tamis {

InputCursor::InputCursor(const Pipeline& p, size_t chunk_bytes, io::BufferPool& pool, const RunNames& names)
    : p_(p), chunk_bytes_(chunk_bytes), pool_(pool), names_(names), content_ids_(p.sources.size()) {
  for (const auto& s : p_.sources) {
    std::error_code ec;
    for (const auto& f : s.files) total_file_bytes_ += std::filesystem::file_size(f, ec);
  }
}

void InputCursor::rewind() {
  source_pos_ = 0;
  file_ = -1;
  reader_.reset();
  file_bytes_done_ = 0;
  file_bytes_read_ = 0;
  for (auto& c : content_ids_) c.clear();  // the same ids again
}

Batch* InputCursor::next(std::vector<SourceTotals>* files) {
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
        limits.chunk_bytes = chunk_bytes_;
        limits.max_line_bytes = max_line_bytes(src);
        limits.line_cost = kBatchLineCost;
        reader_ = src.kind->open(src.files[file_], limits, pool_);
      } catch (const io::ReadError& e) {
        throw RunError(std::string(e.what()) + " (source '" + src.name + "')");
      }
      if (files) (*files)[s].files++;
    }
    auto b = std::make_unique<Batch>();
    bool got = false;
    try {
      got = reader_->next(b->chunk);
    } catch (const io::ReadError& e) {
      throw RunError(std::string(e.what()) + " (source '" + src.name + "')");
    } catch (const std::bad_alloc&) {
      throw RunError(out_of_memory(src, names_.files[s][file_], reader_->lines_started() + 1, "reading"));
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
    if (src.id_field.empty()) content_ids_[static_cast<size_t>(s)].assign(b->chunk, b->content_ids);
    return b.release();
  }
  return nullptr;
}

}  // namespace tamis
