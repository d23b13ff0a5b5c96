#include "bench/report_pipe.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "transports/usbip_protocol.h"

namespace vauth::bench {
namespace usbip = transport::usbip;
namespace {

using SteadyTime = std::chrono::steady_clock;
constexpr uint32_t kInterruptEndpoint = 1;

int connect_tcp(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found) {
    throw std::runtime_error("usbip client: cannot resolve " + host);
  }
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool ok = fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0;
  ::freeaddrinfo(found);
  if (!ok) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("usbip client: cannot connect to " + host + ":" + std::to_string(port) + ": " +
                             std::strerror(errno));
  }
  // Every report waits for an answer: Nagle would hold it for the ACK.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void recv_exact(int fd, uint8_t* out, size_t n) {
  while (n > 0) {
    const ssize_t got = ::recv(fd, out, n, 0);
    if (got <= 0) throw std::runtime_error("usbip client: connection closed during import");
    out += got;
    n -= static_cast<size_t>(got);
  }
}

}  // namespace

UsbipPipe::UsbipPipe(const std::string& host, uint16_t port, const std::string& busid, size_t posted_in)
    : fd_(connect_tcp(host, port)), posted_in_(std::max<size_t>(posted_in, 1)) {
  const Bytes request = usbip::encode_import_request(busid);
  send_all(request.data(), request.size());
  uint8_t head[usbip::kOpHeaderSize];
  recv_exact(fd_, head, sizeof head);
  if (get_u16_be(head + 2) != usbip::kOpRepImport || get_u32_be(head + 4) != usbip::kStatusOk) {
    ::close(fd_);
    throw std::runtime_error("usbip client: import of " + busid + " refused");
  }
  uint8_t record[usbip::kDeviceRecordSize];
  recv_exact(fd_, record, sizeof record);
  const uint32_t busnum = get_u32_be(record + usbip::kPathSize + usbip::kBusIdSize);
  const uint32_t devnum = get_u32_be(record + usbip::kPathSize + usbip::kBusIdSize + 4);
  devid_ = (busnum << 16) | devnum;
  for (size_t i = 0; i < posted_in_; ++i) post_in();
}

UsbipPipe::~UsbipPipe() { drop(); }

void UsbipPipe::drop() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void UsbipPipe::send_all(const uint8_t* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("usbip client: send failed: " + std::string(std::strerror(errno)));
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void UsbipPipe::post_in() {
  usbip::CmdSubmit cmd;
  cmd.basic = {usbip::kCmdSubmit, ++seqnum_, devid_, usbip::kDirIn, kInterruptEndpoint};
  cmd.transfer_buffer_length = transport::kReportSize;
  in_seqnums_.insert(seqnum_);
  const Bytes wire = usbip::encode(cmd);
  send_all(wire.data(), wire.size());
}

void UsbipPipe::write(const Report* reports, size_t count) {
  // All OUT URBs of a message in one send: the way a client that writes a
  // whole message to hidraw keeps the wire busy.
  Bytes wire;
  wire.reserve(count * (usbip::kUrbHeaderSize + transport::kReportSize));
  usbip::CmdSubmit cmd;
  cmd.transfer_buffer_length = transport::kReportSize;
  for (size_t i = 0; i < count; ++i) {
    cmd.basic = {usbip::kCmdSubmit, ++seqnum_, devid_, usbip::kDirOut, kInterruptEndpoint};
    cmd.data.assign(reports[i].begin(), reports[i].end());
    append(wire, usbip::encode(cmd));
  }
  send_all(wire.data(), wire.size());
}

bool UsbipPipe::pump(SteadyTime::time_point deadline) {
  const auto is_in = [this](uint32_t seqnum) { return in_seqnums_.contains(seqnum); };
  while (reports_.empty()) {
    // Parse what is buffered first.
    size_t offset = 0;
    for (;;) {
      auto parsed = usbip::parse_urb_reply(ByteView(in_).subspan(offset), is_in);
      if (parsed.status == usbip::ParseStatus::kNeedMore) break;
      if (parsed.status == usbip::ParseStatus::kError) {
        throw std::runtime_error("usbip client: malformed reply: " + parsed.error);
      }
      offset += parsed.consumed;
      const auto& reply = parsed.message;
      if (reply.basic.command != usbip::kRetSubmit) continue;
      if (in_seqnums_.erase(reply.basic.seqnum)) {
        if (reply.status != 0) {
          ++errors_;
        } else {
          Report r{};
          std::copy_n(reply.data.begin(), std::min(reply.data.size(), r.size()), r.begin());
          reports_.push_back(r);
        }
        post_in();
      } else if (reply.status != 0) {
        ++errors_;  // an OUT report the server refused
      }
    }
    in_.erase(in_.begin(), in_.begin() + static_cast<ptrdiff_t>(offset));
    if (!reports_.empty()) break;

    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyTime::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) throw std::runtime_error("usbip client: poll failed");
    if (ready <= 0) continue;
    uint8_t buffer[16 * 1024];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) throw std::runtime_error("usbip client: the server closed the connection");
    in_.insert(in_.end(), buffer, buffer + n);
  }
  return true;
}

std::optional<Report> UsbipPipe::read(std::chrono::milliseconds timeout) {
  if (reports_.empty() && !pump(SteadyTime::now() + timeout)) return std::nullopt;
  Report r = reports_.front();
  reports_.pop_front();
  return r;
}

}  // namespace vauth::bench
