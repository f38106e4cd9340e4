#include "fidelity.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "normalize.hpp"
#include "utf8.hpp"

namespace tamis::translate {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }
bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

constexpr std::array<std::string_view, 8> kMathEnvs = {"equation", "align",       "gather", "multline",
                                                       "eqnarray", "displaymath", "math",   "alignat"};
// Commands whose argument is prose: translating it is faithful, so it does not count in the key.
constexpr std::array<std::string_view, 8> kTextCommands = {"text",   "textrm", "textit", "textbf",
                                                           "textsf", "texttt", "mbox",   "textnormal"};

bool math_env(std::string_view name) {
  if (!name.empty() && name.back() == '*') name.remove_suffix(1);
  return std::find(kMathEnvs.begin(), kMathEnvs.end(), name) != kMathEnvs.end();
}

// Index of the next `delim` at or after `from` that is not escaped by a backslash, or npos.
size_t find_unescaped(std::string_view s, size_t from, std::string_view delim) {
  for (size_t i = from; i + delim.size() <= s.size(); ++i) {
    if (s[i] == '\\' && delim[0] != '\\') {
      ++i;  // skip the escaped character
      continue;
    }
    if (s.compare(i, delim.size(), delim) == 0) return i;
    if (s[i] == '\\') ++i;  // "\\" inside a span does not start the closing "\)" twice
  }
  return std::string_view::npos;
}

// The closing $ of an inline span opened at `open` (pandoc's rule), or npos. `exhausted` is set when
// the search ran to the end of the text without a closing $.
size_t find_inline_close(std::string_view s, size_t open, bool& exhausted) {
  if (open + 1 >= s.size() || space(s[open + 1])) return std::string_view::npos;
  for (size_t i = open + 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] != '$') continue;
    if (space(s[i - 1])) continue;
    if (i + 1 < s.size() && digit(s[i + 1])) continue;
    return i;
  }
  exhausted = true;
  return std::string_view::npos;
}

// The comparison key of a span's content: no whitespace, \text{...}-like arguments emptied.
std::string span_key(std::string_view c) {
  std::string out;
  out.reserve(c.size());
  for (size_t i = 0; i < c.size();) {
    if (c[i] == '\\' && i + 1 < c.size() && letter(c[i + 1])) {
      size_t j = i + 1;
      while (j < c.size() && letter(c[j])) ++j;
      const std::string_view name = c.substr(i + 1, j - i - 1);
      out.append(c.substr(i, j - i));
      i = j;
      if (std::find(kTextCommands.begin(), kTextCommands.end(), name) == kTextCommands.end()) continue;
      while (i < c.size() && space(c[i])) ++i;
      if (i >= c.size() || c[i] != '{') continue;
      int depth = 0;
      for (; i < c.size(); ++i) {
        if (c[i] == '\\') { ++i; continue; }
        if (c[i] == '{') ++depth;
        else if (c[i] == '}' && --depth == 0) { ++i; break; }
      }
      out += "{}";
      continue;
    }
    if (c[i] == '\\' && i + 1 < c.size()) {  // a control symbol (\{, \\, \,) is kept whole
      if (!space(c[i + 1])) out.append(c.substr(i, 2));
      i += 2;
      continue;
    }
    if (!space(c[i])) out.push_back(c[i]);
    ++i;
  }
  return out;
}

}  // namespace

namespace {

// The text the number reader scans: the NFKC subset (fullwidth digits, no-break spaces), with a
// fullwidth comma or ideographic comma made a comma and a space (a list separator in Chinese, never a
// thousands separator) and the LaTeX separators {,} {.} \, read as , . and space.
std::string number_text(std::string_view text) {
  std::string pre;
  pre.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c != '\xEF' && c != '\xE3' && c != '{' && c != '\\') {
      pre += c;
      ++i;
    } else if (text.compare(i, 3, "\xEF\xBC\x8C") == 0 || text.compare(i, 3, "\xE3\x80\x81") == 0) {  // ， 、
      pre += ", ";
      i += 3;
    } else if ((text.compare(i, 3, "{,}") == 0 || text.compare(i, 3, "{.}") == 0) && i > 0 && digit(text[i - 1])) {
      pre += text[i + 1];
      i += 3;
    } else if (text.compare(i, 2, "\\,") == 0 && i > 0 && digit(text[i - 1])) {
      pre += ' ';
      i += 2;
    } else {
      pre += text[i++];
    }
  }
  return text::nfkc_subset(pre);
}

// "0080" -> "80", "1.500" -> "1.5", "0.0" -> "0".
std::string canonical(std::string int_part, std::string frac) {
  const size_t nz = int_part.find_first_not_of('0');
  int_part = nz == std::string::npos ? "0" : int_part.substr(nz);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return frac.empty() ? int_part : int_part + "." + frac;
}

// value * 10^k, on canonical decimal strings.
std::string shift(const std::string& value, int k) {
  const size_t dot = value.find('.');
  std::string ip = value.substr(0, dot), fp = dot == std::string::npos ? "" : value.substr(dot + 1);
  for (; k > 0; --k) {
    ip += fp.empty() ? '0' : fp.front();
    if (!fp.empty()) fp.erase(0, 1);
  }
  return canonical(ip, fp);
}

