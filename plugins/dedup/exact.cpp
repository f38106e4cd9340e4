#include <xxhash.h>

#include "answers.hpp"
#include "clusters.hpp"
#include "fields.hpp"
#include "ops.hpp"
#include "survivor.hpp"

namespace tamis::dedup {

namespace {
const char* const kConflictChoices[] = {"tag", "reject_later", "reject_both", nullptr};
constexpr char kFieldSeparator = '\x1f';  // unit separator: normalised text never holds it as a key joint
constexpr size_t kListedConflicts = 1000;  // reject_both: earlier ids listed in the report
}  // namespace

void add_normalize_params(ParamTable& t) {
  t.push_back({.name = "whitespace", .type = ParamType::boolean, .default_json = "true",
               .help = "collapse runs of Unicode whitespace to one space and trim the ends"});
  t.push_back({.name = "lowercase", .type = ParamType::boolean, .default_json = "true",
               .help = "lowercase (ASCII, Latin-1, Latin Extended-A and Additional, Greek, Cyrillic)"});
  t.push_back({.name = "nfkc", .type = ParamType::boolean, .default_json = "true",
               .help = "NFKC subset: fullwidth ASCII, compatibility spaces, ligatures, super/subscript digits; zero-width characters "
               "and soft hyphens dropped"});
  t.push_back({.name = "latex", .type = ParamType::boolean, .default_json = "true",
               .help = "drop `\\,` `\\;` `\\!` `\\quad` `\\left` `\\right` and `$` delimiters, `\\dfrac`/`\\tfrac` -> `\\frac`, unwrap "
               "`\\text{}` (with lowercase on, command names in any case: `\\TEXT{}`, `\\DFRAC`)"});
  t.push_back({.name = "punctuation", .type = ParamType::boolean, .default_json = "false",
               .help = "remove ASCII punctuation"});
  t.push_back({.name = "digits", .type = ParamType::boolean, .default_json = "false",
               .help = "remove ASCII digits (merges problems differing only in numbers: for decontamination, not dedup)"});
}

NormalizeOptions read_normalize_params(const Params& p) {
  NormalizeOptions o;
  o.whitespace = p.get_bool("whitespace");
  o.lowercase = p.get_bool("lowercase");
  o.nfkc = p.get_bool("nfkc");
  o.latex = p.get_bool("latex");
  o.punctuation = p.get_bool("punctuation");
  o.digits = p.get_bool("digits");
  return o;
}

const ParamTable Exact::params = [] {
  ParamTable t = {
      {.name = "fields", .type = ParamType::string_list, .default_json = "[\"problem\"]",
       .help = "the key: one or more fields, normalised each and joined (a record missing one is rejected `missing_field`)"},
      {.name = "answer_field", .type = ParamType::string,
       .help = "optional: records with the same key whose answers the grader finds different (a worked solution reduced to "
               "its final answer; `97` = `097`) are answer conflicts"},
      {.name = "on_answer_conflict", .type = ParamType::string, .default_json = "\"tag\"",
       .help = "tag: keep the later record, annotated `answer_conflict`; reject_later: reject it; "
               "reject_both: reject every record of that key, the first included (a first pass over the input; see docs/dedup.md)",
       .choices = kConflictChoices},
      {.name = "load_index", .type = ParamType::path,
       .help = "an index file saved by an earlier run: its keys count as already seen (their ids in `dup_of`)", .files = FileRole::input},
      {.name = "save_index", .type = ParamType::path,
       .help = "write the index (loaded keys and this run's survivors) here at the end, atomically", .files = FileRole::output},
      {.name = "clusters", .type = ParamType::path,
       .help = "optional: write every key with copies here at the end (JSONL: survivor, members, answer conflicts)", .files = FileRole::output},
  };
  SurvivorPolicy::add_params(t, nullptr);
  add_normalize_params(t);
  return t;
}();

void Exact::check(const Params& p) {
  const auto fields = p.get_strings("fields");
  if (fields.empty()) throw Error("fields must name at least one field");
  for (const auto& f : fields)
    if (f.empty()) throw Error("fields holds an empty field name");
  if (p.has("answer_field") && p.get_string("answer_field").empty()) throw Error("answer_field is empty");
  if (!p.has("answer_field") && p.get_string("on_answer_conflict") != "tag")
    throw Error("on_answer_conflict needs answer_field");
  SurvivorPolicy::check(p);
}

Exact::Exact(const Params& p, Stage& stage)
    : fields_(p.get_strings("fields")), norm_(read_normalize_params(p)),
      answer_field_(p.has("answer_field") ? p.get_string("answer_field") : std::string()),
      index_(!answer_field_.empty()), policy_(p) {
  const std::string mode = p.get_string("on_answer_conflict");
  on_conflict_ = mode == "reject_later" ? Conflict::reject_later : mode == "reject_both" ? Conflict::reject_both : Conflict::tag;
  if (p.has("save_index")) save_path_ = p.get_string("save_index");
  if (p.has("clusters")) clusters_path_ = p.get_string("clusters");
  if (p.has("load_index")) {
    load_path_ = p.get_string("load_index");
    index_.load(load_path_, norm_.describe());
    loaded_ = index_.size();
    stage.info("loaded " + std::to_string(loaded_) + " keys from " + load_path_);
  }
}

Exact::Prepared Exact::prepare(Record& r) const {
  Prepared out;
  // Per-thread buffers: no allocation per record once they have grown.
  thread_local std::string key, text;
  key.clear();
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i > 0) key += kFieldSeparator;
    switch (read_string_field(r, fields_[i], text)) {
      case FieldKind::absent:
        r.reject_missing_field(fields_[i], "missing_field", "no field '" + fields_[i] + "'");
        return out;
      case FieldKind::string:
        normalize_append(text, norm_, key);
        break;
      case FieldKind::other:  // numbers, objects...: their compact JSON text
        key += simdjson::minify(*r.field(fields_[i]));
        break;
    }
  }
  const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
  out.key = {h.low64, h.high64};
  if (!policy_.empty()) {  // `longer`: the bytes of the key fields as written
    size_t bytes = 0;
    for (const auto& f : fields_)
      if (const auto raw = r.raw_field(f)) bytes += raw->size();
    out.score = policy_.score(r, bytes);
  }
  if (!answer_field_.empty()) {
    // The final answer (a worked solution reduced); "" is no answer, which conflicts with none. Equal
    // hashes mean equal texts; different ones are compared by the grader in the serial part
    // (answers_differ), since `97` and `097` are one answer.
    read_answer(r, answer_field_, out.answer_text);
    if (!out.answer_text.empty()) out.answer = answer_value(XXH3_64bits(out.answer_text.data(), out.answer_text.size()));
  }
  return out;
}

