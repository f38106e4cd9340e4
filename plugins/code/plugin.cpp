#include "ops.hpp"

TAMIS_PLUGIN("code", "0.2.0", tamis::code::Format, tamis::code::Verify, tamis::code::Grade)
