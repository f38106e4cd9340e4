// What a stage or a records sink reads in one batch: see gather.hpp.
#include "engine/gather.hpp"

#include <algorithm>

namespace tamis {

std::vector<Record*> gather(const Pipeline& p, Batch& b, const std::vector<InputRef>& inputs, const std::vector<bool>* clone) {
  if (inputs.size() == 1 && (!clone || !(*clone)[0])) return b.node_out[node_index(p, inputs[0])];
  std::vector<Record*> out;
  for (size_t k = 0; k < inputs.size(); ++k) {
    for (Record* r : b.node_out[node_index(p, inputs[k])]) {
      out.push_back(clone && (*clone)[k] ? &b.records.emplace_back(r->clone()) : r);
    }
  }
  // Each input is in input-line order; merge them so, ties in the order the inputs are listed.
  if (inputs.size() > 1)
    std::stable_sort(out.begin(), out.end(), [](const Record* a, const Record* c) { return a->origin < c->origin; });
  return out;
}

}  // namespace tamis
