// Drives Debian's Firefox ESR through one dialog-free scenario of
// scenarios.mjs against rp_server.py, with vauth as the security key (run under
// `vauth run`, so Firefox finds the key as /dev/hidraw*). Playwright drives only
// its own patched Firefox, so this uses Puppeteer over WebDriver BiDi, which
// stock Firefox speaks. Prints one JSON line per step; exits non-zero when a
// step's outcome is not the expected one.
//
//   node firefox_flow.mjs --rp http://localhost:PORT --scenario simple|passkey [--artifacts DIR]
//
// Firefox's PIN and account dialogs are browser chrome that BiDi cannot reach
// and that have no stable place on screen to type into, so scenarios with
// `dialog` steps are refused here (docs/browser-testing.md).
import puppeteer from "puppeteer-core";
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { check, scenarios } from "./scenarios.mjs";

const { values: args } = parseArgs({
  options: {
    rp: { type: "string" },
    scenario: { type: "string", default: "simple" },
    artifacts: { type: "string", default: "browser-artifacts" },
    "step-timeout": { type: "string", default: "60000" },
  },
});
const stepTimeout = Number(args["step-timeout"]);
mkdirSync(args.artifacts, { recursive: true });

// The key's own view of its signature counter (control API), so a step proves
// the browser used vauth and not some other authenticator.
function keySignCount() {
  return new Promise((resolve) =>
    execFile(process.env.VAUTHCTL || "vauthctl", ["--socket", process.env.VAUTH_CONTROL_SOCKET, "--json", "status", "1"], (e, out) =>
      resolve(e ? undefined : JSON.parse(out).signCount)));
}

async function main() {
  const steps = scenarios[args.scenario];
  if (!steps) throw new Error(`unknown scenario ${args.scenario}; known: ${Object.keys(scenarios).join(", ")}`);
  if (steps.some((s) => s.dialog || s.whilePending)) throw new Error(`scenario ${args.scenario} needs browser dialogs; firefox_flow runs dialog-free ones only`);
  const browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: process.env.FIREFOX || "/usr/bin/firefox-esr",
    headless: true,
    // USB keys only: Firefox's built-in soft token must never answer in vauth's place.
    extraPrefsFirefox: { "security.webauth.webauthn_enable_softtoken": false, "security.webauth.webauthn_enable_usbtoken": true },
  });
  let failures = 0;
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(stepTimeout);
    await page.goto(args.rp);
    for (const [i, step] of steps.entries()) {
      const started = Date.now();
      const result = await Promise.race([
        page.evaluate((call, request) => window[call](request), step.call, step.request),
        new Promise((resolve) => setTimeout(() => resolve({ ok: false, errorName: "StepTimeout" }), stepTimeout)),
      ]);
      const ms = Date.now() - started;
      const shot = join(args.artifacts, `firefox-${args.scenario}-${i + 1}-${step.name}.png`);
      // The screenshot is an artifact, not a verdict: a browser that cannot take one
      // (seen once from headless Chromium in the software-emulated VM) fails no step.
      const screenshot = await page.screenshot({ path: shot }).then(() => shot, (e) => `not taken: ${e.message.split("\n")[0]}`);
      const problems = check(step, result);
      if (result.ok) {
        const onKey = await keySignCount();
        if (onKey !== result.signCount) problems.push(`the RP saw signCount ${result.signCount}, the vauth key is at ${onKey}`);
      }
      failures += problems.length ? 1 : 0;
      console.log(JSON.stringify({ browser: "firefox", scenario: args.scenario, step: step.name, pass: problems.length === 0, problems, ms, result, screenshot }));
      if (result.errorName === "StepTimeout") break;
    }
  } finally {
    await browser.close();
  }
  // Puppeteer keeps handles open for a while after close(); the verdict is in.
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.error(`firefox_flow: ${e.stack || e}`);
  process.exit(2);
});