uint32_t Exact::insert(Prepared& p, std::string_view id) {
  const uint32_t n = index_.insert(p.key, id, p.answer);
  if (!answer_field_.empty()) {
    answer_texts_.resize(static_cast<size_t>(n) + 1);
    answer_texts_[n] = std::move(p.answer_text);  // the inserting record's answer is not read again
  }
  return n;
}

std::string_view Exact::answer_text(uint32_t n) const {
  return n < answer_texts_.size() ? std::string_view(answer_texts_[n]) : std::string_view();
}

bool Exact::answers_differ(const Prepared& p, uint64_t theirs, std::string_view theirs_text) const {
  if (p.answer == kNoAnswer || theirs == kNoAnswer || p.answer == theirs) return false;
  if (theirs == kConflicted) return true;  // a key already known for conflicting answers (a reject_both index)
  if (theirs_text.empty()) return true;  // a key from load_index: only its answer's hash is known (same text or not)
  return !answers_agree(p.answer_text, theirs_text);
}

void Exact::annotate_conflict(Record& r, std::string_view other, std::string_view mine, std::string_view theirs) {
  // The evidence: the record it conflicts with, and both final answers (as written, worked solutions reduced).
  r.annotate("answer_conflict", other);
  if (!mine.empty()) r.annotate("answer", mine);
  if (!theirs.empty()) r.annotate("conflicting_answer", theirs);
}

std::string Exact::conflict_answers(std::string_view mine, std::string_view theirs) {
  if (mine.empty() || theirs.empty()) return {};
  return " (" + std::string(mine) + " vs " + std::string(theirs) + ")";
}

