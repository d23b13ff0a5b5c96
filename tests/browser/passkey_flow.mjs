// Drives Debian's Chromium through one sign-up/sign-in scenario against
// rp_server.py, with vauth as the security key (run under `vauth run`, so the
// browser finds the key as /dev/hidraw*). Prints one JSON line per step and
// exits non-zero when a step's outcome is not the expected one.
//
//   node passkey_flow.mjs --rp http://localhost:PORT --scenario NAME [--artifacts DIR]
//        [--headed] [--chrome-virtual-authenticator]
//
// --chrome-virtual-authenticator replaces vauth with Chromium's own DevTools
// virtual authenticator: a self-check of the page and the RP, never a test of vauth.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    rp: { type: "string" },
    scenario: { type: "string", default: "simple" },
    artifacts: { type: "string", default: "browser-artifacts" },
    headed: { type: "boolean", default: false },
    "chrome-virtual-authenticator": { type: "boolean", default: false },
    "step-timeout": { type: "string", default: "60000" },
  },
});

const stepTimeout = Number(args["step-timeout"]);
mkdirSync(args.artifacts, { recursive: true });

// Each scenario is a list of steps: a page call and the outcome it must have.
const scenarios = {
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
  // The key refuses user presence: the page must see NotAllowedError.
  denied: [
    { name: "sign-up-denied", call: "vauthRegister", request: { name: "mallory", residentKey: "discouraged", userVerification: "discouraged" }, expect: { ok: false, errorName: "NotAllowedError" } },
  ],
};

function check(step, result) {
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

async function addChromeVirtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "usb", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
}

async function main() {
  const steps = scenarios[args.scenario];
  if (!steps) throw new Error(`unknown scenario ${args.scenario}; known: ${Object.keys(scenarios).join(", ")}`);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: !args.headed,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  let failures = 0;
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(stepTimeout);  // slow machines (the e2e VM runs under software emulation)
    if (args["chrome-virtual-authenticator"]) await addChromeVirtualAuthenticator(page);
    await page.goto(args.rp);
    for (const [i, step] of steps.entries()) {
      const started = Date.now();
      const result = await Promise.race([
        page.evaluate(([call, request]) => window[call](request), [step.call, step.request]),
        new Promise((resolve) => setTimeout(() => resolve({ ok: false, errorName: "StepTimeout" }), stepTimeout)),
      ]);
      const ms = Date.now() - started;
      const shot = join(args.artifacts, `${args.scenario}-${i + 1}-${step.name}.png`);
      await page.screenshot({ path: shot });
      const problems = check(step, result);
      failures += problems.length ? 1 : 0;
      console.log(JSON.stringify({ scenario: args.scenario, step: step.name, pass: problems.length === 0, problems, ms, result, screenshot: shot }));
      if (result.errorName === "StepTimeout") break;  // the page is stuck; later steps would only wait too
    }
  } finally {
    await browser.close();
  }
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.error(`passkey_flow: ${e.stack || e}`);
  process.exit(2);
});
