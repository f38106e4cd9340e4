#include "ops.hpp"

TAMIS_PLUGIN("fingerprint", "0.1.0", tamis::fingerprint::Profile, tamis::fingerprint::Score)
