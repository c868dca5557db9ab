#!/usr/bin/env node
/*
 * report_browser.js — posenc report pages in a real browser (make test-report).
 *
 * Drives headless Chromium over the DevTools protocol on a pipe
 * (--remote-debugging-pipe: no port, no WebSocket, no npm package) and checks,
 * for each report given:
 *   - no console error, no uncaught exception, no dialog (alert), and no
 *     request for anything but the file itself
 *   - every panel draws something (SVG elements counted per panel)
 *   - changing the state through the URL fragment changes what is drawn:
 *     a hidden series disappears from the curves and the heatmap (one label,
 *     or a comma list), the sinusoidal length slider changes the heatmap's
 *     size, the ALiBi head count changes the number of lines, the attention
 *     length, layer and head change the map
 *   - the scheme cards predict, then reveal: no verdict shows until the
 *     card's button is pressed or its control first moved
 *   - at 900 px wide, no figure or card reaches past its panel
 *   - the time from navigation to the page's end of rendering, and the file size
 * and writes a PNG screenshot of each panel of the first report.
 *
 * usage: node tests/report_browser.js --main FILE [--shots DIR] [--shot-hash STATE]
 *             [--single FILE] [--failed FILE] [--nasty FILE] [--max-mb 3] [--max-ms 1000]
 * Exit status 0 if every check passes, 1 otherwise (each failure printed).
 */
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}

/* ---- Chromium over a pipe ------------------------------------------------ */
class Browser {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "posenc-report-chromium-"));
    this.proc = spawn(CHROMIUM, [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
      `--user-data-dir=${this.dir}`, "--remote-debugging-pipe", "--window-size=1280,900", "about:blank",
    ], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
    this.proc.stderr.on("data", () => {}); /* Chromium's own chatter */
    this.id = 0;
    this.pending = new Map();
    this.listeners = [];
    this.buf = Buffer.alloc(0);
    this.out = this.proc.stdio[3];
    this.proc.stdio[4].on("data", (chunk) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      let z;
      while ((z = this.buf.indexOf(0)) >= 0) {
        const msg = JSON.parse(this.buf.subarray(0, z).toString("utf8"));
        this.buf = this.buf.subarray(z + 1);
        if (msg.id !== undefined && this.pending.has(msg.id)) {
          const { resolve, reject, method } = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
          else resolve(msg.result);
        } else {
          for (const l of this.listeners) l(msg);
        }
      }
    });
  }
  send(method, params, sessionId) {
    const id = ++this.id;
    const msg = { id, method, params: params || {} };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.out.write(JSON.stringify(msg) + "\0");
    });
  }
  /* end the browser this script started (its own process, by its handle), then remove its profile */
  async close() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once("exit", r));
      this.proc.kill("SIGKILL");
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

