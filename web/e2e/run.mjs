#!/usr/bin/env node
// End-to-end test of the web app in headless Chromium against a running platform (`ayka up`).
// The sample clip plays as the microphone. Steps: sign up, Live (start, captions, stop), sessions list,
// session detail (transcript + speakers), leads, events, settings, log out, log in.
// A screenshot of every page goes to web/test-results/. Exits 1 on the first failed step.
//
//   AYKA_BASE_URL        the platform (default http://127.0.0.1:8000)
//   AYKA_E2E_AUDIO       WAV file used as the microphone (default: the pyannote sample clip in ../.venv)
//   AYKA_E2E_CHROMIUM    the browser (default /usr/bin/chromium)
//   AYKA_E2E_CAPTION_S   bound for the first expected caption word (default 60)
//   AYKA_E2E_RECORD_S    how long to record in total (default 32: the whole 30 s clip)
//   AYKA_E2E_WORDS       comma-separated words expected in the captions (default: words of the clip)
//   AYKA_E2E_REQUIRE_SPEAKERS=0  accept a transcript whose segments have no speaker label yet (default 1)
//   AYKA_E2E_HEADED=1    show the browser

import { existsSync, mkdirSync, readdirSync } from "node:fs";
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
  page.on("websocket", (ws) => {
    log(`websocket ${ws.url().replace(/token=[^&]+/, "token=…")}`);
    ws.on("close", () => log("websocket closed"));
  });

  const email = `e2e-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const password = `Pw-${Math.random().toString(36).slice(2)}-e2e!`;
  let sessionId = null;

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
