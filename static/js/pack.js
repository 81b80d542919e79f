// The new-pack form (/packs/new): show only the recipient field that applies, and start the
// wording from the first chosen area that has its own (unless it has been edited already).
(function () {
  "use strict";
  var form = document.querySelector("form.pack-form");
  if (!form) {
    return;
  }

  var radios = form.querySelectorAll("input[name=recipient_kind]");
  function showRecipient() {
    var kind = form.querySelector("input[name=recipient_kind]:checked");
    form.querySelectorAll("[data-recipient]").forEach(function (el) {
      el.hidden = !!kind && el.getAttribute("data-recipient") !== kind.value;
    });
  }
  radios.forEach(function (r) {
    r.addEventListener("change", showRecipient);
  });
  showRecipient();

  var texts = {};
  try {
    texts = JSON.parse(form.getAttribute("data-texts") || "{}");
  } catch (e) {
    texts = {};
  }
  var signs = document.getElementById("f-signs");
  var report = document.getElementById("f-how_to_report");
  var note = document.getElementById("texts-note");
  var edited = false;
  var applied = signs.value === (texts[""] || {}).signs ? "" : null;
  [signs, report].forEach(function (el) {
    el.addEventListener("input", function () {
      edited = true;
    });
  });

  function chosenWording() {
    var boxes = form.querySelectorAll("input[name=areas]:checked");
    for (var i = 0; i < boxes.length; i += 1) {
      if (texts[boxes[i].value]) {
        return boxes[i].value;
      }
    }
    return "";
  }
  form.addEventListener("change", function (event) {
    if (event.target.name !== "areas" || edited || applied === null) {
      return;
    }
    var key = chosenWording();
    if (key === applied || !texts[key]) {
      return;
    }
    signs.value = texts[key].signs;
    report.value = texts[key].how_to_report;
    applied = key;
    note.hidden = false;
    note.textContent = key
      ? "The wording below is the one saved for " +
        form.querySelector("input[name=areas][value='" + CSS.escape(key) + "']").parentNode.textContent.trim() +
        "."
      : "The wording below is your agency's default.";
  });
})();
