// scratchnet serve: the page. Plain JavaScript over the JSON API; nothing fetched from outside.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { run: null, model: null, issued: 0, done: 0, latest: 0, timer: null, busy: 0 };

function q(path, extra) {
  const p = new URLSearchParams(extra || {});
  if (state.run) p.set("run", state.run);
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

function busy(delta) {
  state.busy += delta;
  document.body.dataset.busy = String(state.busy);
}

async function api(path, opts) {
  busy(1);
  try {
    const r = await fetch(path, opts);
    const body = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
    if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
    return body;
  } finally {
    busy(-1);
  }
}

function status(msg) { $("status").textContent = msg || ""; }

// ---------- drawing ----------
const pad = $("pad");
const pctx = pad.getContext("2d");
let drawing = false;
let last = null;

function clearPad() {
  pctx.fillStyle = "#000";
  pctx.fillRect(0, 0, pad.width, pad.height);
}

function at(e) {
  const r = pad.getBoundingClientRect();
  return { x: (e.clientX - r.left) * pad.width / r.width, y: (e.clientY - r.top) * pad.height / r.height };
}

function stroke(a, b) {
  pctx.strokeStyle = "#fff";
  pctx.lineWidth = 18;
  pctx.lineCap = "round";
  pctx.lineJoin = "round";
  pctx.beginPath();
  pctx.moveTo(a.x, a.y);
  pctx.lineTo(b.x, b.y);
  pctx.stroke();
}

pad.addEventListener("pointerdown", (e) => {
  drawing = true;
  pad.setPointerCapture(e.pointerId);
  last = at(e);
  stroke(last, last);
  schedule();
});
pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  const p = at(e);
  stroke(last, p);
  last = p;
  schedule();
});
function endStroke() {
  if (!drawing) return;
  drawing = false;
  clearTimeout(state.timer);
  predictPad(true);
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);
$("clear").addEventListener("click", () => {
  clearPad();
  clearTimeout(state.timer);
  state.latest = ++state.issued;
  showPrediction(null);
});

// While drawing: a plain prediction at most every 120 ms; when the stroke ends, one with the
// layers inside.
function schedule() {
  clearTimeout(state.timer);
  state.timer = setTimeout(() => predictPad(false), 120);
}

function predictPad(inside) {
  const seq = ++state.issued;
  state.latest = seq;
  $("prediction").dataset.issued = String(state.issued);
  busy(1);
  pad.toBlob(async (blob) => {
    try {
      const r = await api(q("/api/predict", inside ? { inside: "true" } : {}), {
        method: "POST", headers: { "Content-Type": "image/png" }, body: blob,
      });
      if (seq === state.latest) showPrediction(r);
      status("");
    } catch (err) {
      if (seq === state.latest) { showPrediction(null); status(err.message); }
    } finally {
      state.done = Math.max(state.done, seq);
      $("prediction").dataset.done = String(state.done);
      busy(-1);
    }
  }, "image/png");
}

async function predictPixels(pixels) {
  const seq = ++state.issued;
  state.latest = seq;
  try {
    const r = await api(q("/api/predict", { inside: "true" }), {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ pixels }),
    });
    if (seq === state.latest) showPrediction(r);
  } catch (err) {
    status(err.message);
  } finally {
    state.done = Math.max(state.done, seq);
    $("prediction").dataset.done = String(state.done);
  }
}

// ---------- probabilities ----------
function initBars() {
  const bars = $("bars");
  bars.innerHTML = "";
  for (let d = 0; d < 10; d++) {
    const row = document.createElement("div");
    row.className = "bar";
    row.id = `bar-${d}`;
    row.innerHTML = `<span class="digit">${d}</span><span class="track"><span class="fill" style="width:0%;display:block"></span></span><span class="value"></span>`;
    bars.appendChild(row);
  }
}

function showPrediction(r) {
  const pred = $("prediction");
  if (!r) {
    pred.dataset.class = "";
    $("pred-digit").textContent = "?";
    $("pred-prob").textContent = "";
    for (let d = 0; d < 10; d++) {
      const row = $(`bar-${d}`);
      row.classList.remove("top");
      row.querySelector(".fill").style.width = "0%";
      row.querySelector(".value").textContent = "";
    }
    drawGrey($("input28"), new Array(784).fill(0), 28, 28);
    return;
  }
  pred.dataset.class = String(r.class);
  $("pred-digit").textContent = String(r.class);
  $("pred-prob").textContent = `${(100 * r.probs[r.class]).toFixed(1)} %`;
  r.probs.forEach((p, d) => {
    const row = $(`bar-${d}`);
    row.classList.toggle("top", d === r.class);
    row.querySelector(".fill").style.width = `${(100 * p).toFixed(1)}%`;
    row.querySelector(".value").textContent = p.toFixed(3);
  });
  drawGrey($("input28"), r.input, 28, 28);
  if (r.layers) showInside(r.layers);
}

