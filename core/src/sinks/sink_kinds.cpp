// The table of sink kinds (sink_kind.hpp). A new kind: its file, and one line here.
#include "sinks/sink_kind.hpp"

namespace tamis {

const std::vector<const SinkKind*>& sink_kinds() {
  static const std::vector<const SinkKind*> kinds = {
      &records_sink_kind(),  // the default: a sink without a kind key
      &rejected_sink_kind(),
      &errors_sink_kind(),
      &ledger_sink_kind(),
      &report_sink_kind(),
  };
  return kinds;
}

const SinkKind* find_sink_kind(std::string_view name) {
  for (const SinkKind* k : sink_kinds())
    if (k->name() == name) return k;
  return nullptr;
}

const SinkKind& default_sink_kind() { return *sink_kinds().front(); }

}  // namespace tamis
