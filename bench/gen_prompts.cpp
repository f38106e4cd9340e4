// gen_prompts: deterministic generator of realistic math-prompt JSONL for the tamis benchmarks.
//
//   gen_prompts --records N [--seed S] --out FILE      (FILE "-" writes to stdout)
//
// Same arguments give a byte-identical file: the only source of randomness is a xoshiro256** generator
// seeded through splitmix64, there is no iteration over hashed containers, and numbers are formatted
// with std::to_chars (locale-independent).
//
// What a record looks like (key order and JSON style depend on the record's source, as in real pools
// assembled from several crawls):
//   {"id":"gen-000000123","source":"numina_synth","problem":"...","answer":"42","solution":"...",
//    "level":3,"meta":{"difficulty":1.50,"pass_rate":2e-3,"verified":true,"lang":"en","tags":[...]}}
//
// Contents, per record:
//   - problem: English word problems and LaTeX exercises (~86%), French, German, Spanish, Chinese and
//     Russian (~3% each, Russian ~2%); short exercises (~60 chars), ~0.1% under 20 chars, ~0.6% long
//     multi-part problems (1.5-6 KB, about half over 4000 chars).
//   - answer: short; ~1.5% empty string, ~1% key missing.
//   - solution: steps ending in \boxed{...}; ~20% missing.
//   - duplicates: ~5% exact copies of an earlier problem (new id, maybe another source and therefore
//     other escaping), ~5% near duplicates (a number, a word or whitespace changed).
//   - escaping: raw UTF-8, \uXXXX escapes (Python ensure_ascii style, lower or upper hex, surrogate
//     pairs for emoji), "\/" escapes, \n \t \r \" \\ \f.
// Every line is valid JSON and valid UTF-8.

#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ------------------------------------------------------------------------------------------------
// Random numbers
// ------------------------------------------------------------------------------------------------

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256** (Blackman and Vigna), seeded from splitmix64 as its authors recommend.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& word : state_) word = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, n). The modulo bias (< n / 2^64) is irrelevant here; determinism is what matters.
  std::uint64_t below(std::uint64_t n) { return next() % n; }

  // Uniform in [lo, hi], both inclusive.
  long range(long lo, long hi) { return lo + static_cast<long>(below(static_cast<std::uint64_t>(hi - lo) + 1)); }

  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  bool chance(double p) { return unit() < p; }

  template <class T>
  const T& pick(std::span<const T> items) {
    return items[below(items.size())];
  }

  template <class T, std::size_t N>
  const T& pick(const T (&items)[N]) {
    return items[below(N)];
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> state_{};
};

// ------------------------------------------------------------------------------------------------
// Small text helpers
// ------------------------------------------------------------------------------------------------

std::string num(long v) {
  return std::to_string(v);
}

// "+ 5" / "- 5" for writing "3x + 5" and "3x - 5".
std::string signed_term(long v) {
  return v < 0 ? "- " + num(-v) : "+ " + num(v);
}

// A reduced fraction as LaTeX: "\frac{3}{4}", "-\frac{1}{2}" or an integer.
std::string frac_tex(long n, long d) {
  if (d < 0) {
    n = -n;
    d = -d;
  }
  const long g = std::gcd(n < 0 ? -n : n, d);
  if (g > 1) {
    n /= g;
    d /= g;
  }
  if (d == 1) return num(n);
  if (n < 0) return "-\\frac{" + num(-n) + "}{" + num(d) + "}";
  return "\\frac{" + num(n) + "}{" + num(d) + "}";
}

// k * sqrt(m) with m square-free, for sqrt(n).
std::string radical_tex(long n) {
  long k = 1;
  long m = n;
  for (long f = 2; f * f <= m; ++f) {
    while (m % (f * f) == 0) {
      m /= f * f;
      k *= f;
    }
  }
  if (m == 1) return num(k);
  return (k == 1 ? "" : num(k)) + "\\sqrt{" + num(m) + "}";
}

long binomial(long n, long k) {
  long r = 1;
  for (long i = 1; i <= k; ++i) r = r * (n - k + i) / i;  // exact: r is C(n - k + i, i) after each step
  return r;
}

// Replaces every occurrence of `from` in `text` by `to`.
void replace_all(std::string& text, std::string_view from, std::string_view to) {
  std::size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
}

// ------------------------------------------------------------------------------------------------
// Word problems: one formula, many phrasings in six languages
// ------------------------------------------------------------------------------------------------

enum class Formula { add_sub, mul_add, share, rect_area, rect_perim, speed, change, percent, age, savings };

// Values a template refers to: @N @M (names), @I (item, plural), @P (place), @A @B @C (drawn numbers),
// @T @U @S (derived numbers) and @R (the result).
struct Slots {
  std::string_view name, name2, item, place;
  long a = 0, b = 0, c = 0, t = 0, u = 0, s = 0, r = 0;
};

Slots draw_numbers(Formula formula, Rng& rng) {
  Slots s;
  switch (formula) {
    case Formula::add_sub:
      s.a = rng.range(5, 240);
      s.b = rng.range(2, 150);
      s.u = s.a + s.b;
      s.c = rng.range(1, s.u - 1);
      s.r = s.u - s.c;
      break;
    case Formula::mul_add:
      s.a = rng.range(2, 40);
      s.b = rng.range(2, 36);
      s.c = rng.range(1, s.b - 1 > 1 ? s.b - 1 : 1);
      s.t = s.a * s.b;
      s.r = s.t + s.c;
      break;
    case Formula::share:
      s.a = rng.range(3, 120);
      s.b = rng.range(2, 25);
      s.t = s.a * s.b;
      s.r = s.a;
      break;
    case Formula::rect_area:
      s.a = rng.range(3, 250);
      s.b = rng.range(2, 180);
      s.r = s.a * s.b;
      break;
    case Formula::rect_perim:
      s.a = rng.range(3, 400);
      s.b = rng.range(2, 300);
      s.u = s.a + s.b;
      s.r = 2 * s.u;
      break;
    case Formula::speed:
      s.a = rng.range(25, 160);
      s.b = rng.range(2, 15);
      s.r = s.a * s.b;
      break;
    case Formula::change: {
      s.a = rng.range(2, 9);
      s.b = rng.range(2, 15);
      s.t = s.a * s.b;
      const long bills[] = {20, 50, 100, 200};
      for (long bill : bills) {
        if (bill > s.t) {
          s.s = bill;
          break;
        }
      }
      s.r = s.s - s.t;
      break;
    }
    case Formula::percent: {
      const long percents[] = {5, 10, 15, 20, 25, 30, 40, 45, 50, 60, 75, 80};
      s.a = rng.pick(percents);
      s.b = 20 * rng.range(1, 100);
      s.r = s.b * s.a / 100;
      break;
    }
    case Formula::age:
      s.a = rng.range(5, 45);
      s.b = rng.range(2, 30);
      s.c = rng.range(2, 25);
      s.u = s.a + s.b;
      s.r = s.u + s.c;
      break;
    case Formula::savings:
      s.a = rng.range(5, 80);
      s.b = rng.range(3, 26);
      s.t = s.a * s.b;
      s.c = rng.range(1, s.t - 1);
      s.r = s.t - s.c;
      break;
  }
  return s;
}

// The computation as it appears in a solution, language-independent.
std::string_view formula_steps(Formula formula) {
  switch (formula) {
    case Formula::add_sub:
      return "$@A + @B = @U$, and then $@U - @C = @R$.";
    case Formula::mul_add:
      return "$@A \\times @B = @T$\n$@T + @C = @R$";
    case Formula::share:
      return "$$@T \\div @B = @R$$";
    case Formula::rect_area:
      return "$$A = @A \\times @B = @R$$";
    case Formula::rect_perim:
      return "$$P = 2(@A + @B) = 2 \\cdot @U = @R$$";
    case Formula::speed:
      return "$$d = v \\cdot t = @A \\cdot @B = @R$$";
    case Formula::change:
      return "$@A \\times @B = @T$\n$@S - @T = @R$";
    case Formula::percent:
      return "$$\\frac{@A}{100} \\times @B = @R$$";
    case Formula::age:
      return "$@A + @B = @U$\n$@U + @C = @R$";
    case Formula::savings:
      return "\\begin{align*}\n@A \\times @B &= @T \\\\\n@T - @C &= @R\n\\end{align*}";
  }
  return "";
}

struct WordTemplate {
  Formula formula;
  std::string_view text;
};

// Everything language-specific the generator needs.
struct Lang {
  std::string_view code;
  std::span<const std::string_view> names;
  std::span<const std::string_view> items;
  std::span<const std::string_view> places;
  std::span<const WordTemplate> templates;
  std::span<const std::string_view> verbs;  // "Compute", for exercises that are a formula only
  std::span<const std::string_view> openers;
  std::span<const std::string_view> fillers;
  std::span<const std::string_view> answer_lines;  // contain @R
  std::string_view full_stop;
};

// --- English ---
constexpr std::string_view kNamesEn[] = {"Alice",  "Ben",   "Carla", "David", "Emma", "Farid",  "Grace",  "Hiro",
                                         "Isabel", "Jamal", "Kate",  "Liam",  "Maya", "Noah",   "Olivia", "Priya",
                                         "Quinn",  "Rosa",  "Sam",   "Tariq", "Uma",  "Victor", "Wen",    "Zoe"};
constexpr std::string_view kItemsEn[] = {"apples",    "marbles", "pencils", "stickers",      "cookies",   "books",
                                         "cupcakes",  "oranges", "stamps",  "trading cards", "seashells", "balloons",
                                         "notebooks", "muffins", "crayons", "tennis balls"};
constexpr std::string_view kPlacesEn[] = {"market",     "bakery",        "school fair", "bookstore",
                                          "farm stand", "grocery store", "toy shop",    "garage sale"};
