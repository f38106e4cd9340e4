// The one logger of the host: messages to stderr, one line each, whole lines even from several threads.
#pragma once

#include <string_view>

namespace tamis::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, quiet = 4 };

void set_level(Level level);
Level level();
// `who` is a stage name or a component ("reader"); may be empty.
void write(Level level, std::string_view who, std::string_view message);

inline void info(std::string_view who, std::string_view m) { write(Level::info, who, m); }
inline void warn(std::string_view who, std::string_view m) { write(Level::warn, who, m); }
inline void error(std::string_view who, std::string_view m) { write(Level::error, who, m); }
inline void debug(std::string_view who, std::string_view m) { write(Level::debug, who, m); }

// Run while a log line is printed, so that a progress line on the terminal can be cleared first.
void set_before_write(void (*hook)());

}  // namespace tamis::log
