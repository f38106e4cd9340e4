// Tests of the `map` plugin family: map.set, map.template, map.extract_answer, map.choice_answer,
// map.to_verl, map.to_openrlhf. Each test runs the real tamis binary on inline JSONL through harness.hpp;
// the last ones run pipelines/to-verl.yaml on the Magistral recipe's output of the shared GSM8K data.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using namespace tamis::test;
using Strings = std::vector<std::string>;

// The rejected lines' (id, reason, detail), in output order.
std::vector<Strings> verdicts(const OpRun& run) {
  std::vector<Strings> out;
  for (const auto& v : run.rejections()) out.push_back({v.id, v.reason, v.detail});
  return out;
}

// ============================================================================================
// map.set
// ============================================================================================

TEST(plugins_map_set, SetsConstantsOfEveryTypeAtNestedPaths) {
  const Strings in = {
      R"({"id":"a","problem":"p"})",
      R"({"id":"b", "meta": {"level": 3}, "ability": "old"})",
      R"({})",
  };
  OpOptions o;
  o.id_field = "";
  const OpRun run = run_op("map.set", R"({fields: {ability: math, meta.split: train, meta.tags: [rl, "x y"], w: 1.5, ok: true, none: null}})", jsonl(in), o);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  Strings kept;  // without the content id and source the records get (no `id:`)
  for (const auto& line : run.kept) kept.push_back(strip_annotation(line));
  EXPECT_EQ(kept, (Strings{
      R"({"id":"a","problem":"p","ability":"math","meta":{"split":"train","tags":["rl","x y"]},"w":1.5,"ok":true,"none":null})",
      R"({"id":"b", "meta": {"level": 3,"split":"train","tags":["rl","x y"]}, "ability": "math","w":1.5,"ok":true,"none":null})",
      R"({"ability":"math","meta":{"split":"train","tags":["rl","x y"]},"w":1.5,"ok":true,"none":null})",
  }));
}

TEST(plugins_map_set, OverwriteFalseSetsOnlyAbsentFields) {
  const Strings in = {R"({"id":"a","ability":"code","meta":{"split":"test"}})", R"({"id":"b"})"};
  const OpRun run = run_op("map.set", "{fields: {ability: math, meta.split: train}, overwrite: false}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept, (Strings{in[0], R"({"id":"b","ability":"math","meta":{"split":"train"}})"}));
}

TEST(plugins_map_set, ReplacesEveryDuplicateAndRejectsAPathThroughANonObject) {
  const Strings in = {R"({"id":"a","x":1,"x":2})", R"({"id":"b","meta":"flat"})"};
  const OpRun dup = run_op("map.set", "{fields: {x: 9}}", jsonl({in[0]}));
  ASSERT_EQ(dup.exit_code, 0) << dup.describe();
  EXPECT_EQ(dup.kept, Strings{R"({"id":"a","x":9,"x":9})"});
  const OpRun conflict = run_op("map.set", "{fields: {meta.level: 1}}", jsonl({in[1]}));
  ASSERT_EQ(conflict.exit_code, 0) << conflict.describe();
  EXPECT_EQ(verdicts(conflict), (std::vector<Strings>{{"b", "path_conflict", "cannot set 'meta.level': 'meta' is not an object"}}));
}

TEST(plugins_map_set, ValidationRefusesBadFields) {
  for (const std::string with : {"{fields: {a: 1, a.b: 2}}", "{fields: {}}", "{fields: [a]}", "{fields: {/a: 1}}", "{fields: {a..b: 1}}"}) {
    SCOPED_TRACE(with);
    const CommandResult v = validate_op("map.set", with);
    EXPECT_EQ(v.exit_code, 2) << v.err;
    EXPECT_NE(v.err.find("fields"), std::string::npos) << v.err;
  }
  EXPECT_EQ(validate_op("map.set", "{fields: {a.b: 1, a.c: 2}}").exit_code, 0);
}

// ============================================================================================
// map.template
// ============================================================================================

TEST(plugins_map_template, BuildsAStringFromFields) {
  const Strings in = {
      R"({"id":"a","system":"Be brief.","problem":"What is \"2+2\"?","n":3.50})",
      R"({"id":"b","system":"S","problem":"P\nline 2","n":true})",
  };
  const OpRun run = run_op("map.template", R"({to: text, template: "{system}\n\n{problem} ({n}) {{not a field}}"})", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 2u);
  EXPECT_EQ(json_string(run.kept[0], "text"), "Be brief.\n\nWhat is \"2+2\"? (3.50) {not a field}");  // numbers as written
  EXPECT_EQ(json_string(run.kept[1], "text"), "S\n\nP\nline 2 (true) {not a field}");
  EXPECT_EQ(strip_annotation(run.kept[1]).substr(0, in[1].size() - 1), in[1].substr(0, in[1].size() - 1));  // appended
}

