// The LatentIndigo demo page: plain JavaScript against the app's HTTP API (no build step, no CDN).
// POST /api/restore → {id}; EventSource on /api/jobs/{id}/events; GET /api/jobs/{id}/result; DELETE cancels.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { file: null, fileName: "", inputUrl: null, health: null, job: null, compareJobs: [] };

// ---------- start ----------
document.addEventListener("DOMContentLoaded", async () => {
  wireTabs();
  wireInput();
  $("restore-button").addEventListener("click", restore);
  $("cancel-button").addEventListener("click", () => state.job?.cancel());
  $("slider").addEventListener("input", updateSlider);
  $("before-after").addEventListener("click", zoomAt);
  $("compare-button").addEventListener("click", compare);
  $("compare-cancel").addEventListener("click", () => state.compareJobs.forEach((j) => j.cancel()));
  try {
    state.health = await getJson("/api/health");
    applyHealth(state.health);
    const samples = await getJson("/api/samples");
    for (const s of samples) {
      $("sample-select").append(new Option(`${s.name} (${s.width}×${s.height})`, s.name));
    }
  } catch (e) {
    showError($("error"), `The server did not answer: ${e.message}`);
  }
});

function applyHealth(h) {
  if (h.notice) {
    $("mode-notice").textContent = h.notice;
    $("mode-notice").hidden = false;
  }
  if (h.model) {
    $("model-info").textContent = `Model: ${h.model}`;
    $("model-info").hidden = false;
  }
  $("version").textContent = `LatentIndigo ${h.version.split("+")[0]} · ${h.mode} · ${h.queue.maxConcurrentRestores} restore(s) at once`;
  for (const name of h.strategies) {
    $("strategy").append(new Option(strategyLabel(name), name, false, name === h.defaultStrategy));
    const box = document.createElement("label");
    box.innerHTML = `<input type="checkbox" name="compare-strategy"> `;
    box.firstChild.value = name;
    box.firstChild.checked = h.strategies.indexOf(name) < 2;
    box.append(strategyLabel(name));
    $("compare-strategies").append(box);
  }
  for (const name of h.estimators) $("estimator").append(new Option(name, name));
  $("estimator").disabled = h.estimators.length < 2;
  $("estimator-hint").textContent = h.estimators.length < 2
    ? "Only the bicubic estimate is available on this server." : "";
  const l = h.limits;
  $("steps").max = l.maxSteps;
  $("limits-hint").textContent = `PNG, JPEG, WebP or BMP; up to ${formatBytes(l.maxUploadBytes)}, ` +
    `${formatMp(l.maxInputPixels)} in and ${formatMp(l.maxOutputPixels)} out. Results are kept ${Math.round(l.resultLifetimeSeconds / 60)} min.`;
  $("compare-strategies").addEventListener("change", limitCompareChoices);
  limitCompareChoices();
}

function strategyLabel(name) {
  return { "pixel": "pixel (LatentINDIGO-PixelINN)", "latent": "latent (LatentINDIGO-LatentINN)", "none": "none (plain diffusion)", "inn-only": "inn-only (no diffusion)" }[name] ?? name;
}

// ---------- tabs ----------
function wireTabs() {
  for (const tab of document.querySelectorAll("nav [data-view]")) {
    tab.addEventListener("click", () => {
      for (const t of document.querySelectorAll("nav [data-view]")) {
        t.setAttribute("aria-selected", String(t === tab));
        $(`view-${t.dataset.view}`).hidden = t !== tab;
      }
      $("input-panel").hidden = tab.dataset.view === "evaluation";
      if (tab.dataset.view === "evaluation") loadEvaluation();
    });
  }
}

// ---------- input: file picker, drag and drop, bundled samples ----------
function wireInput() {
  $("file-input").addEventListener("change", () => {
    const f = $("file-input").files[0];
    if (f) setInput(f, f.name);
  });
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    const f = e.dataTransfer.files[0];
    if (f) setInput(f, f.name);
  });
  $("sample-select").addEventListener("change", async () => {
    const name = $("sample-select").value;
    if (!name) return;
    const response = await fetch(`/api/samples/${encodeURIComponent(name)}`);
    if (response.ok) setInput(await response.blob(), name);
  });
}