bool thousands_lead(const std::string& g) { return !g.empty() && g.size() <= 3 && g[0] != '0'; }

// One run of digit groups joined by single separators: its numbers. `raw` is the run as written.
void read_run(std::string_view raw, const std::vector<std::string>& groups, const std::string& seps, std::vector<Number>& out) {
  // Split at spaces unless they group thousands: parts [first group, last group] of the run.
  std::vector<std::pair<size_t, size_t>> parts;
  for (size_t g = 0; g < groups.size();) {
    size_t end = g;
    // The groups up to the next space form one part.
    while (end < seps.size() && seps[end] != ' ') ++end;
    // A part that is one group of 1-3 digits takes following space-separated groups of exactly 3
    // digits (the last of which may carry a decimal part: "1 234,5").
    if (end == g && thousands_lead(groups[g])) {
      while (end < seps.size() && seps[end] == ' ' && groups[end + 1].size() == 3) {
        size_t next = end + 1;
        if (next < seps.size() && seps[next] != ' ') {
          // "1 234,5": a decimal part after the group; "1 234,567,8" is not thousands.
          if (next + 1 < seps.size() && seps[next + 1] != ' ') break;
          end = next + 1;
          break;
        }
        end = next;
      }
    }
    parts.emplace_back(g, end);
    g = end + 1;
  }
  // Offsets of each group in `raw`, for the written forms.
  std::vector<size_t> at(groups.size());
  for (size_t g = 0, pos = 0; g < groups.size(); ++g) {
    at[g] = pos;
    pos += groups[g].size() + 1;
  }
  auto written = [&](size_t a, size_t b) { return std::string(raw.substr(at[a], at[b] + groups[b].size() - at[a])); };
  for (const auto& [a, b] : parts) {
    if (a == b) {
      out.push_back({groups[a], canonical(groups[a], "")});
      continue;
    }
    // Separators inside the part; the last may be a decimal point different from the others.
    const std::string_view s(seps.data() + a, b - a);
    const char first = s.front(), last = s.back();
    const bool all_same = s.find_first_not_of(first) == std::string_view::npos;
    auto thousands = [&](size_t from, size_t to) {  // groups (from, to] are all 3 digits
      if (!thousands_lead(groups[from])) return false;
      for (size_t g = from + 1; g <= to; ++g)
        if (groups[g].size() != 3) return false;
      return true;
    };
    auto concat = [&](size_t from, size_t to) {
      std::string v;
      for (size_t g = from; g <= to; ++g) v += groups[g];
      return v;
    };
    if (all_same && thousands(a, b)) {  // "80,000", "1.000.000", "1 000"
      out.push_back({written(a, b), canonical(concat(a, b), "")});
      continue;
    }
    if (all_same && s.size() == 1 && first != ' ') {  // "3.5", "3,5"
      out.push_back({written(a, b), canonical(groups[a], groups[b])});
      continue;
    }
    const bool decimal_last = (last == '.' || last == ',') && s.size() >= 2 &&
                              s.substr(0, s.size() - 1).find_first_not_of(first) == std::string_view::npos && first != last;
    if (decimal_last && thousands(a, b - 1)) {  // "1,234.5", "1.234,5", "1 234,5"
      out.push_back({written(a, b), canonical(concat(a, b - 1), groups[b])});
      continue;
    }
    for (size_t g = a; g <= b; ++g) out.push_back({groups[g], canonical(groups[g], "")});  // a list: "1,2,3"
  }
}

}  // namespace

std::vector<Number> numbers(std::string_view text) {
  const std::string t = number_text(text);
  std::vector<Number> out;
  std::vector<std::string> groups;
  std::string seps;
  for (size_t i = 0; i < t.size();) {
    if (!digit(t[i])) {
      ++i;
      continue;
    }
    groups.clear();
    seps.clear();
    size_t j = i;
    while (true) {
      const size_t g = j;
      while (j < t.size() && digit(t[j])) ++j;
      groups.emplace_back(t.substr(g, j - g));
      if (j + 1 < t.size() && (t[j] == '.' || t[j] == ',' || t[j] == ' ') && digit(t[j + 1])) {
        seps += t[j];
        ++j;
        continue;
      }
      break;
    }
    const size_t first = out.size();
    read_run(std::string_view(t).substr(i, j - i), groups, seps, out);
    // 8万 = 80000, 3亿 = 300000000 (the last number of the run; a space may come between).
    size_t k = j;
    while (k < t.size() && t[k] == ' ') ++k;
    const bool wan = t.compare(k, 3, "\xE4\xB8\x87") == 0, yi = t.compare(k, 3, "\xE4\xBA\xBF") == 0;
    if ((wan || yi) && out.size() > first) {
      out.back().value = shift(out.back().value, wan ? 4 : 8);
      out.back().written += t.substr(j, k + 3 - j);
    }
    i = j;
  }
  return out;
}

