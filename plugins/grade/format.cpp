// grade.verifiable: rules for problems that cannot be graded by a final answer. Rules: docs/grading.md.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <span>

#include "ops.hpp"
#include "phrase_matcher.hpp"

namespace tamis::grade {

namespace {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// `needle` occurs at a word boundary (not inside a longer word on either side).
size_t find_word(std::string_view text, std::string_view needle, size_t from = 0) {
  for (size_t at = text.find(needle, from); at != std::string_view::npos; at = text.find(needle, at + 1)) {
    const bool left = at == 0 || !alpha(text[at - 1]);
    const size_t end = at + needle.size();
    const bool right = end >= text.size() || !alpha(text[end]) || !alpha(needle.back());
    if (left && right) return at;
  }
  return std::string_view::npos;
}

// A part marker such as "(a)" that stands on its own: at the start of a line or after a space or
// punctuation (not "f(a)" nor "$(a)$"), and followed by a space, a line end or the end.
size_t marker_at(std::string_view text, std::string_view m, bool line_start_only, size_t from = 0) {
  for (size_t at = text.find(m, from); at != std::string_view::npos; at = text.find(m, at + 1)) {
    size_t k = at;
    while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t')) --k;
    const bool line_start = k == 0 || text[k - 1] == '\n';
    const char prev = at == 0 ? '\n' : text[at - 1];
    const bool wide = static_cast<unsigned char>(m[0]) >= 0x80;  // （1）: no spaces around it in CJK text
    const bool left = wide || line_start || (!line_start_only && (prev == ' ' || prev == '.' || prev == ':' || prev == ';'));
    const size_t end = at + m.size();
    const bool right = wide || end >= text.size() || space(text[end]) || (end < text.size() && alpha(text[end]) && !line_start_only);
    if (left && right) return at;
  }
  return std::string_view::npos;
}

bool asks_question(std::string_view low);

bool contains(std::string_view text, std::string_view needle) { return text.find(needle) != std::string_view::npos; }

// Words of prose in an answer: alphabetic runs of 2+ letters outside $...$ and not LaTeX commands.
size_t prose_words(std::string_view a) {
  size_t words = 0;
  bool math = false;
  for (size_t i = 0; i < a.size();) {
    const char c = a[i];
    if (c == '$') {
      math = !math;
      ++i;
    } else if (c == '\\') {
      ++i;
      while (i < a.size() && alpha(a[i])) ++i;
    } else if (alpha(c)) {
      size_t k = i;
      while (k < a.size() && alpha(a[k])) ++k;
      if (!math && k - i >= 2) ++words;
      i = k;
    } else {
      ++i;
    }
  }
  return words;
}

// UTF-8 characters (code points) of a string.
size_t chars(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The problem without its [asy]...[/asy] drawing code (labels such as dot(A) would look like options).
std::string without_asy(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t open = text.find("[asy]", pos);
    if (open == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    const size_t close = text.find("[/asy]", open);
    if (close == std::string_view::npos) return out;
    pos = close + 6;
  }
  out.append(text.substr(pos));
  return out;
}

// Words that ask for an answer: a problem with one of them asks a question. ("which" is left out: it is
// as often a relative pronoun, "from which", "which occurs at", as a question word.)
constexpr std::string_view kQuestionCues[] = {"find", "determine", "compute", "calculate", "evaluate", "what", "how many",
                                              "how much", "solve", "simplify", "express", "?",
                                              "？", "求", "多少", "几", "是否"};

bool asks_question(std::string_view low) {
  for (auto cue : kQuestionCues)
    if (cue == "?" ? low.find('?') != std::string_view::npos : find_word(low, cue) != std::string_view::npos) return true;
  return false;
}

// Options lettered A, B, C, D in that order inside a line ("A.-2  B.0  C.3  D.-1/2", "( ) A. 1 B. 2 C. 3 D. 4",
// "A) $x$ B) $y$ ..."): each letter stands after a space, a line start, '$' or '}', and is followed by the
// same mark ('.', ')', '．', '、'). Four in order are needed: "A. B. Smith" or one "A." is no list.
// `a_first`: where "A" and each mark first occur (npos: nowhere, so that mark has no list).
std::string inline_options(std::string_view text, std::span<const size_t, 4> a_first) {
  constexpr std::string_view kMarks[] = {".", ")", "．", "、"};
  for (size_t mi = 0; mi < 4; ++mi) {
    const std::string_view mark = kMarks[mi];
    if (a_first[mi] == std::string_view::npos) continue;
    size_t from = a_first[mi];
    int next = 0;
    for (; next < 4; ++next) {
      const char letter = static_cast<char>('A' + next);
      size_t at = std::string_view::npos;
      for (size_t k = text.find(letter, from); k != std::string_view::npos; k = text.find(letter, k + 1)) {
        const char prev = k == 0 ? ' ' : text[k - 1];
        if ((space(prev) || prev == '$' || prev == '}') && text.substr(k + 1, mark.size()) == mark) {
          at = k;
          break;
        }
      }
      if (at == std::string_view::npos) break;
      from = at + 1 + mark.size();
    }
    if (next == 4) return "A" + std::string(mark) + " B" + std::string(mark) + " C" + std::string(mark) + " D" + std::string(mark);
  }
  return {};
}

// A reference that is only option letters: "C", "(C)", "\text{(E)}", "$B$", "A, C", "\text{B,E}".
bool letter_answer(std::string_view a) {
  char prev = 0;  // the last letter kept, 0 before the first
  for (size_t i = 0; i < a.size(); ++i) {
    if (a.substr(i, 6) == "\\text{") i += 5;
    else if (a.substr(i, 8) == "\\textbf{" || a.substr(i, 8) == "\\mathrm{") i += 7;
    else if (!space(a[i]) && a[i] != '$' && a[i] != '(' && a[i] != ')' && a[i] != '{' && a[i] != '}' && a[i] != ',') {
      if (a[i] < 'A' || a[i] > 'E' || (prev != 0 && a[i] <= prev)) return false;  // distinct letters in order
      prev = a[i];
    }
  }
  return prev != 0;
}

// Blanks to fill: "( )" and "(\quad)" (ASCII parentheses with at least one space or \quad), "（）", "（ ）",
// "___" (three or more underscores), "\_\_", "\underline{\quad}".
// `from`: no blank starts before it (blanks() from there counts the same).
size_t blanks(std::string_view text, size_t from) {
  if (from == std::string_view::npos) return 0;
  // Only a byte that starts one of them can start a blank ('(', '（' = EF BC 88, '_', '\\'): skip the others.
  static constexpr auto kStart = [] {
    std::array<bool, 256> start{};
    for (const unsigned char c : {'(', '_', '\\', '\xEF'}) start[c] = true;
    return start;
  }();
  size_t n = 0;
  for (size_t i = from; i < text.size();) {
    if (!kStart[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    const std::string_view rest = text.substr(i);
    size_t len = 0;
    if (rest[0] == '(' || rest.rfind("（", 0) == 0) {
      const size_t open = rest[0] == '(' ? 1 : 3;
      size_t k = open;
      while (k < rest.size() && (rest[k] == ' ' || rest.substr(k, 3) == "\u3000")) k += rest[k] == ' ' ? 1 : 3;
      if (rest.substr(k, 5) == "\\quad") k += 5;
      while (k < rest.size() && rest[k] == ' ') ++k;
      const bool filled = k > open || open == 3;  // "()" in ASCII is a call, not a blank
      if (filled && rest.substr(k, 1) == ")") len = k + 1;
      else if (filled && rest.substr(k, 3) == "）") len = k + 3;
    } else if (rest.rfind("___", 0) == 0) {
      len = rest.find_first_not_of('_');
    } else if (rest.rfind("\\_\\_", 0) == 0) {
      for (len = 0; rest.substr(len, 2) == "\\_";) len += 2;
    } else if (rest.rfind("\\underline{\\quad", 0) == 0) {
      len = rest.find('}');
    }
    if (len == std::string_view::npos) len = rest.size();
    if (len > 0) ++n;
    i += len > 0 ? len : 1;
  }
  return n;
}

// The problem offers lettered choices somewhere (for a reference that is only a letter).
constexpr std::string_view kChoiceCues[] = {"which of the following", "which one of the following", "the following",
                                            "options", "choices", "the letter", "letters", "下列", "选项", "选择"};

// Every phrase classify() looks for in the problem, found in one pass of a PhraseMatcher (built once, on
// first use) over the text with ASCII case ignored. A group that is not `exact` is searched as in the
// lowercased text; an `exact` group case-sensitively in the text itself (a match of the folded phrase
// counts only where the text's bytes are the phrase's). The rules then look only where a phrase occurs.
constexpr std::string_view kSayChoose[] = {"choose the correct", "select the correct answer"};
constexpr std::string_view kAnswerChoices[] = {"answer choices", "answer options"};
constexpr std::string_view kOptions[] = {"(A)", "(B)", "(C)", "（A）", "（B）", "(F)", "(G)", "(H)"};
constexpr std::string_view kLineOptions[] = {"A.", "B.", "C.", "A)", "B)", "C)", "A:", "B:", "C:"};  // in threes
constexpr std::string_view kInlineMarks[] = {".", ")", "．", "、"};
constexpr std::string_view kInlineFirst[] = {"A.", "A)", "A．", "A、"};  // "A" and each of kInlineMarks
constexpr std::string_view kProofPhrases[] = {"prove that", "prove the", "prove or disprove", "show that", "demonstrate that",
                                              "prove:", "proof:", "justify that", "give a proof", "prove this", "prove it",
                                              "show how", "证明"};
constexpr std::string_view kAnywhereParts[] = {"(a)", "(b)", "(i)", "(ii)", "(I)", "(II)"};  // in pairs
constexpr std::string_view kLineStartParts[] = {"(1)", "(2)", "1)", "2)", "a)", "b)"};       // in pairs
constexpr std::string_view kWideParts[] = {"（1）", "（2）", "(1)", "(2)", "（I）", "（II）"};     // in pairs
constexpr std::string_view kPartWords[] = {"part 1", "part 2", "part (a)", "part (b)", "part a", "part b", "part i", "part ii"};
constexpr std::string_view kImage[] = {"\\includegraphics", "<image", "!["};
constexpr std::string_view kAsyUpper[] = {"[ASY]"};
constexpr std::string_view kFigurePhrases[] = {"see the figure", "see figure", "see the diagram", "see diagram", "see the picture",
                                               "in the figure", "in the diagram", "the figure below", "the diagram below",
                                               "the figure above", "the diagram above", "the following figure",
                                               "the following diagram", "accompanying figure", "adjoining figure",
                                               "accompanying diagram", "adjoining diagram", "figure shows", "diagram shows"};
constexpr std::string_view kShown[] = {"shown below", "shown above", "pictured", "depicted", "drawn below", "as shown", "illustrated"};
constexpr std::string_view kFigure[] = {"figure", "diagram", "picture", "graph", "image", "drawing", "grid"};
// Every blank blanks() counts starts with one of these: where the first of them is, blanks() can start.
constexpr std::string_view kBlankStarts[] = {"( ", "(\u3000", "(\\quad", "（", "___", "\\_\\_", "\\underline{\\quad"};

enum Group : size_t {
  kQuestion, kChoice, kSay, kAnswerChoice, kOption, kLineOption, kInline, kProof, kAnywhere, kLineStart, kWide, kPartWord,
  kImageTag, kAsy, kFigurePhrase, kShownWord, kFigureWord, kBlankStart, kGroups
};
struct PhraseGroup {
  std::span<const std::string_view> phrases;
  bool exact;
};
constexpr PhraseGroup kPhraseGroups[kGroups] = {
    {kQuestionCues, false}, {kChoiceCues, false},  {kSayChoose, false},   {kAnswerChoices, false}, {kOptions, true},
    {kLineOptions, true},   {kInlineFirst, true},  {kProofPhrases, false}, {kAnywhereParts, true},  {kLineStartParts, true},
    {kWideParts, true},     {kPartWords, false},   {kImage, false},       {kAsyUpper, true},       {kFigurePhrases, false},
    {kShown, false},        {kFigure, false},      {kBlankStarts, true}};

constexpr std::array<size_t, kGroups + 1> kGroupBase = [] {
  std::array<size_t, kGroups + 1> base{};
  for (size_t g = 0; g < kGroups; ++g) base[g + 1] = base[g] + kPhraseGroups[g].phrases.size();
  return base;
}();
constexpr size_t kPhrases = kGroupBase[kGroups];

struct Phrase {
  std::string_view text;
  bool exact = false;
};
constexpr std::array<Phrase, kPhrases> kAllPhrases = [] {
  std::array<Phrase, kPhrases> all{};
  for (size_t g = 0; g < kGroups; ++g)
    for (size_t i = 0; i < kPhraseGroups[g].phrases.size(); ++i) all[kGroupBase[g] + i] = {kPhraseGroups[g].phrases[i], kPhraseGroups[g].exact};
  return all;
}();

const PhraseMatcher& phrase_matcher() {
  static const PhraseMatcher matcher = [] {
    std::vector<std::string_view> patterns;
    for (const Phrase& p : kAllPhrases) patterns.push_back(p.text);
    return PhraseMatcher(patterns, true);
  }();
  return matcher;
}

constexpr size_t npos = std::string_view::npos;

// Where each phrase first occurs in a text (npos: nowhere), and for the phrases that are not exact, where
// it first occurs at a word boundary as find_word() decides (npos: nowhere).
class Hits {
 public:
  explicit Hits(std::string_view text) {
    first_.fill(npos);
    word_.fill(npos);
    phrase_matcher().scan(text, [&](size_t id, size_t at) {
      const Phrase& p = kAllPhrases[id];
      if (p.exact) {
        if (first_[id] == npos && text.compare(at, p.text.size(), p.text) == 0) first_[id] = at;
        return;
      }
      if (first_[id] == npos) first_[id] = at;
      if (word_[id] == npos) {
        const size_t end = at + p.text.size();
        const bool left = at == 0 || !alpha(text[at - 1]);
        const bool right = end >= text.size() || !alpha(text[end]) || !alpha(p.text.back());
        if (left && right) word_[id] = at;
      }
    });
  }
  // The first occurrence of phrase `i` of group `g` (exact or as in the lowercased text).
  size_t first(Group g, size_t i) const { return first_[kGroupBase[g] + i]; }
  bool has(Group g, size_t i) const { return first(g, i) != npos; }
  // Where the first possible blank starts (npos: there is none).
  size_t first_blank() const {
    size_t at = npos;
    for (size_t i = 0; i < std::size(kBlankStarts); ++i) at = std::min(at, first(kBlankStart, i));
    return at;
  }
  // The first occurrence at a word boundary (groups that are not exact).
  size_t word(Group g, size_t i) const { return word_[kGroupBase[g] + i]; }

 private:
  std::array<size_t, kPhrases> first_;
  std::array<size_t, kPhrases> word_;
};

bool asks_question(const Hits& h) {
  for (size_t i = 0; i < std::size(kQuestionCues); ++i)
    if (kQuestionCues[i] == "?" ? h.has(kQuestion, i) : h.word(kQuestion, i) != npos) return true;
  return false;
}

// marker_at() from the first occurrence of the marker on (the same answer: there is none before it).
size_t marker_from(std::string_view text, std::string_view m, size_t first, bool line_start_only, size_t from = 0) {
  return first == npos ? npos : marker_at(text, m, line_start_only, std::max(first, from));
}

// Parts x and y (in that order) each asking something: the text after x up to y, and after y (up to
// 400 bytes), both hold a question cue. Conditions listed as (i), (ii) ask nothing and do not count.
// x_first, y_first: where x and y first occur.
bool parts_ask(std::string_view text, std::string_view x, size_t x_first, std::string_view y, size_t y_first, bool line_start_only) {
  const size_t px = marker_from(text, x, x_first, line_start_only);
  if (px == npos) return false;
  const size_t py = marker_from(text, y, y_first, line_start_only, px + x.size());
  if (py == npos) return false;
  std::string first(text.substr(px + x.size(), py - px - x.size())), second(text.substr(py + y.size(), 400));
  for (char& c : first) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : second) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return asks_question(first) && asks_question(second);
}

// An option marker such as "A." or "A)" at the start of a line (after spaces), whatever follows it ("A)5");
// `first`: where it first occurs.
bool line_option_from(std::string_view text, std::string_view m, size_t first) {
  for (size_t at = first; at != npos; at = text.find(m, at + 1)) {
    size_t k = at;
    while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t')) --k;
    if (k == 0 || text[k - 1] == '\n') return true;
  }
  return false;
}

}  // namespace

const ParamTable Format::params = {
    {.name = "problem_field", .type = ParamType::string, .default_json = "\"problem\"", .help = "the field holding the problem text"},
    {.name = "answer_field", .type = ParamType::string, .default_json = "\"answer\"",
     .help = "the field holding the reference answer (a string, a number, or an array of strings)"},
    {.name = "proof", .type = ParamType::boolean, .default_json = "true",
     .help = "reject proofs: 'prove that', 'show that', 'prove or disprove', ... (reason proof)"},
    {.name = "multi_part", .type = ParamType::boolean, .default_json = "true",
     .help = "reject multi-part problems: (a)/(b), (i)/(ii), (1)/(2) each asking something, 'Part 1'/'Part 2', two or more "
             "blanks to fill such as ( ) or ____ (reason multi_part)"},
    {.name = "multiple_choice", .type = ParamType::boolean, .default_json = "true",
     .help = "reject multiple choice: options (A) (B) (C), lines A. B. C., A. B. C. D. inside a line, 'Answer Choices:', a "
             "reference that is only option letters in a problem that offers choices (reason multiple_choice)"},
    {.name = "missing_answer", .type = ParamType::boolean, .default_json = "true",
     .help = "reject a missing, null or blank reference answer (reason missing_answer)"},
    {.name = "long_answer", .type = ParamType::boolean, .default_json = "true",
     .help = "reject references that are prose rather than a final answer (reason long_answer)"},
    {.name = "needs_figure", .type = ParamType::boolean, .default_json = "true",
     .help = "reject problems that depend on a figure: [asy], 'see the figure', 'shown below' near a figure word (reason needs_figure)"},
    {.name = "long_answer_chars", .type = ParamType::integer, .default_json = "300",
     .help = "long_answer: a reference longer than this many characters is prose"},
    {.name = "long_answer_words", .type = ParamType::integer, .default_json = "12",
     .help = "long_answer: a reference with more words of prose (outside $...$ and commands) than this is prose"},
};

Format::Format(const Params& p) : problem_field_(p.get_string("problem_field")), answer_field_(p.get_string("answer_field")) {
  rules_.proof = p.get_bool("proof");
  rules_.multi_part = p.get_bool("multi_part");
  rules_.multiple_choice = p.get_bool("multiple_choice");
  rules_.missing_answer = p.get_bool("missing_answer");
  rules_.long_answer = p.get_bool("long_answer");
  rules_.needs_figure = p.get_bool("needs_figure");
  rules_.long_answer_chars = static_cast<size_t>(p.get_int("long_answer_chars"));
  rules_.long_answer_words = static_cast<size_t>(p.get_int("long_answer_words"));
}

void Format::check(const Params& p) {
  if (p.get_int("long_answer_chars") < 1) throw Error("long_answer_chars must be at least 1");
  if (p.get_int("long_answer_words") < 1) throw Error("long_answer_words must be at least 1");
}

std::pair<std::string, std::string> Format::classify(std::string_view problem, const std::string* answer, const Rules& rules) {
  if (rules.missing_answer) {
    const bool blank = !answer || std::all_of(answer->begin(), answer->end(), space);
    if (blank) return {"missing_answer", answer ? "the reference answer is blank" : "no reference answer"};
  }
  // The rules read the problem without its [asy] drawings; a problem without one is read in place.
  const bool has_asy = contains(problem, "[asy]");
  const std::string stripped = has_asy ? without_asy(problem) : std::string();
  const std::string_view text = has_asy ? std::string_view(stripped) : problem;
  const Hits h(text);
  std::string low_text;  // the text lowercased, made only for the few checks that read beyond a phrase
  const auto low = [&]() -> std::string_view {
    if (low_text.size() != text.size()) low_text = ascii_lower(text);
    return low_text;
  };
  const bool question = asks_question(h);

  if (rules.multiple_choice) {
    for (size_t i = 0; i < std::size(kSayChoose); ++i)
      if (h.word(kSay, i) != npos) return {"multiple_choice", "the problem says '" + std::string(kSayChoose[i]) + "'"};
    // "Answer Choices:" introduces a list; "each question has five answer choices" does not.
    for (size_t i = 0; i < std::size(kAnswerChoices); ++i) {
      const std::string_view p = kAnswerChoices[i];
      const std::string_view l = h.word(kAnswerChoice, i) != npos ? low() : std::string_view();
      for (size_t at = h.word(kAnswerChoice, i); at != npos; at = find_word(l, p, at + 1)) {
        const size_t next = l.find_first_not_of(" \t", at + p.size());
        if (next != npos && (l[next] == ':' || l[next] == '\n' || l[next] == '(' || l.compare(next, 3, "：") == 0))
          return {"multiple_choice", "the problem says '" + std::string(p) + "' before a list"};
      }
    }
    // Options (A) (B) (C), as AMC writes them (\textbf{(A)}), or A. B. C. / A) B) C) at line starts.
    if (h.has(kOption, 0) && h.has(kOption, 1) && h.has(kOption, 2)) return {"multiple_choice", "the problem lists options (A), (B), (C)"};
    if (h.has(kOption, 3) && h.has(kOption, 4)) return {"multiple_choice", "the problem lists options （A）, （B）"};
    if (h.has(kOption, 5) && h.has(kOption, 6) && h.has(kOption, 7)) return {"multiple_choice", "the problem lists options (F), (G), (H)"};
    for (size_t i = 0; i < std::size(kLineOptions); i += 3) {
      if (line_option_from(text, kLineOptions[i], h.first(kLineOption, i)) &&
          line_option_from(text, kLineOptions[i + 1], h.first(kLineOption, i + 1)) &&
          line_option_from(text, kLineOptions[i + 2], h.first(kLineOption, i + 2)))
        return {"multiple_choice", "the problem lists options " + std::string(kLineOptions[i]) + " " + std::string(kLineOptions[i + 1]) + " " +
                                       std::string(kLineOptions[i + 2]) + " at line starts"};
    }
    const std::array<size_t, 4> a_first = {h.first(kInline, 0), h.first(kInline, 1), h.first(kInline, 2), h.first(kInline, 3)};
    if (const std::string o = inline_options(text, a_first); !o.empty()) return {"multiple_choice", "the problem lists options " + o};
    if (answer && letter_answer(*answer)) {
      for (size_t i = 0; i < std::size(kChoiceCues); ++i)
        if (h.has(kChoice, i)) return {"multiple_choice", "the reference is an option letter and the problem says '" + std::string(kChoiceCues[i]) + "'"};
      if (blanks(text, h.first_blank()) > 0) return {"multiple_choice", "the reference is an option letter and the problem has a blank ( ) to fill"};
    }
  }

  if (rules.proof) {
    // A proof phrase in a problem that also asks a question ("find all n and prove that ...", "in what year
    // will the census show that ...") still has a final answer: only problems that ask nothing else are proofs.
    if (!question) {
      for (size_t i = 0; i < std::size(kProofPhrases); ++i)
        if (h.word(kProof, i) != npos) return {"proof", "the problem says '" + std::string(kProofPhrases[i]) + "' and asks no question"};
    }
    if (answer) {
      const std::string a = ascii_lower(*answer);
      if (a.rfind("proof", 0) == 0 || contains(a, "q.e.d") || contains(a, "\\blacksquare"))
        return {"proof", "the reference answer is a proof"};
    }
  }

  if (rules.multi_part) {
    for (size_t i = 0; i < std::size(kAnywhereParts); i += 2)
      if (parts_ask(text, kAnywhereParts[i], h.first(kAnywhere, i), kAnywhereParts[i + 1], h.first(kAnywhere, i + 1), false))
        return {"multi_part", "the problem has parts " + std::string(kAnywhereParts[i]) + " and " + std::string(kAnywhereParts[i + 1]) + ", each asking something"};
    for (size_t i = 0; i < std::size(kLineStartParts); i += 2)
      if (parts_ask(text, kLineStartParts[i], h.first(kLineStart, i), kLineStartParts[i + 1], h.first(kLineStart, i + 1), true))
        return {"multi_part", "the problem has parts " + std::string(kLineStartParts[i]) + " and " + std::string(kLineStartParts[i + 1]) +
                                  " at line starts, each asking something"};
    for (size_t i = 0; i < std::size(kWideParts); i += 2)
      if (parts_ask(text, kWideParts[i], h.first(kWide, i), kWideParts[i + 1], h.first(kWide, i + 1), false))
        return {"multi_part", "the problem has parts (1) and (2), each asking something"};
    if (const size_t n = blanks(text, h.first_blank()); n >= 2) return {"multi_part", "the problem has " + std::to_string(n) + " blanks to fill"};
    for (size_t i = 0; i < std::size(kPartWords); i += 2)
      if (h.word(kPartWord, i) != npos && h.word(kPartWord, i + 1) != npos)
        return {"multi_part", "the problem has '" + std::string(kPartWords[i]) + "' and '" + std::string(kPartWords[i + 1]) + "'"};
  }

  if (rules.needs_figure) {
    // "[asy]" in the problem made has_asy; without it the text is the problem, so kAsyUpper is found in it.
    if (has_asy || h.has(kAsy, 0)) return {"needs_figure", "the problem draws a figure with [asy]"};
    if (h.has(kImageTag, 0) || h.has(kImageTag, 1) || h.has(kImageTag, 2)) return {"needs_figure", "the problem embeds an image"};
    for (size_t i = 0; i < std::size(kFigurePhrases); ++i)
      if (h.word(kFigurePhrase, i) != npos) return {"needs_figure", "the problem says '" + std::string(kFigurePhrases[i]) + "'"};
    for (size_t i = 0; i < std::size(kShown); ++i) {
      const std::string_view s = kShown[i];
      const size_t at = h.word(kShownWord, i);
      if (at == npos) continue;
      const size_t from = at > 100 ? at - 100 : 0;
      const std::string_view window = low().substr(from, at - from + s.size() + 100);
      for (size_t j = 0; j < std::size(kFigure); ++j) {
        const std::string_view f = kFigure[j];
        if (!h.has(kFigureWord, j)) continue;  // neither f nor f + "s" is anywhere in the text
        if (find_word(window, f) != npos || find_word(window, std::string(f) + "s") != npos)
          return {"needs_figure", "the problem says '" + std::string(s) + "' near '" + std::string(f) + "'"};
      }
    }
  }

  if (rules.long_answer && answer) {
    const size_t n = chars(*answer);
    if (n > rules.long_answer_chars)
      return {"long_answer", "the reference answer has " + std::to_string(n) + " characters (more than " + std::to_string(rules.long_answer_chars) + ")"};
    const size_t w = prose_words(*answer);
    if (w > rules.long_answer_words)
      return {"long_answer", "the reference answer has " + std::to_string(w) + " words of prose (more than " + std::to_string(rules.long_answer_words) + ")"};
  }
  return {};
}

namespace {

// json::unescape's result (the same escapes, the same code points), copying the runs between
// backslashes whole rather than byte by byte.
std::string unescape(std::string_view k) {
  std::string out;
  out.reserve(k.size());
  for (size_t i = 0; i < k.size();) {
    const size_t slash = k.find('\\', i);
    if (slash == std::string_view::npos || slash + 1 >= k.size()) {
      out.append(k.substr(i));
      break;
    }
    out.append(k.substr(i, slash - i));
    i = slash + 1;
    const char e = k[i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        uint32_t cp = json::detail::hex4(k, i + 1);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < k.size() && k[i + 1] == '\\' && k[i + 2] == 'u') {
          const uint32_t lo = json::detail::hex4(k, i + 3);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        }
        json::detail::append_utf8(out, cp);
        break;
      }
      default: out.push_back(e);  // \" \\ \/
    }
    ++i;
  }
  return out;
}

}  // namespace

void Format::process(Record& r) const {
  // The problem as string_field() reads it, unescaped by the faster copy above.
  std::optional<std::string_view> problem;
  std::string problem_text;
  if (problem_field_.empty() || problem_field_.front() == '/') {
    problem = r.string_field(problem_field_);
  } else if (const auto raw = r.raw_field(problem_field_); raw && raw->size() >= 2 && raw->front() == '"') {
    const std::string_view body = raw->substr(1, raw->size() - 2);  // a number beyond 64 bits comes quoted
    if (body.find('\\') == std::string_view::npos) {
      problem = body;
    } else {
      problem_text = unescape(body);
      problem = problem_text;
    }
  }
  if (!problem) return r.reject_missing_field(problem_field_, "missing_problem", "no string field '" + problem_field_ + "'");
  std::optional<std::string> answer;
  // The answer as the DOM would give it, read from the record text when that is certain: a string, an
  // integer of at most 18 digits (its JSON text is std::to_string's), null, a boolean or an object (no
  // answer). Other numbers and arrays (and JSON-pointer paths) go through the DOM below.
  bool read = false;
  if (!answer_field_.empty() && answer_field_.front() != '/') {
    const auto raw = r.raw_field(answer_field_);
    read = true;
    if (!raw || raw->empty()) {
      read = !raw;
    } else if (raw->front() == '"') {
      const std::string_view body = raw->substr(1, raw->size() - 2);
      answer = body.find('\\') == std::string_view::npos ? std::string(body) : unescape(body);
    } else if (raw->front() == '-' || (raw->front() >= '0' && raw->front() <= '9')) {
      const std::string_view digits = raw->substr(raw->front() == '-' ? 1 : 0);
      const bool integer = !digits.empty() && digits.size() <= 18 && digits != "0" &&
                           std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (integer || *raw == "0") answer = std::string(*raw);
      else read = false;
    } else if (raw->front() == '[') {
      read = false;
    }
  }
  if (auto e = read ? std::nullopt : r.field(answer_field_)) {
    switch (e->type()) {
      case simdjson::dom::element_type::STRING: answer = std::string(e->get_string().value_unsafe()); break;
      case simdjson::dom::element_type::INT64: answer = std::to_string(e->get_int64().value_unsafe()); break;
      case simdjson::dom::element_type::UINT64: answer = std::to_string(e->get_uint64().value_unsafe()); break;
      case simdjson::dom::element_type::DOUBLE: answer = json::number(e->get_double().value_unsafe()); break;
      case simdjson::dom::element_type::ARRAY: {
        // OlympiadBench: final_answer is a list of strings.
        std::string joined;
        size_t n = 0;
        simdjson::dom::array items;
        if (e->get_array().get(items) != simdjson::SUCCESS) break;
        for (simdjson::dom::element item : items) {
          std::string_view s;
          if (item.get_string().get(s) != simdjson::SUCCESS) continue;
          if (n++) joined += ", ";
          joined += s;
        }
        if (n) answer = std::move(joined);
        else answer = std::string();
        break;
      }
      default: break;
    }
  }
  const auto [reason, detail] = classify(*problem, answer ? &*answer : nullptr, rules_);
  if (!reason.empty()) r.reject(reason, detail);
}

}  // namespace tamis::grade
