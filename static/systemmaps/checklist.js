// The step page's checklist: reorder items by drag and drop. The new order is
// put into the hidden order form and sent through htmx (the form's hx-post).
// Keyboard users and pages without JavaScript use the ↑/↓ buttons instead.
// Listeners sit on the document, so they keep working after htmx swaps the
// checklist. No inline scripts: safe under a strict Content Security Policy.

const LIST = "[data-checklist-sortable]";
const ITEM = "[data-item-id]";

let dragged = null;
let startOrder = "";

// The run page's per-item Save buttons are only needed without JavaScript.
document.documentElement.classList.add("has-checklist-js");

function itemsOf(list) {
  return Array.from(list.querySelectorAll(`:scope > ${ITEM}`));
}

function orderOf(list) {
  return itemsOf(list)
    .map((item) => item.dataset.itemId)
    .join(",");
}

function itemFrom(target) {
  if (!(target instanceof Element)) return null;
  const item = target.closest(ITEM);
  return item && item.parentElement && item.parentElement.matches(LIST) ? item : null;
}

document.addEventListener("dragstart", (event) => {
  const item = itemFrom(event.target);
  if (!item) return;
  dragged = item;
  startOrder = orderOf(item.parentElement);
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", item.dataset.itemId);
  item.classList.add("is-dragging");
});

document.addEventListener("dragover", (event) => {
  if (!dragged) return;
  const over = itemFrom(event.target);
  if (!over || over.parentElement !== dragged.parentElement) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
  if (over === dragged) return;
  // Moving down, the dragged item goes after the one under the pointer; moving
  // up, before it. Once moved, the pointer is over the dragged item itself, so
  // the list does not flicker back and forth.
  const items = itemsOf(over.parentElement);
  const down = items.indexOf(dragged) < items.indexOf(over);
  over.parentElement.insertBefore(dragged, down ? over.nextElementSibling : over);
});

document.addEventListener("drop", (event) => {
  if (dragged && itemFrom(event.target)) event.preventDefault();
});

document.addEventListener("dragend", () => {
  if (!dragged) return;
  const item = dragged;
  const list = item.parentElement;
  dragged = null;
  item.classList.remove("is-dragging");
  if (orderOf(list) === startOrder) return;
  const checklist = list.closest("#checklist");
  const form = checklist && checklist.querySelector("form[data-checklist-order]");
  if (!form) return;
  form.querySelectorAll('input[name="item"]').forEach((input) => input.remove());
  for (const entry of itemsOf(list)) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "item";
    input.value = entry.dataset.itemId;
    form.appendChild(input);
  }
  form.requestSubmit();
});