std::vector<MathSpan> math_spans(std::string_view s) {
  std::vector<MathSpan> out;
  auto add = [&](size_t begin, size_t content_begin, size_t content_end, size_t end) {
    std::string key = span_key(s.substr(content_begin, content_end - content_begin));
    if (!key.empty()) out.push_back({std::string(s.substr(begin, end - begin)), std::move(key)});
  };
  // Once a search for a closing $ has run to the end of the text in vain, every later one would too
  // (it scans a suffix of the same positions, skipping the same escapes): a text full of prices
  // ("$5, $7, ...") is scanned once, not once per $.
  // Likewise for \) and \] ("\(" written many times unclosed).
  bool no_inline_close = false, no_paren_close = false, no_bracket_close = false;
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      const char n = s[i + 1];
      if (n == '(' || n == '[') {
        bool& none = n == '(' ? no_paren_close : no_bracket_close;
        const size_t close = none ? std::string_view::npos : find_unescaped(s, i + 2, n == '(' ? "\\)" : "\\]");
        none = close == std::string_view::npos;
        if (close != std::string_view::npos) {
          add(i, i + 2, close, close + 2);
          i = close + 2;
          continue;
        }
      } else if (s.compare(i, 7, "\\begin{") == 0) {
        const size_t name_end = s.find('}', i + 7);
        if (name_end != std::string_view::npos) {
          const std::string_view name = s.substr(i + 7, name_end - i - 7);
          if (math_env(name)) {
            const std::string end_tag = "\\end{" + std::string(name) + "}";
            const size_t close = s.find(end_tag, name_end + 1);
            if (close != std::string_view::npos) {
              // The key keeps the environment's name: align* and gather are different layouts.
              std::string key = std::string(name) + ":" + span_key(s.substr(name_end + 1, close - name_end - 1));
              out.push_back({std::string(s.substr(i, close + end_tag.size() - i)), std::move(key)});
              i = close + end_tag.size();
              continue;
            }
          }
        }
      }
      i += 2;  // an escaped character (\$, \\) or a command
      continue;
    }
    if (c == '$') {
      if (i + 1 < s.size() && s[i + 1] == '$') {
        const size_t close = find_unescaped(s, i + 2, "$$");
        if (close != std::string_view::npos) {
          add(i, i + 2, close, close + 2);
          i = close + 2;
          continue;
        }
        i += 2;
        continue;
      }
      const size_t close = no_inline_close ? std::string_view::npos : find_inline_close(s, i, no_inline_close);
      if (close != std::string_view::npos) {
        add(i, i + 1, close, close + 1);
        i = close + 1;
        continue;
      }
    }
    ++i;
  }
  return out;
}

namespace {

// Number words per language: "word=value" pairs. Words for 1 are marked by their value; see
// number_words() for why they can be left out.
struct WordList {
  std::string_view lang;
  std::string_view words;
};
constexpr std::array<WordList, 6> kNumberWords = {{
    {"en",
     "zero=0 one=1 first=1 two=2 twice=2 second=2 three=3 thrice=3 third=3 four=4 fourth=4 five=5 fifth=5 six=6 sixth=6 "
     "seven=7 seventh=7 eight=8 eighth=8 nine=9 ninth=9 ten=10 tenth=10 eleven=11 twelve=12 dozen=12 thirteen=13 "
     "fourteen=14 fifteen=15 sixteen=16 seventeen=17 eighteen=18 nineteen=19 twenty=20 thirty=30 forty=40 fifty=50 "
     "sixty=60 seventy=70 eighty=80 ninety=90 hundred=100 thousand=1000 million=1000000 thirds=3 quarter=4 quarters=4 "
     "fourths=4 fifths=5 sixths=6 sevenths=7 eighths=8 ninths=9 tenths=10"},
    {"fr",
     "zéro=0 un=1 une=1 premier=1 première=1 deux=2 deuxième=2 second=2 seconde=2 trois=3 troisième=3 quatre=4 "
     "quatrième=4 cinq=5 cinquième=5 six=6 sixième=6 sept=7 septième=7 huit=8 huitième=8 neuf=9 neuvième=9 dix=10 "
     "dixième=10 onze=11 douze=12 douzaine=12 douzaines=12 treize=13 quatorze=14 quinze=15 seize=16 vingt=20 trente=30 "
     "quarante=40 cinquante=50 soixante=60 cent=100 cents=100 mille=1000 million=1000000 millions=1000000"},
    {"de",
     "null=0 eins=1 ein=1 eine=1 einen=1 einem=1 einer=1 erste=1 ersten=1 erster=1 zwei=2 zweimal=2 zweite=2 zweiten=2 "
     "drei=3 dreimal=3 dritte=3 dritten=3 vier=4 vierte=4 fünf=5 fünfte=5 sechs=6 sieben=7 acht=8 neun=9 zehn=10 elf=11 "
     "zwölf=12 dutzend=12 dreizehn=13 vierzehn=14 fünfzehn=15 sechzehn=16 siebzehn=17 achtzehn=18 neunzehn=19 "
     "zwanzig=20 dreißig=30 vierzig=40 fünfzig=50 sechzig=60 siebzig=70 achtzig=80 neunzig=90 hundert=100 tausend=1000"},
    {"es",
     "cero=0 uno=1 una=1 un=1 primero=1 primera=1 primer=1 dos=2 segundo=2 segunda=2 tres=3 tercero=3 tercera=3 "
     "tercer=3 cuatro=4 cuarto=4 cinco=5 quinto=5 seis=6 siete=7 ocho=8 nueve=9 diez=10 once=11 doce=12 docena=12 "
     "docenas=12 trece=13 catorce=14 quince=15 dieciséis=16 veinte=20 treinta=30 cuarenta=40 cincuenta=50 sesenta=60 "
     "setenta=70 ochenta=80 noventa=90 cien=100 ciento=100 mil=1000"},
    {"it",
     "zero=0 uno=1 una=1 un=1 primo=1 prima=1 due=2 secondo=2 seconda=2 tre=3 terzo=3 terza=3 quattro=4 quarto=4 "
     "cinque=5 quinto=5 sei=6 sette=7 otto=8 nove=9 dieci=10 undici=11 dodici=12 dozzina=12 dozzine=12 tredici=13 "
     "quattordici=14 quindici=15 sedici=16 venti=20 trenta=30 quaranta=40 cinquanta=50 sessanta=60 settanta=70 "
     "ottanta=80 novanta=90 cento=100 mille=1000"},
    {"ru",
     "ноль=0 один=1 одна=1 одно=1 одного=1 одной=1 первый=1 первая=1 два=2 две=2 двух=2 двум=2 двумя=2 дважды=2 "
     "второй=2 вторая=2 второе=2 три=3 трёх=3 трех=3 трём=3 трем=3 тремя=3 трижды=3 третий=3 третья=3 третье=3 "
     "четыре=4 четырёх=4 четырех=4 пять=5 пяти=5 шесть=6 шести=6 семь=7 семи=7 восемь=8 восьми=8 девять=9 девяти=9 "
     "десять=10 десяти=10 одиннадцать=11 двенадцать=12 дюжина=12 дюжины=12 двадцать=20 двадцати=20 тридцать=30 "
     "сорок=40 пятьдесят=50 шестьдесят=60 сто=100 ста=100 тысяча=1000 тысячи=1000 тысяч=1000"},
}};

using WordMap = std::unordered_map<std::string, uint64_t>;

const WordMap* word_map(std::string_view lang) {
  static const std::map<std::string_view, WordMap> maps = [] {
    std::map<std::string_view, WordMap> m;
    for (const auto& l : kNumberWords) {
      WordMap& w = m[l.lang];
      std::string_view s = l.words;
      while (!s.empty()) {
        const size_t end = std::min(s.find(' '), s.size());
        const std::string_view pair = s.substr(0, end);
        const size_t eq = pair.find('=');
        w[std::string(pair.substr(0, eq))] = std::stoull(std::string(pair.substr(eq + 1)));
        s.remove_prefix(std::min(end + 1, s.size()));
      }
    }
    return m;
  }();
  const auto it = maps.find(lang);
  return it == maps.end() ? nullptr : &it->second;
}

// A letter of a word: ASCII letters, Latin-1 and Latin Extended letters, Greek, Cyrillic.
bool word_cp(char32_t c) {
  return (c < 0x80 && letter(static_cast<char>(c))) || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) ||
         (c >= 0x370 && c <= 0x52F);
}

