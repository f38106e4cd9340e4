#include "decontaminate.hpp"
#include "ops.hpp"

TAMIS_PLUGIN("dedup", "0.1.0", tamis::dedup::Exact, tamis::dedup::MinHash, tamis::dedup::Decontaminate)
