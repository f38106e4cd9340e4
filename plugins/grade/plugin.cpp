#include "ops.hpp"

TAMIS_PLUGIN("grade", "0.1.0", tamis::grade::Grade, tamis::grade::Format, tamis::grade::Difficulty)
