// The report page: draws the chart and keeps every number current from the
// campaign's server-sent-event stream (one shared poller on the server).
(function () {
  "use strict";
  var root = document.getElementById("report");
  // The report comes as a JSON data block, not an inline script: the
  // content security policy allows no inline script.
  var report = JSON.parse(document.getElementById("report-data").textContent);
  var chart = null;

  function fmt(v, kind) {
    if (kind === "pct") return (100 * v).toFixed(1) + "%";
    if (kind === "money") return Number(v).toFixed(2);
    return String(v);
  }

  function text(el, s) { if (el.textContent !== s) el.textContent = s; }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { e.append(c); });
    return e;
  }

  function bar(fraction) {
    var inner = el("span", { style: "width: " + Math.max(0, Math.min(100, 100 * fraction)).toFixed(1) + "%" });
    return el("span", { "class": "bar" }, [inner]);
  }

  function series(r) {
    var t = r.timeline || [];
    return [
      t.map(function (p) { return Date.parse(p.at) / 1000; }),
      t.map(function (p) { return p.opens; }),
      t.map(function (p) { return p.clicks; }),
      t.map(function (p) { return p.conversions; })
    ];
  }

  function drawChart(r) {
    var box = document.getElementById("chart");
    if (!window.uPlot) return;
    if (!chart) {
      chart = new uPlot({
        width: Math.max(320, box.clientWidth), height: 260,
        series: [{}, { label: "opens", stroke: "#3867d6" }, { label: "clicks", stroke: "#e67e22" }, { label: "conversions", stroke: "#1a7f37" }],
        axes: [{}, {}]
      }, series(r), box);
      return;
    }
    chart.setData(series(r));
  }

  // mergeTail folds a stream event's latest timeline points into the
  // timeline the page was rendered with.
  function mergeTail(tail) {
    var t = report.timeline || (report.timeline = []);
    (tail || []).forEach(function (p) {
      for (var i = t.length - 1; i >= 0 && i >= t.length - 5; i--) {
        if (t[i].at === p.at) { t[i] = p; return; }
      }
      t.push(p);
    });
    t.sort(function (a, b) { return Date.parse(a.at) - Date.parse(b.at); });
  }

  function render(r) {
    mergeTail(r.timeline_tail);
    r.timeline = report.timeline;
    var m = r.metrics;
    root.querySelectorAll("[data-metric]").forEach(function (e) {
      text(e, fmt(m[e.dataset.metric], e.dataset.format));
    });
    text(document.getElementById("status"), r.status);
    var p = r.progress;
    text(document.getElementById("progress"), p.sent + " sent of " + p.total + " · " + p.remaining + " remaining · " + p.failed + " failed" +
      (p.rate > 0 ? " · " + p.rate.toFixed(1) + "/s" : ""));

    var goals = document.getElementById("goals");
    goals.replaceChildren.apply(goals, (r.goals || []).map(function (g) {
      return el("li", { "class": g.status }, [el("span", { "class": "name" }, [g.name]), " ", el("code", {}, [g.when]), " ",
        bar(g.progress), " ", el("span", { "class": "state" }, [g.met ? "met" : fmt(g.progress, "pct")])]);
    }));

    var sent = m.sent;
    var rows = [["sent", m.sent], ["delivered", m.delivered], ["opened", m.unique_opens], ["clicked", m.unique_clicks], ["converted", m.converted]];
    var funnel = document.getElementById("funnel");
    funnel.replaceChildren.apply(funnel, rows.map(function (row) {
      return el("div", {}, [el("span", { "class": "label" }, [row[0]]), bar(sent > 0 ? row[1] / sent : 0), el("b", {}, [String(row[1])])]);
    }));

    var links = document.getElementById("links");
    links.replaceChildren.apply(links, (r.links || []).map(function (l) {
      var a = el("a", { href: l.url, rel: "noopener noreferrer" }, [l.name || l.url]);
      return el("tr", {}, [el("td", {}, [l.step]), el("td", {}, [a]), el("td", {}, [String(l.clicks)]),
        el("td", {}, [String(l.unique_clicks)]), el("td", {}, [String(l.total_clicks)]), el("td", {}, [fmt(l.human_share, "pct")])]);
    }));
    drawChart(r);
  }

  drawChart(report);
  if (window.EventSource) {
    var live = document.getElementById("live");
    var es = new EventSource(root.dataset.stream);
    es.addEventListener("report", function (ev) {
      render(JSON.parse(ev.data));
      live.textContent = "live"; live.className = "live on";
    });
    es.onerror = function () { live.textContent = "reconnecting…"; live.className = "live"; };
  }
})();