constexpr WordTemplate kTemplatesEn[] = {
    {Formula::add_sub,
     "@N has @A @I. @N buys @B more @I at the @P and then gives @C @I to @M. How many @I does @N have now?"},
    {Formula::add_sub,
     "There were @A @I in a box. @N added @B more, and later @M took @C out. How many @I are in the box now?"},
    {Formula::add_sub,
     "A @P had @A @I in stock on Monday. On Tuesday a delivery brought @B more, and during the day @C were "
     "sold. How many @I were left at closing time?"},
    {Formula::mul_add,
     "@N packs @I into bags. Each bag holds @B @I, and @N fills @A bags. There are @C @I left over that do "
     "not fit in any bag. How many @I did @N have at the start?"},
    {Formula::mul_add,
     "A school orders @A boxes of @I with @B @I in each box, plus @C loose @I. How many @I does the school "
     "receive in total?"},
    {Formula::share,
     "@N has @T @I and wants to share them equally among @B friends. How many @I does each friend get?"},
    {Formula::share, "@N, a teacher, divides @T @I evenly into @B groups. How many @I are in each group?"},
    {Formula::rect_area,
     "@N's rectangular garden is @A meters long and @B meters wide. What is the area of the garden in square "
     "meters?"},
    {Formula::rect_area,
     "@N is tiling a floor that measures @A feet by @B feet. How many square feet of tile "
     "are needed to cover the floor?"},
    {Formula::rect_perim,
     "A rectangular field is @A meters long and @B meters wide. @N wants to build a fence around the whole "
     "field. How many meters of fencing are needed?"},
    {Formula::speed,
     "@N takes a train that travels at a constant speed of @A kilometers per hour. How far does "
     "the train travel in @B hours?"},
    {Formula::speed,
     "@N drives for @B hours at an average speed of @A miles per hour. How many miles does @N "
     "drive?"},
    {Formula::change,
     "@N buys @A @I at the @P for $@B each and pays with a $@S bill. How much change, in "
     "dollars, should @N receive?"},
    {Formula::percent, "The @P has @B @I for sale. If @A% of them are sold on Saturday, how many @I were sold?"},
    {Formula::percent,
     "@N answered @A% of the @B questions on a test correctly. How many questions did @N "
     "answer correctly?"},
    {Formula::age, "@N is @A years old. @M is @B years older than @N. How old will @M be in @C years?"},
    {Formula::savings,
     "@N saves $@A every week for @B weeks, then spends $@C on a new bike. How much money "
     "does @N have left?"},
};
constexpr std::string_view kVerbsEn[] = {"Compute", "Evaluate", "Find", "Calculate", "What is"};
constexpr std::string_view kOpenersEn[] = {"We solve this step by step.", "Let's work through the problem carefully.",
                                           "First, we identify what is being asked.",
                                           "We set up the computation directly.",
                                           "Let us restate the given information before computing anything."};
constexpr std::string_view kFillersEn[] = {
    "Notice that every quantity here is a positive integer, so no rounding is needed.",
    "It helps to write down each intermediate result before moving on.",
    "We can double-check by substituting the value back into the original statement.",
    "Recall that $a \\cdot b = b \\cdot a$, so the order of the factors does not matter.",
    "Keeping track of the units avoids a common mistake here.",
    "This is a direct application of the definition.",
    "An alternative approach gives the same result, which is reassuring.",
    "Note that the \"obvious\" shortcut of adding everything at once would double count.",
    "Drawing a quick sketch makes the relationship between the quantities clear.",
    "Since the problem asks for an exact value, we keep fractions instead of decimals.",
};
constexpr std::string_view kAnswerLinesEn[] = {"Therefore, the answer is $\\boxed{@R}$.",
                                               "So the final answer is \\boxed{@R}.", "**Answer:** $\\boxed{@R}$",
                                               "Hence the result is $\\boxed{@R}$."};

// --- French (non-breaking space before "?" as French typography wants) ---
constexpr std::string_view kNamesFr[] = {"Léa",   "Hugo",   "Chloé",  "Théo", "Zoé",    "Benoît",
                                         "Anaïs", "Jérôme", "Hélène", "Loïc", "Maëlle", "François"};
constexpr std::string_view kItemsFr[] = {"pommes", "billes", "crayons", "livres", "gâteaux", "œufs", "bonbons"};
constexpr std::string_view kPlacesFr[] = {"marché", "supermarché", "salon du livre"};
constexpr WordTemplate kTemplatesFr[] = {
    {Formula::add_sub,
     "@N a @A @I. @N en achète @B de plus au @P, puis en donne @C à @M. Combien de @I "
     "@N a-t-il maintenant\u00a0?"},
    {Formula::share,
     "@N possède @T @I et veut les partager équitablement entre @B amis. Combien de @I chaque "
     "ami reçoit-il\u00a0?"},
    {Formula::speed,
     "@N prend un train qui roule à une vitesse constante de @A km/h. Quelle distance le train "
     "parcourt-il en @B heures\u00a0?"},
    {Formula::rect_area,
     "Le jardin rectangulaire de @N mesure @A mètres de long et @B mètres de large. Quelle "
     "est son aire en mètres carrés\u00a0?"},
    {Formula::percent,
     "@N a @B @I à vendre au @P. Si @A\u00a0% d'entre eux sont vendus samedi, combien de @I "
     "ont été vendus\u00a0?"},
    {Formula::savings,
     "@N économise @A\u00a0€ par semaine pendant @B semaines, puis dépense @C\u00a0€ pour un "
     "vélo. Combien d'argent lui reste-t-il\u00a0?"},
};
constexpr std::string_view kVerbsFr[] = {"Calculer", "Calculez", "Déterminer la valeur de"};
constexpr std::string_view kOpenersFr[] = {"Résolvons le problème étape par étape.",
                                           "Commençons par traduire l'énoncé en calcul."};
constexpr std::string_view kFillersFr[] = {
    "On vérifie que le résultat est cohérent avec l'énoncé.", "Il suffit d'appliquer la définition.",
    "Remarquons que toutes les quantités sont des entiers positifs.", "L'ordre des opérations est ici très important."};
constexpr std::string_view kAnswerLinesFr[] = {"Donc la réponse est $\\boxed{@R}$.",
                                               "La réponse finale est \\boxed{@R}."};

// --- German ---
constexpr std::string_view kNamesDe[] = {"Jürgen",  "Sören", "Lena", "Björn", "Käthe", "Max",
                                         "Günther", "Jörg",  "Anna", "Felix", "Lukas", "Mia"};
constexpr std::string_view kItemsDe[] = {"Äpfel", "Murmeln", "Bleistifte", "Bücher", "Brötchen", "Eier"};
constexpr std::string_view kPlacesDe[] = {"Supermarkt", "Laden", "Bioladen"};
constexpr WordTemplate kTemplatesDe[] = {
    {Formula::add_sub,
     "@N hat @A @I. @N kauft im @P noch @B @I dazu und gibt dann @C @I an @M ab. Wie viele "
     "@I hat @N jetzt?"},
    {Formula::share,
     "@N hat @T @I und möchte sie gleichmäßig an @B Freunde verteilen. Wie viele @I bekommt "
     "jeder Freund?"},
    {Formula::speed,
     "@N fährt mit einem Zug, der eine konstante Geschwindigkeit von @A km/h hat. Welche "
     "Strecke legt der Zug in @B Stunden zurück?"},
    {Formula::rect_area,
     "Der rechteckige Garten von @N ist @A Meter lang und @B Meter breit. Wie groß ist die "
     "Fläche des Gartens in Quadratmetern?"},
    {Formula::savings,
     "@N spart @B Wochen lang jede Woche @A Euro und gibt dann @C Euro für ein Fahrrad aus. "
     "Wie viel Geld bleibt übrig?"},
    {Formula::rect_perim,
     "Das rechteckige Grundstück von @N ist @A m lang und @B m breit. Wie viele Meter "
     "Zaun braucht @N, um es ganz einzuzäunen?"},
};
constexpr std::string_view kVerbsDe[] = {"Berechne", "Berechnen Sie", "Bestimme"};
constexpr std::string_view kOpenersDe[] = {"Wir lösen die Aufgabe Schritt für Schritt.",
                                           "Zuerst übersetzen wir den Text in eine Rechnung."};
constexpr std::string_view kFillersDe[] = {"Man überprüft das Ergebnis, indem man es in die Aufgabenstellung einsetzt.",
                                           "Alle Größen sind positive ganze Zahlen.",
                                           "Hier ist die Reihenfolge der Rechenschritte wichtig.",
                                           "Die Einheiten müssen dabei übereinstimmen."};
constexpr std::string_view kAnswerLinesDe[] = {"Also lautet die Antwort $\\boxed{@R}$.", "Ergebnis: \\boxed{@R}."};

// --- Spanish ---
constexpr std::string_view kNamesEs[] = {"José",  "María",  "Sofía", "Martín", "Lucía",  "Andrés",
                                         "Iñaki", "Begoña", "Raúl",  "Inés",   "Álvaro", "Nuria"};
