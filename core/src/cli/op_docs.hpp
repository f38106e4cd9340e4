// Op descriptions generated from the plugins' parameter tables: `tamis plugins list|info|docs`.
#pragma once

#include <string>

#include "plugin/registry.hpp"

namespace tamis {

std::string format_op_list(const Registry& registry);
std::string format_op_info(const OpHandle& op);
// docs/ops.md: every op with its summary and parameter table, in Markdown, sorted by name.
std::string format_op_reference(const Registry& registry);
// A plugin command's summary and usage lines (Markdown, as in the reference).
std::string format_command_usage(const CommandHandle& c);

}  // namespace tamis
