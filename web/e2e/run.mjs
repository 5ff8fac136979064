#!/usr/bin/env node
// End-to-end test of the web app in headless Chromium against a running platform (`ayka up`).
// The sample clip plays as the microphone. Steps: sign up, add a webhook endpoint, Live (start, captions,
// stop), sessions list, session detail (transcript + speakers, click-to-seek + the highlighted word),
// leads, events, settings, phone width, log out, log in; then an API key (shown once, listed by its
// prefix, works, revoked), the webhook's secret (reveal, rotate) and delivery log (the call's events),
// rename Speaker 1 (transcript, reload, VTT export), title the session, a lead's status (when the call
// produced a lead), search by title, delete the session.
// A screenshot of every page state goes to web/test-results/. Exits 1 on the first failed step.
//
//   AYKA_BASE_URL        the platform (default http://127.0.0.1:8000)
//   AYKA_E2E_AUDIO       WAV file used as the microphone (default: the pyannote sample clip in ../.venv)
//   AYKA_E2E_CHROMIUM    the browser (default /usr/bin/chromium)
//   AYKA_E2E_CAPTION_S   bound for the first expected caption word (default 60)
//   AYKA_E2E_RECORD_S    how long to record in total (default 32: the whole 30 s clip)
//   AYKA_E2E_PROCESS_S   bound, from the end of the call, for diarization and agents (default 180)
//   AYKA_E2E_WORDS       comma-separated words expected in the captions (default: words of the clip)
//   AYKA_E2E_WEBHOOK_URL the webhook endpoint added (default http://127.0.0.1:9/hook, a closed port: the
//                        platform must run with AYKA_WEBHOOK_ALLOW_PRIVATE=true to accept it)
//   AYKA_E2E_REQUIRE_SPEAKERS=0  accept a transcript whose segments have no speaker label yet (default 1)
//   AYKA_E2E_HEADED=1    show the browser

import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoDir = path.resolve(webDir, "..");
const outDir = path.join(webDir, "test-results");

function defaultAudio() {
  const lib = path.join(repoDir, ".venv", "lib");
  const pythons = existsSync(lib) ? readdirSync(lib).filter((d) => d.startsWith("python")) : [];
  for (const py of pythons) {
    const candidate = path.join(lib, py, "site-packages", "pyannote", "audio", "sample", "sample.wav");
    if (existsSync(candidate)) return candidate;
  }
  return path.join(lib, "python3.11", "site-packages", "pyannote", "audio", "sample", "sample.wav");
}

const config = {
  baseUrl: (process.env.AYKA_BASE_URL || "http://127.0.0.1:8000").replace(/\/+$/, ""),
  audio: path.resolve(process.env.AYKA_E2E_AUDIO || defaultAudio()),
  chromium: process.env.AYKA_E2E_CHROMIUM || "/usr/bin/chromium",
  captionS: Number(process.env.AYKA_E2E_CAPTION_S || 60),
  recordS: Number(process.env.AYKA_E2E_RECORD_S || 32),
  words: (process.env.AYKA_E2E_WORDS || "hello,diane,jersey,sheila,texas,chicago,yankee,difference,originally")
    .split(",")
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean),
  processS: Number(process.env.AYKA_E2E_PROCESS_S || 180),
  hookUrl: process.env.AYKA_E2E_WEBHOOK_URL || "http://127.0.0.1:9/hook",
  headed: process.env.AYKA_E2E_HEADED === "1",
  requireSpeakers: process.env.AYKA_E2E_REQUIRE_SPEAKERS !== "0",
};