// The value of a Chinese numeral (三十五 = 35, 两百 = 200, 一万二千 = 12000), or -1 for a code point
// that is not part of one.
int chinese_digit(char32_t c) {
  switch (c) {
    case U'零': case U'〇': return 0;
    case U'一': return 1;
    case U'二': case U'两': return 2;
    case U'三': return 3;
    case U'四': return 4;
    case U'五': return 5;
    case U'六': return 6;
    case U'七': return 7;
    case U'八': return 8;
    case U'九': return 9;
    default: return -1;
  }
}
uint64_t chinese_unit(char32_t c) {
  switch (c) {
    case U'十': return 10;
    case U'百': return 100;
    case U'千': return 1000;
    case U'万': return 10000;
    default: return 0;
  }
}

}  // namespace

std::vector<std::string> number_words(std::string_view text, std::string_view lang, bool include_one) {
  std::vector<std::string> out;
  auto add = [&](uint64_t v) {
    if (v != 1 || include_one) out.push_back(std::to_string(v));
  };
  if (lang == "zh") {
    for (size_t i = 0; i < text.size();) {
      uint64_t total = 0, section = 0, num = 0;
      bool any = false;
      size_t j = i;
      while (j < text.size()) {
        const text::Decoded d = text::decode(text, j);
        const int dg = chinese_digit(d.cp);
        const uint64_t unit = chinese_unit(d.cp);
        if (dg < 0 && unit == 0) break;
        any = true;
        if (dg >= 0) num = static_cast<uint64_t>(dg);
        else if (unit == 10000) {
          total += (section + num) * 10000;
          section = num = 0;
        } else {
          section += (num == 0 ? 1 : num) * unit;
          num = 0;
        }
        j += d.len;
      }
      if (any) {
        add(total + section + num);
        i = j;
      } else {
        i += text::decode(text, i).len;
      }
    }
    return out;
  }
  const WordMap* words = word_map(lang);
  if (!words) return out;
  // Words, lowercased; a tens word, a hyphen and a units word make one number ("twenty-five").
  std::vector<std::pair<std::string, bool>> seq;  // word, followed by a hyphen
  std::string w;
  for (size_t i = 0; i <= text.size();) {
    const text::Decoded d = i < text.size() ? text::decode(text, i) : text::Decoded{U' ', 1, true};
    if (i < text.size() && word_cp(d.cp)) {
      char buf[4];
      char* p = buf;
      text::encode(p, text::lower(d.cp));
      w.append(buf, p);
    } else if (!w.empty()) {
      seq.emplace_back(std::move(w), i < text.size() && text[i] == '-');
      w.clear();
    }
    i += d.len;
  }
  for (size_t k = 0; k < seq.size(); ++k) {
    const auto it = words->find(seq[k].first);
    if (it == words->end()) continue;
    uint64_t v = it->second;
    if (seq[k].second && v >= 20 && v <= 90 && v % 10 == 0 && k + 1 < seq.size()) {
      const auto unit = words->find(seq[k + 1].first);
      if (unit != words->end() && unit->second >= 1 && unit->second <= 9) {
        v += unit->second;
        ++k;
      }
    }
    add(v);
  }
  return out;
}

