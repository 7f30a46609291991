/* Starts the page <body data-page> names, once every page script has added its pages to Console.pages. */
"use strict";

(() => {
  const name = document.body.dataset.page;
  const page = Console.pages[name];
  if (name === "login") { page(); return; }
  Console.frame().then((user) => user && page && page(user)).catch(Console.failed);
})();
