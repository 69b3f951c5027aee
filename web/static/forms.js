// Forms that talk to the JSON API: the submit button stays disabled until every field is valid,
// each field explains what is wrong with it, and the server's answer is shown per field as well.
"use strict";

function fieldError(form, name) {
  return form.querySelector(`.field-error[data-for="${name}"]`);
}

function showFieldMessage(form, input) {
  const slot = fieldError(form, input.name);
  if (!slot) return;
  // The server's verdict on a field (e.g. "этот логин уже занят") stands until the field is edited.
  const server = input.dataset.serverError || "";
  const touched = input.dataset.touched === "1";
  const bad = touched && !input.validity.valid;
  slot.textContent = server || (bad ? (input.value ? input.dataset.message : "Обязательное поле") : "");
  input.setAttribute("aria-invalid", server || bad ? "true" : "false");
}

function refresh(form) {
  const button = form.querySelector("button[type=submit]");
  for (const input of form.querySelectorAll("input")) {
    input.setCustomValidity("");
    showFieldMessage(form, input);
  }
  const refused = [...form.querySelectorAll("input")].some((input) => input.dataset.serverError);
  button.disabled = !form.checkValidity() || refused || form.dataset.busy === "1";
}

function showServerErrors(form, body) {
  form.querySelector(".form-error").textContent = body.errorMessage || "Не удалось выполнить запрос";
  for (const [name, message] of Object.entries(body.fields || {})) {
    const input = form.querySelector(`input[name="${name}"]`);
    if (input) input.dataset.serverError = message;
  }
}

async function submit(form, event) {
  event.preventDefault();
  if (!form.checkValidity()) return;
  const data = Object.fromEntries(new FormData(form).entries());
  form.dataset.busy = "1";
  refresh(form);
  form.querySelector(".form-error").textContent = "";
  try {
    const response = await fetch(form.dataset.api, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(data),
      credentials: "same-origin",
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      // 202: the registration goes on in the background; the result page says how far it got.
      // `{name}` in data-success: the answer's field of that name, else the form's.
      // data-success-field: the answer names where to go (a path of the store only).
      const named = body[form.dataset.successField ?? ""];
      const target =
        typeof named === "string" && named.startsWith("/") && !named.startsWith("//")
          ? named
          : form.dataset.success.replace(/\{(\w+)\}/g, (_, name) =>
              encodeURIComponent(body[name] ?? data[name] ?? ""),
            );
      window.location.assign(target);
      return;
    }
    showServerErrors(form, body);
  } catch (error) {
    showServerErrors(form, { errorMessage: "Нет связи с магазином, попробуйте ещё раз" });
  } finally {
    form.dataset.busy = "0";
    refresh(form);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.api-form")) {
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
    form.addEventListener("submit", (event) => submit(form, event));
    refresh(form);
  }
});
