// The HTML review page (core/src/review, `tamis report`, docs/review.md): rendered from real runs'
// report.json and loaded in headless Chromium, which must show the report's numbers with no console
// message; record text with markup stays text; tables are capped; the same report gives the same bytes.
// The browser tests skip where `chromium` is absent (scripts/install-deps.sh installs it).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "core_test_helpers.hpp"
#include "review/html_report.hpp"

namespace tamis::test {
namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool have_chromium() { return run_shell("command -v chromium").exit_code == 0; }

struct Browser {
  std::string dom;     // the DOM after loading, serialised by the browser (--dump-dom)
  std::string log;     // its stderr with logging on: console messages show as "CONSOLE"
  bool screenshot_ok = false;
};

// Loads `html` in headless Chromium twice: once dumping the DOM (with logging), once taking a screenshot
// into `png`.
Browser load_in_chromium(const fs::path& html, const fs::path& png, const fs::path& profile) {
  const std::string common = "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run "
                             "--window-size=1280,2400 --user-data-dir=" + quote(profile.string());
  const std::string url = quote("file://" + fs::absolute(html).string());
  Browser b;
  const CommandResult dom = run_shell(common + " --enable-logging=stderr --v=0 --dump-dom " + url);
  EXPECT_EQ(dom.exit_code, 0) << dom.err;
  b.dom = dom.out;
  b.log = dom.err;
  const CommandResult shot = run_shell(common + " --screenshot=" + quote(png.string()) + " " + url);
  EXPECT_EQ(shot.exit_code, 0) << shot.err;
  std::error_code ec;
  if (fs::exists(png, ec) && fs::file_size(png, ec) > 1000) {
    const std::string bytes = read_file(png);
    b.screenshot_ok = bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
  }
  return b;
}

// Lines of Chromium's log that report something from the page: console messages, uncaught errors,
// resources refused by the page's Content-Security-Policy.
std::vector<std::string> page_messages(const std::string& log) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(pos, end - pos);
    pos = end + 1;
    if (line.find("CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos ||
        line.find("Content Security Policy") != std::string::npos || line.find("Refused to") != std::string::npos)
      out.push_back(line);
  }
  return out;
}

// The numbers the page shows: id → (data-value, the text shown without its commas).
std::map<std::string, std::pair<std::string, std::string>> shown_numbers(const std::string& dom) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  static const std::regex re(R"re(<span class="num" id="([^"]+)" data-value="([0-9]+)">([0-9,]+)</span>)re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), re); it != std::sregex_iterator(); ++it) {
    std::string text = (*it)[3];
    std::erase(text, ',');
    out[(*it)[1]] = {(*it)[2], text};
  }
  return out;
}

// Checks that the page shows `value` under `id`, as its text and its data-value.
void expect_shown(const std::map<std::string, std::pair<std::string, std::string>>& shown, const std::string& id,
                  uint64_t value) {
  auto it = shown.find(id);
  ASSERT_NE(it, shown.end()) << "the page shows no number with id " << id;
  EXPECT_EQ(it->second.first, std::to_string(value)) << id;
  EXPECT_EQ(it->second.second, std::to_string(value)) << id;
}

// The page holds nothing that would reach outside the file.
void expect_self_contained(const std::string& html) {
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<iframe"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url(http"), std::string::npos);
  EXPECT_EQ(html.find("src=\""), std::string::npos);
}

