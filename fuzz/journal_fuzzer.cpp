// Arbitrary bytes as a journal file: opening must either succeed or throw
// StoreError (damage, wrong version, ...), never crash, hang or leak.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "store/journal_store.h"

namespace {

const std::filesystem::path& store_dir() {
  static const std::filesystem::path dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vauth-journal-fuzz-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) abort();
    return std::filesystem::path(tmpl);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path journal = store_dir() / "journal";
  int fd = ::open(journal.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) abort();
  for (size_t done = 0; done < size;) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) abort();
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  vauth::store::JournalOptions options;
  options.warn = [](std::string_view) {};
  try {
    vauth::store::JournalStore store(store_dir(), options);
    // What opened must also be writable back: a snapshot of the replayed state.
    if (store.state().credentials.size() < 64) store.compact();
  } catch (const vauth::store::StoreError&) {
  }
  return 0;
}
