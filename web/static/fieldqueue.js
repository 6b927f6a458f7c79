// Field queues, keyboard only. Second keying (/second): type what the crop shows, Enter; the next
// crop gets the focus. Field verification (/fields): Enter with nothing typed confirms the machine's
// value, typing and Enter replaces it, Tab moves on without settling, F4 shows the whole page with
// the field's box; when every crop of the page is settled the next page of fields is loaded. Group grid (/groups): arrows or Tab move between crops; typing a value and
// Enter corrects that crop in place; Enter with nothing typed confirms every other crop of the grid
// at once and loads the next grid.
(function () {
  "use strict";
  const root = document.getElementById("fieldqueue");
  if (!root) return;
  const mode = root.dataset.mode;
  const csrf = document.body.dataset.csrf;
  const cells = Array.from(root.querySelectorAll("section.cell"));
  const opened = performance.now();
  let keys = 0;
  let since = performance.now();
  let busy = false;

  function inputOf(c) { return c.querySelector("input.entry"); }
  function open(c) { return !c.classList.contains("settled") && !c.classList.contains("corrected") && !c.classList.contains("waiting"); }
  function focusCell(c) {
    if (!c) { document.getElementById("back").focus(); return; }
    inputOf(c).focus();
    c.scrollIntoView({ block: "nearest" });
  }
  function nextOpen(from) {
    const start = from ? cells.indexOf(from) + 1 : 0;
    for (let k = 0; k < cells.length; k++) {
      const c = cells[(start + k) % cells.length];
      if (open(c)) return c;
    }
    return null;
  }
  async function post(url, body) {
    const r = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    let data;
    try { data = await r.json(); } catch (e) { data = { ok: false, error: `エラー ${r.status}` }; }
    if (!r.ok && data.ok === undefined) data = { ok: false, error: data.detail || `エラー ${r.status}` };
    return data;
  }
  async function settleOne(c, value) {
    if (busy) return;
    busy = true;
    const state = c.querySelector(".state");
    try {
      const url = `/tasks/${c.dataset.doc}/${c.dataset.page}/${encodeURIComponent(c.dataset.name)}`;
      const data = await post(url, { value: value, ms: Math.round(performance.now() - since), keys: keys, via: mode });
      keys = 0; since = performance.now();
      if (!data.ok) { c.classList.add("invalid"); state.textContent = data.error; return; }
      c.classList.remove("invalid");
      c.classList.add(mode === "group" ? "corrected" : (data.outcome === "first" ? "waiting" : "settled"));
      if (data.outcome === "mismatch") c.classList.add("mismatch");
      state.textContent = data.message;
      inputOf(c).value = "";
      if (value !== null) inputOf(c).placeholder = value;
      const next = nextOpen(c);
      if (next === null && mode === "field") { window.location.reload(); return; }  // the next page of fields
      focusCell(next);
    } finally {
      busy = false;
    }
  }
  async function confirmRest() {
    if (busy) return;
    const rest = cells.filter(open);
    if (rest.length === 0) { window.location.reload(); return; }
    busy = true;
    try {
      const data = await post("/groups/confirm", {
        cells: rest.map((c) => [Number(c.dataset.doc), Number(c.dataset.page), c.dataset.name]),
        ms: Math.round(performance.now() - opened), keys: keys,
      });
      if (!data.ok) { root.querySelector(".dochead").append(` ${data.error || data.detail}`); return; }
      rest.forEach((c) => { c.classList.add("settled"); c.querySelector(".state").textContent = "確定"; });
      window.location.reload();  // the next grid, if any
    } finally {
      busy = false;
    }
  }

  const columns = () => {
    if (cells.length < 2) return 1;
    const top = cells[0].offsetTop;
    const n = cells.findIndex((c) => c.offsetTop !== top);
    return n < 0 ? cells.length : n;
  };
  cells.forEach((c) => {
    const input = inputOf(c);
    input.addEventListener("focus", () => {
      root.querySelectorAll("section.cell.active").forEach((x) => x.classList.remove("active"));
      c.classList.add("active");
    });
    input.addEventListener("keydown", (e) => {
      keys += 1;
      if (e.isComposing) return;
      const i = cells.indexOf(c);
      if (e.key === "Enter") {
        e.preventDefault();
        const v = input.value.trim();
        if (v !== "") settleOne(c, v);
        else if (mode === "group") confirmRest();
        else if (mode === "field" && c.dataset.double !== "1") settleOne(c, null);
      } else if (mode === "group" && input.value === "" && e.key.startsWith("Arrow")) {
        const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns(), ArrowUp: -columns() }[e.key];
        const to = cells[i + step];
        if (to) { e.preventDefault(); focusCell(to); }
      }
    });
  });
  // F4: the whole page with the active field's box, as on the document page.
  const pageview = document.getElementById("pageview");
  if (pageview) {
    document.addEventListener("keydown", (e) => {
      if (e.key !== "F4" && !(e.key === "Escape" && !pageview.hidden)) return;
      e.preventDefault();
      const c = root.querySelector("section.cell.active");
      if (!pageview.hidden || !c) { pageview.hidden = true; if (c) inputOf(c).focus(); return; }
      pageview.querySelector("img").src =
        `/documents/${c.dataset.doc}/pages/${c.dataset.page}.jpg?field=${encodeURIComponent(c.dataset.name)}`;
      pageview.hidden = false;
    });
  }
  focusCell(nextOpen(null));
})();
