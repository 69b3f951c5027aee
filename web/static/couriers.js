// «Доставка курьером» on «Оформление заказа»: the courier companies that deliver to the address,
// listed as soon as the shopper stops typing it (no button to press), and listed again after a
// reload with the company already chosen checked. Choosing one is checkout.js's business (an
// Update to the order's checkout): this file only asks /delivery/variants and draws the radios.
"use strict";

const COURIERS_DEBOUNCE_MS = 400;
const ADDRESS_MIN_CHARS = 3; // services/delivery.py: check_address

// input: the address field; box: where the radios go; money: a price's text;
// chosenFor(address): the company already chosen for this address, or "";
// choose(address, companyName): the shopper picked one; problem(message): the store refused
// ("" clears it);
// listed(address): a list for this address is on screen.
function setupCouriers({ input, box, money, chosenFor, choose, problem, listed }) {
  let timer = 0;
  let shownFor = null; // the address the radios on screen are for
  let askedFor = null; // the address asked about now
  let asking = 0; // the latest request: an older answer arriving late is dropped

  function draw(address, variants) {
    box.textContent = "";
    const chosen = chosenFor(address);
    for (const variant of variants) {
      const label = document.createElement("label");
      label.className = "option";
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "company";
      radio.value = variant.companyName;
      radio.checked = variant.companyName === chosen;
      radio.addEventListener("change", () => choose(address, variant.companyName));
      label.append(radio, ` ${variant.companyName} — ${money(variant.cost)}, ${variant.estimatedDate}`);
      box.append(label);
    }
    if (!variants.length) box.textContent = "По этому адресу курьеры не доставляют.";
    shownFor = address;
    listed(address);
  }

  async function list() {
    window.clearTimeout(timer);
    const address = input.value.trim();
    if (address === shownFor || address === askedFor) return;
    const mine = ++asking;
    askedFor = null;
    if (address.length < ADDRESS_MIN_CHARS) {
      box.textContent = "";
      shownFor = null;
      return;
    }
    askedFor = address;
    problem("");
    box.setAttribute("aria-busy", "true");
    try {
      const data = await call("GET", `/delivery/variants?address=${encodeURIComponent(address)}`);
      if (mine === asking) draw(address, data.variants);
    } catch (e) {
      if (mine === asking) problem(e.message);
    } finally {
      if (mine === asking) {
        askedFor = null;
        box.removeAttribute("aria-busy");
      }
    }
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(list, COURIERS_DEBOUNCE_MS);
  }

  input.addEventListener("input", later);
  input.addEventListener("change", list); // a pasted or autofilled address, Enter, leaving the field
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault();
  });
  return { list };
}
