// Known-answer and property tests for vauth::crypto. Vectors come from the
// standards named beside them and from the W3C WebAuthn test vectors
// (w3c/webauthn index.bs, "Test Vectors"; copied from /work/shared/golden).
#include <doctest/doctest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "vauth/base/bytes.h"
#include "vauth/crypto/keys.h"
#include "vauth/crypto/primitives.h"
#include "vauth/crypto/rng.h"
#include "vauth/crypto/x509.h"

using namespace vauth;
using namespace vauth::crypto;

namespace {

Bytes hex(std::string_view s) {
  auto b = from_hex(s);
  REQUIRE(b.has_value());
  return *b;
}

Bytes repeat(uint8_t byte, size_t n) { return Bytes(n, byte); }

// DER ECDSA-Sig-Value for 32-byte r and s whose top bit is set (each needs a 0x00 pad).
Bytes der_signature_high_bits(const Bytes& r, const Bytes& s) {
  REQUIRE((r[0] & 0x80) != 0);
  REQUIRE((s[0] & 0x80) != 0);
  return concat(Bytes{0x30, 0x46, 0x02, 0x21, 0x00}, r, Bytes{0x02, 0x21, 0x00}, s);
}

// Just enough CBOR to pull a byte string out of a WebAuthn attestationObject:
// finds the text-string key and decodes the byte string after it (skipping a
// one-element array head, as for "x5c").
Bytes cbor_bytes_after_key(const Bytes& obj, std::string_view key) {
  Bytes needle = concat(Bytes{static_cast<uint8_t>(0x60 + key.size())}, to_bytes(key));
  auto it = std::search(obj.begin(), obj.end(), needle.begin(), needle.end());
  REQUIRE(it != obj.end());
  size_t pos = static_cast<size_t>(it - obj.begin()) + needle.size();
  if (obj[pos] == 0x81) ++pos;
  size_t len = 0;
  uint8_t head = obj[pos++];
  if (head >= 0x40 && head <= 0x57) {
    len = head - 0x40u;
  } else if (head == 0x58) {
    len = obj[pos++];
  } else {
    REQUIRE(head == 0x59);
    len = get_u16_be(&obj[pos]);
    pos += 2;
  }
  REQUIRE(pos + len <= obj.size());
  return Bytes(obj.begin() + static_cast<long>(pos), obj.begin() + static_cast<long>(pos + len));
}

bool ends_with(const Bytes& data, const Bytes& tail) {
  return data.size() >= tail.size() && std::equal(tail.begin(), tail.end(), data.end() - static_cast<long>(tail.size()));
}

// COSE_Key encodings as authenticators put them in attested credential data.
Bytes cose_es256(const PublicKey& k) {
  return concat(Bytes{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20}, k.x(), Bytes{0x22, 0x58, 0x20},
                k.y());
}
Bytes cose_ed25519(const PublicKey& k) {
  return concat(Bytes{0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20}, k.x());
}

// Replays fixed chunks, then fails the test if asked for more.
class ScriptedRng final : public Rng {
 public:
  explicit ScriptedRng(std::vector<Bytes> chunks) : chunks_(std::move(chunks)) {}
  void fill(std::span<uint8_t> out) override {
    REQUIRE(next_ < chunks_.size());
    REQUIRE(chunks_[next_].size() == out.size());
    std::copy(chunks_[next_].begin(), chunks_[next_].end(), out.begin());
    ++next_;
  }
  size_t used() const { return next_; }

