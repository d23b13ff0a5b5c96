// Security properties from docs/security.md that no other test pins down:
// the store's file modes do not depend on the umask, and a wrong PIN's retry
// decrement is on disk before the authenticator answers.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "store/journal_store.h"
#include "vauth/base/timer_queue.h"
#include "vauth/cbor/codec.h"
#include "vauth/crypto/keys.h"
#include "vauth/crypto/primitives.h"
#include "vauth/crypto/rng.h"
#include "vauth/ctap/authenticator.h"
#include "vauth/ctap/pin_policy.h"
#include "tests/unit/temp_dir.h"

using namespace vauth;
namespace fs = std::filesystem;

namespace {

struct TempDir : vauth::test::TempDir {
  TempDir() : vauth::test::TempDir("vauth-security") {}
};

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

struct Umask {
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
  mode_t old;
};

}  // namespace

TEST_CASE("the journal store's directory is 0700 and its files 0600, whatever the umask") {
  TempDir t;
  const fs::path dir = t.path / "device-1";
  {
    const Umask permissive(0);  // a careless umask must not widen anything
    store::JournalStore s(dir);
    s.commit(store::Mutation{store::change::SetMasterSecret{Bytes(32, 7)}});
    s.compact();  // writes a snapshot through the temporary-file path too
    s.commit(store::Mutation{store::change::SetSignCount{1}});
  }
  CHECK(mode_of(dir) == 0700);
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    CAPTURE(entry.path().filename().string());
    CHECK(mode_of(entry.path()) == 0600);
  }
  CHECK(files >= 1);
}

TEST_CASE("a wrong PIN's retry decrement is durable before the authenticator answers") {
  TempDir t;
  const fs::path dir = t.path / "device-1";
  const std::string pin = "4321";
  ManualClock clock;
  TimerQueue timers(clock);
  crypto::SeededRng rng(3);
  ctap::AutoPresence presence;
  ctap::Profile profile;
  std::optional<uint8_t> retries_on_disk_at_reply;
  uint8_t status = 0xff;
  {
    store::JournalStore s(dir);
    s.commit(store::Mutation{store::change::SetPin{ctap::pin_hash(pin), profile.max_pin_retries}});
    ctap::Authenticator auth(ctap::Environment{s, rng, timers, presence, profile});

    // The platform side of PIN protocol 1: key agreement, then getPinToken with a wrong PIN.
    using Map = cbor::Value::Map;
    Bytes ka_request{0x06};
    append(ka_request, cbor::encode(cbor::Value(Map{{1, 1}, {2, 2}})));
    Bytes ka_reply;
    auth.handle_cbor(ka_request, [&](Bytes r) { ka_reply = std::move(r); });
    REQUIRE(ka_reply.size() > 1);
    REQUIRE(ka_reply[0] == 0);
    auto body = cbor::decode(ByteView(ka_reply).subspan(1));
    REQUIRE(body);
    const cbor::Value* key = body->find(1);
    REQUIRE(key);
    auto peer = crypto::PublicKey::p256(key->find(-2)->as_bytes(), key->find(-3)->as_bytes());
    REQUIRE(peer);
    crypto::SeededRng platform_rng(4);
    const auto platform = crypto::PrivateKey::generate(crypto::Algorithm::ES256, platform_rng);
    const Bytes shared = crypto::sha256(*platform.ecdh_x(*peer));
    Bytes wrong = crypto::sha256(to_bytes("9999"));
    wrong.resize(16);
    const Bytes pin_hash_enc = *crypto::aes256_cbc_encrypt(shared, Bytes(16, 0), wrong);
    const Map cose{{1, 2}, {3, -25}, {-1, 1}, {-2, platform.public_key().x()}, {-3, platform.public_key().y()}};
    Bytes request{0x06};
    append(request, cbor::encode(cbor::Value(Map{{1, 1}, {2, 5}, {3, cose}, {6, pin_hash_enc}})));

    auth.handle_cbor(request, [&](Bytes r) {
      status = r.empty() ? 0xff : r[0];
      // What a kill -9 right now would leave: open the journal as a second reader
      // would after the crash. (The lock is ours, so read the state through a copy.)
      const fs::path copy = t.path / "copy";
      fs::copy(dir, copy, fs::copy_options::recursive);
      fs::remove(copy / "lock");
      store::JournalStore after(copy);
      retries_on_disk_at_reply = after.state().pin_retries;
    });
  }
  CHECK(status == 0x31);  // CTAP2_ERR_PIN_INVALID
  REQUIRE(retries_on_disk_at_reply.has_value());
  CHECK(*retries_on_disk_at_reply == profile.max_pin_retries - 1);
}