async function openPage(b) {
  const { targetId } = await b.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await b.send("Target.attachToTarget", { targetId, flatten: true });
  const page = { sessionId, errors: [], dialogs: [], requests: [], loaded: 0 };
  b.listeners.push((m) => {
    if (m.sessionId !== sessionId) return;
    if (m.method === "Runtime.consoleAPICalled" && (m.params.type === "error" || m.params.type === "assert"))
      page.errors.push("console: " + m.params.args.map((a) => a.value || a.description).join(" "));
    else if (m.method === "Runtime.exceptionThrown")
      page.errors.push("exception: " + (m.params.exceptionDetails.exception || {}).description);
    else if (m.method === "Log.entryAdded" && m.params.entry.level === "error")
      page.errors.push("log: " + m.params.entry.text);
    else if (m.method === "Page.javascriptDialogOpening") {
      page.dialogs.push(m.params.message);
      b.send("Page.handleJavaScriptDialog", { accept: true }, sessionId).catch(() => {});
    } else if (m.method === "Network.requestWillBeSent") page.requests.push(m.params.request.url);
    else if (m.method === "Page.loadEventFired") page.loaded++;
  });
  for (const d of ["Runtime", "Log", "Page", "Network"]) await b.send(`${d}.enable`, {}, sessionId);
  await b.send("Emulation.setDeviceMetricsOverride", { width: 1240, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
  page.eval = async (expr) => {
    const r = await b.send("Runtime.evaluate", { expression: expr, returnByValue: true, awaitPromise: true }, sessionId);
    if (r.exceptionDetails) throw new Error(`evaluate ${expr}: ${r.exceptionDetails.text} ${(r.exceptionDetails.exception || {}).description}`);
    return r.result.value;
  };
  page.goto = async (url) => {
    const before = page.loaded;
    await b.send("Page.navigate", { url }, sessionId);
    for (let i = 0; i < 200 && page.loaded === before; i++) await new Promise((r) => setTimeout(r, 25));
    for (let i = 0; i < 200; i++) {
      if (await page.eval("window.__posencReady === true")) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${url}: the page never finished rendering (dialogs: ${JSON.stringify(page.dialogs)}; ` +
                    `errors: ${JSON.stringify(page.errors)})`);
  };
  page.shot = async (selector, file) => {
    const r = await page.eval(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); e.scrollIntoView();
      const b = e.getBoundingClientRect(); return { x: b.left + scrollX, y: b.top + scrollY, w: b.width, h: b.height }; })()`);
    const s = await b.send("Page.captureScreenshot", {
      format: "png", captureBeyondViewport: true,
      clip: { x: Math.max(0, r.x - 4), y: Math.max(0, r.y - 4), width: r.w + 8, height: r.h + 8, scale: 1 },
    }, sessionId);
    fs.writeFileSync(file, Buffer.from(s.data, "base64"));
    return r;
  };
  return page;
}

const COUNTS = `(() => {
  const n = (s) => document.querySelectorAll(s).length;
  return {
    series: n("#curves g.series"), legend: n("#legend button"), seeds: n("#curves path.seed"),
    curvePaths: n("#curves path"), positions: n("#positions rect.cell"), positionRows: n("#positions text"),
    attention: n("#attention rect.cell"), bias: n("#bias path"), sin: n("#sin rect.cell"),
    sinRows: (document.querySelector("#sin svg") || { getAttribute: () => null }).getAttribute("data-rows"),
    learned: n("#learned rect.cell"), rope: n("#rope path") + n("#rope line"), alibi: n("#alibi path.head"),
    verdicts: [...document.querySelectorAll("#panel-schemes .card")].map((c) => c.querySelectorAll(".verdict").length),
    shown: n("#panel-schemes .answer:not([hidden]) .verdict"), reveals: n("#panel-schemes button.reveal:not([hidden])"),
    labels: [...document.querySelectorAll("#curves g.series")].map((g) => g.getAttribute("data-label")),
    attFill: [...document.querySelectorAll("#attention rect.cell")].map((r) => r.getAttribute("fill")).join(";").length +
      ":" + [...document.querySelectorAll("#attention rect.cell")].slice(0, 400).map((r) => r.getAttribute("fill")).join(""),
    failedRows: n("#runs-table td.failed"),
    renderMs: window.__posencRenderMs, readyMs: window.__posencReadyAt,
  };
})()`;

async function setHash(page, hash) {
  await page.eval(`location.hash = ${JSON.stringify(hash)}; new Promise((r) => setTimeout(r, 30))`);
  return page.eval(COUNTS);
}

function panelsDrawn(c, what) {
  check(c.series > 0 && c.curvePaths > c.series, `${what}: curves panel draws ${c.series} series`);
  check(c.positions > 0, `${what}: positions panel draws ${c.positions} cells`);
  check(c.attention > 0, `${what}: attention panel draws ${c.attention} cells`);
  check(c.sin > 0 && c.learned > 0 && c.rope > 0 && c.alibi > 0,
        `${what}: four schemes drawn (sinusoidal ${c.sin} cells, learned ${c.learned}, rope ${c.rope} marks, alibi ${c.alibi} lines)`);
  check(c.verdicts.length === 5 && c.verdicts.every((v) => v > 0), `${what}: every scheme states its verdicts (${c.verdicts.join(", ")})`);
}

function clean(page, what, file) {
  check(page.errors.length === 0, `${what}: no console error${page.errors.length ? ": " + page.errors.join(" | ") : ""}`);
  check(page.dialogs.length === 0, `${what}: no dialog${page.dialogs.length ? ": " + page.dialogs.join(" | ") : ""}`);
  const foreign = page.requests.filter((u) => !u.startsWith("file://" + file) ||
                                             !/^([?#].*)?$/.test(u.slice(("file://" + file).length)));
  check(foreign.length === 0, `${what}: no request but the file itself${foreign.length ? ": " + foreign.join(" ") : ""}`);
}

async function main() {
  const b = new Browser();
  try {
    const page = await openPage(b);
    /* the main report: a sweep */
    const main = path.resolve(args.main);
    /* three loads (the machine is shared: the best of three is the page's own time) */
    let c, best = Infinity;
    const times = [];
    for (let k = 0; k < 3; k++) {
      const t0 = Date.now();
      await page.goto("file://" + main + "?load=" + k);
      const wall = Date.now() - t0;
      c = await page.eval(COUNTS);
      times.push(`${c.readyMs.toFixed(0)} ms (script ${c.renderMs.toFixed(0)} ms, wall ${wall} ms)`);
      best = Math.min(best, c.readyMs);
    }
    const mb = fs.statSync(main).size / 1e6;
    console.log(`report ${main}: ${mb.toFixed(2)} MB; from navigation to the end of rendering: ${times.join(", ")}`);
    check(mb < parseFloat(args["max-mb"] || "3"), `report size ${mb.toFixed(2)} MB < ${args["max-mb"] || 3} MB`);
    check(best < parseFloat(args["max-ms"] || "1000"), `render time ${best.toFixed(0)} ms (best of 3) < ${args["max-ms"] || 1000} ms`);
    panelsDrawn(c, "sweep");
    const before = c;
    /* screenshots */
    if (args.shots) {
      fs.mkdirSync(args.shots, { recursive: true });
      await page.eval("document.querySelector('nav').style.display = 'none'"); /* sticky: it would cover the panels */
      /* a telling view: token accuracy with every seed, the attention at 2x the training length in layer 1 */
      await setHash(page, args["shot-hash"] || "m=token_acc&seeds=1&an=2&al=1&rev=all&sl=64&ab=8");
      for (const [sel, name] of [["#panel-curves", "curves"], ["#panel-positions", "positions"],
                                 ["#panel-attention", "attention"], ["#panel-schemes", "schemes"]]) {
        const f = path.join(args.shots, name + ".png");
        await page.shot(sel, f);
        console.log(`screenshot: ${f}`);
      }
      await page.eval("document.querySelector('nav').style.display = ''");
      c = await setHash(page, "");
      check(c.series === before.series && c.seeds === 0, "#: back to the default view");
    }
    /* state through the URL fragment */
    const first = before.labels[0], second = before.labels[1];
    c = await setHash(page, "hide=" + encodeURIComponent(first));
    check(!c.labels.includes(first) && c.series === before.series - 1,
          `#hide=${first}: the series disappears from the curves (${before.series} -> ${c.series})`);
    check(c.positions < before.positions, `#hide=${first}: and from the heatmap (${before.positions} -> ${c.positions} cells)`);
    c = await setHash(page, `hide=${encodeURIComponent(first)},${encodeURIComponent(second)}`);
    check(!c.labels.includes(first) && !c.labels.includes(second) && c.series === before.series - 2,
          `#hide=${first},${second}: a comma list hides both (${before.series} -> ${c.series})`);
    c = await setHash(page, `hide=${encodeURIComponent(first)}|${encodeURIComponent(second)}`);
    check(c.series === before.series - 2, `#hide=${first}|${second}: the older "|" list too (${c.series})`);
    /* the position heatmap marks where each evaluated length's answer ends, and its note names what one cell pools */
    c = await setHash(page, "");
    const ends = await page.eval(`[document.querySelectorAll("#positions path.end-mark").length,
      [...document.querySelectorAll("#positions p.note")].map((p) => p.textContent).join(" ")]`);
    check(ends[0] > 0 && /pools the end \(EOS\) of n = \d+/.test(ends[1]),
          `the position heatmap marks ${ends[0]} answer ends past the training range and names what a marked cell pools`);
    /* predict, then reveal: nothing shown at first; a card's button, or the first move of its control */
    c = await setHash(page, "");
    check(c.shown === 0 && c.reveals === 5, `the scheme cards show no verdict before a reveal (${c.shown} shown, ${c.reveals} buttons)`);
    const pressed = await page.eval(`(() => { document.querySelector('button.reveal[data-card="learned"]').click();
      return [location.hash, document.querySelectorAll("#learned-verdicts:not([hidden]) .verdict").length,
              document.querySelectorAll("#panel-schemes .answer:not([hidden]) .verdict").length]; })()`);
    check(pressed[0].includes("rev=learned") && pressed[1] > 0 && pressed[2] === pressed[1],
          `"Show what the data say" reveals that card only (${pressed[0]}: ${pressed[1]} of ${pressed[2]} shown)`);
    const moved = await page.eval(`(() => { const s = document.getElementById("alibi-h"); s.value = "8";
      s.dispatchEvent(new Event("input"));
      return [location.hash, document.querySelectorAll("#alibi-verdicts:not([hidden]) .verdict").length,
              document.querySelectorAll("#alibi path.head").length]; })()`);
    check(/rev=learned,alibi/.test(moved[0]) && moved[1] > 0 && moved[2] === 8,
          `the first move of the ALiBi slider reveals its card (${moved[0]}, ${moved[2]} heads)`);
    c = await setHash(page, "rev=all");
    check(c.shown > 0 && c.reveals === 0, `#rev=all: every card revealed (${c.shown} verdicts)`);
    c = await setHash(page, "");
    check(c.sinRows === "32" && (await page.eval('document.querySelectorAll("#alibi path.head").length')) === 1,
          "the cards start where their prompts say: 32 positions, one ALiBi head");
    /* 900 px wide: every figure and card inside its panel (figures scale down, cards stack) */
    await b.send("Emulation.setDeviceMetricsOverride", { width: 900, height: 900, deviceScaleFactor: 1, mobile: false }, page.sessionId);
    await page.eval("window.dispatchEvent(new Event('resize')); new Promise((r) => setTimeout(r, 400))");
    const over = await page.eval(`(() => { const bad = [];
      for (const p of document.querySelectorAll("section.panel")) {
        const pr = p.getBoundingClientRect();
        for (const e of p.querySelectorAll("svg, .card")) {
          const r = e.getBoundingClientRect();
          if (r.width > 0 && (r.right > pr.right + 0.5 || r.left < pr.left - 0.5)) bad.push(p.id + " " + (e.getAttribute("data-panel") || e.id || e.tagName) + " " + Math.round(r.right - pr.right) + " px");
        }
      }
      return [bad, document.documentElement.scrollWidth]; })()`);
    check(over[0].length === 0 && over[1] <= 900, `900 px: nothing reaches past its panel (${over[0].join("; ") || "none"}; page ${over[1]} px wide)`);
    await b.send("Emulation.setDeviceMetricsOverride", { width: 1240, height: 900, deviceScaleFactor: 1, mobile: false }, page.sessionId);
    await page.eval("window.dispatchEvent(new Event('resize')); new Promise((r) => setTimeout(r, 400))");
    c = await setHash(page, "seeds=1");
    check(c.seeds > 0 && before.seeds === 0, `#seeds=1: individual seeds drawn (${c.seeds} lines)`);
    const s32 = await setHash(page, "sl=32"), s128 = await setHash(page, "sl=128");
    check(s32.sinRows === "32" && s128.sinRows === "128" && s128.sin === 4 * s32.sin,
          `#sl=32 / #sl=128: the sinusoidal heatmap has ${s32.sin} / ${s128.sin} cells`);
    const a1 = await setHash(page, "ab=1"), a16 = await setHash(page, "ab=16");
    check(a1.alibi === 1 && a16.alibi === 16, `#ab=1 / #ab=16: ${a1.alibi} / ${a16.alibi} ALiBi heads drawn`);
    const t1 = await setHash(page, "an=0"), t4 = await setHash(page, "an=2");
    check(t4.attention > t1.attention, `#an=0 / #an=2: attention map of ${t1.attention} / ${t4.attention} cells (1x / 4x)`);
    const h0 = await setHash(page, "ah=0"), h1 = await setHash(page, "ah=1");
    check(h0.attFill !== h1.attFill, "#ah=0 / #ah=1: another head draws another map");
    c = await setHash(page, "m=loss&hide=");
    check(c.series === before.series, `#m=loss: every series back (${c.series})`);
    /* driving the page: hover, a legend click, a slider; each selection lands in the fragment */
    const hover = await page.eval(`(() => {
      const hit = document.querySelector("#curves svg > rect[fill=transparent]"), b = hit.getBoundingClientRect();
      hit.dispatchEvent(new MouseEvent("mousemove", { clientX: b.left + b.width * 0.3, clientY: b.top + b.height / 2, bubbles: true }));
      const t = document.getElementById("tip"); return t.style.display === "block" ? t.textContent : ""; })()`);
    check(/^n = \d+/.test(hover) && /\[[-0-9.]+, [-0-9.]+\]/.test(hover) && /seeds: s\d+ [-0-9.]+/.test(hover),
          `hover on the curves: value, interval and each seed (${hover.split("\n")[1] || hover})`);
    const clicked = await page.eval(`(() => { document.querySelector("#legend button").click();
      return [location.hash, document.querySelectorAll("#curves g.series").length]; })()`);
    check(clicked[0].includes("hide=") && clicked[1] === before.series - 1, `legend click hides a series (${clicked[0]})`);
    const slid = await page.eval(`(() => { const s = document.getElementById("sin-len"); s.value = "100";
      s.dispatchEvent(new Event("input")); return [location.hash, document.querySelector("#sin svg").getAttribute("data-rows")]; })()`);
    check(slid[0].includes("sl=100") && slid[1] === "100", `the length slider redraws and lands in the fragment (${slid[0]})`);
    /* break markers: posenc report computes them (D.breaks, posenc collect's rule), one per
     * encoding of the group for the metric shown; an injected one is drawn; none without data */
    const breaks = await page.eval(`(() => { location.hash = ""; readState(); render();
      const real = Array.isArray(D.breaks) ? D.breaks.filter((b) => b.group === groups[0] && b.metric === "exact_match").length : -1;
      const drawn = document.querySelectorAll("#curves g.break").length;
      const keep = D.breaks, s = seriesOf(groups[0]);
      D.breaks = [{ group: groups[0], label: s[0].label, metric: "exact_match", n: 10, lo: 9, hi: 12, fraction: 0.5 }]; render();
      const one = document.querySelectorAll("#curves g.break").length;
      D.breaks = null; render();
      const none = document.querySelectorAll("#curves g.break").length, note = document.getElementById("breaks-note").textContent;
      D.breaks = keep; render(); return [real, drawn, one, none, note]; })()`);
    check(breaks[0] > 0 && breaks[1] === breaks[0], `break markers drawn from the report's own break lengths (${breaks[1]} of ${breaks[0]})`);
    check(breaks[2] === 1 && breaks[3] === 0 && breaks[4].includes("not computed"),
          `an injected break drawn once, none without data (${breaks.slice(2).join(", ")})`);
    clean(page, "sweep", main);

    for (const [key, what] of [["single", "single run"], ["failed", "sweep with a failed run"], ["nasty", "hostile strings"]]) {
      if (!args[key]) continue;
      const f = path.resolve(args[key]);
      page.errors.length = 0, page.dialogs.length = 0, page.requests.length = 0;
      await page.goto("file://" + f);
      c = await page.eval(COUNTS);
      panelsDrawn(c, what);
      if (key === "single") check(c.series === 1, `${what}: one series (${c.series})`);
      if (key === "failed") {
        check(c.failedRows > 0, `${what}: the failed run is listed (${c.failedRows})`);
        const g0 = await page.eval("document.querySelector('#positions p.note').textContent");
        await setHash(page, "g=1");
        const g1 = await page.eval("document.querySelector('#positions p.note').textContent");
        check(g0.startsWith("group: copy") && g1.startsWith("group: reverse"), `${what}: #g=1 shows the second group (${g1.split(" —")[0]})`);
      }
      if (key === "nasty") {
        const t = await page.eval("document.getElementById('title').textContent + document.getElementById('desc').textContent + document.getElementById('runs-table').textContent");
        const scripts = await page.eval("document.scripts.length");
        check(t.includes("</script><script>alert(1)</script>") && t.includes("<img src=x onerror=alert(2)>"),
              `${what}: the hostile strings are shown as text`);
        check(scripts === 2, `${what}: no injected script element (${scripts} scripts)`);
        check(await page.eval("window.__pwned === undefined"), `${what}: no injected code ran`);
      }
      clean(page, what, f);
    }
  } finally {
    await b.close();
  }
  console.log(failures ? `report browser test: ${failures} FAILED` : "report browser test: all checks passed");
  process.exit(failures ? 1 : 0);
}
main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
