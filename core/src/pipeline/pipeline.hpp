// The pipeline: what a pipeline file describes, validated and resolved.
//
// load_pipeline() reads the YAML file, expands ${VAR}, applies --set overrides, checks every name,
// op, parameter and input against the plugin registry, orders the graph, and collects every problem
// with its file:line:column. A Pipeline with no diagnostics can be printed (--dry-run) or run.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/diagnostics.hpp"
#include "plugin/registry.hpp"

namespace tamis {

enum class OnError { fail, skip };

class SinkKind;    // sinks/sink_kind.hpp
class SourceKind;  // sources/source_kind.hpp

struct SourceSpec {
  std::string name;
  SourcePos pos;
  const SourceKind* kind = nullptr;  // sources/source_kind.hpp: how its files are read; the loader always sets it
  std::string pattern;             // as written, after ${VAR} expansion
  std::vector<std::string> files;  // resolved, sorted
  std::vector<std::string> display_files;  // as shown to users (relative to the pipeline file when inside it)
  std::string id_field;            // empty: content ids, SOURCE/HASH (engine/content_ids.hpp)
  OnError on_error = OnError::fail;
  uint64_t max_line_bytes = 0;     // a longer line is unreadable; 0: io::kDefaultMaxLineBytes (64 MiB)
};

// A node of the graph: a source or a stage, by index.
struct NodeRef {
  enum Kind { source, stage } kind = source;
  int index = -1;
  bool operator==(const NodeRef&) const = default;
};

struct InputRef {
  std::string name;
  SourcePos pos;
  NodeRef node;
};

struct ParamValue {
  std::string name;
  std::string json;     // typed value as JSON text
  bool is_default = false;
  std::string origin;   // "file", "default", "--set"
};

struct StageSpec {
  std::string name;
  SourcePos pos;
  std::string op_name;
  const OpHandle* op = nullptr;
  std::vector<InputRef> inputs;
  std::vector<ParamValue> params;  // in table order, then "*" keys
  std::string params_json;         // the JSON object handed to the plugin
};

struct SinkSpec {
  std::string name;
  SourcePos pos;
  const SinkKind* kind = nullptr;  // sinks/sink_kind.hpp; the loader always sets it
  std::string path;               // resolved; empty for a discard sink
  bool discard = false;           // records sink that writes nothing: its records count as kept
  bool write_annotations = true;  // records sink: false writes each record without the annotations member
  std::vector<InputRef> inputs;   // records: nodes; rejected: stages whose rejections to take (empty: all)
  int level = -1;                 // compression level
  // A Parquet file (the path ends in .parquet): the lines are written as rows (io/parquet_writer.hpp).
  bool parquet = false;
  std::string parquet_schema;     // "name: type, ..." (the `schema:` key); empty: inferred from the rows
  std::string parquet_compression = "zstd";
  uint64_t row_group_rows = 100000;
};

struct Pipeline {
  std::string file;  // the pipeline file as given
  std::string dir;   // its directory, absolute
  std::string annotation_field = "tamis";
  std::vector<SourceSpec> sources;      // in file order
  std::vector<StageSpec> stages;        // in file order
  std::vector<SinkSpec> sinks;          // in file order
  std::vector<int> stage_order;         // stages in execution order (topological, file order on ties)
  std::vector<int> source_order;        // sources in reading order
};

struct Override {
  std::string stage;
  std::string param;
  std::string value;  // YAML text
};

struct LoadOptions {
  std::vector<Override> overrides;
  bool check_files = true;  // sources must match files
};

// Parses "stage.param=value"; false when malformed.
bool parse_override(const std::string& text, Override& out);

Pipeline load_pipeline(const std::string& path, const Registry& registry, const LoadOptions& options,
                       Diagnostics& diags);

// Human-readable resolved graph, for --dry-run.
std::string describe_pipeline(const Pipeline& p);

}  // namespace tamis
