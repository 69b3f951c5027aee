// «Оформление заказа» and «Выбор способа оплаты». Every choice goes to the order's checkout
// workflow as an Update and the page redraws from the state it answers; nothing is decided here.
"use strict";

const rub = (value) =>
  new Intl.NumberFormat("ru-RU", { style: "currency", currency: "RUB" }).format(value);

function setupCheckout(root) {
  const id = root.dataset.orderId;
  const base = `/checkout/${id}`;
  const $ = (sel) => root.querySelector(sel);
  const error = $("#checkout-error");
  const payOrder = $("#pay-order");
  const payButton = $("#pay");
  let state = null;

  function show(next) {
    state = next;
    const delivery = state.delivery;
    $("#delivery-summary").textContent = delivery ? delivery.summary : "";
    $("#total").textContent = rub(state.total);
    if (delivery && delivery.kind === "COURIER") {
      $("#cost-block").hidden = false;
      $("#delivery-cost").textContent = rub(delivery.cost);
      $("#confirm-cost").checked = state.deliveryConfirmed;
    }
    payOrder.disabled = !state.deliveryConfirmed;
    if (!state.deliveryConfirmed) $("#payment").hidden = true;
    refreshPayment();
  }

  async function act(promise) {
    error.textContent = "";
    try {
      show(await promise);
    } catch (e) {
      error.textContent = e.message;
    }
  }

  function showKind(kind) {
    $("#pickup-section").hidden = kind !== "PICKUP";
    $("#courier-section").hidden = kind !== "COURIER";
  }

  for (const radio of root.querySelectorAll("input[name=kind]")) {
    radio.addEventListener("change", () => {
      showKind(radio.value);
      payOrder.disabled = true;
      $("#payment").hidden = true;
      if (radio.value === "COURIER") couriers.list();
    });
  }

  $("#pickup-point").addEventListener("change", (event) => {
    const value = event.target.value;
    if (value) act(call("POST", `${base}/delivery`, { kind: "PICKUP", pickupPointId: Number(value) }));
  });

  // The courier company the checkout has for this address, if any (couriers.js lists them).
  function chosenCompany(address) {
    const delivery = state && state.delivery;
    return delivery && delivery.kind === "COURIER" && delivery.address === address ? delivery.companyName : "";
  }

  const couriers = setupCouriers({
    input: $("#address"),
    box: $("#variants"),
    money: rub,
    chosenFor: chosenCompany,
    choose: (address, companyName) => act(call("POST", `${base}/delivery`, { kind: "COURIER", address, companyName })),
    problem: (message) => {
      error.textContent = message;
    },
    listed: (address) => {
      // The address chosen (typed back, or after a reload): as the state says; another one:
      // nothing is chosen for it yet.
      if (chosenCompany(address)) {
        show(state);
        return;
      }
      payOrder.disabled = true;
      $("#payment").hidden = true;
      $("#cost-block").hidden = true;
    },
  });

  $("#confirm-cost").addEventListener("change", (event) => {
    if (event.target.checked && state && state.delivery) {
      act(call("POST", `${base}/confirm-delivery-cost`, { cost: state.delivery.cost }));
    } else {
      payOrder.disabled = true;
    }
  });

  // «Выбор способа оплаты»: a method (radio `method`) and, for a bank card or a gift card, which
  // one (radios `card` and `gift`; value "" is «другая карта» / «новая подарочная карта»). Picking
  // a card picks its method; «Оплатить» is enabled only when the choice can pay the total.
  const checked = (name) => root.querySelector(`input[name=${name}]:checked`);
  const chosenMethod = () => (checked("method") ? checked("method").value : "");
  const giftCovers = (input) => state && Number(input.dataset.balance) >= state.total;

  function ready() {
    if (!(state && state.deliveryConfirmed)) return false;
    switch (chosenMethod()) {
      case "WALLET":
        return Number(root.dataset.wallet) >= state.total;
      case "BANK_CARD":
        return Boolean(checked("card"));
      case "SBP":
        return true;
      case "GIFT_CARD": {
        const gift = checked("gift");
        return Boolean(gift && gift.value && giftCovers(gift));
      }
      default:
        return false;
    }
  }

  function refreshPayment() {
    const walletEnough = state && Number(root.dataset.wallet) >= state.total;
    $("#method-wallet").disabled = !walletEnough;
    $("#wallet-hint").hidden = walletEnough;
    if (!walletEnough && chosenMethod() === "WALLET") $("#method-wallet").checked = false;
    for (const gift of root.querySelectorAll("input[name=gift]")) {
      if (!gift.value) continue;
      const enough = giftCovers(gift);
      gift.disabled = !enough;
      gift.closest("label").querySelector(".short").hidden = enough;
      gift.closest("label").classList.toggle("disabled", !enough);
      if (!enough && gift.checked) gift.checked = false;
    }
    const newCard = $("#card-new").checked;
    $("#save-card").disabled = !newCard;
    if (!newCard) $("#save-card").checked = false;
    $("#gift-activation").hidden = !$("#gift-new").checked;
    payButton.disabled = !ready();
  }

  function pickMethod(method) {
    root.querySelector(`input[name=method][value=${method}]`).checked = true;
  }

  function defaultChoice(method) {
    // Choosing «банковской картой» or «подарочной картой» alone picks a sensible card under it.
    if (method === "BANK_CARD" && !checked("card")) {
      const first = root.querySelector("input[name=card]");
      if (first) first.checked = true;
    }
    if (method === "GIFT_CARD" && !checked("gift")) {
      const usable = [...root.querySelectorAll("input[name=gift]")].find((g) => g.value && giftCovers(g));
      (usable || $("#gift-new")).checked = true;
    }
  }

  payOrder.addEventListener("click", () => {
    $("#payment").hidden = false;
    refreshPayment();
  });
  for (const radio of root.querySelectorAll("input[name=method]")) {
    radio.addEventListener("change", () => {
      defaultChoice(radio.value);
      refreshPayment();
    });
  }
  for (const radio of root.querySelectorAll("input[name=card]")) {
    radio.addEventListener("change", () => {
      pickMethod("BANK_CARD");
      refreshPayment();
    });
  }
  root.querySelector("#gift-cards").addEventListener("change", (event) => {
    if (event.target.name !== "gift") return;
    pickMethod("GIFT_CARD");
    refreshPayment();
    if (event.target === $("#gift-new")) $("#activation-code").focus();
  });

  // «новая подарочная карта» → «Активировать»: POST /payment/activate binds the card to the shopper;
  // it joins the list with its balance and is chosen if the balance covers the order.
  const codeInput = $("#activation-code");
  const activationError = $("#activation-error");
  const activationDone = $("#activation-done");

  function giftOption(token) {
    const existing = root.querySelector(`input[name=gift][value="${token.id}"]`);
    if (existing) {
      existing.dataset.balance = token.balance;
      existing.closest("label").querySelector(".balance").textContent = rub(token.balance);
      return existing;
    }
    const label = document.createElement("label");
    label.className = "option gift-card";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "gift";
    input.value = String(token.id);
    input.dataset.balance = token.balance;
    const balance = document.createElement("b");
    balance.className = "balance";
    balance.textContent = rub(token.balance);
    const short = document.createElement("small");
    short.className = "hint short";
    short.hidden = true;
    short.textContent = "(не хватает на этот заказ)";
    label.append(input, ` подарочная карта ${token.maskedTokenId} — баланс `, balance, " ", short);
    $("#gift-new-option").before(label);
    return input;
  }

  async function activate() {
    activationError.textContent = "";
    activationDone.textContent = "";
    codeInput.setAttribute("aria-invalid", "false");
    const code = codeInput.value.trim();
    if (!code) {
      activationError.textContent = "Введите код активации из письма";
      codeInput.setAttribute("aria-invalid", "true");
      return;
    }
    $("#activate").disabled = true;
    try {
      const token = await call("POST", "/payment/activate", { activationCode: code });
      const input = giftOption(token);
      codeInput.value = "";
      if (giftCovers(input)) {
        input.checked = true;
        activationDone.textContent = `Карта ${token.maskedTokenId} активирована и выбрана для оплаты`;
      } else {
        activationDone.textContent = `Карта ${token.maskedTokenId} активирована, но её баланса не хватает на этот заказ`;
      }
      refreshPayment();
    } catch (e) {
      activationError.textContent = e.message;
      codeInput.setAttribute("aria-invalid", "true");
    } finally {
      $("#activate").disabled = false;
    }
  }

  $("#activate").addEventListener("click", activate);
  codeInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      activate();
    }
  });

  function payBody() {
    const method = chosenMethod();
    const body = { method, tokenId: null, saveCard: false };
    if (method === "BANK_CARD") {
      const card = checked("card");
      body.tokenId = card && card.value ? Number(card.value) : null;
      body.saveCard = body.tokenId === null && $("#save-card").checked;
    } else if (method === "GIFT_CARD") {
      body.tokenId = Number(checked("gift").value);
    }
    return body;
  }

  payButton.addEventListener("click", async () => {
    if (!ready()) return;
    payButton.disabled = true;
    $("#payment-methods").disabled = true;
    error.textContent = "";
    const status = $("#pay-status");
    status.textContent = "Платёж обрабатывается…";
    try {
      const answer = await call("POST", `${base}/pay`, payBody());
      if (answer.step === "AWAITING_BANK" && answer.paymentUrl) {
        status.textContent = "Переходим на страницу банка…";
        window.location.assign(answer.paymentUrl);
      } else {
        // Paid, or declined: the result page shows «Оплачено» or the reason and the ways on.
        window.location.assign(`${base}/result`);
      }
    } catch (e) {
      status.textContent = "";
      error.textContent = e.message;
      $("#payment-methods").disabled = false;
      refreshPayment();
    }
  });

  $("#back-to-cart").addEventListener("click", async () => {
    try {
      await call("POST", `${base}/back`);
    } finally {
      window.location.assign("/cart");
    }
  });

  // Back from the bank's page, the browser may restore this page as it was left (mid-payment):
  // draw it again from the checkout's state instead.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) window.location.reload();
  });

  call("GET", `${base}/state`).then((initial) => {
    if (initial.delivery) showKind(initial.delivery.kind);
    show(initial);
    if (initial.delivery && initial.delivery.kind === "COURIER") couriers.list();
    if (window.location.hash === "#payment" && initial.deliveryConfirmed) payOrder.click();
  });
}