 private:
  std::vector<Bytes> chunks_;
  size_t next_ = 0;
};


// ---------------------------------------------------------------------------
// W3C WebAuthn test vectors (trust root, "packed-self ES256", "packed Ed25519").

constexpr std::string_view kCaKey =
    "7809337f05740a96a78eedf9e9280499dcc8f2aa129616049ec1dccfe103eb2a";
constexpr std::string_view kCaCert =
    "30820207308201ada003020102021100ed7f905d8bd0b414d1784913170a90b6300a06082a8648ce3d0403023062311e"
    "301c06035504030c15576562417574686e207465737420766563746f7273310c300a060355040a0c0357334331253023"
    "060355040b0c1c41757468656e74696361746f72204174746573746174696f6e204341310b3009060355040613024141"
    "3020170d3234303130313030303030305a180f33303234303130313030303030305a3062311e301c06035504030c1557"
    "6562417574686e207465737420766563746f7273310c300a060355040a0c0357334331253023060355040b0c1c417574"
    "68656e74696361746f72204174746573746174696f6e204341310b30090603550406130241413059301306072a8648ce"
    "3d020106082a8648ce3d030107034200043269300e5ff7b699015f70cf80a8763bf705bc2e2af0c1b39cff718b7c3588"
    "0ca30f319078d91b03389a006fdfc8a1dcd84edfa07d30aa13474a248a0dab5baaa3423040300f0603551d130101ff04"
    "0530030101ff300e0603551d0f0101ff040403020106301d0603551d0e0416041445aff715b0dd786741fee996ebc165"
    "47a3931b1e300a06082a8648ce3d04030203480030450220483063b6bb08dcc83da33a02c11d2f42203176893554d138"
    "c614a36908724cc8022100f5ef2c912d4500b3e2f5b591d0622491e9f220dfd1f9734ec484bb7e90887663";

constexpr std::string_view kEs256PrivateKey =
    "b4bbfa5d68e1693b6ef5a19a0e60ef7ee2cbcac81f7fec7006ac3a21e0c5116a";
constexpr std::string_view kEs256RegClientData =
    "7b2274797065223a22776562617574686e2e637265617465222c226368616c6c656e6765223a2265476e4374334c5574"
    "5936366b336a506a796e6962506b31716e666644616966715a774c33417032392d55222c226f726967696e223a226874"
    "7470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73652c226578747261446174"
    "61223a22636c69656e74446174614a534f4e206d617920626520657874656e6465642077697468206164646974696f6e"
    "616c206669656c647320696e20746865206675747572652c207375636820617320746869733a205539685458764b4532"
    "55526b4d6e625f307859485667227d";
constexpr std::string_view kEs256RegAttestationObject =
    "a363666d74667061636b65646761747453746d74a263616c672663736967584630440220067a20754ab925005dbf3780"
    "97c92120031581c73228d1fb4f5b881bcd7da98302207fc7b147558c7c0eba3af18bd9d121fa3d3a26d17fe3f2202721"
    "78f473b6006d68617574684461746158a4bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4"
    "b55d00000000df850e09db6afbdfab51697791506cfc0020455ef34e2043a87db3d4afeb39bbcb6cc32df9347c789a86"
    "5ecdca129cbef58ca5010203262001215820eb151c8176b225cc651559fecf07af450fd85802046656b34c18f6cf1938"
    "43c5225820927b8aa427a2be1b8834d233a2d34f61f13bfd44119c325d5896e183fee484f2";
constexpr std::string_view kEs256AuthData =
    "bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b50900000000";
constexpr std::string_view kEs256AuthClientData =
    "7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a225248696843784e534e493352"
    "594d45314f7731476d3132786e726b634a5f6666707637546e2d4a71386773222c226f726967696e223a226874747073"
    "3a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73652c22657874726144617461223a"
    "22636c69656e74446174614a534f4e206d617920626520657874656e6465642077697468206164646974696f6e616c20"
    "6669656c647320696e20746865206675747572652c207375636820617320746869733a206754623533727a3645685357"
    "6f6d58477a696d433151227d";
constexpr std::string_view kEs256AuthSignature =
    "304402203310b9431903c401f1be2bdc8d23a4007682dbbddcf846994947b7f465daf84002204e94dd00047b316061b3"
    "b99772b7efd95994a83ef584b3b6b825ea3550251b66";

constexpr std::string_view kEdPrivateKey =
    "971f38c0f73aaf0c5a614eb5e26430ae1ea0ed13e4f425d96e9662349340b0b3";
constexpr std::string_view kEdAttestationPrivateKey =
    "fbe7f950684f23afd045072a8b287ad29528707c662672850ac69733ffe0db85";
constexpr std::string_view kEdRegClientData =
    "7b2274797065223a22776562617574686e2e637265617465222c226368616c6c656e6765223a22714b76353272334773"
    "4e396a526d733576616e6f6f306f303459557a656c6e7878586d5a426e6254733730222c226f726967696e223a226874"
    "7470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73652c226578747261446174"
    "61223a22636c69656e74446174614a534f4e206d617920626520657874656e6465642077697468206164646974696f6e"
    "616c206669656c647320696e20746865206675747572652c207375636820617320746869733a20425f44543567375a44"
    "5f2d394f544c59583549764551227d";
constexpr std::string_view kEdRegAttestationObject =
    "a363666d74667061636b65646761747453746d74a363616c67266373696758483046022100d83f60bd80269537583218"
    "858aefb03ac57d45fa06e42feaae332d187f62da9f022100a02bd3cb6f7e1d283c93bad1f3f4b5a4c0494463da7fdbf2"
    "56949116754d1f17637835638159022730820223308201c8a003020102021100b2cfc9ea33c8643b0e1a760463eaf164"
    "300a06082a8648ce3d0403023062311e301c06035504030c15576562417574686e207465737420766563746f7273310c"
    "300a060355040a0c0357334331253023060355040b0c1c41757468656e74696361746f72204174746573746174696f6e"
    "204341310b30090603550406130241413020170d3234303130313030303030305a180f33303234303130313030303030"
    "305a305f311e301c06035504030c15576562417574686e207465737420766563746f7273310c300a060355040a0c0357"
    "334331223020060355040b0c1941757468656e74696361746f72204174746573746174696f6e310b3009060355040613"
    "0241413059301306072a8648ce3d020106082a8648ce3d03010703420004dd2b7a564b73b8c0b81c4c62e521925c4d11"
    "98ec9f583dbf1eebe364b65cd9c29a9bdf346aaa81fb6b9507e5249a52fdaf8e39e26b0b7dc45992a7e233b70f70a360"
    "305e300c0603551d130101ff04023000300e0603551d0f0101ff040403020780301d0603551d0e041604140ae27546bc"
    "7eccb1b4b597bd354f0c0b1f1f8f8e301f0603551d2304183016801445aff715b0dd786741fee996ebc16547a3931b1e"
    "300a06082a8648ce3d0403020349003046022100a0d434ecb5fc3bfd7da5f41904517ad2836249f561bd834ba7a438a8"
    "ab7a4ce8022100fac845bb7a02513b58e9f319654dbe49b0f02b95835bac568c71f8a18cdde9ab686175746844617461"
    "5881bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b54100000000d5aa33581e8ca478e2"
    "0fe713f5d32ff20020ce9f840ed96599580cd140fbc7bb3230633f50f61041aff73308ae71caa8a2bda4010103272006"
    "21582044e06ddd331c36a8dc667bab52bcae63486c916aa5e339e6acebaa84934bf832";
constexpr std::string_view kEdAuthData =
    "bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b50100000000";
constexpr std::string_view kEdAuthClientData =
    "7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a2269566c583442786a4f6d6d44"
    "534b4c596f7870557439736e364d48454f7943413135726947514a6e763949222c226f726967696e223a226874747073"
    "3a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73657d";
constexpr std::string_view kEdAuthSignature =
    "f5c59c7e46c34f6f8cc197101ddf9934fa2595f68eb1913a637e8419eb9ba4cfdfc48f85393bc0d40b011f0d6fecb097"
    "d6607525713223a0dc0d453993dae00b";

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr parse_x509(const Bytes& der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
  REQUIRE(cert != nullptr);
  return cert;
}

EVP_PKEY* native(const PrivateKey& k) { return static_cast<EVP_PKEY*>(k.native()); }

}  // namespace

// ---------------------------------------------------------------------------
// Algorithms

TEST_CASE("COSE algorithm identifiers") {
  CHECK(algorithm_from_cose(-7) == Algorithm::ES256);
  CHECK(algorithm_from_cose(-8) == Algorithm::EdDSA);
  CHECK(algorithm_from_cose(-35) == Algorithm::ES384);
  CHECK(algorithm_from_cose(-257) == Algorithm::RS256);
  CHECK_FALSE(algorithm_from_cose(-36).has_value());  // ES512
  CHECK_FALSE(algorithm_from_cose(-37).has_value());  // PS256
  CHECK_FALSE(algorithm_from_cose(0).has_value());
  CHECK(std::string_view(to_string(Algorithm::ES256)) == "ES256");
  CHECK(std::string_view(to_string(Algorithm::EdDSA)) == "EdDSA");
  CHECK(std::string_view(to_string(Algorithm::ES384)) == "ES384");
  CHECK(std::string_view(to_string(Algorithm::RS256)) == "RS256");
}

// ---------------------------------------------------------------------------
// Hashes, MACs, KDFs

