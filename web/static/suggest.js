// Suggestions under the header's search line while the shopper types: products from
// GET /store/suggest (typos corrected there), chosen with the mouse or the arrow keys and Enter.
// The ARIA combobox pattern: the input owns a listbox whose active option it names.
"use strict";

(() => {
  const DELAY_MS = 150; // typing faster than this asks once
  const MIN_CHARS = 2;

  function setup(form) {
    const input = form.querySelector('input[name="q"]');
    if (!input) return;
    const list = document.createElement("ul");
    list.id = "search-suggestions";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Подсказки поиска");
    list.hidden = true;
    form.append(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.autocomplete = "off";

    let timer = 0;
    let asked = "";
    let active = -1;
    const options = () => [...list.querySelectorAll('[role="option"]')];

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function option(item, index) {
      const li = document.createElement("li");
      li.id = `search-suggestion-${index}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      const link = document.createElement("a");
      link.href = `/product/${item.id}`;
      link.textContent = item.name;
      link.tabIndex = -1;
      li.append(link);
      return li;
    }

    function show(items) {
      list.replaceChildren(...items.map(option));
      active = -1;
      if (items.length === 0) {
        close();
        return;
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    async function ask() {
      const query = input.value.trim();
      if (query.length < MIN_CHARS) {
        close();
        return;
      }
      asked = query;
      try {
        const response = await fetch(`/store/suggest?q=${encodeURIComponent(query)}`, {
          headers: { Accept: "application/json" },
        });
        // An answer to an older query than the one now typed is dropped.
        if (response.ok && query === asked && query === input.value.trim()) {
          show(await response.json());
        }
      } catch {
        close();
      }
    }

    function move(step) {
      const all = options();
      if (all.length === 0) return;
      active = (active + step + all.length) % all.length;
      all.forEach((node, index) => node.setAttribute("aria-selected", String(index === active)));
      input.setAttribute("aria-activedescendant", all[active].id);
    }

    input.addEventListener("input", () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    });
    input.addEventListener("keydown", (event) => {
      if (list.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        move(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Escape") {
        close();
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        window.location.assign(options()[active].querySelector("a").href);
      }
    });
    // A press on a suggestion keeps the focus in the input, so its click lands before any blur.
    list.addEventListener("mousedown", (event) => event.preventDefault());
    input.addEventListener("blur", close);
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form.search")) setup(form);
  });
})();
