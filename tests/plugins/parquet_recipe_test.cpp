// Issue 15's end-to-end case: a Parquet file in the layout of a Hugging Face RL prompt set goes through the
// Magistral-style recipe (pipelines/magistral-math.yaml) and comes out as verl-ready Parquet
// (pipelines/to-verl.yaml) that an independent reader accepts (docs/parquet.md, "An HF Parquet set
// through the recipe").
//
// The input is the recipe's real input, ../shared/data/gsm8k/example_model_solutions.jsonl (GSM8K test
// with four graded model solutions per problem), written as the hub's auto-converted Parquet would hold
// it: the same six top-level columns, the four solution objects as struct<is_correct: bool, solution:
// string> columns, snappy, row groups of 1,000 rows (the `datasets` library's size for text sets: 2 row
// groups here), the `huggingface` features metadata. It is written by npm's hyparquet-writer
// (parquet_recipe/hf_parquet.mjs), not by tamis or DuckDB, and read back by hyparquet; so is verl.parquet.
//
// Skips when tamis was built without Parquet support, when ../shared/data is absent, or when node or the
// hyparquet packages are absent (scripts/install-deps.sh installs them under /opt/tamis-deps).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using namespace tamis::test;
using Strings = std::vector<std::string>;

constexpr const char* kSource = "gsm8k_rollouts";  // the recipe's source name: content ids are kSource/HASH
constexpr const char* kInputPath = "${TAMIS_DATA:-../data}/gsm8k/example_model_solutions.jsonl*";
constexpr int kRowsPerGroup = 1000;

fs::path node_modules() {
  const char* env = std::getenv("TAMIS_DEPS_PREFIX");
  return fs::path(env ? env : "/opt/tamis-deps") / "npm" / "node_modules";
}

fs::path script() { return source_dir() / "tests/plugins/parquet_recipe/hf_parquet.mjs"; }

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

// `node hf_parquet.mjs read FILE`: the head line (rows, row groups, column types, metadata keys), then rows.
Strings hyparquet_read(const fs::path& file) {
  const CommandResult r = run_shell("node " + quoted(script()) + " read " + quoted(node_modules()) + " " + quoted(file));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Strings lines;
  size_t start = 0;
  for (size_t nl; (nl = r.out.find('\n', start)) != std::string::npos; start = nl + 1) lines.push_back(r.out.substr(start, nl - start));
  return lines;
}

// ---- a canonical JSON text, to compare values rather than bytes ----
//
// No whitespace; strings with only `"`, `\` and control characters escaped (the JSONL file writes
// "Janet\u2019s", tamis's row text of the Parquet file "Janet’s": the same string); numbers by value (1,
// 1.0 and 1e0 are the same: an integral value within 2^53 is written as an integer, any other with 17
// significant digits). Object members stay in their order: the Parquet round trip keeps the columns' and
// struct fields' order, and verl.parquet's fields are in verl.jsonl's order.
void canonical_string(std::string_view s, std::string& out);

void canonical(simdjson::dom::element e, std::string& out) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      out += '[';
      bool first = true;
      for (simdjson::dom::element x : simdjson::dom::array(e)) {
        if (!first) out += ',';
        first = false;
        canonical(x, out);
      }
      out += ']';
      return;
    }
    case simdjson::dom::element_type::OBJECT: {
      std::vector<std::pair<std::string, simdjson::dom::element>> members;
      for (auto field : simdjson::dom::object(e))
        members.emplace_back(std::string(field.key), field.value);
      out += '{';
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out += ',';
        canonical_string(members[i].first, out);
        out += ':';
        canonical(members[i].second, out);
      }
      out += '}';
      return;
    }
    case simdjson::dom::element_type::STRING: canonical_string(std::string_view(e), out); return;
    case simdjson::dom::element_type::INT64: out += std::to_string(int64_t(e)); return;
    case simdjson::dom::element_type::UINT64: out += std::to_string(uint64_t(e)); return;
    case simdjson::dom::element_type::DOUBLE: {
      const double d = double(e);
      char buf[40];
      if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0) std::snprintf(buf, sizeof buf, "%.0f", d);
      else std::snprintf(buf, sizeof buf, "%.17g", d);
      out += buf;
      return;
    }
    case simdjson::dom::element_type::BOOL: out += bool(e) ? "true" : "false"; return;
    case simdjson::dom::element_type::NULL_VALUE: out += "null"; return;
  }
}

