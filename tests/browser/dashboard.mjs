// Loads the dashboard in Debian's headless Chromium, through the credentialed
// URL operators type (http://user:pass@host:port/dashboard), and checks the
// rendered DOM: numbers present, a registered host listed, and a host
// registered while the page is open appearing within two refreshes.
//
// node dashboard.mjs --url URL --host HOST --new-host HOST --ready FILE --trigger FILE --screenshot PNG
// The driving test registers --new-host once --ready exists, then creates
// --trigger when the router routes it. Exit 0 = every check passed.
import { chromium } from "playwright-core";
import { existsSync, writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith("--")) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const sleep = ms => new Promise(r => setTimeout(r, ms));
function check(ok, what) {
  if (!ok) throw new Error("check failed: " + what);
  console.log("ok - " + what);
}

// A fresh profile each run (playwright passes it as --user-data-dir).
const profile = mkdtempSync(join(tmpdir(), "sy-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1200, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let exitCode = 1;
try {
  const page = browser.pages()[0] || await browser.newPage();
  const errors = [];
  page.on("pageerror", e => errors.push(String(e)));
  page.on("console", m => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(args.url, { waitUntil: "load", timeout: 15000 });
  // The first poll fills the numbers; the second gives a rate.
  await page.waitForFunction(() => /^\d/.test(document.getElementById("total").textContent), null, { timeout: 10000 });
  await page.waitForFunction(() => /^\d/.test(document.getElementById("rps").textContent), null, { timeout: 10000 });
  const total = Number((await page.textContent("#total")).replace(/[^\d.]/g, ""));
  check(total > 0, `requests counted (${total})`);
  check(/^\d/.test(await page.textContent("#conns")), "client connections shown");
  check((await page.$$("#groups .kv")).length === 5, "five status groups");
  check(/^\d/.test(await page.textContent("#latency .kv b")), "a latency percentile shown");
  check((await page.textContent("#nats")).includes("connected"), "NATS connected");
  check((await page.textContent("#errors")).includes("unknown_route"), "router errors by X-Cf-Routererror");
  await page.fill("#q", args.host);
  await page.waitForFunction(h => [...document.querySelectorAll("#routes td.host")].some(td => td.textContent.startsWith(h)),
                             args.host, { timeout: 5000 });
  check(true, `registered host ${args.host} listed`);
  // A registration made now must show within two refreshes (1 s each).
  await page.fill("#q", args["new-host"]);
  writeFileSync(args.ready, "ready\n");
  for (let i = 0; !existsSync(args.trigger); i++) {
    if (i > 300) throw new Error("no trigger from the test");
    await sleep(50);
  }
  const registered = Date.now();
  await page.waitForFunction(h => [...document.querySelectorAll("#routes td.host")].some(td => td.textContent.startsWith(h)),
                             args["new-host"], { timeout: 2500 });
  check(true, `new registration ${args["new-host"]} shown after ${Date.now() - registered} ms`);
  await page.fill("#q", "");
  await sleep(2200);  // two refreshes: the rate and the 10 s window have data for the picture
  await page.screenshot({ path: args.screenshot, fullPage: true });
  check(errors.length === 0, "no script errors" + (errors.length ? ": " + errors.join("; ") : ""));
  exitCode = 0;
} catch (e) {
  console.log("FAILED: " + (e && e.stack || e));
} finally {
  await browser.close();
}
process.exit(exitCode);