constexpr std::string_view kItemsEs[] = {"lápices", "libros", "caramelos", "huevos", "pasteles", "cuadernos"};
constexpr std::string_view kPlacesEs[] = {"mercado", "supermercado", "quiosco"};
constexpr WordTemplate kTemplatesEs[] = {
    {Formula::add_sub,
     "@N tiene @A @I. Compra @B @I más en el @P y luego le da @C a @M. ¿Cuántos @I tiene @N "
     "ahora?"},
    {Formula::share,
     "@N tiene @T @I y quiere repartirlos en partes iguales entre @B amigos. ¿Cuántos @I recibe "
     "cada amigo?"},
    {Formula::speed,
     "@N viaja en un tren que va a una velocidad constante de @A km/h. ¿Qué distancia recorre "
     "el tren en @B horas?"},
    {Formula::rect_area,
     "El jardín rectangular de @N mide @A metros de largo y @B metros de ancho. ¿Cuál es su "
     "área en metros cuadrados?"},
    {Formula::percent,
     "La tienda de @N tiene @B @I. Si el sábado se vende el @A\u00a0% de ellos, ¿cuántos @I "
     "se vendieron?"},
    {Formula::age, "@N tiene @A años. @M tiene @B años más que @N. ¿Cuántos años tendrá @M dentro de @C años?"},
};
constexpr std::string_view kVerbsEs[] = {"Calcula", "Calcule", "Halla el valor de"};
constexpr std::string_view kOpenersEs[] = {"Resolvamos el problema paso a paso.",
                                           "Primero traducimos el enunciado a una operación."};
constexpr std::string_view kFillersEs[] = {"Comprobamos el resultado sustituyéndolo en el enunciado.",
                                           "Todas las cantidades son números enteros positivos.",
                                           "Aquí el orden de las operaciones es importante."};
constexpr std::string_view kAnswerLinesEs[] = {"Por lo tanto, la respuesta es $\\boxed{@R}$.",
                                               "¡La respuesta final es \\boxed{@R}!"};

// --- Chinese (items carry their measure word: 个苹果, 支铅笔) ---
constexpr std::string_view kNamesZh[] = {"小明", "小红", "李华", "王芳", "张伟", "刘洋",
                                         "陈静", "赵磊", "孙丽", "周杰", "吴敏", "郑浩"};
constexpr std::string_view kItemsZh[] = {"个苹果", "支铅笔", "本书", "颗糖", "个鸡蛋", "张邮票"};
constexpr std::string_view kPlacesZh[] = {"超市", "商店", "书店"};
constexpr WordTemplate kTemplatesZh[] = {
    {Formula::add_sub, "@N有@A@I，在@P又买了@B@I，然后送给@M@C@I。@N现在有多少@I？"},
    {Formula::share, "@N有@T@I，要平均分给@B个朋友，每个朋友能分到多少@I？"},
    {Formula::speed, "@N乘坐的火车以每小时@A千米的速度匀速行驶，@B小时行驶多少千米？"},
    {Formula::rect_area, "@N家的长方形花园长@A米，宽@B米。这个花园的面积是多少平方米？"},
    {Formula::percent, "@N的商店里有@B@I，星期六卖出了其中的@A%，卖出了多少@I？"},
    {Formula::rect_perim, "@N家有一块长方形菜地，长@A米，宽@B米。围这块菜地一周的篱笆长多少米？"},
};
constexpr std::string_view kVerbsZh[] = {"计算", "求", "求值："};
constexpr std::string_view kOpenersZh[] = {"我们一步一步地解这道题。", "先把题目中的数量关系列出来。"};
constexpr std::string_view kFillersZh[] = {"所有的量都是正整数，所以不需要四舍五入。",
                                           "把结果代回原题可以验证答案是正确的。", "注意单位要统一。"};
constexpr std::string_view kAnswerLinesZh[] = {"所以答案是 $\\boxed{@R}$。", "答：\\boxed{@R}。"};

// --- Russian (names only in the nominative, to keep the templates grammatical) ---
constexpr std::string_view kNamesRu[] = {"Иван",  "Пётр",   "Алексей", "Дмитрий", "Сергей",   "Фёдор",
                                         "Артём", "Михаил", "Олег",    "Николай", "Григорий", "Юрий"};
constexpr std::string_view kItemsRu[] = {"яблок", "карандашей", "конфет", "книг", "орехов", "марок"};
constexpr std::string_view kPlacesRu[] = {"магазине", "киоске", "на рынке"};
constexpr WordTemplate kTemplatesRu[] = {
    {Formula::add_sub,
     "Ученик @N собрал @A @I, затем нашёл ещё @B, а @C отдал другу по имени @M. Сколько @I у "
     "него теперь?"},
    {Formula::share, "@N должен разделить @T @I поровну между @B детьми. Сколько @I получит каждый ребёнок?"},
    {Formula::speed,
     "@N едет на поезде, который движется с постоянной скоростью @A км/ч. Какое расстояние "
     "проедет поезд за @B часов?"},
    {Formula::rect_area,
     "Сад, который посадил @N, имеет форму прямоугольника: длина @A м, ширина @B м. Найдите "
     "площадь сада в квадратных метрах."},
    {Formula::savings,
     "Каждую неделю @N откладывает @A рублей. Через @B недель он потратил @C рублей на "
     "велосипед. Сколько денег у него осталось?"},
};
constexpr std::string_view kVerbsRu[] = {"Вычислите", "Найдите значение выражения", "Вычислить"};
constexpr std::string_view kOpenersRu[] = {"Решим задачу по шагам.", "Сначала запишем условие в виде выражения."};
constexpr std::string_view kFillersRu[] = {"Все величины — натуральные числа, поэтому округление не требуется.",
                                           "Проверим ответ, подставив его в условие.",
                                           "Обратите внимание на единицы измерения."};
constexpr std::string_view kAnswerLinesRu[] = {"Следовательно, ответ: $\\boxed{@R}$.", "Ответ: \\boxed{@R}."};

constexpr std::size_t kEnglish = 0;
const Lang kLangs[] = {
    {"en", kNamesEn, kItemsEn, kPlacesEn, kTemplatesEn, kVerbsEn, kOpenersEn, kFillersEn, kAnswerLinesEn, "."},
    {"fr", kNamesFr, kItemsFr, kPlacesFr, kTemplatesFr, kVerbsFr, kOpenersFr, kFillersFr, kAnswerLinesFr, "."},
    {"de", kNamesDe, kItemsDe, kPlacesDe, kTemplatesDe, kVerbsDe, kOpenersDe, kFillersDe, kAnswerLinesDe, "."},
    {"es", kNamesEs, kItemsEs, kPlacesEs, kTemplatesEs, kVerbsEs, kOpenersEs, kFillersEs, kAnswerLinesEs, "."},
    {"zh", kNamesZh, kItemsZh, kPlacesZh, kTemplatesZh, kVerbsZh, kOpenersZh, kFillersZh, kAnswerLinesZh, "。"},
    {"ru", kNamesRu, kItemsRu, kPlacesRu, kTemplatesRu, kVerbsRu, kOpenersRu, kFillersRu, kAnswerLinesRu, "."},
};

std::size_t pick_lang(Rng& rng) {
  const double u = rng.unit();
  if (u < 0.03) return 1;
  if (u < 0.06) return 2;
  if (u < 0.09) return 3;
  if (u < 0.12) return 4;
  if (u < 0.14) return 5;
  return kEnglish;
}

// Expands @X slots of `tmpl` into `out`.
void fill(std::string& out, std::string_view tmpl, const Slots& s) {
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '@' || i + 1 == tmpl.size()) {
      out += tmpl[i];
      continue;
    }
    switch (tmpl[++i]) {
      case 'N':
        out += s.name;
        break;
      case 'M':
        out += s.name2;
        break;
      case 'I':
        out += s.item;
        break;
      case 'P':
        out += s.place;
        break;
      case 'A':
        out += num(s.a);
        break;
      case 'B':
        out += num(s.b);
        break;
      case 'C':
        out += num(s.c);
        break;
      case 'T':
        out += num(s.t);
        break;
      case 'U':
        out += num(s.u);
        break;
      case 'S':
        out += num(s.s);
        break;
      case 'R':
        out += num(s.r);
        break;
      default:
        out += '@';
        out += tmpl[i];
    }
  }
}

std::string fill(std::string_view tmpl, const Slots& s) {
  std::string out;
  fill(out, tmpl, s);
  return out;
}

// A generated exercise before it is dressed up as a record.
struct Exercise {
  std::string problem;
  std::string answer;
  std::string steps;  // the mathematical core of the solution
  std::string_view tag;
};

Exercise word_problem(const Lang& lang, Rng& rng) {
  const WordTemplate& tmpl = rng.pick(lang.templates);
  Slots s = draw_numbers(tmpl.formula, rng);
  s.name = rng.pick(lang.names);
  do {
    s.name2 = rng.pick(lang.names);
  } while (s.name2 == s.name);
  s.item = rng.pick(lang.items);
  s.place = rng.pick(lang.places);
  return {fill(tmpl.text, s), num(s.r), fill(formula_steps(tmpl.formula), s), "arithmetic"};
}

// ------------------------------------------------------------------------------------------------
// LaTeX exercises
//
// Two kinds: full English problems ("Find the remainder when $7^{123}$ is divided by $11$."), and bare
// expressions that become a problem in any language with a localized verb ("Calculer $\frac{3}{4} +
// \frac{5}{6}$."). Parameter ranges are wide and names vary so that the pool does not fill with accidental
// exact duplicates: a generator drawn 20,000 times per million records needs a far larger space than
// that. Generators with a small space get a small weight.
// ------------------------------------------------------------------------------------------------

constexpr std::string_view kVariables[] = {"x", "y", "z", "t", "n", "a", "u", "w"};
constexpr std::string_view kFunctions[] = {"f", "g", "h", "p", "q"};
constexpr std::string_view kTriangles[] = {"ABC", "PQR", "XYZ", "DEF", "KLM"};

struct MathItem {
  std::string text;  // a full English problem, or a bare LaTeX expression for formula generators
  std::string answer;
  std::string steps;
  std::string_view tag;
};

long nonzero(Rng& rng, long lo, long hi) {
  for (;;) {
    const long v = rng.range(lo, hi);
    if (v != 0) return v;
  }
}

// --- bare expressions ---