function setInput(blob, name) {
  state.file = blob;
  state.fileName = name;
  if (state.inputUrl) URL.revokeObjectURL(state.inputUrl);
  state.inputUrl = URL.createObjectURL(blob);
  const img = $("input-preview");
  img.onload = () => { $("input-info").textContent = `${name}: ${img.naturalWidth}×${img.naturalHeight}, ${formatBytes(blob.size)}`; };
  img.onerror = () => { $("input-info").textContent = `${name}: ${formatBytes(blob.size)} (the browser cannot preview it)`; };
  img.src = state.inputUrl;
  $("input-figure").hidden = false;
  $("restore-button").disabled = false;
  $("compare-button").disabled = false;
  $("error").hidden = true;
  $("progress-text").textContent = "Ready.";
}

// ---------- a job: POST, then events until done/failed/cancelled ----------
class Job {
  constructor(settings, onEvent) {
    this.settings = settings;
    this.onEvent = onEvent;
    this.id = null;
    this.source = null;
  }

  // Resolves with the final event {kind, data}; rejects with the server's message when the request is refused.
  async run() {
    const form = new FormData();
    form.append("image", state.file, state.fileName || "image.png");
    for (const [key, value] of Object.entries(this.settings)) form.append(key, value);
    const response = await fetch("/api/restore", { method: "POST", body: form });
    const body = await response.json().catch(() => ({}));
    if (response.status !== 202) throw new Error(body.detail || body.title || `The server answered ${response.status}.`);
    this.id = body.id;
    return await new Promise((resolve) => {
      this.source = new EventSource(`/api/jobs/${this.id}/events`);
      for (const kind of ["queued", "progress"]) {
        this.source.addEventListener(kind, (e) => this.onEvent(kind, JSON.parse(e.data)));
      }
      for (const kind of ["done", "failed", "cancelled"]) {
        this.source.addEventListener(kind, (e) => {
          this.source.close();
          resolve({ kind, data: JSON.parse(e.data) });
        });
      }
      this.source.onerror = () => {
        // EventSource reconnects by itself; only a closed stream without a final event is an error.
        if (this.source.readyState === EventSource.CLOSED) resolve({ kind: "failed", data: { message: "Lost the connection to the server." } });
      };
    });
  }

  async cancel() {
    if (this.id) await fetch(`/api/jobs/${this.id}`, { method: "DELETE" });
  }

  async resultUrl() {
    const response = await fetch(`/api/jobs/${this.id}/result`);
    if (!response.ok) throw new Error((await response.json()).detail);
    return URL.createObjectURL(await response.blob());
  }
}

function settingsFromForm(strategy) {
  const s = {};
  for (const el of $("settings").elements) {
    if (el.name && !el.disabled) s[el.name] = el.value.trim();
  }
  if (strategy) s.strategy = strategy;
  return s;
}

// Progress as a fraction and a line of text, from one event.
function describe(kind, d) {
  if (kind === "queued") return [0, `Waiting in line: position ${d.queuePosition} (${d.running} running)`];
  if (d.stage === "Sampling" && d.totalSteps > 0) {
    const done = ((d.step - 1) * d.totalTiles + d.tile) / (d.totalSteps * d.totalTiles);
    const tiles = d.totalTiles > 1 ? `, tile ${d.tile}/${d.totalTiles}` : "";
    return [0.05 + 0.9 * Math.min(1, done), `Sampling: step ${d.step}/${d.totalSteps}${tiles}`];
  }
  if (d.stage === "BackProjecting" && d.totalSteps > 0) {
    // INN-only: INN passes of the back-projection (at most totalSteps), each over totalTiles windows.
    const done = ((d.step - 1) * d.totalTiles + d.tile) / (d.totalSteps * d.totalTiles);
    const windows = d.totalTiles > 1 ? `, window ${d.tile}/${d.totalTiles}` : "";
    return [0.05 + 0.9 * Math.max(0, Math.min(1, done)), `Back-projecting through the INN: pass ${Math.max(1, d.step)}/${d.totalSteps}${windows}`];
  }
  const at = { Preparing: 0.02, Encoding: 0.04, Decoding: 0.95, Finishing: 0.97, Completed: 1 }[d.stage] ?? 0;
  return [at, `${d.stage}…`];
}

