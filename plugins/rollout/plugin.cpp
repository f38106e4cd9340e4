#include "sample.hpp"

TAMIS_PLUGIN("rollout", "0.1.0", tamis::rollout::Sample)
