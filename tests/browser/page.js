// The page side of the test relying party: calls navigator.credentials and
// posts the results to rp_server.py. Playwright calls vauthRegister and
// vauthSignIn through page.evaluate; each resolves to the server's verdict or
// {ok: false, errorName, errorMessage} when the browser refused.
"use strict";

const b64u = {
  decode(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
  },
  encode(buffer) {
    const bytes = new Uint8Array(buffer);
    let raw = "";
    for (const b of bytes) raw += String.fromCharCode(b);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  },
};

function show(status, detail) {
  document.getElementById("status").textContent = status;
  const log = document.getElementById("log");
  log.textContent += status + (detail ? ": " + JSON.stringify(detail) : "") + "\n";
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return response.json();
}

function decodeDescriptors(list) {
  return (list || []).map((d) => ({ ...d, id: b64u.decode(d.id) }));
}

async function ceremony(label, run) {
  show(label + ": waiting for the security key");
  try {
    const result = await run();
    show(label + (result.ok ? ": done" : ": rejected by the server"), result);
    return result;
  } catch (e) {
    const result = { ok: false, errorName: e.name, errorMessage: e.message };
    show(label + ": " + e.name, result);
    return result;
  }
}

window.vauthRegister = (request) =>
  ceremony("sign-up", async () => {
    const { publicKey } = await post("/register/begin", request);
    publicKey.challenge = b64u.decode(publicKey.challenge);
    publicKey.user.id = b64u.decode(publicKey.user.id);
    publicKey.excludeCredentials = decodeDescriptors(publicKey.excludeCredentials);
    const credential = await navigator.credentials.create({ publicKey });
    return post("/register/complete", {
      clientDataJSON: b64u.encode(credential.response.clientDataJSON),
      attestationObject: b64u.encode(credential.response.attestationObject),
    });
  });

window.vauthSignIn = (request) =>
  ceremony("sign-in", async () => {
    const { publicKey } = await post("/authenticate/begin", request || {});
    publicKey.challenge = b64u.decode(publicKey.challenge);
    if (publicKey.allowCredentials) publicKey.allowCredentials = decodeDescriptors(publicKey.allowCredentials);
    const credential = await navigator.credentials.get({ publicKey });
    const r = credential.response;
    return post("/authenticate/complete", {
      credentialId: b64u.encode(credential.rawId),
      clientDataJSON: b64u.encode(r.clientDataJSON),
      authenticatorData: b64u.encode(r.authenticatorData),
      signature: b64u.encode(r.signature),
      userHandle: r.userHandle ? b64u.encode(r.userHandle) : null,
    });
  });
