// The few POSIX file operations the journal needs, each with errors turned into
// StoreError naming the path: descriptors, whole writes, fsync of files and
// directories, private directories, and the single-writer lock.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "vauth/base/bytes.h"

namespace vauth::store::posix {

using Warn = std::function<void(std::string_view)>;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  int release();
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Creates `dir` (and parents) if needed, mode 0700. Warns if an existing
// directory is accessible to group or others: credentials' private keys live there.
void ensure_private_dir(const std::filesystem::path& dir, const Warn& warn);
// Warns if the file is accessible to group or others.
void check_private_file(int fd, const std::filesystem::path& path, const Warn& warn);

// open(2) with O_CLOEXEC; throws with the path on failure.
Fd open_file(const std::filesystem::path& path, int flags, mode_t mode = 0600);
// The whole content of a file.
Bytes read_all(int fd, const std::filesystem::path& path);
// Writes all of `data` at `offset` (retrying short writes and EINTR).
void pwrite_all(int fd, ByteView data, uint64_t offset, const std::filesystem::path& path);
void fdatasync_or_throw(int fd, const std::filesystem::path& path);
void fsync_or_throw(int fd, const std::filesystem::path& path);
// Makes a rename or create in `dir` durable.
void fsync_dir(const std::filesystem::path& dir);

// An exclusive flock(2) on `path`, recording our PID in it so the error seen by a
// second daemon can name the first. Released when the Fd closes (also on kill -9).
Fd lock_exclusive(const std::filesystem::path& path, std::string_view what);

}  // namespace vauth::store::posix
