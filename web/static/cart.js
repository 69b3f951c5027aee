// «Моя корзина»: quantity changes and removals go to PUT /order/adjust with the version the page
// was drawn from. If another tab changed the order meanwhile (409 stale version), the page reloads
// the fresh cart and says so — an edit is never silently lost.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("cart");
  if (!form) return;
  const error = document.getElementById("cart-error");
  const dialog = document.getElementById("confirm-remove");
  // The form only groups the cart's fields: Enter in a quantity submits nothing.
  form.addEventListener("submit", (event) => event.preventDefault());

  function items(except) {
    return [...form.querySelectorAll("tr[data-product-id]")]
      .filter((row) => row !== except)
      .map((row) => ({
        product: { id: Number(row.dataset.productId) },
        quantity: Number(row.querySelector(".quantity").value),
      }));
  }

  async function send(url, orderItems) {
    error.textContent = "";
    const response = await fetch(url, {
      method: "PUT",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ id: form.dataset.orderId, version: Number(form.dataset.version), orderItems }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 409 && /изменился/.test(body.errorMessage || "")) {
      window.location.assign("/cart?stale=1");
      return null;
    }
    if (!response.ok) {
      error.textContent = body.errorMessage || "Не удалось изменить корзину";
      return null;
    }
    return body;
  }

  for (const input of form.querySelectorAll(".quantity")) {
    input.addEventListener("change", async () => {
      if (!input.checkValidity()) {
        error.textContent = "Количество — целое число от 1 до 99";
        return;
      }
      if (await send("/order/adjust", items(null))) window.location.assign("/cart");
    });
  }

  for (const button of form.querySelectorAll(".remove")) {
    button.addEventListener("click", () => {
      const row = button.closest("tr");
      dialog.querySelector(".what").textContent = row.dataset.name;
      dialog.returnValue = "";
      dialog.onclose = async () => {
        if (dialog.returnValue !== "confirm") return;
        if (await send("/order/adjust", items(row))) window.location.assign("/cart");
      };
      dialog.showModal();
    });
  }

  document.getElementById("checkout").addEventListener("click", async () => {
    const body = await send("/order/process", items(null));
    if (body) window.location.assign(`/checkout/${body.id}`);
  });
});
