#include "analysis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <tuple>

namespace tamis::fingerprint {

Smoothed smooth(double y_g, double n_g, double y_r, double n_r, double background, double n_background,
                double prior) {
  const double a0 = prior * n_r;
  const double alpha = n_background > 0 ? a0 * background / n_background : 0;
  Smoothed s{};
  s.group_rate = (y_g + alpha) / (n_g + a0);
  s.ref_rate = (y_r + alpha) / (n_r + a0);
  if (!(s.group_rate > 0) || !(s.ref_rate > 0) || !std::isfinite(s.group_rate) || !std::isfinite(s.ref_rate)) {
    // A zero count with prior 0, or an empty corpus (0/0): the ratio is undefined, so say "no evidence".
    s.log_ratio = 0;
    s.z = 0;
    return s;
  }
  s.log_ratio = std::log(s.group_rate / s.ref_rate);
  const double var = 1.0 / (y_g + alpha) + 1.0 / (y_r + alpha);
  s.z = std::isfinite(var) ? s.log_ratio / std::sqrt(var) : 0;
  return s;
}

double jaccard_distance(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  if (a.empty() && b.empty()) return 0;
  size_t i = 0, j = 0, common = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] < b[j]) ++i;
    else if (b[j] < a[i]) ++j;
    else ++common, ++i, ++j;
  }
  const size_t uni = a.size() + b.size() - common;
  return 1.0 - static_cast<double>(common) / static_cast<double>(uni);
}

double cosine_distance(const std::vector<double>& a, const std::vector<double>& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na <= 0 || nb <= 0) return 1.0;
  return std::max(0.0, 1.0 - dot / (std::sqrt(na) * std::sqrt(nb)));
}

std::vector<Merge> average_linkage(const std::vector<std::vector<double>>& distance,
                                   const std::vector<std::string>& names) {
  const int n = static_cast<int>(names.size());
  struct Cluster {
    int node;
    size_t size;
    std::string first;  // smallest name among its leaves
    std::vector<double> d;  // distance to every cluster slot
    bool alive;
  };
  std::vector<Cluster> cl;
  for (int i = 0; i < n; ++i) cl.push_back({i, 1, names[i], distance[i], true});
  std::vector<Merge> merges;
  for (int step = 0; step + 1 < n; ++step) {
    int bi = -1, bj = -1;
    auto key = [&](int i, int j) {
      const std::string& a = std::min(cl[i].first, cl[j].first);
      const std::string& b = std::max(cl[i].first, cl[j].first);
      return std::tie(cl[i].d[j], a, b);
    };
    for (int i = 0; i < n; ++i) {
      if (!cl[i].alive) continue;
      for (int j = i + 1; j < n; ++j) {
        if (!cl[j].alive) continue;
        if (bi < 0 || key(i, j) < key(bi, bj)) bi = i, bj = j;
      }
    }
    if (cl[bj].first < cl[bi].first) std::swap(bi, bj);
    merges.push_back({cl[bi].node, cl[bj].node, cl[bi].d[bj]});
    // Lance-Williams update for the average of all leaf-to-leaf distances.
    const double si = static_cast<double>(cl[bi].size), sj = static_cast<double>(cl[bj].size);
    for (int k = 0; k < n; ++k) {
      if (!cl[k].alive || k == bi || k == bj) continue;
      const double d = (si * cl[bi].d[k] + sj * cl[bj].d[k]) / (si + sj);
      cl[bi].d[k] = d;
      cl[k].d[bi] = d;
    }
    cl[bi].node = n + step;
    cl[bi].size += cl[bj].size;
    cl[bi].first = std::min(cl[bi].first, cl[bj].first);
    cl[bj].alive = false;
  }
  return merges;
}

std::string newick_label(const std::string& name) {
  bool safe = !name.empty();
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || c == '(' || c == ')' || c == '[' || c == ']' || c == '\'' || c == ':' || c == ';' || c == ',')
      safe = false;
  }
  if (safe) return name;
  std::string out = "'";
  for (const char c : name) {
    if (c == '\'') out += "''";
    else out.push_back(c);
  }
  return out + "'";
}

namespace {

std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

// Height of node (leaves 0, merges their height).
double height_of(int node, int n, const std::vector<Merge>& merges) {
  return node < n ? 0.0 : merges[static_cast<size_t>(node - n)].height;
}

void newick_rec(int node, int n, const std::vector<Merge>& merges, const std::vector<std::string>& names,
                std::string& out) {
  if (node < n) {
    out += newick_label(names[static_cast<size_t>(node)]);
    return;
  }
  const Merge& m = merges[static_cast<size_t>(node - n)];
  out.push_back('(');
  newick_rec(m.left, n, merges, names, out);
  out += ":" + fixed((m.height - height_of(m.left, n, merges)) / 2);
  out.push_back(',');
  newick_rec(m.right, n, merges, names, out);
  out += ":" + fixed((m.height - height_of(m.right, n, merges)) / 2);
  out.push_back(')');
}

void dendrogram_rec(int node, int n, const std::vector<Merge>& merges, const std::vector<std::string>& names,
                    const std::string& prefix, std::string& out) {
  if (node < n) {
    out += names[static_cast<size_t>(node)] + "\n";
    return;
  }
  const Merge& m = merges[static_cast<size_t>(node - n)];
  out += "+ " + fixed(m.height) + "\n";
  out += prefix + "|-- ";
  dendrogram_rec(m.left, n, merges, names, prefix + "|   ", out);
  out += prefix + "`-- ";
  dendrogram_rec(m.right, n, merges, names, prefix + "    ", out);
}

}  // namespace

std::string newick(const std::vector<Merge>& merges, const std::vector<std::string>& names) {
  const int n = static_cast<int>(names.size());
  std::string out;
  if (n > 0) newick_rec(n == 1 ? 0 : 2 * n - 2, n, merges, names, out);
  return out + ";";
}

std::string text_dendrogram(const std::vector<Merge>& merges, const std::vector<std::string>& names) {
  const int n = static_cast<int>(names.size());
  std::string out;
  if (n > 0) dendrogram_rec(n == 1 ? 0 : 2 * n - 2, n, merges, names, "", out);
  return out;
}

}  // namespace tamis::fingerprint
