#include "plugin/registry.hpp"

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <cstdlib>
#include <filesystem>

#include "common/log.hpp"
#include "common/version.hpp"

namespace fs = std::filesystem;

namespace tamis {

namespace {

// What is wrong with an op's description, or "" when the host can run it.
std::string invalid_op(const tamis_op_desc& op) {
  if (op.struct_size < sizeof(tamis_op_desc)) return "description too short for this ABI";
  if (!op.name || !op.create || !op.destroy || !op.process) return "a required hook is missing";
  if (op.kind != TAMIS_OP_RECORD && op.kind != TAMIS_OP_ORDERED && op.kind != TAMIS_OP_EXPANDING) return "unknown op kind";
  if (op.kind == TAMIS_OP_ORDERED && !op.process_ordered) return "an ordered op without process_ordered";
  if ((op.first_pass != nullptr) != (op.observe_ordered != nullptr)) return "first_pass and observe_ordered go together";
  if (op.first_pass && op.kind != TAMIS_OP_ORDERED) return "only ordered ops can have a first pass";
  return "";
}

}  // namespace

const char* op_kind_name(tamis_op_kind kind) {
  switch (kind) {
    case TAMIS_OP_RECORD: return "record";
    case TAMIS_OP_ORDERED: return "ordered";
    case TAMIS_OP_EXPANDING: return "expanding";
  }
  return "?";
}

const char* param_type_name(tamis_param_type type) {
  switch (type) {
    case TAMIS_PARAM_BOOL: return "bool";
    case TAMIS_PARAM_INT: return "int";
    case TAMIS_PARAM_FLOAT: return "float";
    case TAMIS_PARAM_STRING: return "string";
    case TAMIS_PARAM_PATH: return "path";
    case TAMIS_PARAM_STRING_LIST: return "list<string>";
    case TAMIS_PARAM_PATH_LIST: return "list<path>";
    case TAMIS_PARAM_STRING_MAP: return "map<string,string>";
    case TAMIS_PARAM_JSON: return "json";
  }
  return "?";
}

std::vector<std::string> Registry::default_search_path(const std::vector<std::string>& cli_dirs) {
  std::vector<std::string> dirs = cli_dirs;
  if (const char* env = std::getenv("TAMIS_PLUGIN_PATH")) {
    std::string s = env;
    size_t start = 0;
    while (start <= s.size()) {
      const size_t colon = s.find(':', start);
      const std::string part = s.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (!part.empty()) dirs.push_back(part);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  // Run from the build tree: the build's plugins; otherwise the installed ones.
  std::error_code ec;
  const fs::path exe = fs::weakly_canonical(boost::dll::program_location().string(), ec);
  const fs::path build_dir = fs::weakly_canonical(kBuildDir, ec);
  const std::string exe_s = exe.string(), build_s = build_dir.string();
  const bool in_build_tree = !build_s.empty() && exe_s.compare(0, build_s.size() + 1, build_s + "/") == 0;
  if (in_build_tree) {
    dirs.push_back(kBuildPluginDir);
  } else {
    // An installed tamis finds its plugins beside it (PREFIX/bin/tamis → PREFIX/lib*/tamis/plugins),
    // so an installation can be moved; else where it was configured to install them.
    const fs::path relocated = exe.parent_path().parent_path() / kInstalledPluginSubdir;
    dirs.push_back(fs::is_directory(relocated, ec) ? relocated.string() : std::string(kInstalledPluginDir));
  }
  return dirs;
}

void Registry::load_directories(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    searched_.push_back(dir);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const auto& p = entry.path();
      if (entry.is_regular_file() && p.extension() == ".so") files.push_back(p.string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) load_file(f);
  }
}

bool Registry::load_file(const std::string& path) {
  auto lib = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  lib->load(path, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    problems_.push_back(path + ": cannot load plugin library: " + ec.message() +
                        " (is a library it needs missing? try `ldd " + path + "`)");
    return false;
  }
  if (!lib->has(TAMIS_PLUGIN_ABI_VERSION_SYMBOL) || !lib->has(TAMIS_PLUGIN_ENTRY_SYMBOL)) {
    log::debug("plugins", path + " is not a tamis plugin (no " TAMIS_PLUGIN_ABI_VERSION_SYMBOL "), skipped");
    return false;
  }
  const auto abi = lib->get<uint32_t()>(TAMIS_PLUGIN_ABI_VERSION_SYMBOL)();
  if (abi != TAMIS_ABI_VERSION) {
    problems_.push_back(path + ": plugin built for tamis plugin ABI version " + std::to_string(abi) +
                        ", but this tamis (" + std::string(kVersion) + ") uses ABI version " +
                        std::to_string(TAMIS_ABI_VERSION) +
                        "; rebuild the plugin against this tamis's SDK (find_package(Tamis))");
    return false;
  }
  const tamis_plugin_desc* desc = lib->get<const tamis_plugin_desc*(const tamis_host_api*)>(
      TAMIS_PLUGIN_ENTRY_SYMBOL)(host_api());
  if (!desc || desc->abi_version != TAMIS_ABI_VERSION || desc->struct_size < sizeof(tamis_plugin_desc)) {
    problems_.push_back(path + ": plugin entry returned an invalid description; rebuild the plugin");
    return false;
  }
  auto plugin = std::make_shared<LoadedPlugin>();
  plugin->library = lib;
  plugin->file = path;
  plugin->name = desc->name ? desc->name : "";
  plugin->version = desc->version ? desc->version : "";
  plugin->desc = desc;
  bool ok = true;
  for (size_t i = 0; i < desc->op_count; ++i) {
    const tamis_op_desc* op = &desc->ops[i];
    if (const std::string bad = invalid_op(*op); !bad.empty()) {
      problems_.push_back(path + ": op '" + std::string(op->name ? op->name : "?") + "' has an invalid description (" +
                          bad + "); rebuild the plugin against this tamis's SDK");
      ok = false;
      continue;
    }
    if (auto it = ops_.find(op->name); it != ops_.end()) {
      problems_.push_back("op '" + std::string(op->name) + "' is offered by two plugins: " +
                          it->second.plugin->file + " and " + path +
                          "; remove one of them from the plugin path");
      ok = false;
      continue;
    }
    ops_.emplace(op->name, OpHandle{plugin, op});
  }
  plugins_.push_back(std::move(plugin));
  return ok;
}

const OpHandle* Registry::find(const std::string& op) const {
  auto it = ops_.find(op);
  return it == ops_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::op_names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : ops_) out.push_back(name);
  return out;
}

}  // namespace tamis
