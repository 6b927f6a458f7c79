// Keyboard-only field verification. Enter confirms (empty input) or saves what was typed; Tab and
// Shift+Tab move; F4 shows the whole page with the field's box; F8 postpones; F9 rejects with a
// reason; Ctrl+Enter accepts. Time and keystrokes per field go to the server with each answer.
(function () {
  "use strict";
  const root = document.getElementById("doc");
  if (!root) return;
  const docId = root.dataset.docId;
  const csrf = document.body.dataset.csrf;
  const opened = performance.now();
  const fields = Array.from(root.querySelectorAll("section.field"));
  const stats = new Map();
  let busy = false;

  function inputOf(sec) { return sec.querySelector("input.entry"); }
  function stat(sec) {
    if (!stats.has(sec)) stats.set(sec, { since: performance.now(), keys: 0 });
    return stats.get(sec);
  }
  function nextOpen(from) {
    const start = from ? fields.indexOf(from) + 1 : 0;
    for (let k = 0; k < fields.length; k++) {
      const sec = fields[(start + k) % fields.length];
      if (!sec.classList.contains("settled") && !sec.classList.contains("waiting") && !sec.classList.contains("mismatch")) return sec;
    }
    return null;
  }
  function focusField(sec) {
    if (!sec) { finish(); return; }
    inputOf(sec).focus();
    sec.scrollIntoView({ block: "nearest" });
  }
  function finish() {
    const open = fields.filter((s) => !s.classList.contains("settled"));
    const crossItems = Array.from(document.querySelectorAll("#cross li"), (li) => li.textContent);
    const cross = crossItems.length;
    const leftForOthers = open.every((s) => s.classList.contains("waiting") || s.classList.contains("mismatch"));
    if (cross > 0 && leftForOthers) {
      // Every value is confirmed and a cross-field rule still fails: the paper itself is
      // inconsistent, so the document goes back. The rule is offered as the reason (Enter sends,
      // Esc returns to the fields) rather than handing it to a second clerk who can only reject.
      openReject("項目間の規則に合わない: " + crossItems.join(" / "));
    } else if (open.length === 0 && cross === 0) {
      document.getElementById("accept-btn").focus();
    } else if (open.length > 0 && open.every((s) => s.classList.contains("waiting") || s.classList.contains("mismatch"))) {
      document.getElementById("release-btn").focus();
    } else {
      document.getElementById("accept-btn").focus();
    }
  }
  function setCross(list) {
    const box = document.getElementById("cross");
    const ul = box.querySelector("ul");
    ul.replaceChildren(...list.map((t) => { const li = document.createElement("li"); li.textContent = t; return li; }));
    box.classList.toggle("empty", list.length === 0);
  }

  async function send(sec, value) {
    if (busy) return;
    busy = true;
    const st = stat(sec);
    const body = { value: value, ms: Math.round(performance.now() - st.since), keys: st.keys };
    const url = `/documents/${docId}/fields/${sec.dataset.page}/${encodeURIComponent(sec.dataset.name)}`;
    const state = sec.querySelector(".state");
    try {
      const r = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      const data = await r.json();
      if (!data.ok) {
        state.textContent = data.error;
        sec.classList.add("invalid");
        return;
      }
      sec.classList.remove("invalid");
      sec.classList.toggle("settled", data.settled);
      sec.classList.toggle("waiting", !!data.waiting);
      sec.classList.toggle("mismatch", !!data.mismatch);
      state.textContent = data.settled ? `${data.message}: ${data.shown}` : data.message;
      inputOf(sec).value = "";
      setCross(data.cross);
      stats.delete(sec);
      focusField(nextOpen(sec));
    } finally {
      busy = false;
    }
  }

  fields.forEach((sec) => {
    const input = inputOf(sec);
    input.addEventListener("focus", () => { stat(sec); root.querySelectorAll("section.field.active").forEach((s) => s.classList.remove("active")); sec.classList.add("active"); });
    input.addEventListener("keydown", (e) => {
      stat(sec).keys += 1;
      if (e.key === "Enter" && !e.ctrlKey && !e.isComposing) {
        e.preventDefault();
        const v = input.value.trim();
        send(sec, v === "" ? null : v);
      }
    });
  });

  const pageview = document.getElementById("pageview");
  function togglePage() {
    if (!pageview.hidden) { pageview.hidden = true; const a = root.querySelector("section.field.active"); if (a) inputOf(a).focus(); return; }
    const sec = root.querySelector("section.field.active") || fields[0];
    const page = sec ? sec.dataset.page : 0;
    const name = sec ? encodeURIComponent(sec.dataset.name) : "";
    pageview.querySelector("img").src = `/documents/${docId}/pages/${page}.jpg?field=${name}`;
    pageview.hidden = false;
  }
  function submitWithMs(form) {
    const ms = form.querySelector("input[name=ms]");
    if (ms) ms.value = String(Math.round(performance.now() - opened));
    form.submit();
  }

  const reject = document.getElementById("reject");
  function openReject(reason) {
    reject.hidden = false;
    const box = document.getElementById("reject-reason");
    if (reason && !box.value) box.value = reason.slice(0, 500);
    box.focus();
  }
  document.addEventListener("keydown", (e) => {
    if (e.key === "F4") { e.preventDefault(); togglePage(); }
    else if (e.key === "Escape") {
      if (!pageview.hidden) togglePage();
      else if (!reject.hidden) { reject.hidden = true; focusField(nextOpen(null)); }
    }
    else if (e.key === "F8") { e.preventDefault(); submitWithMs(document.getElementById("postpone")); }
    else if (e.key === "F9") { e.preventDefault(); openReject(null); }
    else if (e.key === "Enter" && e.ctrlKey) { e.preventDefault(); submitWithMs(document.getElementById("accept")); }
  });
  document.getElementById("accept").addEventListener("submit", (e) => {
    e.preventDefault(); submitWithMs(e.target);
  });

  focusField(nextOpen(null));
})();