std::string canonical(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return "<not JSON> " + json;
  std::string out;
  canonical(doc, out);
  return out;
}

void canonical_string(std::string_view s, std::string& out) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

bool is_content_id(const std::string& id) {
  const std::string prefix = std::string(kSource) + "/";
  if (id.size() != prefix.size() + 16 || id.compare(0, prefix.size(), prefix) != 0) return false;
  return std::all_of(id.begin() + prefix.size(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Every content id of kSource in `text` replaced by its image under `ids` (ids not in the map stay).
std::string map_ids(const std::string& text, const std::map<std::string, std::string>& ids) {
  const std::string prefix = std::string(kSource) + "/";
  std::string out;
  size_t at = 0;
  for (size_t hit; (hit = text.find(prefix, at)) != std::string::npos;) {
    size_t end = hit + prefix.size();
    while (end < text.size() && std::isxdigit(static_cast<unsigned char>(text[end]))) ++end;
    const auto it = ids.find(text.substr(hit, end - hit));
    out.append(text, at, hit - at);
    out += it != ids.end() ? it->second : text.substr(hit, end - hit);
    at = end;
  }
  out.append(text, at);
  return out;
}

// A canonical text with the value of every "translate_to" member replaced by "*" (its presence kept).
// translate.tag's default `assign: balanced` gives a selected record the language least used so far in
// its input batch, and batches are cut from the input's bytes (docs/translation.md): a Parquet source
// cuts other batches than the JSONL file, so the same records are selected but some get another language.
std::string mask_translate_to(const std::string& text) {
  const std::string member = "\"translate_to\":\"";
  std::string out;
  size_t at = 0;
  for (size_t hit; (hit = text.find(member, at)) != std::string::npos;) {
    const size_t value = hit + member.size();
    const size_t end = text.find('"', value);
    if (end == std::string::npos) break;
    out.append(text, at, value - at);
    out += '*';
    at = end;
  }
  out.append(text, at);
  return out;
}

// The ledger's ids in input order (by line number: for a Parquet source, the row number).
Strings ledger_ids(const fs::path& ledger) {
  std::map<int64_t, std::string> by_line;
  for (const auto& l : read_lines(ledger)) by_line[json_int(l, "line").value_or(-1)] = json_string(l, "id").value_or("");
  Strings out;
  for (auto& [line, id] : by_line) out.push_back(id);
  return out;
}

// `tamis run PIPELINE` with TAMIS_OUT=out and TAMIS_DATA at the shared data; the run's report must balance.
void run_pipeline(const fs::path& pipeline, const fs::path& out, const std::string& args = "") {
  const std::string env = "TAMIS_OUT=" + quoted(out) + " TAMIS_DATA=" + quoted(shared_data("")) + " ";
  const CommandResult r = run_shell(env + tamis_bin() + " run " + quoted(pipeline) + " " + args + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
}

struct Totals {
  int64_t read = -1, kept = -1, rejected = -1, errors = -1;
  bool balanced = false;
};

Totals totals(const fs::path& report_file) {
  const std::string report = read_file(report_file);
  Totals t;
  t.read = json_int(report, "totals.read").value_or(-1);
  t.kept = json_int(report, "totals.kept").value_or(-1);
  t.rejected = json_int(report, "totals.rejected").value_or(-1);
  t.errors = json_int(report, "totals.errors").value_or(-1);
  t.balanced = json_raw(report, "totals.balanced") == "true";
  return t;
}

TEST(plugins_parquet_recipe, HfParquetSetThroughMagistralRecipeToVerlParquet) {
#ifndef TAMIS_HAVE_PARQUET
  GTEST_SKIP() << "tamis was built without Parquet support (DuckDB)";
#endif
  const fs::path input = shared_data("gsm8k/example_model_solutions.jsonl");
  if (input.empty()) GTEST_SKIP() << "no shared data";
  if (!fs::exists(node_modules() / "hyparquet") || !fs::exists(node_modules() / "hyparquet-writer") ||
      run_shell("node --version >/dev/null 2>&1").exit_code != 0)
    GTEST_SKIP() << "node, hyparquet or hyparquet-writer absent (scripts/install-deps.sh installs them)";
  const Strings jsonl_rows = read_lines(input);
  const size_t n = jsonl_rows.size();
  ASSERT_GT(n, size_t(kRowsPerGroup)) << "several row groups";

  TempDir dir;
  // 1. The HF-layout Parquet file, by hyparquet-writer; hyparquet finds the columns, nested types, row
  //    groups and the rows' values of the JSONL.
  const fs::path hf = dir / "train-00000-of-00001.parquet";
  {
    const CommandResult w = run_shell("node " + quoted(script()) + " write " + quoted(node_modules()) + " " + quoted(input) + " " +
                                      quoted(hf) + " " + std::to_string(kRowsPerGroup) + " 2>&1");
    ASSERT_EQ(w.exit_code, 0) << w.out;
    const Strings back = hyparquet_read(hf);
    ASSERT_EQ(back.size(), n + 1);
    const std::string& head = back[0];
    const std::string solution = "\"struct<is_correct: bool, solution: string>\"";
    EXPECT_EQ(json_raw(head, "columns"), "{\"question\":\"string\",\"ground_truth\":\"string\",\"6b_finetuning\":" + solution +
                                             ",\"6b_verification\":" + solution + ",\"175b_finetuning\":" + solution +
                                             ",\"175b_verification\":" + solution + "}");
    EXPECT_EQ(json_int(head, "rows"), int64_t(n));
    const size_t groups = (n + kRowsPerGroup - 1) / kRowsPerGroup;
    EXPECT_EQ(json_raw(head, "/row_groups/" + std::to_string(groups - 1)), std::to_string(n - (groups - 1) * kRowsPerGroup));
    EXPECT_FALSE(json_raw(head, "/row_groups/" + std::to_string(groups))) << head;
    EXPECT_EQ(json_raw(head, "kv"), "[\"huggingface\"]");
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(canonical(back[i + 1]), canonical(jsonl_rows[i])) << "row " << i + 1;
  }

  // 2. The recipe on the JSONL file (as shipped) and on the Parquet file (a copy of the pipeline with the
  //    source's path replaced; its other paths go through TAMIS_DATA and TAMIS_OUT, which the runs set).
  //    Two runs on the Parquet file (2 and 3 threads) for the ids' stability.
  const fs::path recipe = source_dir() / "pipelines/magistral-math.yaml";
  std::string text = read_file(recipe);
  const size_t at = text.find(kInputPath);
  ASSERT_NE(at, std::string::npos) << "the recipe's source path changed: update kInputPath";
  text.replace(at, std::string(kInputPath).size(), hf.string());
  const fs::path recipe_pq = dir / "magistral-math-parquet.yaml";
  write_file(recipe_pq, text);

  const fs::path out_jsonl = dir / "out-jsonl", out_pq = dir / "out-parquet", out_pq_again = dir / "out-parquet-again";
  ASSERT_NO_FATAL_FAILURE(run_pipeline(recipe, out_jsonl));
  ASSERT_NO_FATAL_FAILURE(run_pipeline(recipe_pq, out_pq));
  ASSERT_NO_FATAL_FAILURE(run_pipeline(recipe_pq, out_pq_again, "--threads 3"));

  const Totals tj = totals(out_jsonl / "report.json"), tp = totals(out_pq / "report.json");
  EXPECT_TRUE(tp.balanced);
  EXPECT_EQ(tp.read, int64_t(n));
  EXPECT_EQ(tp.read, tp.kept + tp.rejected + tp.errors);
  EXPECT_EQ(tp.errors, 0);
  EXPECT_EQ(tp.kept, tj.kept);
  EXPECT_EQ(tp.rejected, tj.rejected);
  EXPECT_EQ(tp.read, tj.read);
  EXPECT_GT(tp.kept, 0);
  EXPECT_GT(tp.rejected, 0);

  // Content ids: a Parquet row's id hashes the row's JSON text as tamis writes it (no spaces, "’" as is),
  // the JSONL one the line as the file has it ({"question": "Janet\u2019s ...), so they differ; row i of
  // the Parquet file has one id in every run, and ids are unique.
  const Strings ids_jsonl = ledger_ids(out_jsonl / "ledger.jsonl"), ids_pq = ledger_ids(out_pq / "ledger.jsonl");
  ASSERT_EQ(ids_pq.size(), n);
  ASSERT_EQ(ids_jsonl.size(), n);
  EXPECT_EQ(ledger_ids(out_pq_again / "ledger.jsonl"), ids_pq) << "content ids stable across runs and thread counts";
  EXPECT_EQ(std::set<std::string>(ids_pq.begin(), ids_pq.end()).size(), n) << "content ids unique";
  std::map<std::string, std::string> to_pq_id;
  size_t same = 0;
  for (size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(is_content_id(ids_pq[i])) << ids_pq[i];
    to_pq_id[ids_jsonl[i]] = ids_pq[i];
    same += ids_jsonl[i] == ids_pq[i];
  }
  EXPECT_EQ(same, 0u) << "the ids of Parquet rows were expected to differ from the JSONL lines' (other bytes hashed)";

  // The kept and rejected records are the JSONL run's, as values, with each id replaced by the same row's
  // Parquet id (in tamis.id and in details such as "duplicate of ID") and translate_to's language masked
  // (see mask_translate_to); the two Parquet runs wrote the same records, languages included.
  size_t other_language = 0;
  for (const char* name : {"train.jsonl", "rejected.jsonl"}) {
    SCOPED_TRACE(name);
    const Strings from_jsonl = read_lines(out_jsonl / name), from_pq = read_lines(out_pq / name);
    ASSERT_EQ(from_pq.size(), from_jsonl.size());
    EXPECT_EQ(read_lines(out_pq_again / name), from_pq);
    for (size_t i = 0; i < from_pq.size(); ++i) {
      const std::string pq = canonical(from_pq[i]), js = map_ids(canonical(from_jsonl[i]), to_pq_id);
      ASSERT_EQ(mask_translate_to(pq), mask_translate_to(js)) << "record " << i + 1;
      other_language += pq != js;
    }
  }
  std::printf("rows %zu, kept %lld, rejected %lld; translate_to: %zu records with another language than the JSONL run's\n", n,
              static_cast<long long>(tp.kept), static_cast<long long>(tp.rejected), other_language);

  // 3. to-verl on both outputs; hyparquet reads verl.parquet: verl's columns, one row per kept record, the
  //    recipe's content ids in extra_info, and the JSONL run's verl rows as values (ids mapped and
  //    translate_to masked as above).
  const fs::path to_verl = source_dir() / "pipelines/to-verl.yaml";
  ASSERT_NO_FATAL_FAILURE(run_pipeline(to_verl, out_jsonl));
  ASSERT_NO_FATAL_FAILURE(run_pipeline(to_verl, out_pq));
  const Strings verl = hyparquet_read(out_pq / "verl.parquet");
  ASSERT_FALSE(verl.empty());
  const std::string& head = verl[0];
  EXPECT_EQ(json_raw(head, "columns.data_source"), "\"string\"");
  EXPECT_EQ(json_raw(head, "columns.prompt"), "\"list<struct<role: string, content: string>>\"");
  EXPECT_EQ(json_raw(head, "columns.ability"), "\"string\"");
  EXPECT_EQ(json_raw(head, "columns.reward_model"), "\"struct<style: string, ground_truth: string>\"");
  const std::string extra = json_string(head, "columns.extra_info").value_or("");
  EXPECT_EQ(extra.rfind("struct<id: string, source: string, ", 0), 0u) << extra;
  EXPECT_EQ(json_int(head, "rows"), tp.kept);

  const Strings kept_pq = read_lines(out_pq / "train.jsonl");
  const Strings verl_jsonl_run = read_lines(out_jsonl / "verl.jsonl");
  ASSERT_EQ(verl.size(), kept_pq.size() + 1) << "one row per kept record";
  ASSERT_EQ(verl_jsonl_run.size(), kept_pq.size());
  std::set<std::string> verl_ids;
  for (size_t i = 0; i < kept_pq.size(); ++i) {
    const std::string& row = verl[i + 1];
    SCOPED_TRACE(row);
    const std::string id = json_string(row, "extra_info.id").value_or("");
    EXPECT_TRUE(is_content_id(id)) << id;
    EXPECT_EQ(id, json_string(kept_pq[i], "tamis.id"));
    // The source: the one the record first entered tamis through (the recipe's, carried in tamis.source),
    // not to-verl.yaml's `kept` (docs/pipeline-format.md, Record ids).
    const std::string source = json_string(row, "extra_info.source").value_or("");
    EXPECT_EQ(source, kSource) << "the source the record first entered tamis through";
    verl_ids.insert(id);
    EXPECT_EQ(json_string(row, "/prompt/0/role"), "user");
    EXPECT_EQ(json_string(row, "reward_model.style"), "rule");
    EXPECT_EQ(mask_translate_to(canonical(row)), mask_translate_to(map_ids(canonical(verl_jsonl_run[i]), to_pq_id)))
        << "verl row " << i + 1;
  }
  EXPECT_EQ(verl_ids.size(), kept_pq.size()) << "extra_info.id unique";
}

}  // namespace