MathItem frac_sum(Rng& rng) {
  const long b = rng.range(2, 30), d = rng.range(2, 30), c = rng.range(1, d + 5);
  long a = rng.range(1, b - 1 > 1 ? b - 1 : 1);
  while (std::gcd(a, b) != 1) --a;
  const long n = a * d + c * b, den = b * d;
  std::string expr = "\\frac{" + num(a) + "}{" + num(b) + "} + \\frac{" + num(c) + "}{" + num(d) + "}";
  std::string steps = "Bring both fractions to the common denominator $" + num(den) + "$:\n$$" + expr + " = \\frac{" +
                      num(a * d) + " + " + num(c * b) + "}{" + num(den) + "} = \\frac{" + num(n) + "}{" + num(den) +
                      "} = " + frac_tex(n, den) + "$$";
  return {expr, frac_tex(n, den), steps, "arithmetic"};
}

MathItem sqrt_sum(Rng& rng) {
  const long free_parts[] = {2, 3, 5, 6, 7, 10, 11, 13, 14, 15, 17, 19, 21, 22, 23, 26, 29, 30, 31, 33};
  const long m = rng.pick(free_parts), k1 = rng.range(1, 60), k2 = rng.range(1, 60);
  const long n1 = k1 * k1 * m, n2 = k2 * k2 * m;
  std::string expr = "\\sqrt{" + num(n1) + "} + \\sqrt{" + num(n2) + "}";
  std::string steps = "Factor out perfect squares: $\\sqrt{" + num(n1) + "} = " + radical_tex(n1) + "$ and $\\sqrt{" +
                      num(n2) + "} = " + radical_tex(n2) + "$, so the sum is $" +
                      radical_tex((k1 + k2) * (k1 + k2) * m) + "$.";
  return {expr, radical_tex((k1 + k2) * (k1 + k2) * m), steps, "algebra"};
}

long power_sum(long n, long p) {  // 1^p + ... + n^p for p = 1, 2, 3
  if (p == 1) return n * (n + 1) / 2;
  if (p == 2) return n * (n + 1) * (2 * n + 1) / 6;
  return (n * (n + 1) / 2) * (n * (n + 1) / 2);
}

MathItem sum_of_powers(Rng& rng) {
  const long m = rng.range(1, 50), n = m + rng.range(5, 500), p = rng.range(1, 3);
  const long r = power_sum(n, p) - power_sum(m - 1, p);
  std::string power = p == 1 ? "k" : "k^" + num(p);
  std::string expr = "\\displaystyle\\sum_{k=" + num(m) + "}^{" + num(n) + "} " + power;
  std::string steps = "Write the sum as $\\sum_{k=1}^{" + num(n) + "} " + power + " - \\sum_{k=1}^{" + num(m - 1) +
                      "} " + power + " = " + num(power_sum(n, p)) + " - " + num(power_sum(m - 1, p)) + " = " + num(r) +
                      "$.";
  return {expr, num(r), steps, "algebra"};
}

MathItem integral(Rng& rng) {
  const long a = rng.range(1, 12), lo = rng.range(0, a - 1), b = rng.range(1, 30), c = rng.range(0, 40);
  // b (a^3 - lo^3) / 3 + c (a - lo)
  const long cubes = a * a * a - lo * lo * lo;
  const long n = b * cubes + 3 * c * (a - lo);
  const std::string_view v = rng.pick(kVariables);
  std::string expr = "\\int_{" + num(lo) + "}^{" + num(a) + "} \\left(" + num(b) + std::string(v) + "^2 + " + num(c) +
                     "\\right)\\,d" + std::string(v);
  std::string steps = "An antiderivative is $\\frac{" + num(b) + "}{3}" + std::string(v) + "^3 + " + num(c) +
                      std::string(v) + "$, so the integral is $" + frac_tex(b * cubes, 3) + " + " + num(c * (a - lo)) +
                      " = " + frac_tex(n, 3) + "$.";
  return {expr, frac_tex(n, 3), steps, "calculus"};
}

MathItem determinant(Rng& rng) {
  const long a = rng.range(-12, 15), b = rng.range(-12, 15), c = rng.range(-12, 15), d = rng.range(-12, 15);
  std::string expr =
      "\\det\\begin{pmatrix} " + num(a) + " & " + num(b) + " \\\\ " + num(c) + " & " + num(d) + " \\end{pmatrix}";
  std::string steps =
      "$$ad - bc = (" + num(a) + ")(" + num(d) + ") - (" + num(b) + ")(" + num(c) + ") = " + num(a * d - b * c) + "$$";
  return {expr, num(a * d - b * c), steps, "linear_algebra"};
}

MathItem fraction_square(Rng& rng) {
  long a = rng.range(1, 19), b = rng.range(2, 21);
  const long g = std::gcd(a, b);
  a /= g;
  b /= g;
  if (b == 1) b = a + 1;
  const long c = rng.range(1, 30), d = rng.range(2, 30);
  std::string expr =
      "\\left(\\frac{" + num(a) + "}{" + num(b) + "}\\right)^{2} - \\frac{" + num(c) + "}{" + num(d) + "}";
  const long n = a * a * d - c * b * b, den = b * b * d;
  std::string steps = "First $\\left(\\frac{" + num(a) + "}{" + num(b) + "}\\right)^2 = \\frac{" + num(a * a) + "}{" +
                      num(b * b) + "}$, then $\\frac{" + num(a * a) + "}{" + num(b * b) + "} - \\frac{" + num(c) +
                      "}{" + num(d) + "} = " + frac_tex(n, den) + "$.";
  return {expr, frac_tex(n, den), steps, "arithmetic"};
}

MathItem complex_product(Rng& rng) {
  const long a = rng.range(-20, 20), b = rng.range(1, 20), c = rng.range(-20, 20), d = rng.range(1, 20);
  // (a + bi)(c - di) = (ac + bd) + (bc - ad)i
  const long re = a * c + b * d, im = b * c - a * d;
  std::string ans = num(re) + (im < 0 ? " - " + num(-im) : " + " + num(im)) + "i";
  std::string expr = "(" + num(a) + " + " + num(b) + "i)(" + num(c) + " - " + num(d) + "i)";
  std::string steps = "Expand and use $i^2 = -1$: $" + expr + " = " + num(a * c) + " " + signed_term(-a * d) + "i " +
                      signed_term(b * c) + "i " + signed_term(b * d) + " = " + ans + "$.";
  return {expr, ans, steps, "algebra"};
}

// --- full English problems ---

long mod_pow(long base, long exp, long mod) {
  long result = 1 % mod;
  base %= mod;
  while (exp > 0) {
    if (exp & 1) result = result * base % mod;
    base = base * base % mod;
    exp >>= 1;
  }
  return result;
}

MathItem mod_power(Rng& rng) {
  const long a = rng.range(2, 999), e = rng.range(10, 2024), m = rng.range(5, 40);
  const long r = mod_pow(a, e, m);
  std::string text = "Find the remainder when $" + num(a) + "^{" + num(e) + "}$ is divided by $" + num(m) + "$.";
  std::string steps = "We work modulo $" + num(m) + "$. Since $" + num(a) + " \\equiv " + num(a % m) + " \\pmod{" +
                      num(m) + "}$, we look for a cycle in the powers of $" + num(a % m) +
                      "$.\nReducing the exponent along the cycle gives $" + num(a) + "^{" + num(e) + "} \\equiv " +
                      num(r) + " \\pmod{" + num(m) + "}$.";
  return {text, num(r), steps, "number_theory"};
}

MathItem linear_equation(Rng& rng) {
  const long a = rng.range(2, 30), b = nonzero(rng, -99, 99), c = rng.range(-200, 200);
  const std::string v(rng.pick(kVariables));
  std::string text = "Solve for $" + v + "$: $" + num(a) + v + " " + signed_term(b) + " = " + num(c) + "$.";
  std::string steps = "Subtract $" + num(b) + "$ from both sides: $" + num(a) + v + " = " + num(c - b) +
                      "$.\nDivide by $" + num(a) + "$: $" + v + " = " + frac_tex(c - b, a) + "$.";
  return {text, frac_tex(c - b, a), steps, "algebra"};
}

MathItem quadratic_value(Rng& rng) {
  const long a = rng.range(1, 15), b = nonzero(rng, -30, 30), c = nonzero(rng, -60, 60), k = rng.range(-10, 12);
  const long r = a * k * k + b * k + c;
  const std::string f(rng.pick(kFunctions));
  std::string poly = (a == 1 ? "" : num(a)) + "x^2 " + signed_term(b) + "x " + signed_term(c);
  std::string text = "Let $" + f + "(x) = " + poly + "$. What is the value of $" + f + "(" + num(k) + ")$?";
  std::string steps = "Substitute $x = " + num(k) + "$:\n\\[ " + f + "(" + num(k) + ") = " + num(a) + "\\left(" +
                      num(k) + "\\right)^2 " + signed_term(b) + "\\left(" + num(k) + "\\right) " + signed_term(c) +
                      " = " + num(a * k * k) + " " + signed_term(b * k) + " " + signed_term(c) + " = " + num(r) +
                      ". \\]";
  return {text, num(r), steps, "algebra"};
}

MathItem divisor_count(Rng& rng) {
  const long n = rng.range(12, 200000);
  const std::uint64_t kind = rng.below(3);  // count all, odd, or even divisors
  const auto admissible = [kind](long d) { return kind == 0 || (kind == 1) == (d % 2 == 1); };

  std::string factored;
  const auto add_factor = [&factored](long p, long e) {
    if (!factored.empty()) factored += " \\cdot ";
    factored += num(p) + (e > 1 ? "^{" + num(e) + "}" : "");
  };
  long rest = n;
  for (long p = 2; p * p <= rest; ++p) {
    long e = 0;
    for (; rest % p == 0; rest /= p) ++e;
    if (e > 0) add_factor(p, e);
  }
  if (rest > 1) add_factor(rest, 1);

  long count = 0;
  for (long d = 1; d * d <= n; ++d) {
    if (n % d != 0) continue;
    if (admissible(d)) ++count;
    if (d * d != n && admissible(n / d)) ++count;
  }
  const char* what = kind == 0 ? "positive" : kind == 1 ? "odd positive" : "even positive";
  std::string text = "How many " + std::string(what) + " divisors does $" + num(n) + "$ have?";
  std::string steps = "The prime factorization is $" + num(n) + " = " + factored +
                      "$. Counting the admissible exponent of each prime in a divisor gives $" + num(count) + "$.";
  return {text, num(count), steps, "number_theory"};
}

