// What a stage or a records sink reads in one batch: the records its inputs put out.
#pragma once

#include <vector>

#include "engine/batch.hpp"
#include "pipeline/pipeline.hpp"

namespace tamis {

// The index of an input's node in Batch::node_out: sources first, then stages.
inline int node_index(const Pipeline& p, const InputRef& in) {
  return in.node.kind == NodeRef::source ? in.node.index : static_cast<int>(p.sources.size()) + in.node.index;
}

// The records of `inputs` in this batch, merged in input-line order (ties in the order the inputs are
// listed). With `clone`, inputs flagged there are copied (the input is read by other consumers too, and
// the caller will change its records).
std::vector<Record*> gather(const Pipeline& p, Batch& b, const std::vector<InputRef>& inputs, const std::vector<bool>* clone);

}  // namespace tamis