// Every number of report.json the page promises (totals, each stage's counts and reasons, sinks' lines)
// is shown, equal.
void expect_report_numbers(const std::string& report_json, const std::string& dom) {
  const auto shown = shown_numbers(dom);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(report_json).get(doc), simdjson::SUCCESS);
  for (const char* k : {"read", "kept", "rejected", "errors"}) {
    uint64_t v = 0;
    ASSERT_EQ(doc["totals"][k].get_uint64().get(v), simdjson::SUCCESS);
    expect_shown(shown, std::string("total-") + k, v);
  }
  EXPECT_NE(dom.find("id=\"balanced\">balanced<"), std::string::npos);
  simdjson::dom::array stages;
  ASSERT_EQ(doc["stages"].get_array().get(stages), simdjson::SUCCESS);
  size_t i = 0;
  for (auto st : stages) {
    const std::string id = "stage-" + std::to_string(i++);
    for (const char* k : {"in", "kept", "rejected", "emitted"}) {
      uint64_t v = 0;
      ASSERT_EQ(st[k].get_uint64().get(v), simdjson::SUCCESS);
      expect_shown(shown, id + "-" + k, v);
    }
    // Reasons: each shown in a row naming it, largest first.
    simdjson::dom::object reasons;
    ASSERT_EQ(st["rejected_by_reason"].get_object().get(reasons), simdjson::SUCCESS);
    std::map<std::string, uint64_t> want;
    for (auto [k, v] : reasons) want[std::string(k)] = v.get_uint64().value();
    size_t r = 0;
    uint64_t previous = UINT64_MAX;
    for (; r < want.size(); ++r) {
      const std::string rid = id + "-reason-" + std::to_string(r);
      const size_t at = dom.find("id=\"" + rid + "\"");
      ASSERT_NE(at, std::string::npos) << rid;
      const size_t row = dom.rfind("data-reason=\"", at);
      ASSERT_NE(row, std::string::npos);
      const size_t from = row + 13;
      const std::string reason = dom.substr(from, dom.find('"', from) - from);
      ASSERT_TRUE(want.count(reason)) << reason;
      expect_shown(shown, rid, want[reason]);
      EXPECT_LE(want[reason], previous) << "reasons are shown largest first";
      previous = want[reason];
    }
    EXPECT_EQ(shown.count(id + "-reason-" + std::to_string(r)), 0u);
    // Decision samples (engine/evidence.hpp): at most 5 per reason, each a row of the page naming its record.
    simdjson::dom::object samples, sampled;
    if (st["samples"].get_object().get(samples) == simdjson::SUCCESS &&
        samples["rejected"].get_object().get(sampled) == simdjson::SUCCESS) {
      const std::string stage(st["name"].get_string().value());
      for (auto [reason, list] : sampled) {
        const size_t n = list.get_array().size();
        EXPECT_GE(n, 1u);
        EXPECT_LE(n, 5u);
        EXPECT_LE(n, want[std::string(reason)]);
        const std::string row = "class=\"sample\" data-stage=\"" + stage + "\" data-reason=\"" + std::string(reason) + "\"";
        size_t rows = 0;
        for (size_t at = dom.find(row); at != std::string::npos; at = dom.find(row, at + 1)) ++rows;
        EXPECT_EQ(rows, n) << stage << " / " << reason;
        for (auto sample : list.get_array()) {
          std::string sid;  // as the browser serialises an attribute value
          const std::string raw_id(sample["id"].get_string().value());
          for (char c : raw_id)
            sid += c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '"' ? "&quot;" : std::string(1, c);
          EXPECT_NE(dom.find(row + " data-id=\"" + sid + "\""), std::string::npos) << sid;
        }
      }
    }
  }
  EXPECT_EQ(shown.count("stage-" + std::to_string(i) + "-in"), 0u) << "no stage the report does not have";
  simdjson::dom::array sinks;
  ASSERT_EQ(doc["sinks"].get_array().get(sinks), simdjson::SUCCESS);
  i = 0;
  for (auto s : sinks) expect_shown(shown, "sink-" + std::to_string(i++) + "-lines", s["lines"].get_uint64().value());
}

