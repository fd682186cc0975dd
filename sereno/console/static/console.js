// Sereno console: refresh parts of a page in place, send actions to the JSON API, preview
// silences. Pages read fine without it. Everything put into the page is HTML the server
// rendered and escaped, or text set with textContent.
"use strict";

(function () {
  const REFRESH_MS = 5000;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const actor = document.querySelector('meta[name="sereno-actor"]')?.content || "";
  const statusBox = document.querySelector("[data-status]");

  function say(text, isError) {
    if (!statusBox) return;
    statusBox.textContent = text;
    statusBox.classList.toggle("error", Boolean(isError));
    statusBox.classList.add("shown");
    window.clearTimeout(say.timer);
    say.timer = window.setTimeout(() => statusBox.classList.remove("shown"), 6000);
  }

  async function refresh(region) {
    // Leave a part alone while someone is typing or has focus inside it.
    if (region.contains(document.activeElement) && document.activeElement !== document.body) {
      return;
    }
    try {
      const response = await fetch(region.dataset.liveSrc, {
        headers: { Accept: "text/html" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const html = await response.text();
        if (region.dataset.lastHtml !== html) {
          region.innerHTML = html;
          region.dataset.lastHtml = html;
        }
      }
    } catch (error) {
      // The server may be restarting; the next round tries again.
    }
  }

  function refreshAll() {
    document.querySelectorAll("[data-live-src]").forEach(refresh);
  }

  window.setInterval(() => {
    if (!document.hidden) refreshAll();
  }, REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refreshAll();
  });

  async function send(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === null ? undefined : JSON.stringify(body),
    });
    if (response.ok) return null;
    let message = response.status + " " + response.statusText;
    try {
      const answer = await response.json();
      message = answer.error + (answer.detail && answer.detail.length
        ? " (" + answer.detail.map((d) => d.field + ": " + d.problem).join("; ") + ")" : "");
    } catch (error) {
      // Not JSON: the status line says enough.
    }
    return message;
  }

  function fieldsOf(form) {
    const body = {};
    new FormData(form).forEach((value, name) => {
      const text = String(value).trim();
      if (text) body[name] = text;
    });
    if (form.dataset.actorField) body[form.dataset.actorField] = actor;
    return body;
  }

  document.querySelectorAll("form[data-api]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const method = form.dataset.method || "POST";
      const buttons = form.querySelectorAll("button");
      buttons.forEach((b) => { b.disabled = true; });
      const problem = await send(method, form.dataset.api, method === "DELETE" ? null : fieldsOf(form));
      buttons.forEach((b) => { b.disabled = false; });
      if (problem) {
        say(problem, true);
        return;
      }
      say(form.dataset.done || "OK", false);
      form.reset();
      if (form.hasAttribute("data-reload")) {
        window.setTimeout(() => window.location.reload(), 600);
      } else {
        // The command goes through the pipeline; look again shortly and once more after.
        window.setTimeout(refreshAll, 400);
        window.setTimeout(refreshAll, 1500);
      }
    });
  });

  const silenceForm = document.querySelector("form[data-silence-api]");
  if (silenceForm) {
    const target = document.querySelector("[data-preview-target]");
    const matchFields = ["names", "resources", "services", "sources"];
    let timer = 0;

    function query() {
      const params = new URLSearchParams();
      new FormData(silenceForm).forEach((value, name) => {
        if (name !== "comment" && String(value).trim()) params.append(name, String(value));
      });
      return params.toString();
    }

    async function preview() {
      const response = await fetch(silenceForm.dataset.preview + "?" + query(), {
        credentials: "same-origin",
      });
      if (response.ok && target) target.innerHTML = await response.text();
    }

    silenceForm.addEventListener("input", () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(preview, 300);
    });

    const create = silenceForm.querySelector("[data-create]");
    if (create) {
      create.addEventListener("click", async () => {
        const data = new FormData(silenceForm);
        const match = {};
        matchFields.forEach((name) => {
          const patterns = String(data.get(name) || "").split(",").map((p) => p.trim()).filter(Boolean);
          if (patterns.length) match[name] = patterns;
        });
        const severities = data.getAll("severities").map(String);
        if (severities.length) match.severities = severities;
        const body = { match: match, duration: String(data.get("duration")), comment: String(data.get("comment") || "") };
        if (silenceForm.dataset.actorField) body[silenceForm.dataset.actorField] = actor;
        create.disabled = true;
        const problem = await send("POST", silenceForm.dataset.silenceApi, body);
        create.disabled = false;
        if (problem) {
          say(problem, true);
          return;
        }
        say(silenceForm.dataset.done || "OK", false);
        window.setTimeout(() => { window.location.href = "/silences"; }, 600);
      });
    }
  }
})();
