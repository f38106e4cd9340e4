// The round trip of issue 6 ("Done when"), on the mixed-language pool pipelines/translate/prompts.jsonl:
// pipelines/translate.yaml (lang.identify -> translate.tag -> translate.export) writes a valid batch file; this
// test writes the batch output an LLM would return (faithful translations in the target languages, and
// unfaithful, missing and malformed ones); pipelines/translate/import.yaml (lang.identify -> translate.tag ->
// translate.import) writes the good ones and rejects each bad one with its reason.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <vector>

#include <tamis/json.hpp>

#include "harness.hpp"

namespace {

using namespace tamis::test;
using tamis::json::quote;

CommandResult run_pipeline(const std::string& file, const fs::path& out, const std::string& threads,
                           const std::string& env = "") {
  return run_shell(env + " TAMIS_OUT='" + out.string() + "' '" + std::string(tamis_bin()) + "' run '" +
                   (source_dir() / "pipelines" / file).string() + "' --threads " + threads);
}

// A Batch API output line as the API writes it (https://platform.openai.com/docs/guides/batch).
std::string ok_line(const std::string& id, const std::string& content) {
  static int n = 0;
  ++n;
  return R"({"id":"batch_req_)" + std::to_string(n) + R"(","custom_id":)" + quote(id) +
         R"(,"response":{"status_code":200,"request_id":"req_)" + std::to_string(n) +
         R"(","body":{"id":"chatcmpl-)" + std::to_string(n) +
         R"(","object":"chat.completion","created":1764000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":)" +
         quote(content) +
         R"(,"refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":190,"completion_tokens":45,"total_tokens":235},"system_fingerprint":"fp_0"}},"error":null})";
}

// Which English problems the pipeline chooses, and for which language (the selection rule on this file;
// a change of rule shows up here first).
const std::map<std::string, std::string> kTargets = {
    {"mx-005", "it"}, {"mx-011", "de"}, {"mx-016", "es"}, {"mx-017", "ru"}, {"mx-019", "fr"}, {"mx-020", "zh"},
    {"mx-026", "de"}, {"mx-028", "it"}, {"mx-029", "ru"}, {"mx-034", "es"}, {"mx-035", "fr"}, {"mx-037", "zh"},
    {"mx-040", "de"}, {"mx-046", "it"}, {"mx-053", "es"}, {"mx-056", "fr"}};

// Faithful translations, written for this test.
const std::map<std::string, std::string> kGood = {
    {"mx-005", R"(Calcola il valore di $\frac{3}{4} + \frac{5}{6}$ e scrivi la risposta come frazione ridotta ai minimi termini.)"},
    {"mx-016", "Una bolsa contiene 5 canicas rojas y 7 canicas azules. Se sacan dos canicas sin reemplazo. ¿Cuál es la probabilidad de que ambas sean rojas?"},
    {"mx-017", "Решите систему уравнений $2x + y = 11$ и $x - y = 1$ относительно неизвестных $x$ и $y$."},
    {"mx-026", "Ein Wassertank fasst 1200 Liter. Eine Pumpe entnimmt 75 Liter pro Minute. Wie viele Minuten dauert es, den vollen Tank zu leeren?"},
    {"mx-035", "Une voiture consomme 6.5 litres de carburant tous les 100 kilomètres. De quelle quantité de carburant a-t-elle besoin pour un trajet de 340 kilomètres ?"},
    {"mx-037", "设 $a$ 和 $b$ 为满足 $a + b = 20$ 的两个正整数。请问它们的乘积 $ab$ 最大可能是多少？"},
    {"mx-046", "Dimostra che per ogni intero positivo $n$ il numero $n^3 - n$ è divisibile per 6."},
    {"mx-053", "Un reloj marca las 3:00. ¿Cuál es el ángulo menor entre la aguja de las horas y el minutero, en grados?"},
};

// Each unfaithful, missing or malformed translation, and the reason it must be rejected with.
const std::map<std::string, std::string> kBadReasons = {
    {"mx-011", "wrong_language"},        // French for a German request
    {"mx-019", "numbers_changed"},       // 24 pencils became 25
    {"mx-020", "length_ratio"},          // three characters for a sentence
    {"mx-028", "malformed_translation"}, // the line is cut in the middle
    {"mx-029", "missing_translation"},   // no line at all
    {"mx-034", "translation_error"},     // the API gave up on it
    {"mx-040", "latex_changed"},         // $\pi$ written out as "Pi"
    {"mx-056", "latex_changed"},         // \[ ... \] dropped and a number changed: both reported
};

std::string batch_output() {
  std::vector<std::string> lines;
  // mx-016 failed once and was retried: the later success replaces the error.
  lines.push_back(R"({"id":"batch_req_r","custom_id":"mx-016","response":{"status_code":500,"request_id":"req_r","body":{"error":{"message":"The server had an error while processing your request."}}},"error":null})");
  for (const auto& [id, text] : kGood)
    if (id != "mx-035" && id != "mx-046") lines.push_back(ok_line(id, text));
  // Plain {id, text} lines are accepted too, in the same file.
  lines.push_back(R"({"id":"mx-035","text":)" + quote(kGood.at("mx-035")) + "}");
  lines.push_back(R"({"id":"mx-046","text":)" + quote(kGood.at("mx-046")) + "}");
  lines.push_back(ok_line("mx-011", "Combien de diviseurs positifs le nombre $360$ possède-t-il ?"));
  lines.push_back(ok_line("mx-019", "Un magasin vend des crayons à 0.35 dollar pièce. Combien coûtent 25 crayons au total ?"));
  lines.push_back(ok_line("mx-020", "余数？"));
  lines.push_back(R"({"id": "batch_req_c", "custom_id": "mx-028", "response": {"status_code": 200, "body": {"choices": [{"message": {"content": "Trova il minimo comune multiplo di 12, 18)");
  lines.push_back(R"({"id":"batch_req_e","custom_id":"mx-034","response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}})");
  lines.push_back(ok_line("mx-040", "Berechne den Flächeninhalt eines Kreises mit dem Durchmesser 10 Meter und gib das Ergebnis in Abhängigkeit von Pi an."));
  lines.push_back(ok_line("mx-056", "Résoudre pour $t$ : 3(t - 4) = 2t + 6. Vérifiez votre solution par substitution."));
  lines.push_back(ok_line("mx-999", "Une traduction que personne n'a demandée."));  // matches no record
  lines.push_back("<html><body>502 Bad Gateway</body></html>");                    // no id at all
  return jsonl(lines);
}