TEST(plugins_map_template, BuildsAChatPromptAndCopiesWholeValues) {
  const Strings in = {R"({"id":"a","problem":"Solve x+1=2.","meta":{"tags":["alg", 1]}})"};
  const OpRun run = run_op("map.template",
                           R"({to: prompt, template: [{role: system, content: "You are a solver."}, {role: user, content: "{problem}"}, {k: 7, v: "{meta.tags}", t: "tags: {/meta/tags/0}"}]})",
                           jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 1u) << run.describe();
  EXPECT_NE(run.kept[0].find(R"("prompt":[{"role":"system","content":"You are a solver."},{"role":"user","content":"Solve x+1=2."},{"k":7,"v":["alg", 1],"t":"tags: alg"}])"),
            std::string::npos)
      << "a string that is one place copies the value as written; others fill text (a JSON pointer reads a list item)";
}

TEST(plugins_map_template, MissingFieldsRejectOrKeep) {
  const Strings in = {R"({"id":"a","problem":"p"})", R"({"id":"b","problem":null})", R"({"id":"c","problem":["x"]})"};
  const OpRun run = run_op("map.template", R"({to: text, template: "Q: {problem}"})", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"a"});
  EXPECT_EQ(verdicts(run), (std::vector<Strings>{{"b", "missing_field", "field 'problem' is missing or null"},
                                                 {"c", "missing_field", "field 'problem' is an array, not text"}}));
  const OpRun keep = run_op("map.template", R"({to: text, template: "Q: {problem}", on_missing: keep})", jsonl(in));
  ASSERT_EQ(keep.exit_code, 0) << keep.describe();
  EXPECT_EQ(keep.kept, (Strings{R"({"id":"a","problem":"p","text":"Q: p"})", in[1], in[2]}));
}

TEST(plugins_map_template, OverwriteFalseKeepsThePresentField) {
  const Strings in = {R"({"id":"a","problem":"p","text":"mine"})", R"({"id":"b","problem":"q"})"};
  const OpRun run = run_op("map.template", R"({to: text, template: "{problem}!", overwrite: false})", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept, (Strings{in[0], R"({"id":"b","problem":"q","text":"q!"})"}));
}

TEST(plugins_map_template, ValidationRefusesBadTemplates) {
  for (const std::string with : {R"({to: t, template: "{problem"})", R"({to: t, template: "a } b"})", R"({to: t, template: [{c: "{}"}]})",
                                 R"({to: "", template: "x"})"}) {
    SCOPED_TRACE(with);
    const CommandResult v = validate_op("map.template", with);
    EXPECT_EQ(v.exit_code, 2) << v.err;
  }
}

// ============================================================================================
// map.extract_answer
// ============================================================================================

TEST(plugins_map_extract_answer, TakesTheGradersFinalAnswer) {
  const Strings in = {
      R"({"id":"boxed","solution":"So $x = 2$ and thus \\boxed{\\dfrac{1}{2}}."})",
      R"({"id":"gsm8k","solution":"She sells 16-3-4=9 eggs.\n#### 18"})",
      R"({"id":"phrase","solution":"Adding them up gives 7 + 5. The answer is 12."})",
      R"({"id":"a_line","solution":"9 * 2 = 18\nA: 18"})",
      R"({"id":"short","solution":"42"})",
      R"({"id":"none","solution":"We argue by contradiction and conclude the claim holds for every n."})",
      R"({"id":"unbalanced","solution":"thus \\boxed{12"})",
      R"({"id":"missing"})",
  };
  const OpRun run = run_op("map.extract_answer", "{}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept_ids(), (Strings{"boxed", "gsm8k", "phrase", "a_line", "short"}));
  const Strings want = {"\\dfrac{1}{2}", "18", "12", "18", "42"};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(json_string(run.kept[i], "answer"), want[i]) << run.kept[i];
  const auto v = verdicts(run);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], (Strings{"none", "no_answer", "no final answer in 'solution': \"We argue by contradiction and conclude the claim holds for every n.\""}));
  // The grader's reason, then the evidence: the end of the text.
  EXPECT_EQ(v[1], (Strings{"unbalanced", "no_answer", "no final answer in 'solution' (unbalanced braces after \\boxed): \"thus \\boxed{12\""}));
  EXPECT_EQ(v[2], (Strings{"missing", "missing_field", "field 'solution' is missing or null"}));
}

