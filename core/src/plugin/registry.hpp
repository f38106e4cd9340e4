// Plugin loading: finds plugin libraries on the search path, checks their ABI version, and indexes
// their ops by name.
//
// Search order: --plugin-path directories, then $TAMIS_PLUGIN_PATH (':'-separated), then
// the directory the built-in plugins were installed to; a tamis run from its build tree uses the
// build's plugin directory instead of the installed one. Every `.so` in those directories that
// exports tamis_plugin_abi_version is a plugin; others are skipped.
//
// Lifetime: each OpHandle holds a shared_ptr to its library, and so does every stage made from it,
// so a library stays loaded while any of its objects lives, whatever happens to the Registry.
#pragma once

#include <tamis/abi.h>

#include <boost/dll/shared_library.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tamis {

struct LoadedPlugin {
  std::shared_ptr<boost::dll::shared_library> library;
  std::string file;
  std::string name;
  std::string version;
  const tamis_plugin_desc* desc = nullptr;
};

struct OpHandle {
  std::shared_ptr<const LoadedPlugin> plugin;
  const tamis_op_desc* desc = nullptr;
  // The names the op had before a rename (tamis_op_desc::former_names), in the order declared.
  std::vector<std::string> former_names;

  std::string name() const { return desc->name; }
};

// A command a plugin offers on the command line: `tamis PLUGIN COMMAND ARGS...`.
struct CommandHandle {
  std::shared_ptr<const LoadedPlugin> plugin;
  const tamis_command_desc* desc = nullptr;
};

class Registry {
 public:
  // Loads every plugin found in `dirs`, in order. Problems (ABI mismatch, duplicate op names,
  // libraries that fail to load) are collected in problems().
  void load_directories(const std::vector<std::string>& dirs);
  // Loads one library; returns false (and records a problem) when it is not a usable plugin.
  bool load_file(const std::string& path);

  // The op named `op`, or the op that had that name before a rename (then the handle's name() differs
  // from `op`: a caller reading a pipeline warns, see former_name_warning()); null when neither.
  const OpHandle* find(const std::string& op) const;
  std::vector<std::string> op_names() const;
  // The command `name` of plugin `plugin` (`tamis PLUGIN NAME ...`), or null.
  const CommandHandle* find_command(const std::string& plugin, const std::string& name) const;
  // Every plugin command, by plugin name then command name.
  std::vector<const CommandHandle*> commands() const;
  const std::vector<std::shared_ptr<const LoadedPlugin>>& plugins() const { return plugins_; }
  const std::vector<std::string>& problems() const { return problems_; }
  const std::vector<std::string>& searched() const { return searched_; }

  // The directories searched by default after `--plugin-path`: $TAMIS_PLUGIN_PATH, then the built-in one.
  static std::vector<std::string> default_search_path(const std::vector<std::string>& cli_dirs);

 private:
  std::vector<std::shared_ptr<const LoadedPlugin>> plugins_;
  std::map<std::string, OpHandle> ops_;
  std::map<std::string, std::string> former_;  // former name → the op's name now
  std::map<std::string, CommandHandle> commands_;  // key: "PLUGIN COMMAND"
  std::vector<std::string> problems_;
  std::vector<std::string> searched_;
};

// Former op names work for one release after the rename: the release that drops them (the next minor
// release after this tamis's version: "tamis 0.2.0" for 0.1.x).
std::string former_names_removed_in();
// "op 'OLD' was renamed 'NEW'; the old name goes away in tamis 0.2.0: write `uses: NEW`", for a pipeline
// that names an op by a former name (the caller puts the file:line and stage first).
std::string former_name_warning(const std::string& old_name, const std::string& new_name);

// Names used in messages and docs: "record" / "ordered" / "expanding"; "int", "list<string>", ...
const char* op_kind_name(tamis_op_kind kind);
const char* param_type_name(tamis_param_type type);

// The host's callback table handed to every plugin (defined in engine/host_api.cpp).
const tamis_host_api* host_api();

}  // namespace tamis
