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
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { check, headedScenarios, scenarios } from "./scenarios.mjs";

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

// Runs `vauthctl ARGS...` until it succeeds (the request it acts on may not be
// pending yet), for up to `ms`. VAUTHCTL and VAUTH_CONTROL_SOCKET say where.
async function vauthctlWhenPending(argv, ms) {
  const deadline = Date.now() + ms;
  let last = "";
  while (Date.now() < deadline) {
    const done = await new Promise((resolve) => {
      execFile(process.env.VAUTHCTL || "vauthctl", ["--socket", process.env.VAUTH_CONTROL_SOCKET, ...argv], (error, stdout, stderr) => {
        last = (stdout + stderr).trim();
        resolve(!error);
      });
    });
    if (done) return { ok: true, output: last };
    await new Promise((r) => setTimeout(r, 200));
  }
  return { ok: false, output: last };
}

// True when Chromium's WebAuthn dialog is open: it dims the page behind it.
// Reads one pixel of the X screen (xwd | xwdtopnm: a binary PPM).
function pageDimmed() {
  return new Promise((resolve) => {
    execFile("sh", ["-c", "xwd -root -silent | xwdtopnm 2>/dev/null"], { encoding: "buffer", maxBuffer: 64 << 20 }, (error, ppm) => {
      if (error) return resolve(false);
      const header = ppm.toString("latin1", 0, 64).match(/^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/);
      if (!header) return resolve(false);
      const width = Number(header[1]);
      const [x, y] = [60, 700];  // inside the page, below the RP's content, left of any dialog
      const at = header[0].length + (y * width + x) * 3;
      const [r, g, b] = [ppm[at], ppm[at + 1], ppm[at + 2]];
      resolve(r < 160 && Math.abs(r - g) < 8 && Math.abs(g - b) < 8);
    });
  });
}

// Waits for the dialog, then sends each "type:TEXT" / "key:NAME" with xdotool.
// The whole X screen (browser chrome and dialogs included) as a PNG artifact.
function captureScreen(name) {
  const file = join(args.artifacts, `${name}.png`);
  return new Promise((resolve) => execFile("sh", ["-c", `xwd -root -silent | xwdtopnm 2>/dev/null | pnmtopng > '${file}'`], () => resolve(file)));
}

async function answerDialog(actions, ms, label) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await pageDimmed()) {
      await new Promise((r) => setTimeout(r, 500));  // let the dialog take keyboard focus
      await captureScreen(`${label}-dialog`);
      for (const action of actions) {
        const [kind, value] = [action.slice(0, action.indexOf(":")), action.slice(action.indexOf(":") + 1)];
        if (kind === "sleep") await new Promise((r) => setTimeout(r, Number(value)));
        else if (kind === "capture") await captureScreen(`${label}-${value}`);
        else if (kind === "pin-retries") {
          // Ask the key itself (control API) how many PIN attempts remain.
          const state = await new Promise((resolve) =>
            execFile(process.env.VAUTHCTL || "vauthctl", ["--socket", process.env.VAUTH_CONTROL_SOCKET, "--json", "status", "1"], (e, out) => resolve(e ? null : out)));
          const retries = state ? JSON.parse(state).pin?.retries : undefined;
          if (retries !== Number(value)) return { ok: false, output: `the key reports ${retries} PIN retries, want ${value}` };
        }
        else await new Promise((resolve) => execFile("xdotool", kind === "type" ? ["type", "--delay", "80", value] : ["key", value], () => resolve()));
      }
      return { ok: true, output: "answered" };
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { ok: false, output: "the dialog never appeared" };
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
    headless: !(args.headed || headedScenarios.has(args.scenario)),
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
      const label = `${args.scenario}-${i + 1}-${step.name}`;
      // vauthctl first (when the step has it), then the browser's dialog.
      const side = step.whilePending
        ? vauthctlWhenPending(step.whilePending, stepTimeout).then((r) => (r.ok && step.dialog ? answerDialog(step.dialog, stepTimeout, label) : r))
        : step.dialog ? answerDialog(step.dialog, stepTimeout, label) : null;
      const result = await Promise.race([
        page.evaluate(([call, request]) => window[call](request), [step.call, step.request]),
        new Promise((resolve) => setTimeout(() => resolve({ ok: false, errorName: "StepTimeout" }), stepTimeout)),
      ]);
      const ms = Date.now() - started;
      const shot = join(args.artifacts, `${args.scenario}-${i + 1}-${step.name}.png`);
      // The screenshot is an artifact, not a verdict: a browser that cannot take one
      // (seen once from headless Chromium in the software-emulated VM) fails no step.
      const screenshot = await page.screenshot({ path: shot }).then(() => shot, (e) => `not taken: ${e.message.split("\n")[0]}`);
      const problems = check(step, result);
      if (side) {
        const s = await side;
        if (!s.ok) problems.push(`side action failed: ${s.output}`);
      }
      failures += problems.length ? 1 : 0;
      console.log(JSON.stringify({ scenario: args.scenario, step: step.name, pass: problems.length === 0, problems, ms, result, screenshot }));
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
