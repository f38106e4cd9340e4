// A harness for op tests: run one op (or a few stages) on inline JSONL through the real tamis binary,
// and look at what came out.
//
//     using namespace tamis::test;
//     const OpRun run = run_op("filter.length", "{field: text, min: 3}",
//                              jsonl({R"({"id":"a","text":"ab"})", R"({"id":"b","text":"abc"})"}));
//     ASSERT_EQ(run.exit_code, 0) << run.describe();
//     EXPECT_EQ(run.kept_ids(), (std::vector<std::string>{"b"}));
//     EXPECT_EQ(run.rejections()[0].reason, "too_short");
//
// Each call writes into a fresh TempDir:
//   input.jsonl     the inline JSONL, byte for byte (unless OpOptions::input names a file)
//   pipeline.yaml   version 1; one source `input` (with `id:` and `on_error:` from OpOptions);
//                   the stage(s); the sinks kept / rejected / ledger / errors / report under out/
// then runs `tamis run pipeline.yaml --threads N [extra args]`, reads every output file back and removes
// the directory. Output files a run did not write (a refused pipeline, a failed run) read as empty.
//
// The stage is named "stage" unless OpOptions::stage says otherwise; that is the name rejected lines and
// the ledger give as `rejected_by` / `stage`, and the name validation messages quote.
//
// Test names: `ctest -R plugins` selects tests by name, and tamis_test() adds no prefix, so suites of
// plugin tests carry "plugins" in their name (e.g. TEST(plugins_basic_require, ...)).
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace tamis::test {

struct OpOptions {
  // The source's `id:` field. Empty: no `id:` in the pipeline, so records get the default id
  // FILE:LINE (see OpRun::ledger_ids for ids that work either way).
  std::string id_field = "id";
  int threads = 2;
  std::string stage = "stage";           // the stage's name (run_op only)
  std::string annotation_field;          // empty: the default ("tamis"); else `annotations: {field: ...}`
  std::string on_error = "skip";         // the source's on_error
  std::vector<std::string> args;         // more arguments for `tamis run`, e.g. {"--set", "stage.min=3"}
  fs::path input;                        // when set, the source reads this file; the inline JSONL is unused
};

// What one rejected line says about itself, from its annotation object.
struct Verdict {
  std::string id;      // the line's id field (OpOptions::id_field, or "id"), "" when absent
  std::string stage;   // rejected_by
  std::string reason;
  std::string detail;
};

struct OpRun {
  int exit_code = -1;
  std::string out;       // stdout of tamis
  std::string err;       // stderr of tamis
  std::string pipeline;  // the pipeline file that was run, for failure messages
  std::vector<std::string> kept, rejected, ledger, errors;  // output lines, without their newlines
  std::string report;    // report.json, "" when not written
  std::string id_field = "id";
  std::string annotation_field = "tamis";

  // The id field of each kept / rejected line, in output order ("" for a line without it).
  std::vector<std::string> kept_ids() const;
  std::vector<std::string> rejected_ids() const;
  // The `id` of each ledger line whose fate is `fate` ("kept", "rejected", "error"), in input order.
  // Works with and without a source id field (then ids are FILE:LINE).
  std::vector<std::string> ledger_ids(std::string_view fate) const;
  // Each rejected line's verdict, in output order.
  std::vector<Verdict> rejections() const;
  // Just the reasons of the rejected lines, in output order.
  std::vector<std::string> reasons() const;
  // The annotation `key` of the kept or rejected line whose `id` field is `id`; the reason and detail of
  // the rejection of the line whose id (as rejections() reads it) is `id` ("" when none).
  std::optional<std::string> annotation_of(const std::string& id, std::string_view key) const;
  std::string reason_of(const std::string& id) const;
  std::string detail_of(const std::string& id) const;
  // An annotation of one output line, as compact JSON text (e.g. "42", "\"en\""), if present.
  std::optional<std::string> annotation(const std::string& line, std::string_view key) const;
  // A number from report.json's "totals": read, kept, rejected, errors. Throws when missing.
  int64_t total(std::string_view name) const;
  // Exit code, stderr and the pipeline: stream it into an assertion to explain a failure.
  std::string describe() const;
};

// Runs op `op` with parameters `with_yaml` (YAML, best in flow style: "{field: text, min: 3}"; ""
// leaves `with` out) on the records `jsonl` (written as given).
OpRun run_op(const std::string& op, const std::string& with_yaml, const std::string& jsonl, int threads = 2);
OpRun run_op(const std::string& op, const std::string& with_yaml, const std::string& jsonl, const OpOptions& options);

// Runs several stages: `stages_yaml` is the body of the pipeline's `stages:` mapping, indented by
// two spaces, e.g.
//     "  fields:\n    uses: map.rename\n    with: {question: problem}\n"
//     "  req:\n    uses: filter.require\n    with: {fields: [problem]}\n"
// The kept sink takes the last stage (the default). OpOptions::stage is unused.
OpRun run_stages(const std::string& stages_yaml, const std::string& jsonl, const OpOptions& options = {});

// `tamis validate` on the pipeline run_op would write (the input is empty).
CommandResult validate_op(const std::string& op, const std::string& with_yaml, const OpOptions& options = {});

// The pipeline file run_op writes for these arguments (input.jsonl and out/ beside it).
std::string op_pipeline(const std::string& op, const std::string& with_yaml, const OpOptions& options = {});

// ---- JSON helpers (simdjson) ----

// Lines joined with '\n', with a final '\n'.
std::string jsonl(std::initializer_list<std::string> lines);
std::string jsonl(const std::vector<std::string>& lines);

// The value at `path` in the JSON text `json` ("a", "a.b" for nested keys, or a JSON pointer "/a/0"):
// as compact JSON text; as an unescaped string (nullopt when not a string); as an integer.
// nullopt when `json` is not valid JSON or the path is absent.
std::optional<std::string> json_raw(std::string_view json, std::string_view path);
std::optional<std::string> json_string(std::string_view json, std::string_view path);
std::optional<int64_t> json_int(std::string_view json, std::string_view path);
// True when `json` is one valid JSON document.
bool json_valid(std::string_view json);

// A kept or rejected line without the annotation object tamis added: the line as it was before
// rendering. Tamis appends `,"FIELD":{...}` (or `"FIELD":{...}` in an empty object) just before the
// closing brace; this removes exactly that. A line without it is returned unchanged.
// Rendering drops whitespace between the record's last value and its closing brace, and replaces an
// annotation field the record already had; such lines do not come back to their input bytes.
std::string strip_annotation(std::string_view line, std::string_view field = "tamis");

}  // namespace tamis::test
