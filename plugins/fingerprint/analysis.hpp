// The arithmetic of fingerprint.profile once counting is done: the smoothed over-representation of a
// feature, distances between groups, average-linkage clustering and its two renderings (Newick, text).
// Plain functions over plain data, so tests can check them without running a pipeline.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tamis::fingerprint {

// Over-representation of one feature in a group against the reference, with an informative Dirichlet
// prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words"): both sides get alpha = a0 * p_bg pseudo-counts,
// p_bg the feature's share of the pooled corpus (reference + every group), a0 = prior * n_ref.
struct Smoothed {
  double group_rate;  // (y_g + alpha) / (n_g + a0)
  double ref_rate;    // (y_r + alpha) / (n_r + a0)
  double log_ratio;   // ln(group_rate / ref_rate): the ranking key
  double z;           // log_ratio / sqrt(1/(y_g + alpha) + 1/(y_r + alpha)): evidence, reported
};
Smoothed smooth(double y_g, double n_g, double y_r, double n_r, double background, double n_background,
                double prior);

// Jaccard distance 1 - |A∩B| / |A∪B| of two sorted, distinct id lists (0 when both are empty).
double jaccard_distance(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
// Cosine distance 1 - a·b / (|a| |b|) of two equally long vectors (1 when either is all zeros).
double cosine_distance(const std::vector<double>& a, const std::vector<double>& b);

// One merge of average-linkage (UPGMA) clustering over n leaves 0..n-1: nodes n, n+1, ... are the
// merges in order. `height` is the average distance between the two merged clusters.
struct Merge {
  int left, right;
  double height;
};
// Deterministic: the closest pair merges first; on a tie, the pair whose smaller leaf names sort first.
// `left` is the child whose first name (in name order) sorts first.
std::vector<Merge> average_linkage(const std::vector<std::vector<double>>& distance,
                                   const std::vector<std::string>& names);

// Newick text of the tree, branch lengths = differences of half-heights (an ultrametric tree whose
// leaf-to-leaf path is the merge distance), labels quoted when they hold Newick punctuation.
std::string newick(const std::vector<Merge>& merges, const std::vector<std::string>& names);
// An indented text tree, each internal node with its merge distance.
std::string text_dendrogram(const std::vector<Merge>& merges, const std::vector<std::string>& names);
// A label as Newick writes it: bare when made of safe characters, else in single quotes ('' for ').
std::string newick_label(const std::string& name);

}  // namespace tamis::fingerprint
