// One emulated /dev/hidrawN inside a umockdev test bed, bridged to a vauthd
// SOCK_SEQPACKET socket (transports/seqpacket_endpoint.h).
//
// A program running under umockdev's preload library opens the node, and
// umockdev hands its read(), write() and ioctl() calls to this object (in the
// test bed's worker thread): ioctls are answered as the hidraw driver would
// (hidraw_semantics.h), a 65-byte write becomes one 64-byte packet to the
// daemon, and each packet from the daemon becomes one 64-byte read.
//
// Readiness: umockdev backs the node with a pseudo-terminal, which is what the
// program's poll()/epoll sees. We keep exactly one byte waiting in it while
// input reports are queued and none otherwise, so "readable" means "a read
// returns a report now" (Chromium and libfido2 wait for readability first).
// The byte itself is never read by the program: its read() is ours to answer.
//
// The daemon socket is connected at the first write and closed when no
// program has the node open any more (the pseudo-terminal hangs up), which
// the daemon treats as a host reset, as when a program closes a real
// /dev/hidrawN. Enumerating (open, ioctl, close) never touches the daemon.
#pragma once

#include <memory>
#include <string>

#include "kernelfree/hidraw_semantics.h"

typedef struct _UMockdevTestbed UMockdevTestbed;

namespace vauth::kernelfree {

class HidrawNode {
 public:
  // Attaches to `devnode` ("/dev/hidraw0"), which the test bed must already
  // hold (HidrawTestbed::add_key). Throws std::runtime_error.
  HidrawNode(UMockdevTestbed* testbed, std::string devnode, HidrawIdentity identity, std::string socket_path);
  ~HidrawNode();
  HidrawNode(const HidrawNode&) = delete;
  HidrawNode& operator=(const HidrawNode&) = delete;

  const std::string& devnode() const;
  // Reads that are waiting for a report return -1/EINTR: the program's
  // signals are blocked by the preload library while it waits on us, so a
  // signal we forward can only be delivered once its read returns.
  void interrupt_reads();
  // Closes the daemon connection; further reads/writes fail as on an unplugged key.
  void shut_down();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace vauth::kernelfree
