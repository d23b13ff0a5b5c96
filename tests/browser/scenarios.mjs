// The sign-up/sign-in scenarios the browser flows run (passkey_flow.mjs for
// Chromium, firefox_flow.mjs for Firefox), and how a step's outcome is judged.
// A step calls window[call](request) on page.js and must end as `expect` says.

// Each scenario is a list of steps: a page call and the outcome it must have.
export const scenarios = {
  // No PIN, no UV, not discoverable: Chromium needs no UI at all.
  simple: [
    { name: "sign-up", call: "vauthRegister", request: { name: "alice", residentKey: "discouraged", userVerification: "discouraged" }, expect: { ok: true } },
    { name: "sign-in", call: "vauthSignIn", request: { name: "alice", userVerification: "discouraged" }, expect: { ok: true, user: "alice" } },
    { name: "sign-in-again", call: "vauthSignIn", request: { name: "alice", userVerification: "discouraged" }, expect: { ok: true, user: "alice", counterGrows: true } },
  ],
  // The passkey case: discoverable + user-verified sign-up, username-less sign-in.
  // Needs a key with built-in user verification (no browser PIN UI).
  passkey: [
    { name: "sign-up", call: "vauthRegister", request: { name: "alice", residentKey: "required", userVerification: "required" }, expect: { ok: true, userVerified: true } },
    { name: "sign-in", call: "vauthSignIn", request: { userVerification: "required" }, expect: { ok: true, user: "alice", userVerified: true } },
    { name: "sign-in-again", call: "vauthSignIn", request: { userVerification: "required" }, expect: { ok: true, user: "alice", userVerified: true, counterGrows: true } },
  ],
  // PIN created during sign-up in Chromium's own dialog, entered again at sign-in.
  // Needs a headed browser (browser_test.sh runs one under Xvfb): the test
  // types into the dialog with xdotool once the page behind it dims.
  pin: [
    { name: "sign-up-create-pin", call: "vauthRegister", request: { name: "alice", residentKey: "required", userVerification: "required" }, dialog: ["type:4812", "key:Tab", "type:4812", "key:Return"], expect: { ok: true, userVerified: true } },
    { name: "sign-in-enter-pin", call: "vauthSignIn", request: { userVerification: "required" }, dialog: ["type:4812", "key:Return"], expect: { ok: true, user: "alice", userVerified: true } },
  ],
  // Two discoverable accounts on a PIN-protected key: username-less sign-in
  // makes Chromium show its account chooser after the PIN.
  chooser: [
    { name: "sign-up-alice", call: "vauthRegister", request: { name: "alice", residentKey: "required", userVerification: "preferred" }, dialog: ["type:4812", "key:Return"], expect: { ok: true } },
    { name: "sign-up-bob", call: "vauthRegister", request: { name: "bob", residentKey: "required", userVerification: "preferred" }, dialog: ["type:4812", "key:Return"], expect: { ok: true } },
    { name: "sign-in-choose", call: "vauthSignIn", request: { userVerification: "preferred" }, dialog: ["type:4812", "key:Return", "sleep:3000", "capture:chooser", "key:Tab", "key:Return"], expect: { ok: true, user: "alice" } },
  ],
  // A wrong PIN at sign-in: Chromium says "Incorrect PIN" (screen artifact;
  // it names the attempts left only near the end), the key itself reports one
  // retry spent (control API), and the right PIN then succeeds.
  "wrong-pin": [
    { name: "sign-up", call: "vauthRegister", request: { name: "alice", residentKey: "required", userVerification: "required" }, dialog: ["type:4812", "key:Return"], expect: { ok: true, userVerified: true } },
    { name: "sign-in-wrong-then-right", call: "vauthSignIn", request: { userVerification: "required" }, dialog: ["type:1111", "key:Return", "sleep:2500", "capture:retries-shown", "pin-retries:7", "key:ctrl+a", "type:4812", "key:Return"], expect: { ok: true, user: "alice", userVerified: true } },
  ],
  // The key waits for a touch (vauthd --presence manual) and the test presses
  // "deny" through the control API once the request is pending (vauthctl deny
  // fails unless a request waits, so this also proves the browser reached the
  // key). Chromium then shows "Something went wrong" with Cancel / Try again;
  // Escape cancels, and the page must see NotAllowedError.
  denied: [
    { name: "sign-up-denied", call: "vauthRegister", request: { name: "mallory", residentKey: "discouraged", userVerification: "discouraged" }, whilePending: ["deny", "1"], dialog: ["sleep:1500", "capture:error-sheet", "key:Escape"], expect: { ok: false, errorName: "NotAllowedError" } },
  ],
};

// Scenarios that need Chromium's own dialogs (PIN, account chooser) or its
// prompt reaction to a refusal run headed; browser_test.sh provides Xvfb.
// (Headless Chromium keeps a denied request open until the page's timeout.)
export const headedScenarios = new Set(["pin", "chooser", "wrong-pin", "denied"]);

export function check(step, result) {
  const problems = [];
  for (const [key, want] of Object.entries(step.expect)) {
    if (key === "counterGrows") {
      if (!(result.signCount > result.previousSignCount)) problems.push(`counter ${result.previousSignCount} -> ${result.signCount}`);
    } else if (result[key] !== want) {
      problems.push(`${key}: want ${JSON.stringify(want)}, got ${JSON.stringify(result[key])}`);
    }
  }
  return problems;
}
