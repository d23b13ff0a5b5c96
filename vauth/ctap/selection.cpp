// authenticatorSelection (CTAP 2.1 §6.9): "touch the key you want to use".
#include "vauth/ctap/commands.h"

namespace vauth::ctap {

void selection(Session& s, Done done) {
  s.request_presence({"selection", ""}, [done](Status st) { done(error(st)); });
}

}  // namespace vauth::ctap
