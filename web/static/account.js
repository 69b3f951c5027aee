// «Личный кабинет»: the details, e-mail and password forms (checked as the registration form is,
// with forms.js's `refresh` and `showServerErrors`), «завершить все другие сеансы», and «Удалить»
// for a remembered bank card (or an empty gift card) through DELETE /payment/tokens/delete.
// On the page of an e-mail change link: «Подтвердить» posts the link's fragment.
"use strict";

const NO_LINK = "Нет связи с магазином, попробуйте ещё раз";

async function callApi(url, method, data) {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: data === undefined ? undefined : JSON.stringify(data),
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({}));
  return { ok: response.ok, body };
}

// What each form shows once the server agreed.
const DONE = {
  "profile-form": (form, body) => {
    for (const name of ["firstName", "lastName", "phone"]) form.elements[name].value = body[name] ?? "";
    return "Данные сохранены";
  },
  "email-form": (form, body) => {
    const pending = document.getElementById("email-pending");
    pending.querySelector('[data-test="pending-email"]').textContent = body.newEmail;
    pending.hidden = false;
    form.reset();
    return "";
  },
  "password-form": (form, body) => {
    form.reset();
    document.querySelectorAll("#sessions li.other").forEach((row) => row.remove());
    return `Пароль изменён. Завершено других сеансов: ${body.ended}`;
  },
};

async function submitAccountForm(form, event) {
  event.preventDefault();
  if (!form.checkValidity()) return;
  const done = form.querySelector(".form-done");
  if (done) done.textContent = "";
  form.querySelector(".form-error").textContent = "";
  form.dataset.busy = "1";
  refresh(form);
  try {
    const data = Object.fromEntries(new FormData(form).entries());
    const { ok, body } = await callApi(form.dataset.api, form.dataset.method, data);
    if (!ok) {
      showServerErrors(form, body);
      return;
    }
    for (const input of form.querySelectorAll("input")) delete input.dataset.touched;
    const message = DONE[form.id](form, body);
    if (done) done.textContent = message;
  } catch (e) {
    showServerErrors(form, { errorMessage: NO_LINK });
  } finally {
    form.dataset.busy = "0";
    refresh(form);
  }
}

function setUpAccountForms() {
  for (const form of document.querySelectorAll("form.account-form")) {
    for (const input of form.querySelectorAll("input")) {
      input.addEventListener("input", () => {
        delete input.dataset.serverError;
        refresh(form);
      });
      input.addEventListener("blur", () => {
        input.dataset.touched = "1";
        refresh(form);
      });
    }
    form.addEventListener("submit", (event) => submitAccountForm(form, event));
    refresh(form);
  }
}

function setUpEndOtherSessions() {
  const button = document.getElementById("end-other-sessions");
  if (!button) return;
  const done = document.getElementById("sessions-done");
  const error = document.getElementById("sessions-error");
  button.addEventListener("click", async () => {
    done.textContent = "";
    error.textContent = "";
    button.disabled = true;
    try {
      const { ok, body } = await callApi("/auth/sessions/end-others", "POST");
      if (!ok) throw new Error(body.errorMessage || "Не удалось завершить сеансы");
      document.querySelectorAll("#sessions li.other").forEach((row) => row.remove());
      done.textContent = `Другие сеансы завершены: ${body.ended}`;
    } catch (e) {
      error.textContent = e.message || NO_LINK;
      button.disabled = false;
    }
  });
}

function setUpRemoveTokens() {
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
        const { ok, body } = await callApi(`/payment/tokens/delete?${query}`, "DELETE");
        if (!ok) throw new Error(body.errorMessage || "Не удалось удалить");
        const list = row.parentElement;
        row.remove();
        done.textContent = row.dataset.tokenType === "BANK_CARD" ? "Карта удалена" : "Подарочная карта удалена";
        if (!list.children.length) document.getElementById(`no-${list.id}`).hidden = false;
      } catch (e) {
        error.textContent = e.message || NO_LINK;
        button.disabled = false;
      }
    });
  }
}

function setUpEmailConfirmation() {
  const button = document.getElementById("confirm-button");
  if (!button) return;
  const error = document.getElementById("confirm-error");
  const link = new URLSearchParams(window.location.hash.slice(1));
  const data = { username: link.get("u"), run: link.get("r"), counter: Number(link.get("n")), token: link.get("t") };
  if (!data.username || !data.run || !data.counter || !data.token) {
    error.textContent = "Ссылка повреждена: откройте её из письма целиком";
    return;
  }
  document.getElementById("confirm-username").textContent = data.username;
  button.disabled = false;
  button.addEventListener("click", async () => {
    error.textContent = "";
    button.disabled = true;
    try {
      const { ok, body } = await callApi("/auth/email/confirm", "POST", data);
      if (!ok) throw new Error(body.errorMessage || "Не удалось подтвердить e-mail");
      document.getElementById("confirm-email").hidden = true;
      const shown = document.getElementById("confirm-done");
      shown.querySelector('[data-test="new-email"]').textContent = body.newEmail;
      shown.hidden = false;
    } catch (e) {
      error.textContent = e.message || NO_LINK;
      button.disabled = false;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpAccountForms();
  setUpEndOtherSessions();
  setUpRemoveTokens();
  setUpEmailConfirmation();
});
