#include "ops.hpp"

TAMIS_PLUGIN("map", "0.1.0", tamis::map::Rename, tamis::map::Set, tamis::map::Template, tamis::map::ExtractAnswer, tamis::map::ChoiceAnswer,
             tamis::map::ToVerl, tamis::map::ToOpenRlhf)
