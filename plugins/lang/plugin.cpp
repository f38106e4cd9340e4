#include "ops.hpp"

TAMIS_PLUGIN("lang", "0.1.0", tamis::lang::LangId, tamis::lang::Consistency)
