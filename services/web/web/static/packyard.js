/*
 * Packyard's page enhancements (written for Packyard; no third-party code).
 * License: the project's own. Every page works without this file: it only adds
 * Show/Hide and Copy buttons (the pages otherwise use <details> and selectable text).
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function status(near, text) {
    var box = near.parentNode.querySelector("[role=status]");
    if (box) { box.textContent = text; }
  }

  function copyText(text, button) {
    function done() { status(button, "Copied"); }
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      status(button, ok ? "Copied" : "Press Ctrl+C to copy");
      button.focus();
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var key = document.getElementById("apikey");
    var toggle = document.getElementById("apikey-toggle");
    if (key && toggle) {
      var masked = key.textContent;
      toggle.addEventListener("click", function () {
        var showing = toggle.getAttribute("aria-expanded") === "true";
        key.textContent = showing ? masked : key.getAttribute("data-key");
        toggle.setAttribute("aria-expanded", showing ? "false" : "true");
        toggle.textContent = showing ? "Show" : "Hide";
      });
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy-from]"), function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy-from"));
        if (!source) { return; }
        var text = source.getAttribute("data-key") || source.value || source.textContent;
        copyText(text, button);
      });
    });
  });
})();
