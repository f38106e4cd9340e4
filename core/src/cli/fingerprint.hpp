// `tamis fingerprint`: which model wrote these texts? Profiles JSONL files grouped by a field with the
// fingerprint.profile op (plugins/fingerprint, docs/fingerprint.md) and prints each group's nearest
// neighbours and the clustering tree.
//
// It writes an ordinary pipeline file, OUT/pipeline.yaml, and runs it in-process with the same loader and
// engine as `tamis run`, so the run can be repeated or edited (`tamis run OUT/pipeline.yaml`).
#pragma once

namespace tamis::cli {

// argv[first..argc) are the arguments after `fingerprint`. Returns the process exit code (0, 1, 2, 130/143).
int fingerprint_main(int argc, char** argv, int first);

}  // namespace tamis::cli
