#include "vauth/daemon/doctor.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "transports/hid_usage.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace vauth::daemon {
namespace {

constexpr const char* kUdevRule = "packaging/udev/70-vauth-fido.rules";

// Whose access the checks judge.
struct Subject {
  uid_t uid = 0;
  std::string name;
  std::vector<gid_t> groups;
};

std::optional<Subject> subject_for(const std::optional<std::string>& wanted) {
  Subject s;
  std::string who;
  if (wanted) {
    who = *wanted;
  } else if (const char* sudo = std::getenv("SUDO_UID"); sudo && geteuid() == 0) {
    who = sudo;
  } else {
    who = std::to_string(geteuid());
  }
  const passwd* pw = nullptr;
  uid_t uid = 0;
  const auto [end, ec] = std::from_chars(who.data(), who.data() + who.size(), uid);
  pw = (ec == std::errc() && end == who.data() + who.size()) ? getpwuid(uid) : getpwnam(who.c_str());
  if (pw) {
    s.uid = pw->pw_uid;
    s.name = pw->pw_name;
    int n = 64;
    s.groups.resize(static_cast<size_t>(n));
    if (getgrouplist(pw->pw_name, pw->pw_gid, s.groups.data(), &n) < 0) {
      s.groups.resize(static_cast<size_t>(n));
      getgrouplist(pw->pw_name, pw->pw_gid, s.groups.data(), &n);
    }
    s.groups.resize(static_cast<size_t>(std::max(n, 0)));
    return s;
  }
  if (ec != std::errc() || end != who.data() + who.size()) return std::nullopt;  // an unknown name
  s.uid = uid;
  s.name = "uid " + who;
  return s;
}

bool in_groups(const Subject& s, gid_t gid) {
  return std::find(s.groups.begin(), s.groups.end(), gid) != s.groups.end();
}

std::string group_name(gid_t gid) {
  const group* g = getgrgid(gid);
  return g ? g->gr_name : std::to_string(gid);
}

std::string user_name(uid_t uid) {
  const passwd* p = getpwuid(uid);
  return p ? p->pw_name : std::to_string(uid);
}

// A POSIX access ACL (the "system.posix_acl_access" xattr: version 2, then
// {u16 tag, u16 perm, u32 id} little-endian entries), as systemd-logind's
// uaccess sets on device nodes for the user at the seat. nullopt: no ACL.
struct AclEntry {
  uint16_t tag, perm;
  uint32_t id;
};
std::optional<std::vector<AclEntry>> read_acl(const fs::path& p) {
  std::vector<uint8_t> buf(1024);
  const ssize_t n = getxattr(p.c_str(), "system.posix_acl_access", buf.data(), buf.size());
  if (n < 4) return std::nullopt;
  auto u16 = [&](size_t i) { return static_cast<uint16_t>(buf[i] | (buf[i + 1] << 8)); };
  auto u32 = [&](size_t i) { return static_cast<uint32_t>(u16(i) | (uint32_t{u16(i + 2)} << 16)); };
  if (u32(0) != 2) return std::nullopt;
  std::vector<AclEntry> out;
  for (size_t i = 4; i + 8 <= static_cast<size_t>(n); i += 8) out.push_back({u16(i), u16(i + 2), u32(i + 4)});
  return out;
}

// The kernel's permission check (POSIX.1e ACL algorithm, else mode bits) for
// read+write, as an open(O_RDWR) by `s` would see it.
bool can_read_write(const fs::path& p, const struct stat& st, const Subject& s) {
  if (s.uid == 0) return true;
  constexpr unsigned kRw = 6;
  const auto acl = read_acl(p);
  if (!acl) {
    unsigned bits = st.st_mode & 7;
    if (st.st_uid == s.uid) {
      bits = (st.st_mode >> 6) & 7;
    } else if (in_groups(s, st.st_gid)) {
      bits = (st.st_mode >> 3) & 7;
    }
    return (bits & kRw) == kRw;
  }
  enum : uint16_t { kUserObj = 1, kUser = 2, kGroupObj = 4, kGroup = 8, kMask = 0x10, kOther = 0x20 };
  auto entry = [&](uint16_t tag, auto&& match) -> const AclEntry* {
    for (const auto& e : *acl) {
      if (e.tag == tag && match(e)) return &e;
    }
    return nullptr;
  };
  auto any = [](const AclEntry&) { return true; };
  const AclEntry* mask_entry = entry(kMask, any);
  const unsigned mask = mask_entry ? mask_entry->perm : 7;
  if (st.st_uid == s.uid) {
    const AclEntry* owner = entry(kUserObj, any);
    return owner && (owner->perm & kRw) == kRw;
  }
  if (const AclEntry* named = entry(kUser, [&](const AclEntry& e) { return e.id == s.uid; })) {
    return (named->perm & mask & kRw) == kRw;
  }
  // Any matching group entry that grants access does; matching ones that do not deny.
  bool group_matched = false;
  for (const auto& e : *acl) {
    const bool match = (e.tag == kGroupObj && in_groups(s, st.st_gid)) || (e.tag == kGroup && in_groups(s, e.id));
    if (!match) continue;
    group_matched = true;
    if ((e.perm & mask & kRw) == kRw) return true;
  }
  if (group_matched) return false;
  const AclEntry* other = entry(kOther, any);
  return other && (other->perm & kRw) == kRw;
}

std::string describe_mode(const fs::path& p, const struct stat& st) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
  std::string text = user_name(st.st_uid) + ":" + group_name(st.st_gid) + " " + mode;
  if (read_acl(p)) text += " +acl";
  return text;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string uevent_field(const std::string& uevent, const std::string& key) {
  std::istringstream in(uevent);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  }
  return {};
}

