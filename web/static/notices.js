// In-app notices for a logged-in shopper on every page: an EventSource on
// /notifications/stream shows each new notice as a toast (role="status", class "toast").
// The last notice seen is kept in localStorage, so another page resumes after it (a reconnect
// of the same EventSource sends Last-Event-ID itself); with nothing kept yet, only notices of
// the last minutes show. On «Личный кабинет» it also saves the channels (PUT /notification/channels).
"use strict";

(() => {
  const LAST_KEY = "shopflow.lastNoticeId";
  const FRESH_MS = 3 * 60 * 1000;
  const TOAST_MS = 8000;

  function toastArea() {
    let area = document.getElementById("toasts");
    if (!area) {
      area = document.createElement("div");
      area.id = "toasts";
      area.className = "toasts";
      document.body.appendChild(area);
    }
    return area;
  }

  function showToast(notice) {
    const toast = document.createElement("div");
    toast.className = "toast";
    toast.setAttribute("role", "status");
    toast.dataset.noticeId = String(notice.id);
    const subject = document.createElement("b");
    subject.textContent = notice.subject;
    const body = document.createElement("p");
    body.textContent = notice.body;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "link toast-close";
    close.setAttribute("aria-label", "Закрыть уведомление");
    close.textContent = "×";
    close.addEventListener("click", () => toast.remove());
    toast.append(close, subject, body);
    toastArea().appendChild(toast);
    setTimeout(() => toast.remove(), TOAST_MS);
  }

  // Only the pages where a shopper follows their orders keep a stream open: a long-lived
  // connection on every page would take one of the browser's few connections to the store.
  const LISTENING = /^\/(orders|notifications|account)(\/|$)/;

  function listen() {
    if (!("EventSource" in window) || !LISTENING.test(window.location.pathname)) return;
    const kept = localStorage.getItem(LAST_KEY);
    const after = kept && /^\d+$/.test(kept) ? kept : "0";
    const source = new EventSource(`/notifications/stream?after=${after}`);
    source.addEventListener("notice", (event) => {
      let notice;
      try {
        notice = JSON.parse(event.data);
      } catch {
        return;
      }
      const last = Number(localStorage.getItem(LAST_KEY) || "0");
      if (notice.id <= last) return;
      localStorage.setItem(LAST_KEY, String(notice.id));
      const fresh = Date.now() - Date.parse(notice.at) < FRESH_MS;
      if (kept !== null || fresh) showToast(notice);
    });
    source.addEventListener("error", () => {
      // 401 (logged out elsewhere) closes the source for good; otherwise it retries by itself.
      if (source.readyState === EventSource.CLOSED) source.close();
    });
    window.addEventListener("pagehide", () => source.close());
  }

  function channelsForm() {
    const form = document.getElementById("channels-form");
    if (!form) return;
    const done = document.getElementById("channels-done");
    const error = document.getElementById("channels-error");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      done.textContent = error.textContent = "";
      const body = {};
      for (const name of ["email", "sms", "push"]) body[name] = form.elements[name].checked;
      try {
        await call("PUT", "/notification/channels", body);
        done.textContent = "Каналы уведомлений сохранены";
      } catch (problem) {
        error.textContent = problem.message || "Нет связи с магазином, попробуйте ещё раз";
      }
    });
  }

  listen();
  channelsForm();
})();
