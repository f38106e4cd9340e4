// Product version and build-time paths (values come from CMake, see core/CMakeLists.txt).
#pragma once

namespace tamis {

inline constexpr const char* kVersion = TAMIS_VERSION_STRING;
inline constexpr const char* kBuildDir = TAMIS_BUILD_DIR;
inline constexpr const char* kBuildPluginDir = TAMIS_BUILD_PLUGIN_DIR;
inline constexpr const char* kInstalledPluginDir = TAMIS_INSTALLED_PLUGIN_DIR;
inline constexpr const char* kInstalledPluginSubdir = TAMIS_INSTALLED_PLUGIN_SUBDIR;  // relative to the prefix

}  // namespace tamis