class Findings {
 public:
  explicit Findings(std::ostream& out) : out_(out) {}
  void ok(const std::string& what) { line("[ OK ] ", what, {}); }
  void info(const std::string& what) { line("[INFO] ", what, {}); }
  void warn(const std::string& what, const std::string& fix) { line("[WARN] ", what, fix); }
  void fail(const std::string& what, const std::string& fix) {
    line("[FAIL] ", what, fix);
    ++failures_;
  }

 private:
  void line(const char* tag, const std::string& what, const std::string& fix) {
    out_ << tag << what << "\n";
    if (!fix.empty()) out_ << "       fix: " << fix << "\n";
  }
  std::ostream& out_;
  int failures_ = 0;
};

fs::path under(const fs::path& root, const std::string& absolute) {
  return root / fs::path(absolute).relative_path();
}

// Returns whether vauthd run by `s` can create UHID devices.
bool check_uhid(Findings& r, const DoctorOptions& o, const Subject& s) {
  const fs::path uhid = under(o.root, o.uhid_path);
  struct stat st {};
  if (::stat(uhid.c_str(), &st) != 0) {
    const bool loaded = fs::exists(under(o.root, "/sys/module/uhid"));
    if (loaded) {
      r.fail(o.uhid_path + " does not exist although the uhid module is loaded (a container without the device?)",
             "give the container the device (docker run --device /dev/uhid), or create the node: "
             "sudo mknod -m 0660 " +
                 o.uhid_path + " c 10 239");
    } else {
      r.fail(o.uhid_path +
                 " does not exist: the uhid kernel module is not loaded, so vauthd cannot create "
                 "kernel HID keys (it falls back to USB/IP)",
             "sudo modprobe uhid   (at every boot: echo uhid | sudo tee /etc/modules-load.d/uhid.conf)");
    }
    return false;
  }
  if (!can_read_write(uhid, st, s)) {
    r.fail(o.uhid_path + " (" + describe_mode(uhid, st) + ") is not writable by " + s.name + ": vauthd run as " +
               s.name + " cannot create keys through it",
           "run vauthd as root, or install " + std::string(kUdevRule) + " (it gives " + o.uhid_path +
               " to group vauth: sudo groupadd -r vauth; sudo usermod -aG vauth " + s.name + "; sudo cp " + kUdevRule +
               " /etc/udev/rules.d/; sudo udevadm control --reload; "
               "sudo udevadm trigger; log in again)");
    return false;
  }
  r.ok(o.uhid_path + " (" + describe_mode(uhid, st) + "): " + s.name + " can create vauth keys through UHID");
  return true;
}