// ---------- pictures ----------
// `values` in [0, 1] (or bytes with `bytes`), drawn into a canvas of w×h pixels.
function drawGrey(canvas, values, w, h, bytes) {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = bytes ? values[i] : Math.round(255 * Math.min(1, Math.max(0, values[i])));
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function canvasOf(values, w, h, scale, bytes) {
  const c = document.createElement("canvas");
  drawGrey(c, values, w, h, bytes);
  c.style.width = `${w * scale}px`;
  c.style.height = `${h * scale}px`;
  return c;
}

// Values scaled into [0, 1] by their largest magnitude (activations after ReLU are ≥ 0).
function normalised(values) {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  return max > 0 ? values.map((v) => Math.max(0, v) / max) : values.map(() => 0);
}

// ---------- inside ----------
function showInside(layers) {
  const box = $("inside");
  box.innerHTML = "";
  const m = state.model;
  if (!m) return;
  if (m.first_layer.kind === "dense") {
    const first = layers[0];
    const act = first.values;
    const order = act.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]);
    const shown = order.slice(0, Math.min(100, order.length));
    const h = document.createElement("h3");
    h.textContent = `First layer: the weights into each of the ${m.first_layer.units} hidden units (${first.name}), ` +
      `as 28×28 tiles, most active for your digit first` + (order.length > 100 ? " (top 100)" : "");
    box.appendChild(h);
    box.appendChild(note("Grey is 0, white positive, black negative weight. A unit fires where its white parts meet your ink and its black parts do not: these are the strokes it looks for."));
    const tiles = document.createElement("div");
    tiles.className = "tiles";
    const maxAct = Math.max(1e-9, ...act.map(Math.abs));
    for (const [v, i] of shown) {
      const t = document.createElement("div");
      t.className = "tile";
      const c = canvasOf(m.first_layer.tiles[i] || [], 28, 28, 2, true);
      const a = Math.max(0, v) / maxAct;
      c.style.borderColor = `rgba(230, 81, 0, ${a.toFixed(3)})`;
      c.title = `unit ${i}: activation ${v.toFixed(3)}`;
      t.appendChild(c);
      t.appendChild(document.createTextNode(v.toFixed(2)));
      tiles.appendChild(t);
    }
    box.appendChild(tiles);
  } else {
    const f = m.first_layer;
    const h = document.createElement("h3");
    h.textContent = `First convolution: ${f.filters} filters of ${f.channels}×${f.size}×${f.size}` + (f.tiles.length < f.filters ? ` (first ${f.tiles.length})` : "");
    box.appendChild(h);
    box.appendChild(note("Each filter slides over the image; grey is 0, white positive, black negative. Early filters find edges and blobs."));
    const tiles = document.createElement("div");
    tiles.className = "tiles";
    f.tiles.forEach((t) => tiles.appendChild(canvasOf(t.slice(0, f.size * f.size), f.size, f.size, Math.max(4, Math.round(40 / f.size)), true)));
    box.appendChild(tiles);
  }
  for (const l of layers) {
    const last = l === layers[layers.length - 1];
    const h = document.createElement("h3");
    h.textContent = last ? `Scores before the softmax (${l.name})` : `After ${l.name} (layer ${l.index + 1}): ${l.shape.join("×")}` + (l.channels > l.shape[0] && l.shape.length === 3 ? ` (first ${l.shape[0]} of ${l.channels} channels)` : "");
    box.appendChild(h);
    if (l.shape.length === 3) {
      const [c, hh, w] = l.shape;
      const norm = normalised(l.values);
      const maps = document.createElement("div");
      maps.className = "maps";
      const scale = Math.max(1, Math.round(56 / Math.max(hh, w)));
      for (let k = 0; k < c; k++) {
        maps.appendChild(canvasOf(norm.slice(k * hh * w, (k + 1) * hh * w), w, hh, scale));
      }
      box.appendChild(maps);
    } else {
      const n = l.values.length;
      const cols = Math.min(n, 50);
      const rows = Math.ceil(n / cols);
      const vals = normalised(l.values);
      const padded = vals.concat(new Array(rows * cols - n).fill(0));
      const strip = document.createElement("div");
      strip.className = "strip";
      const c = canvasOf(padded, cols, rows, last ? 24 : 10);
      c.title = last ? l.values.map((v, i) => `${i}: ${v.toFixed(2)}`).join("  ") : `${n} units, brightest = most active`;
      strip.appendChild(c);
      box.appendChild(strip);
    }
  }
}