NumberChanges compare_numbers(std::string_view original, std::string_view translation, std::string_view source_lang,
                              std::string_view target_lang) {
  struct Tally {
    int original = 0, translation = 0;
    std::string written_o, written_t;
  };
  std::unordered_map<std::string, Tally> tally;
  std::vector<std::string> order_o, order_t;  // values in order of first appearance
  for (auto& n : numbers(original)) {
    Tally& t = tally[n.value];
    if (t.original++ == 0) {
      t.written_o = std::move(n.written);
      order_o.push_back(n.value);
    }
  }
  for (auto& n : numbers(translation)) {
    Tally& t = tally[n.value];
    if (t.translation++ == 0) {
      t.written_t = std::move(n.written);
      order_t.push_back(n.value);
    }
  }
  // Words excuse a difference: a number the translation writes in words (missing digits), or one the
  // original wrote in words (added digits). Each word excuses one number.
  std::unordered_map<std::string, int> words_t, words_o;
  bool need_t = false, need_o = false;
  for (const auto& [v, t] : tally) (t.original > t.translation ? need_t : need_o) |= t.original != t.translation;
  if (need_t && !target_lang.empty())
    for (auto& v : number_words(translation, target_lang, target_lang == "en")) ++words_t[v];
  if (need_o && !source_lang.empty())
    for (auto& v : number_words(original, source_lang, source_lang == "en")) ++words_o[v];
  auto describe = [](const std::string& written, int here, int there, const char* here_name, const char* there_name) {
    if (here + there <= 1) return written;
    return written + " (" + std::to_string(here) + " in the " + here_name + ", " + std::to_string(there) + " in the " + there_name + ")";
  };
  NumberChanges out;
  for (const auto& v : order_o) {
    const Tally& t = tally[v];
    int deficit = t.original - t.translation;
    if (deficit <= 0) continue;
    auto w = words_t.find(v);
    if (w != words_t.end()) {
      const int used = std::min(deficit, w->second);
      deficit -= used;
      w->second -= used;
    }
    if (deficit > 0) out.missing.push_back(describe(t.written_o, t.original, t.translation, "original", "translation"));
  }
  for (const auto& v : order_t) {
    const Tally& t = tally[v];
    int excess = t.translation - t.original;
    if (excess <= 0) continue;
    auto w = words_o.find(v);
    if (w != words_o.end()) {
      const int used = std::min(excess, w->second);
      excess -= used;
      w->second -= used;
    }
    if (excess > 0) out.added.push_back(describe(t.written_t, t.translation, t.original, "translation", "original"));
  }
  return out;
}

MathChanges compare_math(std::string_view original, std::string_view translation) {
  const std::vector<MathSpan> o = math_spans(original), t = math_spans(translation);
  std::unordered_set<std::string> keys_o, keys_t;
  for (const auto& m : o) keys_o.insert(m.key);
  for (const auto& m : t) keys_t.insert(m.key);
  MathChanges out;
  std::unordered_set<std::string> seen;
  for (const auto& m : o)
    if (!keys_t.count(m.key) && seen.insert(m.key).second) out.missing.push_back(m.raw);
  seen.clear();
  for (const auto& m : t)
    if (!keys_o.count(m.key) && seen.insert(m.key).second) out.added.push_back(m.raw);
  return out;
}

