#include "ops.hpp"

TAMIS_PLUGIN("basic", "0.1.0", tamis::basic::Require, tamis::basic::Length, tamis::basic::Rename, tamis::basic::Sample)