MathItem gcd_lcm(Rng& rng) {
  const long a = rng.range(4, 9999), b = rng.range(4, 9999);
  const long g = std::gcd(a, b), l = a / g * b;
  const bool ask_gcd = rng.chance(0.5);
  std::string text = ask_gcd ? "What is the greatest common divisor of $" + num(a) + "$ and $" + num(b) + "$?"
                             : "What is the least common multiple of $" + num(a) + "$ and $" + num(b) + "$?";
  std::string steps = "By the Euclidean algorithm, $\\gcd(" + num(a) + ", " + num(b) + ") = " + num(g) + "$.";
  if (!ask_gcd) {
    steps += "\nThen $\\operatorname{lcm}(" + num(a) + ", " + num(b) + ") = \\frac{" + num(a) + " \\cdot " + num(b) +
             "}{" + num(g) + "} = " + num(l) + "$.";
  }
  return {text, num(ask_gcd ? g : l), steps, "number_theory"};
}

MathItem right_triangle(Rng& rng) {
  const std::string_view t = rng.pick(kTriangles);
  const std::string A(1, t[0]), B(1, t[1]), C(1, t[2]);
  const long a = rng.range(1, 200), b = rng.range(1, 200);
  const long c2 = a * a + b * b;
  std::string text = "In right triangle $" + std::string(t) + "$ with $\\angle " + C + " = 90^\\circ$, we have $" + A +
                     C + " = " + num(a) + "$ and $" + B + C + " = " + num(b) + "$. Find $" + A + B +
                     "$. Express your answer in simplest radical form.";
  std::string steps = "By the Pythagorean theorem, $" + A + B + "^2 = " + A + C + "^2 + " + B + C +
                      "^2 = " + num(a * a) + " + " + num(b * b) + " = " + num(c2) + "$, so $" + A + B + " = \\sqrt{" +
                      num(c2) + "}" + (radical_tex(c2) == "\\sqrt{" + num(c2) + "}" ? "" : " = " + radical_tex(c2)) +
                      "$.";
  return {text, radical_tex(c2), steps, "geometry"};
}

MathItem marbles(Rng& rng) {
  constexpr std::string_view kColors[] = {"red", "blue", "green", "white", "yellow", "black"};
  const std::size_t i = rng.below(std::size(kColors));
  const std::size_t j = (i + 1 + rng.below(std::size(kColors) - 1)) % std::size(kColors);
  const long first = rng.range(3, 40), second = rng.range(1, 40), total = first + second;
  const long draws = rng.range(2, 3);
  long good = 1, all = 1;
  for (long k = 0; k < draws; ++k) {
    good *= first - k;
    all *= total - k;
  }
  const std::string color(kColors[i]);
  std::string text = "A bag contains " + num(first) + " " + color + " marbles and " + num(second) + " " +
                     std::string(kColors[j]) + " marbles. " + (draws == 2 ? "Two" : "Three") +
                     " marbles are drawn at random without replacement. What is the probability that all of them "
                     "are " +
                     color + "? Express your answer as a common fraction.";
  std::string steps = "There are $\\binom{" + num(total) + "}{" + num(draws) + "} = " + num(binomial(total, draws)) +
                      "$ equally likely draws, of which $\\binom{" + num(first) + "}{" + num(draws) +
                      "} = " + num(binomial(first, draws)) + "$ are all " + color + ".\nThe probability is $" +
                      frac_tex(good, all) + "$.";
  return {text, frac_tex(good, all), steps, "probability"};
}

MathItem committee(Rng& rng) {
  constexpr std::string_view kGroups[] = {"club", "class", "team", "department", "choir"};
  // C(seniors, j) * C(others, k - j) <= C(n, k) <= C(60, 10): no overflow.
  const long n = rng.range(8, 60), seniors = rng.range(2, n - 2), k = rng.range(2, 10);
  const long j = rng.range(1, k - 1);
  const long others = n - seniors;
  const long ways = binomial(seniors, j) * binomial(others, k - j);
  std::string text = "A " + std::string(rng.pick(kGroups)) + " has " + num(n) + " members, " + num(seniors) +
                     " of whom are seniors. In how many ways can a committee of " + num(k) +
                     " be chosen so that it contains exactly " + num(j) + (j == 1 ? " senior?" : " seniors?");
  std::string steps = "Choose the seniors and the others independently: $\\binom{" + num(seniors) + "}{" + num(j) +
                      "} \\cdot \\binom{" + num(others) + "}{" + num(k - j) + "} = " + num(binomial(seniors, j)) +
                      " \\cdot " + num(binomial(others, k - j)) + " = " + num(ways) + "$.";
  return {text, num(ways), steps, "counting"};
}

MathItem reciprocal_power(Rng& rng) {
  const long a = rng.range(3, 500), p = rng.range(2, 3);
  const std::string v(rng.pick(kVariables));
  const long r = p == 2 ? a * a - 2 : a * a * a - 3 * a;
  std::string text = "Suppose $" + v + " + \\frac{1}{" + v + "} = " + num(a) + "$. Find the value of $" + v + "^" +
                     num(p) + " + \\frac{1}{" + v + "^" + num(p) + "}$.";
  std::string steps =
      p == 2 ? "Square both sides: $\\left(" + v + " + \\frac{1}{" + v + "}\\right)^2 = " + v + "^2 + 2 + \\frac{1}{" +
                   v + "^2} = " + num(a * a) + "$, hence the value is $" + num(a * a) + " - 2 = " + num(r) + "$."
             : "Cube both sides: $\\left(" + v + " + \\frac{1}{" + v + "}\\right)^3 = " + v + "^3 + \\frac{1}{" + v +
                   "^3} + 3\\left(" + v + " + \\frac{1}{" + v + "}\\right)$, so the value is $" + num(a * a * a) +
                   " - 3 \\cdot " + num(a) + " = " + num(r) + "$.";
  return {text, num(r), steps, "algebra"};
}

MathItem arithmetic_sequence(Rng& rng) {
  const long a = rng.range(-200, 300), d = nonzero(rng, -40, 60), n = rng.range(10, 1000);
  if (rng.chance(0.5)) {
    std::string text = "The first term of an arithmetic sequence is $" + num(a) + "$ and the common difference is $" +
                       num(d) + "$. What is the $" + num(n) + "^{\\text{th}}$ term of the sequence?";
    std::string steps = "The $n^{\\text{th}}$ term is $a_n = a_1 + (n-1)d = " + num(a) + " + " + num(n - 1) +
                        " \\cdot (" + num(d) + ") = " + num(a + (n - 1) * d) + "$.";
    return {text, num(a + (n - 1) * d), steps, "algebra"};
  }
  const long sum = n * (2 * a + (n - 1) * d) / 2;
  std::string text = "An arithmetic sequence has first term $" + num(a) + "$ and common difference $" + num(d) +
                     "$. Find the sum of its first $" + num(n) + "$ terms.";
  std::string steps = "$$S_n = \\frac{n}{2}\\left(2a_1 + (n-1)d\\right) = \\frac{" + num(n) + "}{2}\\left(" +
                      num(2 * a) + " + " + num(n - 1) + " \\cdot (" + num(d) + ")\\right) = " + num(sum) + "$$";
  return {text, num(sum), steps, "algebra"};
}

MathItem sum_difference(Rng& rng) {
  const long x = rng.range(-200, 200), y = rng.range(-200, 200);
  const bool product = rng.chance(0.5);
  std::string text = "If $x + y = " + num(x + y) + "$ and $x - y = " + num(x - y) + "$, what is the value of $" +
                     (product ? "xy" : "x^2 - y^2") + "$?";
  std::string steps = product ? "Adding the equations gives $2x = " + num(2 * x) + "$, so $x = " + num(x) +
                                    "$ and $y = " + num(y) + "$. Therefore $xy = " + num(x * y) + "$."
                              : "Factor: $x^2 - y^2 = (x + y)(x - y) = (" + num(x + y) + ")(" + num(x - y) +
                                    ") = " + num(x * x - y * y) + "$.";
  return {text, num(product ? x * y : x * x - y * y), steps, "algebra"};
}

MathItem cylinder(Rng& rng) {
  constexpr std::string_view kObjects[] = {"water tank", "grain silo", "tin can", "candle", "concrete pillar"};
  const long r = rng.range(2, 200), h = rng.range(2, 500);
  std::string text = "A cylindrical " + std::string(rng.pick(kObjects)) + " has a radius of " + num(r) +
                     " cm and a height of " + num(h) +
                     " cm. What is its volume in cubic centimeters? Express your answer in terms of $\\pi$.";
  std::string steps = "The volume of a cylinder is $V = \\pi r^2 h = \\pi \\cdot " + num(r) + "^2 \\cdot " + num(h) +
                      " = " + num(r * r * h) + "\\pi$.";
  return {text, num(r * r * h) + "\\pi", steps, "geometry"};
}

