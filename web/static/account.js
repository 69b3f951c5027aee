// «Личный кабинет»: «Удалить» forgets a remembered bank card (or an empty gift card) through
// DELETE /payment/tokens/delete; the row goes away once the server agrees.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const error = document.getElementById("means-error");
  const done = document.getElementById("means-done");
  for (const button of document.querySelectorAll(".remove-token")) {
    button.addEventListener("click", async () => {
      const row = button.closest("li");
      const query = new URLSearchParams({ tokenType: row.dataset.tokenType, id: row.dataset.tokenId });
      error.textContent = "";
      done.textContent = "";
      button.disabled = true;
      try {
        const response = await fetch(`/payment/tokens/delete?${query}`, {
          method: "DELETE",
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        const body = await response.json().catch(() => ({}));
        if (!response.ok) throw new Error(body.errorMessage || "Не удалось удалить");
        const list = row.parentElement;
        row.remove();
        done.textContent = row.dataset.tokenType === "BANK_CARD" ? "Карта удалена" : "Подарочная карта удалена";
        if (!list.children.length) document.getElementById(`no-${list.id}`).hidden = false;
      } catch (e) {
        error.textContent = e.message || "Нет связи с магазином, попробуйте ещё раз";
        button.disabled = false;
      }
    });
  }
});
