// libfido2 against a spawned `vauthd --transport udp`, through its custom I/O
// functions over a UDP socket: the SoloKeys/CanoKey simulator convention (one
// 64-byte report per datagram, no report ID), with ephemeral ports on both
// sides. Checks a make-credential + assertion that libfido2 verifies, and that
// the simulator's magic reboot datagram is a power cycle: the per-boot PIN
// failure counter and the reset window start afresh while the daemon runs on.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fido.h>
#include <fido/es256.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "transports/udp_endpoint.h"

namespace {

using namespace std::chrono_literals;

constexpr size_t kReport = 64;
const unsigned char kClientDataHash[32] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6,
                                           7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2};

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// The host side: a UDP socket on an ephemeral port; vauthd is told to answer there.
struct HostSocket {
  int fd = -1;
  uint16_t port = 0;
  uint16_t device_port = 0;  // where vauthd listens (from its readiness line)

  HostSocket() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a = loopback(0);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~HostSocket() { ::close(fd); }

  ssize_t send(const unsigned char* data, size_t n) const {
    const sockaddr_in to = loopback(device_port);
    return ::sendto(fd, data, n, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
};

// libfido2 custom I/O: the "path" is ignored, the handle is the test's socket.
HostSocket* g_host = nullptr;

void* io_open(const char*) {
  return g_host;
}
void io_close(void*) {}

int io_write(void* handle, const unsigned char* buf, size_t len) {
  // libfido2 puts the HID report ID (0) first; the UDP convention has none.
  if (len != kReport + 1) return -1;
  const ssize_t n = static_cast<HostSocket*>(handle)->send(buf + 1, kReport);
  return n == static_cast<ssize_t>(kReport) ? static_cast<int>(len) : -1;
}

int io_read(void* handle, unsigned char* buf, size_t len, int ms) {
  auto* host = static_cast<HostSocket*>(handle);
  pollfd p{host->fd, POLLIN, 0};
  if (::poll(&p, 1, ms < 0 ? 60'000 : ms) != 1) return -1;
  const ssize_t n = ::recv(host->fd, buf, len, 0);
  return n == static_cast<ssize_t>(kReport) ? static_cast<int>(n) : -1;
}

const fido_dev_io_t kUdpIo = {io_open, io_close, io_read, io_write};

// vauthd as a child process; its stdout is read until the readiness line.
class Vauthd {
 public:
  Vauthd(HostSocket& host, std::vector<std::string> extra) {
    std::vector<std::string> args = {VAUTHD_PATH,
                                     "--transport",
                                     "udp",
                                     "--udp-listen",
                                     "127.0.0.1:0",
                                     "--udp-peer",
                                     "127.0.0.1:" + std::to_string(host.port),
                                     "--store",
                                     "ephemeral",
                                     "--no-control",
                                     "--seed",
                                     "3"};
    args.insert(args.end(), extra.begin(), extra.end());
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
    ::close(out[1]);
    stdout_ = ::fdopen(out[0], "r");
    const std::regex ready(R"(ready: device 1 .* on udp 127\.0\.0\.1:(\d+) \(replies to 127\.0\.0\.1:(\d+)\))");
    char line[512];
    while (std::fgets(line, sizeof line, stdout_)) {
      std::cmatch m;
      if (std::regex_search(line, m, ready)) {
        host.device_port = static_cast<uint16_t>(std::stoi(m[1].str()));
        REQUIRE(std::stoi(m[2].str()) == host.port);
        return;
      }
    }
    FAIL("vauthd exited before its readiness line");
  }
  ~Vauthd() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    if (stdout_) std::fclose(stdout_);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  bool running() const { return ::kill(pid_, 0) == 0; }

 private:
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
};

struct Fixture {
  explicit Fixture(std::vector<std::string> extra = {}) : daemon(host, std::move(extra)) {
    g_host = &host;
    fido_init(0);
    dev = fido_dev_new();
    REQUIRE(fido_dev_set_io_functions(dev, &kUdpIo) == FIDO_OK);
    open();
  }
  ~Fixture() {
    fido_dev_close(dev);
    fido_dev_free(&dev);
    g_host = nullptr;
  }
  void open() { REQUIRE(fido_dev_open(dev, "udp") == FIDO_OK); }
  // The simulator's reboot request, then a fresh CTAPHID_INIT (the old channel is gone).
  void reboot() {
    REQUIRE(host.send(vauth::transport::kMagicReboot.data(), kReport) == static_cast<ssize_t>(kReport));
    fido_dev_close(dev);
    std::this_thread::sleep_for(100ms);  // datagrams are not ordered against our next INIT by anything but time
    open();
  }

  HostSocket host;
  Vauthd daemon;
  fido_dev_t* dev = nullptr;
};

int make_credential(fido_dev_t* dev, fido_cred_t* cred, const char* pin) {
  REQUIRE(fido_cred_set_type(cred, COSE_ES256) == FIDO_OK);
  REQUIRE(fido_cred_set_clientdata_hash(cred, kClientDataHash, sizeof kClientDataHash) == FIDO_OK);
  REQUIRE(fido_cred_set_rp(cred, "example.org", "Example") == FIDO_OK);
  const unsigned char uid[] = {1, 2, 3, 4};
  REQUIRE(fido_cred_set_user(cred, uid, sizeof uid, "alice", "Alice", nullptr) == FIDO_OK);
  return fido_dev_make_cred(dev, cred, pin);
}

}  // namespace

TEST_CASE("libfido2 over UDP: make a credential and get an assertion, both verified") {
  Fixture f;
  CHECK(fido_dev_is_fido2(f.dev));
  fido_cred_t* cred = fido_cred_new();
  REQUIRE(make_credential(f.dev, cred, nullptr) == FIDO_OK);
  CHECK(fido_cred_verify(cred) == FIDO_OK);  // packed attestation over authData || clientDataHash

  fido_assert_t* a = fido_assert_new();
  REQUIRE(fido_assert_set_clientdata_hash(a, kClientDataHash, sizeof kClientDataHash) == FIDO_OK);
  REQUIRE(fido_assert_set_rp(a, "example.org") == FIDO_OK);
  REQUIRE(fido_assert_allow_cred(a, fido_cred_id_ptr(cred), fido_cred_id_len(cred)) == FIDO_OK);
  REQUIRE(fido_dev_get_assert(f.dev, a, nullptr) == FIDO_OK);
  REQUIRE(fido_assert_count(a) == 1);
  es256_pk_t* pk = es256_pk_new();
  REQUIRE(es256_pk_from_ptr(pk, fido_cred_pubkey_ptr(cred), fido_cred_pubkey_len(cred)) == FIDO_OK);
  CHECK(fido_assert_verify(a, 0, COSE_ES256, pk) == FIDO_OK);
  es256_pk_free(&pk);
  fido_assert_free(&a);
  fido_cred_free(&cred);
}

TEST_CASE("libfido2 over UDP: the magic reboot datagram clears the per-boot PIN block") {
  Fixture f({"--pin", "123456"});
  // Three wrong PINs in one boot block PIN use until a power cycle (CTAP 2.1 §6.5.5.5).
  int last = FIDO_OK;
  for (int i = 0; i < 3; ++i) {
    fido_cred_t* cred = fido_cred_new();
    last = make_credential(f.dev, cred, "654321");
    fido_cred_free(&cred);
    CHECK((last == FIDO_ERR_PIN_INVALID || last == FIDO_ERR_PIN_AUTH_BLOCKED));
  }
  CHECK(last == FIDO_ERR_PIN_AUTH_BLOCKED);
  fido_cred_t* blocked = fido_cred_new();
  CHECK(make_credential(f.dev, blocked, "123456") == FIDO_ERR_PIN_AUTH_BLOCKED);
  fido_cred_free(&blocked);

  f.reboot();
  fido_cred_t* cred = fido_cred_new();
  CHECK(make_credential(f.dev, cred, "123456") == FIDO_OK);
  fido_cred_free(&cred);
  int retries = -1;
  CHECK(fido_dev_get_retry_count(f.dev, &retries) == FIDO_OK);
  CHECK(retries == 8);  // the right PIN restored the persistent counter too
  CHECK(f.daemon.running());
}

TEST_CASE("libfido2 over UDP: the magic reboot datagram opens a new reset window") {
  Fixture f({"--reset-window", "1"});
  std::this_thread::sleep_for(1200ms);
  CHECK(fido_dev_reset(f.dev) == FIDO_ERR_NOT_ALLOWED);
  f.reboot();
  CHECK(fido_dev_reset(f.dev) == FIDO_OK);
  CHECK(f.daemon.running());
}

TEST_CASE("libfido2 over UDP: datagrams of the wrong size are dropped and the key keeps answering") {
  Fixture f;
  const std::vector<unsigned char> junk(200, 0xff);
  for (size_t n : {size_t{1}, size_t{63}, size_t{65}, size_t{200}}) REQUIRE(f.host.send(junk.data(), n) >= 0);
  fido_cbor_info_t* info = fido_cbor_info_new();
  CHECK(fido_dev_get_cbor_info(f.dev, info) == FIDO_OK);
  fido_cbor_info_free(&info);
  CHECK(f.daemon.running());
}
