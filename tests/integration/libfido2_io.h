// libfido2 custom I/O (fido_dev_io_t) bound to in-process VirtualKeys by path.
#pragma once

#include <fido.h>

#include <string>

#include "tests/integration/virtual_key.h"

namespace vauth::test {

// Makes `key` openable by fido_dev_open(dev, path) after fido_dev_set_io_functions(dev, &kLoopbackIo).
void register_key(const std::string& path, VirtualKey* key);
void unregister_key(const std::string& path);

extern const fido_dev_io_t kLoopbackIo;

}  // namespace vauth::test
