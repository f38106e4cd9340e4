// tamis/temp_file.hpp: the temporary an output is written to before its rename (used by the host's
// sinks and the SDK's write_file_atomically).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <tamis/temp_file.hpp>

#include "test_support.hpp"

namespace tamis::test {
namespace {

// The name of the temporary for `target` in `dir`, at collision `attempt` (1: the first name).
std::string temp_name(const fs::path& dir, const std::string& target, int attempt = 1) {
  const std::string n = attempt == 1 ? "" : "-" + std::to_string(attempt);
  return (dir / ("." + target + ".tamis-tmp-" + std::to_string(::getpid()) + n + "." + files::host_name_for_files())).string();
}

// A symbolic link planted under the temporary's name (pointing at a file an attacker wants clobbered)
// is neither followed nor replaced: another name is taken, and the victim keeps its bytes.
TEST(TempFile, PlantedLinkAtTheTemporarysNameIsNotFollowed) {
  TempDir t;
  write_file(t / "victim", "precious\n");
  const std::string planted = temp_name(t.path(), "out.jsonl");
  fs::create_symlink(t / "victim", planted);
  files::Temporary tmp = files::create_temporary_beside((t / "out.jsonl").string());
  ASSERT_GE(tmp.fd, 0) << tmp.error;
  EXPECT_EQ(tmp.path, temp_name(t.path(), "out.jsonl", 2));
  ASSERT_EQ(::write(tmp.fd, "new\n", 4), 4);
  ::close(tmp.fd);
  EXPECT_EQ(read_file(t / "victim"), "precious\n");
  struct stat st;
  ASSERT_EQ(::lstat(planted.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(::lstat(tmp.path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  // A plain file planted there is not truncated either.
  write_file(temp_name(t.path(), "out.jsonl", 3), "also kept\n");
  files::Temporary again = files::create_temporary_beside((t / "out.jsonl").string());
  ASSERT_GE(again.fd, 0) << again.error;
  ::close(again.fd);
  EXPECT_EQ(again.path, temp_name(t.path(), "out.jsonl", 4));
  EXPECT_EQ(read_file(temp_name(t.path(), "out.jsonl", 3)), "also kept\n");
}

// Devices, FIFOs and directories are refused with a message naming them; a regular target's
// permission bits are carried over.
TEST(TempFile, NonRegularTargetsAreRefusedAndModesKept) {
  TempDir t;
  ASSERT_EQ(::mkfifo((t / "fifo").c_str(), 0600), 0);
  files::Temporary fifo = files::create_temporary_beside((t / "fifo").string());
  EXPECT_LT(fifo.fd, 0);
  EXPECT_NE(fifo.error.find("is a FIFO, not a regular file"), std::string::npos) << fifo.error;
  fs::create_symlink("/dev/null", t / "null");  // a link to the device: a regression touches the link only
  files::Temporary null = files::create_temporary_beside((t / "null").string());
  EXPECT_LT(null.fd, 0);
  EXPECT_NE(null.error.find("null' is a character device"), std::string::npos) << null.error;
  fs::create_directories(t / "dir");
  EXPECT_LT(files::create_temporary_beside((t / "dir").string()).fd, 0);

  write_file(t / "secret.jsonl", "x\n");
  ASSERT_EQ(::chmod((t / "secret.jsonl").c_str(), 0600), 0);
  files::Temporary tmp = files::create_temporary_beside((t / "secret.jsonl").string());
  ASSERT_GE(tmp.fd, 0) << tmp.error;
  ::close(tmp.fd);
  struct stat st;
  ASSERT_EQ(::stat(tmp.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

// A temporary's name says which target, process and machine it belongs to (the host's stale-temporary
// cleanup relies on it); other names, including those of older versions without a host, are not taken
// for temporaries.
TEST(TempFile, NamesAreParsedBack) {
  TempDir t;
  files::Temporary tmp = files::create_temporary_beside((t / "kept.jsonl.gz").string());
  ASSERT_GE(tmp.fd, 0) << tmp.error;
  ::close(tmp.fd);
  files::TemporaryName n;
  ASSERT_TRUE(files::parse_temporary_name(fs::path(tmp.path).filename().string(), n)) << tmp.path;
  EXPECT_EQ(n.target, "kept.jsonl.gz");
  EXPECT_EQ(n.pid, ::getpid());
  EXPECT_EQ(n.host, files::host_name_for_files());
  ASSERT_TRUE(files::parse_temporary_name(".a.tamis-tmp-12-3.node-7_x", n));
  EXPECT_EQ(n.target, "a");
  EXPECT_EQ(n.pid, 12);
  EXPECT_EQ(n.host, "node-7_x");
  for (const char* other : {"kept.jsonl", ".a.tamis-tmp-12", ".a.tamis-tmp-x.h", ".a.tamis-tmp-0.h", ".a.tamis-tmp-12.",
                            "a.tamis-tmp-12.h", ".a.tamis-tmp-12-.h", ".tamis-tmp-12.h"})
    EXPECT_FALSE(files::parse_temporary_name(other, n)) << other;
}

}  // namespace
}  // namespace tamis::test
