// The pipeline loader: the input's first line is a --set override (used when it parses as
// stage.param=value), the rest a pipeline file. Checked: load_pipeline() returns (diagnostics are a
// fine outcome); a pipeline loaded without diagnostics is whole (every stage has its op, inputs point
// at existing nodes, the execution order names every stage once) and can be described (--dry-run).
// Files are not required to exist (LoadOptions::check_files = false), so globs are not expanded.
#include <cstdint>
#include <string>
#include <vector>

#include "common/diagnostics.hpp"
#include "common/log.hpp"
#include "fuzz_support.hpp"
#include "pipeline/pipeline.hpp"
#include "plugin/registry.hpp"

namespace {

const tamis::Registry& registry() {
  static const tamis::Registry r = [] {
    tamis::Registry reg;
    reg.load_directories({TAMIS_BUILD_PLUGIN_DIR});
    if (!reg.find("filter.require")) {
      std::fprintf(stderr, "loader_fuzz: the filter plugin is not in %s; build target tamis_filter\n", TAMIS_BUILD_PLUGIN_DIR);
      std::abort();
    }
    return reg;
  }();
  return r;
}

bool valid(const tamis::Pipeline& p, const tamis::InputRef& in) {
  const size_t n = in.node.kind == tamis::NodeRef::source ? p.sources.size() : p.stages.size();
  return in.node.index >= 0 && static_cast<size_t>(in.node.index) < n;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tamis::log::set_level(tamis::log::Level::quiet);
  registry();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tamis::fuzz::Input in(data, size);
  const std::string set(in.until("\n"));
  const std::string file = std::string(tamis::fuzz::scratch_dir()) + "/pipeline.yaml";
  tamis::fuzz::write_file(file, in.rest());

  tamis::LoadOptions options;
  options.check_files = false;
  tamis::Override o;
  if (tamis::parse_override(set, o)) options.overrides.push_back(o);
  tamis::Diagnostics diags;
  const tamis::Pipeline p = tamis::load_pipeline(file, registry(), options, diags);
  if (!diags.empty()) {
    FUZZ_CHECK(!diags.format().empty());
    return 0;
  }
  std::vector<int> seen(p.stages.size(), 0);
  for (int idx : p.stage_order) {
    FUZZ_CHECK(idx >= 0 && static_cast<size_t>(idx) < p.stages.size());
    ++seen[static_cast<size_t>(idx)];
  }
  for (int n : seen) FUZZ_CHECK(n == 1);
  for (const auto& st : p.stages) {
    FUZZ_CHECK(st.op != nullptr && st.op->desc != nullptr);
    for (const auto& i : st.inputs) FUZZ_CHECK(valid(p, i));
  }
  for (const auto& s : p.sinks)
    for (const auto& i : s.inputs) FUZZ_CHECK(valid(p, i));
  FUZZ_CHECK(!tamis::describe_pipeline(p).empty());
  return 0;
}