// The Magistral recipe on real GSM8K rollouts: the page from its report.json in a real browser.
TEST(ReviewPage, MagistralRunShowsTheReportInChromium) {
  if (shared_data("gsm8k/example_model_solutions.jsonl").empty()) GTEST_SKIP() << "../shared/data is absent";
  TempDir tmp;
  const fs::path out = tmp / "out";
  const CommandResult run = run_shell("TAMIS_OUT=" + quote(out.string()) + " " + quote(tamis_bin()) + " run --quiet " +
                                      quote((source_dir() / "pipelines/magistral-math.yaml").string()));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const fs::path html = tmp / "review.html";
  const CommandResult rep = run_tamis({"report", (out / "report.json").string(), "-o", html.string()});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  const std::string page = read_file(html);
  expect_self_contained(page);
  // The graph's inputs and parameters come from the pipeline file the report names.
  EXPECT_NE(page.find("Inputs and parameters from"), std::string::npos);
  EXPECT_NE(page.find("suspect_share: 0.75"), std::string::npos) << "a parameter on hover";
  // The same report gives the same page.
  const fs::path again = tmp / "again.html";
  ASSERT_EQ(run_tamis({"report", (out / "report.json").string(), "-o", again.string()}).exit_code, 0);
  EXPECT_EQ(read_file(again), page);

  if (!have_chromium()) GTEST_SKIP() << "chromium is absent (apt-get install chromium)";
  const fs::path png = binary_dir() / "review_magistral.png";  // kept after the test, to look at
  const Browser b = load_in_chromium(html, png, tmp / "profile");
  EXPECT_TRUE(page_messages(b.log).empty()) << page_messages(b.log).front();
  EXPECT_TRUE(b.screenshot_ok) << png;
  ASSERT_NE(b.dom.find("id=\"funnel-chart\""), std::string::npos) << b.dom.substr(0, 2000);
  EXPECT_NE(b.dom.find("id=\"graph-chart\""), std::string::npos);
  EXPECT_NE(b.dom.find("id=\"dist-record-bytes\""), std::string::npos) << "the distributions are drawn";
  expect_report_numbers(read_file(out / "report.json"), b.dom);
}

// The decision samples are the same for any thread count, bounded, and show each decision kind's
// evidence: the difficulty stage's pass rates and majority answer beside the reference, the language
// label with its confidence.
TEST(ReviewPage, DecisionSamplesAreDeterministicAndCarryTheEvidence) {
  if (shared_data("gsm8k/example_model_solutions.jsonl").empty()) GTEST_SKIP() << "../shared/data is absent";
  TempDir tmp;
  std::vector<std::string> samples_by_threads;
  for (const char* threads : {"1", "2", "3"}) {
    const fs::path out = tmp / (std::string("out") + threads);
    const CommandResult run = run_shell("TAMIS_OUT=" + quote(out.string()) + " " + quote(tamis_bin()) + " run --quiet --threads " +
                                        threads + " --batch-bytes 65536 " + quote((source_dir() / "pipelines/magistral-math.yaml").string()));
    ASSERT_EQ(run.exit_code, 0) << run.err;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    const std::string report = read_file(out / "report.json");
    ASSERT_EQ(parser.parse(report).get(doc), simdjson::SUCCESS);
    std::string all;
    for (auto st : doc["stages"].get_array()) {
      simdjson::dom::element s;
      ASSERT_EQ(st["samples"].get(s), simdjson::SUCCESS) << "every stage that saw records has samples";
      all += simdjson::minify(s) + "\n";
    }
    EXPECT_LT(all.size(), 200000u) << "samples stay bounded";
    // The distributions: every record counted once by its size (no fan-out here), and the pass-rate
    // band visible: no kept record with pooled pass rate 0 or 1.
    simdjson::dom::element dist;
    ASSERT_EQ(doc["distributions"].get(dist), simdjson::SUCCESS);
    uint64_t kept = 0, rejected = 0;
    for (auto b : dist["record_bytes"].get_array()) kept += b["kept"].get_uint64().value(), rejected += b["rejected"].get_uint64().value();
    EXPECT_EQ(kept, doc["totals"]["kept"].get_uint64().value());
    EXPECT_EQ(rejected, doc["totals"]["rejected"].get_uint64().value());
    bool found = false;
    for (auto k : dist["annotations"].get_array()) {
      if (k["key"].get_string().value() != "pass_rate_pooled") continue;
      found = true;
      EXPECT_EQ(k["kind"].get_string().value(), "unit");
      simdjson::dom::array bins = k["bins"].get_array();
      ASSERT_EQ(bins.size(), 10u);
      EXPECT_EQ(bins.at(0)["kept"].get_uint64().value(), 0u);
      EXPECT_EQ(bins.at(0)["rejected"].get_uint64().value(), 432u) << "no correct solution: too_hard or suspect";
      EXPECT_EQ(bins.at(9)["kept"].get_uint64().value(), 0u);
      EXPECT_EQ(bins.at(9)["rejected"].get_uint64().value(), 156u) << "all four correct: too_easy";
    }
    EXPECT_TRUE(found);
    all += simdjson::minify(dist);
    samples_by_threads.push_back(all);
  }
  EXPECT_EQ(samples_by_threads[0], samples_by_threads[1]);
  EXPECT_EQ(samples_by_threads[0], samples_by_threads[2]);
  const std::string& s = samples_by_threads[0];
  for (const char* evidence : {"\"suspect_label\":[{", "\"majority_answer\":", "\"majority_share\":", "\"pass_rate_pooled\":",
                               "\"lang_confidence\":", "\"translate_to\":", "\"too_hard\":[{", "\"too_easy\":[{"})
    EXPECT_NE(s.find(evidence), std::string::npos) << evidence;
}

