// The hosted flow's few enhancements. Every page works without this file (DESIGN: server-rendered
// HTML first); with it: bank search as you type, polling while the user approves in the bank app,
// "select all" without a round trip, times in the browser's own time zone, and no double posts.
(function () {
  'use strict';

  var lang = document.documentElement.lang || 'en';
  var locale = lang === 'en' ? 'en-GB' : lang;

  // An error summary takes the focus, so screen readers read it first and keyboard users start there.
  var summary = document.querySelector('[data-autofocus]');
  if (summary) summary.focus();

  // Times: the server guessed the zone from the language; the browser knows it.
  document.querySelectorAll('time[data-local]').forEach(function (el) {
    var date = new Date(el.getAttribute('datetime'));
    if (isNaN(date.getTime())) return;
    try {
      el.textContent = new Intl.DateTimeFormat(locale, {
        weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
      }).format(date);
    } catch (e) { /* keep the server's text */ }
  });

  // A form submits once: a second click would only race the first.
  document.querySelectorAll('form[method="post"]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (form.dataset.submitted === 'true') { event.preventDefault(); return; }
      form.dataset.submitted = 'true';
    });
  });

  setUpBankSearch();
  setUpPolling();
  setUpSelectAll();

  function normalise(text) {
    return text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();
  }

  function setUpBankSearch() {
    var form = document.querySelector('[data-bank-search]');
    if (!form) return;
    var query = form.querySelector('[data-bank-query]');
    var country = form.querySelector('[data-bank-country]');
    var count = document.querySelector('[data-bank-count]');
    var announcer = document.querySelector('[data-bank-announce]');
    var empty = document.querySelector('[data-bank-empty]');
    var reset = document.querySelector('[data-bank-reset]');
    var groups = document.querySelectorAll('.bank-group');
    var plural = new Intl.PluralRules(locale);
    var announce;
    form.querySelectorAll('[data-js-hide]').forEach(function (el) { el.hidden = true; });

    function filter() {
      var wanted = normalise(query.value);
      var wantedCountry = country.value;
      var total = 0;
      groups.forEach(function (group) {
        var visible = 0;
        var inCountry = wantedCountry === '' || group.getAttribute('data-country') === wantedCountry;
        group.querySelectorAll('li[data-bank]').forEach(function (item) {
          var show = inCountry && (wanted === '' || item.getAttribute('data-bank').indexOf(wanted) !== -1);
          item.hidden = !show;
          if (show) visible++;
        });
        group.hidden = visible === 0;
        total += visible;
      });
      empty.hidden = total > 0;
      var template = plural.select(total) === 'one' ? count.getAttribute('data-one') : count.getAttribute('data-other');
      var text = template.replace('{count}', new Intl.NumberFormat(locale).format(total));
      count.textContent = text;
      // Screen readers hear the count once the user pauses, not at every key.
      clearTimeout(announce);
      announce = setTimeout(function () { announcer.textContent = text; }, 500);
    }

    query.addEventListener('input', filter);
    country.addEventListener('change', filter);
    form.addEventListener('submit', function (event) { event.preventDefault(); filter(); });
    if (reset) {
      reset.addEventListener('click', function (event) {
        event.preventDefault();
        query.value = '';
        country.value = '';
        filter();
        query.focus();
      });
    }
  }

  function setUpPolling() {
    var waiting = document.querySelector('[data-poll]');
    if (!waiting || !window.fetch) return;
    var url = waiting.getAttribute('data-poll');
    var delay = Number(waiting.getAttribute('data-poll-after')) || 2000;

    function poll() {
      fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          if (answer.location) { window.location.assign(answer.location); return; }
          setTimeout(poll, answer.pollAfterMs || delay);
        })
        .catch(function () { setTimeout(poll, delay * 2); });
    }
    setTimeout(poll, delay);
  }

  function setUpSelectAll() {
    var button = document.querySelector('[data-select-all]');
    if (!button) return;
    button.addEventListener('click', function (event) {
      event.preventDefault();
      var boxes = button.form.querySelectorAll('input[type="checkbox"]:not(:disabled)');
      boxes.forEach(function (box) { box.checked = true; });
    });
  }
})();