TEST_CASE("SHA-256 (FIPS 180-2 'abc', empty input)") {
  CHECK(to_hex(sha256(to_bytes("abc"))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(sha256({})) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("HMAC-SHA-256 (RFC 4231 test cases 1 and 2)") {
  CHECK(to_hex(hmac_sha256(repeat(0x0b, 20), to_bytes("Hi There"))) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(to_hex(hmac_sha256(to_bytes("Jefe"), to_bytes("what do ya want for nothing?"))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // An empty key is legal HMAC (it pads to a zero block) and must not be
  // mistaken for "no key".
  CHECK(hmac_sha256({}, {}) == hmac_sha256(repeat(0, 32), {}));
}

TEST_CASE("HKDF-SHA-256 (RFC 5869 test cases 1 and 3)") {
  Bytes ikm = repeat(0x0b, 22);
  CHECK(to_hex(hkdf_sha256(ikm, hex("000102030405060708090a0b0c"), hex("f0f1f2f3f4f5f6f7f8f9"), 42)) ==
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  // Test case 3: empty salt and info; RFC 5869 then uses HashLen zero bytes as salt.
  Bytes tc3 = hkdf_sha256(ikm, {}, {}, 42);
  CHECK(to_hex(tc3) == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  CHECK(hkdf_sha256(ikm, repeat(0, 32), {}, 42) == tc3);
  CHECK(hkdf_sha256(ikm, {}, {}, 0).empty());
  // Empty IKM is legal too; cross-check one block against RFC 5869's definition
  // written with HMAC: PRK = HMAC(salt, IKM), T(1) = HMAC(PRK, info || 0x01).
  Bytes prk = hmac_sha256(to_bytes("salt"), {});
  CHECK(hkdf_sha256({}, to_bytes("salt"), to_bytes("info"), 32) ==
        hmac_sha256(prk, concat(to_bytes("info"), Bytes{0x01})));
  CHECK_THROWS_AS(hkdf_sha256(ikm, {}, {}, 255 * 32 + 1), std::invalid_argument);
}

TEST_CASE("HKDF-SHA-256 reproduces the W3C test-vector derivations") {
  // "attestation_ca_key = HKDF-SHA-256(IKM='WebAuthn test vectors', salt=h'00', info='Attestation CA', L=32)"
  CHECK(hkdf_sha256(to_bytes("WebAuthn test vectors"), Bytes{0x00}, to_bytes("Attestation CA"), 32) == hex(kCaKey));
  CHECK(hkdf_sha256(to_bytes("WebAuthn test vectors"), Bytes{0x01}, to_bytes("packed-self.ES256"), 32) ==
        hex(kEs256PrivateKey));
}

// ---------------------------------------------------------------------------
// Ciphers

TEST_CASE("AES-256-CBC (NIST SP 800-38A F.2.5/F.2.6)") {
  Bytes key = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  Bytes iv = hex("000102030405060708090a0b0c0d0e0f");
  Bytes plain = hex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  Bytes cipher = hex(
      "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
      "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b");
  CHECK(aes256_cbc_encrypt(key, iv, plain) == cipher);
  CHECK(aes256_cbc_decrypt(key, iv, cipher) == plain);
  CHECK(aes256_cbc_encrypt(key, iv, {}) == Bytes{});

  SUBCASE("size checks") {
    CHECK_FALSE(aes256_cbc_encrypt(key, iv, Bytes(15)).has_value());
    CHECK_FALSE(aes256_cbc_decrypt(key, iv, Bytes(33)).has_value());
    CHECK_FALSE(aes256_cbc_encrypt(Bytes(16), iv, plain).has_value());
    CHECK_FALSE(aes256_cbc_encrypt(key, Bytes(12), plain).has_value());
  }
}

TEST_CASE("AES-128-CBC (NIST SP 800-38A F.2.1/F.2.2)") {
  Bytes key = hex("2b7e151628aed2a6abf7158809cf4f3c");
  Bytes iv = hex("000102030405060708090a0b0c0d0e0f");
  Bytes plain = hex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  Bytes cipher = hex(
      "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
      "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
  CHECK(aes128_cbc_encrypt(key, iv, plain) == cipher);
  CHECK(aes128_cbc_decrypt(key, iv, cipher) == plain);
  CHECK_FALSE(aes128_cbc_encrypt(Bytes(32), iv, plain).has_value());  // an AES-256 key is not one
  CHECK_FALSE(aes128_cbc_decrypt(key, iv, Bytes(17)).has_value());
}

TEST_CASE("AES-256-GCM (GCM spec test cases 14 and 16)") {
  SUBCASE("test case 16: 256-bit key, AAD, 60-byte plaintext") {
    Bytes key = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    Bytes nonce = hex("cafebabefacedbaddecaf888");
    Bytes aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    Bytes plain = hex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    Bytes sealed = hex(
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        "76fc6ece0f4e1768cddf8853bb2d551b");
    CHECK(aes256_gcm_seal(key, nonce, aad, plain) == sealed);
    CHECK(aes256_gcm_open(key, nonce, aad, sealed) == plain);

    Bytes tampered = sealed;
    tampered[5] ^= 0x01;
    CHECK_FALSE(aes256_gcm_open(key, nonce, aad, tampered).has_value());
    tampered = sealed;
    tampered.back() ^= 0x80;
    CHECK_FALSE(aes256_gcm_open(key, nonce, aad, tampered).has_value());
    CHECK_FALSE(aes256_gcm_open(key, nonce, {}, sealed).has_value());
  }
  SUBCASE("test case 14: zero key, nonce and block") {
    Bytes sealed = hex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
    CHECK(aes256_gcm_seal(repeat(0, 32), repeat(0, 12), {}, repeat(0, 16)) == sealed);
    CHECK(aes256_gcm_open(repeat(0, 32), repeat(0, 12), {}, sealed) == repeat(0, 16));
  }
  SUBCASE("size checks") {
    CHECK_FALSE(aes256_gcm_seal(repeat(0, 16), repeat(0, 12), {}, {}).has_value());
    CHECK_FALSE(aes256_gcm_seal(repeat(0, 32), repeat(0, 16), {}, {}).has_value());
    CHECK_FALSE(aes256_gcm_open(repeat(0, 32), repeat(0, 12), {}, repeat(0, 15)).has_value());
    // Empty plaintext: just the tag, and it round-trips.
    auto tag_only = aes256_gcm_seal(repeat(0, 32), repeat(0, 12), {}, {});
    REQUIRE(tag_only.has_value());
    CHECK(to_hex(*tag_only) == "530f8afbc74536b9a963b4f1c4cb738b");
    CHECK(aes256_gcm_open(repeat(0, 32), repeat(0, 12), {}, *tag_only) == Bytes{});
  }
}

TEST_CASE("equal_ct and cleanse") {
  CHECK(equal_ct(to_bytes("abc"), to_bytes("abc")));
  CHECK_FALSE(equal_ct(to_bytes("abc"), to_bytes("abd")));
  CHECK_FALSE(equal_ct(to_bytes("abc"), to_bytes("abcd")));
  CHECK(equal_ct({}, {}));
  Bytes secret = to_bytes("secret");
  cleanse(secret);
  CHECK(secret == repeat(0, 6));
}

// ---------------------------------------------------------------------------
// Ed25519

TEST_CASE("Ed25519 (RFC 8032 section 7.1, tests 1 and 2)") {
  struct Vector {
    const char* secret;
    const char* public_key;
    const char* message;
    const char* signature;
  };
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
       "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
       "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  for (const auto& v : vectors) {
    CAPTURE(v.public_key);
    auto key = PrivateKey::from_bytes(Algorithm::EdDSA, hex(v.secret));
    REQUIRE(key.has_value());
    CHECK(key->algorithm() == Algorithm::EdDSA);
    CHECK(key->private_bytes() == hex(v.secret));
    CHECK(key->public_key().algorithm() == Algorithm::EdDSA);
    CHECK(key->public_key().x() == hex(v.public_key));
    CHECK(key->public_key().y().empty());
    Bytes message = hex(v.message);
    CHECK(key->sign(message) == hex(v.signature));

    auto pub = PublicKey::ed25519(hex(v.public_key));
    REQUIRE(pub.has_value());
    CHECK(pub->verify(message, hex(v.signature)));
    Bytes bad = hex(v.signature);
    bad[10] ^= 0x04;
    CHECK_FALSE(pub->verify(message, bad));
    CHECK_FALSE(pub->verify(to_bytes("other"), hex(v.signature)));
    Bytes truncated = hex(v.signature);
    truncated.pop_back();
    CHECK_FALSE(pub->verify(message, truncated));
    CHECK_FALSE(pub->verify(message, {}));
  }
  CHECK_FALSE(PublicKey::ed25519(Bytes(31)).has_value());
  CHECK_FALSE(PrivateKey::from_bytes(Algorithm::EdDSA, Bytes(33)).has_value());
}

// ---------------------------------------------------------------------------
// P-256

namespace {
// RFC 6979 A.2.5 (ECDSA, 256 bits (prime field)).
constexpr std::string_view kRfc6979Priv = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
constexpr std::string_view kRfc6979Ux = "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6";
constexpr std::string_view kRfc6979Uy = "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";
// With SHA-256, message "sample".
constexpr std::string_view kRfc6979R = "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716";
constexpr std::string_view kRfc6979S = "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8";
// The P-256 group order n.
constexpr std::string_view kP256Order = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
}  // namespace

TEST_CASE("P-256 key derivation and ECDSA verification (RFC 6979 A.2.5)") {
  auto key = PrivateKey::from_bytes(Algorithm::ES256, hex(kRfc6979Priv));
  REQUIRE(key.has_value());
  CHECK(key->algorithm() == Algorithm::ES256);
  CHECK(key->private_bytes() == hex(kRfc6979Priv));
  const PublicKey& pub = key->public_key();
  CHECK(pub.algorithm() == Algorithm::ES256);
  CHECK(pub.x() == hex(kRfc6979Ux));
  CHECK(pub.y() == hex(kRfc6979Uy));
  CHECK(pub.uncompressed_point() == concat(Bytes{0x04}, hex(kRfc6979Ux), hex(kRfc6979Uy)));

  Bytes sig = der_signature_high_bits(hex(kRfc6979R), hex(kRfc6979S));
  CHECK(pub.verify(to_bytes("sample"), sig));
  CHECK_FALSE(pub.verify(to_bytes("samplE"), sig));

  SUBCASE("malformed signatures are rejected, not thrown") {
    CHECK_FALSE(pub.verify(to_bytes("sample"), {}));
    CHECK_FALSE(pub.verify(to_bytes("sample"), Bytes(sig.begin(), sig.end() - 1)));
    CHECK_FALSE(pub.verify(to_bytes("sample"), concat(sig, Bytes{0x00})));
    CHECK_FALSE(pub.verify(to_bytes("sample"), concat(hex(kRfc6979R), hex(kRfc6979S))));  // raw r||s
    CHECK_FALSE(pub.verify(to_bytes("sample"), repeat(0x30, 70)));
    // Non-minimal DER (long-form length) of the same (r, s): malleable, so refused.
    Bytes long_form = concat(Bytes{0x30, 0x81, 0x46}, Bytes(sig.begin() + 2, sig.end()));
    CHECK_FALSE(pub.verify(to_bytes("sample"), long_form));
  }
  SUBCASE("sign / verify round trip") {
    Bytes message = to_bytes("vauth");
    Bytes signature = key->sign(message);
    CHECK(signature.size() <= 72);
    CHECK(signature[0] == 0x30);
    CHECK(pub.verify(message, signature));
  }
}

TEST_CASE("P-256 private scalar range") {
  Bytes order = hex(kP256Order);
  CHECK_FALSE(PrivateKey::from_bytes(Algorithm::ES256, repeat(0, 32)).has_value());
  CHECK_FALSE(PrivateKey::from_bytes(Algorithm::ES256, order).has_value());
  CHECK_FALSE(PrivateKey::from_bytes(Algorithm::ES256, repeat(0xff, 32)).has_value());
  CHECK_FALSE(PrivateKey::from_bytes(Algorithm::ES256, Bytes(31, 1)).has_value());
  CHECK_FALSE(PrivateKey::from_bytes(Algorithm::ES256, Bytes(33, 1)).has_value());

  Bytes n_minus_1 = order;
  n_minus_1.back() -= 1;
  auto top = PrivateKey::from_bytes(Algorithm::ES256, n_minus_1);
  REQUIRE(top.has_value());
  // (n-1)·G = -G: same x as the generator.
  CHECK(to_hex(top->public_key().x()) == "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");

  Bytes one(32, 0);
  one.back() = 1;
  auto small = PrivateKey::from_bytes(Algorithm::ES256, one);
  REQUIRE(small.has_value());
  CHECK(small->private_bytes() == one);  // left-padded to 32 bytes
}

TEST_CASE("PublicKey::p256 rejects points off the curve") {
  CHECK(PublicKey::p256(hex(kRfc6979Ux), hex(kRfc6979Uy)).has_value());
  Bytes bad_y = hex(kRfc6979Uy);
  bad_y.back() ^= 0x01;
  CHECK_FALSE(PublicKey::p256(hex(kRfc6979Ux), bad_y).has_value());
  CHECK_FALSE(PublicKey::p256(repeat(0, 32), repeat(0, 32)).has_value());
  CHECK_FALSE(PublicKey::p256(hex(kRfc6979Ux), Bytes(31)).has_value());
  // Coordinates >= p are not field elements.
  CHECK_FALSE(PublicKey::p256(repeat(0xff, 32), hex(kRfc6979Uy)).has_value());
}

TEST_CASE("P-256 ECDH: both sides agree") {
  SystemRng rng;
  PrivateKey alice = PrivateKey::generate(Algorithm::ES256, rng);
  PrivateKey bob = PrivateKey::generate(Algorithm::ES256, rng);
  auto ab = alice.ecdh_x(bob.public_key());
  auto ba = bob.ecdh_x(alice.public_key());
  REQUIRE(ab.has_value());
  REQUIRE(ba.has_value());
  CHECK(ab->size() == 32);
  CHECK(*ab == *ba);
  CHECK(*ab != *alice.ecdh_x(alice.public_key()));

  PrivateKey ed = PrivateKey::generate(Algorithm::EdDSA, rng);
  CHECK_FALSE(ed.ecdh_x(bob.public_key()).has_value());
  CHECK_FALSE(alice.ecdh_x(ed.public_key()).has_value());
}

TEST_CASE("SPKI DER round trip") {
  SystemRng rng;
  for (Algorithm alg : {Algorithm::ES256, Algorithm::EdDSA}) {
    CAPTURE(to_string(alg));
    PrivateKey key = PrivateKey::generate(alg, rng);
    Bytes der = key.public_key().spki_der();
    auto parsed = PublicKey::from_spki_der(der);
    REQUIRE(parsed.has_value());
    CHECK(parsed->algorithm() == alg);
    CHECK(parsed->x() == key.public_key().x());
    CHECK(parsed->y() == key.public_key().y());
    CHECK(parsed->verify(to_bytes("m"), key.sign(to_bytes("m"))));
    CHECK_FALSE(PublicKey::from_spki_der(concat(der, Bytes{0})).has_value());
    CHECK_FALSE(PublicKey::from_spki_der(Bytes(der.begin(), der.end() - 1)).has_value());
  }
  CHECK_FALSE(PublicKey::from_spki_der({}).has_value());
  CHECK_FALSE(PublicKey::from_spki_der(to_bytes("not der")).has_value());
}

TEST_CASE("PrivateKey copy and move share the key") {
  SystemRng rng;
  PrivateKey original = PrivateKey::generate(Algorithm::ES256, rng);
  Bytes scalar = original.private_bytes();
  PrivateKey copy = original;
  CHECK(copy.private_bytes() == scalar);
  CHECK(original.public_key().verify(to_bytes("x"), copy.sign(to_bytes("x"))));

  PrivateKey other = PrivateKey::generate(Algorithm::EdDSA, rng);
  other = copy;
  CHECK(other.algorithm() == Algorithm::ES256);
  CHECK(other.private_bytes() == scalar);
  auto& self = other;
  other = self;  // self-assignment keeps the key alive
  CHECK(other.private_bytes() == scalar);

  PrivateKey moved = std::move(copy);
  CHECK(moved.private_bytes() == scalar);
  PrivateKey target = PrivateKey::generate(Algorithm::EdDSA, rng);
  target = std::move(moved);
  CHECK(target.private_bytes() == scalar);
  CHECK(original.private_bytes() == scalar);
}

// Hot path (issue #10): imported keys are cached by SHA-256(alg || secret),
// ECDSA signs through a prepared context shared by copies of a key.
TEST_CASE("Imported keys are cached, bounded, and sign correctly") {
  SeededRng rng(10);
  for (Algorithm alg : {Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA}) {
    CAPTURE(to_string(alg));
    const PrivateKey generated = PrivateKey::generate(alg, rng);
    const Bytes raw = generated.private_bytes();
    auto first = PrivateKey::from_bytes(alg, raw);
    auto second = PrivateKey::from_bytes(alg, raw);
    REQUIRE(first.has_value());
    REQUIRE(second.has_value());
    CHECK(first->native() == second->native());  // the second import was a cache hit
    CHECK(first->public_key().x() == generated.public_key().x());
    CHECK(first->public_key().y() == generated.public_key().y());
    CHECK(first->private_bytes() == raw);
    // The digest matches the curve (ES384 uses SHA-384): PublicKey::verify checks it.
    const Bytes message = to_bytes("cached");
    CHECK(generated.public_key().verify(message, second->sign(message)));
    CHECK(generated.public_key().verify(message, first->sign(message)));
    CHECK_FALSE(generated.public_key().verify(to_bytes("cacheD"), first->sign(message)));
  }

  // More distinct keys than the cache holds: every import is still the right key.
  std::vector<Bytes> raws;
  for (int i = 0; i < 80; ++i) raws.push_back(PrivateKey::generate(Algorithm::ES256, rng).private_bytes());
  for (const Bytes& raw : raws) REQUIRE(PrivateKey::from_bytes(Algorithm::ES256, raw).has_value());
  for (const Bytes& raw : raws) {
    auto key = PrivateKey::from_bytes(Algorithm::ES256, raw);
    REQUIRE(key.has_value());
    CHECK(key->private_bytes() == raw);
    CHECK(key->public_key().verify(to_bytes("m"), key->sign(to_bytes("m"))));
  }
  // A cached entry never lets a bad scalar through, nor a key under another algorithm.
  CHECK_FALSE(PrivateKey::from_bytes(Algorithm::ES256, Bytes(32, 0)).has_value());
  auto as_ed25519 = PrivateKey::from_bytes(Algorithm::EdDSA, raws.front());
  REQUIRE(as_ed25519.has_value());
  CHECK(as_ed25519->algorithm() == Algorithm::EdDSA);
}

TEST_CASE("ECDSA signatures from copies of one key on several threads all verify") {
  SeededRng rng(11);
  const PrivateKey key = PrivateKey::generate(Algorithm::ES256, rng);
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, copy = key] {
      for (int i = 0; i < 50; ++i) {
        if (copy.public_key().verify(to_bytes("t"), copy.sign(to_bytes("t")))) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(good == 200);
}

// ---------------------------------------------------------------------------
// Randomness

TEST_CASE("SeededRng is a reproducible stream independent of read sizes") {
  SeededRng whole(42);
  Bytes expected = whole.bytes(100);

  for (size_t chunk : {1u, 3u, 7u, 16u, 17u, 33u, 64u}) {
    CAPTURE(chunk);
    SeededRng rng(42);
    Bytes got;
    while (got.size() < 100) append(got, rng.bytes(std::min<size_t>(chunk, 100 - got.size())));
    CHECK(got == expected);
  }
  SeededRng empty_reads(42);
  empty_reads.bytes(0);
  CHECK(empty_reads.bytes(100) == expected);

  CHECK(SeededRng(43).bytes(100) != expected);
  CHECK(SeededRng(0).bytes(32) != SeededRng(1).bytes(32));
  CHECK(expected != Bytes(100, 0));
}

TEST_CASE("SeededRng output is AES-256-CTR under SHA-256(label || seed)") {
  // Pins the construction so seeded runs stay reproducible across releases:
  // first block = AES-256-ECB_k(0^128), second block = AES_k(0...01).
  Bytes key = sha256(concat(to_bytes("vauth-seeded-rng-v1"), hex("0000000000000007")));
  Bytes counter_blocks = hex("00000000000000000000000000000000" "00000000000000000000000000000001");
  // CBC with a zero IV over one block is a single block encryption; do it per block.
  Bytes expected;
  for (size_t i = 0; i < 2; ++i) {
    Bytes block(counter_blocks.begin() + static_cast<long>(16 * i), counter_blocks.begin() + static_cast<long>(16 * i + 16));
    append(expected, *aes256_cbc_encrypt(key, repeat(0, 16), block));
  }
  CHECK(SeededRng(7).bytes(32) == expected);
}

TEST_CASE("SystemRng produces bytes") {
  SystemRng rng;
  Bytes a = rng.bytes(32), b = rng.bytes(32);
  CHECK(a.size() == 32);
  CHECK(a != b);
  CHECK(rng.bytes(0).empty());
}

TEST_CASE("Key generation from a seeded Rng is reproducible") {
  SeededRng r1(7), r2(7), r3(8);
  PrivateKey a = PrivateKey::generate(Algorithm::ES256, r1);
  PrivateKey b = PrivateKey::generate(Algorithm::ES256, r2);
  PrivateKey c = PrivateKey::generate(Algorithm::ES256, r3);
  CHECK(a.private_bytes() == b.private_bytes());
  CHECK(a.public_key().x() == b.public_key().x());
  CHECK(a.private_bytes() != c.private_bytes());
  // The key is exactly the first 32 bytes of the stream (accepted first time).
  CHECK(a.private_bytes() == SeededRng(7).bytes(32));

  PrivateKey e1 = PrivateKey::generate(Algorithm::EdDSA, r1);
  PrivateKey e2 = PrivateKey::generate(Algorithm::EdDSA, r2);
  CHECK(e1.private_bytes() == e2.private_bytes());
  CHECK(e1.sign(to_bytes("m")) == e2.sign(to_bytes("m")));
}

TEST_CASE("P-256 generation redraws out-of-range scalars") {
  Bytes valid = hex(kRfc6979Priv);
  ScriptedRng rng({repeat(0xff, 32), repeat(0, 32), hex(kP256Order), valid});
  PrivateKey key = PrivateKey::generate(Algorithm::ES256, rng);
  CHECK(rng.used() == 4);
  CHECK(key.private_bytes() == valid);
  CHECK(key.public_key().x() == hex(kRfc6979Ux));
}

// ---------------------------------------------------------------------------
// W3C WebAuthn test vectors

TEST_CASE("W3C packed self-attestation, ES256") {
  auto key = PrivateKey::from_bytes(Algorithm::ES256, hex(kEs256PrivateKey));
  REQUIRE(key.has_value());
  const PublicKey& pub = key->public_key();

  Bytes att_obj = hex(kEs256RegAttestationObject);
  Bytes auth_data = cbor_bytes_after_key(att_obj, "authData");
  // The credential public key in the attested credential data is ours.
  CHECK(ends_with(auth_data, cose_es256(pub)));
  // Self attestation: the credential key signs authData || SHA-256(clientDataJSON).
  Bytes att_sig = cbor_bytes_after_key(att_obj, "sig");
  CHECK(pub.verify(concat(auth_data, sha256(hex(kEs256RegClientData))), att_sig));

  Bytes assertion = concat(hex(kEs256AuthData), sha256(hex(kEs256AuthClientData)));
  CHECK(pub.verify(assertion, hex(kEs256AuthSignature)));
  CHECK_FALSE(pub.verify(concat(assertion, Bytes{0}), hex(kEs256AuthSignature)));
}

TEST_CASE("W3C packed attestation, Ed25519 credential") {
  auto key = PrivateKey::from_bytes(Algorithm::EdDSA, hex(kEdPrivateKey));
  REQUIRE(key.has_value());
  Bytes att_obj = hex(kEdRegAttestationObject);
  Bytes auth_data = cbor_bytes_after_key(att_obj, "authData");
  CHECK(ends_with(auth_data, cose_ed25519(key->public_key())));

  // EdDSA is deterministic: the assertion signature must match byte for byte.
  Bytes assertion = concat(hex(kEdAuthData), sha256(hex(kEdAuthClientData)));
  CHECK(key->sign(assertion) == hex(kEdAuthSignature));
  CHECK(key->public_key().verify(assertion, hex(kEdAuthSignature)));

  // Full attestation: the batch certificate carries the attestation key,
  // which signed authData || clientDataHash, and the W3C CA issued it.
  auto att_key = PrivateKey::from_bytes(Algorithm::ES256, hex(kEdAttestationPrivateKey));
  REQUIRE(att_key.has_value());
  Bytes x5c = cbor_bytes_after_key(att_obj, "x5c");
  auto cert_pub = certificate_public_key(x5c);
  REQUIRE(cert_pub.has_value());
  CHECK(cert_pub->x() == att_key->public_key().x());
  CHECK(cert_pub->y() == att_key->public_key().y());
  Bytes att_sig = cbor_bytes_after_key(att_obj, "sig");
  CHECK(cert_pub->verify(concat(auth_data, sha256(hex(kEdRegClientData))), att_sig));

  auto ca_key = PrivateKey::from_bytes(Algorithm::ES256, hex(kCaKey));
  REQUIRE(ca_key.has_value());
  X509Ptr cert = parse_x509(x5c);
  CHECK(X509_verify(cert.get(), native(*ca_key)) == 1);
}

TEST_CASE("W3C attestation trust root: the CA key matches the CA certificate") {
  auto ca_key = PrivateKey::from_bytes(Algorithm::ES256, hex(kCaKey));
  REQUIRE(ca_key.has_value());
  auto cert_pub = certificate_public_key(hex(kCaCert));
  REQUIRE(cert_pub.has_value());
  CHECK(cert_pub->algorithm() == Algorithm::ES256);
  CHECK(cert_pub->x() == ca_key->public_key().x());
  CHECK(cert_pub->y() == ca_key->public_key().y());
  Bytes truncated = hex(kCaCert);
  truncated.pop_back();
  CHECK_FALSE(certificate_public_key(truncated).has_value());
  CHECK_FALSE(certificate_public_key(to_bytes("junk")).has_value());
}

// ---------------------------------------------------------------------------
// X.509

namespace {

Bytes extension_value(X509* cert, const char* oid, bool* critical) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  REQUIRE(obj != nullptr);
  int index = X509_get_ext_by_OBJ(cert, obj, -1);
  ASN1_OBJECT_free(obj);
  if (index < 0) return {};
  X509_EXTENSION* ext = X509_get_ext(cert, index);
  if (critical) *critical = X509_EXTENSION_get_critical(ext) != 0;
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  return Bytes(ASN1_STRING_get0_data(data), ASN1_STRING_get0_data(data) + ASN1_STRING_length(data));
}

std::string name_entry(X509* cert, int nid) {
  char buf[256] = {0};
  int len = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), nid, buf, sizeof buf);
  return len < 0 ? std::string() : std::string(buf, static_cast<size_t>(len));
}

// Whether basicConstraints is present, critical, and says CA.
struct BasicConstraints {
  bool present = false, critical = false, ca = false;
};
BasicConstraints basic_constraints(X509* cert) {
  BasicConstraints out;
  int crit = -1;
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(cert, NID_basic_constraints, &crit, nullptr));
  if (bc) {
    out.present = true;
    out.critical = crit == 1;
    out.ca = bc->ca != 0;
    BASIC_CONSTRAINTS_free(bc);
  }
  return out;
}

constexpr std::array<uint8_t, 16> kAaguid = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                             0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};

}  // namespace

TEST_CASE("Attestation CA and batch certificate") {
  SeededRng rng(1);
  PrivateKey ca_key = PrivateKey::generate(Algorithm::ES256, rng);
  PrivateKey batch_key = PrivateKey::generate(Algorithm::ES256, rng);

  CertificateSpec ca_spec;
  ca_spec.common_name = "vauth Attestation CA";
  ca_spec.is_ca = true;
  ca_spec.usb_transport = false;
  ca_spec.serial = 0x1234567890abcdefULL;
  Bytes ca_der = issue_certificate(ca_spec, ca_key.public_key(), ca_key, std::nullopt);

  CertificateSpec batch_spec;
  batch_spec.organizational_unit = "Authenticator Attestation";
  batch_spec.common_name = "vauth Batch 1";
  batch_spec.aaguid = kAaguid;
  batch_spec.serial = 2;
  Bytes batch_der = issue_certificate(batch_spec, batch_key.public_key(), ca_key, ca_der);

  X509Ptr ca = parse_x509(ca_der);
  X509Ptr batch = parse_x509(batch_der);

  SUBCASE("signatures") {
    CHECK(X509_verify(ca.get(), native(ca_key)) == 1);
    CHECK(X509_verify(batch.get(), native(ca_key)) == 1);
    CHECK(X509_verify(batch.get(), native(batch_key)) != 1);
  }
  SUBCASE("the chain validates under OpenSSL's strict RFC 5280 checks") {
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
    REQUIRE(X509_STORE_add_cert(store.get(), ca.get()) == 1);
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), batch.get(), nullptr) == 1);
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_X509_STRICT);
    int ok = X509_verify_cert(ctx.get());
    CAPTURE(X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
    CHECK(ok == 1);
  }
  SUBCASE("names, serial, validity") {
    CHECK(name_entry(batch.get(), NID_organizationalUnitName) == "Authenticator Attestation");
    CHECK(name_entry(batch.get(), NID_commonName) == "vauth Batch 1");
    CHECK(name_entry(batch.get(), NID_countryName) == "US");
    CHECK(name_entry(batch.get(), NID_organizationName) == "vauth");
    CHECK(X509_NAME_get_index_by_NID(X509_get_subject_name(ca.get()), NID_organizationalUnitName, -1) < 0);
    CHECK(X509_NAME_cmp(X509_get_issuer_name(batch.get()), X509_get_subject_name(ca.get())) == 0);
    CHECK(X509_NAME_cmp(X509_get_issuer_name(ca.get()), X509_get_subject_name(ca.get())) == 0);
    CHECK(X509_get_version(batch.get()) == X509_VERSION_3);
    uint64_t serial = 0;
    REQUIRE(ASN1_INTEGER_get_uint64(&serial, X509_get0_serialNumber(ca.get())) == 1);
    CHECK(serial == 0x1234567890abcdefULL);
    CHECK(ASN1_TIME_cmp_time_t(X509_get0_notBefore(batch.get()), batch_spec.not_before_unix) == 0);
    CHECK(ASN1_TIME_cmp_time_t(X509_get0_notAfter(batch.get()), batch_spec.not_after_unix) == 0);
  }
  SUBCASE("basicConstraints") {
    BasicConstraints ca_bc = basic_constraints(ca.get());
    CHECK(ca_bc.present);
    CHECK(ca_bc.critical);
    CHECK(ca_bc.ca);
    BasicConstraints batch_bc = basic_constraints(batch.get());
    CHECK(batch_bc.present);
    CHECK(batch_bc.critical);
    CHECK_FALSE(batch_bc.ca);
    CHECK(X509_check_ca(ca.get()) != 0);
    CHECK(X509_check_ca(batch.get()) == 0);
    CHECK((X509_get_key_usage(ca.get()) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    CHECK(X509_get0_subject_key_id(ca.get()) != nullptr);
    CHECK(X509_get0_authority_key_id(batch.get()) != nullptr);
  }
  SUBCASE("FIDO extensions") {
    bool critical = true;
    Bytes aaguid_ext = extension_value(batch.get(), "1.3.6.1.4.1.45724.1.1.4", &critical);
    CHECK(aaguid_ext == concat(Bytes{0x04, 0x10}, Bytes(kAaguid.begin(), kAaguid.end())));
    CHECK_FALSE(critical);
    critical = true;
    CHECK(extension_value(batch.get(), "1.3.6.1.4.1.45724.2.1.1", &critical) == Bytes{0x03, 0x02, 0x05, 0x20});
    CHECK_FALSE(critical);
    CHECK(extension_value(ca.get(), "1.3.6.1.4.1.45724.1.1.4", nullptr).empty());
    CHECK(extension_value(ca.get(), "1.3.6.1.4.1.45724.2.1.1", nullptr).empty());
  }
  SUBCASE("public key and PEM") {
    auto pub = certificate_public_key(batch_der);
    REQUIRE(pub.has_value());
    CHECK(pub->x() == batch_key.public_key().x());
    CHECK(pub->y() == batch_key.public_key().y());

    std::string pem = certificate_to_pem(batch_der);
    CHECK(pem.rfind("-----BEGIN CERTIFICATE-----\n", 0) == 0);
    CHECK(pem.find("-----END CERTIFICATE-----") != std::string::npos);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    X509Ptr from_pem(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
    REQUIRE(from_pem != nullptr);
    CHECK(X509_cmp(from_pem.get(), batch.get()) == 0);
  }
  SUBCASE("an issuer key that does not match the issuer certificate is refused") {
    CHECK_THROWS_AS(issue_certificate(batch_spec, batch_key.public_key(), batch_key, ca_der), std::runtime_error);
    CHECK_THROWS_AS(issue_certificate(batch_spec, batch_key.public_key(), ca_key, to_bytes("junk")),
                    std::runtime_error);
  }
}

// The subject key is written into the certificate directly (not through
// X509_set_pubkey's encoder); its SubjectPublicKeyInfo must be the very DER
// OpenSSL's own encoder makes of the key.
TEST_CASE("A certificate carries its subject key's SubjectPublicKeyInfo") {
  SeededRng rng(11);
  PrivateKey issuer = PrivateKey::generate(Algorithm::ES256, rng);
  for (Algorithm alg : {Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA, Algorithm::RS256}) {
    CAPTURE(static_cast<int>(alg));
    PrivateKey subject = PrivateKey::generate(alg, rng);
    CertificateSpec spec;
    spec.common_name = "subject";
    Bytes der = issue_certificate(spec, subject.public_key(), issuer, std::nullopt);
    X509Ptr cert = parse_x509(der);
    REQUIRE(cert);
    unsigned char* spki = nullptr;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &spki);
    REQUIRE(len > 0);
    Bytes in_cert(spki, spki + len);
    OPENSSL_free(spki);
    CHECK(in_cert == subject.public_key().spki_der());
    auto back = certificate_public_key(der);
    REQUIRE(back.has_value());
    CHECK(back->x() == subject.public_key().x());
    CHECK(back->y() == subject.public_key().y());
  }
}

// Ed25519 signatures are deterministic, so the one-go chain can be compared
// byte for byte with the two-call issuance (which parses the CA back).
TEST_CASE("issue_certificate_chain gives the certificates two issue_certificate calls give") {
  SeededRng rng(12);
  PrivateKey ca_key = PrivateKey::generate(Algorithm::EdDSA, rng);
  PrivateKey leaf_key = PrivateKey::generate(Algorithm::ES256, rng);
  CertificateSpec ca_spec;
  ca_spec.common_name = "chain CA";
  ca_spec.is_ca = true;
  ca_spec.usb_transport = false;
  CertificateSpec leaf_spec;
  leaf_spec.organizational_unit = "Authenticator Attestation";
  leaf_spec.common_name = "chain leaf";
  leaf_spec.aaguid = std::array<uint8_t, 16>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  leaf_spec.serial = 77;

  CertificateChain chain = issue_certificate_chain(ca_spec, ca_key, leaf_spec, leaf_key.public_key());
  Bytes ca_der = issue_certificate(ca_spec, ca_key.public_key(), ca_key, std::nullopt);
  CHECK(chain.ca == ca_der);
  CHECK(chain.leaf == issue_certificate(leaf_spec, leaf_key.public_key(), ca_key, ca_der));
  X509Ptr ca = parse_x509(chain.ca);
  X509Ptr leaf = parse_x509(chain.leaf);
  CHECK(X509_verify(leaf.get(), native(ca_key)) == 1);
  // The leaf names its CA's key (authorityKeyIdentifier = the CA's SKI).
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(leaf.get());
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(ca.get());
  REQUIRE(aki);
  REQUIRE(ski);
  CHECK(ASN1_OCTET_STRING_cmp(aki, ski) == 0);
}

TEST_CASE("Ed25519-signed certificates") {
  SeededRng rng(2);
  PrivateKey ca_key = PrivateKey::generate(Algorithm::EdDSA, rng);
  PrivateKey leaf_key = PrivateKey::generate(Algorithm::EdDSA, rng);
  CertificateSpec ca_spec;
  ca_spec.common_name = "Ed25519 CA";
  ca_spec.is_ca = true;
  Bytes ca_der = issue_certificate(ca_spec, ca_key.public_key(), ca_key, std::nullopt);
  CertificateSpec leaf_spec;
  leaf_spec.common_name = "Ed25519 leaf";
  Bytes leaf_der = issue_certificate(leaf_spec, leaf_key.public_key(), ca_key, ca_der);

  X509Ptr ca = parse_x509(ca_der);
  X509Ptr leaf = parse_x509(leaf_der);
  CHECK(X509_verify(ca.get(), native(ca_key)) == 1);
  CHECK(X509_verify(leaf.get(), native(ca_key)) == 1);
  auto pub = certificate_public_key(leaf_der);
  REQUIRE(pub.has_value());
  CHECK(pub->algorithm() == Algorithm::EdDSA);
  CHECK(pub->x() == leaf_key.public_key().x());
  // Ed25519 signatures are deterministic, so the whole certificate is reproducible.
  CHECK(issue_certificate(leaf_spec, leaf_key.public_key(), ca_key, ca_der) == leaf_der);
}
