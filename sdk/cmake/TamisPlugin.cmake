# tamis_add_plugin(NAME SOURCES...)
#
# Makes a tamis plugin: a loadable module (lib<NAME>.so) linked to the header-only SDK, with hidden
# symbols except the two entry points that TAMIS_PLUGIN exports.
function(tamis_add_plugin name)
  if(NOT ARGN)
    message(FATAL_ERROR "tamis_add_plugin(${name}) needs source files")
  endif()
  add_library(${name} MODULE ${ARGN})
  if(TARGET Tamis::sdk)
    target_link_libraries(${name} PRIVATE Tamis::sdk)
  else()
    target_link_libraries(${name} PRIVATE tamis_sdk)
  endif()
  target_compile_features(${name} PRIVATE cxx_std_20)
  # GCC marks the SDK's function-local statics as unique symbols, which makes glibc refuse to unload
  # the library; plugins are loaded RTLD_LOCAL and need no such sharing.
  target_compile_options(${name} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-fno-gnu-unique>)
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
endfunction()
