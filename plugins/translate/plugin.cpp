#include "ops.hpp"

TAMIS_PLUGIN("translate", "0.1.0", tamis::translate::Tag, tamis::translate::Export, tamis::translate::Import)
