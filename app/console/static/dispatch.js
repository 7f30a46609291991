/* 有呼必应 dispatch pages: queues, case timelines and transitions, the three rates. */
"use strict";

(() => {
  const {api, query, el, notice, failed, when, staffAreas, statsChart} = Console;
  const $ = (id) => document.getElementById(id);

  Object.assign(Console.pages, {

  });


})();