TEST(plugins_map_extract_answer, OnNoneKeepNormalizeMethodsAndAnnotate) {
  const Strings in = {R"({"id":"a","sol":"thus \\boxed{\\dfrac{1}{2}}"})", R"({"id":"b","sol":"Counting the apples in each of the three baskets and adding them up, the total is 15 apples in the end."})"};
  const OpRun keep = run_op("map.extract_answer", "{from: sol, to: meta.final, on_none: keep, normalize: true, annotate: true}", jsonl(in));
  ASSERT_EQ(keep.exit_code, 0) << keep.describe();
  ASSERT_EQ(keep.kept.size(), 2u);
  EXPECT_EQ(json_string(keep.kept[0], "meta.final"), "\\frac{1}{2}");
  EXPECT_EQ(keep.annotation(keep.kept[0], "answer_method"), "\"boxed\"");
  EXPECT_EQ(strip_annotation(keep.kept[1]), in[1]);  // nothing found: unchanged, no field
  const OpRun last = run_op("map.extract_answer", "{from: sol, methods: [last_number]}", jsonl(in));
  ASSERT_EQ(last.exit_code, 0) << last.describe();
  EXPECT_EQ(json_string(last.kept[1], "answer"), "15");
  EXPECT_EQ(verdicts(last).size(), 0u) << last.describe();
  const OpRun boxed_only = run_op("map.extract_answer", "{from: sol, methods: [gsm8k]}", jsonl({in[0]}));
  EXPECT_EQ(boxed_only.reasons(), Strings{"no_answer"});
}

// ============================================================================================
// map.choice_answer
// ============================================================================================

TEST(plugins_map_choice_answer, ResolvesLabelsAgainstEveryOptionLayout) {
  const Strings in = {
      R"J({"id":"aqua","options":["A)21","B)21.5","C)22","D)22.5","E)23"],"correct":"C"})J",
      R"J({"id":"dict","options":{"A":"red","B":"blue"},"correct":"(b)"})J",
      R"J({"id":"arc","options":{"label":["1","2","3"],"text":["sun","moon","star"]},"correct":"2"})J",
      R"J({"id":"index","options":["x","y","z"],"correct":2})J",
      R"J({"id":"text","problem":"Which is prime?\n(A) 4\n(B) 6\n(C) 7\n(D) 9","correct":"C"})J",
      R"J({"id":"inline","problem":"Point A. lies on a line. Pick: A) 10 B) 20 C) 30","correct":"A)"})J",
  };
  const OpRun run = run_op("map.choice_answer", "{label: correct}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), in.size()) << run.describe();
  const Strings want = {"22", "blue", "moon", "z", "7", "10"};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(json_string(run.kept[i], "answer"), want[i]) << run.kept[i];
  // index_base 1: the same numeric label is the option before.
  const OpRun one = run_op("map.choice_answer", "{label: correct, index_base: 1}", jsonl({in[3]}));
  EXPECT_EQ(json_string(one.kept.at(0), "answer"), "y");
}

