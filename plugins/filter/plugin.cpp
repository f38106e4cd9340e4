#include "ops.hpp"

TAMIS_PLUGIN("filter", "0.1.0", tamis::filter::Require, tamis::filter::Length, tamis::filter::Sample)
