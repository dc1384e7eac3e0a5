// Stadtradar's static site: event filters and month view, the map's city panel, and article search.
// Scraped text reaches the page only through textContent, never as HTML.
(function () {
  "use strict";

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function el(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Events: filters by city, programme and type; list or month view.
  var filters = document.querySelector("form.filters");
  if (filters) {
    var apply = function () {
      var want = {
        city: filters.elements.city.value,
        programme: filters.elements.programme.value,
        type: filters.elements.type.value
      };
      var shown = 0;
      document.querySelectorAll("li.event").forEach(function (item) {
        var ok = (!want.city || item.dataset.city === want.city) &&
          (!want.programme || item.dataset.programme === want.programme) &&
          (!want.type || item.dataset.type === want.type);
        item.hidden = !ok;
        if (ok) shown += 1;
      });
      document.querySelectorAll("table.month span.event").forEach(function (item) {
        item.hidden = !((!want.city || item.dataset.city === want.city) &&
          (!want.programme || item.dataset.programme === want.programme) &&
          (!want.type || item.dataset.type === want.type));
      });
      filters.querySelector("output.count").textContent = shown + " Termine";
    };
    filters.addEventListener("change", apply);
    var toggle = filters.querySelector("button.view-toggle");
    toggle.addEventListener("click", function () {
      var month = toggle.getAttribute("aria-pressed") !== "true";
      toggle.setAttribute("aria-pressed", String(month));
      document.querySelector("section.list-view").hidden = month;
      document.querySelector("section.month-view").hidden = !month;
    });
    apply();
  }

  // Map: a click (or Enter on the focused city) shows the city's programmes, events and articles.
  var cities = readJson("city-data");
  var panel = document.querySelector("aside.city-panel");
  if (cities && panel) {
    var show = function (link) {
      var city = cities[link.dataset.city];
      if (!city) return;
      document.querySelectorAll("svg.map .city.selected").forEach(function (n) { n.classList.remove("selected"); });
      link.classList.add("selected");
      panel.replaceChildren();
      var heading = el("h2", city.name);
      heading.tabIndex = -1;
      panel.appendChild(heading);
      [["Programme", city.programmes], ["Termine", city.events], ["Artikel", city.articles]].forEach(function (part) {
        panel.appendChild(el("h3", part[0]));
        if (!part[1].length) { panel.appendChild(el("p", "Keine.")); return; }
        var list = el("ul");
        part[1].forEach(function (text) { list.appendChild(el("li", text)); });
        panel.appendChild(list);
      });
      var more = el("a", "Seite der Stadt");
      more.href = city.page;
      panel.appendChild(more);
      heading.focus();  // the keyboard continues in the panel, not behind every other city
    };
    document.querySelectorAll("svg.map .city").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;  // a new tab: the page
        event.preventDefault();
        show(link);
      });
      link.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); show(link); }
      });
    });
  }

  // Articles: every word of the query (a prefix of a word of title or text) must occur; the index is prebuilt.
  var search = readJson("search-data");
  var box = document.getElementById("q");
  if (search && box) {
    var words = Object.keys(search.index);
    var run = function () {
      var words_typed = box.value.normalize("NFC").toLowerCase().split(/[^\p{L}]+/u).filter(function (t) { return t; });
      var terms = words_typed.filter(function (t) { return t.length >= 3; });
      var hits = null;
      terms.forEach(function (term) {
        var found = new Set();
        words.forEach(function (word) {
          if (word.indexOf(term) === 0) search.index[word].forEach(function (i) { found.add(i); });
        });
        hits = hits === null ? found : new Set(Array.from(hits).filter(function (i) { return found.has(i); }));
      });
      var shown = 0;
      document.querySelectorAll("ol.articles li").forEach(function (item) {
        var ok = hits === null || hits.has(Number(item.dataset.index));
        item.hidden = !ok;
        if (ok) shown += 1;
      });
      var note = words_typed.length && !terms.length ? " (Suchbegriffe brauchen mindestens 3 Buchstaben)" : "";
      document.querySelector("form.search output.count").textContent = shown + " von " + search.count + " Artikeln" + note;
    };
    box.addEventListener("input", run);
    document.querySelector("form.search").addEventListener("submit", function (event) { event.preventDefault(); run(); });
    run();
  }
})();