function note(text) {
  const p = document.createElement("p");
  p.className = "note";
  p.textContent = text;
  return p;
}

// ---------- where it goes wrong ----------
async function loadTest() {
  let t;
  try {
    t = await api(q("/api/test"));
  } catch (err) {
    $("test-status").textContent = err.message;
    return;
  }
  if (t.status === "pending") {
    $("test-status").textContent = "evaluating the test set…";
    setTimeout(loadTest, 1000);
    return;
  }
  if (t.status === "absent") {
    $("test-status").textContent = t.message;
    $("confusion").innerHTML = "";
    $("mistakes").innerHTML = "";
    return;
  }
  const total = t.confusion.reduce((s, r) => s + r.reduce((a, b) => a + b, 0), 0);
  $("test-status").textContent = `Test accuracy ${(100 * t.accuracy).toFixed(2)} %: ${t.count} of ${total} test images misclassified.`;
  const table = $("confusion");
  let html = "<tr><th></th>" + [...Array(10).keys()].map((d) => `<th>${d}</th>`).join("") + "</tr>";
  const maxOff = Math.max(1, ...t.confusion.flatMap((r, i) => r.filter((_, j) => j !== i)));
  t.confusion.forEach((row, i) => {
    const n = Math.max(1, row.reduce((a, b) => a + b, 0));
    html += `<tr><th>${i}</th>` + row.map((v, j) => {
      const bg = i === j ? `rgba(46,125,50,${(0.15 + 0.6 * v / n).toFixed(2)})` : v ? `rgba(211,47,47,${(0.1 + 0.8 * v / maxOff).toFixed(2)})` : "transparent";
      return `<td style="background:${bg}" title="label ${i}, predicted ${j}: ${v}">${v}</td>`;
    }).join("") + "</tr>";
  });
  table.innerHTML = html;
  const box = $("mistakes");
  box.innerHTML = "";
  const shown = t.mistakes.slice(0, 120);
  $("mistakes-title").textContent = `Misclassified test images (${shown.length} of ${t.count})`;
  for (const m of shown) {
    const d = document.createElement("div");
    d.className = "mistake";
    d.title = `test image ${m.index}: label ${m.label}, predicted ${m.predicted}`;
    const c = document.createElement("canvas");
    c.width = c.height = 28;
    d.appendChild(c);
    d.appendChild(document.createTextNode(`${m.label}→${m.predicted}`));
    d.addEventListener("click", () => loadTestImage(m.index));
    box.appendChild(d);
  }
  // the thumbnails, a few requests at a time
  const queue = shown.map((m, k) => [m, box.children[k].querySelector("canvas")]);
  const worker = async () => {
    while (queue.length) {
      const [m, c] = queue.shift();
      try {
        const img = await api(`/api/test/${m.index}`);
        drawGrey(c, img.pixels, 28, 28);
      } catch (_) { /* the list stays usable without the picture */ }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

async function loadTestImage(index) {
  const img = await api(`/api/test/${index}`);
  // shown on the pad too, ten times as large, so that strokes can be added to it
  clearPad();
  const c = canvasOf(img.pixels, 28, 28, 1);
  pctx.imageSmoothingEnabled = false;
  pctx.drawImage(c, 0, 0, pad.width, pad.height);
  status(`test image ${index}, label ${img.label}`);
  await predictPixels(img.pixels);
}

// ---------- the run ----------
function plot(canvas, series, opts) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, L = 48, R = 10, T = 22, B = 28;
  ctx.clearRect(0, 0, W, H);
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillStyle = "#222";
  ctx.fillText(opts.title, L, 14);
  const pts = series.flatMap((s) => s.points);
  if (!pts.length) { ctx.fillText("no data", L, H / 2); return; }
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (y1 - y0 < 1e-6) { y0 -= 0.01; y1 += 0.01; }
  const X = (x) => L + (W - L - R) * (x - x0) / (x1 - x0);
  const Y = (y) => H - B - (H - T - B) * (y - y0) / (y1 - y0);
  ctx.strokeStyle = "#999";
  ctx.beginPath(); ctx.moveTo(L, T); ctx.lineTo(L, H - B); ctx.lineTo(W - R, H - B); ctx.stroke();
  ctx.fillStyle = "#555";
  ctx.fillText(y1.toPrecision(3), 4, T + 8);
  ctx.fillText(y0.toPrecision(3), 4, H - B);
  ctx.fillText(String(Math.round(x0)), L, H - 10);
  const xl = String(Math.round(x1));
  ctx.fillText(xl, W - R - ctx.measureText(xl).width, H - 10);
  ctx.fillText(opts.xlabel, (W - ctx.measureText(opts.xlabel).width) / 2, H - 10);
  series.forEach((s, k) => {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    s.points.forEach((p, i) => (i ? ctx.lineTo(X(p[0]), Y(p[1])) : ctx.moveTo(X(p[0]), Y(p[1]))));
    ctx.stroke();
    ctx.fillStyle = s.color;
    if (s.points.length <= 60) {
      // few evaluations: each one a dot, so that even one shows
      for (const p of s.points) { ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), 3, 0, 2 * Math.PI); ctx.fill(); }
    }
    ctx.fillText(s.name, W - R - 110, T + 14 + 14 * k);
  });
}

