#include "vauth/cli/commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "vauth/cli/render.h"

namespace vauth::cli {

const char* const kCommandsHelp = R"(Commands (N is a device number, 1 for the first):
  devices                        list the daemon's keys
  status N                       state of key N: sign count, PIN, credentials, presence
  info N                         key N's authenticatorGetInfo (versions, options, limits, ...)
  credentials N                  its stored credentials (never the private keys)
  delete-credential N ID         delete one (ID is base64url; put -- before an ID that starts with -)
  delete-credentials N           delete all of them
  touch N | deny N               answer the presence request key N is waiting on
  presence N auto|deny|manual    how key N answers presence requests [--delay MS] [--timeout MS]
  uv N [auto|fail|manual|match|nomatch] [--timeout MS]
                                 the fingerprint sensor: show it, set its mode, or answer
                                 the reading key N waits for (match / nomatch)
  power-cycle N                  unplug and replug: PIN token, key agreement, pending state start over
  add-device [KEY=VALUE...]      plug in a new key; keys: pin, serial, name, presence (auto|deny|manual),
                                 store (durable|batched|ephemeral), plugged (true|false)
  remove-device N                unplug key N and forget it (a durable key's state stays on disk)
  unplug N | plug N              key N disappears from the host / comes back (state kept, power-cycled)
  reset N                        wipe key N: credentials, PIN, new master secret (no touch needed)
  set-pin N PIN                  set or replace the PIN
  clear-pin N                    remove the PIN (credentials stay)
  add-credential N FILE          add the credential FILE describes (W3C WebAuthn Automation Credential
                                 Parameters JSON; - reads stdin)
  export-credentials N [ID]      every stored credential (or one) WITH its private key, as JSON
  export N [FILE]                the whole key with every secret (a "golden key" document), to FILE
                                 (created 0600) or stdout
  import N FILE                  make key N the one FILE describes (replaces all it had; - reads stdin)
  fault add N RULE               inject a fault, e.g. ctap:getAssertion:status=OPERATION_DENIED,times=1
  fault list N                   key N's fault rules and how often each matched and fired
  fault clear N [ID]             remove every fault rule (or the one with ID) of key N
  events                         follow the event stream (requests, responses, prompts, devices)
  wait [--timeout S]             wait until the daemon answers and every key is plugged in (default 30 s)
  raw METHOD PATH [JSON]         any control API request, e.g. raw GET /v1/devices/1
)";

namespace {

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void need_args(const Invocation& inv, size_t min, size_t max, const char* form) {
  if (inv.args.size() < min || inv.args.size() > max) throw Usage(std::string("usage: vauthctl ") + form);
}

const std::string& device_arg(const Invocation& inv) {
  const std::string& n = inv.args.at(0);
  if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) {
    throw Usage("a device is a number (1 for the first), not \"" + n + "\"");
  }
  return n;
}

// Prints the answer: raw JSON with --json, otherwise what `human` makes of it.
// 4xx/5xx print the daemon's error and detail and give exit code 1.
template <class Human>
int answer(const Invocation& inv, const HttpResult& r, Human human) {
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status >= 400) {
    if (inv.json) std::cout << r.body;
    if (body.is_object() && body.contains("error")) {
      std::cerr << "vauthctl: " << body.value("error", "") << ": " << body.value("detail", "") << " (HTTP " << r.status
                << ")\n";
    } else {
      std::cerr << "vauthctl: vauthd answered HTTP " << r.status << "\n";
    }
    return kFailed;
  }
  if (inv.json) {
    std::cout << r.body;
    if (!r.body.empty() && r.body.back() != '\n') std::cout << "\n";
    return kOk;
  }
  if (body.is_discarded()) {
    std::cerr << "vauthctl: vauthd answered something that is not JSON\n";
    return kFailed;
  }
  human(body);
  return kOk;
}

// add-device pin=1234 presence=manual plugged=false -> {"pin":"1234","presence":"manual","plugged":false}.
// The daemon validates the values; only the shape is checked here.
nlohmann::json add_device_body(const Invocation& inv) {
  nlohmann::json body = nlohmann::json::object();
  for (const std::string& arg : inv.args) {
    const auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) throw Usage("add-device takes KEY=VALUE arguments, not \"" + arg + "\"");
    const std::string key = arg.substr(0, eq), value = arg.substr(eq + 1);
    if (key == "plugged") {
      if (value != "true" && value != "false") throw Usage("plugged=true or plugged=false");
      body[key] = value == "true";
    } else {
      body[key] = value;
    }
  }
  return body;
}

// A request body from FILE, or from stdin for "-".
std::string read_input(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Usage("cannot read " + path);
  text << in.rdbuf();
  return text.str();
}

// Writes secrets: the file is created (or truncated) with mode 0600 before anything is in it.
void write_secret_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, 0600) == 0;
  for (size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
}

