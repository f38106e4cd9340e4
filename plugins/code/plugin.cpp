#include "ops.hpp"

TAMIS_PLUGIN("code", "0.1.0", tamis::code::Format)