async function loadRun() {
  const table = $("config");
  table.innerHTML = "";
  let r;
  try {
    r = await api(q("/api/run"));
  } catch (err) {
    $("run-status").textContent = err.message;
    plot($("loss-plot"), [], { title: "loss", xlabel: "iteration" });
    plot($("acc-plot"), [], { title: "accuracy", xlabel: "iteration" });
    return;
  }
  $("run-status").textContent = `${r.dir}` + (r.bucket > 1 ? ` (loss: means of ${r.bucket} iterations)` : "");
  plot($("loss-plot"), [{ name: "batch loss", color: "#1565c0", points: r.loss.rows }], { title: "loss per iteration", xlabel: "iteration" });
  const acc = r.accuracy;
  const series = [];
  if (acc && acc.rows.length) {
    const it = acc.header.indexOf("iteration");
    acc.header.forEach((h, k) => {
      if (h.endsWith("_acc")) {
        series.push({ name: h, color: h.startsWith("train") ? "#2e7d32" : "#e65100", points: acc.rows.map((row) => [row[it], row[k]]) });
      }
    });
  }
  plot($("acc-plot"), series, { title: "accuracy per evaluation", xlabel: "iteration" });
  const s = r.summary || {};
  const rows = [];
  const add = (k, v) => { if (v !== undefined && v !== null && typeof v !== "object") rows.push([k, v]); };
  for (const k of ["describe", "train_acc", "test_acc", "iters_done", "wall_s", "threads", "run_id"]) add(k, s[k]);
  table.innerHTML = rows.map(([k, v]) => `<tr><td>${k}</td><td>${typeof v === "number" && !Number.isInteger(v) ? v.toPrecision(4) : v}</td></tr>`).join("");
}

// ---------- model and runs ----------
async function loadModel() {
  const m = await api(q("/api/model"));
  state.model = m;
  $("model-desc").textContent = `${m.name}: ${m.spec} (${m.sizes.join("-")}, ${m.dtype})`;
  $("inside").innerHTML = "";
  $("inside").appendChild(note("Draw a digit to see what fires."));
}

async function loadRuns() {
  const sel = $("run-select");
  try {
    const r = await api("/api/runs");
    const names = r.runs.map((x) => x.name);
    if (!names.includes(r.current)) names.unshift(r.current);
    sel.innerHTML = names.map((n) => {
      const x = r.runs.find((y) => y.name === n);
      const acc = x && x.test_acc != null ? ` (test ${(100 * x.test_acc).toFixed(2)} %)` : "";
      return `<option value="${n.replace(/"/g, "&quot;")}">${n}${acc}</option>`;
    }).join("");
    sel.value = state.run || r.current;
  } catch (err) {
    status(err.message);
  }
}

$("run-select").addEventListener("change", async (e) => {
  state.run = e.target.value;
  await start();
});

async function start() {
  clearPad();
  showPrediction(null);
  try {
    await loadModel();
  } catch (err) {
    status(err.message);
    return;
  }
  loadRun();
  loadTest();
}

initBars();
clearPad();
loadRuns();
start();
