// The JSON API as the pages call it: the answer's body, or an Error with the spec's
// `errorMessage` (and `status`, `body`) when the store refused.
"use strict";

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const problem = new Error(data.errorMessage || "Не удалось выполнить действие");
    problem.status = response.status;
    problem.body = data;
    throw problem;
  }
  return data;
}
