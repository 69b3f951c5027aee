// A gift card's or a top-up's «Оплатить» and the return from the bank's page. Each action goes to
// the purchase's workflow as an Update; the page follows the state it answers.
"use strict";

const PURCHASE_POLL_MS = 700;

function purchaseTarget(state) {
  // The same rule as `web/money_pages.py: purchase_return_target`.
  const ended = ["DONE", "FAILED", "EXPIRED"].includes(state.step);
  if (ended || (state.step === "CHOOSING_PAYMENT" && state.lastError)) {
    return `/purchase/${state.purchaseId}`;
  }
  return null;
}

function setupPurchase(root) {
  const base = `/purchase/${root.dataset.purchaseId}`;
  const error = root.querySelector("#purchase-error");
  const pay = root.querySelector("#purchase-pay");
  const leave = root.querySelector("#purchase-leave-bank");
  const chosen = (name) => root.querySelector(`input[name="${name}"]:checked`);

  function follow(state) {
    if (state.step === "AWAITING_BANK" && state.paymentUrl) {
      window.location.assign(state.paymentUrl);
    } else {
      window.location.assign(base);
    }
  }

  if (pay) {
    root.addEventListener("change", () => {
      pay.disabled = !chosen("method");
    });
    pay.addEventListener("click", async () => {
      const method = chosen("method").value;
      const card = chosen("card");
      const body = { method };
      if (method === "BANK_CARD" && card && card.value) body.tokenId = Number(card.value);
      pay.disabled = true;
      error.textContent = "";
      try {
        follow(await call("POST", `${base}/pay`, body));
      } catch (problem) {
        error.textContent = problem.message;
        pay.disabled = false;
      }
    });
  }
  if (leave) {
    leave.addEventListener("click", async () => {
      try {
        follow(await call("POST", `${base}/leave-bank-page`));
      } catch (problem) {
        error.textContent = problem.message;
      }
    });
  }
}

function setupPurchaseReturn(root) {
  const error = root.querySelector("#purchase-error");
  async function poll() {
    try {
      const state = await call("GET", `/purchase/${root.dataset.purchaseId}/state`);
      error.textContent = "";
      const target = purchaseTarget(state);
      if (target) {
        window.location.assign(target);
        return;
      }
    } catch (problem) {
      error.textContent = problem.message;
    }
    setTimeout(poll, PURCHASE_POLL_MS);
  }
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  const purchase = document.querySelector("#purchase");
  if (purchase) setupPurchase(purchase);
  const back = document.querySelector("#purchase-return");
  if (back) setupPurchaseReturn(back);
});