int export_device(const Invocation& inv, const ControlClient& client, const std::string& path) {
  const HttpResult r = client.request("GET", path);
  if (r.status >= 400 || inv.args.size() == 1) {
    Invocation as_json = inv;
    as_json.json = true;  // the document itself is the output
    return answer(as_json, r, [](const nlohmann::json&) {});
  }
  write_secret_file(inv.args[1], r.body);
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  const size_t count = body.is_object() && body.contains("credentials") ? body["credentials"].size() : 0;
  if (inv.json)
    std::cout << nlohmann::json{{"device", inv.args[0]}, {"file", inv.args[1]}, {"credentials", count}} << "\n";
  else
    std::cout << "exported device " << inv.args[0] << " (" << count << " credential(s), secrets included) to "
              << inv.args[1] << "\n";
  return kOk;
}

int wait_ready(const Invocation& inv, const ControlClient& client) {
  using namespace std::chrono;
  const auto deadline = steady_clock::now() + seconds(inv.timeout.value_or(30));
  std::string last = "no answer yet";
  for (;;) {
    try {
      const HttpResult r = client.request("GET", "/v1/devices");
      const auto devices = nlohmann::json::parse(r.body, nullptr, false);
      if (r.status == 200 && devices.is_array() && !devices.empty()) {
        size_t ready = 0;
        for (const auto& d : devices) ready += d.value("ready", false);
        if (ready == devices.size()) {
          if (inv.json) std::cout << r.body;
          else std::cout << (ready == 1 ? "1 device ready\n" : std::to_string(ready) + " devices ready\n");
          return kOk;
        }
        last = std::to_string(ready) + " of " + std::to_string(devices.size()) + " devices ready";
      } else {
        last = "HTTP " + std::to_string(r.status);
      }
    } catch (const std::exception& e) {
      last = e.what();
    }
    if (steady_clock::now() >= deadline) {
      std::cerr << "vauthctl: gave up waiting for vauthd after " << inv.timeout.value_or(30) << " s (" << last << ")\n";
      return kFailed;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
}

int follow_events(const Invocation& inv, const ControlClient& client) {
  const HttpResult r = client.stream_events([&](const std::string& json) {
    if (inv.json) {
      std::cout << json << std::endl;
    } else {
      const auto e = nlohmann::json::parse(json, nullptr, false);
      if (e.is_object()) render_event(std::cout, e);
      std::cout.flush();
    }
  });
  if (r.status != 200) return answer(inv, r, [](const nlohmann::json&) {});
  std::cerr << "vauthctl: vauthd closed the event stream\n";
  return kOk;
}

// vauthctl fault add|list|clear N ...: the /v1/devices/N/faults resource. Rules
// travel as text ({"rule": ...}); the daemon parses and validates them.
int fault_command(const Invocation& inv, const ControlClient& client) {
  const char* form = "fault add N RULE | fault list N | fault clear N [ID]";
  if (inv.args.empty()) throw Usage(std::string("usage: vauthctl ") + form);
  Invocation rest = inv;
  rest.args.erase(rest.args.begin());
  const std::string& sub = inv.args[0];
  if (sub == "add") {
    need_args(rest, 2, 2, form);
    const std::string path = "/v1/devices/" + device_arg(rest) + "/faults";
    return answer(inv, client.request("POST", path, nlohmann::json{{"rule", rest.args[1]}}.dump()),
                  [&](const auto& j) {
                    std::cout << "added fault " << j.value("id", 0u) << " to device " << rest.args[0] << ": "
                              << j.value("rule", "") << "\n";
                  });
  }
  if (sub == "list") {
    need_args(rest, 1, 1, form);
    return answer(inv, client.request("GET", "/v1/devices/" + device_arg(rest) + "/faults"), [&](const auto& j) {
      if (j.empty()) std::cout << "device " << rest.args[0] << " has no fault rules\n";
      for (const auto& e : j) {
        std::cout << e.value("id", 0u) << "  " << e.value("rule", "") << "  (matched " << e.value("matched", 0u)
                  << ", fired " << e.value("fired", 0u) << ")\n";
      }
    });
  }
  if (sub == "clear") {
    need_args(rest, 1, 2, form);
    const std::string path = "/v1/devices/" + device_arg(rest) + "/faults" + (rest.args.size() == 2 ? "/" + rest.args[1] : "");
    return answer(inv, client.request("DELETE", path), [&](const auto& j) {
      if (j.contains("removed")) std::cout << "removed fault " << j.value("removed", 0u) << " from device " << rest.args[0] << "\n";
      else std::cout << "cleared " << j.value("cleared", 0u) << " fault rule(s) of device " << rest.args[0] << "\n";
    });
  }
  throw Usage(std::string("usage: vauthctl ") + form);
}

int dispatch(const Invocation& inv, const ControlClient& client) {
  const std::string& c = inv.command;
  auto dev = [&] { return "/v1/devices/" + device_arg(inv); };
  auto done = [](const std::string& text) { return [text](const nlohmann::json&) { std::cout << text << "\n"; }; };

  if (c == "devices") {
    need_args(inv, 0, 0, "devices");
    return answer(inv, client.request("GET", "/v1/devices"), [](const auto& j) { render_devices(std::cout, j); });
  }
  if (c == "status") {
    need_args(inv, 1, 1, "status N");
    return answer(inv, client.request("GET", dev()), [](const auto& j) { render_status(std::cout, j); });
  }
  if (c == "info") {  // the key's authenticatorGetInfo, with member names
    need_args(inv, 1, 1, "info N");
    return answer(inv, client.request("GET", dev() + "/info"), [](const auto& j) { std::cout << j.dump(2) << "\n"; });
  }
  if (c == "credentials") {
    need_args(inv, 1, 1, "credentials N");
    return answer(inv, client.request("GET", dev() + "/credentials"),
                  [&](const auto& j) { render_credentials(std::cout, j, inv.args[0]); });
  }
  if (c == "delete-credential") {
    need_args(inv, 2, 2, "delete-credential N ID");
    return answer(inv, client.request("DELETE", dev() + "/credentials/" + inv.args[1]),
                  done("deleted credential " + inv.args[1] + " from device " + inv.args[0]));
  }
  if (c == "delete-credentials") {
    need_args(inv, 1, 1, "delete-credentials N");
    return answer(inv, client.request("DELETE", dev() + "/credentials"), [&](const auto& j) {
      std::cout << "deleted " << j.value("deleted", 0u) << " credential(s) from device " << inv.args[0] << "\n";
    });
  }
  if (c == "touch" || c == "deny") {
    need_args(inv, 1, 1, c == "touch" ? "touch N" : "deny N");
    return answer(inv, client.request("POST", dev() + "/" + c), [&](const auto& j) {
      std::cout << (c == "touch" ? "approved" : "denied") << " the pending " << j.value("operation", "request")
                << (j.value("rpId", "").empty() ? "" : " for " + j.value("rpId", "")) << " on device " << inv.args[0]
                << "\n";
    });
  }
  if (c == "presence") {
    need_args(inv, 1, 2, "presence N [auto|deny|manual] [--delay MS] [--timeout MS]");
    if (inv.args.size() == 1 && !inv.delay && !inv.timeout) {
      return answer(inv, client.request("GET", dev() + "/presence"),
                    [&](const auto& j) { render_presence(std::cout, j, inv.args[0]); });
    }
    nlohmann::json body = nlohmann::json::object();
    if (inv.args.size() == 2) body["mode"] = inv.args[1];
    if (inv.delay) body["delay_ms"] = *inv.delay;
    if (inv.timeout) body["timeout_ms"] = *inv.timeout;
    return answer(inv, client.request("PUT", dev() + "/presence", body.dump()),
                  [&](const auto& j) { render_presence(std::cout, j, inv.args[0]); });
  }
  if (c == "uv") {
    need_args(inv, 1, 2, "uv N [auto|fail|manual|match|nomatch] [--timeout MS]");
    auto show = [&](const auto& j) {
      std::cout << "device " << inv.args[0] << " sensor: " << j.value("mode", "?") << ", "
                << j.value("enrolled", 0u) << " finger(s) enrolled, " << j.value("uvRetries", 0u) << " UV retries"
                << (j.contains("pending") && !j["pending"].is_null() ? ", waiting for a finger" : "") << "\n";
    };
    if (inv.args.size() == 2 && (inv.args[1] == "match" || inv.args[1] == "nomatch")) {
      return answer(inv, client.request("POST", dev() + "/uv/" + inv.args[1]), [&](const auto& j) {
        std::cout << "answered the pending " << j.value("operation", "reading") << " on device " << inv.args[0]
                  << ": " << j.value("result", "?") << "\n";
      });
    }
    if (inv.args.size() == 1 && !inv.timeout) return answer(inv, client.request("GET", dev() + "/uv"), show);
    nlohmann::json body = nlohmann::json::object();
    if (inv.args.size() == 2) body["mode"] = inv.args[1];
    if (inv.timeout) body["timeout_ms"] = *inv.timeout;
    return answer(inv, client.request("PUT", dev() + "/uv", body.dump()), show);
  }
  if (c == "power-cycle") {
    need_args(inv, 1, 1, "power-cycle N");
    return answer(inv, client.request("POST", dev() + "/power-cycle"), done("power-cycled device " + inv.args[0]));
  }
  if (c == "add-device") {
    return answer(inv, client.request("POST", "/v1/devices", add_device_body(inv).dump()), [](const auto& j) {
      std::cout << "added device " << j.value("index", 0u) << (j.value("ready", false) ? " on " : " (unplugged)")
                << (j.value("ready", false) ? j.value("transport", "") + " " + j.value("where", "") : "") << "\n";
    });
  }
  if (c == "remove-device") {
    need_args(inv, 1, 1, "remove-device N");
    return answer(inv, client.request("DELETE", dev()), done("removed device " + inv.args[0]));
  }
  if (c == "plug" || c == "unplug") {
    need_args(inv, 1, 1, c == "plug" ? "plug N" : "unplug N");
    return answer(inv, client.request("POST", dev() + "/" + c), [&](const auto& j) {
      std::cout << (c == "plug" ? "plugged in device " : "unplugged device ") << inv.args[0]
                << (c == "plug" ? " on " + j.value("transport", "") + " " + j.value("where", "") : "") << "\n";
    });
  }
  if (c == "reset") {
    need_args(inv, 1, 1, "reset N");
    return answer(inv, client.request("POST", dev() + "/reset"),
                  done("reset device " + inv.args[0] + ": no credentials, no PIN, new master secret"));
  }
  if (c == "set-pin") {
    need_args(inv, 2, 2, "set-pin N PIN");
    return answer(inv, client.request("PUT", dev() + "/pin", nlohmann::json{{"pin", inv.args[1]}}.dump()),
                  done("set the PIN of device " + inv.args[0]));
  }
  if (c == "clear-pin") {
    need_args(inv, 1, 1, "clear-pin N");
    return answer(inv, client.request("DELETE", dev() + "/pin"), [&](const auto& j) {
      std::cout << (j.value("cleared", false) ? "cleared the PIN of device " : "device ") << inv.args[0]
                << (j.value("cleared", false) ? "" : " had no PIN") << "\n";
    });
  }
  if (c == "add-credential") {
    need_args(inv, 2, 2, "add-credential N FILE");
    return answer(inv, client.request("POST", dev() + "/credentials", read_input(inv.args[1])), [&](const auto& j) {
      std::cout << "added " << (j.value("isResidentCredential", false) ? "resident" : "non-resident") << " credential "
                << j.value("credentialId", "") << " for " << j.value("rpId", "") << " to device " << inv.args[0]
                << (j.contains("replaced") ? " (replaced " + j.value("replaced", "") + ")" : "") << "\n";
    });
  }
  if (c == "export-credentials") {
    need_args(inv, 1, 2, "export-credentials N [ID]");
    Invocation as_json = inv;
    as_json.json = true;  // private keys have no human form
    const std::string one = inv.args.size() == 2 ? "/" + inv.args[1] : "";
    return answer(as_json, client.request("GET", dev() + "/credentials" + one + "?include=privateKey"),
                  [](const nlohmann::json&) {});
  }
  if (c == "export") {
    need_args(inv, 1, 2, "export N [FILE]");
    return export_device(inv, client, dev() + "/export");
  }
  if (c == "import") {
    need_args(inv, 2, 2, "import N FILE");
    return answer(inv, client.request("POST", dev() + "/import", read_input(inv.args[1])), [&](const auto& j) {
      std::cout << "imported " << inv.args[1] << " into device " << inv.args[0] << ": " << j.value("credentials", 0u)
                << " credential(s), " << (j.value("pinSet", false) ? "PIN set" : "no PIN") << ", sign count "
                << j.value("signCount", 0u) << "\n";
    });
  }
  if (c == "fault") return fault_command(inv, client);
  if (c == "events") {
    need_args(inv, 0, 0, "events");
    return follow_events(inv, client);
  }
  if (c == "wait") {
    need_args(inv, 0, 0, "wait [--timeout S]");
    return wait_ready(inv, client);
  }
  if (c == "raw") {
    need_args(inv, 2, 3, "raw METHOD PATH [JSON]");
    const HttpResult r = client.request(inv.args[0], inv.args[1], inv.args.size() == 3 ? inv.args[2] : "");
    Invocation as_json = inv;
    as_json.json = true;
    return answer(as_json, r, [](const nlohmann::json&) {});
  }
  throw Usage("unknown command \"" + c + "\" (see vauthctl --help)");
}

}  // namespace

int run(const Invocation& inv, const ControlClient& client) {
  try {
    return dispatch(inv, client);
  } catch (const Usage& e) {
    std::cerr << "vauthctl: " << e.what() << "\n";
    return kUsage;
  } catch (const Unreachable& e) {
    std::cerr << "vauthctl: " << e.what() << ". Is vauthd running? (--socket PATH or $VAUTH_CONTROL_SOCKET)\n";
    return kUnreachable;
  } catch (const std::exception& e) {
    std::cerr << "vauthctl: " << e.what() << "\n";
    return kFailed;
  }
}

}  // namespace vauth::cli
