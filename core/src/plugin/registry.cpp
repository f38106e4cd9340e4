#include "plugin/registry.hpp"

#include <cstddef>

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common/log.hpp"
#include "common/version.hpp"

namespace fs = std::filesystem;

namespace tamis {

namespace {

// What is wrong with an op's description, or "" when the host can run it.
std::string invalid_op(const tamis_op_desc& op) {
  // An earlier SDK of this ABI ends the description before former_names.
  if (op.struct_size < offsetof(tamis_op_desc, former_names)) return "description too short for this ABI";
  if (!op.name || !op.create || !op.destroy || !op.process) return "a required hook is missing";
  if (op.kind != TAMIS_OP_RECORD && op.kind != TAMIS_OP_ORDERED && op.kind != TAMIS_OP_EXPANDING) return "unknown op kind";
  if (op.kind == TAMIS_OP_ORDERED && !op.process_ordered) return "an ordered op without process_ordered";
  if ((op.first_pass != nullptr) != (op.observe_ordered != nullptr)) return "first_pass and observe_ordered go together";
  if (op.first_pass && op.kind != TAMIS_OP_ORDERED) return "only ordered ops can have a first pass";
  return "";
}

// ---- what a library is, read from its file without loading it
//
// dlopen() runs a library's constructors before the host can look for the plugin entry, so any
// *.so on the plugin path would run code. The ELF file is read first instead: only a shared object for
// this machine whose dynamic symbol table defines both plugin symbols is ever loaded. Every offset and
// size read from the file is checked against the file's length, so a truncated or damaged file is
// reported, never read past.

enum class Library { plugin, foreign, unusable };

struct LibraryCheck {
  Library kind = Library::unusable;
  std::string why;  // for foreign and unusable: what the file is
};

// The machine this tamis runs on, as ELF names it (0: not checked).
constexpr ElfW(Half) kHostMachine =
#if defined(__x86_64__)
    EM_X86_64;
#elif defined(__aarch64__)
    EM_AARCH64;
#elif defined(__powerpc64__)
    EM_PPC64;
#elif defined(__riscv)
    EM_RISCV;
#elif defined(__s390x__)
    EM_S390;
#else
    0;
#endif

// A read-only map of a whole file.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error_ = std::strerror(errno);
      return;
    }
    struct stat st{};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        data_ = static_cast<const unsigned char*>(p);
        size_ = static_cast<size_t>(st.st_size);
      } else {
        error_ = std::strerror(errno);
      }
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& error() const { return error_; }
  size_t size() const { return size_; }
  // Whether [offset, offset + count * each) lies inside the file (no overflow).
  bool holds(uint64_t offset, uint64_t count, uint64_t each) const {
    if (offset > size_) return false;
    return each == 0 || count <= (size_ - offset) / each;
  }
  // A T at `offset`; call only where holds(offset, 1, sizeof(T)).
  template <typename T>
  T at(uint64_t offset) const {
    T v;
    std::memcpy(&v, data_ + offset, sizeof v);
    return v;
  }
  const unsigned char* data() const { return data_; }

 private:
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
  std::string error_;
};