// Records and benchmark items with markup: the page shows the decontamination evidence as text, and the
// browser runs nothing of it.
TEST(ReviewPage, MarkupInRecordsStaysText) {
  TempDir tmp;
  const std::string item =
      "Compute <script>console.error(\"pwned\")</script> the value of x when "
      "<img src=x onerror=\"console.error('pwned2')\"> x plus 3 equals 10 & y is 2, then add the two numbers.";
  auto line = [](const std::string& id, const std::string& text) {
    std::string esc;
    for (char c : text) esc += c == '"' ? std::string("\\\"") : std::string(1, c);
    return "{\"id\": \"" + id + "\", \"question\": \"" + esc + "\"}\n";
  };
  write_file(tmp / "bench.jsonl", line("b-1", item) + line("b-2", "How many sides does a regular polygon with interior angles of 150 degrees have?"));
  // The contaminated record's id is markup too: the page shows it beside the evidence, unmarked.
  write_file(tmp / "pool.jsonl", line("r-1<img src=x onerror=console.error(1)>", item) + line("r-2", item) + line("r-3", "What is 2 + 2? Give the answer as a number.") +
                                     line("r-4", "What is 2 + 2? Give the answer as a number.") + line("r-5", "Seven <b>bold</b> ducks swim; how many legs?"));
  write_file(tmp / "p.yaml",
             "version: 1\nsources:\n  pool: { path: pool.jsonl, id: id }\nstages:\n"
             "  exact:\n    uses: dedup.exact\n    with: { fields: [question] }\n"
             "  decon:\n    uses: decontaminate\n    with:\n      field: question\n"
             "      references: [ { name: bench, path: bench.jsonl, fields: [question], id: id } ]\n"
             "sinks:\n  kept: { path: out/kept.jsonl }\n  report: { path: out/report.json, report: true }\n");
  const CommandResult run = run_tamis({"run", "--quiet", (tmp / "p.yaml").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string report = read_file(tmp / "out/report.json");
  ASSERT_TRUE(std::regex_search(report, std::regex(R"("records_matched"\s*:\s*1\b)")))
      << "r-1 is contaminated (r-2, its copy, went at exact): " << report;
  const fs::path html = tmp / "review.html";
  ASSERT_EQ(run_tamis({"report", (tmp / "out/report.json").string(), "-o", html.string()}).exit_code, 0);
  const std::string page = read_file(html);
  expect_self_contained(page);
  EXPECT_NE(page.find("class=\"evidence\""), std::string::npos) << "the hit is shown with its evidence";
  EXPECT_NE(page.find("&lt;<mark>script</mark>&gt;"), std::string::npos) << "the markup shown as text, its words marked";
  EXPECT_NE(page.find("<mark>"), std::string::npos) << "shared words marked";
  EXPECT_NE(page.find("r-1&lt;img src=x onerror=console.error(1)&gt;"), std::string::npos);

  if (!have_chromium()) GTEST_SKIP() << "chromium is absent (apt-get install chromium)";
  const Browser b = load_in_chromium(html, tmp / "shot.png", tmp / "profile");
  EXPECT_TRUE(page_messages(b.log).empty()) << page_messages(b.log).front();
  EXPECT_TRUE(b.screenshot_ok);
  EXPECT_EQ(b.dom.find("<script"), std::string::npos);
  EXPECT_EQ(b.dom.find("<img"), std::string::npos);
  EXPECT_NE(b.dom.find("&lt;<mark>script</mark>&gt;"), std::string::npos);
  expect_report_numbers(report, b.dom);
}

// A made report with many reasons and a long op report: every table capped, and the page says how much
// it left out.
TEST(ReviewPage, TablesAreCappedAndSaySo) {
  std::string reasons, hits;
  for (int i = 0; i < 500; ++i) reasons += std::string(i ? "," : "") + "\"reason_" + std::to_string(i) + "\": " + std::to_string(1000 - i);
  for (int i = 0; i < 300; ++i) hits += std::string(i ? "," : "") + "{\"cluster\": " + std::to_string(i) + ", \"size\": 2}";
  const std::string json = "{\"pipeline\": \"p.yaml\", \"totals\": {\"read\": 125250, \"kept\": 0, \"rejected\": 375250, "
                           "\"errors\": 0, \"balanced\": false}, \"stages\": [{\"name\": \"s\", \"op\": \"x.y\", \"in\": 375250, "
                           "\"kept\": 0, \"rejected\": 375250, \"emitted\": 0, \"rejected_by_reason\": {" + reasons +
                           "}, \"counters\": {}, \"seconds\": 1, \"time_share\": 1, \"report\": {\"clusters\": [" + hits +
                           "], \"note\": \"" + std::string(5000, 'a') + "\"}}]}";
  review::ReviewOptions o;
  o.max_rows = 40;
  const std::string page = review::render_review_html(json, o);
  EXPECT_NE(page.find("460 more reasons not shown"), std::string::npos);
  EXPECT_NE(page.find("260 more rows not shown"), std::string::npos);
  EXPECT_NE(page.find("more bytes)"), std::string::npos);
  EXPECT_EQ(page.find(std::string(1000, 'a')), std::string::npos);
  EXPECT_EQ(page.find("reason_40\""), std::string::npos);
  EXPECT_NE(page.find("reason_39\""), std::string::npos);
  EXPECT_NE(page.find("NOT BALANCED"), std::string::npos) << "125,250 read but 375,250 rejected";
  EXPECT_LT(page.size(), 200'000u);
}

// A report sink whose path ends in .html writes the review page of the run itself (with the run's
// other outputs), the same numbers as the JSON report beside it.
TEST(ReviewPage, AnHtmlReportSinkWritesThePage) {
  TempDir t;
  std::string in;
  for (int i = 0; i < 30; ++i) in += "{\"id\":\"r" + std::to_string(i) + "\",\"q\":\"" + std::string(static_cast<size_t>(i), 'x') + "\"}\n";
  write_file(t / "in.jsonl", in);
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n  len: { uses: filter.length, with: { field: q, min: 10 } }\n"
                           "sinks:\n  kept: { path: out/kept.jsonl }\n  json: { path: out/report.json, report: true }\n"
                           "  page: { path: out/review.html, report: true }\n");
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nreview page: " + (t / "out/review.html").string() + "  (open it in a browser)\n"), std::string::npos) << r.out;
  const std::string page = read_file(t / "out/review.html");
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u) << page.substr(0, 200);
  EXPECT_NE(page.find("id=\"total-read\" data-value=\"30\""), std::string::npos);
  EXPECT_NE(page.find("id=\"total-kept\" data-value=\"20\""), std::string::npos);
  EXPECT_EQ(read_file(t / "out/report.json").rfind("{", 0), 0u);
  // A dry run writes neither.
  fs::remove_all(t / "out");
  ASSERT_EQ(run_tamis({"run", (t / "p.yaml").string(), "--dry-run"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(t / "out"));
}

// A sampled duplicate comes with the record kept instead (when the sampler watched it): its id is the
// dup_of, its text the survivor's; the page draws the two side by side, differences marked.
TEST(ReviewPage, DuplicatesAreShownBesideTheirSurvivor) {
  TempDir t;
  std::string in;
  for (int i = 0; i < 400; ++i) in += "{\"id\":\"k" + std::to_string(i) + "\",\"q\":\"What is " + std::to_string(i) + " plus one?\"}\n";
  for (int i = 0; i < 400; ++i) in += "{\"id\":\"d" + std::to_string(i) + "\",\"q\":\"what is " + std::to_string(i) + " plus one ?\"}\n";
  write_file(t / "in.jsonl", in);
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n"
                           "  exact: { uses: dedup.exact, with: { fields: [q], punctuation: true } }\n"
                           "sinks:\n  kept: { path: out/kept.jsonl }\n  json: { path: out/report.json, report: true }\n"
                           "  page: { path: out/review.html, report: true }\n");
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string report = read_file(t / "out/report.json");
  ASSERT_EQ(parser.parse(report).get(doc), simdjson::SUCCESS);
  simdjson::dom::array samples;
  ASSERT_EQ(doc["stages"].at(0)["samples"]["rejected"]["duplicate"].get_array().get(samples), simdjson::SUCCESS) << report.substr(0, 3000);
  EXPECT_EQ(samples.size(), 5u);
  size_t beside = 0;
  for (auto s : samples) {
    simdjson::dom::object survivor;
    if (s["survivor"].get_object().get(survivor) != simdjson::SUCCESS) continue;
    ++beside;
    const std::string id(s["id"].get_string().value()), kept_id(survivor["id"].get_string().value());
    EXPECT_EQ(std::string(s["annotations"]["dup_of"].get_string().value()), kept_id);
    EXPECT_EQ("k" + id.substr(1), kept_id);
    const std::string n = id.substr(1);
    EXPECT_EQ(std::string(survivor["text"].get_string().value()), "{\"id\":\"k" + n + "\",\"q\":\"What is " + n + " plus one?\"}");
  }
  EXPECT_GE(beside, 1u) << "one survivor in 32 is watched: of 400, some";
  // The op's report counts the groups by size: 400 pairs.
  EXPECT_EQ(simdjson::minify(doc["stages"].at(0)["report"]["cluster_sizes"]), "[{\"size\":\"2\",\"clusters\":400}]");
  EXPECT_EQ(doc["stages"].at(0)["report"]["largest_cluster"]["size"].get_uint64().value(), 2u);
  const std::string page = read_file(t / "out/review.html");
  EXPECT_NE(page.find("<b>kept instead: <code>k"), std::string::npos);
  EXPECT_NE(page.find("id=\"stage-0-cluster-sizes\""), std::string::npos) << "the groups by size are drawn";
  EXPECT_NE(page.find("&quot;id&quot;:&quot;<mark>d"), std::string::npos) << "the words that differ (the ids) are marked";
}

// Near duplicates on real data: the groups by size account for every near duplicate (each group of
// size s has s - 1 of them), and the largest names its survivor.
TEST(ReviewPage, ClusterSizesAccountForEveryNearDuplicate) {
  const fs::path pool = shared_data("deepscaler/train_math.jsonl");
  if (pool.empty()) GTEST_SKIP() << "../shared/data is absent";
  TempDir t;
  write_file(t / "p.yaml", "version: 1\nsources:\n  math: { path: \"" + pool.string() + "\" }\nstages:\n"
                           "  near: { uses: dedup.minhash, with: { field: problem, threshold: 0.7 } }\n"
                           "sinks:\n  kept: { path: out/kept.jsonl }\n  json: { path: out/report.json, report: true }\n");
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string report = read_file(t / "out/report.json");
  ASSERT_EQ(parser.parse(report).get(doc), simdjson::SUCCESS);
  const auto rep = doc["stages"].at(0)["report"];
  uint64_t at_least = 0, at_most = 0, groups = 0;
  for (auto b : rep["cluster_sizes"].get_array()) {
    const std::string size(b["size"].get_string().value());
    const uint64_t n = b["clusters"].get_uint64().value();
    const size_t dash = size.find('-');
    const uint64_t low = std::stoull(size.substr(0, dash)), high = dash == std::string::npos ? low : std::stoull(size.substr(dash + 1));
    at_least += n * (low - 1);
    at_most += n * (high - 1);
    groups += n;
  }
  const uint64_t dups = rep["near_duplicates"].get_uint64().value();
  EXPECT_GT(dups, 0u);
  EXPECT_LE(at_least, dups);
  EXPECT_GE(at_most, dups);
  EXPECT_LE(groups, dups);
  EXPECT_GE(rep["largest_cluster"]["size"].get_uint64().value(), 2u);
  EXPECT_EQ(std::string(rep["largest_cluster"]["survivor"].get_string().value()).rfind("math/", 0), 0u);
}

// On a terminal the progress line shows records/s and names the stage that has taken the most time so
// far; without a terminal there is none. (A run of a few seconds: the line is drawn after 250 ms.)
TEST(ReviewPage, TheProgressLineNamesTheSlowestStage) {
  if (run_shell("command -v script").exit_code != 0) GTEST_SKIP() << "script (util-linux) is absent";
  TempDir t;
  std::string in;
  for (int i = 0; i < 400000; ++i) in += "{\"id\":" + std::to_string(i) + ",\"q\":\"problem " + std::to_string(i % 1000) + " of a kind\"}\n";
  write_file(t / "in.jsonl", in);
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n"
                           "  near: { uses: dedup.minhash, with: { field: q } }\n"
                           "  len: { uses: filter.length, inputs: [near], with: { field: q, min: 3 } }\n"
                           "sinks:\n  kept: { path: out/kept.jsonl }\n");
  const auto tty = run_shell("cd " + quote(t.path().string()) + " && script -qec " +
                             quote(quote(tamis_bin()) + " run p.yaml --threads 1") + " /dev/null");
  ASSERT_EQ(tty.exit_code, 0) << tty.out;
  EXPECT_NE(tty.out.find(" records/s | "), std::string::npos) << tty.out.substr(0, 2000);
  EXPECT_NE(tty.out.find("| slowest: near "), std::string::npos) << tty.out.substr(0, 2000);
  const auto plain = run_tamis({"run", (t / "p.yaml").string(), "--threads", "1"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.err.find("slowest:"), std::string::npos) << "no progress line without a terminal";
}

// report.json carries each stage's inputs and the parameters in force (--set included), so the page
// shows them even when the pipeline file has changed or is gone.
TEST(ReviewPage, ParametersComeFromTheReportWithSetOverrides) {
  TempDir t;
  std::string in;
  for (int i = 0; i < 30; ++i) in += "{\"id\":\"r" + std::to_string(i) + "\",\"q\":\"" + std::string(static_cast<size_t>(i), 'x') + "\"}\n";
  write_file(t / "in.jsonl", in);
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n  len: { uses: filter.length, with: { field: q, min: 10 } }\n"
                           "sinks:\n  kept: { path: out/kept.jsonl }\n  json: { path: out/report.json, report: true }\n");
  ASSERT_EQ(run_tamis({"run", (t / "p.yaml").string(), "--set", "len.min=17"}).exit_code, 0);
  const std::string report = read_file(t / "out/report.json");
  EXPECT_NE(report.find("\"inputs\": [\"s\"], \"with\": {\"field\":\"q\",\"unit\":\"chars\",\"min\":17,"), std::string::npos) << report;
  fs::remove(t / "p.yaml");
  const auto r = run_tamis({"report", (t / "out/report.json").string(), "-o", (t / "page.html").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string page = read_file(t / "page.html");
  EXPECT_NE(page.find("min: 17"), std::string::npos);
  EXPECT_EQ(page.find("min: 10"), std::string::npos);
}

TEST(ReviewPage, NotAReportIsAnError) {
  EXPECT_THROW(review::render_review_html("not json"), review::ReviewError);
  EXPECT_THROW(review::render_review_html("{\"stages\": []}"), review::ReviewError);
  TempDir tmp;
  write_file(tmp / "r.json", "[1, 2]");
  const CommandResult bad = run_tamis({"report", (tmp / "r.json").string(), "-o", (tmp / "r.html").string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("not a tamis report"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(tmp / "r.html"));
  EXPECT_EQ(run_tamis({"report", (tmp / "missing.json").string()}).exit_code, 1);
  EXPECT_EQ(run_tamis({"report"}).exit_code, 2);
  EXPECT_EQ(run_tamis({"report", (tmp / "r.json").string(), "-o", (tmp / "r.json").string()}).exit_code, 2);
  EXPECT_EQ(read_file(tmp / "r.json"), "[1, 2]");
}

}  // namespace
}  // namespace tamis::test