MathItem integer_count(Rng& rng) {
  const long k = rng.range(2, 9), a = rng.range(-40, 20), b = rng.range(-10, 10), c = a + rng.range(10, 90);
  // Integers n with a < k n + b <= c.
  long count = 0;
  for (long n = -200; n <= 200; ++n) {
    if (a < k * n + b && k * n + b <= c) ++count;
  }
  std::string text =
      "How many integers $n$ satisfy $" + num(a) + " < " + num(k) + "n " + signed_term(b) + " \\le " + num(c) + "$?";
  std::string steps = "Subtracting $" + num(b) + "$ and dividing by $" + num(k) + "$ gives $" + frac_tex(a - b, k) +
                      " < n \\le " + frac_tex(c - b, k) + "$, an interval that contains $" + num(count) + "$ integers.";
  return {text, num(count), steps, "algebra"};
}

MathItem vieta(Rng& rng) {
  const long s = nonzero(rng, -30, 30), p = nonzero(rng, -60, 60);
  const bool cubes = rng.chance(0.4);
  const long r = cubes ? s * s * s - 3 * p * s : s * s - 2 * p;
  const std::string target = cubes ? "r_1^3 + r_2^3" : "r_1^2 + r_2^2";
  std::string text = "Let $r_1$ and $r_2$ be the roots of $x^2 " + signed_term(-s) + "x " + signed_term(p) +
                     " = 0$. Find $" + target + "$.";
  std::string steps = "By Vieta's formulas, $r_1 + r_2 = " + num(s) + "$ and $r_1 r_2 = " + num(p) +
                      "$.\n\\begin{align*}\n" + target +
                      " &= " + (cubes ? "(r_1 + r_2)^3 - 3 r_1 r_2 (r_1 + r_2)" : "(r_1 + r_2)^2 - 2 r_1 r_2") +
                      " \\\\\n&= " + num(r) + "\n\\end{align*}";
  return {text, num(r), steps, "algebra"};
}

MathItem trailing_zeros(Rng& rng) {
  const long n = rng.range(20, 1000000);
  long zeros = 0;
  for (long p = 5; p <= n; p *= 5) zeros += n / p;
  std::string text = "How many zeros are at the end of the decimal representation of $" + num(n) + "!$?";
  std::string steps =
      "Each trailing zero needs a factor $10 = 2 \\cdot 5$, and factors of $5$ are the scarce ones. "
      "By Legendre's formula, $\\sum_{k \\ge 1} \\left\\lfloor \\frac{" +
      num(n) + "}{5^k} \\right\\rfloor = " + num(zeros) + "$.";
  return {text, num(zeros), steps, "number_theory"};
}

MathItem limit(Rng& rng) {
  const long a = rng.range(1, 50), c = nonzero(rng, -50, 50);
  // (x^2 + (c - a)x - ac) / (x - a) = x + c
  const std::string v(rng.pick(kVariables));
  std::string text = "Evaluate $\\displaystyle\\lim_{" + v + " \\to " + num(a) + "} \\frac{" + v + "^2 " +
                     signed_term(c - a) + v + " " + signed_term(-a * c) + "}{" + v + " - " + num(a) + "}$.";
  std::string steps = "The numerator factors as $(" + v + " - " + num(a) + ")(" + v + " " + signed_term(c) +
                      ")$, so for $" + v + " \\ne " + num(a) + "$ the fraction equals $" + v + " " + signed_term(c) +
                      "$ and the limit is $" + num(a + c) + "$.";
  return {text, num(a + c), steps, "calculus"};
}

MathItem logarithm_equation(Rng& rng) {
  const long base = rng.range(2, 12), k = rng.range(2, 6), c = rng.range(-50, 50);
  long power = 1;
  for (long i = 0; i < k; ++i) power *= base;
  const std::string v(rng.pick(kVariables));
  std::string text = "Find $" + v + "$ if $\\log_{" + num(base) + "}\\left(" + v + " " + signed_term(-c) +
                     "\\right) = " + num(k) + "$.";
  std::string steps = "Rewrite in exponential form: $" + v + " " + signed_term(-c) + " = " + num(base) + "^{" + num(k) +
                      "} = " + num(power) + "$, so $" + v + " = " + num(power + c) + "$.";
  return {text, num(power + c), steps, "precalculus"};
}

using MathGenerator = MathItem (*)(Rng&);

constexpr MathGenerator kFormulaGenerators[] = {frac_sum,    sqrt_sum,        sum_of_powers,  integral,
                                                determinant, fraction_square, complex_product};

struct WeightedGenerator {
  MathGenerator generate;
  double weight;  // roughly the log of the number of distinct problems it can produce
};
constexpr WeightedGenerator kTextGenerators[] = {
    {mod_power, 3},
    {linear_equation, 3},
    {quadratic_value, 3},
    {divisor_count, 2},
    {gcd_lcm, 3},
    {right_triangle, 2},
    {marbles, 2},
    {committee, 2},
    {reciprocal_power, 0.3},
    {arithmetic_sequence, 3},
    {sum_difference, 2},
    {cylinder, 1},
    {integer_count, 2},
    {vieta, 0.5},
    {trailing_zeros, 1},
    {limit, 0.6},
    {logarithm_equation, 1},
};

MathItem text_item(Rng& rng) {
  double total = 0;
  for (const auto& g : kTextGenerators) total += g.weight;
  double u = rng.unit() * total;
  for (const auto& g : kTextGenerators) {
    if (u < g.weight) return g.generate(rng);
    u -= g.weight;
  }
  return kTextGenerators[0].generate(rng);
}

MathItem formula_item(Rng& rng) {
  return rng.pick(kFormulaGenerators)(rng);
}

constexpr std::string_view kPrefixesEn[] = {
    "Problem: ", "Question: ", "Solve the following problem. ", "**Problem.** ", "Q: ", "Exercise. ", "Math problem: "};
constexpr std::string_view kSuffixesEn[] = {" Show your work.",
                                            " Simplify your answer as much as possible.",
                                            " Explain your reasoning.",
                                            " Put your final answer in \\boxed{}.",
                                            " Please reason step by step, and put your final answer within \\boxed{}.",
                                            " (5 points)",
                                            " Justify each step of your answer.",
                                            " \U0001F642",
                                            " \u2014 good luck!",
                                            " Let's think step by step and output the final answer within \\boxed{}."};

// Scene-setting sentences that real word problems carry before the question.
constexpr std::string_view kContextEn[] = {
    "It is the last week of the school year, and everyone is busy.",
    "@N keeps careful records of everything in a small notebook.",
    "The weather forecast promised sunshine for the whole weekend.",
    "@N and @M have been friends since kindergarten.",
    "Prices at the @P have not changed since last spring.",
    "This is part of a project for the math fair.",
    "@M likes to double-check every calculation.",
    "Nothing is lost, broken or eaten along the way.",
};

// English exercises: word problems, LaTeX problems, bare "Compute $...$" exercises.
Exercise english_exercise(Rng& rng) {
  const Lang& en = kLangs[kEnglish];
  const double u = rng.unit();
  Exercise ex;
  if (u < 0.45) {
    ex = word_problem(en, rng);
    if (rng.chance(0.45)) {
      Slots s;
      s.name = rng.pick(en.names);
      do {
        s.name2 = rng.pick(en.names);
      } while (s.name2 == s.name);
      s.place = rng.pick(en.places);
      std::string context = fill(rng.pick(kContextEn), s);
      if (rng.chance(0.4)) context += " " + fill(rng.pick(kContextEn), s);
      ex.problem.insert(0, context + " ");
    }
  } else {
    MathItem item;
    if (u < 0.93) {
      item = text_item(rng);
      ex.problem = item.text;
    } else {
      item = formula_item(rng);
      const std::string_view verb = rng.pick(en.verbs);
      const std::string_view end = verb == "What is" ? "?" : (rng.chance(0.9) ? "." : "");
      ex.problem = std::string(verb) + " $" + item.text + "$" + std::string(end);
    }
    ex.answer = std::move(item.answer);
    ex.steps = std::move(item.steps);
    ex.tag = item.tag;
  }
  if (rng.chance(0.2)) ex.problem.insert(0, rng.pick(kPrefixesEn));
  if (rng.chance(0.3)) ex.problem += rng.pick(kSuffixesEn);
  return ex;
}

Exercise foreign_exercise(const Lang& lang, Rng& rng) {
  if (rng.chance(0.8)) return word_problem(lang, rng);
  MathItem item = formula_item(rng);
  return {std::string(rng.pick(lang.verbs)) + " $" + item.text + "$" + std::string(lang.full_stop), item.answer,
          item.steps, item.tag};
}

// Under 20 characters: "What is 12+7?", "Solve x+3=11.".
Exercise tiny_exercise(Rng& rng) {
  const long a = rng.range(2, 99), b = rng.range(2, 99);
  switch (rng.below(4)) {
    case 0:
      return {"What is " + num(a) + "+" + num(b) + "?", num(a + b),
              "$" + num(a) + "+" + num(b) + "=" + num(a + b) + "$", "arithmetic"};
    case 1: {
      const long x = a % 13, y = b % 13;
      return {"Compute $" + num(x) + "\\cdot " + num(y) + "$.", num(x * y),
              "$" + num(x) + " \\cdot " + num(y) + " = " + num(x * y) + "$", "arithmetic"};
    }
    case 2:
      return {"Solve x+" + num(a) + "=" + num(a + b) + ".", num(b),
              "$x=" + num(a + b) + "-" + num(a) + "=" + num(b) + "$", "algebra"};
    default:
      return {"$" + num(a) + "^2=?$", num(a * a), "$" + num(a) + "^2 = " + num(a * a) + "$", "arithmetic"};
  }
}