TEST(plugins_map_choice_answer, RejectsWithEvidenceWhenTheLabelDoesNotResolve) {
  const Strings in = {
      R"J({"id":"letter","options":["1","2","3","4"],"answer":"F"})J",
      R"J({"id":"range","options":["1","2"],"answer":5})J",
      R"J({"id":"nolabel","options":["1","2"]})J",
      R"J({"id":"noopts","problem":"What is 2+2?","answer":"A"})J",
      R"J({"id":"badopt","options":[["x"]],"answer":"A"})J",
  };
  const OpRun run = run_op("map.choice_answer", "{}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_TRUE(run.kept.empty());
  EXPECT_EQ(verdicts(run), (std::vector<Strings>{
      {"letter", "label_unresolved", "label 'F' names none of the 4 options (A, B, C, D)"},
      {"range", "label_unresolved", "label index 5 is out of range: 2 options, indices 0 to 1"},
      {"nolabel", "missing_field", "field 'answer' is missing or null"},
      {"noopts", "missing_field", "no options field 'options', and no A) B) options in 'problem'"},
      {"badopt", "bad_options", "option 0 of 'options' is not text"},
  }));
}

// ============================================================================================
// map.to_verl / map.to_openrlhf
// ============================================================================================

TEST(plugins_map_to_verl, WritesVerlsSchemaWithAnnotationsOfThisAndAnEarlierRun) {
  const Strings in = {
      R"({"id":"q1","problem":"What is 6*7?","answer":42,"tamis":{"pass_rate":0.5,"n_samples":4,"id":"orig-1"}})",
      R"({"id":"q2","problem":"Name the capital of France.","answer":"Paris"})",
  };
  const std::string stages =
      "  len:\n    uses: filter.length\n    with: {field: problem, annotate: true}\n"
      "  verl:\n    uses: map.to_verl\n    with: {system_prompt: \"Think.\", split: train, data_source: \"tests/{id}\", extra_fields: [problem, nope]}\n";
  const OpRun run = run_stages(stages, jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 2u) << run.describe();
  // The record text is verl's; this run's annotations (length) are also appended by tamis as "tamis".
  EXPECT_EQ(strip_annotation(run.kept[0]),
            R"({"data_source":"tests/q1","prompt":[{"role":"system","content":"Think."},{"role":"user","content":"What is 6*7?"}],"ability":"math",)"
            R"("reward_model":{"style":"rule","ground_truth":"42"},"extra_info":{"id":"orig-1","source":"input","split":"train",)"
            R"("problem":"What is 6*7?","nope":null,"pass_rate":0.5,"n_samples":4,"length":12}})");
  EXPECT_EQ(json_raw(run.kept[1], "extra_info"),
            R"({"id":"q2","source":"input","split":"train","problem":"Name the capital of France.","nope":null,"length":27})");
  EXPECT_EQ(json_string(run.kept[1], "reward_model.ground_truth"), "Paris");
}

TEST(plugins_map_to_verl, ListedAnnotationsAreNullWhenAbsentAndTheSourceIsTheDefaultDataSource) {
  const Strings in = {R"({"id":"q1","q":"p?","a":"1","tamis":{"lang":"en","translate_to":"fr"}})", R"({"id":"q2","q":"r?","a":"2","tamis":{"lang":"de"}})"};
  const OpRun run = run_op("map.to_verl", "{prompt: \"{q}\", answer: a, annotations: [lang, translate_to, pass_rate], ability: qa}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 2u);
  EXPECT_EQ(run.kept[1], R"({"data_source":"input","prompt":[{"role":"user","content":"r?"}],"ability":"qa","reward_model":{"style":"rule","ground_truth":"2"},)"
                         R"("extra_info":{"id":"q2","source":"input","lang":"de","translate_to":null,"pass_rate":null}})");
  EXPECT_EQ(json_raw(run.kept[0], "extra_info"), R"({"id":"q1","source":"input","lang":"en","translate_to":"fr","pass_rate":null})");
}

TEST(plugins_map_to_verl, RejectsMissingFieldsAndCopiesAMessageList) {
  const Strings in = {
      R"({"id":"a","messages":[{"role":"user","content":"hi"}],"answer":"1"})",
      R"({"id":"b","messages":[{"role":"user","content":"hi"}]})",
      R"({"id":"c","answer":"1"})",
  };
  const OpRun run = run_op("map.to_verl", "{prompt: \"{messages}\", annotations: []}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 1u) << run.describe();
  EXPECT_EQ(json_raw(run.kept[0], "prompt"), R"([{"role":"user","content":"hi"}])");
  EXPECT_EQ(verdicts(run), (std::vector<Strings>{{"b", "missing_field", "field 'answer' is missing or null"},
                                                 {"c", "missing_field", "field 'messages' is missing or null"}}));
}

TEST(plugins_map_to_openrlhf, WritesOpenRlhfsKeys) {
  const Strings in = {R"({"id":"q1","problem":"What is 6*7?","answer":"42","tamis":{"pass_rate":0.25}})"};
  const OpRun chat = run_op("map.to_openrlhf", "{datasource: gsm8k}", jsonl(in));
  ASSERT_EQ(chat.exit_code, 0) << chat.describe();
  EXPECT_EQ(chat.kept, Strings{R"({"input":[{"role":"user","content":"What is 6*7?"}],"label":"42","datasource":"gsm8k","extra_info":{"id":"q1","source":"input","pass_rate":0.25}})"});
  const OpRun text = run_op("map.to_openrlhf", R"({chat: false, prompt: "Q: {problem}", input_key: prompt, label_key: "", info_key: ""})", jsonl(in));
  ASSERT_EQ(text.exit_code, 0) << text.describe();
  EXPECT_EQ(text.kept, Strings{R"({"prompt":"Q: What is 6*7?","datasource":"input"})"});
}

TEST(plugins_map_to_openrlhf, ValidationRefusesContradictions) {
  for (const std::string with : {"{chat: false, prompt: [{role: user, content: x}]}", "{chat: false, system_prompt: S}",
                                 "{input_key: label}", "{label_key: datasource}", "{annotations: [\"*\", lang]}", "{prompt: {a: b}}"}) {
    SCOPED_TRACE(with);
    EXPECT_EQ(validate_op("map.to_openrlhf", with).exit_code, 2);
  }
  EXPECT_EQ(validate_op("map.to_verl", "{prompt: [{role: user, content: \"{problem}\"}]}").exit_code, 0);
}

// pipelines/to-verl.yaml on the Magistral recipe's output of the shared GSM8K data: every kept record
// becomes a verl record whose ground truth is the number of GSM8K's reference solution.
TEST(plugins_map_recipe, ToVerlOnTheMagistralOutput) {
  if (shared_data("gsm8k/example_model_solutions.jsonl").empty()) GTEST_SKIP() << "no shared data";
  TempDir out;
  const std::string env = "TAMIS_OUT=" + out.path().string() + " TAMIS_DATA=" + shared_data("").string() + " ";
  const std::string bin = tamis_bin();
  const CommandResult recipe = run_shell(env + bin + " run " + (source_dir() / "pipelines/magistral-math.yaml").string() + " 2>&1");
  ASSERT_EQ(recipe.exit_code, 0) << recipe.out;
  const CommandResult to_verl = run_shell(env + bin + " run " + (source_dir() / "pipelines/to-verl.yaml").string() + " 2>&1");
  if (to_verl.out.find("built without Parquet support") != std::string::npos) GTEST_SKIP() << "tamis built without Parquet support";
  ASSERT_EQ(to_verl.exit_code, 0) << to_verl.out;
  // verl.parquet, read back by a Parquet source, holds the same records as verl.jsonl.
  write_file(out / "back.yaml", "version: 1\nsources:\n  pq: verl.parquet\nsinks:\n  kept: { path: back.jsonl }\n");
  const CommandResult back = run_shell(bin + " run " + (out / "back.yaml").string() + " 2>&1");
  ASSERT_EQ(back.exit_code, 0) << back.out;
  {
    const Strings from_parquet = read_lines(out / "back.jsonl"), from_jsonl = read_lines(out / "verl.jsonl");
    ASSERT_EQ(from_parquet.size(), from_jsonl.size());
    for (size_t i = 0; i < from_jsonl.size(); ++i) {
      EXPECT_EQ(json_raw(from_parquet[i], "reward_model"), json_raw(from_jsonl[i], "reward_model"));
      EXPECT_EQ(json_raw(from_parquet[i], "prompt"), json_raw(from_jsonl[i], "prompt"));
      EXPECT_EQ(json_raw(from_parquet[i], "extra_info.n_samples"), json_raw(from_jsonl[i], "extra_info.n_samples"));
      EXPECT_EQ(json_string(from_parquet[i], "extra_info.id"), json_string(from_jsonl[i], "extra_info.id"));
    }
  }
  const Strings train = read_lines(out / "train.jsonl");
  const Strings verl = read_lines(out / "verl.jsonl");
  const Strings openrlhf = read_lines(out / "openrlhf.jsonl");
  ASSERT_FALSE(train.empty());
  ASSERT_EQ(verl.size(), train.size());
  ASSERT_EQ(openrlhf.size(), train.size());
  for (size_t i = 0; i < train.size(); ++i) {
    SCOPED_TRACE(verl[i]);
    // The reference solution's last line is "A: N".
    const std::string truth = json_string(train[i], "ground_truth").value_or("");
    const std::string n = truth.substr(truth.rfind("A: ") + 3);
    EXPECT_EQ(json_string(verl[i], "reward_model.ground_truth"), n);
    EXPECT_EQ(json_string(openrlhf[i], "label"), n);
    EXPECT_EQ(json_string(verl[i], "data_source"), "openai/gsm8k");
    EXPECT_EQ(json_string(verl[i], "/prompt/0/role"), "user");
    EXPECT_EQ(json_string(verl[i], "extra_info.question"), json_string(train[i], "question"));
    EXPECT_EQ(json_raw(verl[i], "extra_info.pass_rate_pooled"), json_raw(train[i], "tamis.pass_rate_pooled"));
    EXPECT_EQ(json_raw(verl[i], "extra_info.translate_to").value_or("?"), json_raw(train[i], "tamis.translate_to").value_or("null"));
    EXPECT_FALSE(json_raw(verl[i], "tamis")) << "no annotation object: nothing annotated in this run";
  }
}

}  // namespace