const started = Date.now();
const log = (msg) => console.log(`[e2e +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
let passed = 0;

class StepFailure extends Error {}

async function step(name, fn) {
  const t0 = Date.now();
  log(`… ${name}`);
  try {
    const detail = await fn();
    passed += 1;
    log(`PASS ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)${detail ? `: ${detail}` : ""}`);
  } catch (err) {
    log(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
    throw new StepFailure(name);
  }
}

function foundWords(text) {
  const lower = text.toLowerCase();
  return config.words.filter((w) => lower.includes(w));
}

async function shot(page, name) {
  const file = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function main() {
  if (!existsSync(config.audio)) throw new Error(`audio clip not found: ${config.audio} (set AYKA_E2E_AUDIO)`);
  if (!existsSync(config.chromium)) throw new Error(`chromium not found: ${config.chromium} (apt-get install chromium, or set AYKA_E2E_CHROMIUM)`);
  mkdirSync(outDir, { recursive: true });
  log(`base ${config.baseUrl}; audio ${config.audio}; expecting any of: ${config.words.join(", ")}`);

  const origin = new URL(config.baseUrl).origin;
  const browser = await chromium.launch({
    executablePath: config.chromium,
    headless: !config.headed,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${config.audio}`,
      "--autoplay-policy=no-user-gesture-required",
      `--unsafely-treat-insecure-origin-as-secure=${origin}`,
    ],
  });
  const problems = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, permissions: ["microphone"] });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  // Confirmations (revoke, rotate, delete) are accepted; each step checks it saw the one it expects.
  const dialogs = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.accept();
  });
  const nav = async (name) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();
  // Nothing loading any more in <main>, and no error shown there.
  const settled = async () => {
    await page.waitForFunction(() => !document.querySelector('main [role="status"] .animate-spin'), null, { timeout: 20_000 });
    const alerts = await page.locator("main [role=alert]").allInnerTexts();
    if (alerts.length > 0) throw new Error(`error shown: ${alerts.join(" | ")}`);
  };
  page.on("websocket", (ws) => {
    log(`websocket ${ws.url().replace(/token=[^&]+/, "token=…")}`);
    ws.on("close", () => log("websocket closed"));
  });

  const email = `e2e-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const password = `Pw-${Math.random().toString(36).slice(2)}-e2e!`;
  const tag = Math.random().toString(36).replace(/[^a-z]/g, "").slice(0, 6);
  const titleWord = `quokka${tag}`; // a title word that is nowhere in the transcript
  let sessionId = null;
  let hookSecret = "";
  let stoppedAt = Date.now(); // when the call ended: post-call processing is bounded from then

  try {
    await step("platform is up", async () => {
      const res = await fetch(`${config.baseUrl}/healthz`).catch((e) => {
        throw new Error(`cannot reach ${config.baseUrl}/healthz: ${e.message}`);
      });
      if (!res.ok) throw new Error(`/healthz answered ${res.status}`);
      return `healthz ${res.status}`;
    });

    await step("sign up a fresh user", async () => {
      await page.goto(`${config.baseUrl}/signup/`);
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill(password);
      await page.getByLabel("Name (optional)").fill("E2E Tester");
      await shot(page, "01-signup");
      await page.getByRole("button", { name: "Sign up" }).click();
      await page.waitForURL(/\/live\/?$/, { timeout: 20_000 });
      return email;
    });

    // Before recording, so that the call's own events are queued for it (checked in its delivery log below).
    await step("settings: add a webhook endpoint for the call's events", async () => {
      await nav("Settings");
      await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
      await settled();
      const webhooks = page.locator("section").filter({ has: page.getByRole("heading", { name: "Webhooks", level: 2 }) });
      await webhooks.getByLabel("Endpoint URL").fill(config.hookUrl);
      await webhooks.getByLabel("Description (optional)").fill("e2e sink");
      for (const type of ["transcript.finalized", "session.completed"]) await webhooks.getByRole("checkbox", { name: type, exact: true }).check();
      await webhooks.getByRole("button", { name: "Add endpoint" }).click();
      const added = webhooks.getByRole("status").filter({ hasText: "Endpoint added" });
      await added.or(page.locator("main [role=alert]")).first().waitFor();
      const alerts = await page.locator("main [role=alert]").allInnerTexts();
      if (alerts.length > 0) throw new Error(`the endpoint was refused: ${alerts.join(" | ")} (a private URL needs AYKA_WEBHOOK_ALLOW_PRIVATE=true on the platform)`);
      hookSecret = (await added.locator("code").innerText()).trim();
      if (hookSecret.length < 16) throw new Error(`the signing secret shown is "${hookSecret}"`);
      await webhooks.locator("code", { hasText: config.hookUrl }).waitFor();
      await shot(page, "01b-webhook-added");
      await nav("Live");
      return `${config.hookUrl} for lead.finalized, transcript.finalized, session.completed`;
    });

    let firstCaptionS = null;
    let captionText = "";
    await step(`live: start and see expected words within ${config.captionS}s`, async () => {
      await page.getByRole("heading", { name: "Live captions" }).waitFor();
      await shot(page, "02-live");
      const t0 = Date.now();
      await page.getByRole("button", { name: "Start recording" }).click();
      await page.locator('[data-state="open"]').waitFor({ timeout: 20_000 });
      const captions = page.getByTestId("live-captions");
      const deadline = t0 + config.captionS * 1000;
      while (Date.now() < deadline) {
        captionText = (await captions.innerText()).replace(/\s+/g, " ");
        if (firstCaptionS === null && (await page.locator("[data-final], [data-interim]").count()) > 0) firstCaptionS = (Date.now() - t0) / 1000;
        if (foundWords(captionText).length > 0) break;
        const failed = await page.locator('[data-state="failed"]').count();
        if (failed) throw new Error(`connection failed: ${await page.getByRole("alert").allInnerTexts()}`);
        await page.waitForTimeout(250);
      }
      const found = foundWords(captionText);
      if (found.length === 0) throw new Error(`no expected word after ${config.captionS}s; captions: "${captionText.slice(0, 300)}"`);
      return `first caption ${firstCaptionS?.toFixed(1)}s, expected word after ${((Date.now() - t0) / 1000).toFixed(1)}s: ${found.join(", ")}`;
    });

    await step(`live: keep recording to ${config.recordS}s, then stop (Finalize + CloseStream)`, async () => {
      const elapsed = async () => {
        const label = (await page.getByLabel(/^Elapsed time/).getAttribute("aria-label")) ?? "";
        const [m, s] = label.replace("Elapsed time ", "").split(":").map(Number);
        return (m ?? 0) * 60 + (s ?? 0);
      };
      while ((await elapsed()) < config.recordS) await page.waitForTimeout(500);
      await shot(page, "03-live-recording");
      await page.getByRole("button", { name: "Stop" }).click();
      await page.locator('[data-state="closed"]').waitFor({ timeout: 30_000 });
      stoppedAt = Date.now();
      await page.getByRole("heading", { name: "After the call" }).waitFor();
      const href = await page.getByRole("link", { name: "Open the session" }).getAttribute("href");
      sessionId = new URL(href ?? "", config.baseUrl).searchParams.get("id");
      captionText = (await page.getByTestId("live-captions").innerText()).replace(/\s+/g, " ");
      await shot(page, "04-live-stopped");
      const finals = await page.locator("[data-final]").count();
      if (finals === 0) throw new Error("no final captions after stop");
      return `session ${sessionId}; ${finals} final caption lines; words seen: ${foundWords(captionText).join(", ")}`;
    });

    await step("sessions: the new session is in the list", async () => {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sessions", exact: true }).click();
      await page.waitForURL(/\/sessions\/?$/);
      const rows = page.getByTestId("session-row");
      await rows.first().waitFor({ timeout: 20_000 });
      const link = page.locator(`a[href*="id=${sessionId}"]`);
      if ((await link.count()) === 0) throw new Error(`session ${sessionId} is not in the list`);
      await shot(page, "05-sessions");
      return `${await rows.count()} row(s)`;
    });

    await step("session detail: transcript with expected words and speakers", async () => {
      await page.locator(`a[href*="id=${sessionId}"]`).first().click();
      await page.waitForURL(/\/sessions\/view\/?\?id=/);
      const deadline = Date.now() + 90_000;
      let text = "";
      let speakers = [];
      let status = "";
      while (Date.now() < deadline) {
        const transcript = page.getByTestId("transcript");
        await transcript.or(page.getByText(/still being written|Nothing was said|not available/)).first().waitFor({ timeout: 15_000 }).catch(() => undefined);
        status = (await page.getByTestId("session-meta").innerText().catch(() => "")).replace(/\s+/g, " ");
        if ((await transcript.count()) > 0) {
          text = (await transcript.innerText()).replace(/\s+/g, " ");
          // Only segments with a speaker label count (data-speaker is the label; "" = none yet).
          const labelled = page.locator('[data-testid="segment-speaker"]:not([data-speaker=""])');
          speakers = [...new Set(await labelled.allInnerTexts())];
          if (foundWords(text).length > 0 && (speakers.length > 0 || !config.requireSpeakers)) break;
        }
        await page.waitForTimeout(3000);
        await page.reload(); // the transcript may still be written, or re-diarized
      }
      await shot(page, "06-session-detail");
      if (foundWords(text).length === 0) throw new Error(`transcript lacks every expected word: "${text.slice(0, 300)}"`);
      if (speakers.length === 0 && config.requireSpeakers) throw new Error(`no segment has a speaker label after 90 s (session: ${status})`);
      return `words ${foundWords(text).join(", ")}; speakers: ${speakers.join(", ") || "none (AYKA_E2E_REQUIRE_SPEAKERS=0)"}`;
    });

    await step("session detail: clicking a word seeks the audio there and highlights it", async () => {
      // Like the transcript above, the audio may not be archived yet: reload until the player is there.
      const audio = page.locator("audio");
      const notYet = page.getByText("The audio is not available (yet).");
      const deadline = Date.now() + 60_000;
      for (;;) {
        await audio.or(notYet).first().waitFor({ timeout: 15_000 }).catch(() => undefined);
        if ((await audio.count()) > 0) break;
        if (Date.now() > deadline) throw new Error("the session page has no audio player after 60 s (the archive never became available)");
        await page.waitForTimeout(3000);
        await page.reload();
      }
      await page.waitForFunction(() => (document.querySelector("audio")?.readyState ?? 0) >= 1, null, { timeout: 15_000 });
      // A word well after the start whose start time no other word shares, so both checks below are exact.
      const words = page.locator("[data-testid=transcript] [data-start]");
      const starts = await words.evaluateAll((els) => els.map((e) => e.getAttribute("data-start") ?? ""));
      const index = starts.findIndex((s) => Number(s) >= 3 && starts.indexOf(s) === starts.lastIndexOf(s));
      if (index < 0) throw new Error(`no transcript word starts after 3 s: ${starts.join(" ")}`);
      const startAttr = starts[index];
      const start = Number(startAttr);
      const word = words.nth(index);
      const wordText = (await word.innerText()).trim();
      const before = await page.evaluate(() => document.querySelector("audio")?.currentTime ?? -1);
      if (Math.abs(before - start) < 1) throw new Error(`the audio is already at ${before.toFixed(2)} s, near the word at ${start} s: the seek would prove nothing`);
      await word.click();
      await page
        .waitForFunction((t) => {
          const now = document.querySelector("audio")?.currentTime ?? -9;
          return now >= t - 0.05 && now < t + 1.5;
        }, start, { timeout: 10_000 })
        .catch(async () => {
          const now = await page.evaluate(() => document.querySelector("audio")?.currentTime);
          throw new Error(`clicking "${wordText}" (${start} s) left the audio at ${now} s (was ${before.toFixed(2)} s)`);
        });
      const playing = await page.evaluate(() => !document.querySelector("audio")?.paused);
      if (playing) await page.locator("[data-testid=transcript] [data-active]").first().waitFor({ timeout: 10_000 });
      // Deterministic, with or without autoplay: paused inside the clicked word, that word (and only it) is
      // highlighted. timeupdate is dispatched too, in case the seek alone fires no event the page hears.
      await page.evaluate(async (t) => {
        const a = document.querySelector("audio");
        if (!a) return;
        a.pause();
        const seeked = new Promise((resolve) => a.addEventListener("seeked", resolve, { once: true }));
        a.currentTime = t + 0.02;
        await Promise.race([seeked, new Promise((resolve) => setTimeout(resolve, 3000))]);
        a.dispatchEvent(new Event("timeupdate"));
      }, start);
      const active = page.locator("[data-testid=transcript] [data-active]");
      await page.locator(`[data-testid=transcript] [data-active][data-start="${startAttr}"]`).waitFor({ timeout: 5_000 }).catch(async () => {
        throw new Error(`at ${start + 0.02} s the highlighted word is ${JSON.stringify(await active.allInnerTexts())}, not "${wordText}"`);
      });
      if ((await active.count()) !== 1) throw new Error(`${await active.count()} words are highlighted at once`);
      await shot(page, "06b-session-seek");
      return `"${wordText}" clicked: audio ${before.toFixed(2)} s -> ${start.toFixed(2)} s; ${playing ? "played with the word highlighted" : "autoplay refused"}; paused inside it, it alone is highlighted`;
    });

    for (const [name, heading, file] of [
      ["Leads", "Leads", "07-leads"],
      ["Events", "Events", "08-events"],
      ["Settings", "Settings", "09-settings"],
    ]) {
      await step(`${name.toLowerCase()} page loads`, async () => {
        await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();
        await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
        await page.waitForFunction(() => !document.querySelector('main [role="status"] .animate-spin'), null, { timeout: 20_000 });
        const alerts = await page.locator("main [role=alert]").allInnerTexts();
        await shot(page, file);
        if (alerts.length > 0) throw new Error(`error shown: ${alerts.join(" | ")}`);
      });
    }

    await step("phone width: session detail and live fit 390 px", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${config.baseUrl}/sessions/view/?id=${encodeURIComponent(sessionId ?? "")}`);
      await page.getByTestId("transcript").waitFor();
      await shot(page, "11-phone-session");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Live", exact: true }).click();
      await page.getByRole("button", { name: "Start recording" }).waitFor();
      await shot(page, "12-phone-live");
      await page.setViewportSize({ width: 1280, height: 900 });
      if (overflow > 2) throw new Error(`the page is ${overflow}px wider than the phone screen`);
    });

    await step("log out, then log in again", async () => {
      await page.getByRole("button", { name: "Log out" }).click();
      await page.waitForURL(/\/login\/?/);
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill(password);
      await shot(page, "10-login");
      await page.getByRole("button", { name: "Log in" }).click();
      await page.waitForURL(/\/live\/?$/);
    });

    // ---- Features beyond the happy path, in the same browser: settings, then the session's own tools.

    await step("settings: an API key is shown once, listed by its prefix, works, and stops working when revoked", async () => {
      await nav("Settings");
      await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
      await settled();
      const keys = page.locator("section").filter({ has: page.getByRole("heading", { name: "API keys", level: 2 }) });
      const keyName = `e2e key ${tag}`;
      await keys.getByLabel("Key name").fill(keyName);
      await keys.getByRole("button", { name: "Create key" }).click();
      const shown = keys.getByTestId("new-api-key");
      await shown.waitFor();
      const key = (await shown.innerText()).trim();
      const row = keys.locator("li").filter({ hasText: keyName });
      await row.waitFor();
      const masked = (await row.locator("code").innerText()).trim();
      if (!masked.endsWith("…") || !key.startsWith(masked.slice(0, -1)) || masked.length > key.length / 2) {
        throw new Error(`the list shows "${masked}" for the key ${key.slice(0, 8)}…: not a short prefix of it`);
      }
      if ((await row.innerText()).includes(key)) throw new Error("the list shows the whole key");
      await shot(page, "13-settings-key-created");
      const sessionsWith = (credential) => fetch(`${config.baseUrl}/v1/sessions`, { headers: { Authorization: `Token ${credential}` } });
      const used = await sessionsWith(key);
      const listed = used.ok ? JSON.stringify(await used.json()) : "";
      if (!used.ok || !listed.includes(sessionId ?? "-")) throw new Error(`GET /v1/sessions with the new key: ${used.status}, session ${listed.includes(sessionId ?? "-") ? "" : "not "}listed`);
      await keys.getByRole("button", { name: "Done" }).click();
      await page.reload();
      await row.waitFor();
      if ((await page.content()).includes(key)) throw new Error("the whole key is still on the page after Done and a reload");
      await row.getByRole("button", { name: `Revoke key ${keyName}` }).click();
      await row.waitFor({ state: "detached" });
      if (!dialogs.at(-1)?.includes("Revoke the key")) throw new Error(`no revoke confirmation (dialogs: ${dialogs.join(" | ")})`);
      await settled();
      const revoked = await sessionsWith(key);
      if (revoked.status !== 401) throw new Error(`the revoked key still gets ${revoked.status} from GET /v1/sessions`);
      await shot(page, "14-settings-key-revoked");
      return `${masked} worked (200, session listed), then 401 once revoked`;
    });

    await step("settings: the webhook's secret is revealed, then rotated; its delivery log has the call's events", async () => {
      const webhooks = page.locator("section").filter({ has: page.getByRole("heading", { name: "Webhooks", level: 2 }) });
      await webhooks.locator("code", { hasText: config.hookUrl }).waitFor();
      const secret = webhooks.getByRole("button", { name: "Copy" }).locator("xpath=preceding-sibling::code");
      await webhooks.getByRole("button", { name: "Reveal secret" }).click();
      await secret.waitFor();
      const revealed = (await secret.innerText()).trim();
      if (revealed !== hookSecret) throw new Error(`revealed "${revealed.slice(0, 10)}…", created with "${hookSecret.slice(0, 10)}…"`);
      await webhooks.getByRole("button", { name: "Rotate secret" }).click();
      let rotated = revealed;
      for (const until = Date.now() + 10_000; rotated === revealed && Date.now() < until; ) {
        await page.waitForTimeout(200);
        rotated = (await secret.innerText()).trim();
      }
      if (!dialogs.at(-1)?.includes("Rotate the signing secret")) throw new Error(`no rotate confirmation (dialogs: ${dialogs.join(" | ")})`);
      if (rotated === revealed || rotated.length < 16) throw new Error(`after Rotate the secret shown is "${rotated.slice(0, 10)}…" (was "${revealed.slice(0, 10)}…")`);
      // The server keeps the new one: hide, reveal again.
      await webhooks.getByRole("button", { name: "Hide secret" }).click();
      await webhooks.getByRole("button", { name: "Reveal secret" }).click();
      await secret.waitFor();
      const again = (await secret.innerText()).trim();
      if (again !== rotated) throw new Error(`after rotating, Reveal shows "${again.slice(0, 10)}…", not the new "${rotated.slice(0, 10)}…"`);
      await shot(page, "15-webhook-secret-rotated");

      // The endpoint existed before the call, so the agents queued its transcript.finalized and
      // session.completed for it; the sink (a closed port) refuses them, so each shows a failed attempt.
      await webhooks.getByRole("button", { name: "Deliveries", exact: true }).click();
      await webhooks.getByRole("heading", { name: "Deliveries", level: 3 }).waitFor();
      const wanted = ["transcript.finalized", "session.completed"];
      const deadline = Math.max(stoppedAt + config.processS * 1000, Date.now() + 10_000);
      let rows = [];
      for (;;) {
        await settled();
        rows = await webhooks.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.innerText.trim())));
        const tried = (type) => rows.some((cells) => cells[0] === type && Number(cells[2]) >= 1);
        if (wanted.every(tried)) break;
        if (Date.now() > deadline) throw new Error(`${config.processS} s after the call the delivery log has ${JSON.stringify(rows)}; wanted an attempt at each of ${wanted.join(", ")}`);
        await page.waitForTimeout(2000);
        await webhooks.getByRole("button", { name: "Refresh" }).click();
      }
      await webhooks.getByRole("button", { name: /^Replay delivery / }).first().click();
      await webhooks.getByRole("status").filter({ hasText: "Replay queued." }).waitFor();
      await settled();
      await shot(page, "16-webhook-deliveries");
      return `secret rotated; deliveries: ${rows.map((cells) => `${cells[0]} ${cells[1].split("\n")[0]} ×${cells[2]}`).join("; ")}; one replayed`;
    });

    let agents = "";
    await step("session: rename Speaker 1, see the name in the transcript, after a reload and in the VTT export", async () => {
      await page.goto(`${config.baseUrl}/sessions/view/?id=${encodeURIComponent(sessionId ?? "")}`);
      await page.getByTestId("transcript").waitFor();
      // Rename after diarization has settled, so no relabelling races the name (by now the agents, which
      // run after it, have queued the deliveries above, so this rarely waits).
      const deadline = Math.max(stoppedAt + config.processS * 1000, Date.now() + 5_000);
      let meta = "";
      for (;;) {
        meta = (await page.getByTestId("session-meta").innerText()).replace(/\s+/g, " ");
        if (/diarization (done|failed|off)/.test(meta) && /agents (done|failed|off)/.test(meta)) break;
        if (Date.now() > deadline) {
          log(`note: diarization/agents not finished ${config.processS} s after the call (${meta}); renaming anyway`);
          break;
        }
        await page.waitForTimeout(3000);
        await page.reload();
        await page.getByTestId("transcript").waitFor();
      }
      agents = /agents (\w+)/.exec(meta)?.[1] ?? "?";
      const newName = `Dana ${tag}`;
      const input = page.getByLabel("Name of speaker 1", { exact: true });
      await input.fill(newName);
      await page.locator("li").filter({ has: input }).getByRole("button", { name: "Rename" }).click();
      const labelled = page.locator('[data-testid=transcript] [data-testid=segment-speaker][data-speaker="0"]');
      const allNamed = async () => {
        const names = await labelled.allInnerTexts();
        return names.length > 0 && names.every((n) => n.trim() === newName);
      };
      await page.waitForFunction(
        (name) => {
          const spans = [...document.querySelectorAll('[data-testid=transcript] [data-testid=segment-speaker][data-speaker="0"]')];
          return spans.length > 0 && spans.every((s) => s.textContent.trim() === name);
        },
        newName,
        { timeout: 10_000 },
      );
      await page.reload();
      await page.getByTestId("transcript").waitFor();
      await settled();
      if ((await input.inputValue()) !== newName || !(await allNamed())) throw new Error(`after a reload speaker 1 is "${await input.inputValue()}" / ${JSON.stringify(await labelled.allInnerTexts())}`);
      await shot(page, "17-session-speaker-renamed");
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export VTT" }).click()]);
      const vtt = readFileSync(await download.path(), "utf8");
      if (!/^\uFEFF?WEBVTT/.test(vtt) || !vtt.includes("-->")) throw new Error(`${download.suggestedFilename()} is not WebVTT: ${JSON.stringify(vtt.slice(0, 120))}`);
      if (foundWords(vtt).length === 0) throw new Error(`the VTT has none of the expected words: ${JSON.stringify(vtt.slice(0, 300))}`);
      if (!vtt.includes(`<v ${newName}>`)) throw new Error(`the VTT has no cue voiced by "${newName}": ${JSON.stringify(vtt.slice(0, 300))}`);
      return `${(await labelled.count())} turn(s) of speaker 1 now "${newName}"; ${download.suggestedFilename()}: ${vtt.split("-->").length - 1} cues, words ${foundWords(vtt).join(", ")}`;
    });

    await step("session: give it a title", async () => {
      await page.getByRole("button", { name: "Rename session" }).click();
      await page.getByLabel("Session title").fill(`E2E ${titleWord} call`);
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await page.getByRole("heading", { name: `E2E ${titleWord} call`, level: 1 }).waitFor();
      await shot(page, "18-session-retitled");
    });

    await step("leads: change the status of the session's lead (when the call produced one)", async () => {
      await page.getByRole("main").getByRole("link", { name: "Leads", exact: true }).click();
      await page.waitForURL(/\/leads\/?\?session_id=/);
      await page.getByRole("heading", { name: "Leads", level: 1 }).waitFor();
      await settled();
      const cards = page.getByTestId("lead-card");
      const count = await cards.count();
      if (count === 0) {
        await shot(page, "19-session-leads");
        log(`note: the call produced no lead (agents ${agents}), so no lead status was changed`);
        return `no lead from this call (agents ${agents}): status change skipped`;
      }
      const status = cards.first().getByLabel("Status");
      const from = await status.inputValue();
      const to = from === "contacted" ? "qualified" : "contacted";
      await status.selectOption(to);
      await page.waitForFunction(() => !document.querySelector("[data-testid=lead-card] select:disabled"), null, { timeout: 10_000 });
      await settled();
      await page.reload();
      await cards.first().waitFor();
      const saved = await cards.first().getByLabel("Status").inputValue();
      if (saved !== to) throw new Error(`the lead's status is "${saved}" after a reload, not "${to}"`);
      await shot(page, "19-session-leads");
      return `${count} lead(s); the first went ${from} -> ${to}`;
    });

    await step("sessions: search finds the session by a word of its title, and nothing for an unknown word", async () => {
      await nav("Sessions");
      await page.waitForURL(/\/sessions\/?$/);
      const search = page.getByLabel("Search sessions");
      const rows = page.getByTestId("session-row");
      await rows.first().waitFor();
      // The list already shows the session: wait for the answer to the search itself before looking.
      const searched = (word) => page.waitForResponse((r) => r.url().includes("/v1/sessions?") && new URL(r.url()).searchParams.get("q") === word);
      await Promise.all([searched(titleWord), search.fill(titleWord)]);
      await settled();
      if ((await page.locator(`a[href*="id=${sessionId}"]`).count()) !== 1) throw new Error(`searching "${titleWord}" does not list session ${sessionId}`);
      await shot(page, "20-sessions-search");
      await Promise.all([searched(`zz${tag}nomatch`), search.fill(`zz${tag}nomatch`)]);
      await page.getByText("No session matches your search.").waitFor({ timeout: 10_000 });
      if ((await rows.count()) !== 0) throw new Error(`an unknown word still lists ${await rows.count()} session(s)`);
      await shot(page, "21-sessions-search-none");
      return `"${titleWord}" -> 1 session; "zz${tag}nomatch" -> none`;
    });

    await step("session: delete it; it is gone from the list and its page", async () => {
      await page.goto(`${config.baseUrl}/sessions/view/?id=${encodeURIComponent(sessionId ?? "")}`);
      await page.getByTestId("transcript").waitFor();
      await page.getByRole("main").getByRole("button", { name: "Delete", exact: true }).click();
      await page.waitForURL(/\/sessions\/?$/, { timeout: 30_000 });
      if (!dialogs.at(-1)?.includes("Delete this session")) throw new Error(`no delete confirmation (dialogs: ${dialogs.join(" | ")})`);
      await page.getByText("No sessions yet.").waitFor({ timeout: 20_000 });
      if ((await page.locator(`a[href*="id=${sessionId}"]`).count()) !== 0) throw new Error(`session ${sessionId} is still listed`);
      await shot(page, "22-sessions-after-delete");
      await page.goto(`${config.baseUrl}/sessions/view/?id=${encodeURIComponent(sessionId ?? "")}`);
      await page.getByText("This session does not exist (or is not yours).").waitFor();
    });
  } catch (err) {
    await shot(page, "failure").catch(() => undefined);
    if (!(err instanceof StepFailure)) log(`FAIL ${err instanceof Error ? err.stack : String(err)}`);
    if (problems.length) log(`browser problems:\n  ${problems.slice(-20).join("\n  ")}`);
    await browser.close();
    console.log(`${passed} passed, 1 failed`);
    return 1;
  }
  if (problems.length) log(`browser problems (not fatal):\n  ${problems.slice(-20).join("\n  ")}`);
  await browser.close();
  log(`screenshots in ${outDir}`);
  console.log(`${passed} passed, 0 failed`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[e2e] ${err instanceof Error ? err.message : String(err)}`);
    console.log(`${passed} passed, 1 failed`);
    process.exit(1);
  },
);
