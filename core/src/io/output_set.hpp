// The end of a run as a two-phase commit: every output of the run (its sinks, its report, the side
// files its plugins wrote in finish) is put in place together, or none is.
//
//   prepare()  phase 1: every file is completed, fsynced and checked (still the regular file that was
//              written, with every byte; its target still a regular file or absent). A failure here
//              changes nothing: the run fails and its temporaries are deleted.
//   commit()   phase 2: a journal naming every (temporary, target) pair is written and fsynced beside
//              the first output (".tamis-commit-PID.HOST"); then each temporary is renamed over its
//              target, in order (the sinks, the side files, the report last); the folders are fsynced;
//              the journal is removed. The caller keeps signals from stopping it halfway
//              (set_committing in atomic_writer.hpp).
//
// What a crash (SIGKILL, power loss) can leave:
//   - before the journal is complete: every target as it was, plus temporaries of a dead process,
//     which the next run removes (remove_stale_temporaries);
//   - between two renames: some targets from the new run, the others as they were, and the journal
//     with the complete temporaries of the rest. The next run of tamis writing to that folder finds
//     the journal, finishes the renames (every file was already whole and checked) and says exactly
//     which files it put in place (recover_interrupted_commits), so the outputs are again one run's.
// A rename that fails (a permission changed under the run) stops the commit the same way: the error
// names what is in place and what is not, and the journal is kept for the next run.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <vector>

#include "io/atomic_writer.hpp"

namespace tamis::io {

// A commit that stopped after renaming some files: the message says which are in place.
class CommitError : public WriteError {
 public:
  using WriteError::WriteError;
};

class OutputSet {
 public:
  OutputSet() = default;
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;
  // Deletes the side files given with adopt() that were not put in place (and not left to a journal).
  ~OutputSet();

  // A sink writer, put in place by commit(); `last`: after every other file (the run report, so that a
  // new report means every other output is new too). Not owned.
  void add(AtomicWriter& writer, bool last = false);
  // A side file a plugin wrote in full to the temporary `temp`, to go over `target`. The set owns the
  // temporary from then on (deleted if the run fails, also by the signal handler). Returns "" or why
  // it is refused (then the temporary is still the caller's).
  std::string adopt(const std::string& temp, const std::string& target, const std::string& owner);

  // Phase 1. Throws WriteError naming the file; nothing is renamed.
  void prepare();
  // Phase 2. Throws CommitError (some files in place, the message says which) or WriteError (none).
  void commit();

  // The folders the outputs go to (for stale-temporary cleanup after the run).
  std::vector<std::string> folders() const;

 private:
  struct Entry {
    AtomicWriter* writer = nullptr;  // null for an adopted side file
    std::string temp, target, owner;
    dev_t dev = 0;
    ino_t ino = 0;
    bool placed = false;
    bool last = false;
  };
  void write_journal();
  bool released_ = false;  // the journal names the temporaries: leave them for the next run
  bool prepared_ = false;
  std::mutex mutex_;
  std::vector<Entry> entries_;  // writers in the order added, then side files in the order adopted
  std::vector<Entry*> order_;   // rename order, made by prepare()
  std::string journal_;
};

// Finishes the commits of tamis runs on this machine that died while putting their outputs in place in
// `folders` (their journals), and says what it did: one message per journal found.
std::vector<std::string> recover_interrupted_commits(const std::vector<std::string>& folders);

// Deletes, in `folders`, the temporaries of tamis processes of this machine that no longer run (a
// SIGKILL, a crash, a power loss); returns their paths. Those of live processes and of other machines
// are left alone.
std::vector<std::string> remove_stale_temporaries(const std::vector<std::string>& folders);

}  // namespace tamis::io