// ---------- Restore view ----------
async function restore() {
  const error = $("error");
  error.hidden = true;
  $("result").hidden = true;
  $("restore-button").disabled = true;
  $("cancel-button").disabled = false;
  $("progress").value = 0;
  $("progress-text").textContent = "Uploading…";
  const job = new Job(settingsFromForm(), (kind, d) => {
    const [value, text] = describe(kind, d);
    $("progress").value = value;
    $("progress-text").textContent = text;
  });
  state.job = job;
  try {
    const end = await job.run();
    if (end.kind === "done") {
      $("progress").value = 1;
      $("progress-text").textContent = `Done in ${end.data.totalSeconds.toFixed(2)} s.`;
      await showResult(job, end.data);
    } else {
      $("progress-text").textContent = end.kind === "cancelled" ? "Cancelled." : "Failed.";
      showError(error, end.data.message);
    }
  } catch (e) {
    $("progress-text").textContent = "Refused.";
    showError(error, e.message);
  } finally {
    $("restore-button").disabled = false;
    $("cancel-button").disabled = true;
    state.job = null;
  }
}

async function showResult(job, summary) {
  const url = await job.resultUrl();
  const result = $("result-image");
  await new Promise((resolve) => { result.onload = resolve; result.src = url; });
  $("before-image").src = state.inputUrl;
  $("download").href = url;
  $("download").download = state.fileName.replace(/\.[^.]+$/, "") + "-restored.png";
  $("figures").replaceChildren(...figureRows(summary));
  $("result").hidden = false;
  updateSlider();
  zoomAt(null);
}

function figureRows(s) {
  const rows = [
    ["size", `${s.inputWidth}×${s.inputHeight} → ${s.width}×${s.height}`],
    ["strategy", s.strategy + (s.usedGenerativePrior ? "" : " (no generative prior)") + (s.standInModels ? " — stand-in models" : "")],
    ["steps run × tiles", `${s.stepsRun} × ${s.tiles}`],
    ...Object.entries(s.seconds).map(([stage, sec]) => [`time: ${stage}`, `${sec.toFixed(2)} s`]),
    ["time: total", `${s.totalSeconds.toFixed(2)} s`],
    ["coarse PSNR", s.coarsePsnr == null ? "–" : `${s.coarsePsnr.toFixed(1)} dB`],
    ["measured PSNR", s.measurementPsnr == null ? "–" : `${s.measurementPsnr.toFixed(1)} dB`],
  ];
  return rows.map(([k, v]) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    const td = document.createElement("td");
    th.textContent = k;
    td.textContent = v;
    tr.append(th, td);
    return tr;
  });
}

function updateSlider() {
  $("before-image").style.clipPath = `inset(0 ${100 - $("slider").value}% 0 0)`;
}

// Draws the same region of the input (nearest-neighbour, upscaled) and of the result at 1:1 around the clicked point.
function zoomAt(event) {
  const result = $("result-image");
  const input = $("before-image");
  if (!result.naturalWidth || !input.naturalWidth) return;
  const size = $("zoom-after").width;
  let cx = result.naturalWidth / 2, cy = result.naturalHeight / 2;
  if (event) {
    const r = result.getBoundingClientRect();
    cx = (event.clientX - r.left) / r.width * result.naturalWidth;
    cy = (event.clientY - r.top) / r.height * result.naturalHeight;
  }
  const x = Math.max(0, Math.min(result.naturalWidth - size, Math.round(cx - size / 2)));
  const y = Math.max(0, Math.min(result.naturalHeight - size, Math.round(cy - size / 2)));
  const sx = input.naturalWidth / result.naturalWidth, sy = input.naturalHeight / result.naturalHeight;
  for (const [canvas, img, fx, fy] of [[$("zoom-after"), result, 1, 1], [$("zoom-before"), input, sx, sy]]) {
    const g = canvas.getContext("2d");
    g.imageSmoothingEnabled = false;
    g.clearRect(0, 0, size, size);
    g.drawImage(img, x * fx, y * fy, size * fx, size * fy, 0, 0, size, size);
  }
}

// ---------- Compare view ----------
function limitCompareChoices() {
  const boxes = [...document.querySelectorAll("input[name=compare-strategy]")];
  const chosen = boxes.filter((b) => b.checked).length;
  for (const b of boxes) b.disabled = !b.checked && chosen >= 3;
}