void Exact::observe(const Record& r, Prepared& p) {
  // The first pass: the index as the real pass would build it, each key's first record (by ordinal);
  // with `prefer`, each key's best record; with reject_both, which keys turn out to have conflicting
  // answers, with the first record that disagreed.
  const uint64_t k = observed_++;
  uint32_t n = index_.find(p.key);
  if (n == ExactIndex::npos) {
    n = insert(p, r.id());
    first_ordinal_.resize(static_cast<size_t>(n) + 1, kLoaded);
    first_ordinal_[n] = k;
    if (!policy_.empty()) {
      first_score_.resize(static_cast<size_t>(n) + 1);
      first_score_[n] = p.score;
    }
    return;
  }
  // `prefer`: a later record better than the key's best so far (a loaded key keeps its survivor).
  if (!policy_.empty() && n < first_ordinal_.size() && first_ordinal_[n] != kLoaded) {
    const auto it = chosen_.find(n);
    if (p.score > (it == chosen_.end() ? first_score_[n] : it->second.score))
      chosen_[n] = Chosen{p.score, k, p.answer, std::string(r.id()), p.answer_text};
  }
  if (on_conflict_ != Conflict::reject_both) return;
  const uint64_t first = index_.answer(n);
  if (first == kConflicted || !answers_differ(p, first, answer_text(n))) return;
  index_.set_answer(n, kConflicted);
  if (n < first_ordinal_.size() && first_ordinal_[n] != kLoaded) {
    conflict_with_.emplace(n, std::make_pair(std::string(r.id()), p.answer_text));
  } else if (conflicted_survivors_.size() < kListedConflicts) {
    conflicted_survivors_.emplace_back(index_.id(n));  // from load_index: not in this run, cannot be rejected
  }
}

void Exact::ordered_after_first_pass(Record& r, Prepared& p) {
  const uint64_t k = passed_++;
  const uint32_t n = index_.find(p.key);
  if (n == ExactIndex::npos) throw Error("dedup.exact: a record the first pass did not see");
  const bool is_first = n < first_ordinal_.size() && first_ordinal_[n] == k;
  if (on_conflict_ == Conflict::reject_both && index_.answer(n) == kConflicted) {
    ++conflicts_;
    // The first record names the first that disagreed with it; the others name the first record. The
    // answer shown against a record's own is one that conflicts with it where possible: the first
    // record's, or (for a record that agrees with the first) the first disagreeing one's.
    const auto with = conflict_with_.find(n);  // absent for a key loaded with load_index
    const std::string_view other = is_first ? std::string_view(with->second.first) : index_.id(n);
    std::string_view theirs = is_first ? std::string_view(with->second.second) : answer_text(n);
    if (!is_first && with != conflict_with_.end() && answers_agree(p.answer_text, theirs)) theirs = with->second.second;
    note_member(n, r.id(), true);
    annotate_conflict(r, other, p.answer_text, theirs);
    return r.reject("answer_conflict", "same problem as " + std::string(other) + " with conflicting answers" +
                                            conflict_answers(p.answer_text, theirs));
  }
  // The key's survivor: its best record by `prefer` (the first one without, or when none was better).
  const auto chosen = chosen_.find(n);
  const bool kept = chosen == chosen_.end() ? is_first : chosen->second.ordinal == k;
  if (kept) return;
  const std::string_view survivor = chosen == chosen_.end() ? index_.id(n) : std::string_view(chosen->second.id);
  if (on_conflict_ != Conflict::reject_both) {  // tag / reject_later: against the survivor's answer
    const uint64_t theirs = chosen == chosen_.end() ? index_.answer(n) : chosen->second.answer;
    const std::string_view theirs_text = chosen == chosen_.end() ? answer_text(n) : std::string_view(chosen->second.answer_text);
    if (answers_differ(p, theirs, theirs_text)) {
      ++conflicts_;
      note_member(n, r.id(), true);
      annotate_conflict(r, survivor, p.answer_text, theirs_text);
      if (on_conflict_ == Conflict::tag) return;
      return r.reject("answer_conflict", "same problem as " + std::string(survivor) + " with a different answer" +
                                              conflict_answers(p.answer_text, theirs_text));
    }
  }
  ++duplicates_;
  cluster_sizes_.add_copy(n);
  note_member(n, r.id(), false);
  r.annotate("dup_of", survivor);
  r.reject("duplicate", "duplicate of " + std::string(survivor));
}