namespace {

// A phrase a model adds. `label`: it must be followed by a colon (after at most a few words for a
// Latin-script label, right after for a CJK one). `then`: a word that must follow within 48 bytes
// ("Here is the ... translation"). `start_only`: only at the very start of the text, followed by
// punctuation ("Sure!").
struct Phrase {
  const char* kind;
  std::string_view text;
  bool label = false;
  std::string_view then = {};
  bool start_only = false;
};

constexpr Phrase kPhrases[] = {
    // Preambles.
    {"preamble", "here is the", false, "translat"}, {"preamble", "here's the", false, "translat"},
    {"preamble", "here is a", false, "translat"}, {"preamble", "below is the", false, "translat"},
    {"preamble", "voici la", false, "tradu"}, {"preamble", "voici le", false, "tradu"}, {"preamble", "voici une", false, "tradu"},
    {"preamble", "hier ist die", false, "übersetz"}, {"preamble", "hier ist eine", false, "übersetz"},
    {"preamble", "nachfolgend", false, "übersetz"}, {"preamble", "以下是", false, "译"}, {"preamble", "下面是", false, "译"},
    {"preamble", "这是", false, "译"}, {"preamble", "aquí está la", false, "traduc"}, {"preamble", "aquí tienes", false, "traduc"},
    {"preamble", "esta es la", false, "traduc"}, {"preamble", "ecco la", false, "tradu"}, {"preamble", "di seguito", false, "tradu"},
    {"preamble", "вот", false, "перев"}, {"preamble", "ниже", false, "перев"},
    {"preamble", "translation", true}, {"preamble", "translated", true}, {"preamble", "traduction", true},
    {"preamble", "texte traduit", true}, {"preamble", "übersetzung", true}, {"preamble", "翻译", true}, {"preamble", "译文", true},
    {"preamble", "traducción", true}, {"preamble", "traduzione", true}, {"preamble", "перевод", true},
    {"preamble", "sure", false, {}, true}, {"preamble", "certainly", false, {}, true}, {"preamble", "of course", false, {}, true},
    {"preamble", "bien sûr", false, {}, true}, {"preamble", "certainement", false, {}, true}, {"preamble", "gerne", false, {}, true},
    {"preamble", "natürlich", false, {}, true}, {"preamble", "claro", false, {}, true}, {"preamble", "por supuesto", false, {}, true},
    {"preamble", "certo", false, {}, true}, {"preamble", "certamente", false, {}, true}, {"preamble", "конечно", false, {}, true},
    {"preamble", "好的", false, {}, true}, {"preamble", "当然", false, {}, true},
    // Answers.
    {"answer", "the final answer is"}, {"answer", "the answer is"}, {"answer", "so the answer is"}, {"answer", "la réponse est"},
    {"answer", "die antwort ist"}, {"answer", "die antwort lautet"}, {"answer", "答案是"}, {"answer", "答案为"},
    {"answer", "la respuesta es"}, {"answer", "la risposta è"}, {"answer", "ответ равен"},
    {"answer", "final answer", true}, {"answer", "answer", true}, {"answer", "solution", true}, {"answer", "réponse", true},
    {"answer", "la réponse", true}, {"answer", "résultat", true}, {"answer", "antwort", true}, {"answer", "die antwort", true},
    {"answer", "lösung", true}, {"answer", "ergebnis", true}, {"answer", "最终答案", true}, {"answer", "答案", true},
    {"answer", "解答", true}, {"answer", "答", true}, {"answer", "解", true}, {"answer", "respuesta", true},
    {"answer", "la respuesta", true}, {"answer", "solución", true}, {"answer", "resultado", true}, {"answer", "risposta", true},
    {"answer", "la risposta", true}, {"answer", "soluzione", true}, {"answer", "risultato", true}, {"answer", "ответ", true},
    {"answer", "решение", true}, {"answer", "результат", true},
    // Notes.
    {"note", "translator's note"}, {"note", "note du traducteur"}, {"note", "anmerkung des übersetzers"}, {"note", "译者注"},
    {"note", "nota del traductor"}, {"note", "nota del traduttore"}, {"note", "примечание переводчика"},
    {"note", "translated from"}, {"note", "traduit de"}, {"note", "übersetzt aus"}, {"note", "traducido del"},
    {"note", "tradotto dall"}, {"note", "переведено с"},
    // "Note that ..." in an original may become "Nota: ..." in a faithful translation: counted as notes too.
    {"note", "note that"}, {"note", "notice that"}, {"note", "notez que"}, {"note", "remarquez que"}, {"note", "beachte"},
    {"note", "beachten sie"}, {"note", "ten en cuenta"}, {"note", "tenga en cuenta"}, {"note", "nótese"}, {"note", "si noti che"},
    {"note", "nota che"}, {"note", "заметим"}, {"note", "обратите внимание"}, {"note", "请注意"}, {"note", "注意"},
    {"note", "note", true}, {"note", "nb", true}, {"note", "n.b.", true}, {"note", "remarque", true}, {"note", "hinweis", true},
    {"note", "anmerkung", true}, {"note", "注意", true}, {"note", "备注", true}, {"note", "注", true}, {"note", "nota", true},
    {"note", "примечание", true}, {"note", "замечание", true},
    // Closings.
    {"closing", "i hope this helps"}, {"closing", "hope this helps"}, {"closing", "let me know"}, {"closing", "feel free"},
    {"closing", "j'espère que"}, {"closing", "n'hésitez pas"}, {"closing", "ich hoffe"}, {"closing", "lass mich wissen"},
    {"closing", "lassen sie mich wissen"}, {"closing", "espero que"}, {"closing", "no dudes"}, {"closing", "spero che"},
    {"closing", "fammi sapere"}, {"closing", "надеюсь"}, {"closing", "希望这"},
};

bool is_cjk_or_punct(char32_t c) { return (c >= 0x2E80 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFF00 && c <= 0xFFEF); }

// Whether `s` (lowercased) continues a word at `i`: an ASCII letter or digit, or a letter of another
// alphabet (not CJK, not punctuation).
bool word_continues(std::string_view s, size_t i) {
  if (i >= s.size()) return false;
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return letter(s[i]) || digit(s[i]);
  const text::Decoded d = text::decode(s, i);
  return d.ok && !is_cjk_or_punct(d.cp) && !(d.cp >= 0x2000 && d.cp <= 0x206F);
}

// The lowercased text from `i`, at most `n` bytes, cut at a code point; ’ becomes '.
std::string window(std::string_view s, size_t i, size_t n) {
  size_t end = std::min(s.size(), i + n);
  while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  std::string w = text::lowercase(s.substr(i, end - i));
  for (size_t p; (p = w.find("\xE2\x80\x99")) != std::string::npos;) w.replace(p, 3, "'");
  return w;
}

// A colon right after `i` (spaces and Markdown emphasis between), or, for a Latin label, after a few
// words on the same sentence.
bool colon_follows(std::string_view w, size_t i, bool cjk) {
  for (size_t k = i; k < w.size() && k <= i + 24; ++k) {
    const char c = w[k];
    if (c == ':' || w.compare(k, 3, "\xEF\xBC\x9A") == 0) return true;
    if (c == ' ' || c == '*' || c == '_') continue;
    if (cjk || c == '.' || c == '?' || c == '!' || c == '\n' || c == '$' || digit(c) || w.compare(k, 3, "\xE3\x80\x82") == 0) return false;
  }
  return false;
}

struct Found {
  const char* kind;
  size_t at;
};

// kPhrases by their first byte, in table order.
const std::array<std::vector<const Phrase*>, 256>& phrases_by_lead() {
  static const std::array<std::vector<const Phrase*>, 256> index = [] {
    std::array<std::vector<const Phrase*>, 256> a;
    for (const Phrase& p : kPhrases) a[static_cast<unsigned char>(p.text[0])].push_back(&p);
    return a;
  }();
  return index;
}

// Every phrase of kPhrases at a sentence start of `s`.
std::vector<Found> find_phrases(std::string_view s) {
  std::vector<Found> out;
  // Sentence starts: the text's start, after a newline, after . ? ! and a space, after 。？！.
  std::vector<size_t> starts = {0};
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') starts.push_back(i + 1);
    else if ((s[i] == '.' || s[i] == '?' || s[i] == '!') && i + 1 < s.size() && (s[i + 1] == ' ' || s[i + 1] == '\t')) starts.push_back(i + 2);
    else if ((s[i] == '\xE3' || s[i] == '\xEF') &&
             (s.compare(i, 3, "\xE3\x80\x82") == 0 || s.compare(i, 3, "\xEF\xBC\x9F") == 0 || s.compare(i, 3, "\xEF\xBC\x81") == 0))
      starts.push_back(i + 3);
  }
  for (const size_t start : starts) {
    // Skip spaces and Markdown marks, opening brackets and quotes.
    size_t i = start;
    while (i < s.size()) {
      const char c = s[i];
      if (c == ' ' || c == '\t' || c == '*' || c == '_' || c == '#' || c == '>' || c == '-' || c == '(' || c == '[' || c == '"') { ++i; continue; }
      if (s.compare(i, 2, "\xC2\xAB") == 0) { i += 2; continue; }                                       // «
      if (s.compare(i, 3, "\xE2\x80\x9C") == 0 || s.compare(i, 3, "\xE2\x80\x9E") == 0 ||                // “ „
          s.compare(i, 3, "\xE3\x80\x8C") == 0 || s.compare(i, 3, "\xE3\x80\x90") == 0 ||                // 「 【
          s.compare(i, 3, "\xEF\xBC\x88") == 0) { i += 3; continue; }                                    // （
      break;
    }
    if (i >= s.size() || s[i] == '\n') continue;
    const std::string w = window(s, i, 96);
    for (const Phrase* pp : phrases_by_lead()[static_cast<unsigned char>(w[0])]) {
      const Phrase& p = *pp;
      if (w.compare(0, p.text.size(), p.text) != 0) continue;
      if (p.start_only && start != 0) continue;
      const bool cjk = static_cast<unsigned char>(p.text[0]) >= 0xE3;
      if (!cjk && word_continues(w, p.text.size())) continue;
      if (p.label && !colon_follows(w, p.text.size(), cjk)) continue;
      if (!p.then.empty() && w.substr(p.text.size(), 48).find(p.then) == std::string::npos) continue;
      if (p.start_only) {  // "Sure!", "Claro,": a word on its own, then punctuation
        size_t k = p.text.size();
        while (k < w.size() && w[k] == ' ') ++k;
        if (k >= w.size() || !(w[k] == ',' || w[k] == '!' || w[k] == '.' || w[k] == ':' || w.compare(k, 3, "\xEF\xBC\x8C") == 0 ||
                               w.compare(k, 3, "\xEF\xBC\x81") == 0 || w.compare(k, 3, "\xE3\x80\x82") == 0))
          continue;
      }
      out.push_back({p.kind, i});
      break;
    }
  }
  return out;
}