TEST(plugins_translate_roundtrip, ExportThenImportOnTheMixedLanguagePool) {
  TempDir one, two;
  const CommandResult e1 = run_pipeline("translate.yaml", one.path(), "1");
  const CommandResult e2 = run_pipeline("translate.yaml", two.path(), "2");
  ASSERT_EQ(e1.exit_code, 0) << e1.err;
  ASSERT_EQ(e2.exit_code, 0) << e2.err;
  EXPECT_NE(e1.out.find("read 63 = kept 63 + rejected 0 + errors 0  (balanced)"), std::string::npos) << e1.out;
  for (const char* f : {"batch.jsonl", "tagged.jsonl", "ledger.jsonl"})
    EXPECT_EQ(read_file(one / f), read_file(two / f)) << f << " differs between --threads 1 and 2";

  // The batch file: one valid request per tagged problem, in input order, asking for its language.
  std::map<std::string, std::string> problems;
  for (const auto& l : read_lines(source_dir() / "pipelines/translate/prompts.jsonl"))
    problems[*json_string(l, "id")] = *json_string(l, "problem");
  const auto requests = read_lines(one / "batch.jsonl");
  ASSERT_EQ(requests.size(), kTargets.size());
  auto target = kTargets.begin();
  const std::map<std::string, std::string> names = {{"fr", "French"}, {"de", "German"}, {"zh", "Simplified Chinese"},
                                                    {"es", "Spanish"}, {"it", "Italian"}, {"ru", "Russian"}};
  for (const auto& r : requests) {
    ASSERT_TRUE(json_valid(r)) << r;
    EXPECT_EQ(json_string(r, "custom_id"), target->first);
    EXPECT_EQ(json_string(r, "method"), "POST");
    EXPECT_EQ(json_string(r, "url"), "/v1/chat/completions");
    EXPECT_EQ(json_string(r, "/body/model"), "gpt-4o-mini");
    EXPECT_EQ(json_raw(r, "/body/temperature"), "0");
    EXPECT_EQ(json_string(r, "/body/messages/0/role"), "system");
    EXPECT_NE(json_string(r, "/body/messages/0/content")->find("from English into " + names.at(target->second) + "."),
              std::string::npos) << r;
    EXPECT_EQ(json_string(r, "/body/messages/1/role"), "user");
    EXPECT_EQ(json_string(r, "/body/messages/1/content"), problems.at(target->first));
    ++target;
  }
  // Every language is used; the tag stage's report agrees.
  const std::string report = read_file(one / "report.json");
  EXPECT_EQ(json_int(report, "/stages/1/report/selected"), 16);
  for (const auto& [code, name] : names) EXPECT_GE(json_int(report, "/stages/1/report/languages/" + code), 2) << code;

  // The translations come back; step 2 joins and checks them.
  write_file(one / "batch_output.jsonl", batch_output());
  const CommandResult im = run_pipeline("translate/import.yaml", one.path(), "2",
                                        "TRANSLATIONS='" + (one / "batch_output.jsonl").string() + "'");
  ASSERT_EQ(im.exit_code, 0) << im.err;
  EXPECT_NE(im.out.find("read 63 = kept 55 + rejected 8 + errors 0  (balanced)"), std::string::npos) << im.out;

  const auto translated = read_lines(one / "translated.jsonl");
  ASSERT_EQ(translated.size(), 55u);
  size_t good = 0;
  for (const auto& l : translated) {
    const std::string id = *json_string(l, "id");
    if (const auto g = kGood.find(id); g != kGood.end()) {
      ++good;
      EXPECT_EQ(json_string(l, "problem"), g->second) << id;
      EXPECT_EQ(json_string(l, "lang"), kTargets.at(id)) << id;
      EXPECT_EQ(json_string(l, "translated_from"), id);
      EXPECT_EQ(json_string(l, "/tamis/lang"), kTargets.at(id)) << id;
      EXPECT_EQ(json_string(l, "/tamis/translation_lang"), kTargets.at(id)) << id << ": detected language";
    } else {
      EXPECT_EQ(json_string(l, "problem"), problems.at(id)) << id << " is not translated";
      EXPECT_FALSE(json_string(l, "translated_from")) << id;
    }
  }
  EXPECT_EQ(good, kGood.size());

  const auto rejected = read_lines(one / "rejected.jsonl");
  ASSERT_EQ(rejected.size(), kBadReasons.size());
  for (const auto& l : rejected) {
    const std::string id = *json_string(l, "id");
    ASSERT_TRUE(kBadReasons.count(id)) << l;
    EXPECT_EQ(json_string(l, "/tamis/rejected_by"), "import") << l;
    EXPECT_EQ(json_string(l, "/tamis/reason"), kBadReasons.at(id)) << l;
    EXPECT_EQ(json_string(l, "problem"), problems.at(id)) << "a rejected record keeps its original text";
  }
  auto detail = [&](const std::string& id) {
    for (const auto& l : rejected)
      if (json_string(l, "id") == id) return json_string(l, "/tamis/detail").value_or("");
    return std::string();
  };
  EXPECT_NE(detail("mx-011").find("detected as fr"), std::string::npos) << detail("mx-011");
  EXPECT_NE(detail("mx-019").find(": 24"), std::string::npos) << detail("mx-019");
  EXPECT_NE(detail("mx-020").find("ratio"), std::string::npos) << detail("mx-020");
  EXPECT_NE(detail("mx-028").find("not valid JSON"), std::string::npos) << detail("mx-028");
  EXPECT_NE(detail("mx-029").find("no translation with id 'mx-029'"), std::string::npos) << detail("mx-029");
  EXPECT_NE(detail("mx-034").find("batch_expired"), std::string::npos) << detail("mx-034");
  EXPECT_NE(detail("mx-040").find(R"("$\\pi$")"), std::string::npos) << detail("mx-040");
  for (const auto& l : rejected)
    if (json_string(l, "id") == "mx-056") {
      EXPECT_EQ(json_raw(l, "/tamis/fidelity_failures"), R"(["latex_changed","numbers_changed"])");
    }

  // Nothing is silently dropped from the translations file either: the report and the warnings say
  // which lines had no id and which translations matched no record.
  const std::string ir = read_file(one / "import-report.json");
  EXPECT_EQ(json_int(ir, "/stages/2/report/translations/without_id"), 1);
  EXPECT_EQ(json_int(ir, "/stages/2/report/translations/unused"), 1);
  EXPECT_EQ(json_int(ir, "/stages/2/report/translations/duplicate_ids"), 1);
  EXPECT_EQ(json_string(ir, "/stages/2/report/unused_ids/0"), "mx-999");
  EXPECT_EQ(json_int(ir, "/stages/2/report/translated"), 8);
  EXPECT_EQ(json_int(ir, "/stages/2/report/tagged"), 16);
  EXPECT_NE(im.err.find("could not be tied to an id"), std::string::npos) << im.err;
  EXPECT_NE(im.err.find("matched no tagged record: mx-999"), std::string::npos) << im.err;
}

}  // namespace