// Long multi-part problems, 1.5-6 KB: a story, then parts (a), (b), ...
constexpr std::string_view kStoryEn[] = {
    "The following problem appeared on a regional mathematics competition for high-school students, where it was "
    "worth a full third of the total score.",
    "Read all parts before starting: later parts build on the results of earlier ones, and partial credit is given "
    "for clearly explained reasoning even when the final number is wrong.",
    "A small bakery keeps careful records of its daily production, including the number of loaves baked, the "
    "number sold before noon, and the number donated to a shelter at the end of the day.",
    "A city council is planning a new park and has asked a committee of volunteers to estimate the cost of fencing, "
    "paving and planting, using the measurements taken by a surveyor last spring.",
    "Throughout the problem, all quantities are exact; do not round intermediate results, and give every answer in "
    "simplest form (integers, reduced fractions, or simplified radicals).",
    "A group of students collected data about the pets owned by families in their neighborhood and organized it in "
    "the table below before answering the questions that follow.",
    "Consider the sequence of figures built from unit squares: the first figure has one square, and each new figure "
    "adds a layer of squares around the previous one, as shown in the diagram (not drawn to scale).",
    "You may use a calculator for arithmetic, but every step that relies on a theorem must be justified by naming "
    "the theorem and checking its hypotheses.",
    "In a game, two players take turns removing stones from a pile; a move consists of removing one, two or three "
    "stones, and the player who takes the last stone wins.",
    "Notation: $\\mathbb{N}$ denotes the set of positive integers, $\\lfloor x \\rfloor$ the greatest integer not "
    "exceeding $x$, and $|S|$ the number of elements of a finite set $S$.",
};

Exercise long_exercise(Rng& rng) {
  const Lang& en = kLangs[kEnglish];
  Exercise ex;
  const long story_sentences = rng.range(4, 16);
  for (long i = 0; i < story_sentences; ++i) {
    if (i > 0) ex.problem += (rng.chance(0.2) ? "\n\n" : " ");
    ex.problem += rng.pick(kStoryEn);
  }
  const long parts = rng.range(6, 24);
  for (long i = 0; i < parts; ++i) {
    Exercise part = rng.chance(0.4) ? word_problem(en, rng) : Exercise{};
    if (part.problem.empty()) {
      MathItem item = text_item(rng);
      part = {item.text, item.answer, item.steps, item.tag};
    }
    const char label[] = {'(', static_cast<char>('a' + i), ')', ' ', '\0'};
    ex.problem.append("\n\n").append(label).append(part.problem);
    ex.answer.append(i > 0 ? "; " : "").append(label).append(part.answer);
    ex.steps.append(i > 0 ? "\n\n" : "").append(label).append(part.steps);
  }
  ex.tag = "multi_part";
  return ex;
}

// ------------------------------------------------------------------------------------------------
// Near duplicates: a copy of an earlier problem with a number, a word or whitespace changed
// ------------------------------------------------------------------------------------------------

constexpr std::pair<std::string_view, std::string_view> kSynonymsEn[] = {
    {"How many", "What number of"},
    {"Find", "Determine"},
    {"Compute", "Calculate"},
    {"buys", "purchases"},
    {"gives", "hands"},
    {"total", "overall"},
    {"each", "every"},
    {"wants", "would like"},
    {"store", "shop"},
    {"What is", "Find"},
    {"equally", "evenly"},
    {"meters", "metres"},
    {"value", "number"},
    {"random", "chance"},
    {"the", "a"},
    {"has", "owns"},
};

bool change_number(std::string& text, Rng& rng) {
  std::vector<std::pair<std::size_t, std::size_t>> runs;  // digit runs: (start, length)
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] >= '0' && text[i] <= '9') {
      std::size_t j = i;
      while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
      runs.emplace_back(i, j - i);
      i = j;
    } else {
      ++i;
    }
  }
  if (runs.empty()) return false;
  const auto [start, length] = runs[rng.below(runs.size())];
  long value = std::atol(text.substr(start, length).c_str());
  value += rng.chance(0.5) ? rng.range(1, 5) : -rng.range(1, 5);
  if (value < 0) value = -value + 1;
  text.replace(start, length, num(value));
  return true;
}

bool swap_word(std::string& text, Rng& rng) {
  const std::size_t first = rng.below(std::size(kSynonymsEn));
  for (std::size_t k = 0; k < std::size(kSynonymsEn); ++k) {
    const auto& [a, b] = kSynonymsEn[(first + k) % std::size(kSynonymsEn)];
    if (const auto pos = text.find(a); pos != std::string::npos) {
      text.replace(pos, a.size(), b);
      return true;
    }
    if (const auto pos = text.find(b); pos != std::string::npos) {
      text.replace(pos, b.size(), a);
      return true;
    }
  }
  return false;
}

// Always changes the text. Only ASCII spaces are touched, so UTF-8 stays valid.
void change_whitespace(std::string& text, Rng& rng) {
  std::vector<std::size_t> spaces;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ' ') spaces.push_back(i);
  }
  const std::uint64_t kind = spaces.empty() ? 3 : rng.below(5);
  switch (kind) {
    case 0:
      text.insert(spaces[rng.below(spaces.size())], " ");
      break;
    case 1:
      text[spaces[rng.below(spaces.size())]] = '\n';
      break;
    case 2:
      text.insert(0, " ");
      break;
    case 3:
      text += rng.chance(0.5) ? " " : "\n";
      break;
    default:
      text[spaces[rng.below(spaces.size())]] = '\t';
      break;
  }
}

std::string near_duplicate(const std::string& original, std::size_t lang, Rng& rng) {
  std::string text = original;
  const long edits = rng.range(1, 2);
  for (long i = 0; i < edits; ++i) {
    const std::uint64_t kind = rng.below(3);
    bool changed = false;
    if (kind == 0) changed = change_number(text, rng);
    if (kind == 1 && lang == kEnglish) changed = swap_word(text, rng);
    if (!changed) change_whitespace(text, rng);
  }
  if (text == original) change_whitespace(text, rng);
  return text;
}

// ------------------------------------------------------------------------------------------------
// Solutions
// ------------------------------------------------------------------------------------------------

std::string make_solution(const Lang& lang, std::string_view steps, std::string_view answer, Rng& rng) {
  std::string out(rng.pick(lang.openers));
  out += "\n\n";
  out += steps;
  // Some explanatory prose after the computation: none, one sentence, or now and then a paragraph.
  const long fillers = rng.chance(0.3) ? 1 : (rng.chance(0.1) ? 3 : 0);
  for (long i = 0; i < fillers; ++i) {
    out += (i == 0 ? "\n\n" : " ");
    out += rng.pick(lang.fillers);
  }
  out += "\n\n";
  // The answer line holds "@R" for the answer string (which may be LaTeX).
  const std::string_view line = rng.pick(lang.answer_lines);
  const std::size_t at = line.find("@R");
  out += line.substr(0, at);
  out += answer;
  out += line.substr(at + 2);
  return out;
}

// ------------------------------------------------------------------------------------------------
// JSON output
// ------------------------------------------------------------------------------------------------

// How a source serializes JSON.
struct Style {
  bool spaced;        // ", " and ": " separators, as Python's json.dumps
  bool ensure_ascii;  // non-ASCII as \uXXXX escapes
  bool upper_hex;     // \u00E9 rather than \u00e9
  bool escape_slash;  // "/" as "\/", as PHP's json_encode
};

void append_hex4(std::string& out, unsigned v, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += digits[(v >> shift) & 0xF];
}

// Appends `text` (valid UTF-8) as a JSON string.
void append_json_string(std::string& out, std::string_view text, const Style& style) {
  out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '/':
        out += style.escape_slash ? "\\/" : "/";
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      append_hex4(out, c, style.upper_hex);
    } else if (c < 0x80 || !style.ensure_ascii) {
      out += static_cast<char>(c);
    } else {
      // Decode one UTF-8 sequence (the generator only produces valid ones).
      const std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      unsigned cp = c & (length == 4 ? 0x07 : length == 3 ? 0x0F : 0x1F);
      for (std::size_t k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
      i += length - 1;
      if (cp >= 0x10000) {
        cp -= 0x10000;
        append_hex4(out, 0xD800 + (cp >> 10), style.upper_hex);
        append_hex4(out, 0xDC00 + (cp & 0x3FF), style.upper_hex);
      } else {
        append_hex4(out, cp, style.upper_hex);
      }
    }
  }
  out += '"';
}

// Writes one JSON object into a string, keeping track of commas for nested objects and arrays.
class JsonWriter {
 public:
  JsonWriter(std::string& out, const Style& style) : out_(out), style_(style) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  void key(std::string_view name) {
    separator();
    append_json_string(out_, name, style_);
    out_ += style_.spaced ? ": " : ":";
    after_key_ = true;
  }

  void string(std::string_view value) {
    separator();
    append_json_string(out_, value, style_);
  }

  // A number, literal or any other JSON text, written as is.
  void raw(std::string_view value) {
    separator();
    out_ += value;
  }

 private:
  void separator() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += style_.spaced ? ", " : ",";
      first_.back() = false;
    }
  }
  void open(char c) {
    separator();
    out_ += c;
    first_.push_back(true);
  }
  void close(char c) {
    out_ += c;
    first_.pop_back();
  }

  std::string& out_;
  const Style& style_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

// ------------------------------------------------------------------------------------------------
// Sources and records
// ------------------------------------------------------------------------------------------------

enum class Field { id, source, problem, answer, solution, level, meta };

struct Source {
  std::string_view name;
  double weight;
  Style style;
  std::array<Field, 7> order;
};

using F = Field;
const Source kSources[] = {
    {"numina_synth",
     0.28,
     {false, false, false, false},
     {F::id, F::source, F::problem, F::answer, F::solution, F::level, F::meta}},
    {"gsm_like",
     0.20,
     {true, true, false, false},
     {F::id, F::source, F::problem, F::answer, F::solution, F::level, F::meta}},
    {"olympiad_crawl",
     0.14,
     {false, false, false, false},
     {F::id, F::problem, F::solution, F::answer, F::level, F::source, F::meta}},
    {"aops_scrape",
     0.10,
     {false, false, false, true},
     {F::id, F::source, F::problem, F::solution, F::answer, F::level, F::meta}},
    {"textbook_ocr",
     0.14,
     {true, false, false, false},
     {F::source, F::id, F::level, F::problem, F::solution, F::answer, F::meta}},
    {"contest_archive",
     0.14,
     {false, true, true, false},
     {F::id, F::source, F::level, F::problem, F::answer, F::solution, F::meta}},
};