void Exact::ordered(Record& r, Prepared& p) {
  if (first_pass()) return ordered_after_first_pass(r, p);
  const uint32_t n = index_.find(p.key);
  if (n == ExactIndex::npos) {
    insert(p, r.id());
    return;
  }
  const uint64_t first = index_.answer(n);
  const bool conflict = first == kConflicted || answers_differ(p, first, answer_text(n));
  const std::string_view survivor = index_.id(n);
  note_member(n, r.id(), conflict);
  if (!conflict) {
    ++duplicates_;
    cluster_sizes_.add_copy(n);
    r.annotate("dup_of", survivor);
    return r.reject("duplicate", "duplicate of " + std::string(survivor));
  }
  ++conflicts_;
  annotate_conflict(r, survivor, p.answer_text, answer_text(n));
  switch (on_conflict_) {
    case Conflict::tag:
      return;  // kept: a different answer to the same problem is not a plain duplicate
    case Conflict::reject_later:
      return r.reject("answer_conflict", "same problem as " + std::string(survivor) + " with a different answer" +
                                              conflict_answers(p.answer_text, answer_text(n)));
    case Conflict::reject_both:  // decided with the first pass (ordered_after_first_pass)
      break;
  }
}

void Exact::note_member(uint32_t key, std::string_view id, bool conflict) {
  if (!clusters_path_.empty()) members_.push_back({key, std::string(id), conflict});
}

void Exact::write_clusters() const {
  // Named after each key's kept record; answer conflicts marked.
  write_clusters_file(
      clusters_path_, members_,
      [&](uint32_t n) -> std::string_view {
        const auto chosen = chosen_.find(n);
        return chosen == chosen_.end() ? index_.id(n) : std::string_view(chosen->second.id);
      },
      [](const Member& m, std::string& out) {
        if (m.conflict) out += ",\"answer_conflict\":true";
      });
}

void Exact::finish(Stage& stage) {
  if (!clusters_path_.empty()) write_clusters();
  const size_t distinct = index_.size();
  stage.count("distinct", static_cast<int64_t>(distinct));
  stage.count("duplicates", duplicates_);
  if (!answer_field_.empty()) stage.count("answer_conflicts", conflicts_);
  std::string rep = "{\"distinct\":" + std::to_string(distinct) + ",\"loaded\":" + std::to_string(loaded_) +
                    ",\"duplicates\":" + std::to_string(duplicates_) + ",\"index_bytes\":" +
                    std::to_string(index_.structure_bytes()) + ",\"index_id_bytes\":" + std::to_string(index_.id_bytes()) +
                    ",\"normalization\":" + json::quote(norm_.describe()) + cluster_sizes_.json([&](uint32_t n) -> std::string_view {
                      const auto chosen = chosen_.find(n);
                      return chosen == chosen_.end() ? index_.id(n) : std::string_view(chosen->second.id);
                    });
  if (!policy_.empty()) rep += ",\"chosen_not_first\":" + std::to_string(chosen_.size());
  if (!answer_field_.empty()) {
    rep += ",\"answer_conflicts\":" + std::to_string(conflicts_);
    if (on_conflict_ == Conflict::reject_both) {
      rep += ",\"conflicted_survivors\":[";
      for (size_t i = 0; i < conflicted_survivors_.size(); ++i) rep += (i ? "," : "") + json::quote(conflicted_survivors_[i]);
      rep += "]";
    }
  }
  rep += "}";
  stage.report(rep);
  if (!save_path_.empty()) {
    ExactIndex::Replacements chosen;  // with `prefer`: the kept record of each key whose first was not kept
    for (const auto& [n, c] : chosen_) chosen.emplace(n, std::make_pair(c.id, c.answer));
    index_.save(save_path_, norm_.describe(), chosen);
    stage.info("saved " + std::to_string(distinct) + " keys to " + save_path_);
  }
}

}  // namespace tamis::dedup
