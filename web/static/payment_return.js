// «Проверяем оплату…» (/checkout/{id}/return): the bank sent the shopper back; the checkout
// learns the outcome from the bank's callback (or by asking the bank), so ask the checkout until
// it is decided. The same rule as `web/pages.py: return_target`.
"use strict";

const POLL_MS = 700;
const SLOW_AFTER_MS = 15000;

// The steps a checkout ends in come from the page (models/payloads.py: ENDED_STEPS).
function returnTarget(state, endedSteps) {
  const base = `/checkout/${state.orderId}`;
  if (endedSteps.includes(state.step)) return `${base}/result`;
  if (state.step === "CHOOSING_DELIVERY") return state.lastError ? `${base}/result` : base;
  return null;
}

function setupReturn(root) {
  const started = Date.now();
  const problem = root.querySelector("#return-error");
  const slow = root.querySelector("#return-slow");
  const bankLink = root.querySelector("#bank-link");
  const endedSteps = (root.dataset.endedSteps || "").split(" ");

  async function poll() {
    try {
      const state = await call("GET", `/checkout/${root.dataset.orderId}/state`);
      problem.textContent = "";
      const target = returnTarget(state, endedSteps);
      if (target) {
        window.location.assign(target);
        return;
      }
      if (state.paymentUrl) bankLink.href = state.paymentUrl;
      bankLink.hidden = !state.paymentUrl;
      slow.hidden = Date.now() - started < SLOW_AFTER_MS;
    } catch (e) {
      if (e.status === 401) {
        window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
        return;
      }
      if (e.status === 404) {
        problem.textContent = e.message;
        return; // no such checkout of this shopper: nothing to wait for
      }
      problem.textContent = e.status ? e.message : "Нет связи с магазином, пробуем ещё раз…";
    }
    window.setTimeout(poll, POLL_MS);
  }
  window.setTimeout(poll, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  const back = document.getElementById("payment-return");
  if (back) setupReturn(back);
});
