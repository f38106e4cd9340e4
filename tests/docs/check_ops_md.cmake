# Checks that docs/ops.md is exactly what `tamis plugins docs` prints.
#
#   cmake -DTAMIS=path/to/tamis -DOPS_MD=path/to/docs/ops.md [-DWORK_DIR=dir] -P check_ops_md.cmake
#
# Fails (non-zero exit) when tamis fails, when docs/ops.md is missing, or when the two differ. The
# generated text is left in WORK_DIR/ops.md.generated for inspection.
foreach(var TAMIS OPS_MD)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_ops_md.cmake: pass -D${var}=...")
  endif()
endforeach()
if(NOT DEFINED WORK_DIR OR "${WORK_DIR}" STREQUAL "")
  set(WORK_DIR "${CMAKE_CURRENT_BINARY_DIR}")
endif()

set(regen "regenerate it with: build/core/tamis plugins docs > docs/ops.md")

execute_process(
  COMMAND "${TAMIS}" plugins docs
  OUTPUT_VARIABLE generated
  ERROR_VARIABLE errors
  RESULT_VARIABLE rc)
if(NOT rc STREQUAL "0")
  message(FATAL_ERROR "`${TAMIS} plugins docs` failed (exit ${rc}):\n${errors}")
endif()

file(MAKE_DIRECTORY "${WORK_DIR}")
set(generated_file "${WORK_DIR}/ops.md.generated")
file(WRITE "${generated_file}" "${generated}")

if(NOT EXISTS "${OPS_MD}")
  message(FATAL_ERROR "${OPS_MD} does not exist; ${regen}")
endif()
file(READ "${OPS_MD}" current)

if(NOT current STREQUAL generated)
  find_program(DIFF_EXE diff)
  if(DIFF_EXE)  # show what changed, unformatted, before the error
    execute_process(COMMAND "${DIFF_EXE}" -u "${OPS_MD}" "${generated_file}")
  endif()
  message(FATAL_ERROR
    "docs/ops.md is out of date: it differs from the output of `tamis plugins docs` "
    "(an op's parameter table changed, or an op was added or removed).\n"
    "${regen}\n"
    "(generated text: ${generated_file})")
endif()
message(STATUS "docs/ops.md is current")