void check_hidraw(Findings& r, const DoctorOptions& o, const Subject& s) {
  const fs::path cls = under(o.root, "/sys/class/hidraw");
  std::vector<std::string> nodes;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(cls, ec)) nodes.push_back(entry.path().filename().string());
  std::sort(nodes.begin(), nodes.end());
  size_t fido = 0;
  for (const std::string& node : nodes) {
    const std::string rd = read_text(cls / node / "device" / "report_descriptor");
    const ByteView bytes(reinterpret_cast<const uint8_t*>(rd.data()), rd.size());
    if (!transport::declares_fido_usage_page(bytes)) continue;
    ++fido;
    const std::string uevent = read_text(cls / node / "device" / "uevent");
    const std::string label = "/dev/" + node + ": FIDO key \"" + uevent_field(uevent, "HID_NAME") + "\" (" +
                              uevent_field(uevent, "HID_ID") + ")";
    const fs::path dev = under(o.root, "/dev/" + node);
    struct stat st {};
    if (::stat(dev.c_str(), &st) != 0) {
      r.warn(label + " has no device node", "is devtmpfs mounted on /dev? (udev creates the node)");
      continue;
    }
    if (can_read_write(dev, st, s)) {
      r.ok(label + ", " + describe_mode(dev, st) + ": " + s.name + " can open it (browsers, fido2-token)");
    } else {
      r.fail(label + ", " + describe_mode(dev, st) + ": " + s.name +
                 " cannot open it, so browsers and fido2-token run as " + s.name + " will not see the key",
             "sudo cp " + std::string(kUdevRule) +
                 " /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger "
                 "(it gives FIDO hidraw nodes to the user at the seat and to group plugdev)");
    }
  }
  if (fido == 0) {
    r.info(
        "no FIDO hidraw node right now (usage page 0xF1D0 in /sys/class/hidraw/*/device/report_descriptor): "
        "start vauthd with UHID, or attach a USB/IP key, then run doctor again to check its permissions");
  }
}

void check_usbip(Findings& r, const DoctorOptions& o) {
  if (fs::exists(under(o.root, "/sys/devices/platform/vhci_hcd.0"))) {
    r.ok("vhci-hcd is loaded: USB/IP keys can be attached here (usbip attach -r 127.0.0.1 -b 1-1)");
  } else {
    r.warn("vhci-hcd is not loaded: USB/IP keys cannot be attached on this machine (only needed without UHID)",
           "sudo modprobe vhci-hcd");
  }
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream in(path);
    for (std::string d; std::getline(in, d, ':');) {
      if (!d.empty()) dirs.push_back(d);
    }
  }
  for (const char* d : {"/usr/sbin", "/sbin", "/usr/bin", "/usr/local/sbin"}) dirs.push_back(d);
  for (const std::string& d : dirs) {
    const fs::path tool = under(o.root, d + "/usbip");
    if (::access(tool.c_str(), X_OK) == 0) {
      r.ok("usbip tool: " + (fs::path(d) / "usbip").string());
      return;
    }
  }
  r.warn("the usbip tool is not installed (only needed to attach USB/IP keys)",
         "sudo apt-get install usbip   (other distributions: linux-tools / usbip-utils)");
}

}  // namespace

int run_doctor(const DoctorOptions& o, std::ostream& out) {
  const auto subject = subject_for(o.user);
  if (!subject) {
    out << "vauthd doctor: no such user \"" << *o.user << "\"\n";
    return 2;
  }
  out << "vauthd doctor: checking for " << subject->name << " (uid " << subject->uid << ")"
      << (o.root == "/" ? "" : " under " + o.root.string()) << "\n";
  Findings r(out);
  const bool uhid = check_uhid(r, o, *subject);
  check_hidraw(r, o, *subject);
  check_usbip(r, o);
  if (uhid) {
    out << "Result: the UHID route works: vauthd plugs keys in as HID devices.\n";
    return 0;
  }
  out << "Result: the UHID route does NOT work for " << subject->name
      << " (see FAIL above); vauthd would serve keys over USB/IP (--transport usbip) instead.\n";
  return 1;
}

int doctor_main(int argc, const char* const argv[]) {
  DoctorOptions o;
  std::string root = "/", user;
  po::options_description options("vauthd doctor [options]: check that this machine can use vauth keys");
  options.add_options()("help,h", "show this help and exit")("root", po::value(&root)->value_name("DIR"),
                                                             "look up /dev and /sys under DIR (tests)")(
      "uhid-path", po::value(&o.uhid_path)->value_name("PATH"), "the UHID device to check (default /dev/uhid)")(
      "user", po::value(&user)->value_name("USER"),
      "whose access to check: a name or uid (default: you; under sudo, the user who ran sudo)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "vauthd doctor: " << e.what() << " (see vauthd doctor --help)" << std::endl;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << options << "\nExit status: 0 when the UHID route is usable, 1 when not, 2 on bad usage.\n";
    return 0;
  }
  o.root = root;
  if (vm.count("user")) o.user = user;
  return run_doctor(o, std::cout);
}

}  // namespace vauth::daemon