LibraryCheck check_library(const std::string& path) {
  const MappedFile f(path);
  auto unusable = [&](const std::string& why) { return LibraryCheck{Library::unusable, why}; };
  if (!f.error().empty()) return unusable("cannot read it: " + f.error());
  if (f.size() < SELFMAG || std::memcmp(f.data(), ELFMAG, SELFMAG) != 0)
    return unusable("not an ELF shared object (" + std::to_string(f.size()) + " bytes, no ELF header)");
  if (!f.holds(0, 1, sizeof(ElfW(Ehdr)))) return unusable("truncated ELF file (" + std::to_string(f.size()) + " bytes, shorter than its header)");
  const auto eh = f.at<ElfW(Ehdr)>(0);
  constexpr unsigned char kClass = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;
  constexpr unsigned char kData = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
  if (eh.e_ident[EI_CLASS] != kClass || eh.e_ident[EI_DATA] != kData)
    return unusable(std::string("an ELF file for another kind of machine (") + (eh.e_ident[EI_CLASS] == ELFCLASS64 ? "64" : "32") +
                    "-bit, " + (eh.e_ident[EI_DATA] == ELFDATA2LSB ? "little" : "big") + "-endian)");
  if (eh.e_type != ET_DYN) return unusable("an ELF file but not a shared object (ELF type " + std::to_string(eh.e_type) + ")");
  if (kHostMachine != 0 && eh.e_machine != kHostMachine)
    return unusable("a shared object for another machine (ELF machine " + std::to_string(eh.e_machine) + ")");
  if (eh.e_shoff == 0)
    return unusable("a shared object without section headers: its symbols cannot be read without loading it");
  if (eh.e_shentsize != sizeof(ElfW(Shdr)) || !f.holds(eh.e_shoff, 1, sizeof(ElfW(Shdr))))
    return unusable("truncated or damaged ELF file (" + std::to_string(f.size()) + " bytes; its section headers are not inside it)");
  uint64_t count = eh.e_shnum;
  if (count == 0) count = f.at<ElfW(Shdr)>(eh.e_shoff).sh_size;  // more than SHN_LORESERVE sections
  if (!f.holds(eh.e_shoff, count, sizeof(ElfW(Shdr))))
    return unusable("truncated or damaged ELF file (" + std::to_string(f.size()) + " bytes; its section headers are not inside it)");
  auto section = [&](uint64_t i) { return f.at<ElfW(Shdr)>(eh.e_shoff + i * sizeof(ElfW(Shdr))); };
  bool has_abi = false, has_entry = false;
  for (uint64_t i = 0; i < count; ++i) {
    const auto sym_sh = section(i);
    if (sym_sh.sh_type != SHT_DYNSYM) continue;
    const uint64_t each = sym_sh.sh_entsize ? sym_sh.sh_entsize : sizeof(ElfW(Sym));
    if (each < sizeof(ElfW(Sym)) || sym_sh.sh_link >= count) return unusable("damaged ELF file (its dynamic symbol table is malformed)");
    const auto str_sh = section(sym_sh.sh_link);
    if (str_sh.sh_type != SHT_STRTAB || !f.holds(sym_sh.sh_offset, sym_sh.sh_size / each, each) ||
        !f.holds(str_sh.sh_offset, str_sh.sh_size, 1))
      return unusable("truncated or damaged ELF file (" + std::to_string(f.size()) + " bytes; its dynamic symbols are not inside it)");
    const char* strings = reinterpret_cast<const char*>(f.data() + str_sh.sh_offset);
    for (uint64_t k = 0; k < sym_sh.sh_size / each; ++k) {
      const auto sym = f.at<ElfW(Sym)>(sym_sh.sh_offset + k * each);
      if (sym.st_shndx == SHN_UNDEF || sym.st_name >= str_sh.sh_size) continue;
      const unsigned bind = ELF64_ST_BIND(sym.st_info);
      if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE) continue;
      const unsigned vis = ELF64_ST_VISIBILITY(sym.st_other);
      if (vis != STV_DEFAULT && vis != STV_PROTECTED) continue;
      const char* name = strings + sym.st_name;
      const size_t room = str_sh.sh_size - sym.st_name;
      const size_t len = ::strnlen(name, room);
      if (len == room) continue;  // not terminated inside the table
      const std::string_view n(name, len);
      if (n == TAMIS_PLUGIN_ABI_VERSION_SYMBOL) has_abi = true;
      if (n == TAMIS_PLUGIN_ENTRY_SYMBOL) has_entry = true;
    }
  }
  if (has_abi && has_entry) return {Library::plugin, ""};
  return {Library::foreign, has_abi || has_entry ? "exports only one of " TAMIS_PLUGIN_ABI_VERSION_SYMBOL " and " TAMIS_PLUGIN_ENTRY_SYMBOL
                                                 : "exports no " TAMIS_PLUGIN_ENTRY_SYMBOL};
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
  // Read before loading: a library that is no plugin is never loaded (its constructors never run).
  const LibraryCheck check = check_library(path);
  if (check.kind == Library::unusable) {
    problems_.push_back(path + ": cannot load plugin library: " + check.why +
                        "; remove it from the plugin path, or rebuild it");
    return false;
  }
  if (check.kind == Library::foreign) {
    log::debug("plugins", path + " is not a tamis plugin (" + check.why + "), skipped without loading it");
    return false;
  }
  // dlopen() itself, for its message (boost::dll keeps only errno); boost's handle then shares the load.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);  // NOW: a symbol it lacks fails here, naming it
  if (!handle) {
    const char* why = ::dlerror();
    problems_.push_back(path + ": cannot load plugin library: " + std::string(why ? why : "dlopen failed") +
                        " (is a library it needs missing? try `ldd " + path + "`)");
    return false;
  }
  auto lib = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  lib->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  ::dlclose(handle);
  if (ec || !lib->has(TAMIS_PLUGIN_ABI_VERSION_SYMBOL) || !lib->has(TAMIS_PLUGIN_ENTRY_SYMBOL)) {
    problems_.push_back(path + ": cannot load plugin library: " + (ec ? ec.message() : "its plugin symbols are not found once loaded"));
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
  // A plugin built with an earlier SDK of this ABI ends its description before `commands`.
  if (!desc || desc->abi_version != TAMIS_ABI_VERSION || desc->struct_size < offsetof(tamis_plugin_desc, commands)) {
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
  // The ops array steps by the plugin's own size of tamis_op_desc (shorter from an earlier SDK of this
  // ABI, longer from a later one), which every element's struct_size states.
  const size_t stride = desc->op_count > 0 && desc->ops ? desc->ops[0].struct_size : 0;
  if (desc->op_count > 0 && (stride < offsetof(tamis_op_desc, former_names) || stride % alignof(tamis_op_desc) != 0)) {
    problems_.push_back(path + ": plugin entry returned an invalid description (its ops are " + std::to_string(stride) +
                        " bytes each); rebuild the plugin against this tamis's SDK");
    return false;
  }
  std::vector<const OpHandle*> added;
  for (size_t i = 0; i < desc->op_count; ++i) {
    const auto* op = reinterpret_cast<const tamis_op_desc*>(reinterpret_cast<const unsigned char*>(desc->ops) + i * stride);
    std::string bad = invalid_op(*op);
    if (bad.empty() && op->struct_size != stride) bad = "its size differs from the first op's";
    if (!bad.empty()) {
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
    if (auto it = former_.find(op->name); it != former_.end()) {
      problems_.push_back("op '" + std::string(op->name) + "' of " + path + " has the name that op '" + it->second +
                          "' of " + ops_.at(it->second).plugin->file +
                          " declares as its former name; a former name may not be another op's name: remove it "
                          "from the former names of '" + it->second + "', or remove one plugin from the plugin path");
      ok = false;
      continue;
    }
    OpHandle op_handle{plugin, op, {}};
    if (op->struct_size >= offsetof(tamis_op_desc, former_names) + sizeof(op->former_names) && op->former_names)
      for (const char* const* n = op->former_names; *n; ++n) op_handle.former_names.emplace_back(*n);
    added.push_back(&ops_.emplace(op->name, std::move(op_handle)).first->second);
  }
  // Former names after the plugin's own op names, so that a clash within the plugin is found too.
  for (const OpHandle* h : added) {
    const std::string name = h->name();
    for (const std::string& former : h->former_names) {
      std::string clash;
      if (former.empty()) {
        clash = "an empty former name";
      } else if (auto it = ops_.find(former); it != ops_.end()) {
        clash = "the former name '" + former + "', which is the name of an op of " + it->second.plugin->file;
      } else if (auto f = former_.find(former); f != former_.end()) {
        clash = "the former name '" + former + "', which op '" + f->second + "' of " +
                ops_.at(f->second).plugin->file + " declares too";
      }
      if (!clash.empty()) {
        problems_.push_back("op '" + name + "' of " + path + " declares " + clash +
                            "; a former name may not be another op's name or former name: remove it from the "
                            "former names of '" + name + "'");
        ok = false;
        continue;
      }
      former_.emplace(former, name);
    }
  }
  if (desc->struct_size >= offsetof(tamis_plugin_desc, command_count) + sizeof(desc->command_count)) {
    for (size_t i = 0; i < desc->command_count; ++i) {
      const tamis_command_desc* c = &desc->commands[i];
      if (c->struct_size < sizeof(tamis_command_desc) || !c->name || !*c->name || !c->run) {
        problems_.push_back(path + ": command " + std::to_string(i) + " has an invalid description; rebuild the plugin "
                            "against this tamis's SDK");
        ok = false;
        continue;
      }
      const std::string key = plugin->name + " " + c->name;
      if (auto it = commands_.find(key); it != commands_.end()) {
        problems_.push_back("command 'tamis " + key + "' is offered by two plugins: " + it->second.plugin->file + " and " +
                            path + "; remove one of them from the plugin path");
        ok = false;
        continue;
      }
      commands_.emplace(key, CommandHandle{plugin, c});
    }
  }
  plugins_.push_back(std::move(plugin));
  return ok;
}

const CommandHandle* Registry::find_command(const std::string& plugin, const std::string& command) const {
  auto it = commands_.find(plugin + " " + command);
  return it == commands_.end() ? nullptr : &it->second;
}

std::vector<const CommandHandle*> Registry::commands() const {
  std::vector<const CommandHandle*> out;
  for (const auto& [_, c] : commands_) out.push_back(&c);
  return out;
}

const OpHandle* Registry::find(const std::string& op) const {
  auto it = ops_.find(op);
  if (it == ops_.end()) {
    const auto f = former_.find(op);
    if (f == former_.end()) return nullptr;
    it = ops_.find(f->second);
  }
  return it == ops_.end() ? nullptr : &it->second;
}

std::string former_names_removed_in() {
  // MAJOR.MINOR[.PATCH...]: the next minor release.
  const std::string v = kVersion;
  const size_t dot = v.find('.');
  if (dot == std::string::npos) return "the release after tamis " + v;
  const size_t end = v.find_first_not_of("0123456789", dot + 1);
  const std::string minor = v.substr(dot + 1, end == std::string::npos ? std::string::npos : end - dot - 1);
  if (minor.empty()) return "the release after tamis " + v;
  return "tamis " + v.substr(0, dot) + "." + std::to_string(std::stoul(minor) + 1) + ".0";
}

std::string former_name_warning(const std::string& old_name, const std::string& new_name) {
  return "op '" + old_name + "' was renamed '" + new_name + "'; the old name still works in tamis " + kVersion +
         " and goes away in " + former_names_removed_in() + ": write `uses: " + new_name + "`";
}

std::vector<std::string> Registry::op_names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : ops_) out.push_back(name);
  return out;
}

}  // namespace tamis