function setupResult(root) {
  const edit = root.querySelector("#edit-order");
  if (!edit) return;
  edit.addEventListener("click", async () => {
    try {
      await call("POST", `/checkout/${root.dataset.orderId}/back`);
    } finally {
      window.location.assign("/cart");
    }
  });
}

// «Выбрать другой способ оплаты» while the bank's page waits: the attempt ends (a payment the bank
// still completes is refunded) and the payment choice opens again.
function setupLeaveBank(button) {
  const base = `/checkout/${button.dataset.orderId}`;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await call("POST", `${base}/leave-bank-page`);
    } catch (e) {
      if (e.status !== 409) {
        document.getElementById("leave-bank-error").textContent = e.message;
        button.disabled = false;
        return;
      }
      // 409: the bank has just decided; the checkout page shows what happened.
    }
    if (window.location.pathname === base) {
      window.location.hash = "payment";
      window.location.reload(); // a hash change alone would not draw the page again
    } else {
      window.location.assign(`${base}#payment`);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const leave = document.getElementById("leave-bank");
  if (leave) setupLeaveBank(leave);
  const checkout = document.getElementById("checkout");
  if (checkout && checkout.dataset.step === "CHOOSING_DELIVERY") setupCheckout(checkout);
  const result = document.getElementById("payment-result");
  if (result) setupResult(result);
});
