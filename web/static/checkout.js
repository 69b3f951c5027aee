// «Оформление заказа» and «Выбор способа оплаты». Every choice goes to the order's checkout
// workflow as an Update and the page redraws from the state it answers; nothing is decided here.
"use strict";

const rub = (value) =>
  new Intl.NumberFormat("ru-RU", { style: "currency", currency: "RUB" }).format(value);

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.errorMessage || "Не удалось выполнить действие");
  return data;
}

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
    });
  }

  $("#pickup-point").addEventListener("change", (event) => {
    const value = event.target.value;
    if (value) act(call("POST", `${base}/delivery`, { kind: "PICKUP", pickupPointId: Number(value) }));
  });

  $("#find-variants").addEventListener("click", async () => {
    error.textContent = "";
    const address = $("#address").value.trim();
    const box = $("#variants");
    box.textContent = "";
    try {
      const data = await call("GET", `/delivery/variants?address=${encodeURIComponent(address)}`);
      for (const variant of data.variants) {
        const label = document.createElement("label");
        label.className = "option";
        const input = document.createElement("input");
        input.type = "radio";
        input.name = "company";
        input.value = variant.companyName;
        input.addEventListener("change", () =>
          act(call("POST", `${base}/delivery`, { kind: "COURIER", address, companyName: variant.companyName })),
        );
        label.append(input, ` ${variant.companyName} — ${rub(variant.cost)}, ${variant.estimatedDate}`);
        box.append(label);
      }
    } catch (e) {
      error.textContent = e.message;
    }
  });

  $("#confirm-cost").addEventListener("change", (event) => {
    if (event.target.checked && state && state.delivery) {
      act(call("POST", `${base}/confirm-delivery-cost`, { cost: state.delivery.cost }));
    } else {
      payOrder.disabled = true;
    }
  });

  function chosenMethod() {
    const checked = root.querySelector("input[name=method]:checked");
    return checked ? checked.value : "";
  }

  function refreshPayment() {
    const walletEnough = state && Number(root.dataset.wallet) >= state.total;
    $("#method-wallet").disabled = !walletEnough;
    $("#wallet-hint").hidden = walletEnough;
    if (!walletEnough && chosenMethod() === "WALLET") $("#method-wallet").checked = false;
    payButton.disabled = !(state && state.deliveryConfirmed && chosenMethod());
  }

  payOrder.addEventListener("click", () => {
    $("#payment").hidden = false;
    refreshPayment();
  });
  for (const radio of root.querySelectorAll("input[name=method]")) {
    radio.addEventListener("change", refreshPayment);
  }

  payButton.addEventListener("click", async () => {
    payButton.disabled = true;
    error.textContent = "";
    try {
      await call("POST", `${base}/pay`, { method: chosenMethod() });
      window.location.assign(`${base}/result`);
    } catch (e) {
      error.textContent = e.message;
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

  call("GET", `${base}/state`).then((initial) => {
    if (initial.delivery) showKind(initial.delivery.kind);
    show(initial);
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

document.addEventListener("DOMContentLoaded", () => {
  const checkout = document.getElementById("checkout");
  if (checkout && checkout.dataset.step === "CHOOSING_DELIVERY") setupCheckout(checkout);
  const result = document.getElementById("payment-result");
  if (result) setupResult(result);
});
