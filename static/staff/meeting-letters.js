/* Updates the progress bar and the letter links every second while letters are on their
   way, without reloading the page. Without JavaScript the "Uppdatera" link does the same. */
(function () {
  var box = document.getElementById("letters");
  if (!box || !window.fetch || Number(box.dataset.waiting) === 0) return;
  var bar = document.getElementById("letters-progress");
  function show(id, text) { document.getElementById(id).textContent = text; }
  function update(p) {
    bar.max = p.total;
    bar.value = p.done;
    bar.textContent = p.done + " av " + p.total;
    show("letters-done", p.done);
    show("letters-waiting", p.waiting ? ", " + p.waiting + " på väg" : "");
    show("letters-failed", p.failed ? ", " + p.failed + " kunde inte skapas" : "");
    Object.keys(p.letters).forEach(function (pk) {
      var cell = document.getElementById("letter-" + pk);
      if (cell && !cell.querySelector("a")) {
        var link = document.createElement("a");
        link.href = p.letters[pk].url;
        link.textContent = p.letters[pk].filename;
        cell.replaceChildren(link);
      }
    });
  }
  function poll() {
    fetch(box.dataset.progressUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (p) {
        update(p);
        if (p.waiting > 0) { window.setTimeout(poll, 1000); return; }
        var start = document.getElementById("letters-start");
        if (start && p.done === p.total) { start.hidden = true; }
        show("letters-announce", p.failed
          ? p.failed + " brev kunde inte skapas; orsaken står i ärendets historik. Ladda om sidan och tryck på knappen igen för att försöka på nytt."
          : "Alla " + p.total + " beslutsbrev är klara.");
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
