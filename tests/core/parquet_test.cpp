// Parquet in and out (io/parquet_reader.hpp, io/parquet_writer.hpp; docs/parquet.md): round trips of
// HF-style RL prompt sets (verl's layout, DeepScaleR/OpenR1-like columns), the type mapping of the
// reader, chunking, errors, deterministic bytes, and an independent reader and writer (npm's hyparquet and
// hyparquet-writer, run with node when scripts/install-deps.sh installed them; else those tests skip).
// Every test skips when tamis was built without DuckDB.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test_support.hpp"

#ifdef TAMIS_HAVE_PARQUET
#include <duckdb.h>
#include <simdjson.h>

#include "io/parquet_reader.hpp"
#include "io/parquet_writer.hpp"
#endif

namespace tamis::test {
namespace {

#ifndef TAMIS_HAVE_PARQUET

TEST(Parquet, BuiltWithoutDuckdb) {
  GTEST_SKIP() << "this tamis was built without Parquet support: run scripts/install-deps.sh and rebuild";
}

#else

struct ReadResult {
  std::vector<std::string> rows;
  std::vector<uint64_t> numbers;
  size_t chunks = 0;
};

ReadResult read_all(const fs::path& file, io::ReaderLimits limits = {}) {
  io::BufferPool pool(limits.chunk_bytes);
  io::ParquetFileReader reader(file.string(), limits, pool);
  io::LineChunk chunk;
  ReadResult r;
  while (reader.next(chunk)) {
    ++r.chunks;
    for (const io::Line& l : chunk.lines) {
      r.rows.emplace_back(chunk.text(l));
      r.numbers.push_back(l.number);
    }
    pool.put(std::move(chunk.buffer));
  }
  return r;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Runs SQL in a fresh in-memory DuckDB (to make Parquet files with types tamis's writer does not write).
void duckdb_sql(const std::string& sql) {
  duckdb_database db;
  duckdb_connection con;
  ASSERT_EQ(duckdb_open(nullptr, &db), DuckDBSuccess);
  ASSERT_EQ(duckdb_connect(db, &con), DuckDBSuccess);
  duckdb_result res;
  const bool ok = duckdb_query(con, sql.c_str(), &res) == DuckDBSuccess;
  const std::string error = ok ? "" : duckdb_result_error(&res);
  duckdb_destroy_result(&res);
  duckdb_disconnect(&con);
  duckdb_close(&db);
  ASSERT_TRUE(ok) << error;
}

// Whether two JSON texts hold the same value (numbers by value: integers exactly, others as doubles).
bool same_json(simdjson::dom::element a, simdjson::dom::element b) {
  using ET = simdjson::dom::element_type;
  auto is_number = [](ET t) { return t == ET::INT64 || t == ET::UINT64 || t == ET::DOUBLE; };
  if (is_number(a.type()) && is_number(b.type())) {
    if (a.type() == ET::DOUBLE || b.type() == ET::DOUBLE) return double(a) == double(b);
    if (a.type() != b.type()) return false;
    return a.type() == ET::INT64 ? int64_t(a) == int64_t(b) : uint64_t(a) == uint64_t(b);
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case ET::STRING: return std::string_view(a) == std::string_view(b);
    case ET::BOOL: return bool(a) == bool(b);
    case ET::NULL_VALUE: return true;
    case ET::ARRAY: {
      simdjson::dom::array x = a, y = b;
      if (x.size() != y.size()) return false;
      auto j = y.begin();
      for (auto v : x) {
        if (!same_json(v, *j)) return false;
        ++j;
      }
      return true;
    }
    case ET::OBJECT: {
      simdjson::dom::object x = a, y = b;
      if (x.size() != y.size()) return false;
      auto j = y.begin();
      for (auto f : x) {
        if (f.key != j.key() || !same_json(f.value, j.value())) return false;
        ++j;
      }
      return true;
    }
    default: return false;
  }
}

bool same_json(const std::string& a, const std::string& b) {
  simdjson::dom::parser pa, pb;
  simdjson::dom::element x, y;
  if (pa.parse(a).get(x) || pb.parse(b).get(y)) return false;
  return same_json(x, y);
}

// ---------------------------------------------------------------------------------------------------
// Records in the layout of HF RL prompt sets, each line in the reader's canonical form (the schema's
// key order, no spaces) so that a round trip gives the same text.

const char* kVerlSchema =
    "data_source: string, prompt: list<struct<role: string, content: string>>, ability: string, "
    "reward_model: struct<style: string, ground_truth: string>, extra_info: json";

std::vector<std::string> verl_rows(int n) {
  std::vector<std::string> rows;
  for (int i = 0; i < n; ++i) {
    std::ostringstream r;
    r << "{\"data_source\":\"" << (i % 3 ? "DigitalLearningGmbH/MATH-lighteval" : "openai/gsm8k") << "\","
      << "\"prompt\":[";
    if (i % 4 == 0) r << "{\"role\":\"system\",\"content\":\"Reason step by step; put the answer in \\\\boxed{}.\"},";
    r << "{\"role\":\"user\",\"content\":\"Problem " << i << ": find x if x² = " << i * i
      << ".\\nQuote: \\\"é∑😀\\\"\\ttab\"}],"
      << "\"ability\":\"math\","
      << "\"reward_model\":{\"style\":\"rule\",\"ground_truth\":\"" << i << "\"},"
      << "\"extra_info\":{\"index\":" << i << ",\"split\":\"train\",\"pass_rate\":" << (i % 5) * 0.25
      << ",\"tags\":[\"algebra\"" << (i % 2 ? ",\"hard\"" : "") << "]}}";
    rows.push_back(r.str());
  }
  return rows;
}

TEST(Parquet, VerlRoundTripWithDeclaredSchema) {
  TempDir dir;
  auto rows = verl_rows(300);
  // Absent and null values: an absent field comes back as null.
  rows.push_back(R"({"data_source":null,"prompt":[],"ability":"math","reward_model":{"style":"rule","ground_truth":null},"extra_info":null})");
  write_file(dir / "in.jsonl", join_lines(rows));
  write_file(dir / "sparse.jsonl", R"({"prompt":[{"role":"user"}],"reward_model":{}})" "\n");

  io::ParquetWriteOptions options;
  options.schema = io::parse_parquet_schema(kVerlSchema);
  options.row_group_rows = 64;
  const auto result = io::write_parquet_from_jsonl((dir / "in.jsonl").string(), (dir / "out.parquet").string(), options);
  EXPECT_EQ(result.rows, rows.size());
  EXPECT_EQ(io::to_string(result.schema), kVerlSchema);

  const ReadResult back = read_all(dir / "out.parquet");
  ASSERT_EQ(back.rows.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(back.rows[i], rows[i]) << "row " << i + 1;
    EXPECT_EQ(back.numbers[i], i + 1);
  }

  io::write_parquet_from_jsonl((dir / "sparse.jsonl").string(), (dir / "sparse.parquet").string(), options);
  EXPECT_EQ(read_all(dir / "sparse.parquet").rows,
            std::vector<std::string>{R"({"data_source":null,"prompt":[{"role":"user","content":null}],"ability":null,"reward_model":{"style":null,"ground_truth":null},"extra_info":null})"});
}

// DeepScaleR / OpenR1-like columns, schema inferred: list<string>, list<bool>, a struct, int64 beyond
// double's precision, doubles, a column that is always null, and a field of mixed types (→ json).
TEST(Parquet, InferredSchemaRoundTrip) {
  TempDir dir;
  const std::vector<std::string> rows = {
      R"({"problem":"Let $a$ be real.","answer":"\\frac{1}{2}","generations":["a","b"],"correctness_math_verify":[true,false],"source":{"name":"amc","year":2023},"uuid_int":9007199254740993,"score":0.1,"nothing":null,"mixed":1})",
      R"({"problem":"Second","answer":"3","generations":[],"correctness_math_verify":[false],"source":{"name":"aime","year":null},"uuid_int":-9223372036854775808,"score":2,"nothing":null,"mixed":"one"})",
      R"({"problem":"Third","answer":null,"generations":["c"],"correctness_math_verify":null,"source":null,"uuid_int":9223372036854775807,"score":1e-300,"nothing":null,"mixed":[1,{"k":true}]})",
  };
  write_file(dir / "in.jsonl", join_lines(rows));
  const auto result = io::write_parquet_from_jsonl((dir / "in.jsonl").string(), (dir / "out.parquet").string());
  EXPECT_EQ(io::to_string(result.schema),
            "problem: string, answer: string, generations: list<string>, correctness_math_verify: list<bool>, "
            "source: struct<name: string, year: int64>, uuid_int: int64, score: double, nothing: json, mixed: json");
  const ReadResult back = read_all(dir / "out.parquet");
  ASSERT_EQ(back.rows.size(), 3u);
  EXPECT_EQ(back.rows[0], R"({"problem":"Let $a$ be real.","answer":"\\frac{1}{2}","generations":["a","b"],"correctness_math_verify":[true,false],"source":{"name":"amc","year":2023},"uuid_int":9007199254740993,"score":0.1,"nothing":null,"mixed":1})");
  EXPECT_EQ(back.rows[1], R"({"problem":"Second","answer":"3","generations":[],"correctness_math_verify":[false],"source":{"name":"aime","year":null},"uuid_int":-9223372036854775808,"score":2,"nothing":null,"mixed":"one"})");
  EXPECT_EQ(back.rows[2], R"({"problem":"Third","answer":null,"generations":["c"],"correctness_math_verify":null,"source":null,"uuid_int":9223372036854775807,"score":1e-300,"nothing":null,"mixed":[1,{"k":true}]})");
}

// Blank lines, CRLF endings and a last line without a newline: what the JSONL reader accepts, DuckDB
// reads the same way (the writer checks that both counted the same rows).
TEST(Parquet, JsonlLayoutVariants) {
  TempDir dir;
  write_file(dir / "in.jsonl", "{\"a\":1}\r\n\n   \n{\"a\":2}\r\n{\"a\":3}");
  const auto result = io::write_parquet_from_jsonl((dir / "in.jsonl").string(), (dir / "out.parquet").string());
  EXPECT_EQ(result.rows, 3u);
  EXPECT_EQ(read_all(dir / "out.parquet").rows, (std::vector<std::string>{R"({"a":1})", R"({"a":2})", R"({"a":3})"}));
}

TEST(Parquet, SchemaText) {
  const auto s = io::parse_parquet_schema(R"( a : list< struct<"odd key": int32, b: float>>, c:bool , "d e": double )");
  EXPECT_EQ(io::to_string(s), R"(a: list<struct<"odd key": int32, b: float>>, c: bool, "d e": double)");
  EXPECT_EQ(io::parse_parquet_schema(io::to_string(s)), s);
  for (const char* bad : {"", "a", "a:", "a: int", "a: list<string", "a: string b: string", "a: string, a: int64",
                          "a: struct<>", "a: string,"}) {
    EXPECT_THROW(io::parse_parquet_schema(bad), io::ParquetSchemaError) << bad;
  }
}

// Every type DuckDB reads from Parquet becomes the JSON value docs/parquet.md gives.
TEST(Parquet, ReaderTypeMapping) {
  TempDir dir;
  const auto file = (dir / "types.parquet").string();
  duckdb_sql(
      "COPY (SELECT 1::TINYINT AS i8, 300::SMALLINT AS i16, -70000::INTEGER AS i32, 9007199254740993::BIGINT AS i64,"
      " 255::UTINYINT AS u8, 18446744073709551615::UBIGINT AS u64,"
      " 170141183460469231731687303715884105727::HUGEINT AS big,"
      " 0.1::FLOAT AS f32, 'nan'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, '-inf'::FLOAT AS ninf, -0.5::DOUBLE AS f64,"
      " 12345678901234567890.1234567890::DECIMAL(38,10) AS d38, -0.05::DECIMAL(4,2) AS d4, 1.5::DECIMAL(18,3) AS d18,"
      " 'tab\there \"q\" \\ '||chr(1) AS s, '\\x00\\xFF\\x10abc'::BLOB AS b, ''::BLOB AS b0,"
      " DATE '2024-02-29' AS d, DATE '0044-03-15' AS old, TIME '23:59:58.25' AS t,"
      " TIMESTAMP '1969-12-31 23:59:59.5' AS ts, TIMESTAMP '2024-01-02 03:04:05' AS ts0,"
      " TIMESTAMP_MS '2024-01-02 03:04:05.123' AS tsms, TIMESTAMP_NS '2024-01-02 03:04:05.123456789' AS tsns,"
      " TIMESTAMPTZ '2024-01-02 03:04:05+00' AS tstz,"
      " '4ac7a9e9-607c-4c8a-84f3-843f0191e3fd'::UUID AS u,"
      " [[1, 2], [], NULL] AS nested, [NULL::VARCHAR] AS nulls, {'a': {'b': [true]}, 'c': NULL::INT} AS st,"
      " MAP {'k1': 1, 'k\"2': NULL} AS m, MAP {3: 'x'} AS mi, [1, 2, 3]::INTEGER[3] AS arr,"
      " NULL::VARCHAR AS n, 'x'::ENUM ('x', 'y') AS e)"
      " TO '" + file + "' (FORMAT parquet)");
  const ReadResult back = read_all(file);
  ASSERT_EQ(back.rows.size(), 1u);
  EXPECT_EQ(back.rows[0],
            R"({"i8":1,"i16":300,"i32":-70000,"i64":9007199254740993,"u8":255,"u64":18446744073709551615,)"
            R"("big":1.7014118346046923e+38,)"  // Parquet has no 128-bit integer: DuckDB writes a double
            R"("f32":0.1,"nan":null,"inf":null,"ninf":null,"f64":-0.5,)"
            R"("d38":12345678901234567890.1234567890,"d4":-0.05,"d18":1.500,)"
            R"("s":"tab\there \"q\" \\ \u0001","b":"AP8QYWJj","b0":"",)"
            R"("d":"2024-02-29","old":"0044-03-15","t":"23:59:58.25",)"
            R"("ts":"1969-12-31T23:59:59.5","ts0":"2024-01-02T03:04:05",)"
            R"("tsms":"2024-01-02T03:04:05.123","tsns":"2024-01-02T03:04:05.123456789",)"
            R"("tstz":"2024-01-02T03:04:05Z","u":"4ac7a9e9-607c-4c8a-84f3-843f0191e3fd",)"
            R"("nested":[[1,2],[],null],"nulls":[null],"st":{"a":{"b":[true]},"c":null},)"
            R"("m":{"k1":1,"k\"2":null},"mi":{"3":"x"},"arr":[1,2,3],"n":null,"e":"x"})");
  simdjson::dom::parser parser;
  EXPECT_FALSE(parser.parse(back.rows[0]).error()) << "not valid JSON";
}

// Chunks end at the byte bound (rows plus line_cost each), hold whole rows in file order, and leave
// kPadding readable bytes after every row; the row numbers run 1..N across chunks.
TEST(Parquet, ChunksAreBoundedAndOrdered) {
  TempDir dir;
  const auto rows = verl_rows(5000);
  write_file(dir / "in.jsonl", join_lines(rows));
  io::ParquetWriteOptions options;
  options.schema = io::parse_parquet_schema(kVerlSchema);
  options.row_group_rows = 2048;  // three row groups
  io::write_parquet_from_jsonl((dir / "in.jsonl").string(), (dir / "out.parquet").string(), options);

  io::ReaderLimits limits;
  limits.chunk_bytes = 8192;
  limits.line_cost = 64;
  io::BufferPool pool(limits.chunk_bytes);
  io::ParquetFileReader reader((dir / "out.parquet").string(), limits, pool);
  EXPECT_EQ(reader.row_count(), rows.size());
  io::LineChunk chunk;
  size_t chunks = 0, seen = 0;
  while (reader.next(chunk)) {
    ++chunks;
    ASSERT_FALSE(chunk.lines.empty());
    EXPECT_LE(chunk.bytes + chunk.lines.size() * limits.line_cost, limits.chunk_bytes);
    for (const io::Line& l : chunk.lines) {
      ASSERT_EQ(l.number, seen + 1);
      ASSERT_EQ(chunk.text(l), rows[seen]);
      ASSERT_LE(l.offset + l.size + io::kPadding, chunk.buffer.capacity + io::kPadding);
      EXPECT_EQ(chunk.buffer.data[l.offset + l.size], '\n');
      ++seen;
    }
    EXPECT_EQ(reader.lines_started(), seen);
    pool.put(std::move(chunk.buffer));
  }
  EXPECT_EQ(seen, rows.size());
  EXPECT_GT(chunks, 50u);
  EXPECT_EQ(reader.file_bytes_consumed(), fs::file_size(dir / "out.parquet"));
  EXPECT_FALSE(reader.next(chunk));

  // A row longer than the maximum line size is handed over as a LongLine with its first bytes.
  limits.max_line_bytes = 100;
  io::BufferPool pool2(limits.chunk_bytes);
  io::ParquetFileReader longer((dir / "out.parquet").string(), limits, pool2);
  ASSERT_TRUE(longer.next(chunk));
  ASSERT_FALSE(chunk.long_lines.empty());
  EXPECT_EQ(chunk.long_lines[0].index, 0u);
  EXPECT_EQ(chunk.long_lines[0].length, rows[0].size());
  EXPECT_EQ(chunk.text(chunk.lines[0]), rows[0].substr(0, 100));
}

TEST(Parquet, ReadErrorsNameTheFile) {
  TempDir dir;
  auto expect_error = [&](const fs::path& p, const std::string& part) {
    try {
      read_all(p);
      ADD_FAILURE() << p << ": no error";
    } catch (const io::ReadError& e) {
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expect_error(dir / "missing.parquet", "cannot open");
  write_file(dir / "text.parquet", "{\"a\": 1}\n");
  expect_error(dir / "text.parquet", "not a Parquet file");
  write_file(dir / "empty.parquet", "");
  expect_error(dir / "empty.parquet", "not a Parquet file");
  fs::create_directory(dir / "folder.parquet");
  expect_error(dir / "folder.parquet", "is a folder");

  write_file(dir / "in.jsonl", join_lines(verl_rows(500)));
  io::ParquetWriteOptions options;
  options.schema = io::parse_parquet_schema(kVerlSchema);
  io::write_parquet_from_jsonl((dir / "in.jsonl").string(), (dir / "whole.parquet").string(), options);
  const std::string whole = read_file(dir / "whole.parquet");
  write_file(dir / "cut.parquet", whole.substr(0, whole.size() / 2));
  expect_error(dir / "cut.parquet", "not a Parquet file, or a truncated one");
  write_file(dir / "a*b.parquet", whole);
  expect_error(dir / "a*b.parquet", "not supported");
  duckdb_sql("COPY (SELECT union_value(k := 1) AS u) TO '" + (dir / "union.parquet").string() + "' (FORMAT parquet)");
  // DuckDB writes a union as a struct of its tag (named "") and members (Parquet has no union).
  EXPECT_EQ(read_all(dir / "union.parquet").rows, std::vector<std::string>{R"({"u":{"":0,"k":1}})"});
}

TEST(Parquet, WriterRejectsValuesThatDoNotFit) {
  TempDir dir;
  io::ParquetWriteOptions options;
  options.schema = io::parse_parquet_schema(kVerlSchema);
  auto expect_error = [&](const std::string& jsonl, const std::string& part) {
    write_file(dir / "in.jsonl", jsonl);
    try {
      io::write_parquet_from_jsonl((dir / "in.jsonl").string(), (dir / "out.parquet").string(), options);
      ADD_FAILURE() << jsonl << ": no error";
    } catch (const io::WriteError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir / "out.parquet"));
  };
  const std::string good = verl_rows(1)[0] + "\n";
  expect_error(good + good + R"({"prompt":[{"role":"user","content":"a"},{"role":7}]})" "\n",
               "in.jsonl:3: column prompt[1].role: expected a string, got an integer");
  expect_error(good + R"({"reward_model":{"style":"rule","ground_truth":["4"]}})" "\n",
               "in.jsonl:2: column reward_model.ground_truth: expected a string, got an array");
  expect_error(good + "\n" + R"({"data_source":"x","answer":"4"})" "\n",
               "in.jsonl:3: column answer: a key the declared schema does not name");
  expect_error(good + "[1,2]\n", "in.jsonl:2: not a JSON object");
  expect_error(good + "{\"data_source\":\n", "in.jsonl:2: not valid JSON");
  options.schema = io::parse_parquet_schema("n: int32, x: double");
  expect_error("{\"n\":2147483648}\n", "in.jsonl:1: column n: integer 2147483648 out of the range of int32");
  expect_error("{\"n\":1.5}\n", "column n: expected an integer, got a number");
  expect_error("{\"x\":\"1.5\"}\n", "column x: expected a number, got a string");
  options.schema.reset();
  expect_error("", "no record and no declared schema");

  // drop_undeclared_keys: the extra key is left out.
  options.schema = io::parse_parquet_schema("a: string");
  options.drop_undeclared_keys = true;
  write_file(dir / "in.jsonl", "{\"a\":\"x\",\"b\":{\"c\":1}}\n");
  io::write_parquet_from_jsonl((dir / "in.jsonl").string(), (dir / "out.parquet").string(), options);
  EXPECT_EQ(read_all(dir / "out.parquet").rows, std::vector<std::string>{R"({"a":"x"})"});
  // An empty input with a declared schema: a file of no rows.
  write_file(dir / "in.jsonl", "");
  EXPECT_EQ(io::write_parquet_from_jsonl((dir / "in.jsonl").string(), (dir / "empty.parquet").string(), options).rows, 0u);
  EXPECT_TRUE(read_all(dir / "empty.parquet").rows.empty());
}

TEST(Parquet, SameInputSameBytes) {
  TempDir dir;
  write_file(dir / "in.jsonl", join_lines(verl_rows(3000)));
  io::ParquetWriteOptions options;
  options.schema = io::parse_parquet_schema(kVerlSchema);
  options.row_group_rows = 1000;
  io::write_parquet_from_jsonl((dir / "in.jsonl").string(), (dir / "a.parquet").string(), options);
  io::write_parquet_from_jsonl((dir / "in.jsonl").string(), (dir / "b.parquet").string(), options);
  const std::string a = read_file(dir / "a.parquet");
  EXPECT_EQ(a, read_file(dir / "b.parquet"));
  options.compression = io::ParquetCompression::snappy;
  io::write_parquet_from_jsonl((dir / "in.jsonl").string(), (dir / "c.parquet").string(), options);
  EXPECT_NE(a, read_file(dir / "c.parquet"));
  EXPECT_EQ(read_all(dir / "a.parquet").rows, read_all(dir / "c.parquet").rows);
}

// ---------------------------------------------------------------------------------------------------
// The independent reader and writer (npm's hyparquet, hyparquet-writer), when installed.

fs::path node_modules() {
  const char* env = std::getenv("TAMIS_DEPS_PREFIX");
  return fs::path(env ? env : "/opt/tamis-deps") / "npm" / "node_modules";
}

bool have_hyparquet() {
  return fs::exists(node_modules() / "hyparquet") && fs::exists(node_modules() / "hyparquet-compressors") &&
         fs::exists(node_modules() / "hyparquet-writer") && run_shell("node --version >/dev/null 2>&1").exit_code == 0;
}

std::vector<std::string> hyparquet_rows(const fs::path& file, std::string& header) {
  const auto script = source_dir() / "tests" / "core" / "parquet" / "read.mjs";
  const auto r = run_shell("node '" + script.string() + "' '" + node_modules().string() + "' '" + file.string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> rows;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("#")) {
      header = line;
    } else {
      rows.push_back(line);
    }
  }
  return rows;
}

TEST(Parquet, HyparquetReadsWhatTamisWrites) {
  if (!have_hyparquet()) GTEST_SKIP() << "hyparquet or node absent (scripts/install-deps.sh installs them)";
  TempDir dir;
  auto rows = verl_rows(5000);
  rows.push_back(R"({"data_source":null,"prompt":[],"ability":"math","reward_model":{"style":"rule","ground_truth":null},"extra_info":[1,"two",null]})");
  write_file(dir / "in.jsonl", join_lines(rows));
  for (auto codec : {io::ParquetCompression::zstd, io::ParquetCompression::snappy}) {
    io::ParquetWriteOptions options;
    options.schema = io::parse_parquet_schema(kVerlSchema);
    options.compression = codec;
    options.row_group_rows = 2048;  // DuckDB's row groups are whole vectors of 2048 rows
    io::write_parquet_from_jsonl((dir / "in.jsonl").string(), (dir / "verl.parquet").string(), options);
    std::string header;
    const auto got = hyparquet_rows(dir / "verl.parquet", header);
    EXPECT_EQ(header, "# rows 5001 row_groups 3");
    ASSERT_EQ(got.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) EXPECT_TRUE(same_json(got[i], rows[i])) << got[i] << "\n" << rows[i];
  }

  // The inferred schema's types too: int64 beyond double's precision, lists of booleans, doubles.
  const std::vector<std::string> typed = {
      R"({"id":9007199254740993,"flags":[true,false],"score":0.25,"meta":{"k":"v","n":-3}})",
      R"({"id":-5,"flags":[],"score":1e-300,"meta":null})",
  };
  write_file(dir / "typed.jsonl", join_lines(typed));
  io::write_parquet_from_jsonl((dir / "typed.jsonl").string(), (dir / "typed.parquet").string());
  std::string header;
  const auto got = hyparquet_rows(dir / "typed.parquet", header);
  ASSERT_EQ(got.size(), typed.size());
  for (size_t i = 0; i < typed.size(); ++i) EXPECT_TRUE(same_json(got[i], typed[i])) << got[i];
}

TEST(Parquet, TamisReadsWhatHyparquetWriterWrites) {
  if (!have_hyparquet()) GTEST_SKIP() << "hyparquet-writer or node absent (scripts/install-deps.sh installs them)";
  TempDir dir;
  const auto script = source_dir() / "tests" / "core" / "parquet" / "write.mjs";
  const auto r = run_shell("node '" + script.string() + "' '" + node_modules().string() + "' '" + (dir / "hw.parquet").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const ReadResult back = read_all(dir / "hw.parquet");
  const std::vector<std::string> expected = {
      R"({"problem":"What is 2+2?","answer_id":9007199254740993,"level":1,"pass_rate":0.5,"verified":true,"meta":{"a":[1,2]}})",
      R"({"problem":"Solve \"x^2 = 4\"\n","answer_id":-1,"level":2,"pass_rate":0.1,"verified":false,"meta":null})",
      R"({"problem":null,"answer_id":0,"level":3,"pass_rate":null,"verified":null,"meta":{"b":"c"}})",
      R"({"problem":"ünïcode ∑ 😀","answer_id":null,"level":4,"pass_rate":1e-300,"verified":true,"meta":[]})",
      R"({"problem":"","answer_id":42,"level":5,"pass_rate":-2.25,"verified":false,"meta":{"n":null}})",
  };
  EXPECT_EQ(back.rows, expected);
}

#endif  // TAMIS_HAVE_PARQUET

}  // namespace
}  // namespace tamis::test