std::size_t pick_source(Rng& rng) {
  double u = rng.unit();
  for (std::size_t i = 0; i < std::size(kSources); ++i) {
    if (u < kSources[i].weight) return i;
    u -= kSources[i].weight;
  }
  return 0;
}

// The fields of a record before serialization.
struct Record {
  std::string problem;
  std::string answer;
  std::string solution;
  bool has_answer = true;
  bool has_solution = true;
  long level = 1;
  std::size_t lang = kEnglish;
  std::string_view tag;
};

std::string format_fixed(double v, int precision) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, precision);
  return std::string(buf, result.ptr);
}

std::string format_shortest(double v) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, result.ptr);
}

// The "meta" object: numbers in the forms real pools carry them (1.50, 2e-3, 0.125, 1.5E+2, -0.0, huge
// integers), booleans and null.
void write_meta(JsonWriter& json, const Source& source, const Record& record, Rng& rng) {
  json.begin_object();
  json.key("difficulty");
  json.raw(format_fixed(0.5 + static_cast<double>(rng.below(950)) / 100.0, 2));
  json.key("pass_rate");
  const std::uint64_t form = rng.below(10);
  if (form < 3) {
    const long mantissa = rng.range(1, 9);
    const long exponent = rng.range(1, 4);
    json.raw(num(mantissa) + "e-" + num(exponent));
  } else if (form < 6) {
    json.raw(format_shortest(static_cast<double>(rng.range(1, 7)) / 8.0));
  } else if (form < 8) {
    json.raw("0");
  } else {
    json.raw(form == 8 ? "1" : "1.0");
  }
  json.key("verified");
  json.raw(rng.chance(0.7) ? "true" : "false");
  if (rng.chance(0.15)) {
    json.key("reviewed_by");
    if (rng.chance(0.5)) {
      json.raw("null");
    } else {
      json.string(rng.pick(kLangs[record.lang].names));
    }
  }
  json.key("lang");
  json.string(kLangs[record.lang].code);
  json.key("tags");
  json.begin_array();
  json.string(record.tag);
  if (rng.chance(0.3)) json.string(record.level >= 4 ? "hard" : "easy");
  json.end_array();
  if (source.name == "olympiad_crawl") {
    json.key("crawl_id");
    json.raw(std::to_string(rng.next()));  // up to 2^64-1: beyond int64 and double precision
  }
  if (source.name == "contest_archive") {
    json.key("weight");
    const std::uint64_t form_w = rng.below(4);
    if (form_w == 0) {
      json.raw("-0.0");
    } else if (form_w == 1) {
      const long whole = rng.range(1, 9);
      const long tenth = rng.range(0, 9);
      json.raw(num(whole) + "." + num(tenth) + "E+2");
    } else {
      json.raw(format_fixed(rng.unit(), 3));
    }
  }
  json.end_object();
}

void write_record(std::string& out, std::uint64_t index, const Source& source, const Record& record, Rng& rng) {
  char id_text[32];
  std::snprintf(id_text, sizeof id_text, "gen-%09llu", static_cast<unsigned long long>(index));
  JsonWriter json(out, source.style);
  json.begin_object();
  for (Field field : source.order) {
    switch (field) {
      case Field::id:
        json.key("id");
        json.string(id_text);
        break;
      case Field::source:
        json.key("source");
        json.string(source.name);
        break;
      case Field::problem:
        json.key("problem");
        json.string(record.problem);
        break;
      case Field::answer:
        if (record.has_answer) {
          json.key("answer");
          json.string(record.answer);
        }
        break;
      case Field::solution:
        if (record.has_solution) {
          json.key("solution");
          json.string(record.solution);
        }
        break;
      case Field::level:
        json.key("level");
        json.raw(num(record.level));
        break;
      case Field::meta:
        json.key("meta");
        write_meta(json, source, record, rng);
        break;
    }
  }
  json.end_object();
  out += '\n';
}

// Source-specific damage done to text on its way into the pool.
void apply_source_quirks(Record& record, const Source& source, Rng& rng) {
  if (source.name == "textbook_ocr") {
    // OCR output keeps Windows line ends and tab-separated columns.
    if (rng.chance(0.3)) replace_all(record.problem, "\n", "\r\n");
    if (rng.chance(0.05)) {
      const long chapter = rng.range(1, 12);
      const long number = rng.range(1, 40);
      record.problem.insert(0, "Exercise " + num(chapter) + "." + num(number) + "\t");
    }
  }
  if (source.name == "aops_scrape" && rng.chance(0.01)) {
    // A hand-written JSON exporter turned "\frac" into a form feed followed by "rac": valid JSON, wrong text.
    replace_all(record.problem, "\\frac", "\frac");
  }
}

// Earlier problems that duplicates are copied from: a uniform sample of everything generated so far.
class Reservoir {
 public:
  explicit Reservoir(std::size_t capacity) : capacity_(capacity) {}

  void offer(const Record& record, Rng& rng) {
    ++seen_;
    if (items_.size() < capacity_) {
      items_.push_back(record);
    } else if (const std::uint64_t slot = rng.below(seen_); slot < capacity_) {
      items_[slot] = record;
    }
  }

  bool empty() const { return items_.empty(); }
  const Record& pick(Rng& rng) const { return items_[rng.below(items_.size())]; }

 private:
  std::size_t capacity_;
  std::uint64_t seen_ = 0;
  std::vector<Record> items_;
};

Record fresh_record(Rng& rng) {
  Record record;
  record.lang = pick_lang(rng);
  Exercise ex;
  const double u = rng.unit();
  if (u < 0.001) {
    record.lang = kEnglish;
    ex = tiny_exercise(rng);
  } else if (u < 0.007 && record.lang == kEnglish) {
    ex = long_exercise(rng);
  } else if (record.lang == kEnglish) {
    ex = english_exercise(rng);
  } else {
    ex = foreign_exercise(kLangs[record.lang], rng);
  }
  record.problem = std::move(ex.problem);
  record.answer = ex.answer;
  record.tag = ex.tag;
  record.level = rng.range(1, 5);
  record.has_solution = rng.chance(0.8);
  if (record.has_solution) {
    record.solution = make_solution(kLangs[record.lang], ex.steps, ex.answer, rng);
  }
  return record;
}

struct Options {
  std::uint64_t records = 0;
  std::uint64_t seed = 42;
  std::string out;
};

[[noreturn]] void usage(const char* message) {
  std::fprintf(stderr, "gen_prompts: %s\nusage: gen_prompts --records N [--seed S] --out FILE   (FILE - = stdout)\n",
               message);
  std::exit(2);
}

std::uint64_t parse_u64(const char* text, const char* what) {
  std::uint64_t value = 0;
  const char* end = text + std::strlen(text);
  const auto result = std::from_chars(text, end, value);
  if (result.ec != std::errc{} || result.ptr != end) {
    std::fprintf(stderr, "gen_prompts: %s must be a non-negative integer, got '%s'\n", what, text);
    std::exit(2);
  }
  return value;
}

Options parse_options(int argc, char** argv) {
  Options options;
  bool have_records = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") usage("generates synthetic math-prompt JSONL");
    if (i + 1 >= argc) usage("missing value after an option");
    if (arg == "--records") {
      options.records = parse_u64(argv[++i], "--records");
      have_records = true;
    } else if (arg == "--seed") {
      options.seed = parse_u64(argv[++i], "--seed");
    } else if (arg == "--out") {
      options.out = argv[++i];
    } else {
      usage("unknown option");
    }
  }
  if (!have_records) usage("--records is required");
  if (options.out.empty()) usage("--out is required");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);

  std::FILE* file = options.out == "-" ? stdout : std::fopen(options.out.c_str(), "wb");
  if (file == nullptr) {
    std::perror(("gen_prompts: cannot open " + options.out).c_str());
    return 1;
  }
  static char file_buffer[1 << 20];
  std::setvbuf(file, file_buffer, _IOFBF, sizeof file_buffer);

  Rng rng(options.seed);
  Reservoir earlier(1 << 16);
  std::string out;
  out.reserve(1 << 21);

  for (std::uint64_t index = 0; index < options.records; ++index) {
    // Duplicates copy an earlier record after its source quirks, so an exact duplicate's problem is
    // the same text (its bytes may still differ: the new source may escape it differently).
    const double u = rng.unit();
    Record record;
    if (u < 0.05 && !earlier.empty()) {
      record = earlier.pick(rng);  // exact duplicate problem; answer and solution travel with it
      if (rng.chance(0.3)) record.has_solution = false;
    } else if (u < 0.10 && !earlier.empty()) {
      record = earlier.pick(rng);
      record.problem = near_duplicate(record.problem, record.lang, rng);
    }
    const Source& source = kSources[pick_source(rng)];
    if (record.problem.empty()) {
      record = fresh_record(rng);
      apply_source_quirks(record, source, rng);
      earlier.offer(record, rng);
    }
    const double a = rng.unit();
    record.has_answer = a >= 0.01;
    if (a < 0.025 && record.has_answer) record.answer.clear();

    write_record(out, index, source, record, rng);
    if (out.size() >= (1 << 20)) {
      if (std::fwrite(out.data(), 1, out.size(), file) != out.size()) break;
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), file);
  if (std::ferror(file) != 0 || std::fflush(file) != 0) {
    std::perror("gen_prompts: write failed");
    return 1;
  }
  if (file != stdout && std::fclose(file) != 0) {
    std::perror("gen_prompts: close failed");
    return 1;
  }
  return 0;
}
