#include "store/posix_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "store/store_error.h"

namespace vauth::store::posix {

namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path, int err = errno) {
  throw StoreIoError(what + " " + path.string() + ": " + std::strerror(err), err);
}

}  // namespace

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

int Fd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void ensure_private_dir(const std::filesystem::path& dir, const Warn& warn) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) fail("cannot create store directory", dir);
    // mkdir's mode is filtered by the umask; say exactly what we mean.
    if (::chmod(dir.c_str(), 0700) != 0) fail("cannot chmod store directory", dir);
    if (dir.has_parent_path()) fsync_dir(dir.parent_path());
    return;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) fail("cannot stat store directory", dir);
  if (!S_ISDIR(st.st_mode)) throw StoreError("store path " + dir.string() + " is not a directory");
  if (st.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    warn("store directory " + dir.string() + " has mode " + mode +
         ": group/others can reach the credentials' keys; chmod 700 it");
  }
}

void check_private_file(int fd, const std::filesystem::path& path, const Warn& warn) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("cannot stat", path);
  if (st.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    warn("store file " + path.string() + " has mode " + mode + ": group/others can read it; chmod 600 it");
  }
}

Fd open_file(const std::filesystem::path& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail("cannot open", path);
  if (flags & O_CREAT) ::fchmod(fd, mode);  // the umask must not widen or narrow it
  return Fd(fd);
}

Bytes read_all(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("cannot stat", path);
  Bytes out(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot read", path);
    if (n == 0) break;  // shrank under us; what we have is what there is
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

void pwrite_all(int fd, ByteView data, uint64_t offset, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot write", path);
    done += static_cast<size_t>(n);
  }
}

void fdatasync_or_throw(int fd, const std::filesystem::path& path) {
  if (::fdatasync(fd) != 0) fail("fdatasync failed on", path);
}

void fsync_or_throw(int fd, const std::filesystem::path& path) {
  if (::fsync(fd) != 0) fail("fsync failed on", path);
}

void fsync_dir(const std::filesystem::path& dir) {
  Fd fd = open_file(dir, O_RDONLY | O_DIRECTORY);
  if (::fsync(fd.get()) != 0) fail("fsync failed on directory", dir);
}

Fd lock_exclusive(const std::filesystem::path& path, std::string_view what) {
  Fd fd = open_file(path, O_RDWR | O_CREAT, 0600);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) fail("cannot lock", path);
    std::string holder;
    Bytes content = read_all(fd.get(), path);
    std::string pid = to_string(content);
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    holder = pid.empty() ? "another process" : "another process (pid " + pid + ")";
    throw StoreError(std::string(what) + " is in use by " + holder + "; lock file " + path.string());
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) == 0) pwrite_all(fd.get(), to_bytes(pid), 0, path);
  return fd;
}

}  // namespace vauth::store::posix