async function compare() {
  const strategies = [...document.querySelectorAll("input[name=compare-strategy]:checked")].map((b) => b.value).slice(0, 3);
  const error = $("compare-error");
  error.hidden = true;
  if (strategies.length === 0) {
    showError(error, "Tick one to three strategies.");
    return;
  }
  $("compare-button").disabled = true;
  $("compare-cancel").disabled = false;
  const grid = $("compare-grid");
  grid.replaceChildren();
  state.compareJobs = [];
  const runs = strategies.map((strategy) => {
    const card = document.createElement("div");
    card.className = "compare-card";
    card.dataset.strategy = strategy;
    card.innerHTML = `<h3></h3><progress max="1" value="0"></progress><p class="status hint"></p>`;
    card.querySelector("h3").textContent = strategyLabel(strategy);
    grid.append(card);
    const status = card.querySelector(".status");
    const bar = card.querySelector("progress");
    const job = new Job(settingsFromForm(strategy), (kind, d) => {
      const [value, text] = describe(kind, d);
      bar.value = value;
      status.textContent = text;
    });
    state.compareJobs.push(job);
    return job.run().then(async (end) => {
      if (end.kind !== "done") {
        status.textContent = `${end.kind}: ${end.data.message}`;
        status.className = "status error";
        return;
      }
      bar.value = 1;
      status.textContent = `${end.data.width}×${end.data.height} in ${end.data.totalSeconds.toFixed(2)} s` +
        (end.data.coarsePsnr == null ? "" : `, coarse PSNR ${end.data.coarsePsnr.toFixed(1)} dB`);
      const img = document.createElement("img");
      img.alt = `Restored with ${strategy}`;
      img.src = await job.resultUrl();
      card.append(img);
      const table = document.createElement("table");
      table.className = "figures";
      table.append(...figureRows(end.data));
      card.append(table);
    }).catch((e) => {
      status.textContent = e.message;
      status.className = "status error";
    });
  });
  await Promise.all(runs);
  $("compare-button").disabled = false;
  $("compare-cancel").disabled = true;
}

// ---------- Evaluation view (read-only) ----------
async function loadEvaluation() {
  const box = $("evaluation");
  const response = await fetch("/api/eval");
  const body = await response.json();
  if (!response.ok) {
    box.innerHTML = `<p class="hint"></p>`;
    box.firstChild.textContent = body.detail;
    return;
  }
  box.replaceChildren();
  const title = document.createElement("p");
  title.textContent = `Folder ${body.folder}: ${body.rows.length} result(s), read-only.`;
  box.append(title, table(["strategy", "images", "PSNR-Y (dB)", "SSIM-Y", "seconds"],
    body.means.map((m) => [m.strategy, m.images, num(m.psnrY, 2), num(m.ssimY, 4), num(m.seconds, 2)])));
  box.append(table(["image", "strategy", "PSNR-Y", "SSIM-Y", "LR PSNR", "perceptual", "seconds", "peak MiB"],
    body.rows.map((r) => [r.image, r.strategy, num(r.psnrY, 2), num(r.ssimY, 4), num(r.lrPsnr, 2), num(r.perceptual, 4), num(r.seconds, 2), num(r.peakMemoryMiB, 0)])));
  const images = document.createElement("div");
  images.className = "eval-images";
  for (const image of body.images.filter((i) => i.kind !== "output")) {
    const fig = document.createElement("figure");
    const img = document.createElement("img");
    img.src = `/api/eval/images/${image.index}`;
    img.alt = image.name;
    const cap = document.createElement("figcaption");
    cap.textContent = `${image.kind}: ${image.name}`;
    fig.append(img, cap);
    images.append(fig);
  }
  box.append(images);
}

function table(headers, rows) {
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  for (const h of headers) head.append(Object.assign(document.createElement("th"), { textContent: h }));
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const cell of row) {
      const td = tr.insertCell();
      td.textContent = cell;
      if (typeof cell === "number" || /^[\d.–-]+$/.test(String(cell))) td.className = "num";
    }
  }
  return t;
}

// ---------- helpers ----------
async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function showError(box, message) {
  box.textContent = message;
  box.hidden = false;
}

function num(v, digits) { return v == null ? "–" : Number(v).toFixed(digits); }
function formatBytes(b) { return b >= 1048576 ? `${(b / 1048576).toFixed(1)} MB` : `${Math.round(b / 1024)} KB`; }
function formatMp(p) { return p >= 1e6 ? `${(p / 1e6).toFixed(p % 1e6 ? 1 : 0)} MP` : `${Math.round(p / 1000)} kP`; }
