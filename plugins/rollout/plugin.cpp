#include <array>

#include "cache.hpp"
#include "sample.hpp"

namespace {

const std::array<tamis_command_desc, 1> kCommands = {{
    {sizeof(tamis_command_desc), "cache",
     "what a rollout cache holds (per model: prompts, responses, tokens), and its export as the sidecar grade.difficulty reads",
     "stats FILE.sqlite [--json]\nexport FILE.sqlite --out FILE.jsonl [--model NAME] [--prompts]",
     &tamis::rollout::cache_command},
}};

}  // namespace

TAMIS_PLUGIN_WITH_COMMANDS("rollout", "0.1.0", kCommands, tamis::rollout::Sample)
