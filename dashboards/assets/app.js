// Fills each panel of a server-rendered page from the JSON API: loading, then the chart (ECharts,
// SVG renderer), the table of exactly the numbers and the CSV link; or an empty or error state.
/* global window, document, fetch, echarts */
(function () {
  'use strict';
  var query = window.location.search;

  function format(value, unit) {
    if (value === null || value === undefined || value === '') return '–';
    if (typeof value !== 'number') return String(value);
    switch (unit) {
      case 'percent':
        return (value * 100).toFixed(1) + '%';
      case 'ratio':
        return value.toFixed(3);
      case 'p':
        return value < 0.0001 ? '< 0.0001' : value.toPrecision(2);
      case 'seconds':
        return value.toLocaleString('en-US', { maximumFractionDigits: 1 }) + ' s';
      case 'rating':
        return value.toFixed(2);
      default:
        return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
    }
  }

  function table(columns, rows) {
    var el = document.createElement('table');
    var head = el.createTHead().insertRow();
    columns.forEach(function (column) {
      var th = document.createElement('th');
      th.scope = 'col';
      th.textContent = column.label;
      head.appendChild(th);
    });
    var body = el.createTBody();
    rows.forEach(function (row) {
      var tr = body.insertRow();
      columns.forEach(function (column) {
        var td = tr.insertCell();
        var value = row[column.name];
        td.dataset.column = column.name;
        td.textContent = format(value, column.unit);
        if (typeof value === 'number') td.className = 'number';
        if (column.name === 'dead_letters' && value > 0) {
          td.textContent = '';
          var link = document.createElement('a');
          link.href = '#h-health.dead_letters';
          link.textContent = format(value, column.unit) + ' (reasons)';
          td.appendChild(link);
        }
        if (column.name === 'decision') td.className = 'decision ' + value;
      });
    });
    return el;
  }

  function srmBanner(rows) {
    var broken = {};
    rows.forEach(function (row) {
      if (row.srm_flag === 1) broken[row.experiment] = row.srm_p_value;
    });
    var names = Object.keys(broken);
    if (names.length === 0) return;
    var banner = document.querySelector('.banner');
    banner.hidden = false;
    banner.setAttribute('role', 'alert');
    banner.textContent =
      'Sample-ratio mismatch in ' +
      names
        .map(function (name) {
          return name + ' (p = ' + format(broken[name], 'p') + ')';
        })
        .join(', ') +
      ': users were not split as configured, so these results cannot be trusted until the assignment is fixed.';
  }

  function load(section) {
    var id = section.dataset.panel;
    var status = section.querySelector('.status');
    var chartEl = section.querySelector('.chart');
    section.querySelector('.csv').href = '/api/panels/' + id + '/csv' + query;
    section.dataset.state = 'loading';
    fetch('/api/panels/' + id + query, { credentials: 'same-origin' })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.message || response.statusText);
          return body;
        });
      })
      .then(function (body) {
        if (body.rows.length === 0) {
          section.dataset.state = 'empty';
          status.textContent = 'No data for these filters.';
          if (chartEl) chartEl.hidden = true;
          return;
        }
        section.dataset.state = 'ready';
        status.textContent = body.rows.length + ' rows';
        if (chartEl && body.chart) {
          var chart = echarts.init(chartEl, null, { renderer: 'svg' });
          chart.setOption(body.chart);
          window.addEventListener('resize', function () {
            chart.resize();
          });
        }
        section.querySelector('.table').appendChild(table(body.panel.columns, body.rows));
        if (id === 'experiments.results') srmBanner(body.rows);
      })
      .catch(function (error) {
        section.dataset.state = 'error';
        status.className = 'status error';
        status.textContent = 'Could not load this panel: ' + error.message;
        if (chartEl) chartEl.hidden = true;
      });
  }

  document.querySelectorAll('section.panel').forEach(load);
})();