// The line from `i`, at most 60 bytes (cut at a code point), trimmed.
std::string excerpt(std::string_view s, size_t i) {
  size_t end = std::min({s.size(), s.find('\n', i), i + 60});
  while (end < s.size() && end > i && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  std::string e(s.substr(i, end - i));
  while (!e.empty() && space(e.back())) e.pop_back();
  return end < s.size() && s[end] != '\n' ? e + "..." : e;
}

size_t count_of(std::string_view s, std::string_view what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string_view::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

// The prose words of a text, lowercased: math spans, [asy] figures and code blocks removed (they stay
// untranslated in a faithful translation).
std::vector<std::string> prose_words(std::string_view text) {
  std::string t(text);
  for (const auto& [open, close] : {std::pair<std::string_view, std::string_view>{"[asy]", "[/asy]"}, {"```", "```"}})
    for (size_t a; (a = t.find(open)) != std::string::npos;) {
      const size_t b = t.find(close, a + open.size());
      t.erase(a, b == std::string::npos ? std::string::npos : b + close.size() - a);
    }
  for (const auto& m : math_spans(std::string(t)))
    for (size_t a; (a = t.find(m.raw)) != std::string::npos;) t.replace(a, m.raw.size(), " ");
  std::vector<std::string> out;
  std::string w;
  for (size_t i = 0; i <= t.size();) {
    const text::Decoded d = i < t.size() ? text::decode(t, i) : text::Decoded{U' ', 1, true};
    if (i < t.size() && word_cp(d.cp)) {
      char buf[4];
      char* p = buf;
      text::encode(p, text::lower(d.cp));
      w.append(buf, p);
    } else if (!w.empty()) {
      out.push_back(std::move(w));
      w.clear();
    }
    i += d.len;
  }
  return out;
}

constexpr size_t kEchoGram = 5;        // words per n-gram of the echo test
constexpr size_t kEchoMinGrams = 6;    // fewest n-grams in the original's prose for the test to run
constexpr double kEchoShare = 0.6;     // share of the original's n-grams found in the translation

// When the translation holds the original's prose (the model echoed the text it was given): the first
// shared n-gram and the counts; else empty.
std::string echoed_original(std::string_view original, std::string_view translation) {
  const std::vector<std::string> o = prose_words(original);
  if (o.size() < kEchoGram + kEchoMinGrams - 1) return {};
  const std::vector<std::string> t = prose_words(translation);
  // N-grams as hashes of their words' hashes (a collision could only add a shared n-gram).
  auto hashes = [](const std::vector<std::string>& w) {
    std::vector<uint64_t> h(w.size());
    for (size_t i = 0; i < w.size(); ++i) h[i] = std::hash<std::string>{}(w[i]);
    return h;
  };
  auto gram = [](const std::vector<uint64_t>& h, size_t i) {
    uint64_t g = 0;
    for (size_t k = 0; k < kEchoGram; ++k) g = (g ^ h[i + k]) * 0x100000001B3ULL + 0x9E3779B97F4A7C15ULL;
    return g;
  };
  const std::vector<uint64_t> ho = hashes(o), ht = hashes(t);
  std::unordered_set<uint64_t> in_translation;
  for (size_t i = 0; i + kEchoGram <= t.size(); ++i) in_translation.insert(gram(ht, i));
  size_t shared = 0, first = 0;
  const size_t grams = o.size() - kEchoGram + 1;
  for (size_t i = 0; i < grams; ++i)
    if (in_translation.count(gram(ho, i)) && shared++ == 0) first = i;
  if (static_cast<double>(shared) < kEchoShare * static_cast<double>(grams)) return {};
  std::string words = o[first];
  for (size_t k = 1; k < kEchoGram; ++k) words += " " + o[first + k];
  return "\"" + words + " ...\" (" + std::to_string(shared) + " of the original's " + std::to_string(grams) + " word " +
         std::to_string(kEchoGram) + "-grams)";
}

}  // namespace

std::vector<Addition> added_content(std::string_view original, std::string_view translation) {
  std::map<std::string_view, size_t> in_original;
  for (const Found& f : find_phrases(original)) ++in_original[f.kind];
  std::map<std::string_view, std::vector<size_t>> in_translation;
  for (const Found& f : find_phrases(translation)) {
    std::vector<size_t>& at = in_translation[f.kind];
    // One per line: "Sure! Here is the translation:" is one preamble.
    if (!at.empty() && translation.substr(at.back(), f.at - at.back()).find('\n') == std::string_view::npos) continue;
    at.push_back(f.at);
  }
  std::vector<std::pair<size_t, Addition>> found;  // position in the translation, addition
  for (const auto& [kind, at] : in_translation) {
    const size_t have = in_original[kind];
    if (at.size() <= have) continue;
    // The extra ones: a preamble's are the first, the others' the last.
    const size_t from = kind == "preamble" ? 0 : have, to = kind == "preamble" ? at.size() - have : at.size();
    for (size_t k = from; k < to; ++k) found.push_back({at[k], {std::string(kind), excerpt(translation, at[k])}});
  }
  // A \boxed{} answer, a code fence: counted.
  for (const auto& [kind, mark] : {std::pair<const char*, std::string_view>{"answer", "\\boxed"}, {"code fence", "```"}}) {
    if (count_of(translation, mark) <= count_of(original, mark)) continue;
    const size_t at = translation.find(mark);
    found.push_back({at, {kind, excerpt(translation, at)}});
  }
  if (std::string echo = echoed_original(original, translation); !echo.empty()) found.push_back({translation.size(), {"original text", std::move(echo)}});
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Addition> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

size_t code_points(std::string_view text) {
  size_t n = 0;
  for (const unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace tamis::translate
